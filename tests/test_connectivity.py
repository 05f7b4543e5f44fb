"""Connectivity samplers: the O(synapses) ``sparse`` sampler has the distribution of the
original ``dense`` one, and ``auto`` keeps the dense sampler (bit-identical networks) up to
20,000 neurons.

Statistical tests use fixed seeds (so they are deterministic) and a p-value threshold of
1e-3; each compares against the exact law (Binomial degrees, uniform offsets, exact
expected counts) or against the dense sampler with a two-sample test.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
from scipy import stats

import lnp_brian as lb
import lnp_brian.network.network as netmod
from lnp_brian.network import connectivity as C

ALPHA = 1e-3
SEEDS = (0, 1, 2, 3, 4)


# ------------------------------------------------------------------------------ the original
def _original_connect(n, spec, rng, cluster=None):
    """lnp_brian.network.connectivity.connect as it was before the sparse sampler (verbatim logic):
    the dense path must keep returning exactly this."""
    def bernoulli_rows(prob_row, autapses):
        rows = max(1, 4_000_000 // max(n, 1))
        pre_parts, post_parts = [], []
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            p = prob_row(start, stop)
            hit = rng.random((stop - start, n)) < p
            if not autapses:
                k = np.arange(start, stop)
                hit[k - start, k] = False
            i, j = np.nonzero(hit)
            pre_parts.append((i + start).astype(np.int32))
            post_parts.append(j.astype(np.int32))
        if not pre_parts:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return np.concatenate(pre_parts), np.concatenate(post_parts)

    def watts_strogatz(k, beta, autapses):
        half = max(1, (k + 1) // 2)
        offsets = np.concatenate([np.arange(1, half + 1), -np.arange(1, half + 1)])
        pre = np.repeat(np.arange(n), len(offsets))
        post = (pre + np.tile(offsets, n)) % n
        rewire = rng.random(len(pre)) < beta
        targets = [set(post[pre == i]) for i in range(n)] if rewire.any() else None
        for e in np.flatnonzero(rewire):
            i = pre[e]
            for _ in range(100):
                new = int(rng.integers(n))
                if new not in targets[i] and (autapses or new != i):
                    targets[i].discard(post[e])
                    targets[i].add(new)
                    post[e] = new
                    break
        keep = (pre != post) | autapses
        return pre[keep].astype(np.int32), post[keep].astype(np.int32)

    kind = spec.get("kind", "none")
    autapses = bool(spec.get("autapses", False))
    if kind == "none" or n == 0:
        pre = post = np.zeros(0, np.int32)
    elif kind == "all":
        pre, post = bernoulli_rows(lambda a, b: 1.1, autapses)
    elif kind == "random":
        p = float(spec["p"])
        pre, post = bernoulli_rows(lambda a, b: p, autapses)
    elif kind == "clustered":
        pin, pout = float(spec["p_within"]), float(spec["p_between"])
        cl = np.asarray(cluster)
        pre, post = bernoulli_rows(lambda a, b: np.where(cl[a:b, None] == cl[None, :], pin, pout), autapses)
    elif kind == "watts_strogatz":
        pre, post = watts_strogatz(int(spec["k"]), float(spec["beta"]), autapses)
    order = np.lexsort((post, pre))
    return pre[order], post[order]


# ------------------------------------------------------------------------------ helpers
def sparse(n, spec, seed, cluster=None):
    return C.connect(n, spec, np.random.default_rng(seed), cluster, method="sparse")


def dense(n, spec, seed, cluster=None):
    return C.connect(n, spec, np.random.default_rng(seed), cluster, method="dense")


def assert_valid(pre, post, n, autapses=False):
    assert pre.dtype == np.int32 and post.dtype == np.int32
    assert pre.shape == post.shape and pre.ndim == 1
    if len(pre):
        assert pre.min() >= 0 and pre.max() < n and post.min() >= 0 and post.max() < n
        key = pre.astype(np.int64) * n + post
        assert np.all(np.diff(key) > 0), "not sorted by (pre, post), or duplicate pairs"
    if not autapses:
        assert not np.any(pre == post), "self-connections"


def binomial_gof(sample, trials, p):
    """Chi-square goodness of fit of integer ``sample`` to Binomial(trials, p), bins merged
    so that every expected count is >= 5. Returns the p-value."""
    sample = np.asarray(sample)
    size = len(sample)
    ks = np.arange(trials + 1)
    probs = stats.binom.pmf(ks, trials, p)
    # bins: from the low tail up, each closed when its expected count reaches 5
    edges, acc = [0], 0.0
    for k in ks:
        acc += probs[k] * size
        if acc >= 5:
            edges.append(k + 1)
            acc = 0.0
    edges[-1] = trials + 1  # the remainder joins the last bin
    observed = np.histogram(sample, bins=edges)[0]
    cdf = np.concatenate([[0.0], np.cumsum(probs)])
    expected = np.diff(cdf[np.asarray(edges)]) * size
    expected *= observed.sum() / expected.sum()
    return stats.chisquare(observed, expected, ddof=0).pvalue


def two_sample_p(a, b):
    """Chi-square test that two integer samples come from one distribution (bins with
    fewer than 10 counts in total are merged)."""
    values = np.union1d(a, b)
    ca = np.array([np.sum(a == v) for v in values])
    cb = np.array([np.sum(b == v) for v in values])
    rows, cur = [], np.zeros(2)
    for x, y in zip(ca, cb):
        cur += (x, y)
        if cur.sum() >= 10:
            rows.append(cur)
            cur = np.zeros(2)
    if rows:
        rows[-1] = rows[-1] + cur
    else:
        rows = [cur]
    table = np.array(rows).T
    if table.shape[1] < 2:
        return 1.0
    return stats.chi2_contingency(table)[1]


# ------------------------------------------------------------------------------ exact checks
CASES = [
    ("random", 200, {"kind": "random", "p": 0.1}),
    ("random_autapses", 500, {"kind": "random", "p": 0.05, "autapses": True}),
    ("random_dense_p", 300, {"kind": "random", "p": 0.9}),
    ("all", 200, {"kind": "all"}),
    ("all_autapses", 150, {"kind": "all", "autapses": True}),
    ("clustered", 2000, {"kind": "clustered", "p_within": 0.2, "p_between": 0.01}),
    ("watts_strogatz", 1000, {"kind": "watts_strogatz", "k": 20, "beta": 0.3}),
    ("watts_strogatz_odd_k_autapses", 500, {"kind": "watts_strogatz", "k": 9, "beta": 0.9, "autapses": True}),
    ("watts_strogatz_tiny", 6, {"kind": "watts_strogatz", "k": 10, "beta": 0.5}),
]


def _labels(n, k=4):
    return np.repeat(np.arange(k), -(-n // k))[:n].astype(np.int32)


@pytest.mark.parametrize("name,n,spec", CASES, ids=[c[0] for c in CASES])
def test_sparse_output_is_valid_and_reproducible(name, n, spec):
    cl = _labels(n)
    pre, post = sparse(n, spec, 7, cl)
    if name != "watts_strogatz_tiny":  # (offsets wrap around a 6-neuron ring: as before)
        assert_valid(pre, post, n, spec.get("autapses", False))
    again = sparse(n, spec, 7, cl)
    assert np.array_equal(pre, again[0]) and np.array_equal(post, again[1])
    if spec["kind"] != "all" and name != "watts_strogatz_tiny":  # (tiny: nowhere to rewire to)
        other = sparse(n, spec, 8, cl)
        assert len(other[0]) != len(pre) or not np.array_equal(post, other[1])


def test_all_and_edge_cases():
    for autapses in (False, True):
        n = 50
        pre, post = sparse(n, {"kind": "all", "autapses": autapses}, 0)
        assert len(pre) == n * (n if autapses else n - 1)
        assert_valid(pre, post, n, autapses)
        assert np.array_equal(pre, dense(n, {"kind": "all", "autapses": autapses}, 0)[0])
        assert np.array_equal(post, dense(n, {"kind": "all", "autapses": autapses}, 0)[1])
        p1 = sparse(n, {"kind": "random", "p": 1.0, "autapses": autapses}, 0)
        assert np.array_equal(p1[0], pre) and np.array_equal(p1[1], post)
    assert len(sparse(100, {"kind": "random", "p": 0.0}, 0)[0]) == 0
    assert len(sparse(1, {"kind": "random", "p": 0.5}, 0)[0]) == 0
    assert len(sparse(1, {"kind": "random", "p": 1.0, "autapses": True}, 0)[0]) == 1
    assert len(sparse(0, {"kind": "random", "p": 0.5}, 0)[0]) == 0
    assert len(sparse(10, {"kind": "none"}, 0)[0]) == 0
    # a cluster of one neuron has no within-cluster pair
    cl = np.array([0] + [1] * 99)
    pre, post = sparse(100, {"kind": "clustered", "p_within": 1.0, "p_between": 0.0}, 0, cl)
    assert_valid(pre, post, 100)
    assert len(pre) == 99 * 98 and np.all(cl[pre] == cl[post])
    with pytest.raises(ValueError, match="method"):
        C.connect(10, {"kind": "random", "p": 0.1}, np.random.default_rng(0), method="fast")
    with pytest.raises(ValueError, match="cluster labels"):
        sparse(10, {"kind": "clustered", "p_within": 0.1, "p_between": 0.1}, 0)


# ------------------------------------------------------------------------------ random: exact law
@pytest.mark.parametrize("n,p,autapses", [(2000, 0.01, False), (1000, 0.1, False), (400, 0.3, True)])
def test_random_counts_and_degrees_are_binomial(n, p, autapses):
    spec = {"kind": "random", "p": p, "autapses": autapses}
    trials = n if autapses else n - 1
    totals, out_deg, in_deg, recip, offsets = [], [], [], [], []
    for seed in SEEDS:
        pre, post = sparse(n, spec, seed)
        assert_valid(pre, post, n, autapses)
        totals.append(len(pre))
        out_deg.append(np.bincount(pre, minlength=n))
        in_deg.append(np.bincount(post, minlength=n))
        key = set((pre.astype(np.int64) * n + post).tolist())
        recip.append(sum(1 for i, j in zip(pre.tolist(), post.tolist()) if i < j and j * n + i in key))
        offsets.append((post.astype(np.int64) - pre) % n)
    # total: Binomial(n * trials, p) for each seed, and their sum
    mean, sd = p * n * trials, np.sqrt(n * trials * p * (1 - p))
    assert all(abs(t - mean) < 4.5 * sd for t in totals), (totals, mean, sd)
    assert abs(sum(totals) - len(SEEDS) * mean) < 4 * sd * np.sqrt(len(SEEDS))
    # out- and in-degrees: i.i.d. Binomial(trials, p), per seed and pooled
    for deg in (out_deg, in_deg):
        for d in deg:
            assert binomial_gof(d, trials, p) > ALPHA
        assert binomial_gof(np.concatenate(deg), trials, p) > ALPHA
    # pairs are independent: reciprocal pairs (i -> j and j -> i, no autapse) ~ Binomial(n (n-1) / 2, p^2)
    pairs = n * (n - 1) / 2
    r_mean, r_sd = pairs * p * p, np.sqrt(pairs * p * p * (1 - p * p))
    assert abs(sum(recip) - len(SEEDS) * r_mean) < 4 * r_sd * np.sqrt(len(SEEDS))
    # targets are uniform: (post - pre) mod n is uniform over its n - 1 (or n) values
    off = np.concatenate(offsets)
    bins = np.linspace(0 if autapses else 1, n, 41)
    observed = np.histogram(off, bins=bins)[0]
    width = np.diff(np.floor(bins - 1e-9))  # integers in each bin
    expected = width / width.sum() * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > ALPHA
    # no bias next to the skipped diagonal: offsets +1 and -1 each ~ Binomial(n, p)
    for o in (1, n - 1):
        hits = int(np.sum(off == o))
        assert abs(hits - len(SEEDS) * n * p) < 4.5 * np.sqrt(len(SEEDS) * n * p * (1 - p))


@pytest.mark.parametrize("batch", [None, 37], ids=["one_batch", "batches_of_37"])
@pytest.mark.parametrize("spec,layout", [
    ({"kind": "random", "p": 0.3}, None),
    ({"kind": "random", "p": 0.95}, None),
    ({"kind": "random", "p": 0.2, "autapses": True}, None),
    ({"kind": "clustered", "p_within": 0.9, "p_between": 0.15}, "runs"),
    ({"kind": "clustered", "p_within": 0.4, "p_between": 0.9, "autapses": True}, "shuffled"),
])
def test_every_pair_has_its_probability(monkeypatch, spec, layout, batch):
    """Over 400 seeds of a 30-neuron network, each pair (i, j) is present ~ Binomial(400, p_ij)
    times: none forgotten (first and last pairs included), none favoured; also with the
    geometric gaps drawn 37 at a time (the joins between batches)."""
    if batch:
        monkeypatch.setattr(C, "_GAP_BATCH", batch)
    n, runs = 30, 400
    autapses = spec.get("autapses", False)
    cl = None
    if layout is not None:
        cl = np.repeat(np.arange(3), 10)
        if layout == "shuffled":
            cl = np.random.default_rng(1).permutation(cl)
    counts = np.zeros((n, n))
    for seed in range(runs):
        pre, post = sparse(n, spec, seed, cl)
        assert_valid(pre, post, n, autapses)
        counts[pre, post] += 1
    if cl is None:
        prob = np.full((n, n), spec["p"])
    else:
        prob = np.where(cl[:, None] == cl[None, :], spec["p_within"], spec["p_between"])
    if not autapses:
        assert np.all(np.diag(counts) == 0)
        np.fill_diagonal(prob, np.nan)
    cells = ~np.isnan(prob)
    mean, sd = runs * prob[cells], np.sqrt(runs * prob[cells] * (1 - prob[cells]))
    z = (counts[cells] - mean) / sd
    worst = np.argmax(np.abs(z))
    assert abs(z[worst]) < 5.0, (np.argwhere(cells)[worst], z[worst])
    assert stats.chi2.sf(np.sum(z ** 2), df=cells.sum()) > ALPHA


def test_random_dense_and_sparse_degrees_agree():
    n, p = 1500, 0.02
    spec = {"kind": "random", "p": p}
    for deg_of in (lambda pre, post: np.bincount(pre, minlength=n), lambda pre, post: np.bincount(post, minlength=n)):
        a = np.concatenate([deg_of(*dense(n, spec, s)) for s in SEEDS])
        b = np.concatenate([deg_of(*sparse(n, spec, s)) for s in SEEDS])
        assert two_sample_p(a, b) > ALPHA
        assert stats.ks_2samp(a, b).pvalue > ALPHA
        assert abs(a.mean() - b.mean()) < 4 * np.sqrt(2 * (n - 1) * p * (1 - p) / len(a))


# ------------------------------------------------------------------------------ clustered
@pytest.mark.parametrize("layout", ["runs", "shuffled"])
def test_clustered_pathway_counts_and_degrees(layout):
    n, k, pin, pout = 2000, 4, 0.1, 0.01
    cl = _labels(n, k)
    if layout == "shuffled":  # labels not in runs of consecutive neurons
        cl = np.random.default_rng(99).permutation(cl)
    size = n // k
    spec = {"kind": "clustered", "p_within": pin, "p_between": pout}
    within_pairs, between_pairs = k * size * (size - 1), n * (n - size)
    w_tot, b_tot, w_deg, b_deg = 0, 0, [], []
    for seed in SEEDS:
        pre, post = sparse(n, spec, seed, cl)
        assert_valid(pre, post, n)
        same = cl[pre] == cl[post]
        w, b = int(same.sum()), int((~same).sum())
        assert abs(w - pin * within_pairs) < 4.5 * np.sqrt(within_pairs * pin * (1 - pin))
        assert abs(b - pout * between_pairs) < 4.5 * np.sqrt(between_pairs * pout * (1 - pout))
        w_tot, b_tot = w_tot + w, b_tot + b
        w_deg.append(np.bincount(pre[same], minlength=n))
        b_deg.append(np.bincount(pre[~same], minlength=n))
        # in-degrees within the pathways too
        w_deg.append(np.bincount(post[same], minlength=n))
        b_deg.append(np.bincount(post[~same], minlength=n))
    s = len(SEEDS)
    assert abs(w_tot - s * pin * within_pairs) < 4 * np.sqrt(s * within_pairs * pin * (1 - pin))
    assert abs(b_tot - s * pout * between_pairs) < 4 * np.sqrt(s * between_pairs * pout * (1 - pout))
    assert binomial_gof(np.concatenate(w_deg), size - 1, pin) > ALPHA
    assert binomial_gof(np.concatenate(b_deg), n - size, pout) > ALPHA


def test_clustered_dense_and_sparse_agree():
    n, pin, pout = 1200, 0.15, 0.02
    cl = np.repeat(np.arange(3), [200, 400, 600]).astype(np.int32)  # unequal clusters
    spec = {"kind": "clustered", "p_within": pin, "p_between": pout}
    for which in (0, 1):
        a = np.concatenate([np.bincount(dense(n, spec, s, cl)[which], minlength=n) for s in SEEDS])
        b = np.concatenate([np.bincount(sparse(n, spec, s, cl)[which], minlength=n) for s in SEEDS])
        for c in range(3):  # per cluster: a mixture of two binomials, compared by two-sample tests
            sel = np.tile(cl == c, len(SEEDS))
            assert two_sample_p(a[sel], b[sel]) > ALPHA
            assert stats.ks_2samp(a[sel], b[sel]).pvalue > ALPHA


# ------------------------------------------------------------------------------ Watts-Strogatz
def _row_sets(n, spec, method, runs, row=0):
    """Frequency of neuron `row`'s target set over `runs` seeds."""
    out = []
    for seed in range(runs):
        pre, post = C.connect(n, spec, np.random.default_rng(seed), method=method)
        out.append(tuple(post[pre == row].tolist()))
    return out


