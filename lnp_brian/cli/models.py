"""`lnp-brian models`: list the shipped models, or print one."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "cmd_models"]


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``lnp-brian models`` and its options to the sub-command parsers ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-commands of the ``lnp-brian`` parser.

    Returns
    -------
    argparse.ArgumentParser
        The ``models`` parser.
    """
    m = sub.add_parser("models", help="list the shipped models, or print one",
                       description="List the shipped models with their descriptions; with a name, print its file.")
    m.add_argument("name", nargs="?", help="a shipped model to print")
    return m


def cmd_models(args, argv=None) -> int:
    """Run ``lnp-brian models``: print each shipped model with its description, or one model's file.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments; ``args.name`` is a model to print, or None to list them all.
    argv : list of str, optional
        The command line (unused; every command takes it).

    Returns
    -------
    int
        Exit status 0.

    Raises
    ------
    CLIError
        If ``args.name`` is not a shipped model.
    """
    from importlib import resources

    from ..model.spec import load_model, shipped_models
    from .options import CLIError

    if args.name:
        if args.name not in shipped_models():
            raise CLIError(f"unknown model {args.name!r}; shipped: {', '.join(shipped_models())}")
        print(resources.files("lnp_brian.models").joinpath(f"{args.name}.toml").read_text(), end="")
        return 0
    for name in shipped_models():
        spec = load_model(name)
        print(f"{name:12s} {spec.description}")
    return 0
