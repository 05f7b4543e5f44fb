"""Betweenness centrality for neuron pruning (DESIGN §5.5): networkit against networkx, known
answers, the 1/|w| length convention and the sampled estimate."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.stats

from lnp_brian.centrality import LENGTHS, betweenness, betweenness_networkx, betweenness_sparse


def signed_graph(n, p, seed, directed=True):
    G = nx.gnp_random_graph(n, p, seed=seed, directed=directed)
    rng = np.random.default_rng(seed)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 2.0)
    return G


def as_array(scores, G):
    return np.array([scores[v] for v in G])


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("normalized", [True, False])
@pytest.mark.parametrize("length", LENGTHS)
def test_networkit_exact_equals_networkx(directed, normalized, length):
    for seed in range(3):
        G = signed_graph(60, 0.08, seed, directed)
        fast = as_array(betweenness(G, normalized=normalized, length=length), G)
        ref = as_array(betweenness_networkx(G, normalized=normalized, length=length), G)
        assert ref.max() > 0
        np.testing.assert_allclose(fast, ref, rtol=1e-9, atol=1e-12 * ref.max())


def test_star_centre_carries_every_path():
    n = 9
    bc = betweenness(nx.star_graph(n - 1))        # node 0 is the centre, 8 leaves
    assert bc[0] == pytest.approx(1.0)
    assert all(bc[v] == 0 for v in range(1, n))
    raw = betweenness(nx.star_graph(n - 1), normalized=False)
    assert raw[0] == pytest.approx((n - 1) * (n - 2) / 2)   # unordered leaf pairs


def test_path_graph_middle_and_profile():
    n = 7
    idx = np.arange(n)
    # node i separates i nodes on one side from n - 1 - i on the other
    raw = as_array(betweenness(nx.path_graph(n), normalized=False), range(n))
    np.testing.assert_allclose(raw, idx * (n - 1 - idx))
    norm = betweenness(nx.path_graph(n))
    assert norm[3] == pytest.approx(9 / 15)      # 3 * 3 pairs of (6 * 5 / 2)
    # directed path: only forward pairs, normalised by ordered pairs (n - 1)(n - 2)
    dpath = betweenness(nx.path_graph(n, create_using=nx.DiGraph))
    np.testing.assert_allclose(as_array(dpath, range(n)), idx * (n - 1 - idx) / 30)


def test_strong_synapses_are_short_edges_whatever_their_sign():
    # a -> c directly but weakly (length 1/0.1 = 10), or through b strongly (1 + 1): the
    # shortest path goes through b, also when the strong synapses are inhibitory.
    D = nx.DiGraph()
    D.add_edge("a", "c", weight=0.1)
    D.add_edge("a", "b", weight=-1.0)
    D.add_edge("b", "c", weight=-1.0)
    assert betweenness(D, normalized=False)["b"] == 1.0
    assert betweenness(D, normalized=False, length="abs_weight")["b"] == 0.0
    assert betweenness(D, normalized=False, length=None)["b"] == 0.0   # 1 hop beats 2
    D.edges["a", "c"]["weight"] = 0.0           # zero weight = no synapse under 1/|w|
    D.add_edge("c", "a", weight=0.0)
    assert betweenness(D, normalized=False)["b"] == 1.0
    assert betweenness_networkx(D, normalized=False)["b"] == 1.0


def test_sparse_matrix_input_matches_graph_input(small_hrsnn):
    net = small_hrsnn
    W = net.W
    fast = betweenness_sparse(W)
    assert fast.shape == (net.n,)
    via_graph = betweenness(net.to_networkx())
    np.testing.assert_allclose(fast, as_array(via_graph, range(net.n)), rtol=1e-12)
    # Reversing every synapse maps each shortest s -> t path through v onto a t -> s path
    # through v: betweenness is invariant under transposition of W.
    np.testing.assert_allclose(betweenness_sparse(W.T), fast, rtol=1e-9)


def test_undirected_sparse_input():
    G = signed_graph(50, 0.1, seed=4, directed=False)
    A = sp.csr_matrix(nx.to_scipy_sparse_array(G, nodelist=range(50)))
    np.testing.assert_allclose(betweenness_sparse(A, directed=False),
                               as_array(betweenness_networkx(G), range(50)), rtol=1e-9)
    with pytest.raises(ValueError, match="symmetric"):
        betweenness_sparse(sp.triu(A, format="csr"), directed=False)


def test_sampled_estimate_ranks_like_exact_and_is_seeded():
    G = signed_graph(500, 0.04, seed=5)
    exact = as_array(betweenness(G), G)
    est = as_array(betweenness(G, k=100, seed=1), G)
    rho = scipy.stats.spearmanr(exact, est).statistic
    assert rho > 0.8
    # linearly scaled pivots: the estimate is on the exact scale, not k/n of it
    assert est.sum() == pytest.approx(exact.sum(), rel=0.1)
    np.testing.assert_array_equal(est, as_array(betweenness(G, k=100, seed=1), G))
    assert not np.array_equal(est, as_array(betweenness(G, k=100, seed=2), G))
    # more pivots, better ranking
    few = as_array(betweenness(G, k=10, seed=1), G)
    assert scipy.stats.spearmanr(exact, few).statistic < rho


def test_bad_input():
    G = signed_graph(10, 0.3, seed=6)
    with pytest.raises(ValueError, match="length"):
        betweenness(G, length="log")
    with pytest.raises(ValueError, match="pivots"):
        betweenness(G, k=0)
    with pytest.raises(TypeError, match="multigraph"):
        betweenness(nx.MultiDiGraph(G))
    with pytest.raises(ValueError, match="square"):
        betweenness_sparse(sp.csr_matrix(np.ones((2, 3))))
    G.edges[next(iter(G.edges))]["weight"] = np.nan
    with pytest.raises(ValueError, match="finite"):
        betweenness(G)