@pytest.mark.parametrize("n,k,beta,tries,block", [(6, 2, 1.0, 100, None), (6, 2, 0.5, 100, 4),
                                                   (12, 8, 1.0, 100, None), (9, 4, 0.7, 100, 8),
                                                   (12, 10, 1.0, 3, 25)])
def test_watts_strogatz_small_exact_law(monkeypatch, n, k, beta, tries, block):
    """On tiny rings the sequential rewiring rule shows: e.g. n = 6, k = 2, beta = 1, neuron
    0's second edge may take target 1, freed by the first. The sparse sampler's law of a
    neuron's target set equals the dense (original) one's; with 3 draws per edge instead of
    100, edges often keep their target, and the law still agrees. With ``block``, the
    sparse sampler rewires a few ring edges at a time and the last neuron is looked at."""
    monkeypatch.setattr(C, "_MAX_TRIES", tries)
    spec = {"kind": "watts_strogatz", "k": k, "beta": beta}
    runs, row = 1500, 0
    if block:
        monkeypatch.setattr(C, "_WS_BLOCK_EDGES", block)
        row = n - 1
    a, b = _row_sets(n, spec, "dense", runs, row), _row_sets(n, spec, "sparse", runs, row)
    sets = sorted(set(a) | set(b))
    table = np.array([[a.count(s) for s in sets], [b.count(s) for s in sets]])
    keep = table.sum(axis=0) >= 10
    table = np.column_stack([table[:, keep], table[:, ~keep].sum(axis=1)]) if (~keep).any() else table
    if table.shape[1] > 1:
        assert stats.chi2_contingency(table)[1] > ALPHA, table
    if (n, k, beta) == (6, 2, 1.0):  # the freed ring target 1 is reachable (probability 1/3)
        assert 0.25 < np.mean([1 in s for s in b]) < 0.42


