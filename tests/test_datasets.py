"""Datasets: integrators checked against references and convergence orders, leakage-free
forecasting tasks, the known Lorenz63 baseline numbers, digits, and CIFAR files read safely."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import struct

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from lnp_brian.tasks import datasets as ds
from lnp_brian.tasks.metrics import nrmse


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Tiny regressions: multi-threaded OpenBLAS only adds overhead (and spins on a busy
    2-core machine)."""
    with threadpool_limits(1, user_api="blas"):
        yield


# ---- chaotic systems -----------------------------------------------------------------------
def test_lorenz63_is_seeded_and_on_the_attractor():
    a = ds.lorenz63(2000, seed=4)
    assert a.shape == (2000, 3)
    np.testing.assert_array_equal(a, ds.lorenz63(2000, seed=4))
    assert not np.allclose(a, ds.lorenz63(2000, seed=5))
    np.testing.assert_array_equal(ds.lorenz63(50, x0=[1, 1, 1], seed=1),
                                  ds.lorenz63(50, x0=[1, 1, 1], seed=2))
    # the classic butterfly: |x| < 25, |y| < 30, 0 < z < 55, both wings visited
    assert np.abs(a[:, 0]).max() < 25 and np.abs(a[:, 1]).max() < 30
    assert 0 < a[:, 2].min() and a[:, 2].max() < 55
    assert (a[:, 0] > 5).any() and (a[:, 0] < -5).any()


def test_lorenz63_series_exponent_agrees_with_the_lyapunov_module(lorenz_result):
    """Benettin's two-trajectory method on the generator's own integrator (the series' model)
    gives the largest exponent that the Lyapunov module measures on the Brian2 model file."""
    tau, d0 = 0.1, 1e-8
    x = ds.lorenz63(1, seed=3)[-1]  # on the attractor after the default transient
    y = x + d0 * np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    logs = []
    for _ in range(3000):  # 300 time units
        x = ds.lorenz63(1, dt=tau, x0=x, transient=0.0)[0]
        y = ds.lorenz63(1, dt=tau, x0=y, transient=0.0)[0]
        d = np.linalg.norm(y - x)
        logs.append(np.log(d / d0))
        y = x + (y - x) * (d0 / d)
    lam_series = float(np.mean(logs[100:])) / tau  # per time unit, after a 10-unit transient
    res, _ = lorenz_result  # lorenz63.toml has tau = 1 s: per second = per time unit
    assert lam_series == pytest.approx(0.906, abs=0.06)  # Sprott (2003): 0.9056
    assert lam_series == pytest.approx(res.lambda_max, abs=0.08)


@pytest.mark.parametrize("system", [ds.lorenz63, ds.rossler])
def test_rk4_agrees_with_dop853_over_a_short_time(system):
    # from the same start (no transient) both integrators must agree closely for a while;
    # chaos separates them later, so only ~1 time unit (Lorenz) / 3 (Rossler) is compared
    n = 34 if system is ds.lorenz63 else 30
    rk4 = system(n, seed=0, transient=0.0)
    ref = system(n, seed=0, transient=0.0, method="dop853")
    assert np.abs(rk4 - ref).max() < 1e-6
    with pytest.raises(ValueError, match="'rk4' or 'dop853'"):
        system(5, method="euler")


def test_rossler_is_seeded_and_bounded():
    r = ds.rossler(3000, seed=1)
    assert r.shape == (3000, 3) and np.all(np.isfinite(r))
    np.testing.assert_array_equal(r, ds.rossler(3000, seed=1))
    assert np.abs(r[:, :2]).max() < 15 and r[:, 2].min() > 0 and r[:, 2].max() < 30
    assert (r[:, 2] > 5).any()  # the z excursions that make it chaotic


