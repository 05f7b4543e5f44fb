"""The ``lnp-brian`` command line: :mod:`~lnp_brian.cli.main` builds the parser and runs a
command; each sub-command is one module with ``add_parser`` (its options, from the shared
parent parsers of :mod:`~lnp_brian.cli.options`) and ``cmd_<name>`` (what it does).
"""
