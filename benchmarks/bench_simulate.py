"""lnp_brian against a hand-written Brian2 script of the identical model, on cpp_standalone.

For HRSNN N = 1000 (with STDP on E->E) and N = 4000 (without STDP), 1 s of biological time:
compile times, and run times of the two alternated run by run (the ratio of medians is what
counts; target <= 1.05), plus lnp_brian's re-run time with new values through run_args.
Writes its section of benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import lnp_brian as lb
from lnp_brian.model.spec import ModelSpec

HERE = Path(__file__).resolve().parent


def model(stdp: bool) -> ModelSpec:
    spec = lb.load_model("hrsnn")
    if stdp:
        return spec
    text = spec.text
    start = text.index("[plasticity]")
    end = text.index("[network]")
    return ModelSpec.from_toml(text[:start] + text[end:], "hrsnn without plasticity")


def bench(n: int, stdp: bool, repeats: int, workdir: Path) -> dict:
    spec = model(stdp)
    net = lb.build_network(spec, n, seed=1)
    npz = net.save(workdir / f"net{n}.npz")
    noise = lb.default_input(spec)

    t0 = time.perf_counter()
    sim = lb.Simulator(net, "cpp_standalone", duration="1 s", inputs=noise, build_dir=workdir / f"lnp{n}")
    lnp_build = time.perf_counter() - t0

    hand = subprocess.Popen([sys.executable, str(HERE / "handwritten_hrsnn.py"), str(npz), str(workdir / f"hand{n}")]
                            + ([] if stdp else ["--no-stdp"]),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    hand_compile = json.loads(hand.stdout.readline())["compile_seconds"]

    lnp_runs, lnp_bin, hand_runs, hand_bin, spikes = [], [], [], [], []
    for k in range(repeats + 1):  # the first pair warms the file cache and is dropped
        res = sim.run(seed=k)
        hand.stdin.write("run\n")
        hand.stdin.flush()
        h = json.loads(hand.stdout.readline())
        if k:
            lnp_runs.append(res.info["run_seconds"])
            lnp_bin.append(sim.timings["last_run_binary"])
            hand_runs.append(h["run_seconds"])
            hand_bin.append(h["binary_seconds"])
            spikes.append((len(res.spike_t), h["n_spikes"]))
    hand.stdin.close()
    hand.wait()

    # re-run with new values (weights scaled, a quarter of the neurons silenced)
    active = np.ones(n, bool)
    active[::4] = False
    t0 = time.perf_counter()
    sim.run(net.prune(neurons=np.flatnonzero(~active)), seed=0, weights=net.w * 0.9)
    rerun = time.perf_counter() - t0
    med = lambda x: float(np.median(x))
    return {
        "neurons": n, "synapses": int(len(net.w)), "stdp": stdp, "repeats": repeats,
        "lnp_compile_s": round(lnp_build, 2), "handwritten_compile_s": round(hand_compile, 2),
        "lnp_run_s": round(med(lnp_runs), 4), "handwritten_run_s": round(med(hand_runs), 4),
        "lnp_binary_s": round(med(lnp_bin), 4), "handwritten_binary_s": round(med(hand_bin), 4),
        "run_ratio": round(med(lnp_runs) / med(hand_runs), 3),
        "binary_ratio": round(med(lnp_bin) / med(hand_bin), 3),
        "rerun_with_new_values_s": round(rerun, 4), "compilations": sim.compilations,
        "mean_spikes_lnp_vs_handwritten": [float(np.mean([s[0] for s in spikes])),
                                           float(np.mean([s[1] for s in spikes]))],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 1000 only, 3 repeats")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    configs = [(1000, True)] if args.quick else [(1000, True), (4000, False)]
    repeats = 3 if args.quick else args.repeats
    rows = []
    with tempfile.TemporaryDirectory(prefix="lnp_bench_sim_") as tmp:
        for n, stdp in configs:
            rows.append(bench(n, stdp, repeats, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    from common import machine, save_section

    save_section("simulate_vs_handwritten", {"machine": machine(), "rows": rows})
    print(f"\n{'N':>6} {'STDP':>5} {'compile lnp/hand (s)':>21} {'run lnp/hand (s)':>18} {'ratio':>6} {'re-run (s)':>10}")
    for r in rows:
        print(f"{r['neurons']:>6} {str(r['stdp']):>5} {r['lnp_compile_s']:>10.1f}/{r['handwritten_compile_s']:<10.1f}"
              f" {r['lnp_run_s']:>8.3f}/{r['handwritten_run_s']:<9.3f} {r['run_ratio']:>6.3f} {r['rerun_with_new_values_s']:>10.3f}")


if __name__ == "__main__":
    main()