def test_watts_strogatz_dense_and_sparse_agree(monkeypatch):
    n, k, beta = 400, 40, 0.6  # (beta k)^2 / 2n: many neurons take the one-by-one path
    monkeypatch.setattr(C, "_WS_BLOCK_EDGES", 1000)  # (several blocks)
    spec = {"kind": "watts_strogatz", "k": k, "beta": beta}
    half = k // 2
    stat = {}
    for method in ("dense", "sparse"):
        indeg, ring_kept, dist = [], [], []
        for seed in SEEDS:
            pre, post = C.connect(n, spec, np.random.default_rng(seed), method=method)
            assert_valid(pre, post, n)
            assert np.all(np.bincount(pre, minlength=n) == 2 * half)
            d = (post.astype(np.int64) - pre) % n
            d = np.minimum(d, n - d)
            indeg.append(np.bincount(post, minlength=n))
            ring_kept.append(np.sum(d <= half))
            dist.append(d)
        stat[method] = (np.concatenate(indeg), np.array(ring_kept), np.concatenate(dist))
    (ia, ra, da), (ib, rb, db) = stat["dense"], stat["sparse"]
    assert two_sample_p(ia, ib) > ALPHA
    assert stats.ks_2samp(ia, ib).pvalue > ALPHA
    # the number of ring targets kept: ~ (1 - beta) m plus the rewired ones that land on the ring
    m = n * 2 * half
    assert abs(ra.mean() - rb.mean()) < 4 * np.sqrt(2 * m * beta * (1 - beta) / len(SEEDS))
    # distance of targets along the ring (binned)
    bins = np.array([1, half // 2, half, half + 1, n // 8, n // 4, n // 2 + 1])
    ha, hb = np.histogram(da, bins)[0], np.histogram(db, bins)[0]
    assert stats.chi2_contingency(np.array([ha, hb]))[1] > ALPHA


# ------------------------------------------------------------------------------ auto and the original networks
@pytest.mark.parametrize("name,n,spec", [c for c in CASES if c[0] != "watts_strogatz_tiny"] +
                         [("ws_tiny", 7, {"kind": "watts_strogatz", "k": 8, "beta": 0.5})],
                         ids=[c[0] for c in CASES if c[0] != "watts_strogatz_tiny"] + ["ws_tiny"])
def test_dense_and_auto_are_the_original_sampler(name, n, spec):
    cl = _labels(n)
    for seed in (0, 3):
        ref = _original_connect(n, spec, np.random.default_rng(seed), cl)
        for method in ("dense", "auto"):
            got = C.connect(n, spec, np.random.default_rng(seed), cl, method=method)
            assert got[0].dtype == ref[0].dtype and got[1].dtype == ref[1].dtype
            assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])
    assert np.array_equal(C.connect(n, spec, np.random.default_rng(0), cl)[1],
                          C.connect(n, spec, np.random.default_rng(0), cl, method="auto")[1])


