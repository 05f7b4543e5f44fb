"""Datasets as functions: chaotic time series, forecasting tasks with baselines, and images.

Everything here is generated or read from files the user already has; nothing is ever
downloaded.

- Time series (:func:`lorenz63`, :func:`rossler`, :func:`mackey_glass`) are integrated with
  a documented fixed-step scheme and returned as arrays ``(n_steps, dim)`` sampled at a fixed
  interval after a transient, from seeded initial conditions.
- :func:`make_series_task` turns a series into an h-step-ahead forecasting task
  (:class:`SeriesTask`): chronological train/validation/test blocks, normalised with the
  training block's statistics only.
- :func:`persistence_baseline` and :func:`ridge_baseline` are the two baselines every
  time-series result is reported beside (with the echo-state network of
  :func:`lnp_brian.tasks.esn.esn_baseline`); :func:`logistic_pixels_baseline` is the image one.
- Images: :func:`digits` (shipped with scikit-learn), CIFAR-10/100 from the standard python
  pickle batches at a user-given path (:func:`load_cifar`, read with a restricted unpickler
  that cannot run code; :func:`write_cifar_batch` writes the same format), and
  :func:`poisson_rates`, the rate code for a Poisson spike encoder.
"""

from __future__ import annotations

import math
import numbers
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.files import atomic_write
from ..core.seeding import derive_seed, rng

__all__ = [
    "lorenz63", "rossler", "mackey_glass",
    "Split", "SeriesTask", "make_series_task", "BaselineResult", "persistence_baseline",
    "ridge_baseline", "lagged_features",
    "ClassifierBaselineResult", "logistic_pixels_baseline",
    "digits", "stratified_split", "poisson_rates",
    "CifarFileError", "load_cifar", "write_cifar_batch", "CIFAR_FILES",
]


# ==========================================================================================
# Chaotic time series
# ==========================================================================================
def _rk4_3d(rhs, state, dt: float, n_out: int, step: float) -> np.ndarray:
    """Fixed-step classical RK4 for a 3-variable ODE, sampled every ``dt``.

    The internal step is the largest ``dt / k`` (k integer) not above ``step``, so samples
    fall exactly on the integration grid. Scalar Python floats (not NumPy arrays) because a
    3-variable right-hand side is dominated by call overhead: ~1 s per 5e5 steps.
    """
    sub = max(1, math.ceil(dt / step - 1e-9))
    h = dt / sub
    h2, h6 = h / 2.0, h / 6.0
    x, y, z = (float(v) for v in state)
    out = np.empty((n_out, 3))
    for k in range(n_out):
        for _ in range(sub):
            a1, b1, c1 = rhs(x, y, z)
            a2, b2, c2 = rhs(x + h2 * a1, y + h2 * b1, z + h2 * c1)
            a3, b3, c3 = rhs(x + h2 * a2, y + h2 * b2, z + h2 * c2)
            a4, b4, c4 = rhs(x + h * a3, y + h * b3, z + h * c3)
            x += h6 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
            y += h6 * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
            z += h6 * (c1 + 2.0 * c2 + 2.0 * c3 + c4)
        out[k] = x, y, z
    return out


def _integrate_3d(name, rhs, x0, n_steps, dt, transient, method, step):
    """Integrate, drop ``round(transient/dt)`` samples, return (n_steps, 3)."""
    n_steps = _positive_int(n_steps, f"{name}: n_steps")
    if not dt > 0:
        raise ValueError(f"{name}: dt must be > 0 (time units between samples), got {dt!r}")
    if transient < 0:
        raise ValueError(f"{name}: transient must be >= 0 (time units), got {transient!r}")
    x0 = np.asarray(x0, dtype=float)
    if x0.shape != (3,) or not np.all(np.isfinite(x0)):
        raise ValueError(f"{name}: x0 must be 3 finite numbers, got {x0!r}")
    n_skip = int(round(transient / dt))
    total = n_skip + n_steps
    if method == "rk4":
        if not step > 0:
            raise ValueError(f"{name}: step must be > 0, got {step!r}")
        out = _rk4_3d(rhs, x0, dt, total, step)
    elif method == "dop853":
        from scipy.integrate import solve_ivp

        t = np.arange(1, total + 1) * dt
        sol = solve_ivp(lambda _t, s: rhs(*s), (0.0, t[-1]), x0, method="DOP853", t_eval=t,
                        rtol=1e-10, atol=1e-12)
        if not sol.success:
            raise RuntimeError(f"{name}: solve_ivp failed: {sol.message}")
        out = sol.y.T
    else:
        raise ValueError(f"{name}: method must be 'rk4' or 'dop853', got {method!r}")
    if not np.all(np.isfinite(out)):
        raise FloatingPointError(f"{name}: the trajectory diverged (x0={x0.tolist()}); "
                                 "use a smaller step or another x0")
    return out[n_skip:]


def lorenz63(n_steps: int, dt: float = 0.03, sigma: float = 10.0, rho: float = 28.0,
             beta: float = 8.0 / 3.0, x0=None, transient: float = 50.0, seed: int = 0,
             method: str = "rk4", step: float = 1e-3) -> np.ndarray:
    """The Lorenz (1963) system, sampled every ``dt`` time units after a transient.

    ``dx/dt = sigma (y - x)``, ``dy/dt = x (rho - z) - y``, ``dz/dt = x y - beta z``.

    Parameters
    ----------
    n_steps : int
        Number of samples returned.
    dt : float
        Time between samples (dimensionless model time; 0.03 is the usual benchmark).
    sigma, rho, beta : float
        Parameters; the defaults give the classic chaotic attractor (largest Lyapunov
        exponent about 0.9 per time unit, so a 10-sample horizon at dt 0.03 is 0.27
        Lyapunov times).
    x0 : array-like (3,), optional
        Initial state. Default: drawn uniformly from [-15, 15] x [-20, 20] x [5, 40] with
        ``seed`` (every such start reaches the attractor within the transient).
    transient : float
        Time units integrated and discarded first, so samples lie on the attractor.
    seed : int
        Seed of the initial state (unused when ``x0`` is given).
    method : {"rk4", "dop853"}
        ``"rk4"``: classical fixed-step Runge-Kutta with internal step ``dt/k`` <= ``step``
        (bit-reproducible, no tolerance heuristics). ``"dop853"``: SciPy's adaptive 8th
        order Dormand-Prince with rtol 1e-10, atol 1e-12 (slower; a reference).
    step : float
        Largest internal RK4 step (time units). Measured at 1e-3: within 4e-9 of DOP853
        (rtol 1e-10) after one time unit, from the same start. Like any two integrations of
        a chaotic system, the two still part after a few tens of time units; both stay on
        the attractor.

    Returns
    -------
    ndarray (n_steps, 3)
        Columns x, y, z; row k is the state at time ``transient + (k + 1) dt``.

    Raises
    ------
    ValueError
        If ``n_steps`` is not a positive integer, ``dt`` or ``step`` is not positive,
        ``transient`` is negative, ``x0`` is not 3 finite numbers, or ``method`` is unknown.
    FloatingPointError
        If the trajectory diverges.

    Examples
    --------
    >>> from lnp_brian.tasks.datasets import lorenz63
    >>> u = lorenz63(1000, seed=0)
    >>> u.shape
    (1000, 3)
    >>> u[:2].round(3)
    array([[ 5.73 ,  9.645, 14.525],
           [ 7.035, 11.823, 15.384]])
    """
    if x0 is None:
        x0 = rng(seed, "lorenz63.x0").uniform([-15.0, -20.0, 5.0], [15.0, 20.0, 40.0])

    def rhs(x, y, z):
        return sigma * (y - x), x * (rho - z) - y, x * y - beta * z

    return _integrate_3d("lorenz63", rhs, x0, n_steps, dt, transient, method, step)


