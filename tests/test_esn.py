"""The baselines beside every score: the echo-state network on the forecasting tasks
(lnp_brian.tasks.esn) and logistic regression on the pixels for the image tasks.

Numbers measured on the quick configuration's data (Lorenz63, 1500 samples at dt 0.03,
60/20/20 split), 300 units, seeds 0-2: test NRMSE 1.2e-5 (h = 1) and 0.016-0.017 (h = 10),
against lagged ridge 0.0056 and 0.77 and persistence 0.22 and 1.39. Two ways of breaking the
ESN miss the thresholds below by a wide margin: without recurrence (spectral radius 0,
leak 1) it reaches 2.6e-3 and 0.25; pairing its predictions with targets one row off gives
about 0.2 at h = 10 (checked here).
"""

from __future__ import annotations

import numpy as np
import pytest

from lnp_brian.tasks import datasets as ds
from lnp_brian.tasks import esn
from lnp_brian.tasks.metrics import nrmse

rpy = pytest.importorskip("reservoirpy")

#: a small grid around the points the full grid chooses on this data (fast)
SMALL = {"spectral_radius": [0.1, 0.9], "leak_rate": [0.5, 1.0], "input_scaling": [0.5, 2.0]}


@pytest.fixture(scope="module")
def lorenz():
    return ds.lorenz63(1500, dt=0.03)


@pytest.fixture(scope="module")
def tasks(lorenz):
    return {h: ds.make_series_task(lorenz, h, name=f"lorenz63_h{h}") for h in (1, 10)}


@pytest.fixture(scope="module")
def full(tasks):
    """The default ESN baseline (24-point grid) at both horizons, seed 0."""
    return {h: esn.esn_baseline(t, seed=0) for h, t in tasks.items()}


def test_esn_beats_the_linear_baselines_by_far(tasks, full):
    for h, r in full.items():
        ridge = ds.ridge_baseline(tasks[h])
        assert r.name == "esn" and r.horizon == h
        assert r.nrmse < 0.1 * ridge.nrmse  # measured 1.2e-5 vs 0.0056 and 0.017 vs 0.77
        assert r.params["implementation"] == "reservoirpy 0.4.2"
        assert len(r.params["val_nrmse_grid"]) == 24
        assert r.val_nrmse == min(r.params["val_nrmse_grid"])  # the validation minimum is kept
        assert r.prediction.shape == tasks[h].test.targets.shape
    assert full[1].nrmse < 1e-3   # measured 1.2e-5; no recurrence: 2.6e-3
    assert full[10].nrmse < 0.05  # measured 0.017; no recurrence: 0.25
    assert full[10].nrmse < 0.1 * ds.ridge_baseline(tasks[10]).nrmse
    assert full[1].nrmse < 1e-3 * ds.ridge_baseline(tasks[10]).nrmse
    # RMSE in series units
    r, t = full[10], tasks[10]
    assert r.rmse == pytest.approx(np.sqrt(np.mean((t.denormalise(r.prediction)
                                                    - t.denormalise(t.test.targets)) ** 2, axis=0)).mean())


def test_targets_one_row_off_would_miss_the_threshold(tasks, full):
    """The h = 10 threshold separates a correctly aligned ESN from one whose targets are one
    sample off (which then scores about like persistence at h = 1)."""
    r, t = full[10], tasks[10]
    assert nrmse(t.test.targets[1:], r.prediction[:-1]) > 0.1
    assert nrmse(t.test.targets[:-1], r.prediction[1:]) > 0.1


def test_no_recurrence_misses_the_threshold(tasks):
    r = esn.esn_baseline(tasks[10], spectral_radius=0.0, leak_rate=1.0)
    assert r.nrmse > 0.1  # measured 0.25: the recurrence is what carries the history


def test_selection_uses_the_validation_block_only(lorenz, tasks):
    """Replacing the test block by noise changes the test score but no choice: every grid
    point's validation NRMSE, the hyper-parameters and alpha stay exactly the same."""
    task = tasks[10]
    noisy = np.array(lorenz)
    lo = task.bounds[2]
    noisy[lo:] = np.random.default_rng(1).normal(noisy[:lo].mean(0), noisy[:lo].std(0), noisy[lo:].shape)
    task_noisy = ds.make_series_task(noisy, 10)
    assert task_noisy.bounds == task.bounds and np.array_equal(task_noisy.mean, task.mean)
    a = esn.esn_baseline(task, seed=0, **SMALL)
    b = esn.esn_baseline(task_noisy, seed=0, **SMALL)
    for key in ("spectral_radius", "leak_rate", "input_scaling", "alpha", "val_nrmse_grid"):
        assert a.params[key] == b.params[key], key
    assert a.val_nrmse == b.val_nrmse
    assert b.nrmse > 0.5 > a.nrmse  # the test block did change


def test_same_seed_same_numbers_other_seed_other_network(tasks):
    a = esn.esn_baseline(tasks[10], seed=3, **SMALL)
    b = esn.esn_baseline(tasks[10], seed=3, **SMALL)
    c = esn.esn_baseline(tasks[10], seed=4, **SMALL)
    assert a.nrmse == b.nrmse and a.val_nrmse == b.val_nrmse and a.params["val_nrmse_grid"] == b.params["val_nrmse_grid"]
    assert np.array_equal(a.prediction, b.prediction)
    assert c.params["val_nrmse_grid"] != a.params["val_nrmse_grid"]


