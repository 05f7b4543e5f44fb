"""Paired comparison of two models (or two methods) of one experiment, seed by seed.

For every task it pairs the final-iteration score of A and B on the same seed and prints
mean ± std of each, the mean difference, the paired t-test, the Wilcoxon signed-rank test
(exact for few seeds: with 5 seeds its smallest two-sided p is 0.0625) and the effect size
d_z = mean difference / std of the differences. Writes paired_<A>_vs_<B>.csv beside.

    python analysis/paired_test.py runs/heterogeneity --a model=hrsnn --b model=mrsnn
    python analysis/paired_test.py runs/evidence --a method=lnp --b method=ap
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from scipy import stats


def _selector(text: str):
    key, _, value = text.partition("=")
    if key not in ("model", "method") or not value:
        raise argparse.ArgumentTypeError(f"expected model=NAME or method=NAME, got {text!r}")
    return key, value


def final_scores(rows, key, value, task, metric):
    """seed -> score of the last iteration of (key = value, task)."""
    last = {}
    for r in rows:
        v = r.get(metric)
        if r[key] != value or r["task"] != task or v is None or v == "" or not np.isfinite(float(v)):
            continue
        seed, it = int(r["seed"]), int(r["iteration"])
        if seed not in last or it > last[seed][0]:
            last[seed] = (it, float(r[metric]))
    return {s: v for s, (_, v) in last.items()}


def compare(a: dict, b: dict) -> dict:
    seeds = sorted(set(a) & set(b))
    x, y = np.array([a[s] for s in seeds]), np.array([b[s] for s in seeds])
    d = x - y
    out = {"seeds": len(seeds), "a_mean": x.mean(), "a_std": x.std(ddof=1) if len(x) > 1 else 0.0,
           "b_mean": y.mean(), "b_std": y.std(ddof=1) if len(y) > 1 else 0.0, "diff_mean": d.mean(),
           "diff_std": d.std(ddof=1) if len(d) > 1 else 0.0, "t_p": np.nan, "wilcoxon_p": np.nan, "d_z": np.nan}
    if len(seeds) >= 2 and np.any(d != 0):
        out["t_p"] = float(stats.ttest_rel(x, y).pvalue)
        out["wilcoxon_p"] = float(stats.wilcoxon(x, y).pvalue)
        out["d_z"] = float(d.mean() / d.std(ddof=1)) if d.std(ddof=1) > 0 else np.inf
    return out


def main(argv=None):
    from lnp_brian.experiment.runner import read_results

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("experiment", type=Path)
    p.add_argument("--a", type=_selector, required=True, help="model=NAME or method=NAME")
    p.add_argument("--b", type=_selector, required=True, help="model=NAME or method=NAME")
    p.add_argument("--metric", default=None, help="results.csv column (default nrmse_test, or accuracy_test)")
    args = p.parse_args(argv)
    if not (args.experiment / "results.csv").exists():
        sys.exit(f"{args.experiment / 'results.csv'} not found: not an experiment directory")
    rows = read_results(args.experiment)
    table = []
    for task in sorted({r["task"] for r in rows}):
        images = any(r["task"] == task and np.isfinite(float(r.get("accuracy_test") or "nan")) for r in rows)
        metric = args.metric or ("accuracy_test" if images else "nrmse_test")
        a = final_scores(rows, *args.a, task, metric)
        b = final_scores(rows, *args.b, task, metric)
        if not a or not b:
            continue
        res = {"task": task, "metric": metric, **compare(a, b)}
        table.append(res)
        print(f"{task:18s} {metric:13s} n={res['seeds']}  {args.a[1]} {res['a_mean']:.4f} ± {res['a_std']:.4f}   "
              f"{args.b[1]} {res['b_mean']:.4f} ± {res['b_std']:.4f}   diff {res['diff_mean']:+.4f} ± "
              f"{res['diff_std']:.4f}  paired t p = {res['t_p']:.3g}  Wilcoxon p = {res['wilcoxon_p']:.3g}  "
              f"d_z = {res['d_z']:.2f}")
    out = args.experiment / f"paired_{args.a[1]}_vs_{args.b[1]}.csv"
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]) if table else ["task"])
        w.writeheader()
        w.writerows(table)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