def test_mackey_glass_is_fourth_order_and_chaotic():
    # same constant history, no transient: compare with a 40x finer step at t = 60..200
    ref = ds.mackey_glass(200, dt=0.0025, sample_every=400, x0=1.2, transient=0.0)
    err = [np.abs(ds.mackey_glass(200, dt=dt, sample_every=round(1 / dt), x0=1.2,
                                  transient=0.0) - ref)[60:].max() for dt in (0.1, 0.05)]
    assert err[0] < 1e-6
    assert err[0] / err[1] > 12  # 16 for a fourth-order scheme, 4 for a second-order one
    x = ds.mackey_glass(3000, seed=0)
    assert x.shape == (3000, 1)
    assert 0.2 < x.min() and x.max() < 1.5 and x.std() > 0.15  # irregular oscillation
    np.testing.assert_array_equal(x, ds.mackey_glass(3000, seed=0))
    with pytest.raises(ValueError, match="integer >= 3"):
        ds.mackey_glass(10, tau=17.0, dt=0.3)


def test_series_argument_errors():
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        ds.lorenz63(0)
    with pytest.raises(ValueError, match="x0 must be 3 finite numbers"):
        ds.lorenz63(5, x0=[1, 2])
    with pytest.raises(ValueError, match="dt must be > 0"):
        ds.rossler(5, dt=0)


# ---- forecasting tasks ---------------------------------------------------------------------
def test_series_task_is_chronological_and_uses_training_statistics():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(100, 2)), axis=0) + [5.0, -3.0]
    task = ds.make_series_task(x, horizon=3, train=0.6, val=0.2, test=0.2)
    assert task.bounds == (0, 60, 80, 100)
    np.testing.assert_allclose(task.mean, x[:60].mean(0))
    np.testing.assert_allclose(task.std, x[:60].std(0))
    z = (x - x[:60].mean(0)) / x[:60].std(0)
    for name, lo, hi in (("train", 0, 60), ("val", 60, 80), ("test", 80, 100)):
        s = task.split(name)
        np.testing.assert_array_equal(s.index, np.arange(lo, hi - 3))
        assert (s.index + 3 < hi).all() and (s.index >= lo).all()  # targets stay inside
        np.testing.assert_allclose(s.inputs, z[s.index])
        np.testing.assert_allclose(s.targets, z[s.index + 3])
    # no leakage: changing the validation and test blocks leaves the training statistics,
    # and every training pair, untouched
    y = x.copy()
    y[60:] *= 100.0
    other = ds.make_series_task(y, horizon=3)
    np.testing.assert_array_equal(other.mean, task.mean)
    np.testing.assert_array_equal(other.train.targets, task.train.targets)
    np.testing.assert_allclose(task.denormalise(task.test.targets), x[83:100])
    np.testing.assert_allclose(task.normalised[:60].mean(0), 0, atol=1e-12)
    assert task.describe()["bounds"] == [0, 60, 80, 100]
    assert x.flags.writeable  # the caller's array is not frozen


def test_series_task_errors():
    x = np.arange(50.0)
    with pytest.raises(ValueError, match="sum to 1"):
        ds.make_series_task(x, 1, train=0.5, val=0.2, test=0.2)
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        ds.make_series_task(x, 0)
    with pytest.raises(ValueError, match="the val block has 10 samples"):
        ds.make_series_task(x, 10)
    with pytest.raises(ValueError, match="constant"):
        ds.make_series_task(np.c_[x, np.ones(50)], 1)
    with pytest.raises(ValueError, match="NaN"):
        ds.make_series_task(np.r_[x, np.nan], 1)


def test_persistence_and_lagged_features_by_hand():
    x = np.sin(np.arange(200) * 0.3)[:, None]
    task = ds.make_series_task(x, horizon=2)
    p = ds.persistence_baseline(task)
    t = task.test.index
    assert p.nrmse == pytest.approx(np.sqrt(np.mean((x[t] - x[t + 2]) ** 2)) / x[t + 2].std())
    assert p.rmse == pytest.approx(np.sqrt(np.mean((x[t] - x[t + 2]) ** 2)))
    lag = ds.lagged_features(task, "val", 3)
    z = task.normalised[:, 0]
    k = task.val.index
    np.testing.assert_allclose(lag, np.c_[z[k], z[k - 1], z[k - 2]])
    # a pure sinusoid obeys x(t+2) = a x(t) + b x(t-1): ridge on 2 lags is almost exact
    assert ds.ridge_baseline(task, lags=2, alphas=[1e-8]).nrmse < 1e-4