def rossler(n_steps: int, dt: float = 0.1, a: float = 0.2, b: float = 0.2, c: float = 5.7,
            x0=None, transient: float = 200.0, seed: int = 0, method: str = "rk4",
            step: float = 5e-3) -> np.ndarray:
    """The Rössler (1976) system, sampled every ``dt`` time units after a transient.

    ``dx/dt = -y - z``, ``dy/dt = x + a y``, ``dz/dt = b + z (x - c)``.

    Parameters
    ----------
    n_steps : int
        Number of samples returned.
    dt : float, default=0.1
        Time between samples (time units): about 60 samples per turn of the attractor
        (period ~6 time units).
    a, b, c : float
        Parameters; the defaults give the classic chaotic band (largest Lyapunov exponent
        about 0.07 per time unit).
    x0 : array-like (3,), optional
        Initial state. Default: uniform in [-5, 5] x [-5, 5] x [0, 1] with ``seed``
        (starts far from the attractor can escape to infinity; every corner of this box
        and 500 random starts in it were checked to reach the attractor).
    transient : float, default=200.0
        Time units integrated and discarded first (~30 turns).
    seed : int, default=0
        Seed of the initial state (unused when ``x0`` is given).
    method : {"rk4", "dop853"}, default="rk4"
        Integrator, as in :func:`lorenz63`.
    step : float, default=5e-3
        Largest internal RK4 step (time units).

    Returns
    -------
    ndarray (n_steps, 3)
        Columns x, y, z; row k is the state at time ``transient + (k + 1) dt``.

    Raises
    ------
    ValueError, FloatingPointError
        As in :func:`lorenz63`.
    """
    if x0 is None:
        x0 = rng(seed, "rossler.x0").uniform([-5.0, -5.0, 0.0], [5.0, 5.0, 1.0])

    def rhs(x, y, z):
        return -y - z, x + a * y, b + z * (x - c)

    return _integrate_3d("rossler", rhs, x0, n_steps, dt, transient, method, step)


def mackey_glass(n_steps: int, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1,
                 n: float = 10.0, dt: float = 0.1, sample_every: int = 10, x0=None,
                 transient: float = 500.0, seed: int = 0) -> np.ndarray:
    """The Mackey-Glass (1977) delay differential equation, sampled after a transient.

    ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)``; with the defaults
    (tau = 17) it is mildly chaotic, the usual benchmark.

    Integration: classical RK4 with step ``dt`` on a grid where the delay is a whole number
    of steps (``tau / dt`` must be an integer >= 3). The delayed value at a step's midpoint,
    which lies between grid points, comes from cubic Lagrange interpolation of the four
    surrounding stored points, ``(-x[k-1] + 9 x[k] + 9 x[k+1] - x[k+2]) / 16``, accurate to
    O(dt^4) like RK4 itself (linear interpolation would make the scheme second order).
    The history on [-tau, 0] is the constant ``x0``; x' jumps at t = 0, so the one step
    whose stencil would straddle that kink uses the one-sided stencil
    ``(5 x[k] + 15 x[k+1] - 5 x[k+2] + x[k+3]) / 16`` instead (interpolating across it
    would cost an O(dt) error there and make the whole solution second order). Measured:
    errors fall 16-fold per halving of ``dt`` away from the start.

    Parameters
    ----------
    n_steps : int
        Number of samples returned.
    tau, beta, gamma, n : float
        Delay (time units) and parameters.
    dt : float
        Internal RK4 step (time units).
    sample_every : int
        Keep one point every ``sample_every`` steps: samples are ``dt * sample_every``
        time units apart (default 1.0).
    x0 : float, optional
        Constant initial history. Default: uniform in [0.5, 1.5] with ``seed`` (the
        classic choice is 1.2).
    transient : float
        Time units integrated and discarded first.
    seed : int
        Seed of the initial history (unused when ``x0`` is given).

    Returns
    -------
    ndarray (n_steps, 1)
        Row k is x at time ``transient + (k + 1) dt sample_every`` (rounded to the grid).

    Raises
    ------
    ValueError
        If ``n_steps`` or ``sample_every`` is not a positive integer, ``dt`` is not
        positive, ``tau / dt`` is not an integer >= 3, or ``transient`` is negative.
    FloatingPointError
        If the solution diverges.

    Examples
    --------
    >>> from lnp_brian.tasks.datasets import mackey_glass
    >>> x = mackey_glass(500, seed=0)
    >>> x.shape
    (500, 1)
    >>> x[:3, 0].round(2)
    array([1.27, 1.23, 1.18])
    """
    n_steps = _positive_int(n_steps, "mackey_glass: n_steps")
    sample_every = _positive_int(sample_every, "mackey_glass: sample_every")
    if not dt > 0:
        raise ValueError(f"mackey_glass: dt must be > 0, got {dt!r}")
    d = int(round(tau / dt))
    if d < 3 or abs(d * dt - tau) > 1e-9 * max(tau, 1.0):
        raise ValueError(f"mackey_glass: tau / dt must be an integer >= 3 (the delay is kept "
                         f"on the step grid), got tau={tau!r}, dt={dt!r}")
    if x0 is None:
        x0 = float(rng(seed, "mackey_glass.x0").uniform(0.5, 1.5))
    x0 = float(x0)
    if transient < 0:
        raise ValueError(f"mackey_glass: transient must be >= 0 (time units), got {transient!r}")
    n_skip = int(round(transient / dt))
    total = n_skip + n_steps * sample_every

    def f(x, xd):
        return beta * xd / (1.0 + xd ** n) - gamma * x

    # buf[j] is x at time (j - d - 1) dt: one extra history point for the interpolation
    off = d + 1
    buf = [x0] * (off + 1) + [0.0] * total
    x = x0
    h, h2, h6 = dt, dt / 2.0, dt / 6.0
    for k in range(total):
        j = k + 1  # buf index of time (k - d) dt, the delayed time at this step's start
        xd0, xd1 = buf[j], buf[j + 1]
        if j + 1 <= off:  # delayed step inside the (constant) history
            xdm = x0
        elif j == off:  # starts at t = 0, where x' jumps: one-sided, not across the kink
            xdm = (5.0 * xd0 + 15.0 * xd1 - 5.0 * buf[j + 2] + buf[j + 3]) / 16.0
        else:
            xdm = (-buf[j - 1] + 9.0 * xd0 + 9.0 * xd1 - buf[j + 2]) / 16.0
        k1 = f(x, xd0)
        k2 = f(x + h2 * k1, xdm)
        k3 = f(x + h2 * k2, xdm)
        k4 = f(x + h * k3, xd1)
        x += h6 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        buf[off + k + 1] = x
    out = np.asarray(buf[off + 1 + n_skip:], dtype=float)[sample_every - 1::sample_every]
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("mackey_glass: the solution diverged")
    return out[:n_steps, None]


