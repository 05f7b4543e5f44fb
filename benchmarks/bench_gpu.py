"""cuda_standalone on a GPU machine (issue 7): correctness against cpp_standalone, then speed.

Run by ``benchmarks/gpu_check.sh`` on the GPU machine (one command, README "GPU check");
on a machine without an NVIDIA GPU or without nvcc it stops at once with the
GPUUnavailable message and exit status 3. Steps, most important first; a step (or the
cpp_standalone half of one) is skipped, and the skip recorded, when the time used so far plus
its predicted cost passes ``--budget`` seconds (the predictions come from the compile and run
times measured in the earlier steps):

1. ``hrsnn``: one HRSNN (N = ``--check-n``, default 10,000, seed 1, ``--k`` synapses per
   neuron) with a deterministic current input (a ``Stimulus``, no noise) for 1 s on
   cpp_standalone (OpenMP, ``--threads``) and cuda_standalone: population rates within 2 %,
   and a two-sample KS test of the per-neuron rates with p > 0.01. Doubles as the first
   speed point.
2. ``lorenz63``: the maximal Lyapunov exponent (two trajectories, 300 s, d0 = 1e-6, as in
   tests/test_lyapunov.py) on both devices: both within 0.1 of 0.906 /s (Sprott) and within
   their combined errors of each other; the GPU build has ``--lyap-copies`` perturbed copies,
   so it also gives the perturbation-copy throughput.
3. ``speed``: HRSNN at the larger ``--sizes`` (default 50,000 and 100,000; ``--quick``: none)
   with the same ``--k``: compile time, run time and real-time factor (binary wall time /
   simulated time) on cuda_standalone and cpp_standalone (``--skip-cpp-large`` leaves the
   latter out). Builds of one device share a build directory, so a later size is an
   incremental make (``"incremental": true``; ``--fresh-builds`` to change that).
4. ``lyapunov_batch``: TwoTrajectory of a 1000-neuron HRSNN with ``--batch-copies`` perturbed
   copies for 1 s: perturbation copies per second on each device.

Writes ``OUT/results_gpu.json`` after every step and prints a table at the end. Exit status:
0 every check passed, 1 a check failed, was not run (budget) or a step broke, 3 no GPU / no
nvcc. ``--steps`` runs a subset (e.g. ``--steps speed,batch`` for a second call).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

EXIT_NO_GPU = 3
DURATION = 1.0        # s of biological time of every HRSNN run
DT = 1e-4             # the hrsnn model's dt
LORENZ_LAMBDA = 0.906  # 1/s, Sprott (2003)
STEPS = ("hrsnn", "lorenz63", "speed", "batch")
REQUIRED = {"hrsnn": ("hrsnn_population_rate", "hrsnn_rate_distribution_ks"),
            "lorenz63": ("lorenz63_lambda_max",)}

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f} s] {msg}", flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="benchmarks", help="folder of results_gpu.json (default benchmarks)")
    p.add_argument("--work", default=None, help="build directories (default: a new folder under /tmp)")
    p.add_argument("--budget", type=float, default=480.0,
                   help="seconds: skip what would end later than this (default 480)")
    p.add_argument("--quick", action="store_true", help="N = 10,000 only (steps 1, 2 and 4)")
    p.add_argument("--skip-cpp-large", action="store_true",
                   help="no cpp_standalone runs above --check-n (speed and batch steps)")
    p.add_argument("--check-n", type=int, default=10_000, help="neurons of the correctness network")
    p.add_argument("--sizes", type=int, nargs="*", default=[50_000, 100_000],
                   help="further network sizes of the speed step")
    p.add_argument("--k", type=float, default=100.0, help="synapses per neuron (p = k / N)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="OpenMP threads of cpp_standalone (default: all cores)")
    p.add_argument("--repeats", type=int, default=2, help="cuda runs per build (timing: the fastest)")
    p.add_argument("--lyap-copies", type=int, default=4096, help="perturbed Lorenz63 copies on the GPU")
    p.add_argument("--lyap-cpp-copies", type=int, default=64, help="perturbed Lorenz63 copies on cpp")
    p.add_argument("--batch-copies", type=int, default=255, help="perturbed HRSNN copies, step 4")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fresh-builds", action="store_true", help="a new build directory for every build")
    p.add_argument("--keep-builds", action="store_true", help="keep the build directories")
    p.add_argument("--steps", default=",".join(STEPS),
                   help=f"comma-separated steps to run, in this order (default {','.join(STEPS)})")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = []
    args.steps = [x.strip() for x in args.steps.split(",") if x.strip()]
    unknown = set(args.steps) - set(STEPS)
    if unknown:
        p.error(f"unknown steps {sorted(unknown)}; choose from {', '.join(STEPS)}")
    return args


# ---------------------------------------------------------------------------- machine
def preflight() -> dict:
    """GPU, nvcc and cuRAND, or GPUUnavailable (before anything is built)."""
    from lnp_brian.brian import cuda
    from lnp_brian.simulation.simulator import GPUUnavailable

    missing = cuda.unavailable()
    if missing:
        raise GPUUnavailable(f"cuda_standalone cannot be checked here: {missing}; "
                             "the GPU check runs on a machine with an NVIDIA GPU and nvcc")
    nvcc = cuda.nvcc_path()
    info = {"gpu": cuda.gpu_info(), "nvcc": nvcc, "cuda_release": cuda.nvcc_version(nvcc)}
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        info["nvidia_smi"] = smi.stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        info["nvidia_smi"] = f"unavailable: {exc}"
    paths = cuda.curand_paths()
    root = Path(nvcc).resolve().parent.parent
    toolkit = [str(d) for d in (root / "include", root / "targets" / "x86_64-linux" / "include")
               if (d / "curand.h").exists()]
    info["curand"] = {"wheel": paths[0] if paths else None, "toolkit": toolkit}
    if not paths and not toolkit:
        log("WARNING: no curand.h (neither the nvidia-curand wheel nor the CUDA toolkit): "
            "cuda_standalone compiles will fail")
    return info


def machine() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import machine as bench_machine

    m = bench_machine()
    m["hostname"] = platform.node()
    try:
        with open("/proc/meminfo") as fh:
            m["memory_gib"] = round(int(fh.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return m


# ---------------------------------------------------------------------------- inputs, networks
def drive(n: int, steps: int, channels: int = 3, seed: int = 0):
    """Deterministic 3-channel input current (as tests/conftest.py): 150 pA +- a random walk."""
    import lnp_brian as lb

    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(size=(steps, channels)), axis=0) / np.sqrt(np.arange(1, steps + 1))[:, None]
    values = 150e-12 + 60e-12 * walk
    weights = rng.uniform(0.5, 1.5, size=(channels, n))
    return lb.Stimulus(values, dt=f"{DT * 1e3} ms", weights=weights)


def hrsnn_network(n: int, k: float, seed: int):
    import lnp_brian as lb
    from lnp_brian.network.connectivity import DENSE_MAX_N

    conn = {"kind": "random", "p": min(1.0, k / n)}
    t0 = time.perf_counter()
    net = lb.build_network("hrsnn", n=n, seed=seed, connectivity=conn)
    # build_network's sampler: the original dense one up to DENSE_MAX_N neurons (the same
    # networks as before for a given seed), the O(synapses) sparse one above
    how = f"build_network ({'dense' if n <= DENSE_MAX_N else 'sparse'} connectivity sampler)"
    return net, {"neurons": n, "synapses": int(len(net.pre)), "synapses_per_neuron": len(net.pre) / n,
                 "connection_probability": conn["p"], "connectivity": how,
                 "build_network_s": time.perf_counter() - t0}


# ---------------------------------------------------------------------------- bookkeeping
class Bench:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out)
        self.work = Path(args.work or tempfile.mkdtemp(prefix="lnp_gpu_check_"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.results = {"format": "lnp_brian.bench_gpu/1",
                        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "args": vars(args), "budget_s": args.budget, "checks": {}, "hrsnn": {},
                        "speed": [], "lorenz63": {}, "lyapunov_batch": {}, "skipped": [], "errors": []}
        self.compile_s = {"cpp_standalone": [], "cuda_standalone": []}
        self.compile_by_kind: dict[tuple, float] = {}  # (device, kind) -> last compile seconds
        self.run_s: dict[tuple, float] = {}  # (device, kind, n) -> binary seconds
        self.cuda_broken: str | None = None
        self._dirs_used: set[Path] = set()

    # --- time
    def elapsed(self) -> float:
        return time.perf_counter() - T0

    def predict_build(self, device: str, kind: str | None = None) -> float:
        """A build's predicted seconds: like the last of its kind (same build directory),
        else the longest seen on that device, else a guess (cuda: 150 s)."""
        if (device, kind) in self.compile_by_kind:
            return 1.3 * self.compile_by_kind[(device, kind)] + 10
        seen = self.compile_s[device]
        return 1.2 * max(seen) + 10 if seen else (150.0 if device == "cuda_standalone" else 40.0)

    def record_compile(self, device: str, kind: str, seconds: float):
        self.compile_s[device].append(seconds)
        self.compile_by_kind[(device, kind)] = seconds

    def predict_run(self, device: str, kind: str, n: int, repeats: int = 1) -> float:
        known = [(m, s) for (d, k, m), s in self.run_s.items() if d == device and k == kind]
        if not known:
            return 10.0 * repeats
        m, s = max(known)
        return repeats * (2.0 + 1.5 * s * max(1.0, n / m))

    def fits(self, what: str, predicted: float) -> bool:
        if self.elapsed() + predicted <= self.args.budget:
            return True
        self.skip(what, f"elapsed {self.elapsed():.0f} s + predicted {predicted:.0f} s > budget "
                        f"{self.args.budget:.0f} s")
        return False

    def skip(self, what: str, why: str):
        self.results["skipped"].append({"what": what, "why": why})
        log(f"skipped {what}: {why}")

    def error(self, what: str, exc: BaseException):
        self.results["errors"].append({"what": what, "error": f"{type(exc).__name__}: {exc}",
                                       "traceback": traceback.format_exc(limit=6)})
        log(f"ERROR in {what}: {type(exc).__name__}: {exc}")

    def save(self):
        from lnp_brian.core.files import write_json

        self.results["elapsed_s"] = self.elapsed()
        write_json(self.out / "results_gpu.json", self.results)

    def check(self, name: str, passed: bool, **detail):
        self.results["checks"][name] = {"passed": bool(passed), **detail}
        log(f"check {name}: {'PASS' if passed else 'FAIL'} {json.dumps(detail, default=float)}")

    # --- builds
    def build_dir(self, device: str, kind: str, n: int) -> tuple[Path, bool]:
        name = f"{kind}_{device}" + (f"_{n}" if self.args.fresh_builds else "")
        d = self.work / name
        incremental = d in self._dirs_used
        self._dirs_used.add(d)
        return d, incremental

    def simulate(self, net, device: str, kind: str, stim, repeats: int) -> tuple[dict, object]:
        """Build (timed) and run ``repeats`` times; returns (timings, first result)."""
        import lnp_brian as lb

        d, incremental = self.build_dir(device, kind, net.n)
        threads = self.args.threads if device == "cpp_standalone" else 0
        t0 = time.perf_counter()
        sim = lb.Simulator(net, device, duration=f"{DURATION} s", inputs=stim, threads=threads, build_dir=d)
        build = time.perf_counter() - t0
        compile_s = float(sim.timings.get("compile") or 0.0)
        self.record_compile(device, kind, compile_s)
        log(f"{kind} N={net.n} {device}: built in {build:.1f} s (compile {compile_s:.1f} s"
            f"{', incremental' if incremental else ''})")
        runs, binary, first = [], [], None
        for k in range(repeats):
            res = sim.run(seed=self.args.seed)
            runs.append(res.info["run_seconds"])
            binary.append(sim.timings["last_run_binary"])
            if first is None:
                first = res
            else:
                first.info.setdefault("repeat_spike_counts", []).append(len(res.spike_t))
            del res
        self.run_s[(device, kind, net.n)] = min(binary)
        out = {"build_s": build, "compile_s": compile_s, "incremental": incremental, "threads": threads,
               "run_s": runs, "binary_s": binary, "realtime_factor": min(binary) / DURATION,
               "spikes": int(len(first.spike_t)), "mean_rate_hz": float(len(first.spike_t) / net.n / DURATION)}
        if "repeat_spike_counts" in first.info:
            out["repeat_spike_counts"] = first.info["repeat_spike_counts"]
        log(f"{kind} N={net.n} {device}: run {min(binary):.2f} s binary ({min(runs):.2f} s with I/O), "
            f"real-time factor {out['realtime_factor']:.2f}, {out['mean_rate_hz']:.2f} Hz")
        del sim
        gc.collect()
        return out, first

    def cuda_ok(self, what: str) -> bool:
        if self.cuda_broken:
            self.skip(what, f"an earlier cuda_standalone build failed: {self.cuda_broken.splitlines()[0]}")
            return False
        return True

    def note_cuda_failure(self, exc: BaseException):
        from lnp_brian.simulation.simulator import BackendError

        if isinstance(exc, BackendError) and "compilation failed" in str(exc):
            self.cuda_broken = str(exc)

    # ------------------------------------------------------------------------ steps
    def step_hrsnn_check(self):
        """Step 1: the same network and input on both devices; rates compared."""
        from scipy.stats import ks_2samp

        n = self.args.check_n
        predicted = self.predict_build("cuda_standalone") + self.predict_build("cpp_standalone") + 40
        if not self.cuda_ok("hrsnn check") or not self.fits(f"hrsnn check N={n}", predicted):
            return
        net, row = hrsnn_network(n, self.args.k, self.args.seed)
        stim = drive(n, int(round(DURATION / DT)), seed=self.args.seed)
        self.results["hrsnn"] = row
        results = {}
        for device in ("cuda_standalone", "cpp_standalone"):
            try:
                row[device], results[device] = self.simulate(
                    net, device, "hrsnn", stim, self.args.repeats if device == "cuda_standalone" else 1)
            except Exception as exc:  # noqa: BLE001 (recorded, the other steps go on)
                self.error(f"hrsnn N={n} {device}", exc)
                if device == "cuda_standalone":
                    self.note_cuda_failure(exc)
            self.save()
        if len(results) < 2:
            self.check("hrsnn_rates", False, why="a device did not run")
            return
        cpp, gpu = results["cpp_standalone"], results["cuda_standalone"]
        r_cpp, r_gpu = cpp.rates(), gpu.rates()
        rel = abs(r_gpu.mean() - r_cpp.mean()) / max(r_cpp.mean(), 1e-12)
        ks = ks_2samp(r_cpp, r_gpu)
        corr = float(np.corrcoef(r_cpp, r_gpu)[0, 1]) if r_cpp.std() > 0 and r_gpu.std() > 0 else float("nan")
        self.check("hrsnn_population_rate", rel <= 0.02 and r_cpp.mean() > 0.5, neurons=n,
                   cpp_hz=float(r_cpp.mean()), cuda_hz=float(r_gpu.mean()), relative_difference=float(rel),
                   tolerance=0.02)
        self.check("hrsnn_rate_distribution_ks", ks.pvalue > 0.01, statistic=float(ks.statistic),
                   pvalue=float(ks.pvalue), threshold=0.01, per_neuron_rate_correlation=corr,
                   spikes_identical_until_s=_identical_until(cpp, gpu))
        self.results["speed"].append(_speedup(row))
        del results, cpp, gpu, net
        gc.collect()

    def step_lorenz(self):
        """Step 2: λ_max of Lorenz63 on both devices (and the GPU's copy throughput)."""
        import lnp_brian as lb
        from lnp_brian.lyapunov import finite_size as ly

        if not self.cuda_ok("lorenz63"):
            return
        predicted = self.predict_build("cuda_standalone") + self.predict_build("cpp_standalone") + 60
        if not self.fits("lorenz63", predicted):
            return
        net = lb.build_network("lorenz63")
        kw = dict(perturbation=1e-6, transient="10 s", seed=self.args.seed)
        out = {"duration_s": 300.0, "interval_s": 0.1, "perturbation": 1e-6, "transient_s": 10.0}
        self.results["lorenz63"] = out
        for device, copies in (("cuda_standalone", self.args.lyap_copies),
                               ("cpp_standalone", self.args.lyap_cpp_copies)):
            try:
                d, _ = self.build_dir(device, "lorenz63", 1)
                t0 = time.perf_counter()
                eng = ly.TwoTrajectory(net, device, perturbed=copies, duration="300 s", interval="100 ms",
                                       build_dir=d)
                build = time.perf_counter() - t0
                compile_s = float(eng.sim.timings.get("compile") or 0.0)
                self.record_compile(device, "lorenz63", compile_s)
                res = ly.max_exponent(net, engine=eng, **kw)
                run = res.method["run_seconds"]
                out[device] = {"copies": copies, "build_s": build, "compile_s": compile_s, "run_s": run,
                               "binary_s": eng.sim.timings.get("last_run_binary"),
                               "lambda_max": res.lambda_max, "lambda_max_stderr": res.lambda_max_stderr,
                               "collapsed_intervals": res.collapsed,
                               "copy_seconds_per_s": copies * 300.0 / run}
                log(f"lorenz63 {device}: {copies} copies, compile {compile_s:.1f} s, run {run:.2f} s, "
                    f"lambda_max {res.lambda_max:.3f} +- {res.lambda_max_stderr:.3f} /s, "
                    f"{copies * 300.0 / run:.3g} copy-seconds per second")
                del eng, res
            except Exception as exc:  # noqa: BLE001
                self.error(f"lorenz63 {device}", exc)
                if device == "cuda_standalone":
                    self.note_cuda_failure(exc)
            self.save()
        if "cuda_standalone" in out and "cpp_standalone" in out:
            c, g = out["cpp_standalone"], out["cuda_standalone"]
            tol = max(0.05, 3 * float(np.hypot(c["lambda_max_stderr"], g["lambda_max_stderr"])))
            diff = abs(c["lambda_max"] - g["lambda_max"])
            near = all(abs(x["lambda_max"] - LORENZ_LAMBDA) < 0.1 for x in (c, g))
            self.check("lorenz63_lambda_max", diff <= tol and near, cpp=c["lambda_max"], cuda=g["lambda_max"],
                       difference=diff, tolerance=tol, reference=LORENZ_LAMBDA)
        else:
            self.check("lorenz63_lambda_max", False, why="a device did not run")

    def step_speed(self):
        """Step 3: the larger sizes, smallest first, until the budget is used."""
        done = [r["neurons"] for r in self.results["speed"]]
        for n in sorted(self.args.sizes):
            if n in done:
                continue
            if not self.cuda_ok(f"speed N={n}"):
                return
            net_s = 3.0 + 10.0 * n / 100_000
            p_cuda = self.predict_build("cuda_standalone", "hrsnn") + self.predict_run(
                "cuda_standalone", "hrsnn", n, self.args.repeats)
            if not self.fits(f"speed N={n} (and larger)", net_s + p_cuda):
                return
            net, row = hrsnn_network(n, self.args.k, self.args.seed)
            log(f"speed N={n}: {row['synapses']} synapses, network built in {row['build_network_s']:.1f} s")
            stim = drive(n, int(round(DURATION / DT)), seed=self.args.seed)
            self.results["speed"].append(row)
            try:
                row["cuda_standalone"], res = self.simulate(net, "cuda_standalone", "hrsnn", stim, self.args.repeats)
                del res
            except Exception as exc:  # noqa: BLE001
                self.error(f"speed N={n} cuda_standalone", exc)
                self.note_cuda_failure(exc)
            self.save()
            if self.args.skip_cpp_large:
                self.skip(f"speed N={n} cpp_standalone", "--skip-cpp-large")
            elif self.fits(f"speed N={n} cpp_standalone", self.predict_build("cpp_standalone", "hrsnn")
                           + self.predict_run("cpp_standalone", "hrsnn", n)):
                try:
                    row["cpp_standalone"], res = self.simulate(net, "cpp_standalone", "hrsnn", stim, 1)
                    del res
                except Exception as exc:  # noqa: BLE001
                    self.error(f"speed N={n} cpp_standalone", exc)
            _speedup(row)
            self.save()
            del net, stim
            gc.collect()

    def step_batch(self):
        """Step 4: batched Lyapunov perturbation copies of a spiking network."""
        from lnp_brian.lyapunov import finite_size as ly

        if not self.cuda_ok("lyapunov batch"):
            return
        n, copies = 1000, self.args.batch_copies
        if not self.fits("lyapunov batch", self.predict_build("cuda_standalone") + 20):
            return
        net, row = hrsnn_network(n, self.args.k, self.args.seed)
        stim = drive(n, int(round(DURATION / DT)), seed=self.args.seed)
        row.update(perturbed_copies=copies, duration_s=DURATION, interval_s=0.01, perturbation=1.0)
        self.results["lyapunov_batch"] = row
        devices = ["cuda_standalone"] + ([] if self.args.skip_cpp_large else ["cpp_standalone"])
        if self.args.skip_cpp_large:
            self.skip("lyapunov batch cpp_standalone", "--skip-cpp-large")
        for device in devices:
            if device == "cpp_standalone" and not self.fits(
                    "lyapunov batch cpp_standalone",
                    self.predict_build(device) + 10 + 1.5 * copies * n / 1e5 * self._cpp_seconds_per_1e5()):
                break
            try:
                d, _ = self.build_dir(device, "batch", n)
                t0 = time.perf_counter()
                eng = ly.TwoTrajectory(net, device, perturbed=copies, duration=f"{DURATION} s", interval="10 ms",
                                       inputs=stim, build_dir=d,
                                       threads=self.args.threads if device == "cpp_standalone" else 0)
                build = time.perf_counter() - t0
                compile_s = float(eng.sim.timings.get("compile") or 0.0)
                self.record_compile(device, "batch", compile_s)
                res = ly.max_exponent(net, engine=eng, perturbation=1.0, transient="200 ms", seed=self.args.seed)
                run = res.method["run_seconds"]
                row[device] = {"build_s": build, "compile_s": compile_s, "run_s": run,
                               "binary_s": eng.sim.timings.get("last_run_binary"),
                               "lambda_max": res.lambda_max, "lambda_max_stderr": res.lambda_max_stderr,
                               "copies_per_s": copies * DURATION / run}
                log(f"lyapunov batch {device}: {copies} copies of N={n}, compile {compile_s:.1f} s, run {run:.2f} s "
                    f"= {copies * DURATION / run:.1f} copy-seconds per second")
                del eng, res
            except Exception as exc:  # noqa: BLE001
                self.error(f"lyapunov batch {device}", exc)
                if device == "cuda_standalone":
                    self.note_cuda_failure(exc)
            self.save()
        if "cpp_standalone" in row and "cuda_standalone" in row:
            row["speedup_cuda_over_cpp"] = row["cpp_standalone"]["run_s"] / row["cuda_standalone"]["run_s"]

    def _cpp_seconds_per_1e5(self) -> float:
        """cpp_standalone binary seconds per 100,000 neurons and 1 s, from the runs so far."""
        known = [(m, s) for (d, k, m), s in self.run_s.items() if d == "cpp_standalone" and k == "hrsnn"]
        if not known:
            return 10.0
        m, s = max(known)
        return s * 1e5 / m

    def finish(self) -> int:
        self.save()
        print_table(self.results)
        failed = [k for k, v in self.results["checks"].items() if not v["passed"]]
        not_run = [c for step in self.args.steps for c in REQUIRED.get(step, ())
                   if c not in self.results["checks"]]
        if not_run:
            self.results["checks_not_run"] = not_run
            self.save()
            failed += [f"{c} (not run)" for c in not_run]
        if not self.args.keep_builds:
            shutil.rmtree(self.work, ignore_errors=True)
        log(f"results in {self.out / 'results_gpu.json'}; checks failed: {failed or 'none'}; "
            f"errors: {len(self.results['errors'])}; skipped: {len(self.results['skipped'])}")
        return 1 if failed or self.results["errors"] else 0


def _speedup(row: dict) -> dict:
    if "cpp_standalone" in row and "cuda_standalone" in row:
        row["speedup_cuda_over_cpp"] = (min(row["cpp_standalone"]["binary_s"])
                                        / min(row["cuda_standalone"]["binary_s"]))
    return row


def _identical_until(a, b) -> float | None:
    """Simulated time up to which two runs have the same spikes (None: all identical)."""
    ta, ia = a.spike_t, a.spike_i
    tb, ib = b.spike_t, b.spike_i
    k = min(len(ta), len(tb))
    differ = np.flatnonzero((np.abs(ta[:k] - tb[:k]) > 1e-9) | (ia[:k] != ib[:k]))
    if differ.size:
        return float(min(ta[differ[0]], tb[differ[0]]))
    if len(ta) != len(tb):
        return float((ta if len(ta) > k else tb)[k])
    return None


def print_table(r: dict) -> None:
    gpu = (r.get("machine_gpu") or {}).get("gpu") or {}
    print(f"\nGPU check: {gpu.get('name', '?')}, {r.get('machine', {}).get('cores', '?')} cores, "
          f"{r.get('elapsed_s', 0):.0f} s")
    print(f"{'what':<28}{'N':>8}{'synapses':>11}  {'device':<16}{'compile s':>10}{'run s':>9}{'RTF':>8}{'rate Hz':>9}")
    for row in r.get("speed", []):
        for device in ("cuda_standalone", "cpp_standalone"):
            d = row.get(device)
            if d:
                print(f"{'hrsnn 1 s':<28}{row['neurons']:>8}{row['synapses']:>11}  {device:<16}{d['compile_s']:>10.1f}"
                      f"{min(d['binary_s']):>9.2f}{d['realtime_factor']:>8.2f}{d['mean_rate_hz']:>9.2f}")
        if "speedup_cuda_over_cpp" in row:
            print(f"{'':<28}{'':>8}{'':>11}  cuda speed-up over cpp ({row['cpp_standalone']['threads']} threads): "
                  f"{row['speedup_cuda_over_cpp']:.1f}x")
    lor = r.get("lorenz63", {})
    for device in ("cuda_standalone", "cpp_standalone"):
        d = lor.get(device)
        if d:
            print(f"{'lorenz63 lambda_max':<28}{d['copies']:>8}{'copies':>11}  {device:<16}{d['compile_s']:>10.1f}"
                  f"{d['run_s']:>9.2f}  lambda {d['lambda_max']:.3f} +- {d['lambda_max_stderr']:.3f} /s, "
                  f"{d['copy_seconds_per_s']:.3g} copy-s/s")
    bat = r.get("lyapunov_batch", {})
    for device in ("cuda_standalone", "cpp_standalone"):
        d = bat.get(device)
        if d:
            print(f"{'hrsnn lyapunov batch':<28}{bat['neurons']:>8}{bat['perturbed_copies']:>8} cp  {device:<16}"
                  f"{d['compile_s']:>10.1f}{d['run_s']:>9.2f}  {d['copies_per_s']:.1f} copy-s/s")
    for name, c in r.get("checks", {}).items():
        detail = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in c.items() if k != "passed")
        print(f"check {name:<32} {'PASS' if c['passed'] else 'FAIL'}  {detail}")
    for s in r.get("skipped", []):
        print(f"skipped {s['what']}: {s['why']}")
    for e in r.get("errors", []):
        print(f"ERROR {e['what']}: {e['error'].splitlines()[0]}")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:  # Brian2 imports distutils, gone from Python 3.12: setuptools puts its own in place
        import setuptools  # noqa: F401  (else only its .pth file does, which PYTHONPATH skips)
    except ImportError:
        pass
    from lnp_brian.simulation.simulator import GPUUnavailable

    try:
        gpu = preflight()
    except GPUUnavailable as exc:
        print(f"GPUUnavailable: {exc}", file=sys.stderr)
        return EXIT_NO_GPU
    log(f"GPU {gpu['gpu']['name']} (compute capability {gpu['gpu']['compute_capability']}), "
        f"nvcc {gpu['cuda_release']} at {gpu['nvcc']}, cuRAND {gpu['curand']}")
    bench = Bench(args)
    bench.results["machine_gpu"] = gpu
    bench.results["machine"] = machine()
    log(f"{bench.results['machine']['cores']} cores, {bench.results['machine']['cpu']}; budget {args.budget:.0f} s; "
        f"builds in {bench.work}")
    bench.save()
    steps = {"hrsnn": bench.step_hrsnn_check, "lorenz63": bench.step_lorenz, "speed": bench.step_speed,
             "batch": bench.step_batch}
    for name in args.steps:
        try:
            steps[name]()
        except Exception as exc:  # noqa: BLE001 (a broken step is recorded; the others go on)
            bench.error(name, exc)
        bench.save()
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