@pytest.fixture(scope="module")
def lorenz():
    return ds.lorenz63(15000, seed=0)


def test_lorenz_ridge_and_persistence_match_known_values(lorenz):
    res = {}
    for h in (1, 10):
        task = ds.make_series_task(lorenz, h, name="lorenz63")
        res[h] = ds.ridge_baseline(task, lags=6), ds.persistence_baseline(task)
        assert res[h][0].as_dict()["lags"] == 6
    ridge1, pers1 = res[1]
    ridge10, pers10 = res[10]
    # measured: ridge on the last 6 samples ~0.011 at h = 1 and ~0.81 at h = 10. With alpha
    # chosen on the validation block this ridge gets ~0.005 at h = 1 (its lagged features
    # are nearly collinear, so less shrinkage is better) and ~0.75 at h = 10
    assert 0.003 < ridge1.nrmse < 0.02
    assert 0.6 < ridge10.nrmse < 1.0
    # the quoted 0.011 / 0.81 are what a lightly regularised ridge (alpha 0.01) gives
    fixed = {h: ds.ridge_baseline(ds.make_series_task(lorenz, h), alphas=[1e-2]).nrmse
             for h in (1, 10)}
    assert 0.008 < fixed[1] < 0.014 and 0.75 < fixed[10] < 0.85
    # persistence: decent at h = 1 (0.22), worse than the mean at h = 10 (1.4)
    assert 0.15 < pers1.nrmse < 0.3 and 1.2 < pers10.nrmse < 1.6
    assert ridge1.nrmse < pers1.nrmse / 20 and ridge10.nrmse < pers10.nrmse
    # the test score is recomputable from the returned prediction
    task10 = ds.make_series_task(lorenz, 10)
    assert nrmse(task10.test.targets, ridge10.prediction) == pytest.approx(ridge10.nrmse)


@pytest.mark.parametrize("system", [ds.rossler, ds.mackey_glass])
def test_ridge_beats_persistence_on_other_series(system):
    x = system(5000, seed=0)
    for h in (1, 10):
        task = ds.make_series_task(x, h)
        r, p = ds.ridge_baseline(task), ds.persistence_baseline(task)
        assert r.nrmse < p.nrmse / 2 and r.val_nrmse < 1


# ---- images --------------------------------------------------------------------------------
def test_digits_and_stratified_split():
    images, labels = ds.digits()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.tolist()) == set(range(10))
    xtr, xte, ytr, yte = ds.stratified_split(images, labels, test_fraction=0.25, seed=3)
    assert len(xte) == 450 and len(xtr) == 1347
    # every class keeps its share in both parts (within one image)
    for c in range(10):
        assert abs((yte == c).sum() - 0.25 * (labels == c).sum()) <= 1
    again = ds.stratified_split(images, labels, test_fraction=0.25, seed=3)
    np.testing.assert_array_equal(again[3], yte)
    assert not np.array_equal(ds.stratified_split(images, labels, seed=4)[3], yte)


def test_poisson_rates():
    img = np.array([[0.0, 0.5], [0.25, 1.0]])
    np.testing.assert_allclose(ds.poisson_rates(img, 100), [[0, 50], [25, 100]])
    np.testing.assert_allclose(ds.poisson_rates(img, "0.1 kHz"), [[0, 50], [25, 100]])
    np.testing.assert_allclose(ds.poisson_rates(np.array([0, 51, 255], np.uint8), 20),
                               [0, 4, 20])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ds.poisson_rates(img * 2, 100)
    with pytest.raises(Exception, match="expected hertz|expected Hz"):
        ds.poisson_rates(img, "100 ms")


