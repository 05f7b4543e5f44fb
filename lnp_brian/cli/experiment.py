"""`lnp-brian experiment`: run a grid of models x methods x seeds x tasks from a TOML file."""

from __future__ import annotations

__all__ = ["cmd_experiment", "check_scheduler"]


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """A dask scheduler address must be host:port (optionally tcp://) and answer a connection."""
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