# ==========================================================================================
# Forecasting tasks
# ==========================================================================================
@dataclass(frozen=True, eq=False)
class Split:
    """One chronological block of a :class:`SeriesTask`.

    ``len(split)`` is the number of samples. Made by :meth:`SeriesTask.split`; not usually
    built by hand.

    Parameters
    ----------
    name : str
        ``"train"``, ``"val"`` or ``"test"``.
    index : int array (n,)
        Sample index t (row of the series) of every input; the target is row t + h.
        Use it to pick the rows of features computed from the whole driven series.
    inputs : float array (n, d)
        Normalised u(t).
    targets : float array (n, d)
        Normalised u(t + h).
    """

    name: str
    index: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray

    def __len__(self):
        return len(self.index)

    def __repr__(self):
        return f"<Split {self.name}: {len(self)} samples x {self.inputs.shape[1]} variables>"


@dataclass(frozen=True, eq=False)
class SeriesTask:
    """Predict a series ``horizon`` samples ahead: u(t) -> u(t + h).

    The series is cut into three contiguous blocks, train then validation then test. A
    sample (t, t + h) belongs to a block only if both t and t + h lie in it, so no target
    is ever seen by an earlier block (the last h inputs of each block have no target).
    Everything is normalised per variable with the *training block's* mean and standard
    deviation (stored here, so predictions can be mapped back with :meth:`denormalise`).

    A reservoir is driven by the whole :attr:`normalised` series (inputs only ever come
    from the past, so driving through the later blocks leaks nothing); its features at rows
    ``task.train.index`` etc. are then paired with ``task.train.targets``.

    NRMSE is the same in normalised and original units (it divides by the target's own
    standard deviation); RMSE is not, so report RMSE after :meth:`denormalise`.

    Build one with :func:`make_series_task` rather than by hand.

    Parameters
    ----------
    series : float array (T, d)
        The original series.
    horizon : int
        h, in samples.
    bounds : tuple of int
        (0, end of train, end of validation, T): the blocks are [bounds[i], bounds[i+1]).
    mean, std : float arrays (d,)
        Training-block statistics used for normalisation.
    name : str, default="series"
        For reports.

    Examples
    --------
    >>> from lnp_brian.tasks.datasets import lorenz63, make_series_task
    >>> task = make_series_task(lorenz63(1000), horizon=1)
    >>> task
    <SeriesTask series: h=1, 1000 x 3, blocks (0, 600, 800, 1000)>
    >>> task.train, task.test
    (<Split train: 599 samples x 3 variables>, <Split test: 199 samples x 3 variables>)
    >>> task.train.targets.shape, task.normalised.shape
    ((599, 3), (1000, 3))
    """

    series: np.ndarray
    horizon: int
    bounds: tuple
    mean: np.ndarray
    std: np.ndarray
    name: str = "series"
    _splits: dict = field(default_factory=dict, repr=False, init=False)  # cache

    def __repr__(self):
        return (f"<SeriesTask {self.name}: h={self.horizon}, {self.series.shape[0]} x {self.dim}, "
                f"blocks {self.bounds}>")

    @property
    def dim(self) -> int:
        """Number of variables d of the series."""
        return self.series.shape[1]

    @property
    def normalised(self) -> np.ndarray:
        """The whole series in training units, (T, d): what drives the network."""
        return self.normalise(self.series)

    def normalise(self, x) -> np.ndarray:
        """Map values in series units to training units (per-variable z-scores).

        Parameters
        ----------
        x : array (..., d)
            Values in the series' original units.

        Returns
        -------
        ndarray
            ``(x - mean) / std`` with the training block's statistics, same shape as ``x``.
        """
        return (np.asarray(x, float) - self.mean) / self.std

    def denormalise(self, z) -> np.ndarray:
        """Map normalised values (inputs, targets or predictions) back to series units.

        Parameters
        ----------
        z : array (..., d)
            Values in training units.

        Returns
        -------
        ndarray
            ``z * std + mean``, same shape as ``z``.
        """
        return np.asarray(z, float) * self.std + self.mean

    def split(self, which: str) -> Split:
        """One chronological block, computed once and cached.

        Parameters
        ----------
        which : {"train", "val", "test"}
            The block.

        Returns
        -------
        Split
            Its sample indices, normalised inputs u(t) and targets u(t + h).

        Raises
        ------
        ValueError
            If ``which`` is not one of the three names.
        """
        names = ("train", "val", "test")
        if which not in names:
            raise ValueError(f"split must be one of {names}, got {which!r}")
        if which not in self._splits:
            k = names.index(which)
            lo, hi = self.bounds[k], self.bounds[k + 1]
            t = np.arange(lo, hi - self.horizon)
            z = self.normalised
            self._splits[which] = Split(which, t, z[t], z[t + self.horizon])
        return self._splits[which]

    @property
    def train(self) -> Split:
        """The training block, ``split("train")``."""
        return self.split("train")

    @property
    def val(self) -> Split:
        """The validation block, ``split("val")``."""
        return self.split("val")

    @property
    def test(self) -> Split:
        """The test block, ``split("test")``."""
        return self.split("test")

    def describe(self) -> dict:
        """JSON-friendly summary for run records.

        Returns
        -------
        dict
            ``name``, ``horizon``, ``length`` (T), ``dim``, ``bounds``, and the training
            ``mean`` and ``std`` per variable as lists.
        """
        return {"name": self.name, "horizon": int(self.horizon), "length": int(len(self.series)),
                "dim": int(self.dim), "bounds": [int(b) for b in self.bounds],
                "mean": self.mean.tolist(), "std": self.std.tolist()}


