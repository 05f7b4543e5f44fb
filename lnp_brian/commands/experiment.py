"""`lnp-brian experiment`: run a grid of models x methods x seeds x tasks from a TOML file."""

from __future__ import annotations

__all__ = ["cmd_experiment"]


def cmd_experiment(args, argv) -> int:
    import sys

    from ..experiment import Experiment, ExperimentIncomplete, load_experiment
    from ..report import summary_table

    config = load_experiment(args.config)
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
