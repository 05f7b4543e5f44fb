"""Scaling of LNP: wall time of each step and peak memory against the number of synapses
(log-log), from benchmarks/results.json ("large": whole LNP runs; "sparsify": the
sparsifier alone). Run `make bench` (or benchmarks/bench_large.py) first.

    python analysis/fig_scaling.py [benchmarks/results.json] [--out scaling.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="?", type=Path, default=ROOT / "benchmarks" / "results.json")
    p.add_argument("--out", type=Path, default=Path("scaling.png"))
    args = p.parse_args(argv)
    if not args.results.exists():
        sys.exit(f"{args.results} not found: run `make bench` first")
    res = json.loads(args.results.read_text())
    large, sparse = res.get("large", {}).get("rows", []), res.get("sparsify", {}).get("rows", [])
    if not large and not sparse:
        sys.exit(f"{args.results} has no 'large' or 'sparsify' section: run benchmarks/bench_large.py")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    large = sorted(large, key=lambda r: r["synapses"])
    m = [r["synapses"] for r in large]
    for step in sorted({k for r in large for k in r["steps_s"]}):
        y = [r["steps_s"].get(step, float("nan")) / max(r["iterations"], 1) for r in large]
        ax_t.plot(m, y, marker="o", label=f"{step} (per iteration)")
    if large:
        ax_t.plot(m, [r["compile_s"] for r in large], marker="s", ls="--", color="k", label="compile (once)")
    if sparse:
        sparse = sorted(sparse, key=lambda r: r["synapses"])
        ax_t.plot([r["synapses"] for r in sparse], [r["total_s"] for r in sparse], marker="^", ls=":",
                  color="grey", label="sparsifier alone")
    ax_t.set(xscale="log", yscale="log", xlabel="synapses", ylabel="wall time (s)",
             title="LNP steps on 2 cores (cpp_standalone)")
    ax_t.legend(fontsize="x-small", ncol=2)
    if large:
        ax_m.plot(m, [r["peak_memory"]["self_gib"] for r in large], marker="o", label="Python process")
        ax_m.plot(m, [r["peak_memory"]["children_gib"] for r in large], marker="o", label="compiled simulation")
    if sparse:
        ax_m.plot([r["synapses"] for r in sparse], [r["max_rss_gib"] for r in sparse], marker="^", ls=":",
                  color="grey", label="sparsifier alone")
    ax_m.set(xscale="log", yscale="log", xlabel="synapses", ylabel="peak resident memory (GiB)",
             title="peak memory")
    ax_m.legend(fontsize="x-small")
    fig.savefig(args.out, dpi=120)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
