"""The distributed experiment grid: wall time of one small grid on a dask.distributed cluster
(a real scheduler and worker processes on loopback) with 1 and with 2 workers, and in this
process, all measured in one run on the same compiled builds.

Grid: HRSNN 200 neurons, methods dense / lnp / ap / random, 2 seeds, Lorenz63 h = 1 (8 runs).
The builds are compiled once first (not timed), so the figures compare the execution of the
runs, not compilation. Writes the "grid" section of results.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

CONFIG = """
[experiment]
name = "bench_grid"
seeds = {seeds}
methods = ["dense", "lnp", "ap", "random"]
workers = 1
[network]
models = ["hrsnn"]
neurons = {n}
[pruning]
iterations = 2
target_neurons = 0.3
target_synapses = 0.6
trials = 2
duration = "0.3 s"
copies = 2
[[tasks]]
name = "lorenz63"
kind = "lorenz63"
horizons = [1]
samples = 800
"""


def main(argv=None):
    from distributed import LocalCluster

    from lnp_brian.experiment.runner import Experiment, load_experiment

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 neurons")
    args = parser.parse_args(argv)
    n, seeds = (100, 2) if args.quick else (200, 2)
    with tempfile.TemporaryDirectory(prefix="lnp_bench_grid_") as tmp:
        tmp = Path(tmp)
        (tmp / "grid.toml").write_text(CONFIG.format(n=n, seeds=seeds))
        cfg = load_experiment(tmp / "grid.toml")
        builds = tmp / "builds"
        Experiment(cfg, tmp / "warm", builds=builds, quiet=True).run()  # compiles every build once
        walls, csv = {}, {}
        for label, workers in (("in_process", None), ("dask_1_worker", 1), ("dask_2_workers", 2)):
            out = tmp / label
            t0 = time.perf_counter()
            if workers is None:
                Experiment(cfg, out, builds=builds, quiet=True).run()
            else:
                with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
                    Experiment(cfg, out, builds=builds, scheduler=cluster.scheduler_address, quiet=True).run()
            walls[label] = round(time.perf_counter() - t0, 2)
            csv[label] = (out / "results.csv").read_text()
            print(f"{label}: {walls[label]:.1f} s", flush=True)
    same = len(set(csv.values())) == 1
    row = {"neurons": n, "runs": 4 * seeds, "wall_s": walls, "identical_results": same,
           "speedup_2_vs_1_workers": round(walls["dask_1_worker"] / walls["dask_2_workers"], 3)}
    print(json.dumps(row))
    from common import machine, save_section

    save_section("grid", {"machine": machine(), "quick": args.quick, "rows": [row]})
    print(f"\ngrid of {row['runs']} runs (N = {n}): in this process {walls['in_process']:.1f} s, dask 1 worker "
          f"{walls['dask_1_worker']:.1f} s, 2 workers {walls['dask_2_workers']:.1f} s "
          f"(speed-up {row['speedup_2_vs_1_workers']:.2f}); results identical: {same}")


if __name__ == "__main__":
    main()