def test_auto_threshold(monkeypatch):
    """auto: dense up to and including 20,000 neurons, sparse above (spied, not run)."""
    assert C.DENSE_MAX_N == 20_000
    called = []

    def spy(name):
        def f(*args, **kwargs):
            called.append(name)
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return f

    monkeypatch.setattr(C, "_bernoulli_rows", spy("dense"))
    monkeypatch.setattr(C, "_bernoulli_blocks", spy("sparse"))
    monkeypatch.setattr(C, "_watts_strogatz", spy("dense"))
    monkeypatch.setattr(C, "_watts_strogatz_sparse", spy("sparse"))
    cl = np.zeros(20_001, np.int32)
    for spec in ({"kind": "random", "p": 0.01}, {"kind": "clustered", "p_within": 0.1, "p_between": 0.01},
                 {"kind": "watts_strogatz", "k": 10, "beta": 0.1}):
        for n, expect in ((2_000, "dense"), (20_000, "dense"), (20_001, "sparse"), (100_000, "sparse")):
            called.clear()
            C.connect(n, spec, np.random.default_rng(0), np.zeros(n, np.int32))
            assert called == [expect], (spec, n, called)
        called.clear()
        C.connect(20_001, spec, np.random.default_rng(0), cl, method="dense")
        C.connect(100, spec, np.random.default_rng(0), cl[:100], method="sparse")
        assert called == ["dense", "sparse"]


