"""Shared command line of the analysis scripts: an experiment directory in, files out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse(description: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("experiment", type=Path, help="experiment directory written by `lnp-brian experiment`")
    p.add_argument("--out", type=Path, help="where to write (default: the experiment directory)")
    p.add_argument("--task", help="only this task (default: every task in results.csv)")
    args = p.parse_args()
    if not (args.experiment / "results.csv").exists():
        sys.exit(f"{p.prog}: {args.experiment / 'results.csv'} not found: not an experiment directory")
    args.out = args.out or args.experiment
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def rows_and_tasks(args):
    from lnp_brian.experiment.runner import read_results

    rows = read_results(args.experiment)
    tasks = [args.task] if args.task else sorted({r["task"] for r in rows})
    missing = [t for t in tasks if not any(r["task"] == t for r in rows)]
    if missing:
        sys.exit(f"no rows for task {missing[0]!r}; tasks: {', '.join(sorted({r['task'] for r in rows}))}")
    return rows, tasks


def save_per_task(args, kind: str, plot) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lnp_brian.report.summary import FIGURES

    rows, tasks = rows_and_tasks(args)
    for task in tasks:
        ax = plot(rows, task)
        fig = (ax[0] if hasattr(ax, "__len__") else ax).figure
        fig.suptitle(task, fontsize="small")
        path = args.out / FIGURES[kind].replace(".png", f"_{task}.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        print(path)
