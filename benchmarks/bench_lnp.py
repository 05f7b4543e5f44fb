"""Whole LNP run on an HRSNN on cpp_standalone: wall time by step, compilations, and the
ratio against rebuilding the network every iteration (measured: one fresh build of each
iteration's compact network, timed).

N = 1000 (N = 300 with --quick), 5 iterations to -57 % neurons / -50 % synapses. Writes the
"lnp" section of results.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import lnp_brian as lb
from lnp_brian.lyapunov.finite_size import TwoTrajectory
from lnp_brian.pruning.config import PruneConfig
from lnp_brian.pruning.pruner import Pruner


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n = 300 if args.quick else 1000
    dense = lb.build_network("hrsnn", n, seed=1)
    config = PruneConfig(iterations=3 if args.quick else 5, trials=4 if args.quick else 8, seed=1)
    with tempfile.TemporaryDirectory(prefix="lnp_bench_lnp_") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        pruner = Pruner(dense, config, build_root=tmp / "loop")
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = pruner.run()
        loop = time.perf_counter() - t0
        # the alternative: a new compiled build for every iteration's (compact) network
        rebuilds = []
        for k, net in enumerate(res.networks[1:], 1):
            t0 = time.perf_counter()
            TwoTrajectory(net.compact(), "cpp_standalone", perturbed=config.lyapunov_copies,
                          duration=config.duration, interval=config.interval, inputs=pruner.noise,
                          build_dir=tmp / f"rebuild{k}", record_spikes=True)
            rebuilds.append(time.perf_counter() - t0)
    row = {"neurons": n, "synapses": int(len(dense.w)), "iterations": config.iterations, "trials": config.trials,
           "build_s": round(build, 2), "loop_s": round(loop, 2), "compilations": res.compilations,
           "steps_s": {k: round(v, 2) for k, v in pruner.timings.items()},
           "rebuild_per_iteration_s": [round(x, 2) for x in rebuilds],
           "rebuild_ratio": round((build + loop + sum(rebuilds)) / (build + loop), 3),
           "final_neurons": res.network.n_active, "final_synapses": res.network.n_synapses}
    print(json.dumps(row))
    from common import machine, save_section

    save_section("lnp", {"machine": machine(), "rows": [row]})
    print(f"\nLNP, N = {n}, {config.iterations} iterations: build {build:.1f} s + loop {loop:.1f} s, "
          f"{res.compilations} compilation(s); rebuilding every iteration would add {sum(rebuilds):.0f} s "
          f"(ratio {row['rebuild_ratio']:.2f})")
    for step, sec in sorted(pruner.timings.items(), key=lambda kv: -kv[1]):
        print(f"  {step:16s} {sec:8.1f} s")


if __name__ == "__main__":
    main()
