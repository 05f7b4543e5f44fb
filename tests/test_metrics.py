"""Metrics: RMSE/NRMSE/accuracy, synaptic operations and size counts on hand-built cases."""

from __future__ import annotations

import numpy as np
import pytest

import lnp_brian as lb
from lnp_brian.tasks.metrics import accuracy, counts, input_fan_out, nrmse, rmse, sops

# 4 neurons, 6 synapses (sorted by pre, post): out-degrees 3, 1, 1, 1
PRE = [0, 0, 0, 1, 2, 3]
POST = [1, 2, 3, 2, 0, 0]


@pytest.fixture(scope="module")
def tiny():
    base = lb.build_network("hrsnn", n=4, seed=0)
    return base.replace(pre=np.array(PRE), post=np.array(POST), w=np.full(6, 1e-12),
                        syn_params={}, syn_mask=np.ones(6, bool))


def spikes(n=4, copies=1, per_neuron=(2, 3, 0, 1), copy=0):
    """A SimResult where neuron j of ``copy`` spikes per_neuron[j] times (other copies: once
    per neuron, to check that they are not counted)."""
    t, i = [], []
    for c in range(copies):
        counts_c = per_neuron if c == copy else (1,) * n
        for j, k in enumerate(counts_c):
            t += list(np.linspace(0.01, 0.09, k) + 0.001 * j) if k else []
            i += [c * n + j] * k
    order = np.argsort(t, kind="stable")
    return lb.SimResult(n=n, copies=copies, duration=0.1, dt=1e-4,
                        spike_t=np.asarray(t)[order], spike_i=np.asarray(i, np.int32)[order])


def test_rmse_nrmse_accuracy_by_hand():
    y = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 40.0], [6.0, 40.0]])
    p = y + np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 15.0], [-1.0, -15.0]])
    # per variable: RMSE 1 and sqrt(2 * 15^2 / 4) = 10.607; stds sqrt(5) and 15
    np.testing.assert_allclose(rmse(y, p, "raw_values"), [1.0, np.sqrt(112.5)])
    assert rmse(y, p) == pytest.approx((1.0 + np.sqrt(112.5)) / 2)
    np.testing.assert_allclose(nrmse(y, p, "raw_values"), [1 / np.sqrt(5), np.sqrt(112.5) / 15])
    assert nrmse(y, p) == pytest.approx((1 / np.sqrt(5) + np.sqrt(112.5) / 15) / 2)
    # predicting the mean gives NRMSE 1; affine changes of units leave NRMSE unchanged
    assert nrmse(y, np.broadcast_to(y.mean(0), y.shape)) == pytest.approx(1.0)
    assert nrmse(3 * y - 7, 3 * p - 7) == pytest.approx(nrmse(y, p))
    assert rmse(y[:, 0], p[:, 0]) == pytest.approx(1.0)
    assert accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75


def test_metric_errors():
    with pytest.raises(ValueError, match="shape"):
        rmse(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="constant"):
        nrmse(np.ones((5, 2)) * [1, 2], np.zeros((5, 2)))
    with pytest.raises(ValueError, match="multioutput"):
        nrmse(np.arange(3.0), np.arange(3.0), multioutput="mean")
    with pytest.raises(ValueError, match="same length"):
        accuracy([1, 2], [1])


def test_sops_by_hand(tiny):
    r = spikes()  # spikes 2, 3, 0, 1
    out = sops(r, tiny, readout_size=3, input_synapses=([5, 2], [2, 1]))
    assert out["recurrent"] == 2 * 3 + 3 * 1 + 0 * 1 + 1 * 1 == 10
    assert out["readout"] == 6 * 3
    assert out["input"] == 5 * 2 + 2 * 1
    assert out["total"] == 10 + 18 + 12
    assert out["spikes"] == 6
    half = sops(r, tiny, readout_size=3, input_synapses=([5, 2], [2, 1]), per_sample=2)
    assert half == {k: v / 2 for k, v in out.items()}
    assert sops(r, tiny)["total"] == 10  # no readout, no input


