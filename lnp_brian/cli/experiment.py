"""`lnp-brian experiment`: run a grid of models x methods x seeds x tasks from a TOML file."""

from __future__ import annotations

import argparse

from .options import directory, integer, output_options

__all__ = ["add_parser", "cmd_experiment", "check_scheduler"]


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``lnp-brian experiment`` and its options to the sub-command parsers ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-commands of the ``lnp-brian`` parser.

    Returns
    -------
    argparse.ArgumentParser
        The ``experiment`` parser.
    """
    from pathlib import Path

    ex = sub.add_parser(
        "experiment", help="run a grid of models x methods x seeds x tasks from a TOML config",
        description="Run every (model, method, seed, task) of an experiment file (see configs/README.md): "
                    "build the dense network, prune it (dense, lnp, ap, random, lnp-no-STEP, lnp-random-STEP) "
                    "and train and test the task's readout after every iteration. Writes DIR/results.csv "
                    "(one row per model, method, seed, task, iteration), summary.csv (mean and std over "
                    "seeds), summary.txt, figures (Fig. 3 trajectory, Fig. 4 score vs SOPs, Fig. 5 "
                    "ablations), run.json and runs/KEY/ for every run.",
        parents=[output_options(what="an experiment", resume_help="skip complete runs and continue interrupted "
                                                                   "ones from their last complete iteration")])
    ex.add_argument("config", type=Path, help="experiment file (TOML), e.g. configs/lorenz63.toml")
    ex.add_argument("--scheduler", metavar="ADDRESS",
                    help="dask.distributed scheduler address (e.g. tcp://127.0.0.1:8786): every run of the grid "
                         "is sent there; default: local processes")
    ex.add_argument("--workers", type=integer(1),
                    help="local worker processes (default: the config's experiment.workers; 1 runs in this process)")
    ex.add_argument("--builds", type=directory,
                    help="folder for compiled builds (default DIR/builds); experiments sharing it re-use "
                         "each other's binaries")
    return ex


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Check that a dask scheduler address is host:port (optionally tcp:// or tls://) and answers.

    Parameters
    ----------
    address : str
        The ``--scheduler`` value, e.g. ``tcp://127.0.0.1:8786``.
    timeout : float
        Seconds to wait for the connection.

    Raises
    ------
    ValueError
        A malformed address, or nothing accepts a connection there; the message names
        ``--scheduler``.

    Examples
    --------
    >>> check_scheduler("localhost")
    Traceback (most recent call last):
    ...
    ValueError: --scheduler 'localhost': expected an address such as tcp://127.0.0.1:8786
    """
    import socket
    from urllib.parse import urlsplit

    text = address if "://" in address else f"tcp://{address}"
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if parts.scheme not in ("tcp", "tls") or not host or port is None:
        raise ValueError(f"--scheduler {address!r}: expected an address such as tcp://127.0.0.1:8786")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ValueError(f"--scheduler {address}: no dask scheduler answers there ({exc.strerror or exc}); "
                         "start one (dask scheduler) or leave out --scheduler for local processes") from None


def cmd_experiment(args, argv) -> int:
    """Run ``lnp-brian experiment``: the grid of an experiment file into ``--out``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command (:func:`lnp_brian.cli.main.build_parser`).
    argv : list of str or None
        The command line, recorded in ``run.json`` (None: ``sys.argv``).

    Returns
    -------
    int
        0 when every run completed (the summary table is printed), 1 when some failed after
        their retries (the others' results are saved; rerun with ``--resume``).

    Raises
    ------
    ValueError
        A bad option or input file, raised before the output directory is touched (the
        command line prints it as one line).
    lnp_brian.experiment.runner.ExperimentConfigError
        The experiment file cannot be used (a ValueError).
    """
    import sys

    from ..core.runs import check_out_dir
    from ..experiment.runner import Experiment, ExperimentIncomplete, load_experiment
    from ..report.summary import summary_table

    # everything is checked before the output directory is touched
    check_out_dir(args.out)
    if args.builds is not None:
        check_out_dir(args.builds, option="--builds")
    config = load_experiment(args.config)
    if args.scheduler is not None:
        check_scheduler(args.scheduler)
    exp = Experiment(config, args.out, resume=args.resume, overwrite=args.overwrite, scheduler=args.scheduler,
                     workers=args.workers, builds=args.builds, argv=argv, quiet=args.quiet)
    try:
        summary = exp.run()
    except ExperimentIncomplete as exc:
        print(f"lnp-brian experiment: {exc}", file=sys.stderr)
        return 1
    if args.quiet:
        print(exp.out)
    else:
        print(summary_table(summary))
        print(f"\nresults in {exp.out}: results.csv, summary.csv, summary.txt, fig3_trajectory*.png, "
              "fig4_score_vs_sops*.png, fig5_ablation*.png, runs/")
    return 0
