"""Does LNP do what the paper says? Paired statistics of an evidence (or ablation) experiment.

For every model of the experiment and every metric below it takes the final iteration of each
(method, seed), prints mean ± std per method, and compares the reference method (default
``lnp``) with every other method seed by seed: mean difference, the Wilcoxon signed-rank test
(scipy; exact for few seeds: with 5 seeds its smallest two-sided p is 0.0625), the paired t-test
and the effect size d_z = mean difference / std of the differences. Writes evidence.csv,
evidence.txt and evidence.png (one panel per metric) beside the results.

    python analysis/lnp_evidence.py runs/lnp_evidence
    python analysis/lnp_evidence.py runs/lnp_ablation --reference lnp

Metrics (lower is better unless marked): spectral_distance and eig_distance_M (distance of the
linear Lyapunov spectrum of A and of the eigenvalues of M from the dense network's, 1/s),
max_re_eig_A (1/s), memory_capacity and kernel_rank (higher is better), generalization_rank,
and the test NRMSE of every series task and horizon.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paired_test import compare, final_scores  # noqa: E402

#: (task prefix or None for any, metric, higher is better)
METRICS = [
    (None, "spectral_distance", False), (None, "eig_distance_M", False), (None, "max_re_eig_A", False),
    ("quality", "memory_capacity", True), ("quality", "kernel_rank", True),
    ("quality", "generalization_rank", False),
]


UNITS = {"spectral_distance": "1/s", "eig_distance_M": "1/s", "max_re_eig_A": "1/s",
         "memory_capacity": "input steps", "kernel_rank": "rank", "generalization_rank": "rank",
         "nrmse_test": "NRMSE"}


def metric_rows(rows):
    """(label, task, metric, higher_is_better) for every metric present in the rows."""
    tasks = sorted({r["task"] for r in rows})
    out = []
    for prefix, metric, higher in METRICS:
        have = [t for t in tasks if (prefix is None or t == prefix)
                and any(r["task"] == t and r.get(metric) not in (None, "") for r in rows)]
        if have:
            out.append((metric, have[0], metric, higher))
    for t in tasks:
        if any(r["task"] == t and r.get("nrmse_test") not in (None, "") for r in rows):
            out.append((f"{t} NRMSE", t, "nrmse_test", False))
    return out


def main(argv=None):
    from lnp_brian.experiment.runner import read_results

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("experiment", type=Path, help="experiment directory written by `lnp-brian experiment`")
    p.add_argument("--reference", default="lnp", help="the method compared with every other one (default lnp)")
    p.add_argument("--out", type=Path, help="where to write (default: the experiment directory)")
    args = p.parse_args(argv)
    if not (args.experiment / "results.csv").exists():
        sys.exit(f"{args.experiment / 'results.csv'} not found: not an experiment directory")
    out = args.out or args.experiment
    out.mkdir(parents=True, exist_ok=True)
    rows = read_results(args.experiment)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    if args.reference not in methods:
        sys.exit(f"--reference {args.reference}: not a method of this experiment ({', '.join(methods)})")
    others = [m for m in methods if m != args.reference]
    models = list(dict.fromkeys(r["model"] for r in rows))
    table, lines = [], []
    for model in models:
        mrows = [r for r in rows if r["model"] == model]
        lines.append(f"== {model}: {args.reference} vs each method, final iteration, paired by seed ==")
        for label, task, metric, higher in metric_rows(mrows):
            scores = {m: final_scores(mrows, "method", m, task, metric) for m in methods}
            ref = scores[args.reference]
            if not ref:
                continue
            vals = np.array(list(ref.values()))
            lines.append(f"{label} ({'higher' if higher else 'lower'} is better): {args.reference} "
                         f"{vals.mean():.4g} ± {vals.std(ddof=1) if len(vals) > 1 else 0:.2g} (n={len(vals)})")
            for m in others:
                if not scores[m]:
                    continue
                c = compare(ref, scores[m])
                better = (c["diff_mean"] > 0) == higher if c["diff_mean"] != 0 else None
                verdict = "tie" if better is None else f"{args.reference} {'better' if better else 'worse'}"
                lines.append(f"   vs {m:<24} {c['b_mean']:.4g} ± {c['b_std']:.2g}  diff {c['diff_mean']:+.3g}  "
                             f"Wilcoxon p {c['wilcoxon_p']:.3g}  t p {c['t_p']:.3g}  d_z {c['d_z']:+.2f}  "
                             f"({verdict}, {c['seeds']} seeds)")
                table.append({"model": model, "metric": label, "reference": args.reference, "method": m,
                              **{k: float(v) for k, v in c.items()}})
        lines.append("")
    text = "\n".join(lines)
    print(text)
    (out / "evidence.txt").write_text(text + "\n", encoding="utf-8")
    if table:
        with open(out / "evidence.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(table[0]))
            w.writeheader()
            w.writerows(table)
    _figure(rows, models, methods, out / "evidence.png")
    print(f"wrote {out / 'evidence.txt'}, evidence.csv, evidence.png")


def _figure(rows, models, methods, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lnp_brian.report.summary import method_style

    panels = metric_rows(rows)
    if not panels:
        return
    cols = min(4, len(panels))
    nrow = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(nrow, cols, figsize=(3.6 * cols, 3.2 * nrow), layout="constrained", squeeze=False)
    width = 0.8 / max(len(methods), 1)
    for ax, (label, task, metric, higher) in zip(axes.flat, panels):
        for j, m in enumerate(methods):
            means, stds = [], []
            for model in models:
                v = np.array(list(final_scores([r for r in rows if r["model"] == model], "method", m, task,
                                               metric).values()))
                means.append(v.mean() if len(v) else np.nan)
                stds.append(v.std(ddof=1) if len(v) > 1 else 0.0)
            style = method_style(m)
            ax.bar(np.arange(len(models)) + (j - (len(methods) - 1) / 2) * width, means, width, yerr=stds,
                   color=style["color"], hatch=style.get("hatch"), label=m, capsize=2)
        ax.set_xticks(np.arange(len(models)), models)
        note = "below 0: linearly stable" if metric == "max_re_eig_A" else \
            f"{'higher' if higher else 'lower'} is better"
        ax.set_title(f"{label} ({note})", fontsize="small")
        ax.set_ylabel(UNITS.get(metric, ""))
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize="x-small")
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
