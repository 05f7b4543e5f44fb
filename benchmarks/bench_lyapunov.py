"""Per-neuron spiking Lyapunov exponents: batched copies on one compiled build against the
naive approach of one build per perturbed neuron (extrapolated from a few builds).

HRSNN with N = 1000 (N = 300 with --quick) on cpp_standalone; window 100 ms after a 100 ms
warm-up. Writes the "lyapunov_per_neuron" section of results.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import lnp_brian as lb
from lnp_brian.lyapunov import finite_size as ly


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--naive-samples", type=int, default=2, help="naive builds to time (default 2)")
    args = parser.parse_args(argv)
    n = 300 if args.quick else 1000
    net = lb.build_network("hrsnn", n, seed=1)
    noise = lb.default_input(net.model)
    with tempfile.TemporaryDirectory(prefix="lnp_bench_ly_") as tmp:
        tmp = Path(tmp)
        before = lb.compile_count()
        t0 = time.perf_counter()
        per = ly.per_neuron_exponents(net, "cpp_standalone", window="100 ms", warmup="100 ms", inputs=noise,
                                      build_dir=tmp / "batched")
        batched = time.perf_counter() - t0
        compiles = lb.compile_count() - before
        naive = []
        for k in range(args.naive_samples):
            t0 = time.perf_counter()
            ly.per_neuron_exponents(net, "cpp_standalone", window="100 ms", warmup="100 ms", inputs=noise,
                                    neurons=[k], batch_size=1, build_dir=tmp / f"naive{k}")
            naive.append(time.perf_counter() - t0)
    naive_total = float(np.mean(naive)) * n
    row = {"neurons": n, "synapses": int(len(net.w)), "batched_wall_s": round(batched, 2),
           "compilations": compiles, "batches": per.batches, "copies_per_batch": per.copies_per_batch,
           "seconds_per_copy": round(batched / n, 4),
           "naive_seconds_per_neuron": round(float(np.mean(naive)), 2),
           "naive_extrapolated_s": round(naive_total, 1), "speedup": round(naive_total / batched, 1),
           "erased_fraction": float(per.erased.mean()),
           "lambda_i_quartiles": np.nanpercentile(per.lambdas, [25, 50, 75]).round(2).tolist()}
    print(json.dumps(row))
    from common import machine, save_section

    save_section("lyapunov_per_neuron", {"machine": machine(), "rows": [row]})
    print(f"\nper-neuron exponents, N = {n}: {batched:.1f} s batched ({compiles} compilation, "
          f"{per.batches} batches x {per.copies_per_batch} copies, {batched / n * 1e3:.1f} ms per copy); "
          f"naive one build per neuron: {np.mean(naive):.1f} s each, {naive_total:.0f} s extrapolated; "
          f"speed-up {naive_total / batched:.0f}x")


if __name__ == "__main__":
    main()