@pytest.mark.parametrize("model,n", [("hrsnn", 300), ("chrsnn", 400)])
def test_build_network_is_unchanged(monkeypatch, model, n):
    """build_network at n <= 20,000 gives the network it gave before the sparse sampler."""
    new = lb.build_network(model, n=n, seed=5)
    monkeypatch.setattr(netmod, "connect", _original_connect)
    old = lb.build_network(model, n=n, seed=5)
    assert np.array_equal(new.pre, old.pre) and np.array_equal(new.post, old.post)
    assert np.array_equal(new.w, old.w)
    assert new.pre.dtype == old.pre.dtype == np.int32


# ------------------------------------------------------------------------------ scale
def test_sparse_scales_to_100k_neurons():
    """100,000 neurons, p = 0.001 (10 M synapses): seconds, and memory a small multiple of
    the output (8 bytes a synapse), where the dense sampler takes about a minute."""
    n, p = 100_000, 0.001
    tracemalloc.start()
    t0 = time.perf_counter()
    pre, post = sparse(n, {"kind": "random", "p": p}, 1)
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    m = len(pre)
    assert abs(m - p * n * (n - 1)) < 5 * np.sqrt(p * n * (n - 1))
    assert wall < 15.0, wall  # about 1 s here; generous for a loaded machine
    assert peak < 40 * m, peak / m  # bytes per synapse, output included
    assert np.all(pre[1:] >= pre[:-1])
    assert np.all((np.diff(post)[pre[1:] == pre[:-1]]) > 0)
    assert not np.any(pre == post)
    deg = np.bincount(pre, minlength=n)
    assert binomial_gof(deg, n - 1, p) > ALPHA
