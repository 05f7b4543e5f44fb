"""Spectral sparsification and neuron-pruning centrality (docs/method.md, steps 4-5) at LNP scale.

1. sparsify_synapses at a 50 % target on directed signed HRSNN networks (Dale's law, lognormal
   weights, random connectivity): 1,000 and 4,000 neurons at p = 0.1 (0.1 M / 1.6 M synapses)
   and 20,000 neurons at p = 0.01 (4 M synapses). Wall time end to end and per step
   (resistances = symmetrize + effective_resistances, rho, sampling), the method "auto" chose
   and the number of random projections, peak memory (tracemalloc peak of the call, and the
   process's max RSS -- each size runs in its own worker process so max RSS is its own),
   Foster's theorem (sum of a R over edges = n - components) as an accuracy check at every
   size, and at n <= 4,000 the other method's time and error against the exact resistances.
   Targets (issue tracker): 4,000 neurons in under 5 s; 20,000 neurons in under 2 minutes and
   8 GiB on 2 cores.
2. PyGSP 0.6.1's reduction.graph_sparsify on the same kind of graph (symmetrised HRSNN,
   n = 2,000 at p = 0.1 by default, stepping down if memory is short): wall time and max RSS,
   and its effective resistances (pygsp.utils.resistance_distance, which is what its
   sparsifier samples by) against the exact ones, beside ours. Optional: needs PyGSP on
   LNP_PYGSP_PATH or --pygsp-path (e.g. `pip install --target /tmp/pygsp_site --no-deps
   pygsp==0.6.1`); a one-line shim restores scipy.stats.itemfreq, removed from SciPy.
3. Betweenness centrality (centrality.betweenness_sparse, networkit; edge length 1/|w|) of the
   1,000- and 4,000-neuron graphs left after sparsification: exact and with 100 pivots, wall
   time (target for 4,000 neurons with 100 pivots: under 2 s), the Spearman rank correlation
   between them and the overlap of the lowest-ranked 57 % (LNP's default neuron target).

Times are wall-clock seconds with one BLAS thread (OPENBLAS_NUM_THREADS=1 unless set;
networkit uses its own threads); compare ratios within one run. `--quick`: 1,000 and 4,000
neurons only, no 20k, no PyGSP, and no exact betweenness at 4,000 neurons (20-50 s; the rank
correlation is then measured at 1,000). Writes the "sparsify" section of
benchmarks/results.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # 2 shared cores: one BLAS thread

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402

HERE = Path(__file__).resolve().parent
TARGETS = {"n4000_total_s": 5.0, "n20000_total_s": 120.0, "n20000_max_rss_gib": 8.0,
           "betweenness_100_pivots_s": 2.0}
GIB = 2.0 ** 30


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # Linux: kB


def hrsnn_weights(n: int, p: float, seed: int = 1) -> sp.csr_matrix:
    import lnp_brian as lb

    net = lb.build_network("hrsnn", n=n, seed=seed, connectivity={"kind": "random", "p": p})
    return sp.csr_matrix(net.W)


@contextlib.contextmanager
def count_projections():
    """Counts the random-projection columns the approximate path solves for (0 = exact)."""
    from lnp_brian.graph import sparsify as S

    columns = []
    real = S._LaplacianSolver.solve

    def solve(self, Y):
        columns.append(Y.shape[1])
        return real(self, Y)

    S._LaplacianSolver.solve = solve
    try:
        yield columns
    finally:
        S._LaplacianSolver.solve = real


# ---- worker: sparsify_synapses on one network ----------------------------------------------------
def worker_sparsify(w_path: str, out_path: str, pruned_path: str | None) -> None:
    from lnp_brian.graph.sparsify import (effective_resistances, expected_count_rho,
                                    sparsify_synapses, symmetrize, upper_edges)

    W = sp.load_npz(w_path).tocsr()
    n, m = W.shape[0], W.nnz
    target = m / 2
    rss_loaded = max_rss_bytes()

    # end to end, as LNP calls it (the targets apply to this)
    with count_projections() as cols:
        t0 = time.perf_counter()
        res = sparsify_synapses(W, target=target, seed=0)
        total = time.perf_counter() - t0
    projections = int(sum(cols))

    # the steps, through the public functions
    t0 = time.perf_counter()
    A = symmetrize(W)
    i, j = upper_edges(A)
    R = effective_resistances(A, edges=(i, j), method="auto", seed=0)
    t_res = time.perf_counter() - t0
    scores = res.symmetric_weight * res.resistance
    t0 = time.perf_counter()
    rho = expected_count_rho(scores, target)
    t_rho = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = np.minimum(1.0, rho * scores)
    keep = np.random.default_rng(0).random(m) < p
    kept = sp.csr_matrix((W.data[keep], (res.pre[keep], res.post[keep])), shape=W.shape)
    t_sample = time.perf_counter() - t0
    assert kept.nnz == keep.sum()

    # peak traced memory of one call
    tracemalloc.start()
    sparsify_synapses(W, target=target, seed=0)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    ncomp, label = connected_components(A, directed=False)
    a = np.asarray(A[i, j]).ravel()
    foster = float(np.sum(a * R) / (n - ncomp) - 1)
    row = {
        "neurons": n, "synapses": m, "undirected_edges": int(len(i)), "target": target,
        "components": int(ncomp), "largest_component": int(np.bincount(label).max()),
        "method_auto": "approx" if projections else "exact", "projections": projections,
        "total_s": round(total, 3), "resistances_s": round(t_res, 3),
        "rho_s": round(t_rho, 4), "sampling_s": round(t_sample, 4),
        "kept": int(res.n_kept), "expected": round(res.expected, 3),
        "kept_vs_target": round(res.n_kept / target - 1, 5),
        "tracemalloc_peak_gib": round(traced_peak / GIB, 3),
        "max_rss_gib": round(max_rss_bytes() / GIB, 3),
        "rss_after_loading_W_gib": round(rss_loaded / GIB, 3),
        "foster_relative_deviation": foster,
    }
    if n <= 4000:                              # exact is affordable: time the other method
        other = "exact" if projections else "approx"
        with count_projections() as cols:
            t0 = time.perf_counter()
            R2 = effective_resistances(A, edges=(i, j), method=other, seed=0)
            row[f"{other}_resistances_s"] = round(time.perf_counter() - t0, 3)
        Rx, Ra = (R, R2) if other == "approx" else (R2, R)
        assert np.all(np.isfinite(Rx))
        rel = np.abs(Ra / Rx - 1)
        row["approx_projections"] = int(sum(cols)) if other == "approx" else projections
        row["approx_max_rel_error"] = float(rel.max())
        row["approx_median_rel_error"] = float(np.median(rel))
    if pruned_path:
        sp.save_npz(pruned_path, res.matrix(), compressed=False)
    Path(out_path).write_text(json.dumps(row))


# ---- worker: PyGSP ---------------------------------------------------------------------------------
def load_pygsp(path: str | None):
    """pygsp.reduction and pygsp.utils from ``path`` (or the environment), with the shim for
    scipy.stats.itemfreq (removed in SciPy 1.3) that PyGSP 0.6.1 still calls."""
    if path:
        sys.path.insert(0, path)
    import scipy.stats

    if not hasattr(scipy.stats, "itemfreq"):
        scipy.stats.itemfreq = lambda a: np.array(np.unique(a, return_counts=True)).T
    import pygsp
    from pygsp import reduction, utils

    return pygsp.__version__, reduction, utils


def worker_pygsp(a_path: str, out_path: str, pygsp_path: str | None, epsilon: float) -> None:
    from lnp_brian.graph.sparsify import laplacian, upper_edges

    version, reduction, utils = load_pygsp(pygsp_path)
    A = sp.load_npz(a_path).tocsr()
    L = laplacian(A)
    i, j = upper_edges(A)
    t0 = time.perf_counter()
    rd = utils.resistance_distance(L)
    t_rd = time.perf_counter() - t0
    R = np.asarray(rd.tocsr()[i, j]).ravel()
    del rd
    np.save(Path(out_path).with_suffix(".npy"), R)
    t0 = time.perf_counter()
    Ls = reduction.graph_sparsify(L, epsilon, seed=0)
    t_sp = time.perf_counter() - t0
    kept = int((sp.triu(sp.csr_matrix(Ls), k=1) != 0).sum())
    Path(out_path).write_text(json.dumps({
        "pygsp_version": version, "resistance_distance_s": round(t_rd, 3),
        "graph_sparsify_s": round(t_sp, 3), "kept_edges": kept,
        "max_rss_gib": round(max_rss_bytes() / GIB, 3)}))


def pygsp_memory_estimate(n: int, m: int, epsilon: float) -> float:
    """Bytes graph_sparsify needs: it samples q = round(0.16 n ln n / eps^2) edges through
    scipy.stats.rv_discrete, whose sampler compares every draw with all m cumulative
    probabilities (measured: 13.1 GB for n = 2000, m = 381k, q = 9.7k -- 3.5 bytes per pair)."""
    q = round(n * math.log(n) * 9 * (4 / 30.0) ** 2 / epsilon ** 2)
    return 3.6 * q * m + 1.5 * GIB


def mem_available() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    return float("inf")


def bench_pygsp(tmp: Path, pygsp_path: str | None, n_wanted: int, epsilon: float = 0.5) -> dict:
    from lnp_brian.graph.sparsify import (effective_resistances, sparsify_graph, sparsify_synapses,
                                    symmetrize, upper_edges)

    try:
        version = load_pygsp(pygsp_path)[0]
    except Exception as exc:  # ImportError, or PyGSP failing to import on this SciPy
        return {"skipped": f"PyGSP not importable ({type(exc).__name__}: {exc}); install it "
                           "with `pip install --target /tmp/pygsp_site --no-deps pygsp==0.6.1` "
                           "and pass --pygsp-path /tmp/pygsp_site or set LNP_PYGSP_PATH"}
    note = None
    for n in sorted({s for s in (n_wanted, 2000, 1500, 1000) if s <= n_wanted}, reverse=True):
        W = hrsnn_weights(n, 0.1, seed=2)
        A = symmetrize(W)
        A = A / A.data.mean()   # PyGSP zeroes weights below 1e-10 (synaptic SI units are ~1e-11)
        need = pygsp_memory_estimate(n, A.nnz // 2, epsilon)
        if need < mem_available() - 2 * GIB:
            break
        note = (f"n = {n} would need about {need / GIB:.1f} GiB, more than available; "
                "stepped down")
    else:
        return {"skipped": "not enough free memory for PyGSP even at n = 1000"}
    a_path, out_path = tmp / "pygsp_A.npz", tmp / "pygsp.json"
    sp.save_npz(a_path, A, compressed=False)
    print(f"PyGSP {version}: n = {n}, {A.nnz // 2} edges (estimated "
          f"{need / GIB:.1f} GiB) ...", flush=True)
    proc = subprocess.run([sys.executable, __file__, "--worker", "pygsp", str(a_path),
                           str(out_path), pygsp_path or "", str(epsilon)])
    if proc.returncode != 0:
        return {"skipped": f"PyGSP worker failed (exit {proc.returncode})", "neurons": n}
    row = json.loads(out_path.read_text())
    R_pygsp = np.load(out_path.with_suffix(".npy"))

    i, j = upper_edges(A)
    t0 = time.perf_counter()
    R_exact = effective_resistances(A, method="exact")
    t_exact = time.perf_counter() - t0
    with count_projections() as cols:
        t0 = time.perf_counter()
        R_approx = effective_resistances(A, method="approx", epsilon=0.3, seed=0)
        t_approx = time.perf_counter() - t0
    target = row["kept_edges"]
    t0 = time.perf_counter()
    res = sparsify_synapses(sp.triu(A, k=1), target=target, seed=0, reweight=True)
    t_ours = time.perf_counter() - t0
    import networkx as nx

    G = nx.from_scipy_sparse_array(A)
    t0 = time.perf_counter()
    H = sparsify_graph(G, n_edges=target, seed=0)
    t_graph = time.perf_counter() - t0

    def errors(R):
        rel = np.abs(R / R_exact - 1)
        return {"max_rel_error": float(rel.max()), "p95_rel_error": float(np.percentile(rel, 95)),
                "median_rel_error": float(np.median(rel))}

    row.update({
        "neurons": n, "edges": int(len(i)), "epsilon": epsilon, "note": note,
        "pygsp_resistances": errors(R_pygsp),
        "ours_exact_resistances_s": round(t_exact, 3),
        "ours_approx_resistances_s": round(t_approx, 3),
        "ours_approx_projections": int(sum(cols)),
        "ours_approx_resistances": errors(R_approx),
        "ours_sparsify_synapses_s": round(t_ours, 3), "ours_kept_edges": int(res.n_kept),
        "ours_sparsify_graph_networkx_s": round(t_graph, 3),
        "ours_sparsify_graph_kept_edges": H.number_of_edges(),
        "time_ratio_pygsp_over_ours": round(row["graph_sparsify_s"] / t_ours, 1),
        "time_ratio_pygsp_over_ours_networkx": round(row["graph_sparsify_s"] / t_graph, 1),
        "resistance_time_ratio_pygsp_over_ours_exact": round(
            row["resistance_distance_s"] / t_exact, 1),
    })
    return row


# ---- centrality ------------------------------------------------------------------------------------
def bench_centrality(pruned: sp.csr_matrix, exact: bool = True, pivots: int = 100) -> dict:
    """Betweenness (1/|w| lengths, directed) exact and with ``pivots`` sampled sources."""
    from scipy.stats import spearmanr

    from lnp_brian.graph.centrality import betweenness_sparse

    n = pruned.shape[0]
    betweenness_sparse(sp.csr_matrix(np.ones((3, 3))))       # import networkit before timing
    t0 = time.perf_counter()
    est = betweenness_sparse(pruned, k=pivots, seed=0)
    t_est = time.perf_counter() - t0
    row = {"neurons": n, "synapses": int(pruned.nnz), "pivots": pivots,
           "pivots_s": round(t_est, 3), "zero_fraction_pivots": float(np.mean(est == 0))}
    if not exact:
        return row
    t0 = time.perf_counter()
    ref = betweenness_sparse(pruned)
    t_exact = time.perf_counter() - t0
    # LNP removes the lowest-centrality neurons; 57 % is the default final neuron target
    # (docs/method.md). Ties (many zeros in the estimate) are broken by index.
    low = int(0.57 * n)
    lowest = lambda x: set(np.argsort(x, kind="stable")[:low].tolist())  # noqa: E731
    row.update({
        "exact_s": round(t_exact, 3), "speedup_pivots_vs_exact": round(t_exact / t_est, 1),
        "spearman_pivots_vs_exact": float(spearmanr(ref, est).statistic),
        "lowest_57pct_overlap": len(lowest(ref) & lowest(est)) / low,
        "zero_fraction_exact": float(np.mean(ref == 0)),
        "coefficient_of_variation_exact": float(np.std(ref) / np.mean(ref)),
    })
    return row


# ---- main ------------------------------------------------------------------------------------------
def run_size(n: int, p: float, tmp: Path, save_pruned: bool) -> dict:
    t0 = time.perf_counter()
    W = hrsnn_weights(n, p)
    build = time.perf_counter() - t0
    w_path, out_path = tmp / f"W{n}.npz", tmp / f"row{n}.json"
    sp.save_npz(w_path, W, compressed=False)
    del W
    pruned_path = str(tmp / f"pruned{n}.npz") if save_pruned else ""
    proc = subprocess.run([sys.executable, __file__, "--worker", "sparsify", str(w_path),
                           str(out_path), pruned_path])
    if proc.returncode != 0:
        raise RuntimeError(f"sparsify worker for n = {n} failed (exit {proc.returncode})")
    row = json.loads(out_path.read_text())
    row["connection_probability"] = p
    row["network_build_s"] = round(build, 2)
    return row


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, *rest = sys.argv[2:]
        if kind == "sparsify":
            worker_sparsify(rest[0], rest[1], rest[2] or None)
        else:
            worker_pygsp(rest[0], rest[1], rest[2] or None, float(rest[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="1,000 and 4,000 neurons only; no 20k, no PyGSP (< 1 minute)")
    parser.add_argument("--pygsp-path", default=os.environ.get("LNP_PYGSP_PATH"),
                        help="folder holding the pygsp package (default: $LNP_PYGSP_PATH)")
    parser.add_argument("--pygsp-n", type=int, default=2000,
                        help="neurons of the PyGSP comparison (p = 0.1; default 2000)")
    parser.add_argument("--no-pygsp", action="store_true", help="skip the PyGSP comparison")
    args = parser.parse_args(argv)

    sizes = [(1000, 0.1), (4000, 0.1)] + ([] if args.quick else [(20000, 0.01)])
    rows = []
    with tempfile.TemporaryDirectory(prefix="lnp_bench_sparsify_") as tmpdir:
        tmp = Path(tmpdir)
        for n, p in sizes:
            print(f"sparsify_synapses: {n} neurons, p = {p} ...", flush=True)
            rows.append(run_size(n, p, tmp, save_pruned=(n in (1000, 4000))))
            print(json.dumps(rows[-1]), flush=True)
        # exact betweenness of the pruned 4,000-neuron graph takes 20-50 s on 2 cores: in
        # --quick mode the exact reference (and the rank correlation) uses 1,000 neurons
        central = []
        for n in (1000, 4000):
            print(f"betweenness on the pruned {n}-neuron graph ...", flush=True)
            central.append(bench_centrality(sp.load_npz(tmp / f"pruned{n}.npz").tocsr(),
                                            exact=not (args.quick and n == 4000)))
            print(json.dumps(central[-1]), flush=True)
        if args.quick or args.no_pygsp:
            pygsp_row = {"skipped": "--quick" if args.quick else "--no-pygsp"}
        else:
            pygsp_row = bench_pygsp(tmp, args.pygsp_path, args.pygsp_n)
        print(json.dumps(pygsp_row), flush=True)

    by_n = {r["neurons"]: r for r in rows}
    met = {}
    if 4000 in by_n:
        met["n4000_under_5_s"] = by_n[4000]["total_s"] < TARGETS["n4000_total_s"]
    if 20000 in by_n:
        met["n20000_under_2_min"] = by_n[20000]["total_s"] < TARGETS["n20000_total_s"]
        met["n20000_under_8_GiB"] = (by_n[20000]["max_rss_gib"]
                                     < TARGETS["n20000_max_rss_gib"])
    c4000 = central[-1]
    met["betweenness_100_pivots_under_2_s"] = (c4000["pivots_s"]
                                               < TARGETS["betweenness_100_pivots_s"])

    from common import machine, save_section

    save_section("sparsify", {"machine": machine(), "quick": args.quick,
                              "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                              "targets": TARGETS, "targets_met": met, "rows": rows,
                              "centrality": central, "pygsp": pygsp_row})

    print("\nsparsify_synapses, 50 % target (wall s; one BLAS thread)")
    print(f"{'N':>6} {'synapses':>9} {'auto':>6} {'proj':>5} {'total':>7} {'resist':>7} "
          f"{'rho':>6} {'sample':>6} {'traced GiB':>10} {'maxRSS GiB':>10} {'Foster dev':>10} "
          f"{'kept/target-1':>13}")
    for r in rows:
        print(f"{r['neurons']:>6} {r['synapses']:>9} {r['method_auto']:>6} {r['projections']:>5} "
              f"{r['total_s']:>7.2f} {r['resistances_s']:>7.2f} {r['rho_s']:>6.3f} "
              f"{r['sampling_s']:>6.3f} {r['tracemalloc_peak_gib']:>10.2f} "
              f"{r['max_rss_gib']:>10.2f} {r['foster_relative_deviation']:>10.1e} "
              f"{r['kept_vs_target']:>13.4f}")
    for r in rows:
        if "approx_max_rel_error" in r:
            other = "approx" if r["method_auto"] == "exact" else "exact"
            print(f"  N = {r['neurons']}: {other} resistances {r[f'{other}_resistances_s']:.2f} s; "
                  f"approx ({r['approx_projections']} projections) vs exact: max rel. error "
                  f"{r['approx_max_rel_error']:.4f}, median {r['approx_median_rel_error']:.5f}")
    print("\nbetweenness (networkit) of the pruned graph: 100 pivots against exact")
    print(f"{'N':>6} {'synapses':>9} {'pivots s':>9} {'exact s':>8} {'speedup':>8} "
          f"{'Spearman':>9} {'low-57% overlap':>15} {'zeros exact/pivots':>19}")
    for c in central:
        if "exact_s" in c:
            print(f"{c['neurons']:>6} {c['synapses']:>9} {c['pivots_s']:>9.2f} {c['exact_s']:>8.2f} "
                  f"{c['speedup_pivots_vs_exact']:>8} {c['spearman_pivots_vs_exact']:>9.3f} "
                  f"{c['lowest_57pct_overlap']:>15.2f} "
                  f"{c['zero_fraction_exact']:>9.2f}/{c['zero_fraction_pivots']:.2f}")
        else:
            print(f"{c['neurons']:>6} {c['synapses']:>9} {c['pivots_s']:>9.2f} {'(skipped in --quick)':>35}")
    if "skipped" in pygsp_row:
        print(f"\nPyGSP comparison skipped: {pygsp_row['skipped']}")
    else:
        g = pygsp_row
        print(f"\nPyGSP {g['pygsp_version']} graph_sparsify, N = {g['neurons']}, {g['edges']} "
              f"edges, eps = {g['epsilon']}:" + (f" ({g['note']})" if g["note"] else ""))
        print(f"  PyGSP: {g['graph_sparsify_s']:.1f} s, max RSS {g['max_rss_gib']:.1f} GiB, "
              f"kept {g['kept_edges']} edges; resistance_distance {g['resistance_distance_s']:.1f} s")
        print(f"  ours : sparsify_synapses {g['ours_sparsify_synapses_s']:.2f} s (same expected "
              f"count) -> {g['time_ratio_pygsp_over_ours']}x faster; sparsify_graph (NetworkX) "
              f"{g['ours_sparsify_graph_networkx_s']:.2f} s -> "
              f"{g['time_ratio_pygsp_over_ours_networkx']}x; exact resistances "
              f"{g['ours_exact_resistances_s']:.2f} s, approx {g['ours_approx_resistances_s']:.2f} s")
        for name, key in (("PyGSP", "pygsp_resistances"), ("ours approx eps=0.3",
                                                           "ours_approx_resistances")):
            e = g[key]
            print(f"  {name:>20} resistances vs exact: max {e['max_rel_error']:.4f}, "
                  f"p95 {e['p95_rel_error']:.4f}, median {e['median_rel_error']:.5f}")
    print("\ntargets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in met.items()))


if __name__ == "__main__":
    main()