def make_series_task(series, horizon: int, train: float = 0.6, val: float = 0.2,
                     test: float = 0.2, name: str = "series") -> SeriesTask:
    """Build an h-step-ahead forecasting task from a series (see :class:`SeriesTask`).

    Parameters
    ----------
    series : array (T,) or (T, d)
        Samples in time order (e.g. from :func:`lorenz63`).
    horizon : int
        h >= 1 samples ahead; 1 and 10 are the standard horizons.
    train, val, test : float
        Fractions of the series in each block (each > 0, summing to 1). The train and
        validation blocks have ``floor(fraction * T)`` samples; the test block the rest.
    name : str, default="series"
        Name for reports.

    Returns
    -------
    SeriesTask
        The task, holding a read-only copy of the series.

    Raises
    ------
    ValueError
        If the series is not (T,) or (T, d) with T >= 2, has NaN or infinite values, the
        fractions are not positive or do not sum to 1, a block is too short to hold one
        (t, t + h) pair, or a variable is constant in the training block.

    Examples
    --------
    >>> from lnp_brian.tasks.datasets import lorenz63, make_series_task
    >>> task = make_series_task(lorenz63(1000), horizon=10, name="lorenz63")
    >>> task.bounds, len(task.train), len(task.val), len(task.test)
    ((0, 600, 800, 1000), 590, 190, 190)
    """
    x = np.array(series, dtype=float)  # a copy: it is made read-only below
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"series must have shape (T,) or (T, d) with T >= 2, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("series contains NaN or infinite values")
    h = _positive_int(horizon, "horizon")
    fr = np.array([train, val, test], dtype=float)
    if np.any(fr <= 0) or abs(fr.sum() - 1.0) > 1e-9:
        raise ValueError(f"train, val, test must be > 0 and sum to 1, got {train}, {val}, {test}")
    T = x.shape[0]
    n_tr, n_va = int(math.floor(train * T)), int(math.floor(val * T))
    bounds = (0, n_tr, n_tr + n_va, T)
    for label, lo, hi in zip(("train", "val", "test"), bounds[:-1], bounds[1:]):
        if hi - lo <= h:
            raise ValueError(f"the {label} block has {hi - lo} samples, which leaves no "
                             f"(t, t+{h}) pair; use a longer series or a shorter horizon")
    mean = x[:n_tr].mean(axis=0)
    std = x[:n_tr].std(axis=0)
    if np.any(std == 0):
        raise ValueError(f"variables {np.flatnonzero(std == 0).tolist()} are constant in the "
                         "training block: cannot normalise")
    x.setflags(write=False)
    return SeriesTask(series=x, horizon=h, bounds=bounds, mean=mean, std=std, name=name)