def test_sops_only_counts_the_chosen_copy(tiny):
    r = spikes(copies=3, copy=1)
    assert sops(r, tiny, copy=1)["recurrent"] == 10
    assert sops(r, tiny, copy=0)["recurrent"] == 3 + 1 + 1 + 1
    with pytest.raises(ValueError, match="copy"):
        sops(r, tiny, copy=3)


def test_result_refuses_a_copy_it_does_not_hold():
    """Copy 2 of a two-copy result (or copy -1) is an error, not an empty, silent network."""
    r = spikes(copies=2, copy=1)
    assert r.spike_counts(1).tolist() == [2, 3, 0, 1] and r.spike_counts(0).tolist() == [1, 1, 1, 1]
    for bad in (2, -1, 1.0, True):
        for method in (r.spikes, r.spike_counts, r.rates, r.isi_cv):
            with pytest.raises(IndexError, match="2 copies, numbered 0 to 1"):
                method(bad)


def test_pruned_synapses_cost_nothing(tiny):
    pruned = tiny.prune(synapses=[2])  # 0 -> 3 masked: neuron 0 out-degree 3 -> 2
    assert sops(spikes(), pruned)["recurrent"] == 2 * 2 + 3 * 1 + 1 * 1 == 8
    # a masked synapse still in the list (weight 0) changes nothing else
    assert len(pruned.pre) == 6 and pruned.n_synapses == 5


def test_inactive_neurons_do_not_count(tiny):
    pruned = tiny.prune(neurons=[3])  # kills 0 -> 3 and 3 -> 0; its spike is ignored
    out = sops(spikes(), pruned, readout_size=3)
    assert out["recurrent"] == 2 * 2 + 3 * 1 == 7
    assert out["spikes"] == 5
    assert out["readout"] == 5 * 3
    # silenced through `active` alone (synapse mask untouched): same numbers
    silenced = tiny.replace(active=np.array([True, True, True, False]))
    assert silenced.syn_mask.all()
    assert sops(spikes(), silenced, readout_size=3) == out
    assert counts(silenced)["recurrent_synapses"] == 4


def test_input_fan_out_skips_inactive_targets(tiny):
    pruned = tiny.prune(neurons=[3])
    src, tgt = [0, 0, 1, 1, 1], [1, 3, 0, 2, 3]
    np.testing.assert_array_equal(input_fan_out(src, tgt, 2), [2, 3])
    np.testing.assert_array_equal(input_fan_out(src, tgt, 2, active=pruned.active), [1, 2])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        input_fan_out([0, 2], [1, 1], 2)


def test_sops_errors(tiny):
    with pytest.raises(ValueError, match="5 neurons per copy but the network 4"):
        sops(spikes(n=5, per_neuron=(1, 1, 1, 1, 1)), tiny)
    with pytest.raises(ValueError, match="pair"):
        sops(spikes(), tiny, input_synapses=3)
    with pytest.raises(ValueError, match="one entry per input source"):
        sops(spikes(), tiny, input_synapses=([1, 2], [1, 2, 3]))
    with pytest.raises(ValueError, match="per_sample"):
        sops(spikes(), tiny, per_sample=0)


def test_counts_with_and_without_readout(tiny):
    c = counts(tiny, readout_size=3, input_synapses=7)
    assert c == {"neurons": 4, "synapses": 6 + 7, "recurrent_synapses": 6, "input_synapses": 7,
                 "readout_neurons": 3, "readout_synapses": 12, "neurons_with_readout": 7,
                 "synapses_with_readout": 6 + 7 + 12}
    p = counts(tiny.prune(neurons=[3], synapses=[3]), readout_size=3,
               input_synapses=([5, 2], [2, 1]))
    # left: 0 -> 1, 0 -> 2, 2 -> 0 (1 -> 2 masked; 0 -> 3, 3 -> 0 died with neuron 3)
    assert (p["neurons"], p["recurrent_synapses"], p["input_synapses"]) == (3, 3, 3)
    assert p["readout_synapses"] == 9 and p["synapses_with_readout"] == 3 + 3 + 9
