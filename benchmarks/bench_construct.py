"""Network construction: build_network with the O(synapses) sparse connectivity sampler
against the original dense one (one uniform draw per ordered pair, O(N^2)).

1. ``random``: ``build_network("hrsnn", n=N, connectivity={"kind": "random", "p": 100 / N})``
   (about 100 synapses per neuron: 10 M synapses at N = 100,000) with each sampler. Sparse at
   N = 20,000 / 50,000 / 100,000, dense at 20,000 and 100,000 (the dense one takes about
   1.5 minutes at 100,000 neurons, so it runs once). Wall time of build_network and of the
   connect() call inside it, the ratios dense / sparse (measured in this run), peak memory,
   and the out- and in-degree mean and standard deviation (Binomial(N - 1, p): mean 100, sd
   about 10, whichever the sampler).
2. The other kinds, about 100 synapses per neuron: ``clustered`` (chrsnn's four clusters,
   p_within = 10 p_between) and ``watts_strogatz`` (hrsnn, k = 100, beta = 0.1), dense and
   sparse at 20,000 neurons and sparse at 100,000.

Memory: the resident-set high-water mark (VmHWM, reset through /proc/self/clear_refs just
before; Linux) above the resident set when the call began, for the whole build_network call
("build peak", GiB) and for its connect() call ("conn. peak", and per synapse "B/syn"),
output included. (Not tracemalloc, which would slow the dense Watts-Strogatz rewiring loop
several times over.) Each build runs in a child forked from the benchmark's process after
the imports, so each starts from the same clean heap without importing Brian2 again.
"rest s" is build_network without connect(): neuron and synapse parameters, weights and the
Network checks, the same for both samplers. build_network() itself uses method "auto" (dense
up to 20,000 neurons); here each build sets the method. `--quick`: N = 5,000 and 20,000, both
samplers, all kinds at 20,000 (under a minute). Writes the "construct" section of benchmarks/results.json.
Target (issue tracker): build_network at 100,000 neurons and 10 M synapses >= 20x faster
than with the dense sampler.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # 2 shared cores: one BLAS thread

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
K = 100.0  # synapses per neuron
TARGET_SPEEDUP = 20.0  # build_network at 100,000 neurons, sparse over dense
GIB = 2.0 ** 30


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset this process's resident-set high-water mark (VmHWM; Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def connectivity(kind: str, n: int, k: float = K) -> tuple[str, dict]:
    """(model, connectivity table) with about k synapses per neuron."""
    import lnp_brian as lb
    from lnp_brian.network.network import connectivity_with_p

    if kind == "random":
        return "hrsnn", connectivity_with_p("hrsnn", min(1.0, k / n))
    if kind == "clustered":  # chrsnn's clusters, p_within = 10 p_between
        fractions = [c.fraction for c in lb.load_model("chrsnn").network.clusters]
        same = sum(f * f for f in fractions)
        p_between = k / (n * (10 * same + (1 - same)))
        return "chrsnn", {"kind": "clustered", "p_within": 10 * p_between, "p_between": p_between}
    if kind == "watts_strogatz":
        return "hrsnn", {"kind": "watts_strogatz", "k": int(k), "beta": 0.1}
    raise ValueError(kind)


# ---- one build_network ------------------------------------------------------------------------
def build_once(kind: str, n: int, method: str, seed: int) -> dict:
    """build_network with the connect() inside it timed and its sampler set to ``method``."""
    import gc

    import numpy as np

    import lnp_brian as lb
    import lnp_brian.network.network as netmod
    from lnp_brian.network import connectivity as C

    model, conn = connectivity(kind, n)
    lb.load_model(model)  # (parsed once, outside the timing)
    gc.collect()
    rss0 = _status_kib("VmRSS")
    hwm_ok = reset_peak_rss()
    inside = {}

    def connect(n_, spec, rng, cluster=None):
        rss = _status_kib("VmRSS")
        hwm = _status_kib("VmHWM")
        ok = reset_peak_rss()
        t0 = time.perf_counter()
        out = C.connect(n_, spec, rng, cluster, method=method)
        inside["connect_s"] = time.perf_counter() - t0
        inside["connect_peak_bytes"] = (_status_kib("VmHWM") - rss) * 1024 if ok and rss else None
        if ok and hwm:  # (the build's own high-water mark so far: kept by hand across the reset)
            inside["hwm_before_connect"] = hwm
        return out

    real = netmod.connect
    netmod.connect = connect
    try:
        t0 = time.perf_counter()
        net = lb.build_network(model, n=n, seed=seed, connectivity=conn)
        build_s = time.perf_counter() - t0
    finally:
        netmod.connect = real
    hwm = _status_kib("VmHWM")
    if hwm and "hwm_before_connect" in inside:
        hwm = max(hwm, inside["hwm_before_connect"])
    m = int(len(net.pre))
    peak = inside["connect_peak_bytes"]
    out_deg, in_deg = np.bincount(net.pre, minlength=n), np.bincount(net.post, minlength=n)
    del net
    gc.collect()
    build_peak = (hwm - rss0) * 1024 if hwm_ok and hwm and rss0 else None
    return {"kind": kind, "model": model, "connectivity": conn, "neurons": n, "method": method, "seed": seed,
            "synapses": m, "build_network_s": round(build_s, 3), "connect_s": round(inside["connect_s"], 3),
            "rest_of_build_s": round(build_s - inside["connect_s"], 3),
            "connect_peak_gib": None if peak is None else round(peak / GIB, 3),
            "connect_peak_bytes_per_synapse": None if peak is None else round(peak / max(m, 1), 1),
            "build_peak_gib": None if build_peak is None else round(build_peak / GIB, 3),
            "rss0_gib": None if rss0 is None else round(rss0 * 1024 / GIB, 3),
            "out_degree": [round(float(out_deg.mean()), 3), round(float(out_deg.std()), 3)],
            "in_degree": [round(float(in_deg.mean()), 3), round(float(in_deg.std()), 3)]}


def build_forked(kind: str, n: int, method: str, seed: int) -> dict:
    """build_once in a child forked from this process: Brian2 is imported once (~10 s here),
    and every build starts from the same clean heap, so its memory figures are its own."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    try:
        ctx = mp.get_context("fork")
    except ValueError:  # (no fork: in this process)
        return build_once(kind, n, method, seed)
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(build_once, kind, n, method, seed).result()


