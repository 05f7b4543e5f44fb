"""Implementations of the `lnp-brian` subcommands (the parser lives in lnp_brian.cli)."""
