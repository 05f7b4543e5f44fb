"""The ``lnp-brian`` command line.

- ``lnp-brian simulate``: build a network from a model file, simulate it, write a run directory
- ``lnp-brian lyapunov``: Lyapunov exponents of a model
- ``lnp-brian prune``: LNP / AP / random pruning of a network
- ``lnp-brian experiment``: a grid of models x methods x seeds x tasks from a TOML file
- ``lnp-brian quality``: memory capacity, kernel rank and generalisation rank of a network
- ``lnp-brian models``: list the shipped models (or print one)

Every command writes one directory (``--out``) holding ``run.json`` (resolved config, seeds,
versions, compile count, wall times), its data files, figures and ``run.log``.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
from importlib import import_module

from .options import CLIError, LazyParser

__all__ = ["main", "build_parser", "COMMANDS"]

#: the sub-commands, in the order of ``lnp-brian --help``; each is a module of this package
#: with ``add_parser(sub)`` and ``cmd_<name>(args, argv)``
COMMANDS = ("simulate", "lyapunov", "prune", "experiment", "quality", "models")


def build_parser() -> argparse.ArgumentParser:
    """The ``lnp-brian`` argument parser, with one sub-command per command.

    Each command module adds its own parser (``add_parser``) from the shared parent parsers
    of :mod:`lnp_brian.cli.options`. Quantities are parsed with their units
    (``--duration 500ms``); the ``prune`` options are generated from the fields of
    :class:`lnp_brian.pruning.config.PruneConfig` when that command is parsed or its help is
    shown.

    Returns
    -------
    argparse.ArgumentParser
        The parser; ``parse_args`` gives a namespace whose ``command`` names the sub-command.

    Examples
    --------
    >>> args = build_parser().parse_args(["simulate", "--model", "hrsnn", "--out", "runs/sim",
    ...                                   "--duration", "500 ms"])
    >>> args.command, args.model, str(args.out), float(args.duration), args.seed
    ('simulate', 'hrsnn', 'runs/sim', 0.5, 1)
    """
    from ..core.version import __version__

    parser = argparse.ArgumentParser(
        prog="lnp-brian",
        description="Heterogeneous recurrent spiking networks in Brian2: simulate, Lyapunov "
                    "exponents, Lyapunov Noise Pruning.")
    parser.add_argument("--version", action="version", version=f"lnp_brian {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=LazyParser)
    for command in COMMANDS:
        import_module(f".{command}", __package__).add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line.

    User errors (bad options or files, memory, disk) are printed as one line; other
    exceptions propagate.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``lnp-brian`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 done, 1 some runs of an experiment failed, 2 a user error, 130
        interrupted by Ctrl-C or SIGTERM.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    restore = _interrupt_handlers()
    try:
        return _dispatch(args, argv)
    except KeyboardInterrupt:
        print(f"lnp-brian {args.command}: interrupted; what was written is marked 'interrupted', "
              "never complete", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - user errors become one line, the rest propagate
        message = user_error_message(exc)
        if message is None:
            raise
        print(f"lnp-brian {args.command}: error: {message}", file=sys.stderr)
        return 2
    finally:
        restore()


def user_error_message(exc: BaseException) -> str | None:
    """One line for an error the user can fix (bad input, files, memory); None for a bug."""
    from ..core.runs import RunExistsError
    from ..simulation.simulator import BackendError

    if isinstance(exc, (CLIError, ValueError, RunExistsError, BackendError)):
        return " ".join(str(exc).split())
    if isinstance(exc, KeyError):
        return " ".join(str(exc.args[0] if exc.args else exc).split())
    if isinstance(exc, MemoryError):
        return "out of memory: the network or recording does not fit in this machine's memory " \
               "(try fewer neurons, a lower connection probability or a shorter duration)"
    if isinstance(exc, OSError):
        path = exc.filename if exc.filename is not None else ""
        what = exc.strerror or str(exc)
        note = "; files written before stay as they were" if exc.errno == errno.ENOSPC else ""
        return f"{path}: {what}{note}" if path else f"{what}{note}"
    return None


def _interrupt_handlers():
    """In the main thread: Ctrl-C raises KeyboardInterrupt (Python's own handler, in place of
    Brian2's, which turns it into a quiet early stop; a process started with SIGINT ignored,
    such as a background job, keeps ignoring it), and SIGTERM ends a command the same way
    (status 'interrupted'). Returns a function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    import brian2

    from ..brian.state import clear_stop_request, network_running, request_stop

    clear_stop_request()
    started_with = getattr(getattr(brian2, "_int_handler", None), "previous_handler", None)
    main_pid = os.getpid()

    def handler(signum, frame):
        if signum == signal.SIGTERM and os.getpid() != main_pid:  # a forked worker: die as usual
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        # the request stops the runtime run in progress at its next step (it then raises
        # SimulationInterrupted) and refuses later runs; raising here as well, inside Brian2's
        # code, could land in a finaliser that swallows it
        request_stop()
        if not network_running():
            raise KeyboardInterrupt(f"signal {signum}")

    def unraisable(info):  # an interrupt dropped inside a finaliser: the stop request acts on it
        if not isinstance(info.exc_value, KeyboardInterrupt):
            previous_hook(info)

    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN if started_with is signal.SIG_IGN
                                             else handler),
                signal.SIGTERM: signal.signal(signal.SIGTERM, handler)}

    def restore():
        sys.unraisablehook = previous_hook
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore


def _dispatch(args, argv) -> int:
    module = import_module(f".{args.command}", __package__)
    return getattr(module, f"cmd_{args.command}")(args, argv)

