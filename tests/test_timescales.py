"""lnp_brian.pruning.timescales: bounds, rank-keeping gamma candidates, the spectral objective and the
TPE optimiser of the surviving neurons' time constants. Pure NumPy objectives (no Brian2
simulation); the whole file runs in a few seconds on 2 cores."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
import scipy.sparse as sp

import lnp_brian as lb
from lnp_brian.model.distributions import Distribution
from lnp_brian.lyapunov.spectrum import linear_rate_matrix
from lnp_brian.pruning.timescales import (DEFAULT_HIGH_FACTOR, DEFAULT_LOW_FRACTION, PENALTY_SCALE,
                                          SHAPE_RANGE, TimescaleResult, gamma_fit, gamma_taus,
                                          instability_penalty, leading_real_parts, optimise_timescales,
                                          parameter_bounds, random_timescales, spectral_distance,
                                          timescale_objective)

MS = 1e-3
BOUNDS = (2 * MS, 200 * MS)  # hrsnn's tau_m min and max


@pytest.fixture(scope="module")
def taus():
    """150 neurons with hrsnn-like taus (gamma, mean 20 ms, CV 0.5, clipped), 70 % active."""
    gen = np.random.default_rng(0)
    tau = np.clip(gen.gamma(4.0, 20 * MS / 4.0, 150), *BOUNDS)
    active = gen.random(150) < 0.7
    return tau, active


def cv_objective(active):
    """Known optimum: active taus with CV 0.8 and mean 25 ms (reachable: shape ~1.6)."""
    def objective(t):
        x = t[active]
        return abs(x.std() / x.mean() - 0.8) + abs(x.mean() - 25 * MS) / (10 * MS)
    return objective


def spectral_problem(seed, shape, mean):
    """Linear rate model A = D (g W^T - I) on 120 neurons (taus like hrsnn's); the reference
    spectrum (k = 20) is that of the same W and gains at target taus: gamma (shape, mean) at the
    ranks of the start taus, so the optimum (value 0) lies in the search space."""
    gen = np.random.default_rng(seed)
    n = 120
    tau = np.clip(gen.gamma(4.0, 20 * MS / 4.0, n), *BOUNDS)
    W = sp.random(n, n, density=0.1, random_state=100 + seed,
                  data_rvs=lambda m: gen.normal(0.0, 1.0, m)).tocsr()
    g = np.full(n, 0.9 / np.sqrt(0.1 * n))  # spectral radius of g W^T about 0.9: stable
    k = 20
    target = gamma_taus(tau, None, shape, mean, BOUNDS)
    ref = leading_real_parts(linear_rate_matrix(W, g, target), k)

    def objective(t):
        return timescale_objective(linear_rate_matrix(W, g, t), ref, k)
    return tau, objective


def random_search(objective, tau, active, trials, seed, log_mean=True):
    """The same budget spent on random draws: trial 0 unchanged, then trials - 1 draws of
    random_timescales (mean log-uniform: the optimiser's space and measure) or, with
    log_mean=False, of a mean uniform on the same range (the former pruning code's draw)."""
    gen = np.random.default_rng(seed)
    lo, hi = max(0.5 * tau.mean(), BOUNDS[0]), min(2.0 * tau.mean(), BOUNDS[1])
    best = objective(tau)
    for _ in range(trials - 1):
        if log_mean:
            t = random_timescales(tau, active, BOUNDS, gen).tau
        else:
            shape = np.exp(gen.uniform(*np.log(SHAPE_RANGE)))
            t = gamma_taus(tau, active, shape, gen.uniform(lo, hi), BOUNDS)
        best = min(best, objective(t))
    return best


# ---- bounds ---------------------------------------------------------------------------------

def test_parameter_bounds_from_shipped_models():
    hrsnn = lb.load_model("hrsnn")
    assert parameter_bounds(hrsnn) == pytest.approx((2 * MS, 200 * MS))
    assert parameter_bounds(hrsnn.neuron.parameters, "tau_m") == pytest.approx((2 * MS, 200 * MS))
    # tau_syn has min 1 ms and no max: 100 x its mean (5 ms)
    assert parameter_bounds(hrsnn, "tau_syn") == pytest.approx((1 * MS, 5 * MS * DEFAULT_HIGH_FACTOR))
    # clusters override tau_m: widest explicit bounds (1 ms from two clusters, 200 ms from the base)
    assert parameter_bounds(lb.load_model("chrsnn")) == pytest.approx((1 * MS, 200 * MS))


def test_parameter_bounds_defaults_and_errors():
    d = Distribution.gamma(20 * MS, 0.5)
    assert parameter_bounds(d) == pytest.approx((20 * MS * DEFAULT_LOW_FRACTION, 20 * MS * DEFAULT_HIGH_FACTOR))
    assert parameter_bounds(Distribution.gamma(20 * MS, 0.5, max=0.1)) == pytest.approx((0.2 * MS, 0.1))
    with pytest.raises(KeyError, match="tau_x"):
        parameter_bounds({"tau_m": d}, "tau_x")
    with pytest.raises(ValueError, match="v_off"):
        parameter_bounds({"v_off": Distribution("normal", {"mean": -0.06, "std": 0.01})}, "v_off")
    with pytest.raises(ValueError, match="tau_m"):
        parameter_bounds({"tau_m": Distribution.gamma(20 * MS, 0.5, min=3.0)}, "tau_m")  # default max 2 s < min


# ---- candidates -----------------------------------------------------------------------------

def test_gamma_taus_keeps_ranks_bounds_and_inactive(taus):
    tau, active = taus
    for shape, mean in ((1.0, 60 * MS), (4.0, 20 * MS), (25.0, 3 * MS)):
        new = gamma_taus(tau, active, shape, mean, BOUNDS)
        assert new is not tau and np.array_equal(tau, taus[0])  # input untouched
        assert np.all((new >= BOUNDS[0]) & (new <= BOUNDS[1]))
        np.testing.assert_array_equal(new[~active], tau[~active])
        order = np.argsort(tau[active], kind="stable")
        assert np.all(np.diff(new[active][order]) >= 0)
    # ties share a rank, hence a value
    tied = np.array([0.01, 0.02, 0.02, 0.03])
    out = gamma_taus(tied, None, 4.0, 0.02, BOUNDS)
    assert out[1] == out[2] and out[0] < out[1] < out[3]
    shape, mean = gamma_fit(tau, active)
    assert mean == pytest.approx(tau[active].mean())
    assert shape == pytest.approx(tau[active].mean() ** 2 / tau[active].var())


# ---- spectral objective ---------------------------------------------------------------------

def test_spectral_distance():
    s = np.array([-1.0, -3.0, -2.0, -10.0])
    assert spectral_distance(s, s) == 0.0
    assert spectral_distance(s[::-1], s) == 0.0  # sorted first
    # first k = 2 exponents: |-1 - -1.5| and |-2 - -2|
    assert spectral_distance(s, [-1.5, -2.0]) == pytest.approx(0.25)


def test_instability_penalty_applied_iff_unstable():
    gen = np.random.default_rng(1)
    Q, _ = np.linalg.qr(gen.standard_normal((30, 30)))
    ref = -np.linspace(5.0, 30.0, 10)
    for top in (-2.0, -1e-9, 0.0, 3.0):
        eig = np.concatenate([[top], -np.linspace(5.0, 60.0, 29)])
        gen.shuffle(eig)
        # triangular: its eigenvalues are exactly its diagonal, so max Re = top, 0 included
        A = np.triu(gen.standard_normal((30, 30)), 1) + np.diag(eig)
        assert leading_real_parts(A, 1)[0] == top
        distance = spectral_distance(leading_real_parts(A, 10), ref)
        value = timescale_objective(A, ref)
        if top >= 0:
            expected = PENALTY_SCALE * (np.mean(np.abs(ref)) + top)
            assert value == pytest.approx(distance + expected)
        else:
            assert value == pytest.approx(distance)
    assert instability_penalty(-0.1, ref) == 0.0
    assert instability_penalty(0.0, np.zeros(3)) == PENALTY_SCALE  # scale floor 1/s
    # sparse input and the active restriction give the same numbers as the dense submatrix
    A = Q @ np.diag(-np.linspace(1.0, 30.0, 30)) @ Q.T
    keep = np.arange(30) % 3 != 0
    np.testing.assert_allclose(leading_real_parts(sp.csr_matrix(A), 5, keep),
                               leading_real_parts(A[np.ix_(keep, keep)], 5))


def test_leading_real_parts_arpack_path(monkeypatch):
    import lnp_brian.pruning.timescales as ts

    gen = np.random.default_rng(2)
    n = 300
    A = sp.random(n, n, density=0.05, random_state=3, data_rvs=lambda m: gen.normal(0, 0.2, m)) - sp.eye(n) * 2.0
    dense = ts.leading_real_parts(A, 6)
    monkeypatch.setattr(ts, "DENSE_EIG_MAX", 100)
    np.testing.assert_allclose(ts.leading_real_parts(A, 6), dense, atol=1e-6)


# ---- optimiser ------------------------------------------------------------------------------

def test_first_trial_is_unchanged_and_result_never_worse(taus):
    tau, active = taus
    objective = cv_objective(active)
    seen = []

    def recording(t):
        seen.append(t.copy())
        return objective(t)

    res = optimise_timescales(recording, tau, active, BOUNDS, trials=6, seed=3)
    assert isinstance(res, TimescaleResult)
    np.testing.assert_array_equal(seen[0], tau)
    assert res.first_value == objective(tau)  # exactly
    assert res.values[0] == res.first_value and len(res.values) == res.trials == len(seen) == 6
    assert res.best_value == min(res.values) <= res.first_value
    assert res.best_value == objective(res.tau)

    # an objective that every change makes worse: keep the unchanged taus
    kept = optimise_timescales(lambda t: float(np.abs(t - tau).sum()), tau, active, BOUNDS, trials=7, seed=0)
    assert not kept.changed and np.array_equal(kept.tau, tau)
    assert kept.best_value == kept.first_value == 0.0
    assert math.isnan(kept.shape) and math.isnan(kept.mean)
    assert kept.cv_after == kept.cv_before


@pytest.mark.parametrize("trials", [1, 2, 3, 5, 9, 12])
def test_bounds_ranks_inactive_and_sampler_phases(taus, trials):
    tau, active = taus
    evaluated = []

    def objective(t):
        evaluated.append(t.copy())
        return cv_objective(active)(t)

    res = optimise_timescales(objective, tau, active, BOUNDS, trials=trials, seed=trials)
    assert len(evaluated) == trials
    order = np.argsort(tau[active], kind="stable")
    for t in [*evaluated, res.tau]:  # every candidate, not only the chosen one
        assert np.all((t >= BOUNDS[0]) & (t <= BOUNDS[1]))
        np.testing.assert_array_equal(t[~active], tau[~active])
        assert np.all(np.diff(t[active][order]) >= 0)
    # start-up phase: max(1, trials // 3) trials, the gamma fit then Halton points; then TPE
    # (a "tpe" source means TPE's model made the proposal: trial.relative_params non-empty)
    assert res.n_startup == max(1, trials // 3) <= max(1, trials / 3)
    expected = ["unchanged", "enqueued", *["halton"] * (res.n_startup - 1)][:trials]
    expected += ["tpe"] * (trials - len(expected))
    assert list(res.sources) == expected
    if trials >= 9:  # e.g. 9 trials: trial 0 unchanged, 1 gamma fit, 2-3 Halton, 4-8 TPE
        assert res.sources.count("tpe") == trials - 1 - res.n_startup >= 5


def test_enqueued_trial_is_the_gamma_fit(taus):
    tau, active = taus
    evaluated = []
    optimise_timescales(lambda t: evaluated.append(t.copy()) or 0.0, tau, active, BOUNDS, trials=2, seed=0)
    shape, mean = gamma_fit(tau, active)
    np.testing.assert_allclose(evaluated[1], gamma_taus(tau, active, shape, mean, BOUNDS))


def test_optimiser_beats_first_trial_and_random_search(taus):
    # CV/mean objective (optimum CV 0.8, mean 25 ms), 12 trials, seeds 0-4. Measured: first
    # trial 0.99, optimiser mean best 0.28 (random search with the same budget, seeds 0-4: 0.43).
    tau, active = taus
    objective = cv_objective(active)
    first = objective(tau)
    best = [optimise_timescales(objective, tau, active, BOUNDS, 12, seed).best_value for seed in range(5)]
    assert np.mean(best) < 0.5 * first

    # Spectral objective, two problems (targets: shape 2.5, mean 12 ms; shape 12, mean 35 ms;
    # start mean 20 ms), 12 trials, 20 seeds each; random search with the same budget, with
    # the mean log-uniform (the optimiser's space) or uniform on the same range. Measured (1/s):
    #   problem   first   optimiser   random log   random uniform
    #   A         11.11   1.50        2.44         4.23
    #   B          7.76   0.50        1.00         0.52
    # Geometric-mean ratio optimiser / random: 0.56 (log), 0.59 (uniform). In the optimiser's
    # place, a random search (log) gives 0.85 / 0.90 and the former default TPE (10 random
    # start-up trials, uniform mean, no enqueued fit) 0.82 / 0.86: both fail the 0.7 bound,
    # a no-op fails the 0.2 x first bound. Over 60 seeds the optimiser's groups of 20 gave
    # 1.50-1.96 on A and 0.50-0.60 on B. Over eight such problems (30-40 seeds each) the
    # optimiser was 0.77 x random (log) and 0.81 x random (uniform) in geometric mean.
    firsts, opt, rnd_log, rnd_lin = [], [], [], []
    for seed, shape, mean in ((3, 2.5, 12 * MS), (4, 12.0, 35 * MS)):
        tau, objective = spectral_problem(seed, shape, mean)
        firsts.append(objective(tau))
        opt.append(np.mean([optimise_timescales(objective, tau, None, BOUNDS, 12, s).best_value
                            for s in range(20)]))
        rnd_log.append(np.mean([random_search(objective, tau, None, 12, 1000 + s) for s in range(20)]))
        rnd_lin.append(np.mean([random_search(objective, tau, None, 12, 2000 + s, log_mean=False)
                                for s in range(20)]))
    opt, rnd_log, rnd_lin = np.array(opt), np.array(rnd_log), np.array(rnd_lin)
    assert np.all(opt < 0.2 * np.array(firsts))
    assert np.all(opt < rnd_log)
    assert np.exp(np.mean(np.log(opt / rnd_log))) < 0.7
    assert np.exp(np.mean(np.log(opt / rnd_lin))) < 0.7


def test_random_timescales(taus):
    tau, active = taus
    gen = np.random.default_rng(5)
    mean0 = tau[active].mean()
    shapes, means = [], []
    for _ in range(50):
        r = random_timescales(tau, active, BOUNDS, gen)
        assert r.changed and r.trials == 0 and math.isnan(r.first_value)
        assert SHAPE_RANGE[0] <= r.shape <= SHAPE_RANGE[1]
        assert max(0.5 * mean0, BOUNDS[0]) <= r.mean <= min(2.0 * mean0, BOUNDS[1])
        assert np.all((r.tau >= BOUNDS[0]) & (r.tau <= BOUNDS[1]))
        np.testing.assert_array_equal(r.tau[~active], tau[~active])
        shapes.append(r.shape)
        means.append(r.mean)
    # log-uniform: about half the draws below the geometric midpoint (and the mean's range,
    # 0.5-2 x the current mean, is centred on it in log)
    assert 0.3 < np.mean(np.array(shapes) < np.sqrt(np.prod(SHAPE_RANGE))) < 0.7
    assert 0.3 < np.mean(np.array(means) < mean0) < 0.7
    # the mean's range is cut by the bounds: taus near the upper bound
    r = random_timescales(np.full(10, 150 * MS), None, BOUNDS, gen)
    assert r.mean <= BOUNDS[1]


def test_optuna_verbosity_restored_and_bad_input(taus):
    tau, active = taus
    old = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        optimise_timescales(cv_objective(active), tau, active, BOUNDS, trials=3, seed=0)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO

        def boom(t):
            if not np.array_equal(t, tau):
                raise RuntimeError("simulation failed")
            return 1.0
        with pytest.raises(RuntimeError):
            optimise_timescales(boom, tau, active, BOUNDS, trials=3, seed=0)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(old)
    # NaN counts as the worst value; never chosen
    res = optimise_timescales(lambda t: 1.0 if np.array_equal(t, tau) else math.nan, tau, active, BOUNDS, 4, 0)
    assert not res.changed and res.values[1:] == (math.inf,) * 3
    with pytest.raises(ValueError, match="trials"):
        optimise_timescales(cv_objective(active), tau, active, BOUNDS, trials=0, seed=0)
    with pytest.raises(ValueError, match="bounds"):
        optimise_timescales(cv_objective(active), tau, active, (0.2, 0.002), trials=3, seed=0)
    with pytest.raises(ValueError, match="no active"):
        optimise_timescales(cv_objective(active), tau, np.zeros_like(active), BOUNDS, trials=3, seed=0)
