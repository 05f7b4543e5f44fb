"""cpp_standalone build time with and without the precompiled standard headers.

Builds the same HRSNN into fresh folders, alternating LNP_BRIAN_PCH=on and off in separate
processes (Brian2 keeps compiler checks per process), and reports the median wall time of
each and their ratio. The header itself is made once before the timed builds, as a user's
first build makes it. Writes its section of benchmarks/results.json.

    python benchmarks/bench_compile.py [--neurons 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ONE_BUILD = """
import json, sys, time
import lnp_brian as lb
net = lb.build_network("hrsnn", n=int(sys.argv[1]), seed=1)
t0 = time.perf_counter()
sim = lb.Simulator(net, "cpp_standalone", duration="100 ms", inputs=lb.default_input(net.model), build_dir=sys.argv[2])
print(json.dumps({"build_s": time.perf_counter() - t0, "compilations": sim.compilations}))
"""


def build(n: int, folder: Path, pch: str, env: dict) -> float:
    out = subprocess.run([sys.executable, "-c", ONE_BUILD, str(n), str(folder)], capture_output=True, text=True,
                         env=dict(env, LNP_BRIAN_PCH=pch), check=True)
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    assert rec["compilations"] == 1
    return rec["build_s"]


def main(argv=None):
    from common import machine, save_section

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--neurons", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="one repeat")
    args = p.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LNP_BRIAN_CACHE=str(Path(tmp) / "cache"), OPENBLAS_NUM_THREADS="1")
        build(args.neurons, Path(tmp) / "warm", "on", env)  # makes the header (a user's first build)
        times = {"on": [], "off": []}
        for r in range(repeats):
            for pch in ("on", "off"):
                times[pch].append(build(args.neurons, Path(tmp) / f"{pch}{r}", pch, env))
                print(f"build {r + 1}/{repeats} precompiled header {pch}: {times[pch][-1]:.2f} s", flush=True)
    on, off = float(np.median(times["on"])), float(np.median(times["off"]))
    result = {"neurons": args.neurons, "repeats": repeats, "build_s_with_header": times["on"],
              "build_s_without_header": times["off"], "median_with": on, "median_without": off,
              "ratio_without_over_with": off / on, "machine": machine()}
    print(f"HRSNN N = {args.neurons}: build {on:.2f} s with the precompiled header, {off:.2f} s without "
          f"({off / on:.2f}x)")
    save_section("compile", result)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