def run_one(kind: str, n: int, method: str, seed: int, repeats: int) -> dict:
    runs = [build_forked(kind, n, method, seed) for _ in range(max(1, repeats))]
    row = min(runs, key=lambda r: r["build_network_s"])
    if len(runs) > 1:
        row["build_network_all_s"] = [r["build_network_s"] for r in runs]
        row["connect_all_s"] = [r["connect_s"] for r in runs]
        row["connect_s"] = min(r["connect_s"] for r in runs)
    print(f"  {kind:15s} N={n:>7} {method:6s}: build_network {row['build_network_s']:7.2f} s "
          f"(connect {row['connect_s']:7.2f} s), {row['synapses']:>9} synapses, "
          f"build peak {_num(row['build_peak_gib'], 0, 2)} GiB", flush=True)
    return row


def ratios(rows: list[dict]) -> list[dict]:
    """dense / sparse of the same kind and size, measured in this run."""
    out = []
    by = {(r["kind"], r["neurons"], r["method"]): r for r in rows}
    for (kind, n, method), s in sorted(by.items()):
        d = by.get((kind, n, "dense"))
        if method != "sparse" or d is None:
            continue
        out.append({"kind": kind, "neurons": n, "synapses_sparse": s["synapses"], "synapses_dense": d["synapses"],
                    "build_network_speedup": round(d["build_network_s"] / s["build_network_s"], 2),
                    "connect_speedup": round(d["connect_s"] / s["connect_s"], 1),
                    "build_network_dense_s": d["build_network_s"], "build_network_sparse_s": s["build_network_s"],
                    "connect_dense_s": d["connect_s"], "connect_sparse_s": s["connect_s"],
                    "build_peak_dense_gib": d["build_peak_gib"], "build_peak_sparse_gib": s["build_peak_gib"],
                    "connect_peak_dense_gib": d["connect_peak_gib"], "connect_peak_sparse_gib": s["connect_peak_gib"]})
    return out


def _num(x, width: int, digits: int) -> str:
    return f"{'-':>{width}s}" if x is None else f"{x:>{width}.{digits}f}"


