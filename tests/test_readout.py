"""Readouts: spike features checked against hand counts and the analytic kernel; ridge and
logistic readouts on problems with known answers; scikit-learn estimator conventions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator
from threadpoolctl import threadpool_limits

import lnp_brian as lb
from lnp_brian.tasks.datasets import digits, stratified_split
from lnp_brian.tasks.metrics import nrmse
from lnp_brian.simulation.traces import count_features, filtered_features
from lnp_brian.tasks.readout import ClassifierReadout, RidgeReadout


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """These problems are tiny: multi-threaded OpenBLAS only adds overhead, and on a busy
    2-core machine its spinning threads made one small logistic fit take seconds, not 0.1 s."""
    with threadpool_limits(1, user_api="blas"):
        yield


def result(times, neurons, n=3, copies=1, duration=1.0):
    t = np.asarray(times, float)
    order = np.argsort(t, kind="stable")
    return lb.SimResult(n=n, copies=copies, duration=duration, dt=1e-4, spike_t=t[order],
                        spike_i=np.asarray(neurons, np.int32)[order])


# ---- features ------------------------------------------------------------------------------
def test_filtered_features_match_the_exponential_kernel():
    tau, ts = 0.02, 0.0123
    r = result([ts], [1], duration=0.1)
    x = filtered_features(r, tau, sample_dt=0.01)
    s = 0.01 * np.arange(1, 11)  # samples at the end of each step
    expected = np.where(s >= ts, np.exp(-(s - ts) / tau), 0.0)
    assert x.shape == (10, 3)
    np.testing.assert_allclose(x[:, 1], expected, rtol=1e-12, atol=0)
    assert not x[:, [0, 2]].any()
    # explicit, irregular sample times take the general path and agree with the kernel
    s2 = np.array([0.005, 0.0123, 0.013, 0.05, 0.0999])
    x2 = filtered_features(r, tau, sample_times=s2, neurons=[1])
    np.testing.assert_allclose(x2[:, 0], np.where(s2 >= ts, np.exp(-(s2 - ts) / tau), 0.0),
                               rtol=1e-12)
    assert x2[1, 0] == 1.0  # a spike exactly at a sample counts in full there


def test_alpha_kernel_features_are_the_alpha_function_of_every_spike():
    """K(d) = (d/tau) exp(-d/tau) summed over spikes, on the uniform (recursive) and the
    irregular path alike: peak 1/e at d = tau, and a spike at a sample time adds nothing there."""
    tau = 0.02
    spikes = [0.0123, 0.031, 0.0605]
    r = result(spikes, [1, 1, 1], duration=0.2)

    def alpha(s):
        d = s[:, None] - np.asarray(spikes)[None, :]
        return np.where(d >= 0, d / tau * np.exp(-d / tau), 0.0).sum(1)

    s = 0.01 * np.arange(1, 21)
    x = filtered_features(r, tau, sample_dt=0.01, kernel="alpha")
    np.testing.assert_allclose(x[:, 1], alpha(s), rtol=1e-12, atol=1e-15)
    assert not x[:, [0, 2]].any()
    s2 = np.array([0.0123, 0.0323, 0.04, 0.0605, 0.15])
    x2 = filtered_features(r, tau, sample_times=s2, neurons=[1], kernel="alpha")
    np.testing.assert_allclose(x2[:, 0], alpha(s2), rtol=1e-12, atol=1e-15)
    assert x2[0, 0] == 0.0 and x2[1, 0] == pytest.approx(np.exp(-1) + 0.065 * np.exp(-0.065))
    with pytest.raises(ValueError, match="kernel must be one of 'exponential', 'alpha'"):
        filtered_features(r, tau, sample_dt=0.01, kernel="gauss")


def test_filtered_features_superpose_and_respect_copy_and_neurons():
    tau = 0.03
    # copy 1 (neurons 3..5): neuron 2 spikes at 0.1 and 0.25; copy 0 has other spikes
    r = result([0.05, 0.1, 0.25, 0.3], [0, 5, 5, 2], n=3, copies=2, duration=0.5)
    x = filtered_features(r, tau, sample_dt=0.05, copy=1, neurons=[2, 0])
    s = 0.05 * np.arange(1, 11)
    k = sum(np.where(s >= t0, np.exp(-(s - t0) / tau), 0.0) for t0 in (0.1, 0.25))
    np.testing.assert_allclose(x[:, 0], k, rtol=1e-12)
    assert not x[:, 1].any()
    # with t_start, only whole steps after it are sampled
    assert filtered_features(r, tau, sample_dt=0.05, t_start=0.12).shape == (7, 3)


def test_filtered_features_errors():
    r = result([0.1], [0])
    with pytest.raises(ValueError, match="exactly one"):
        filtered_features(r, 0.02)
    with pytest.raises(ValueError, match="increasing"):
        filtered_features(r, 0.02, sample_times=[0.2, 0.1])
    with pytest.raises(ValueError, match="tau"):
        filtered_features(r, 0.0, sample_dt=0.01)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        filtered_features(r, 0.02, sample_dt=0.01, neurons=[3])


def test_count_features_count_exactly():
    # dyadic times, so window edges are exact in floating point
    times = [0.0, 0.03125, 0.1171875, 0.125, 0.1875, 0.1875, 0.2421875, 0.375]
    neur = [0, 1, 1, 2, 0, 0, 1, 2]
    r = result(times, neur, duration=0.5)
    c = count_features(r, [0.0, 0.125, 0.0625, 0.375, 0.25], 0.125)
    expected = [
        [1, 2, 0],  # [0, 0.125): 0 (n0), 0.03125 and 0.1171875 (n1); 0.125 is the next's
        [2, 1, 1],  # [0.125, 0.25): 0.125 (n2), two at 0.1875 (n0), 0.2421875 (n1)
        [0, 1, 1],  # [0.0625, 0.1875), overlapping both: 0.1171875 (n1), 0.125 (n2)
        [0, 0, 1],  # [0.375, 0.5): 0.375 (n2)
        [0, 0, 0],  # [0.25, 0.375): nothing (0.375 is excluded)
    ]
    np.testing.assert_array_equal(c, expected)
    assert c.dtype == np.int64
    np.testing.assert_array_equal(count_features(r, [0.0], 0.5, neurons=[2, 1]), [[2, 3]])
    # copies: copy 1 of a 2-copy result holds none of these spikes
    r2 = result(times, neur, n=3, copies=2, duration=0.5)
    assert not count_features(r2, [0.0], 0.5, copy=1).any()
    with pytest.raises(ValueError, match="window_length"):
        count_features(r, [0.0], 0.0)


# ---- ridge ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def linear_problem():
    rng = np.random.default_rng(1)
    n, d, k, noise = 3000, 12, 3, 0.05
    scales = np.logspace(-2, 2, d)  # features on very different scales (like rates)
    X = (rng.normal(size=(n, d)) + rng.normal(size=d)) * scales  # offsets, too
    W = rng.normal(size=(d, k)) / scales[:, None]
    b = np.array([1.0, -2.0, 0.5])
    Y = X @ W + b + noise * rng.normal(size=(n, k))
    return X, Y, W, b, noise


@pytest.mark.parametrize("cv", ["blocked", "forward", "gcv", 3])
def test_ridge_recovers_a_linear_map(linear_problem, cv):
    X, Y, W, b, noise = linear_problem
    tr, te = slice(0, 2000), slice(2000, None)
    m = RidgeReadout(cv=cv).fit(X[tr], Y[tr])
    assert m.coef_.shape == (3, 12) and m.intercept_.shape == (3,)
    # standard error of a coefficient ~ noise / (sqrt(n) * feature scale): well below 0.01
    np.testing.assert_allclose(m.coef_.T * np.logspace(-2, 2, 12)[:, None],
                               W * np.logspace(-2, 2, 12)[:, None], atol=0.01)
    np.testing.assert_allclose(m.intercept_, b, atol=0.05)
    floor = np.mean(noise / Y[te].std(axis=0))  # NRMSE of the true map on the test rows
    got = nrmse(Y[te], m.predict(X[te]))
    assert floor * 0.9 < got < floor * 1.1
    assert m.score(X[te], Y[te]) == pytest.approx(-got)
    # coef_/intercept_ are in original units: they reproduce the predictions
    np.testing.assert_allclose(X[te] @ m.coef_.T + m.intercept_, m.predict(X[te]), atol=1e-9)


def test_ridge_regularises_when_features_are_useless():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(400, 50)), rng.normal(size=400)
    m = RidgeReadout(alphas=np.logspace(-3, 5, 9)).fit(X, y)
    assert m.alpha_ >= 1e2  # pure noise: CV picks strong shrinkage
    assert m.predict(X).shape == (400,)
    assert len(m.cv_scores_) == 9
    one = RidgeReadout(cv="gcv").fit(X, y[:, None])
    assert one.predict(X).shape == (400, 1)  # a 2-D single target stays 2-D


def test_ridge_bad_cv():
    with pytest.raises(ValueError, match="'blocked', 'forward', 'gcv'"):
        RidgeReadout(cv="loo").fit(np.zeros((10, 2)), np.arange(10.0))


# ---- classifier ----------------------------------------------------------------------------
def test_classifier_separates_separable_classes():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(4, 20)) * 4.0
    y = rng.integers(0, 4, size=800)
    X = centres[y] + rng.normal(size=(800, 20))
    m = ClassifierReadout(Cs=(0.01, 1.0), cv=3).fit(X[:600], y[:600])
    assert m.score(X[600:], y[600:]) > 0.98
    np.testing.assert_array_equal(m.classes_, [0, 1, 2, 3])
    assert m.C_ in (0.01, 1.0) and m.predict_proba(X[:5]).shape == (5, 4)


def test_classifier_on_digit_pixels():
    images, labels = digits()
    xtr, xte, ytr, yte = stratified_split(images.reshape(len(images), -1), labels, seed=0)
    m = ClassifierReadout(Cs=(0.1,)).fit(xtr, ytr)
    assert m.score(xte, yte) > 0.93  # linear models reach ~0.95-0.97 on these pixels


# ---- scikit-learn conventions ------------------------------------------------------------
@pytest.mark.parametrize("est", [RidgeReadout(alphas=(0.1, 10.0), cv=2, standardize=False),
                                 ClassifierReadout(Cs=(0.5,), max_iter=500)])
def test_clone_params_and_not_fitted(est):
    params = est.get_params()
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    assert clone(est).set_params(**params).get_params() == params
    with pytest.raises(NotFittedError):
        twin.predict(np.zeros((2, 3)))
    fitted = clone(est).fit(np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2)
    assert fitted.n_features_in_ == 3
    assert not hasattr(clone(fitted), "model_")  # clone drops learned state


def test_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(RidgeReadout(cv="gcv"), expected_failed_checks={
            "check_regressors_train": "score is -NRMSE (<= 0), not R^2 > 0.5"})
        check_estimator(ClassifierReadout(Cs=(1.0,)))


@pytest.mark.parametrize("standardize, n_features", [(True, 40), ("block", 40), (False, 40), (True, 300)])
def test_fast_fold_search_equals_a_grid_search(standardize, n_features):
    """ridge_cv_losses gives the losses (and so the alpha) of scikit-learn's GridSearchCV over
    a scaler + Ridge pipeline with the same folds and score, also with more features than rows."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from lnp_brian.tasks.readout import BlockScaler, RidgeReadout, ridge_cv_losses

    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, n_features)) * rng.uniform(0.1, 10, n_features)
    y = X[:, :3] @ rng.normal(size=(3, 2)) + 0.3 * rng.normal(size=(200, 2))
    alphas = np.logspace(-4, 4, 9)
    blocks = (n_features // 2, n_features - n_features // 2)
    scaler = {True: StandardScaler(), "block": BlockScaler(blocks), False: "passthrough"}[standardize]
    var = y.var(axis=0)

    def score(est, X_, y_):
        return -float(np.mean(np.mean((est.predict(X_) - y_) ** 2, axis=0) / var))

    grid = GridSearchCV(Pipeline([("scale", scaler), ("ridge", Ridge())]), {"ridge__alpha": list(alphas)},
                        cv=KFold(5), scoring=score).fit(X, y)
    losses = ridge_cv_losses(X, y, alphas, KFold(5), scaler)
    np.testing.assert_allclose(losses, -grid.cv_results_["mean_test_score"], rtol=1e-6)
    est = RidgeReadout(alphas=alphas, standardize=standardize, blocks=blocks).fit(X, y)
    assert est.alpha_ == grid.best_params_["ridge__alpha"]
    np.testing.assert_allclose(est.predict(X), grid.predict(X), rtol=1e-6, atol=1e-9)


def test_block_scaler_gives_each_block_unit_rms_and_keeps_ratios_inside():
    from lnp_brian.tasks.readout import BlockScaler

    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(500, 3)) * [1, 2, 4], 1e4 * rng.normal(size=(500, 2))]
    Z = BlockScaler((3, 2)).fit_transform(X)
    assert np.sqrt(np.mean(Z[:, :3] ** 2)) == pytest.approx(1.0)
    assert np.sqrt(np.mean(Z[:, 3:] ** 2)) == pytest.approx(1.0)
    ratio = Z[:, :3].std(axis=0) / X[:, :3].std(axis=0)
    assert np.allclose(ratio, ratio[0])  # one scale inside a block
    with pytest.raises(ValueError, match="add up"):
        BlockScaler((2, 2)).fit(X)