@dataclass(frozen=True, eq=False)
class BaselineResult:
    """Test-block performance of a baseline forecaster.

    Parameters
    ----------
    name : str
        ``"persistence"``, ``"ridge"`` or ``"esn"``.
    horizon : int
        h in samples.
    nrmse : float
        Test NRMSE averaged over variables (:func:`lnp_brian.tasks.metrics.nrmse`).
    nrmse_per_variable : float array (d,)
        Test NRMSE of each variable.
    rmse : float
        Test RMSE in the series' original units, averaged over variables.
    val_nrmse : float
        Validation NRMSE (for ridge: of the chosen alpha).
    prediction : float array (n_test, d)
        Normalised test predictions (``task.denormalise`` maps them back).
    params : dict, optional
        What was chosen or fixed (ridge: ``alpha``, ``lags``, ``alphas``; see
        :func:`lnp_brian.tasks.esn.esn_baseline` for the ESN's).
    """

    name: str
    horizon: int
    nrmse: float
    nrmse_per_variable: np.ndarray
    rmse: float
    val_nrmse: float
    prediction: np.ndarray = field(repr=False)
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-friendly scalars (no prediction array).

        Returns
        -------
        dict
            ``name``, ``horizon``, ``nrmse``, ``nrmse_per_variable`` (list), ``rmse``,
            ``val_nrmse`` and the entries of ``params`` (arrays as lists).
        """
        return {"name": self.name, "horizon": int(self.horizon), "nrmse": float(self.nrmse),
                "nrmse_per_variable": [float(v) for v in self.nrmse_per_variable],
                "rmse": float(self.rmse), "val_nrmse": float(self.val_nrmse),
                **{k: (v.tolist() if isinstance(v, np.ndarray) else v)
                   for k, v in self.params.items()}}


def baseline_result(name, task, pred_test, val_nrmse, params):
    from .metrics import nrmse, rmse

    test = task.test
    per_var = nrmse(test.targets, pred_test, multioutput="raw_values")
    raw_rmse = rmse(task.denormalise(test.targets), task.denormalise(pred_test))
    return BaselineResult(name, task.horizon, float(per_var.mean()), per_var, float(raw_rmse),
                          float(val_nrmse), pred_test, params)


def persistence_baseline(task: SeriesTask) -> BaselineResult:
    """Predict that nothing changes: u(t + h) = u(t).

    The floor every forecaster must beat; on a smooth series it is already good at h = 1.

    Parameters
    ----------
    task : SeriesTask
        The forecasting task (:func:`make_series_task`).

    Returns
    -------
    BaselineResult
        ``name`` "persistence", test ``nrmse`` and ``rmse``, ``val_nrmse``, empty ``params``.

    Examples
    --------
    >>> from lnp_brian.tasks.datasets import lorenz63, make_series_task, persistence_baseline
    >>> task = make_series_task(lorenz63(1000), horizon=1)
    >>> result = persistence_baseline(task)
    >>> result.name, round(result.nrmse, 3)
    ('persistence', 0.225)
    """
    from .metrics import nrmse

    return baseline_result("persistence", task, task.test.inputs.copy(),
                   nrmse(task.val.targets, task.val.inputs), {})


def lagged_features(task: SeriesTask, split: str, lags: int) -> np.ndarray:
    """Rows [u(t), u(t-1), ..., u(t-lags+1)] (normalised) for every input t of ``split``.

    Lags reach back into earlier blocks where needed: those are past observations, known at
    prediction time, not targets. Before the start of the series the first sample is
    repeated (this only touches the first ``lags - 1`` training rows).

    Parameters
    ----------
    task : SeriesTask
        The forecasting task.
    split : {"train", "val", "test"}
        Which block's inputs.
    lags : int
        Number of samples per row (>= 1), newest first.

    Returns
    -------
    ndarray (n, lags * d)
        One row per input of the block: the d variables at lag 0, then at lag 1, ...

    Raises
    ------
    ValueError
        If ``lags`` is not a positive integer or ``split`` is unknown.

    Examples
    --------
    >>> from lnp_brian.tasks.datasets import lagged_features, lorenz63, make_series_task
    >>> task = make_series_task(lorenz63(1000), horizon=1)
    >>> lagged_features(task, "val", lags=3).shape
    (199, 9)
    """
    lags = _positive_int(lags, "lags")
    z = task.normalised
    t = task.split(split).index
    idx = np.maximum(t[:, None] - np.arange(lags)[None, :], 0)  # (n, lags)
    return z[idx].reshape(len(t), lags * task.dim)


def ridge_baseline(task: SeriesTask, lags: int = 6,
                   alphas=tuple(np.logspace(-6, 3, 10))) -> BaselineResult:
    """Linear ridge regression of u(t + h) on the last ``lags`` samples u(t), ..., u(t-lags+1).

    Every alpha is fitted on the training block (scikit-learn ``Ridge`` with intercept, on
    normalised data, so alpha has the same meaning for every series of the same length);
    the one with the lowest validation NRMSE is kept and scored on the test block. The
    model is not refitted on train + validation, so it sees exactly the data a readout
    trained on ``task.train`` sees. The first ``lags - 1`` training rows (whose history
    would start before the series) are dropped.

    Measured on Lorenz63 at dt 0.03 (15000 samples, 6 lags): almost linear at h = 1, NRMSE
    0.005 with the chosen alpha (always the smallest, 1e-6) but 0.010 at alpha 0.01 and
    0.016 at alpha 0.1 - the lagged features are nearly collinear, so the number depends on
    the regularisation; hard at h = 10: 0.75 (chosen alpha) to 0.81 (alpha 0.1).

    Parameters
    ----------
    task : SeriesTask
        The forecasting task (:func:`make_series_task`).
    lags : int, default=6
        Number of past samples per feature row.
    alphas : sequence of float, default=10 values from 1e-6 to 1e3 (log-spaced)
        Ridge penalties tried (each >= 0).

    Returns
    -------
    BaselineResult
        ``name`` "ridge", test ``nrmse`` and ``rmse``, ``val_nrmse`` of the chosen alpha;
        ``params``: ``alpha`` (chosen), ``lags``, ``alphas``.

    Raises
    ------
    ValueError
        If ``alphas`` is empty or negative, ``lags`` is not a positive integer, or the
        training block is too short for ``lags``.

    Examples
    --------
    >>> from lnp_brian.tasks.datasets import lorenz63, make_series_task, ridge_baseline
    >>> task = make_series_task(lorenz63(1000), horizon=1)
    >>> result = ridge_baseline(task, lags=2, alphas=[1e-6, 1e-3, 1.0])
    >>> result.params["alpha"], round(result.nrmse, 2)
    (1e-06, 0.03)
    """
    from sklearn.linear_model import Ridge

    from .metrics import nrmse

    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    if alphas.size == 0 or np.any(alphas < 0):
        raise ValueError(f"alphas must be a non-empty list of numbers >= 0, got {alphas!r}")
    lags = _positive_int(lags, "lags")
    keep = task.train.index >= lags - 1
    X_tr, y_tr = lagged_features(task, "train", lags)[keep], task.train.targets[keep]
    if len(X_tr) < 2:
        raise ValueError(f"the training block is too short for {lags} lags")
    X_va, X_te = lagged_features(task, "val", lags), lagged_features(task, "test", lags)
    scores, models = [], []
    for a in alphas:
        m = Ridge(alpha=float(a)).fit(X_tr, y_tr)
        scores.append(nrmse(task.val.targets, m.predict(X_va).reshape(len(X_va), -1)))
        models.append(m)
    best = int(np.argmin(scores))
    pred = models[best].predict(X_te).reshape(len(X_te), -1)  # sklearn drops a lone column
    return baseline_result("ridge", task, pred, scores[best],
                   {"alpha": float(alphas[best]), "lags": lags, "alphas": alphas.tolist()})


@dataclass(frozen=True, eq=False)
class ClassifierBaselineResult:
    """Test performance of an image-classification baseline.

    Parameters
    ----------
    name : str
        ``"pixels_logistic"``.
    accuracy : float
        Test accuracy.
    train_accuracy : float
        Accuracy on the training samples.
    cv_accuracy : float
        Mean cross-validated accuracy of the chosen C on the training samples (NaN when
        no search ran).
    prediction : int array (n_test,)
        Predicted test labels.
    params : dict, optional
        ``C`` (chosen), ``Cs``, ``cv``, ``features``, ``n_train``, ``n_test``, ``seed``.
    """

    name: str
    accuracy: float
    train_accuracy: float
    cv_accuracy: float
    prediction: np.ndarray = field(repr=False)
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-friendly scalars (no prediction array).

        Returns
        -------
        dict
            ``name``, ``accuracy``, ``train_accuracy``, ``cv_accuracy`` and the entries of
            ``params``.
        """
        return {"name": self.name, "accuracy": float(self.accuracy),
                "train_accuracy": float(self.train_accuracy), "cv_accuracy": float(self.cv_accuracy),
                **self.params}


