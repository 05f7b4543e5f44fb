"""The ``lnp-brian`` command line: one module per subcommand; options shared by several
commands come from parent parsers in :mod:`lnp_brian.cli.main`.
"""