# ---- CIFAR ---------------------------------------------------------------------------------
def _images(n, seed):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def _cifar10_folder(root, per_batch=3):
    folder = root / "cifar-10-batches-py"
    imgs, labs = [], []
    for k in range(1, 6):
        x, y = _images(per_batch, k), np.arange(per_batch) + k
        ds.write_cifar_batch(folder / f"data_batch_{k}", x, y)
        imgs.append(x)
        labs.append(y)
    ds.write_cifar_batch(folder / "test_batch", _images(2, 9), [9, 0])
    return np.concatenate(imgs), np.concatenate(labs)


def test_cifar10_round_trip(tmp_path):
    images, labels = _cifar10_folder(tmp_path)
    x, y = ds.load_cifar(tmp_path, "cifar10", "train")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert x.dtype == np.uint8 and x.shape == (15, 32, 32, 3)
    # the folder itself works too; the test split is its own file
    xt, yt = ds.load_cifar(tmp_path / "cifar-10-batches-py", split="test")
    np.testing.assert_array_equal(xt, _images(2, 9))
    np.testing.assert_array_equal(yt, [9, 0])


def test_written_batch_has_the_standard_layout(tmp_path):
    x = _images(2, 0)
    path = ds.write_cifar_batch(tmp_path / "test_batch", x, [3, 7])
    raw = path.read_bytes()
    assert raw[:2] == b"\x80\x02"  # pickle protocol 2, as the original files
    d = pickle.loads(raw, encoding="bytes")  # what the usual CIFAR loading snippet does
    assert set(d) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert d[b"labels"] == [3, 7] and isinstance(d[b"labels"][0], int)
    assert d[b"data"].dtype == np.uint8 and d[b"data"].shape == (2, 3072)
    # row = 1024 red values (row-major 32 x 32), then 1024 green, then 1024 blue
    np.testing.assert_array_equal(d[b"data"][1, :1024], x[1, :, :, 0].ravel())
    np.testing.assert_array_equal(d[b"data"][1, 1024:2048], x[1, :, :, 1].ravel())
    np.testing.assert_array_equal(d[b"data"][1, 2048:], x[1, :, :, 2].ravel())
    assert d[b"filenames"][0].endswith(b".png")


def test_cifar100_round_trip_fine_and_coarse(tmp_path):
    folder = tmp_path / "cifar-100-python"
    x = _images(4, 1)
    ds.write_cifar_batch(folder / "train", x, [99, 0, 5, 42], kind="cifar100",
                         coarse_labels=[19, 0, 1, 2])
    raw = pickle.loads((folder / "train").read_bytes(), encoding="bytes")
    assert set(raw) == {b"batch_label", b"fine_labels", b"coarse_labels", b"data", b"filenames"}
    xf, yf = ds.load_cifar(tmp_path, "cifar100", "train")
    np.testing.assert_array_equal(xf, x)
    np.testing.assert_array_equal(yf, [99, 0, 5, 42])
    np.testing.assert_array_equal(ds.load_cifar(tmp_path, "cifar100", label="coarse")[1],
                                  [19, 0, 1, 2])
    with pytest.raises(ValueError, match="coarse_labels"):
        ds.write_cifar_batch(folder / "test", x, [1, 2, 3, 4], kind="cifar100")


class _Py2Pickler(pickle._Pickler):
    """Writes a batch the way the original files were made (Python 2 cPickle, protocol 2):
    every str and bytes as a py2 string (SHORT_BINSTRING/BINSTRING) and numpy's array
    reconstructor under its numpy 1 name, numpy.core.multiarray."""

    dispatch = dict(pickle._Pickler.dispatch)
    _reconstruct = np.zeros(0).__reduce__()[0]

    def _py2_string(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = _py2_string
    dispatch[bytes] = _py2_string

    def save_global(self, obj, name=None):
        if obj is self._reconstruct:
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
        else:
            super().save_global(obj, name)


def test_reads_files_in_the_original_python2_encoding(tmp_path):
    x = _images(3, 5)
    data = x.transpose(0, 3, 1, 2).reshape(3, 3072)
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump({"batch_label": "testing batch 1 of 1", "labels": [1, 2, 3],
                                       "data": data, "filenames": ["a.png", "b.png", "c.png"]})
    raw = buf.getvalue()
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in raw and b"U\x04data" in raw
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "test_batch").write_bytes(raw)
    xr, yr = ds.load_cifar(tmp_path, split="test")
    np.testing.assert_array_equal(xr, x)
    np.testing.assert_array_equal(yr, [1, 2, 3])