def logistic_pixels_baseline(train_images, train_labels, test_images, test_labels, *, seed: int = 0,
                             Cs=tuple(np.logspace(-3, 2, 6)), cv: int = 5,
                             max_iter: int = 1000) -> ClassifierBaselineResult:
    """Multinomial logistic regression on the raw pixels: the image tasks' baseline.

    Pixels are flattened and scaled to [0, 1] (uint8 divided by 255, floats kept as they
    are, which must already lie in [0, 1] - as :func:`poisson_rates` reads them, so the
    baseline sees the intensities the spike encoder sees), then standardised pixel by
    pixel and classified by :class:`~lnp_brian.tasks.readout.ClassifierReadout` - the readout of
    the spiking network, on pixels instead of spike counts: C chosen from ``Cs`` by
    ``cv``-fold stratified cross-validation (shuffled with ``seed``) on the training
    samples only, refitted on all of them, scored once on the test samples.

    Parameters
    ----------
    train_images, test_images : arrays (n, ...)
        Images (any shape after the first axis; the same for both), floats in [0, 1] or
        uint8.
    train_labels, test_labels : int arrays (n,)
        Class labels of the training and test images.
    seed : int, default=0
        Seed of the cross-validation folds.
    Cs : sequence of float, default=6 values from 1e-3 to 1e2 (log-spaced)
        Candidate inverse regularisation strengths.
    cv : int, default=5
        Folds.
    max_iter : int, default=1000
        lbfgs iterations.

    Returns
    -------
    ClassifierBaselineResult
        Test and training accuracy, the chosen C's cross-validated accuracy, the test
        predictions and the settings.

    Raises
    ------
    ValueError
        If the images are not (n, ...) arrays with n >= 1 in [0, 1] or uint8, train and test
        images differ in size, or the label counts do not match the image counts.

    Notes
    -----
    Measured: digits, 300 train / 200 test (the quick split of
    ``ImageTaskRunner.digits``): test accuracy 0.96 (tests/test_esn.py).
    """
    from .metrics import accuracy
    from .readout import ClassifierReadout

    def flat(x, what):
        x = np.asarray(x)
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(f"{what} must be an array (n_images, ...) with n_images >= 1, got shape {x.shape}")
        return poisson_rates(x, 1.0).reshape(len(x), -1)  # checks the range, maps uint8 to [0, 1]

    x_tr, x_te = flat(train_images, "train_images"), flat(test_images, "test_images")
    if x_tr.shape[1] != x_te.shape[1]:
        raise ValueError(f"train images have {x_tr.shape[1]} pixels, test images {x_te.shape[1]}")
    y_tr, y_te = np.asarray(train_labels).reshape(-1), np.asarray(test_labels).reshape(-1)
    if len(y_tr) != len(x_tr) or len(y_te) != len(x_te):
        raise ValueError(f"{len(x_tr)} train images with {len(y_tr)} labels, {len(x_te)} test images "
                         f"with {len(y_te)} labels")
    est = ClassifierReadout(Cs=Cs, cv=cv, max_iter=max_iter, random_state=seed).fit(x_tr, y_tr)
    pred = est.predict(x_te)
    cv_scores = getattr(est, "cv_scores_", None)
    cv_acc = float(np.max(cv_scores)) if cv_scores is not None else math.nan
    grid = np.atleast_1d(np.asarray(Cs, dtype=float))
    return ClassifierBaselineResult(
        "pixels_logistic", float(accuracy(y_te, pred)), float(accuracy(y_tr, est.predict(x_tr))), cv_acc, pred,
        {"C": float(est.C_), "Cs": grid.tolist(), "cv": int(cv), "features": int(x_tr.shape[1]),
         "n_train": int(len(x_tr)), "n_test": int(len(x_te)), "seed": int(seed)})


# ==========================================================================================
# Images
# ==========================================================================================
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits (1797 images, shipped with the package).

    Returns
    -------
    images : float array (1797, 8, 8)
        Pixel intensities scaled from 0..16 to [0, 1].
    labels : int array (1797,)
        Digit 0-9.

    Examples
    --------
    >>> from lnp_brian.tasks.datasets import digits
    >>> images, labels = digits()
    >>> images.shape, float(images.max()), labels[:5].tolist()
    ((1797, 8, 8), 1.0, [0, 1, 2, 3, 4])
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(float) / 16.0, d.target.astype(np.int64)