def print_table(section: dict) -> None:
    print(f"\nNetwork construction (about {K:.0f} synapses per neuron; seconds; memory GiB)")
    head = (f"{'kind':15s}{'N':>8s} {'method':7s}{'synapses':>10s}{'build s':>9s}{'connect s':>10s}"
            f"{'rest s':>8s}{'conn. peak':>11s}{'B/syn':>7s}{'build peak':>11s}{'out deg':>14s}{'in deg':>14s}")
    print(head)
    print("-" * len(head))
    for r in section["rows"]:
        print(f"{r['kind']:15s}{r['neurons']:>8d} {r['method']:7s}{r['synapses']:>10d}{r['build_network_s']:>9.2f}"
              f"{r['connect_s']:>10.2f}{r['rest_of_build_s']:>8.2f}{_num(r['connect_peak_gib'], 11, 3)}"
              f"{_num(r['connect_peak_bytes_per_synapse'], 7, 0)}{_num(r['build_peak_gib'], 11, 3)}"
              f"{r['out_degree'][0]:>8.1f}+-{r['out_degree'][1]:<4.1f}{r['in_degree'][0]:>8.1f}+-{r['in_degree'][1]:<4.1f}")
    print("\ndense / sparse (same run):")
    for q in section["ratios"]:
        print(f"  {q['kind']:15s} N={q['neurons']:>7d}: build_network {q['build_network_dense_s']:.2f} s / "
              f"{q['build_network_sparse_s']:.2f} s = {q['build_network_speedup']:.1f}x;  connect "
              f"{q['connect_dense_s']:.2f} s / {q['connect_sparse_s']:.2f} s = {q['connect_speedup']:.0f}x")
    t = section.get("target")
    if t:
        print(f"\ntarget: build_network >= {t['speedup']:.0f}x faster at N = {t['neurons']}: "
              f"{t['measured']:.1f}x -> {'met' if t['met'] else 'NOT met'} (connect alone: {t['connect_speedup']:.0f}x)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="N = 5,000 and 20,000 only (about 40 s)")
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                   help="random: sizes with the sparse sampler (default 20000,50000,100000)")
    p.add_argument("--dense-sizes", type=lambda s: [int(x) for x in s.split(",") if x],
                   help="random: sizes with the dense sampler too (default 20000,100000)")
    p.add_argument("--kinds-sizes", type=lambda s: [int(x) for x in s.split(",") if x],
                   help="clustered and watts_strogatz: sizes (default 20000,100000; dense at 20000 only)")
    p.add_argument("--repeats", type=int, default=1, help="builds of each row, the fastest counts (default 1)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)

    sizes = args.sizes or ([5_000, 20_000] if args.quick else [20_000, 50_000, 100_000])
    dense_sizes = args.dense_sizes if args.dense_sizes is not None else (
        [5_000, 20_000] if args.quick else [20_000, 100_000])
    kinds_sizes = args.kinds_sizes if args.kinds_sizes is not None else (
        [20_000] if args.quick else [20_000, 100_000])
    from lnp_brian.network.connectivity import DENSE_MAX_N

    plan = [("random", n, "sparse") for n in sizes] + [("random", n, "dense") for n in dense_sizes]
    for kind in ("clustered", "watts_strogatz"):
        plan += [(kind, n, "sparse") for n in kinds_sizes]
        plan += [(kind, n, "dense") for n in kinds_sizes if n <= DENSE_MAX_N]
    t0 = time.perf_counter()
    import lnp_brian as lb

    for model in ("hrsnn", "chrsnn"):  # imported and parsed before the children are forked
        lb.load_model(model)
    print(f"{len(plan)} builds, about {K:.0f} synapses per neuron, seed {args.seed}", flush=True)
    rows = [run_one(kind, n, method, args.seed, args.repeats) for kind, n, method in plan]
    rows.sort(key=lambda r: (r["kind"] != "random", r["kind"], r["neurons"], r["method"]))
    section = {"machine": None, "quick": args.quick, "synapses_per_neuron": K, "dense_max_n": DENSE_MAX_N,
               "repeats": args.repeats, "peak_memory_source": "VmHWM" if reset_peak_rss() else None,
               "rows": rows, "ratios": ratios(rows), "wall_s": round(time.perf_counter() - t0, 1)}
    big = [q for q in section["ratios"] if q["kind"] == "random" and q["neurons"] >= 100_000]
    if big:
        q = max(big, key=lambda q: q["neurons"])
        section["target"] = {"neurons": q["neurons"], "speedup": TARGET_SPEEDUP,
                             "measured": q["build_network_speedup"], "connect_speedup": q["connect_speedup"],
                             "met": q["build_network_speedup"] >= TARGET_SPEEDUP}
    sys.path.insert(0, str(HERE))
    from common import machine, save_section

    section["machine"] = machine()
    save_section("construct", section)
    print_table(section)
    print(f"\n{section['wall_s']:.0f} s in all; benchmarks/results.json section \"construct\"")
    return 0


if __name__ == "__main__":
    sys.exit(main())
