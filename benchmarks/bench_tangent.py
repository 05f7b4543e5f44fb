"""Lyapunov spectrum of an ODE model: variational equations integrated in the compiled build
(lnp_brian.lyapunov.tangent) against the Python step-by-step QR integration
(lnp_brian.lyapunov.spectrum.qr_spectrum_ode, what ``lnp-brian lyapunov --spectrum`` used).

Lorenz63 (the shipped model file, tau = 1 s), 3 exponents, dt = 1 ms, rk4, Gram–Schmidt/QR
every 10 ms (10 dt, the Python path's default), 10 s transient. The in-build spectrum is
measured over 3000 s on cpp_standalone in a fresh build folder (its time includes code
generation and compilation); the Python path is timed over a shorter measurement (100 s by
default) and its wall time extrapolated linearly to the same simulated time (transient +
3000 s): its cost per step is constant. Prints one JSON row; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np

import lnp_brian as lb
from lnp_brian.lyapunov import finite_size as ly
from lnp_brian.lyapunov import tangent as tg
from lnp_brian.lyapunov.spectrum import qr_spectrum_ode


def block_stderr(spec, blocks: int = 10):
    """Standard errors of qr_spectrum_ode's exponents over consecutive time blocks."""
    L = np.vstack([np.zeros(spec.history.shape[1]), spec.history * spec.times[:, None]])
    t = np.concatenate([[0.0], spec.times])
    edges = np.round(np.linspace(0, len(t) - 1, blocks + 1)).astype(int)
    rates = (L[edges[1:]] - L[edges[:-1]]) / (t[edges[1:]] - t[edges[:-1]])[:, None]
    return rates.std(axis=0, ddof=1) / np.sqrt(blocks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3000.0, help="measured time in the build (default 3000 s)")
    parser.add_argument("--python-seconds", type=float, default=100.0,
                        help="measured time of the timed Python run (default 100 s), extrapolated")
    parser.add_argument("--transient", type=float, default=10.0, help="transient (s, default 10)")
    args = parser.parse_args(argv)
    dt, interval, k, seed = 1e-3, 1e-2, 3, 0
    net = lb.build_network("lorenz63")
    with tempfile.TemporaryDirectory(prefix="lnp_bench_tangent_") as tmp:
        before = lb.compile_count()
        t0 = time.perf_counter()
        lam, info = tg.spectrum_in_build(net, k, duration=f"{args.seconds + args.transient!r} * second",
                                         transient=f"{args.transient!r} * second", interval=f"{interval!r} * second",
                                         dt=f"{dt!r} * second", device="cpp_standalone", seed=seed,
                                         build_dir=tmp, reuse=True)
        in_build = time.perf_counter() - t0
        compiles = lb.compile_count() - before
        method = info["method"]
        # a second run on the same binary (new initial state): the cost of a re-run
        t0 = time.perf_counter()
        info["engine"].run(transient=f"{args.transient!r} * second", seed=seed + 1,
                           initial={"x": -3.0, "y": 2.0, "z": 30.0})
        rerun = time.perf_counter() - t0

    names, f, jac, x0 = ly.ode_system(net)
    t0 = time.perf_counter()
    ref = qr_spectrum_ode(f, jac, x0, dt=dt, T=args.python_seconds, k=k, transient=args.transient,
                          interval=interval, method="rk4", seed=seed)
    py_wall = time.perf_counter() - t0
    py_extrapolated = py_wall * (args.seconds + args.transient) / (args.python_seconds + args.transient)
    row = {
        "model": "lorenz63", "k": k, "dt_s": dt, "integrator": "rk4", "interval_s": interval,
        "transient_s": args.transient,
        "in_build": {"device": "cpp_standalone", "measured_s": info["measured_s"],
                     "wall_s": round(in_build, 2), "build_and_compile_s": round(method["build_seconds"], 2),
                     "run_s": round(method["run_seconds"], 3), "rerun_s": round(rerun, 3),
                     "compilations": compiles,
                     "exponents": np.round(lam, 4).tolist(), "stderr": np.round(info["stderr"], 4).tolist(),
                     "sum": round(float(lam.sum()), 6)},
        "python": {"measured_s": args.python_seconds, "wall_s": round(py_wall, 2),
                   "extrapolated_wall_s": round(py_extrapolated, 1),
                   "extrapolation": f"linear in simulated time, ({args.python_seconds:g} + {args.transient:g}) s "
                                    f"-> ({args.seconds:g} + {args.transient:g}) s",
                   "exponents": np.round(ref.exponents, 4).tolist(),
                   "stderr": np.round(block_stderr(ref), 4).tolist(), "sum": round(float(ref.exponents.sum()), 6)},
        "speedup_including_compile": round(py_extrapolated / in_build, 1),
        "speedup_rerun": round(py_extrapolated / rerun, 1),
        "reference_exponents": [0.9056, 0.0, -14.5723],
    }
    print(json.dumps(row))
    from common import machine, save_section

    save_section("tangent", {"machine": machine(), "rows": [row]})
    print(f"\nLorenz63 spectrum over {args.seconds:g} s at dt = {dt * 1e3:g} ms (rk4): in the build "
          f"{in_build:.1f} s ({method['build_seconds']:.1f} s build + compile, {method['run_seconds']:.2f} s run; "
          f"re-run {rerun:.2f} s); Python {py_wall:.1f} s for {args.python_seconds:g} s, "
          f"{py_extrapolated:.0f} s extrapolated: {py_extrapolated / in_build:.0f}x faster "
          f"({py_extrapolated / rerun:.0f}x for a re-run)")


if __name__ == "__main__":
    main()