def test_limit_stops_reading_early(tmp_path):
    images, labels = _cifar10_folder(tmp_path, per_batch=3)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    x, y = ds.load_cifar(tmp_path, limit=5)  # batches 1 and 2 are enough
    np.testing.assert_array_equal(x, images[:5])
    np.testing.assert_array_equal(y, labels[:5])
    with pytest.raises(ds.CifarFileError, match="data_batch_3"):
        ds.load_cifar(tmp_path, limit=7)


def test_missing_files_say_what_was_expected(tmp_path):
    with pytest.raises(ds.CifarFileError, match="data_batch_1, .*data_batch_5, test_batch"):
        ds.load_cifar(tmp_path, "cifar10")
    with pytest.raises(ds.CifarFileError, match="cifar-100-python/.*train, test"):
        ds.load_cifar(tmp_path, "cifar100")
    ds.write_cifar_batch(tmp_path / "cifar-10-batches-py" / "test_batch", _images(1, 0), [1])
    with pytest.raises(ds.CifarFileError, match="missing data_batch_1, data_batch_2"):
        ds.load_cifar(tmp_path, split="train")


def _write_pickle(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=2))


@pytest.mark.parametrize("content, message", [
    ({b"labels": [1]}, r"missing key b'data'"),
    ({b"data": np.zeros((1, 3072), np.uint8)}, r"missing key b'labels'"),
    ({b"data": np.zeros((1, 3072), np.float32), b"labels": [1]}, r"b'data' must be a uint8"),
    ({b"data": np.zeros((1, 100), np.uint8), b"labels": [1]}, r"\(N, 3072\)"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, r"1 labels for 2 images"),
    ({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, r"outside 0\.\.9"),
    ({b"data": np.zeros((1, 3072), np.uint8), b"labels": ["cat"]}, r"list of ints"),
    ({b"data": np.array([[1, "x"]], dtype=object), b"labels": [1]}, r"uint8"),
    ([1, 2, 3], r"expected a dict"),
])
def test_malformed_batches_name_file_and_key(tmp_path, content, message):
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    _write_pickle(path, content)
    with pytest.raises(ds.CifarFileError, match=message) as err:
        ds.load_cifar(tmp_path, split="test")
    assert "test_batch" in str(err.value)


def test_truncated_batch(tmp_path):
    path = ds.write_cifar_batch(tmp_path / "test_batch", _images(2, 0), [1, 2])
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ds.CifarFileError, match="test_batch: cannot read"):
        ds.load_cifar(tmp_path, split="test")


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _RunsEval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return builtins.eval, (f"__import__('pathlib').Path({str(self.marker)!r}).touch()",)


class _AbusesCodecs:
    def __reduce__(self):  # a codec other than latin-1 through the one allowed global
        import _codecs
        return _codecs.encode, ("payload", "rot13")


@pytest.mark.parametrize("payload", [_RunsShell, _RunsEval, _AbusesCodecs])
def test_malicious_pickle_is_refused_without_running(tmp_path, payload):
    marker = tmp_path / "pwned"
    evil = payload(marker) if payload is not _AbusesCodecs else payload()
    raw = pickle.dumps({b"data": evil, b"labels": [1]}, protocol=2)
    if payload is _RunsEval:  # control: the payload is live under plain pickle
        pickle.loads(raw)
        assert marker.exists()
        marker.unlink()
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.parent.mkdir()
    path.write_bytes(raw)
    with pytest.raises(ds.CifarFileError, match="unsafe pickle, not loaded") as err:
        ds.load_cifar(tmp_path, split="test")
    assert "test_batch" in str(err.value)
    assert ("refused global" in str(err.value)) or ("latin1" in str(err.value))
    assert not marker.exists()
