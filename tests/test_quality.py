"""Reservoir quality: memory capacity, kernel and generalisation rank against known answers.

Linear reservoirs have exact answers (MC = N for a generic one, 1 for W = 0, the filter's
own curve for a leaky copy of one unit), rank is checked on generic and degenerate state
matrices, and the spiking measurement on a small HRSNN on the runtime device (no
compilation; same seed, same numbers). The command line is checked end to end and on bad
input.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import lnp_brian as lb
from lnp_brian.cli.main import main
from lnp_brian.tasks.quality import (QualityOptionError, effective_rank, generalization_rank, kernel_rank,
                                     memory_capacity, numerical_rank, quality_options, reservoir_quality,
                                     singular_values)


def linear_states(W, v, u):
    """States of x(t+1) = W x(t) + v u(t); row t is x(t+1), the state after u(t)."""
    x = np.zeros(len(v))
    out = np.empty((len(u), len(v)))
    for t, ut in enumerate(u):
        x = W @ x + v * ut
        out[t] = x
    return out


def orthogonal(n, rho, rng):
    return rho * np.linalg.qr(rng.normal(size=(n, n)))[0]


# ------------------------------------------------------------------------------------------
# memory capacity
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, rho, max_delay, steps", [(20, 0.99, 300, 6000), (40, 0.9, 120, 5000)])
def test_linear_orthogonal_reservoir_remembers_about_n_inputs(n, rho, max_delay, steps):
    """Jaeger (2001): a linear reservoir of N units has MC <= N, = N for generic W and v.
    With rho = 0.99 the memory is spread thinly over hundreds of delays (r^2 ~ 1 - rho^(2N)
    per delay), so the delays must reach far to collect it."""
    rng = np.random.default_rng(1)
    u = rng.uniform(-1, 1, steps)
    states = linear_states(orthogonal(n, rho, rng), 1e-2 * rng.normal(size=n), u)  # small input
    mc = memory_capacity(states, u, max_delay)
    assert 0.9 * n < mc.total <= n + 0.5
    assert mc.r2.shape == (max_delay,) and np.all(mc.r2 >= 0) and np.all(mc.r2 <= 1)
    assert mc.r2[0] > 0.3  # the most recent input is held
    assert mc.n_features == n


def test_no_recurrence_remembers_one_input():
    """W = 0: x(t+1) = v u(t) holds exactly the last input: r^2 = 1 at delay 1, 0 after."""
    rng = np.random.default_rng(2)
    u = rng.uniform(-1, 1, 2000)
    states = linear_states(np.zeros((20, 20)), rng.normal(size=20), u)
    mc = memory_capacity(states, u, 10)
    assert mc.r2[0] == pytest.approx(1.0, abs=1e-9)
    assert np.all(mc.r2[1:] == 0.0)                    # chance correlations clipped
    assert np.all(mc.r2_raw[1:] < 0.02)
    assert mc.total == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("a", [0.5, 0.8])
def test_leaky_copies_of_one_unit_hold_what_the_filter_holds(a):
    """W = a I: every unit is a scaled copy of s(t) = sum_k a^k u(t-k), a one-dimensional
    state whatever N is. Its r^2 at delay k is (1 - a^2) a^(2(k-1)), summing to 1."""
    rng = np.random.default_rng(3)
    u = rng.uniform(-1, 1, 20000)
    states = linear_states(a * np.eye(15), rng.normal(size=15), u)
    mc = memory_capacity(states, u, 12)
    k = np.arange(1, 13)
    expected = (1 - a * a) * a ** (2 * (k - 1))
    np.testing.assert_allclose(mc.r2, expected, atol=0.015)
    assert mc.total == pytest.approx(expected.sum(), abs=0.03)  # not 15: one filter's memory


def test_held_out_scoring_does_not_count_noise_as_memory():
    """States that carry no information about u: a readout with 200 weights fitted on 450
    samples explains much of its training targets by chance; held out and with the
    significance test it finds nothing."""
    rng = np.random.default_rng(4)
    u = rng.uniform(-1, 1, 1000)
    noise = rng.normal(size=(1000, 200))
    mc = memory_capacity(noise, u, 50)
    assert mc.total < 0.2
    assert mc.n_train + mc.n_test == 1000 - 50 + 1


def test_memory_capacity_checks_its_input():
    rng = np.random.default_rng(0)
    x, u = rng.normal(size=(100, 3)), rng.uniform(-1, 1, 100)
    with pytest.raises(ValueError, match="max_delay"):
        memory_capacity(x, u, 0)
    with pytest.raises(ValueError, match="one value per row"):
        memory_capacity(x, u[:-1], 5)
    with pytest.raises(ValueError, match="too few samples"):
        memory_capacity(x[:10], u[:10], 8)
    with pytest.raises(ValueError, match="train_fraction"):
        memory_capacity(x, u, 5, train_fraction=1.0)
    with pytest.raises(ValueError, match="blocks"):
        memory_capacity(x, u, 5, blocks=[1, 1])


# ------------------------------------------------------------------------------------------
# ranks
# ------------------------------------------------------------------------------------------
def tanh_states(W, v, streams, noise=0.0, rng=None):
    """Final state of a tanh reservoir for each input stream (rows), from rest."""
    out = []
    for s in streams:
        x = np.zeros(len(v))
        for ut in s:
            x = np.tanh(W @ x + v * ut)
        out.append(x)
    return np.array(out)


def test_kernel_rank_is_full_for_a_generic_reservoir_and_drops_for_duplicated_units():
    rng = np.random.default_rng(5)
    n, m, length = 20, 60, 30
    W = orthogonal(n, 0.9, rng)
    v = rng.normal(size=n)
    streams = rng.uniform(-1, 1, (m, length))
    states = tanh_states(W, v, streams)
    assert kernel_rank(states) == n                       # m > N streams: rank N
    assert kernel_rank(states, center=True) == n
    # a degenerate reservoir: 10 units, each present twice -> 20 features but rank 10
    half = tanh_states(orthogonal(10, 0.9, rng), rng.normal(size=10), streams)
    assert kernel_rank(half) == 10
    assert kernel_rank(np.repeat(half, 2, axis=1)) == 10
    # fewer streams than units: at most m
    assert kernel_rank(states[:7]) == 7


def test_generalisation_rank_is_below_kernel_rank_for_small_noise():
    rng = np.random.default_rng(6)
    n, m, length = 20, 60, 30
    W = orthogonal(n, 0.9, rng)
    v = rng.normal(size=n)
    base = rng.uniform(-1, 1, length)
    kernel = tanh_states(W, v, rng.uniform(-1, 1, (m, length)))
    general = tanh_states(W, v, base + 1e-3 * rng.normal(size=(m, length)))
    sk = singular_values(kernel)
    tol = 1e-2 * sk[0]
    kr, gr = kernel_rank(kernel, tol=tol), generalization_rank(general, tol=tol)
    assert kr == n
    assert gr < kr and gr <= 2
    # more noise spreads the copies: the generalisation rank grows towards the kernel rank
    noisy = tanh_states(W, v, base + 0.3 * rng.normal(size=(m, length)))
    assert generalization_rank(noisy, tol=tol) > gr


def test_rank_helpers():
    s = np.array([10.0, 1.0, 0.05, 0.0])
    assert numerical_rank(s) == 2                      # rtol 1 %: 0.05 < 0.1
    assert numerical_rank(s, rtol=1e-3) == 3
    assert numerical_rank(s, tol=2.0) == 1
    assert numerical_rank(np.zeros(3)) == 0
    assert effective_rank(np.ones(4)) == pytest.approx(4.0)
    assert effective_rank(np.array([1.0, 0.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        kernel_rank(np.zeros(5))                        # not 2-D


def test_docstring_examples_run():
    import doctest

    from lnp_brian.tasks import quality

    outcome = doctest.testmod(quality)
    assert outcome.failed == 0 and outcome.attempted >= 8


# ------------------------------------------------------------------------------------------
# spiking network
# ------------------------------------------------------------------------------------------
SMALL = dict(n_samples=300, sample_time="5 ms", max_delay=10, streams=20, stream_length=10, washout=10)


@pytest.fixture(scope="module")
def small_net():
    return lb.build_network("hrsnn", n=80, seed=2)


@pytest.fixture(scope="module")
def small_quality(small_net):
    before = lb.compile_count()
    q = reservoir_quality(small_net, "runtime", seed=5, **SMALL)
    return q, lb.compile_count() - before


def test_spiking_reservoir_quality_on_runtime(small_net, small_quality):
    q, compiled = small_quality
    assert compiled == 0 and q.compilations == 0        # runtime: nothing compiled
    assert q.n_neurons == 80 and q.n_features == 80 * 3
    assert 0 < q.memory_capacity <= q.n_features
    assert q.r2.shape == (10,) and q.r2[0] > 0.2
    assert q.m == 20 and q.kernel_singular_values.shape == (20,)
    assert 1 <= q.generalization_rank <= q.kernel_rank <= 20
    assert q.spikes_per_neuron_per_sample > 0
    assert q.runs == 3                                  # MC, kernel, generalisation: one run each
    d = q.to_dict()
    json.dumps(d)
    assert d["memory_capacity"] == q.memory_capacity and d["settings"]["seed"] == 5
    assert d["settings"]["frozen_parameters"] == ["A_plus", "A_minus"]


def test_spiking_reservoir_quality_same_seed_same_numbers(small_net, small_quality):
    q, _ = small_quality
    again = reservoir_quality(small_net, "runtime", seed=5, **SMALL)
    assert again.memory_capacity == q.memory_capacity
    np.testing.assert_array_equal(again.r2, q.r2)
    assert again.kernel_rank == q.kernel_rank and again.generalization_rank == q.generalization_rank
    np.testing.assert_array_equal(again.kernel_singular_values, q.kernel_singular_values)


def test_reservoir_quality_option_errors_name_the_option(small_net):
    for kwargs, option in [({"n_samples": 5}, "n_samples"), ({"sample_time": 5}, "sample_time"),
                           ({"sample_time": "0.25 ms"}, "sample_time"), ({"input_gain": "3 mV"}, "input_gain"),
                           ({"input_fraction": 0}, "input_fraction"), ({"max_delay": 1999}, "max_delay"),
                           ({"streams": 1}, "streams"), ({"stream_length": 5000}, "stream_length")]:
        with pytest.raises(QualityOptionError) as info:
            reservoir_quality(small_net, "runtime", **kwargs)
        assert info.value.option == option and option in str(info.value)
    with pytest.raises(ValueError, match="no spiking neurons"):
        reservoir_quality(lb.build_network("lorenz63"), "runtime")
    assert quality_options()["input_gain"] == pytest.approx(3200e-12)  # the series encoder's default


@pytest.mark.slow
def test_cpp_standalone_compiles_once_and_reuses(small_net, tmp_path):
    kw = dict(SMALL, seed=5, build_dir=tmp_path / "build", reuse=True)
    first = reservoir_quality(small_net, "cpp_standalone", **kw)
    assert first.compilations == 1 and first.runs == 3
    second = reservoir_quality(small_net, "cpp_standalone", **kw)
    assert second.compilations == 0
    assert second.memory_capacity == first.memory_capacity
    assert 0 < first.memory_capacity <= first.n_features


# ------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------
CLI = ["quality", "--model", "hrsnn", "--neurons", "60", "--device", "runtime", "--seed", "3",
       "--samples", "200", "--sample-time", "5 ms", "--max-delay", "8", "--streams", "12", "--quiet"]


def test_cli_writes_json_and_figure(tmp_path, capsys):
    out = tmp_path / "q"
    assert main(CLI + ["--out", str(out)]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "complete"
    data = json.loads((out / "quality.json").read_text())
    assert 0 < data["memory_capacity"] <= data["n_features"] == 180
    assert data["m"] == 12 and data["compilations"] == 0
    assert (out / "quality.png").stat().st_size > 10_000
    assert set(info["manifest"]) >= {"run.json", "run.log", "quality.json", "quality.png", "network.npz"}
    # an existing run is kept unless asked
    assert main(CLI + ["--out", str(out)]) == 2
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.parametrize("extra, phrase", [
    (["--samples", "0"], "--samples"),
    (["--sample-time", "5 mV"], "--sample-time"),
    (["--input-gain", "-3 pA"], "--input-gain"),
    (["--streams", "1"], "--streams"),
    (["--max-delay", "500"], "--max-delay"),
    (["--sample-time", "0.25 ms"], "--sample-time"),
    (["--neurons", "0"], "--neurons"),
    (["--model", "lorenz63"], "--model"),
    (["--model", "nosuchmodel"], "shipped models"),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, extra, phrase):
    argv = CLI + extra + ["--out", str(tmp_path / "out")]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse type errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and phrase in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
