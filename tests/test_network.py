"""The Network value: statistics of built networks, Dale's law, lossless files and graphs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import lnp_brian as lb


@pytest.fixture(scope="module")
def net1000():
    return lb.build_network("hrsnn", n=1000, seed=11)


def test_tau_m_follows_requested_gamma(net1000):
    tau = net1000.params["tau_m"]
    mean, cv = 20e-3, 0.5  # models/hrsnn.toml
    se_mean = mean * cv / np.sqrt(len(tau))
    assert abs(tau.mean() - mean) < 4 * se_mean
    assert abs(tau.std() / tau.mean() - cv) < 0.05  # SE of the CV is ~0.013 at n = 1000
    shape = 1 / cv**2
    assert stats.kstest(tau, stats.gamma(shape, scale=mean / shape).cdf).pvalue > 0.01
    assert net1000.param("tau_m").dim == lb.load_model("hrsnn").neuron.parameters["tau_m"].dim


def test_mrsnn_is_homogeneous_with_the_same_graph(net1000):
    mr = lb.build_network("mrsnn", n=1000, seed=11)
    assert np.all(mr.params["tau_m"] == 20e-3)
    assert np.all(mr.params["tau_syn"] == 5e-3)
    # same seed: same connectivity and weights, only the time constants differ
    np.testing.assert_array_equal(mr.pre, net1000.pre)
    np.testing.assert_array_equal(mr.w, net1000.w)


def test_dale_law_and_connection_probability(net1000):
    w, pre = net1000.w, net1000.pre
    assert np.all(w[net1000.exc[pre]] > 0)
    assert np.all(w[~net1000.exc[pre]] < 0)
    assert not np.any(net1000.pre == net1000.post)
    n, p = net1000.n, 0.1
    expected = p * n * (n - 1)
    assert abs(len(w) - expected) < 4 * np.sqrt(expected * (1 - p))
    assert net1000.exc.sum() == 800


def test_weight_pathways_follow_model(net1000):
    ie = (~net1000.exc[net1000.pre]) & net1000.exc[net1000.post]
    ee = net1000.exc[net1000.pre] & net1000.exc[net1000.post]
    # lognormal means 240 pA (I->E) and 30 pA (E->E); max clipping lowers them slightly
    assert abs(-net1000.w[ie].mean() - 240e-12) < 0.05 * 240e-12
    assert abs(net1000.w[ee].mean() - 30e-12) < 0.05 * 30e-12
    assert np.all(np.isfinite(net1000.syn_params["taupre"][net1000.plastic]))
    assert np.all(np.isnan(net1000.syn_params["taupre"][~net1000.plastic]))


def test_chrsnn_clusters_are_small_world():
    import networkx as nx

    net = lb.build_network("chrsnn", n=400, seed=2)
    means = [net.params["tau_m"][net.cluster == k].mean() for k in range(4)]
    np.testing.assert_allclose(means, [5e-3, 10e-3, 20e-3, 40e-3], rtol=0.1)
    same = net.cluster[net.pre] == net.cluster[net.post]
    within = same.sum() / (4 * 100 * 99)
    assert within == pytest.approx(0.3, abs=0.02)
    G = nx.Graph(net.to_networkx())
    R = nx.gnm_random_graph(G.number_of_nodes(), G.number_of_edges(), seed=1)
    # small world: clustering well above an Erdos-Renyi graph with as many edges (measured
    # ratio 1.85), paths as short
    assert nx.average_clustering(G) > 1.5 * nx.average_clustering(R)
    assert nx.average_shortest_path_length(G) < 1.05 * nx.average_shortest_path_length(R)


def test_same_seed_same_network_different_seed_different():
    a, b = lb.build_network("hrsnn", n=300, seed=5), lb.build_network("hrsnn", n=300, seed=5)
    c = lb.build_network("hrsnn", n=300, seed=6)
    assert a.equals(b)
    assert not a.equals(c)


def test_npz_round_trip_is_lossless(tmp_path, net1000):
    pruned = net1000.prune(synapses=np.arange(0, len(net1000.w), 7), neurons=[3, 9])
    path = pruned.save(tmp_path / "net.npz")
    back = lb.Network.load(path)
    assert back.equals(pruned)
    assert back.n_synapses == pruned.n_synapses < net1000.n_synapses
    assert back.model.text == net1000.model.text


def test_npz_load_refuses_pickles_and_reports_bad_files(tmp_path, net1000):
    evil = tmp_path / "evil.npz"
    np.savez(evil, format=np.array("lnp_brian.network/1"), exc=np.array([object()], dtype=object))
    with pytest.raises(lb.NetworkFileError, match="evil.npz"):
        lb.Network.load(evil)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, format=np.array("something else"))
    with pytest.raises(lb.NetworkFileError, match="format"):
        lb.Network.load(wrong)
    with pytest.raises(lb.NetworkFileError, match="no such file"):
        lb.Network.load(tmp_path / "missing.npz")
    trunc = tmp_path / "trunc.npz"
    data = dict(np.load(net1000.save(tmp_path / "ok.npz")))
    data.pop("w")
    np.savez(trunc, **data)
    with pytest.raises(lb.NetworkFileError, match="missing key 'w'"):
        lb.Network.load(trunc)


def test_networkx_round_trip_is_lossless(net1000):
    pruned = net1000.prune(synapses=[0, 5, 10], neurons=[7])
    G = pruned.to_networkx()
    assert G.number_of_nodes() == pruned.n and G.number_of_edges() == len(pruned.w)
    u, v = int(pruned.pre[1]), int(pruned.post[1])
    assert G.edges[u, v]["weight"] == pruned.w[1]
    assert G.nodes[0]["tau_m"] == pruned.params["tau_m"][0]
    back = lb.Network.from_networkx(G)
    assert back.equals(pruned)
    live = pruned.to_networkx(live_only=True)
    assert live.number_of_edges() == pruned.n_synapses
    assert live.number_of_nodes() == pruned.n_active


def test_graph_edits_come_back(net1000):
    G = net1000.to_networkx()
    u, v = int(net1000.pre[0]), int(net1000.post[0])
    G.remove_edge(u, v)
    back = lb.Network.from_networkx(G)
    assert len(back.w) == len(net1000.w) - 1
    np.testing.assert_array_equal(back.w, net1000.w[1:])
