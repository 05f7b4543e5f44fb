"""Run every benchmark in this folder (bench_*.py) in turn; each writes its section of
benchmarks/results.json and prints its table; a short table of the headline figures of
every section is printed last. `--quick` passes --quick to each (small sizes); names
(e.g. `bench_large`) run only those. bench_gpu.py needs a GPU and runs only when named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _rows(results, name):
    return results.get(name, {}).get("rows", [])


def headline(results: dict) -> list[str]:
    """One line per figure: what was measured and the number (ratios within one run)."""
    out = []
    m = next((v["machine"] for v in results.values() if isinstance(v, dict) and "machine" in v), None)
    if m:
        out.append(f"machine: {m['cores']} cores, {m['cpu']}, Python {m['python']}")
    for r in _rows(results, "simulate_vs_handwritten"):
        out.append(f"simulate N={r['neurons']:>6}: run time lnp_brian / hand-written Brian2 = {r['run_ratio']:.2f}; "
                   f"compile {r['lnp_compile_s']:.1f} s, re-run with new values {r['rerun_with_new_values_s']:.2f} s")
    for r in _rows(results, "lyapunov_per_neuron"):
        out.append(f"per-neuron exponents N={r['neurons']}: batched {r['batched_wall_s']:.0f} s, "
                   f"{r['compilations']} compilation, {r['seconds_per_copy']:.3f} s/copy; naive one build per neuron "
                   f"{r['naive_extrapolated_s']:.0f} s (speed-up {r['speedup']:.0f})")
    for r in _rows(results, "sparsify"):
        out.append(f"sparsify n={r['neurons']:>6}, {r['synapses']:>8} synapses ({r['method_auto']}): "
                   f"{r['total_s']:.2f} s, peak RSS {r['max_rss_gib']:.2f} GiB")
    py = results.get("sparsify", {}).get("pygsp")
    if py and "time_ratio_pygsp_over_ours" in py:
        out.append(f"PyGSP {py['pygsp_version']} graph_sparsify / ours at n={py['neurons']}: "
                   f"{py['time_ratio_pygsp_over_ours']:.0f}x slower")
    for r in results.get("sparsify", {}).get("centrality", []):
        out.append(f"betweenness n={r['neurons']}: {r['pivots']} pivots {r['pivots_s']:.2f} s, exact {r['exact_s']:.1f} s")
    for r in _rows(results, "lnp"):
        out.append(f"LNP N={r['neurons']}: build {r['build_s']:.0f} s + loop {r['loop_s']:.0f} s, "
                   f"{r['compilations']} compilation; rebuilding each iteration: ratio {r['rebuild_ratio']:.2f}")
    for r in _rows(results, "large"):
        peak = max(r["peak_memory"]["self_gib"], r["peak_memory"]["children_gib"])
        steps = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["steps_s"].items(), key=lambda kv: -kv[1])[:4])
        out.append(f"large LNP N={r['neurons']:>6} ({r['synapses']} synapses): compile {r['compile_s']:.0f} s, "
                   f"loop {r['loop_s']:.0f} s [{steps} s], peak {peak:.2f} GiB, {r['compilations']} compilation(s)")
    for q in results.get("construct", {}).get("ratios", []):
        if q["kind"] == "random":
            out.append(f"build_network N={q['neurons']:>6} ({q['synapses_sparse'] / 1e6:.1f} M synapses): sparse sampler "
                       f"{q['build_network_sparse_s']:.1f} s, dense {q['build_network_dense_s']:.1f} s "
                       f"(x{q['build_network_speedup']:.1f}; connect alone x{q['connect_speedup']:.0f})")
    for r in _rows(results, "construct"):
        if r["kind"] != "random" and r["method"] == "sparse" and r["neurons"] >= 100_000:
            out.append(f"build_network N={r['neurons']} {r['kind']} ({r['synapses'] / 1e6:.1f} M synapses, sparse): "
                       f"{r['build_network_s']:.1f} s (connect {r['connect_s']:.2f} s)")
    for r in _rows(results, "grid"):
        w = r["wall_s"]
        out.append(f"grid {r['runs']} runs: dask 1 worker {w['dask_1_worker']:.0f} s, 2 workers "
                   f"{w['dask_2_workers']:.0f} s (x{r['speedup_2_vs_1_workers']:.2f}), identical {r['identical_results']}")
    return out


def main() -> int:
    extra = [a for a in sys.argv[1:] if a == "--quick"]
    only = [a for a in sys.argv[1:] if a != "--quick"]
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only and script.name not in only:
            continue
        if script.stem == "bench_gpu" and not only:  # needs a GPU: make gpu-check / benchmarks/gpu_check.sh
            continue
        print(f"\n=== {script.name} {' '.join(extra)}", flush=True)
        if subprocess.run([sys.executable, str(script), *extra], cwd=HERE).returncode != 0:
            failed.append(script.name)
    results = json.loads((HERE / "results.json").read_text()) if (HERE / "results.json").exists() else {}
    print("\n=== summary (benchmarks/results.json)")
    for line in headline(results):
        print("  " + line)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