def test_numpy_fallback_gives_reservoirpy_states():
    """Same W, W_in and bias: the NumPy loop and ReservoirPy's Reservoir node agree."""
    u = np.random.default_rng(0).normal(size=(400, 3))
    W, W_in, b = esn.esn_weights(120, 3, seed=5, implementation="reservoirpy")
    for lr in (0.3, 1.0):
        x_rpy = esn.esn_states(u, 0.9 * W, 0.7 * W_in, 0.4 * b, lr, implementation="reservoirpy")
        x_np = esn.esn_states(u, 0.9 * W, 0.7 * W_in, 0.4 * b, lr, implementation="numpy")
        assert x_rpy.shape == (400, 120) and np.abs(x_rpy).max() > 0.1
        np.testing.assert_allclose(x_np, x_rpy, rtol=0, atol=1e-12)
    # the state at t has seen u(t) and nothing later
    x = esn.esn_states(u, W, W_in, b, 1.0, implementation="numpy")
    u2 = u.copy()
    u2[200:] += 1.0
    x2 = esn.esn_states(u2, W, W_in, b, 1.0, implementation="numpy")
    assert np.array_equal(x[:200], x2[:200]) and not np.allclose(x[200], x2[200])


def test_numpy_weights_have_the_documented_distributions():
    W, W_in, b = esn.esn_weights(200, 3, seed=1, implementation="numpy")
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(1.0, rel=1e-9)
    assert np.count_nonzero(W) == int(0.1 * 200 * 200)
    assert set(np.unique(W_in)) == {-1.0, 0.0, 1.0} and np.count_nonzero(W_in) == int(0.5 * 600)
    assert set(np.unique(b)) == {-1.0, 1.0}
    W2, _, _ = esn.esn_weights(200, 3, seed=1, implementation="reservoirpy")
    assert np.max(np.abs(np.linalg.eigvals(W2.toarray()))) == pytest.approx(1.0, rel=1e-6)


def test_without_reservoirpy_the_numpy_esn_is_used(tasks, monkeypatch):
    monkeypatch.setattr(esn, "have_reservoirpy", lambda: False)
    r = esn.esn_baseline(tasks[10], seed=0, **SMALL)
    assert r.params["implementation"] == "numpy"
    assert r.nrmse < 0.05  # measured 0.021-0.024 with the full grid (other weights than ReservoirPy draws)
    with pytest.raises(ImportError, match="reservoirpy"):
        esn.esn_baseline(tasks[10], implementation="reservoirpy")


def test_bad_arguments(tasks):
    with pytest.raises(TypeError, match="SeriesTask"):
        esn.esn_baseline(np.zeros((100, 3)))
    with pytest.raises(ValueError, match="leak_rate"):
        esn.esn_baseline(tasks[1], leak_rate=0.0)
    with pytest.raises(ValueError, match="washout"):
        esn.esn_baseline(tasks[1], washout=900)
    with pytest.raises(ValueError, match="implementation"):
        esn.esn_baseline(tasks[1], implementation="torch")


def test_as_dict_is_json_ready(full):
    import json

    d = full[10].as_dict()
    json.dumps(d)
    assert d["name"] == "esn" and d["units"] == 300
    assert d["grid"] == {k: list(v) for k, v in esn.ESN_GRID.items()}


# ------------------------------------------------------------------------------------------
# images
# ------------------------------------------------------------------------------------------
def test_logistic_on_pixels_digits():
    """The split of ImageTaskRunner.digits(n_train=300, n_test=200, data_seed=0)."""
    images, labels = ds.digits()
    images, _, labels, _ = ds.stratified_split(images, labels, 1 - 500 / len(images), seed=0)
    xtr, xte, ytr, yte = ds.stratified_split(images, labels, 200 / 500, seed=0)
    r = ds.logistic_pixels_baseline(xtr, ytr, xte, yte, seed=0)
    assert r.name == "pixels_logistic" and r.accuracy > 0.9  # measured 0.95
    assert r.params["features"] == 64 and r.params["n_test"] == 200 and r.params["C"] in r.params["Cs"]
    assert r.accuracy == ds.logistic_pixels_baseline(xtr, ytr, xte, yte, seed=0).accuracy
    # uint8 pixels are read as 0..255 intensities
    u8tr, u8te = (xtr * 255).round().astype(np.uint8), (xte * 255).round().astype(np.uint8)
    r8 = ds.logistic_pixels_baseline(u8tr, ytr, u8te, yte, seed=0)
    rf = ds.logistic_pixels_baseline(u8tr / 255.0, ytr, u8te / 255.0, yte, seed=0)
    assert r8.accuracy == rf.accuracy and r8.params["C"] == rf.params["C"]
    # the test labels play no part in the fit
    shuffled = ds.logistic_pixels_baseline(xtr, ytr, xte, np.roll(yte, 1), seed=0)
    assert shuffled.params["C"] == r.params["C"] and shuffled.cv_accuracy == r.cv_accuracy
    assert np.array_equal(shuffled.prediction, r.prediction)
    with pytest.raises(ValueError, match="labels"):
        ds.logistic_pixels_baseline(xtr, ytr[:-1], xte, yte)
    with pytest.raises(ValueError, match="pixels"):
        ds.logistic_pixels_baseline(xtr, ytr, xte[:, :4], yte)
