"""LNP and lambda_max on large HRSNNs on one machine (cpp_standalone): wall time of every
step, peak memory, compilations.

The connection probability is scaled as 100 / N so that every neuron keeps the shipped
model's ~100 synapses in (p = 0.1 at N = 1,000): N = 1,000 / 4,000 / 10,000 (--quick: 1,000),
2 LNP iterations to the default targets scaled per iteration, 4 timescale trials each.
Betweenness is exact up to 2,000 active neurons and sampled (256 pivots) above; effective
resistances are exact up to the sparsifier's limit and approximate (Spielman-Srivastava
projections) above. Peak memory is the largest resident set of this process and of any
child (the compiled simulation), an upper bound (a forked child counts its parent's pages).
Writes the "large" section of results.json (``--sizes`` replaces only those sizes' rows).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import lnp_brian as lb
from lnp_brian.network.network import connectivity_with_p
from lnp_brian.pruning.config import PruneConfig
from lnp_brian.pruning.pruner import Pruner


def _peak_gib() -> dict:
    kib = 1024 ** 2  # ru_maxrss is in KiB on Linux
    return {"self_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib, 3),
            "children_gib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kib, 3)}


def one_size(n: int, iterations: int, trials: int, subset: int | None = None) -> dict:
    p = min(1.0, 100.0 / n)
    t0 = time.perf_counter()
    dense = lb.build_network("hrsnn", n, seed=1, connectivity=connectivity_with_p("hrsnn", p))
    build_network_s = time.perf_counter() - t0
    config = PruneConfig(iterations=iterations, trials=trials, seed=1, target_neurons=0.57 * iterations / 5,
                         target_synapses=0.5 * iterations / 5, exponent_neurons=subset)
    with tempfile.TemporaryDirectory(prefix=f"lnp_bench_large_{n}_") as tmp:
        t0 = time.perf_counter()
        pruner = Pruner(dense, config, build_root=Path(tmp))
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = pruner.run()
        loop_s = time.perf_counter() - t0
    row = {"neurons": n, "connection_probability": p, "synapses": int(len(dense.w)), "iterations": iterations,
           "trials": trials, "exponent_neurons": subset, "build_network_s": round(build_network_s, 2), "compile_s": round(compile_s, 2),
           "loop_s": round(loop_s, 2), "compilations": res.compilations,
           "steps_s": {k: round(v, 2) for k, v in sorted(pruner.timings.items())},
           "per_iteration_s": [round(r.get("wall_seconds", 0.0), 2) for r in res.rows[1:]],
           "lambda_max_dense": res.rows[0]["lambda_max"], "lambda_max_final": res.rows[-1]["lambda_max"],
           "final_neurons": res.network.n_active, "final_synapses": res.network.n_synapses,
           "peak_memory": _peak_gib()}
    print(json.dumps(row), flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N = 1,000 only")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        help="comma-separated network sizes (default 1000,4000,10000)")
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--exponent-neurons", type=int,
                        help="per-neuron exponents of this many neurons, the rest predicted (default: all)")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([1000] if args.quick else [1000, 4000, 10000])
    rows = []
    for n in sizes:  # each size in a fresh process: its own peak memory
        with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
            rows.append(pool.submit(one_size, n, args.iterations, args.trials, args.exponent_neurons).result())
    from common import RESULTS, machine, save_section

    # --sizes adds or replaces those sizes' rows; rows of other sizes are kept
    old = json.loads(RESULTS.read_text()).get("large", {}).get("rows", []) if RESULTS.exists() else []
    done = {r["neurons"] for r in rows}
    rows = sorted([r for r in old if r["neurons"] not in done] + rows, key=lambda r: r["neurons"])
    save_section("large", {"machine": machine(), "quick": args.quick, "rows": rows})
    steps = sorted({k for r in rows for k in r["steps_s"]})
    print(f"\nLNP on large HRSNNs (cpp_standalone, {args.iterations} iterations, {args.trials} trials each)")
    print(f"{'step (s)':18s}" + "".join(f"{'N=' + str(r['neurons']):>12s}" for r in rows))
    for key in ["compile_s", *steps, "loop_s"]:
        vals = [r["compile_s"] if key == "compile_s" else r["loop_s"] if key == "loop_s" else r["steps_s"].get(key, 0.0)
                for r in rows]
        print(f"{key:18s}" + "".join(f"{v:12.1f}" for v in vals))
    print(f"{'synapses':18s}" + "".join(f"{r['synapses']:12d}" for r in rows))
    print(f"{'compilations':18s}" + "".join(f"{r['compilations']:12d}" for r in rows))
    print(f"{'peak RSS GiB':18s}" + "".join(
        f"{max(r['peak_memory']['self_gib'], r['peak_memory']['children_gib']):12.2f}" for r in rows))


if __name__ == "__main__":
    main()