def stratified_split(images, labels, test_fraction: float = 0.25, seed: int = 0):
    """Seeded train/test split keeping every class's proportion in both parts.

    Parameters
    ----------
    images : array (n, ...)
        Images (or any samples).
    labels : array (n,)
        Class labels; every class needs at least two samples.
    test_fraction : float, default=0.25
        Fraction of the samples in the test part, in (0, 1).
    seed : int, default=0
        Seed of the shuffling.

    Returns
    -------
    images_train, images_test, labels_train, labels_test : ndarray
        In scikit-learn's ``train_test_split`` order.

    Raises
    ------
    ValueError
        If images and labels differ in number or ``test_fraction`` is outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from lnp_brian.tasks.datasets import digits, stratified_split
    >>> images, labels = digits()
    >>> x_tr, x_te, y_tr, y_te = stratified_split(images[:100], labels[:100], test_fraction=0.2)
    >>> x_tr.shape, x_te.shape, np.bincount(y_te).tolist()
    ((80, 8, 8), (20, 8, 8), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    return train_test_split(np.asarray(images), labels, test_size=test_fraction, stratify=labels,
                            random_state=derive_seed(seed, "datasets.stratified_split"))


def poisson_rates(images, max_rate) -> np.ndarray:
    """Per-pixel firing rates (Hz) for Poisson rate coding: rate = intensity x max_rate.

    A black pixel is silent and a white one fires at ``max_rate``; a Poisson encoder then
    emits spikes with these rates for the presentation window (done elsewhere).

    Parameters
    ----------
    images : array, any shape
        Floats in [0, 1], or unsigned integers read as 8-bit intensities (divided by 255,
        e.g. CIFAR's uint8 pixels).
    max_rate : float (Hz) or Brian2 quantity / string with units of frequency
        Rate of a full-intensity pixel, e.g. ``100`` or ``"100 Hz"``.

    Returns
    -------
    float array, same shape as ``images``
        Rates in Hz.

    Raises
    ------
    ValueError
        If ``max_rate`` is not a finite rate >= 0, or the images are neither floats in
        [0, 1] nor uint8.

    Examples
    --------
    >>> import numpy as np
    >>> from lnp_brian.tasks.datasets import poisson_rates
    >>> poisson_rates(np.array([0.0, 0.5, 1.0]), "100 Hz")
    array([  0.,  50., 100.])
    >>> poisson_rates(np.array([0, 255], dtype=np.uint8), 50)
    array([ 0., 50.])
    """
    if isinstance(max_rate, numbers.Real) and not isinstance(max_rate, bool):
        rate = float(max_rate)
    else:
        from ..core.units import parse_quantity

        rate = float(parse_quantity(max_rate, "Hz", where="poisson_rates: max_rate"))
    if not (np.isfinite(rate) and rate >= 0):
        raise ValueError(f"poisson_rates: max_rate must be a finite rate >= 0 Hz, got {max_rate!r}")
    x = np.asarray(images)
    if x.dtype.kind == "u":
        if x.dtype.itemsize != 1:
            raise ValueError(f"poisson_rates: integer images must be uint8 (0..255), got {x.dtype}")
        x = x.astype(float) / 255.0
    elif x.dtype.kind == "f":
        x = x.astype(float)
        if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
            raise ValueError("poisson_rates: float images must lie in [0, 1] "
                             f"(got range [{np.nanmin(x):g}, {np.nanmax(x):g}])")
    else:
        raise ValueError(f"poisson_rates: images must be floats in [0, 1] or uint8, got {x.dtype}")
    return x * rate


# ---- CIFAR ---------------------------------------------------------------------------------
class CifarFileError(ValueError):
    """A CIFAR batch file or folder that cannot be read safely."""


CIFAR_FILES = {
    # kind: (folder inside the archive, {split: [batch files]})
    "cifar10": ("cifar-10-batches-py",
                {"train": [f"data_batch_{k}" for k in range(1, 6)], "test": ["test_batch"]}),
    "cifar100": ("cifar-100-python", {"train": ["train"], "test": ["test"]}),
}
_LABEL_KEYS = {"cifar10": {"labels": 10}, "cifar100": {"fine_labels": 100, "coarse_labels": 20}}


class _Refused(pickle.UnpicklingError):
    """A pickle asked for something a CIFAR batch never contains."""


def _safe_latin1_encode(obj, encoding="latin1", errors="strict"):
    """Python 3 writes bytes into protocol-2 pickles as ``_codecs.encode(str, 'latin1')``;
    only that exact use is let through (no other codec, no other argument types)."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise _Refused("_codecs.encode is only allowed as encode(str, 'latin1')")
    return obj.encode("latin1")


def _numpy_allowed():
    reconstruct = np.zeros(0).__reduce__()[0]          # numpy's ndarray reconstructor
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]       # used by protocol-5 pickles
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
               ("_codecs", "encode"): _safe_latin1_encode}
    # the original files name numpy.core.multiarray (numpy 1); numpy 2 writes numpy._core
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(mod, "_reconstruct")] = reconstruct
    for mod in ("numpy.core.numeric", "numpy._core.numeric"):
        allowed[(mod, "_frombuffer")] = frombuffer
    return allowed


class _CifarUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals a CIFAR batch needs.

    A pickle can call any importable callable (``os.system``, ``builtins.eval`` ...) through
    its GLOBAL/REDUCE opcodes; here every global outside a short allow-list (numpy array and
    dtype reconstruction, latin-1 bytes) raises before anything is called. Object arrays are
    refused afterwards by the content checks (data must be uint8).
    """

    _ALLOWED = None

    def find_class(self, module, name):
        if _CifarUnpickler._ALLOWED is None:
            _CifarUnpickler._ALLOWED = _numpy_allowed()
        try:
            return _CifarUnpickler._ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(f"refused global {module}.{name}: a CIFAR batch only "
                                         "contains numpy arrays, lists, ints and bytes") from None


def _read_batch(path: Path, kind: str) -> tuple[np.ndarray, dict]:
    """(data (N, 3072) uint8, {label key: int array (N,)}) of one batch file, checked."""
    try:
        with open(path, "rb") as fh:
            obj = _CifarUnpickler(fh, encoding="bytes").load()
    except FileNotFoundError:
        raise CifarFileError(f"{path}: no such file") from None
    except _Refused as exc:
        raise CifarFileError(f"{path}: unsafe pickle, not loaded: {exc}") from None
    except Exception as exc:  # truncated files, bad opcodes, bad numpy state ...
        raise CifarFileError(f"{path}: cannot read as a CIFAR pickle batch "
                             f"({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise CifarFileError(f"{path}: expected a dict, got {type(obj).__name__}")
    d = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    data = d.get("data")
    if data is None:
        raise CifarFileError(f"{path}: missing key b'data' (keys: {sorted(map(str, d))})")
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3072):
        what = (f"{data.dtype} array {data.shape}" if isinstance(data, np.ndarray)
                else type(data).__name__)
        raise CifarFileError(f"{path}: key b'data' must be a uint8 array (N, 3072), got {what}")
    labels = {}
    for key, n_classes in _LABEL_KEYS[kind].items():
        if key not in d:
            raise CifarFileError(f"{path}: missing key b'{key}' ({kind} batches have "
                                 f"{', '.join('b' + repr(k) for k in _LABEL_KEYS[kind])})")
        raw = d[key]
        if not isinstance(raw, (list, np.ndarray)) or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in raw):
            raise CifarFileError(f"{path}: key b'{key}' must be a list of ints")
        lab = np.asarray(raw, dtype=np.int64).reshape(-1)
        if len(lab) != len(data):
            raise CifarFileError(f"{path}: key b'{key}' has {len(lab)} labels for "
                                 f"{len(data)} images")
        if lab.size and (lab.min() < 0 or lab.max() >= n_classes):
            raise CifarFileError(f"{path}: key b'{key}' has labels outside 0..{n_classes - 1}")
        labels[key] = lab
    return data, labels


def _cifar_folder(path, kind) -> tuple[Path, dict]:
    """The folder holding the batches: ``path/<archive folder>`` or ``path`` itself."""
    if kind not in CIFAR_FILES:
        raise ValueError(f"kind must be one of {sorted(CIFAR_FILES)}, got {kind!r}")
    folder_name, files = CIFAR_FILES[kind]
    path = Path(path).expanduser()
    names = files["train"] + files["test"]
    for cand in (path / folder_name, path):
        if cand.is_dir() and any((cand / f).is_file() for f in names):
            return cand, files
    raise CifarFileError(f"{path}: no {kind} batches found; expected the folder {folder_name}/ "
                         f"(or {path} itself) to hold {', '.join(names)} (the python version "
                         "of the dataset, extracted)")


def load_cifar(path, kind: str = "cifar10", split: str = "train", limit: int | None = None,
               label: str = "fine") -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 or CIFAR-100 images from the standard python pickle batches.

    The batches are read with a restricted unpickler, so a crafted file raises
    :class:`CifarFileError` instead of running code. Nothing is downloaded.

    Parameters
    ----------
    path : str or Path
        The extracted folder (``cifar-10-batches-py`` / ``cifar-100-python``) or the folder
        that contains it.
    kind : {"cifar10", "cifar100"}, default="cifar10"
        Which dataset.
    split : {"train", "test"}, default="train"
        CIFAR-10: ``data_batch_1`` .. ``data_batch_5`` or ``test_batch``; CIFAR-100:
        ``train`` or ``test``.
    limit : int, optional
        Return only the first ``limit`` images (batches after the one that reaches it are
        not read, and need not exist).
    label : {"fine", "coarse"}, default="fine"
        CIFAR-100 only: 100 fine classes or 20 superclasses.

    Returns
    -------
    images : uint8 array (N, 32, 32, 3)
        Height x width x RGB, 0..255 (:func:`poisson_rates` accepts them as they are).
    labels : int array (N,)
        Class indices.

    Raises
    ------
    CifarFileError
        If the folder or a needed batch file is missing, or a file is not a well-formed
        CIFAR batch (including pickles that ask for anything but arrays and bytes).
    ValueError
        If ``kind``, ``split`` or ``label`` is unknown, or ``limit`` is not a positive
        integer.
    """
    folder, files = _cifar_folder(path, kind)
    if split not in files:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if label not in ("fine", "coarse"):
        raise ValueError(f"label must be 'fine' or 'coarse', got {label!r}")
    if limit is not None:
        limit = _positive_int(limit, "limit")
    key = "labels" if kind == "cifar10" else f"{label}_labels"
    datas, labels, have = [], [], 0
    for k, name in enumerate(files[split]):
        if not (folder / name).is_file():  # needed: the limit is not reached without it
            missing = [f for f in files[split][k:] if not (folder / f).is_file()]
            raise CifarFileError(f"{folder}: missing {', '.join(missing)} (the {split} split of "
                                 f"{kind} is {', '.join(files[split])}"
                                 + (f"; {have} images read before, {limit} asked for)" if limit else ")"))
        data, lab = _read_batch(folder / name, kind)
        datas.append(data)
        labels.append(lab[key])
        have += len(data)
        if limit is not None and have >= limit:
            break
    data = np.concatenate(datas)[:limit]
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # RGB planes -> HWC
    return np.ascontiguousarray(images), np.concatenate(labels)[:limit]


def write_cifar_batch(path, images, labels, kind: str = "cifar10", coarse_labels=None,
                      batch_label: str = "lnp_brian batch", filenames=None) -> Path:
    """Write one batch file in the standard CIFAR python format (pickle protocol 2).

    The dict has byte keys, as in the original files: ``b'batch_label'`` (bytes),
    ``b'data'`` (uint8 (N, 3072): the 1024 red, then green, then blue values of each image,
    rows of 32 pixels) and ``b'filenames'`` (list of bytes), plus ``b'labels'`` (CIFAR-10) or
    ``b'fine_labels'`` and ``b'coarse_labels'`` (CIFAR-100), lists of ints. Use it to build
    small test sets; name the files as :data:`CIFAR_FILES` says.

    Parameters
    ----------
    path : str or Path
        File to write (atomically; parent folders are created).
    images : uint8 array (N, 32, 32, 3) or (N, 3072)
        Height x width x RGB images, or rows already in the file layout.
    labels : int array (N,)
        CIFAR-10 labels, or CIFAR-100 fine labels.
    kind : {"cifar10", "cifar100"}, default="cifar10"
        Format of the batch (which label keys it has).
    coarse_labels : int array (N,), optional
        CIFAR-100 superclass labels; required for ``kind="cifar100"``.
    batch_label : str, default="lnp_brian batch"
        Stored as ``b'batch_label'`` (latin-1 encoded).
    filenames : sequence of str or bytes, optional
        One per image; default ``image_00000.png``, ``image_00001.png``, ...

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        If ``kind`` is unknown, the images are not uint8 of shape (N, 32, 32, 3) or
        (N, 3072), labels are missing, not N integers or out of range, or the number of
        filenames differs from N.
    """
    if kind not in _LABEL_KEYS:
        raise ValueError(f"kind must be one of {sorted(_LABEL_KEYS)}, got {kind!r}")
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {x.dtype}")
    if x.ndim == 4 and x.shape[1:] == (32, 32, 3):
        data = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)
    elif x.ndim == 2 and x.shape[1] == 3072:
        data = x
    else:
        raise ValueError(f"images must have shape (N, 32, 32, 3) or (N, 3072), got {x.shape}")
    data = np.ascontiguousarray(data)
    n = len(data)
    label_sets = {"labels": labels} if kind == "cifar10" else {"fine_labels": labels,
                                                               "coarse_labels": coarse_labels}
    obj = {b"batch_label": batch_label.encode("latin1")}
    for key, values in label_sets.items():
        if values is None:
            raise ValueError(f"{kind} batches need {key}")
        v = np.asarray(values).reshape(-1)
        if len(v) != n or v.dtype.kind not in "iu":
            raise ValueError(f"{key} must be {n} integers, got {v.dtype} array of {len(v)}")
        limit = _LABEL_KEYS[kind][key]
        if n and (v.min() < 0 or v.max() >= limit):
            raise ValueError(f"{key} must lie in 0..{limit - 1}")
        obj[key.encode()] = [int(a) for a in v]
    obj[b"data"] = data
    if filenames is None:
        filenames = [f"image_{k:05d}.png" for k in range(n)]
    if len(filenames) != n:
        raise ValueError(f"{len(filenames)} filenames for {n} images")
    obj[b"filenames"] = [f.encode("latin1") if isinstance(f, str) else bytes(f) for f in filenames]
    return atomic_write(path, lambda fh: pickle.dump(obj, fh, protocol=2))


# ------------------------------------------------------------------------------------------
def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)
