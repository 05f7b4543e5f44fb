"""Task-agnostic reservoir quality: memory capacity, kernel rank and generalisation rank.

Three numbers that describe what a reservoir can offer a linear readout, independent of any
particular task:

- **Memory capacity** (Jaeger 2001): drive the reservoir with an i.i.d. scalar input u(t)
  and train, for every delay k = 1..K, a linear readout y_k(t) to reproduce the input k
  steps back. MC = sum over k of the squared correlation r^2(u(t - k + 1), y_k(t)) between
  target and readout output (delay 1 is the latest input the state has seen). For a linear
  reservoir of N units MC <= N, with equality for a generic one.
- **Kernel rank** (Legenstein & Maass 2007): the rank of the matrix of reservoir states
  reached after m *different* input streams. It bounds the number of input classes a
  linear readout can separate: the higher, the better.
- **Generalisation rank** (Legenstein & Maass 2007): the same rank for m *noisy versions of
  one* input stream. It measures how much the reservoir spreads inputs that should be
  treated alike: the lower, the better. A good reservoir has a high kernel rank and a low
  generalisation rank.

:func:`memory_capacity`, :func:`kernel_rank` and :func:`generalization_rank` work on state
matrices from any source (NumPy reservoirs in the tests, recorded features, ...).
:func:`reservoir_quality` measures all three for a spiking :class:`~lnp_brian.network.network.Network`
on one compiled :class:`~lnp_brian.simulation.simulator.Simulator` build, re-run with new inputs, and
returns a :class:`QualityResult`.

**How the estimates are kept honest.**

- MC readouts are fitted on the first part of the samples and scored on the rest
  (``train_fraction``), so a readout with as many weights as samples cannot inflate the
  score by fitting noise. Each delay's ridge penalty is chosen by leave-one-out correlation
  *on the training part only*.
- A readout that has learnt nothing still correlates with the held-out target by chance,
  r^2 ~ 1/n_test per delay, which summed over many delays adds up. By default (``significance``)
  a delay counts only when its held-out correlation is positive and significant at that
  level (one-sided t test on the held-out samples); below it its r^2 is set to 0. The raw
  values are kept in ``r2_raw``.
- Ranks are numerical ranks of noisy matrices, so they need a tolerance: a singular value
  counts when it exceeds ``rtol`` times the largest (default 1 %). In
  :func:`reservoir_quality` kernel and generalisation rank use the *same* absolute tolerance
  (``rtol`` times the largest singular value of the kernel matrix), so the two numbers are
  on one scale; the singular values themselves are returned for any other threshold.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from .runners import SERIES_DEFAULTS as _SERIES  # the same encoder as the forecasting tasks

__all__ = ["memory_capacity", "MemoryCapacity", "kernel_rank", "generalization_rank", "singular_values",
           "numerical_rank", "effective_rank", "reservoir_quality", "QualityResult", "QualityOptionError",
           "quality_options", "quality_figure", "DEFAULT_ALPHAS", "DEFAULT_RTOL", "DEFAULT_FEATURE_TAUS"]

#: ridge penalties of the MC readouts, *relative* to the mean eigenvalue of the centred
#: training Gram matrix (so one grid fits states of any scale); 0 is plain least squares
DEFAULT_ALPHAS = (0.0,) + tuple(float(a) for a in np.logspace(-8, 4, 49))
#: rank tolerance: singular values above this fraction of the largest count
DEFAULT_RTOL = 1e-2
#: time constants (s) of the exponential filters of the spike trains (features concatenated)
DEFAULT_FEATURE_TAUS = (5e-3, 20e-3, 50e-3)


class QualityOptionError(ValueError):
    """An option of :func:`reservoir_quality` that cannot be used; ``option`` names it.

    Parameters
    ----------
    option : str
        Name of the bad option (e.g. ``"max_delay"``); stored as ``self.option``.
    message : str
        What is wrong with the value and what is expected.
    """

    def __init__(self, option: str, message: str):
        self.option = option
        super().__init__(message)


# ==========================================================================================
# memory capacity
# ==========================================================================================
@dataclass
class MemoryCapacity:
    """Memory capacity of a state matrix (see :func:`memory_capacity`).

    Parameters
    ----------
    total : float
        MC = sum of ``r2`` (dimensionless; at most the number of linearly independent
        features, up to estimation error).
    r2 : float array (K,)
        Held-out squared correlation of each delay's readout with its target, set to 0 where
        the correlation is negative or not significant (see ``significance``).
    r2_raw : float array (K,)
        Held-out squared correlation without that clipping (negative correlations give
        positive values here).
    correlation : float array (K,)
        Held-out correlation (signed).
    delays : int array (K,)
        1..K; delay 1 is the latest input the state has seen.
    alpha : float array (K,)
        Chosen relative ridge penalty of each delay.
    threshold : float
        Smallest r^2 that counts (0 without a significance test).
    n_train, n_test, n_features : int
        Rows that trained and scored the readouts, and columns of the state matrix.
    """

    total: float
    r2: np.ndarray
    r2_raw: np.ndarray
    correlation: np.ndarray
    delays: np.ndarray
    alpha: np.ndarray
    threshold: float
    n_train: int
    n_test: int
    n_features: int

    def to_dict(self) -> dict:
        """Plain JSON-serialisable numbers and lists.

        Returns
        -------
        dict
            Every field, arrays as lists of float or int.
        """
        return {"total": float(self.total), "r2": [float(x) for x in self.r2],
                "r2_raw": [float(x) for x in self.r2_raw],
                "correlation": [float(x) for x in self.correlation],
                "delays": [int(k) for k in self.delays], "alpha": [float(a) for a in self.alpha],
                "threshold": float(self.threshold), "n_train": int(self.n_train),
                "n_test": int(self.n_test), "n_features": int(self.n_features)}


def _as_states(states, name: str = "states") -> np.ndarray:
    x = np.asarray(states, dtype=float)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array (samples, features), got shape {np.shape(states)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite (no nan or inf)")
    return x


def _as_alphas(alphas) -> np.ndarray:
    a = np.atleast_1d(np.asarray(alphas, dtype=float))
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"alphas must be a non-empty list of finite numbers >= 0, got {alphas!r}")
    return a


def memory_capacity(states, u, max_delay: int, *, train_fraction: float = 0.5, alphas=DEFAULT_ALPHAS,
                    significance: float | None = 1e-3, blocks=None) -> MemoryCapacity:
    """Memory capacity (Jaeger 2001) of precomputed reservoir states.

    Row ``t`` of ``states`` is the state after the reservoir received ``u[t]`` (it has seen
    ``u[0..t]``). For every delay k = 1..``max_delay`` a ridge readout with intercept
    y_k(t) = w_k . x(t) + b_k is trained to output ``u[t - k + 1]`` (delay 1: the latest
    input seen), and MC = sum_k r^2(u(t - k + 1), y_k(t)). For a linear reservoir
    x(t+1) = W x(t) + v u(t) with N units this is the usual convention: MC <= N, equal to N
    for generic W and v, and 1 for W = 0.

    Only rows ``t >= max_delay - 1`` are used (every delay has its target), the same rows
    for all delays. They are split chronologically: the first ``train_fraction`` train the
    readouts, the rest score them. Each delay's ridge penalty is picked from ``alphas`` by
    the exact leave-one-out predictions on the training rows (one SVD for all penalties and
    delays; the penalty whose leave-one-out predictions correlate best with the target); its
    r^2 is measured on the held-out rows only.

    Parameters
    ----------
    states : float array (T, N)
        Reservoir states or features (any unit; constant columns are harmless).
    u : float array (T,)
        The scalar input, i.i.d. over time (e.g. uniform in [-1, 1]); its unit does not
        matter.
    max_delay : int
        K, the largest delay (in steps of ``u``), >= 1.
    train_fraction : float in (0, 1)
        Fraction of the usable rows that train the readouts (default 0.5).
    alphas : sequence of float >= 0
        Candidate ridge penalties, *relative*: the penalty is ``alpha`` times the mean
        eigenvalue of the centred training Gram matrix, so the grid does not depend on the
        scale of the states. Default :data:`DEFAULT_ALPHAS` (0 and 1e-8 .. 1e4, four per decade).
    significance : float in (0, 1) or None
        A delay counts only if its held-out correlation is positive and significant at this
        level (one-sided t test with ``n_test - 2`` degrees of freedom); otherwise its r^2 is
        set to 0. This removes the chance correlation (~1/n_test per delay) that would
        otherwise add up over many delays. None: only negative correlations are set to 0.
    blocks : sequence of int, optional
        Column counts of consecutive feature blocks (e.g. one block per filter time
        constant). Each block is divided by its root-mean-square over the training rows
        (after centring), so that one ridge penalty treats blocks of very different scale
        alike; columns within a block keep their relative sizes. Default: one block (no
        effect, the penalties being relative).

    Returns
    -------
    MemoryCapacity
        ``total`` (MC), per-delay ``r2`` (clipped) and ``r2_raw``, chosen ``alpha``, sizes.

    Raises
    ------
    ValueError
        If ``states`` is not a finite 2-D array, ``u`` does not have one finite value per
        row, an option is out of range, ``blocks`` does not add up to the columns, or too
        few rows remain to train (2) and test (3) the readouts.

    Examples
    --------
    A linear reservoir with an orthogonal recurrent matrix remembers about N inputs:

    >>> import numpy as np
    >>> from lnp_brian.tasks.quality import memory_capacity
    >>> rng = np.random.default_rng(0)
    >>> N, T = 20, 4000
    >>> W = 0.95 * np.linalg.qr(rng.normal(size=(N, N)))[0]
    >>> v, u = rng.normal(size=N), rng.uniform(-1, 1, T)
    >>> x, states = np.zeros(N), np.zeros((T, N))
    >>> for t in range(T):
    ...     x = W @ x + v * u[t]
    ...     states[t] = x
    >>> mc = memory_capacity(states, u, max_delay=40)
    >>> 0.8 * N < mc.total <= N + 0.5
    True
    """
    x = _as_states(states)
    u = np.asarray(u, dtype=float)
    if u.ndim == 2 and u.shape[1] == 1:
        u = u[:, 0]
    if u.ndim != 1 or len(u) != len(x):
        raise ValueError(f"u must be a 1-D array with one value per row of states ({len(x)}), "
                         f"got shape {np.shape(u)}")
    if not np.all(np.isfinite(u)):
        raise ValueError("u must be finite (no nan or inf)")
    if isinstance(max_delay, (bool, np.bool_)) or not isinstance(max_delay, numbers.Integral) or max_delay < 1:
        raise ValueError(f"max_delay must be an integer >= 1, got {max_delay!r}")
    K = int(max_delay)
    if not (isinstance(train_fraction, numbers.Real) and 0 < train_fraction < 1):
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction!r}")
    if significance is not None and not (isinstance(significance, numbers.Real) and 0 < significance < 1):
        raise ValueError(f"significance must lie in (0, 1) or be None, got {significance!r}")
    a_rel = _as_alphas(alphas)

    T = len(x)
    rows = np.arange(K - 1, T)
    n_train = int(math.floor(train_fraction * len(rows)))
    n_test = len(rows) - n_train
    if n_train < 2 or n_test < 3:
        raise ValueError(f"too few samples: {T} rows give {len(rows)} usable for max_delay {K} "
                         f"({n_train} to train, {n_test} to test); need at least 2 and 3")
    # targets: column k-1 holds u[t - k + 1]
    Y = np.stack([u[rows - k + 1] for k in range(1, K + 1)], axis=1)
    X = x[rows]
    Xtr, Xte, Ytr, Yte = X[:n_train], X[n_train:], Y[:n_train], Y[n_train:]
    x_mean, y_mean = Xtr.mean(axis=0), Ytr.mean(axis=0)
    Xc, Yc = Xtr - x_mean, Ytr - y_mean
    col_scale = _block_scale(Xc, blocks)
    Xc = Xc / col_scale
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    s2 = s ** 2
    keep = s > (s[0] * max(Xc.shape) * np.finfo(float).eps if s.size and s[0] > 0 else 0.0)
    scale = float(s2.sum() / len(s)) if s.size and s2.sum() > 0 else 1.0
    UtY = U.T @ Yc
    U2 = U ** 2
    # leave-one-out correlation of every penalty and delay (the criterion matches the score:
    # r^2 ignores the scale of the output, which the squared error would also reward)
    loo = np.full((len(a_rel), K), -np.inf)
    for j, a in enumerate(a_rel):
        f = np.where(keep, s2 / np.where(keep, s2 + a * scale, 1.0), 0.0)
        fitted = U @ (f[:, None] * UtY)
        h = 1.0 / n_train + U2 @ f
        if np.any(1.0 - h < 1e-8):  # a row fitted exactly (as many weights as rows): no LOO estimate
            continue
        pred_loo = Yc - (Yc - fitted) / (1.0 - h)[:, None]
        loo[j] = _column_correlations(pred_loo, Yc)
    best = np.argmax(loo, axis=0)  # per delay; ties go to the smallest index (weakest penalty)
    alpha = a_rel[best]
    pred = np.empty_like(Yte)
    Xte_c = (Xte - x_mean) / col_scale
    for k in range(K):
        g = np.where(keep, s / np.where(keep, s2 + alpha[k] * scale, 1.0), 0.0)
        coef = Vt.T @ (g * UtY[:, k])
        pred[:, k] = Xte_c @ coef + y_mean[k]
    corr = _column_correlations(pred, Yte)
    r2_raw = corr ** 2
    if significance is None:
        threshold = 0.0
        r2 = np.where(corr > 0, r2_raw, 0.0)
    else:
        from scipy.stats import t as student_t

        dof = n_test - 2
        tc = float(student_t.ppf(1.0 - significance, dof))
        r_crit = tc / math.sqrt(dof + tc * tc)
        threshold = r_crit ** 2
        r2 = np.where(corr > r_crit, r2_raw, 0.0)
    return MemoryCapacity(total=float(r2.sum()), r2=r2, r2_raw=r2_raw, correlation=corr,
                          delays=np.arange(1, K + 1), alpha=alpha, threshold=float(threshold),
                          n_train=n_train, n_test=n_test, n_features=x.shape[1])


def _block_scale(xc: np.ndarray, blocks) -> np.ndarray:
    """Per-column divisor: the RMS of each block of the centred matrix ``xc`` (1 where a
    block is constant)."""
    n_cols = xc.shape[1]
    if blocks is None:
        sizes = [n_cols]
    else:
        sizes = [int(b) for b in blocks]
        if any(b < 0 for b in sizes) or sum(sizes) != n_cols:
            raise ValueError(f"blocks {sizes} must be column counts >= 0 adding up to the {n_cols} features")
    scale = np.ones(n_cols)
    start = 0
    for b in sizes:
        if b:
            rms = float(np.sqrt(np.mean(xc[:, start:start + b] ** 2)))
            scale[start:start + b] = rms if rms > 0 else 1.0
        start += b
    return scale


def _column_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``a`` with the same column of ``b`` (0 where
    either is constant)."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    num = (a * b).sum(axis=0)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


# ==========================================================================================
# ranks
# ==========================================================================================
def singular_values(states, *, center: bool = False) -> np.ndarray:
    """Singular values (descending) of a state matrix (m, N): one row per input stream.

    Parameters
    ----------
    states : float array (m, N)
        Row i: the state (or feature vector) at the end of input stream i.
    center : bool, default=False
        Subtract the mean state over the m rows first (the affine rank, the one that
        matters for a readout with an intercept; it differs from the plain rank by at
        most 1).

    Returns
    -------
    float array (min(m, N),)
        Singular values, largest first, in the unit of the states.

    Raises
    ------
    ValueError
        If ``states`` is not a finite 2-D array.

    Examples
    --------
    >>> import numpy as np
    >>> from lnp_brian.tasks.quality import singular_values
    >>> singular_values(np.array([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]]))
    array([4., 3.])
    """
    x = _as_states(states)
    if center:
        x = x - x.mean(axis=0)
    return np.linalg.svd(x, compute_uv=False)


def numerical_rank(s, *, rtol: float = DEFAULT_RTOL, tol: float | None = None) -> int:
    """Number of singular values ``s`` above a tolerance.

    Parameters
    ----------
    s : array of float
        Singular values (:func:`singular_values`), any order.
    rtol : float in [0, 1), default=DEFAULT_RTOL (0.01)
        Relative tolerance: values above ``rtol * max(s)`` count. Ignored when ``tol`` is
        given.
    tol : float, optional
        Absolute tolerance (unit of ``s``), >= 0.

    Returns
    -------
    int
        The numerical rank; 0 for an empty or all-zero ``s``.

    Raises
    ------
    ValueError
        If ``rtol`` is outside [0, 1) or ``tol`` is negative or not finite.

    Examples
    --------
    >>> from lnp_brian.tasks.quality import numerical_rank
    >>> numerical_rank([10.0, 1.0, 0.05])               # 0.05 < 1 % of 10
    2
    >>> numerical_rank([10.0, 1.0, 0.05], rtol=1e-3), numerical_rank([10.0, 1.0, 0.05], tol=2.0)
    (3, 1)
    """
    s = np.asarray(s, dtype=float)
    if tol is None:
        if not (isinstance(rtol, numbers.Real) and 0 <= rtol < 1):
            raise ValueError(f"rtol must lie in [0, 1), got {rtol!r}")
        tol = rtol * (float(s.max()) if s.size else 0.0)
    elif not (isinstance(tol, numbers.Real) and math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    return int(np.count_nonzero(s > tol)) if s.size and s.max() > 0 else 0


def effective_rank(s) -> float:
    """Roy & Vetterli's (2007) effective rank exp(H(p)), p = s / sum(s).

    A threshold-free companion of :func:`numerical_rank` (1 for one direction, k for k
    equal ones).

    Parameters
    ----------
    s : array of float
        Singular values (>= 0).

    Returns
    -------
    float
        Between 1 and the number of non-zero values; 0 when all are 0.

    Examples
    --------
    >>> from lnp_brian.tasks.quality import effective_rank
    >>> round(effective_rank([1.0, 1.0, 1.0]), 3), effective_rank([5.0, 0.0])
    (3.0, 1.0)
    >>> round(effective_rank([10.0, 1.0, 0.05]), 3)
    1.394
    """
    s = np.asarray(s, dtype=float)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


def kernel_rank(states, *, rtol: float = DEFAULT_RTOL, tol: float | None = None, center: bool = False) -> int:
    """Kernel rank (Legenstein & Maass 2007) of a state matrix.

    The numerical rank of the states reached after m *different* input streams.

    Parameters
    ----------
    states : float array (m, N)
        Row i: the reservoir state (or feature vector) at the end of input stream i.
    rtol : float, default=DEFAULT_RTOL (0.01)
        Singular values above ``rtol`` times the largest count (default 1 %): the states of a
        noisy reservoir never have an exactly deficient matrix, so a relative tolerance
        decides which directions are above the noise.
    tol : float, optional
        Absolute tolerance instead (same unit as the states); use one tolerance for the
        kernel and the generalisation matrix to compare them (as :func:`reservoir_quality`
        does).
    center : bool, default=False
        Subtract the mean state first (see :func:`singular_values`).

    Returns
    -------
    int
        At most ``min(m, N)``; higher is better (more input streams separable).

    Examples
    --------
    >>> import numpy as np
    >>> from lnp_brian.tasks.quality import kernel_rank
    >>> rng = np.random.default_rng(0)
    >>> kernel_rank(rng.normal(size=(40, 10)))                 # generic: full rank
    10
    >>> kernel_rank(np.repeat(rng.normal(size=(40, 5)), 2, axis=1))  # duplicated units
    5
    """
    return numerical_rank(singular_values(states, center=center), rtol=rtol, tol=tol)


def generalization_rank(states, *, rtol: float = DEFAULT_RTOL, tol: float | None = None,
                        center: bool = False) -> int:
    """Generalisation rank (Legenstein & Maass 2007) of a state matrix.

    The numerical rank of the states reached after m *noisy versions of one* input stream.

    Same computation as :func:`kernel_rank` (see there for ``rtol``, ``tol``, ``center``),
    different input: a low value means the reservoir maps small input differences to nearby
    states, so a readout trained on a few examples generalises. Without ``center`` one
    direction (the common mean state) is always counted.

    Parameters
    ----------
    states : float array (m, N)
        Row i: the state at the end of noisy copy i of the stream.
    rtol : float, default=DEFAULT_RTOL (0.01)
        Relative tolerance, as in :func:`kernel_rank`.
    tol : float, optional
        Absolute tolerance (unit of the states); use the kernel matrix's to compare the
        two ranks.
    center : bool, default=False
        Subtract the mean state first (see :func:`singular_values`).

    Returns
    -------
    int
        At most ``min(m, N)``; lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from lnp_brian.tasks.quality import generalization_rank
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(size=10)
    >>> generalization_rank(base + 1e-4 * rng.normal(size=(40, 10)))   # copies nearly equal
    1
    """
    return numerical_rank(singular_values(states, center=center), rtol=rtol, tol=tol)


# ==========================================================================================
# spiking networks
# ==========================================================================================
@dataclass
class QualityResult:
    """Memory capacity, kernel rank and generalisation rank of one network.

    Made by :func:`reservoir_quality`; :meth:`to_dict` gives the JSON record and
    :meth:`summary` one line.

    Parameters
    ----------
    memory_capacity : float
        MC (dimensionless, in input steps), at most ``n_features``.
    r2 : float array (K,)
        Held-out r^2 of each delay 1..K (clipped, see :func:`memory_capacity`).
    r2_raw : float array (K,)
        The same without clipping.
    kernel_rank, generalization_rank : int
        Numerical ranks of the (m, N) state matrices with the common tolerance
        ``rank_tolerance``.
    kernel_singular_values, generalization_singular_values : float arrays
        Their singular values (features' unit: filtered spike counts).
    kernel_effective_rank, generalization_effective_rank : float
        Roy & Vetterli's effective ranks (threshold-free).
    rank_tolerance : float
        ``rtol`` times the largest kernel singular value.
    m : int
        Streams (kernel) and noisy copies (generalisation).
    n_features : int
        N: active neurons times feature time constants.
    n_neurons : int
        Active neurons.
    spikes_per_neuron_per_sample : float
        Mean spike count of an active neuron during one input presentation (MC run).
    rate_hz : float
        The same as a rate (Hz).
    compilations : int
        Standalone compilations while measuring (1 for a new cpp_standalone build, 0 on
        runtime or when a compiled build was re-used).
    runs : int
        Simulations of that one build.
    wall_seconds : float
        Wall time of the whole measurement, building included.
    settings : dict
        Every option, in SI units, and the seeds.
    memory : MemoryCapacity, optional
        The full MC estimate (chosen penalties, threshold, sample counts).
    kernel_states, generalization_states : float arrays (m, N), optional
        The two state matrices (rows: streams / copies), for other rank criteria; not in
        :meth:`to_dict`.
    """

    memory_capacity: float
    r2: np.ndarray
    r2_raw: np.ndarray
    kernel_rank: int
    generalization_rank: int
    kernel_singular_values: np.ndarray
    generalization_singular_values: np.ndarray
    kernel_effective_rank: float
    generalization_effective_rank: float
    rank_tolerance: float
    m: int
    n_features: int
    n_neurons: int
    spikes_per_neuron_per_sample: float
    rate_hz: float
    compilations: int
    runs: int
    wall_seconds: float
    settings: dict = field(default_factory=dict)
    memory: MemoryCapacity | None = None
    kernel_states: np.ndarray | None = field(default=None, repr=False)
    generalization_states: np.ndarray | None = field(default=None, repr=False)

    @property
    def delays(self) -> np.ndarray:
        """The delays 1..K of ``r2``, in samples."""
        return np.arange(1, len(self.r2) + 1)

    def to_dict(self) -> dict:
        """Plain JSON-serialisable numbers, lists and strings.

        Returns
        -------
        dict
            Every field except the state matrices, arrays as lists, ``settings`` made
            JSON-safe and ``memory`` as :meth:`MemoryCapacity.to_dict`.
        """
        return {"memory_capacity": float(self.memory_capacity),
                "r2": [float(x) for x in self.r2], "r2_raw": [float(x) for x in self.r2_raw],
                "delays": [int(k) for k in self.delays],
                "kernel_rank": int(self.kernel_rank), "generalization_rank": int(self.generalization_rank),
                "kernel_effective_rank": float(self.kernel_effective_rank),
                "generalization_effective_rank": float(self.generalization_effective_rank),
                "kernel_singular_values": [float(x) for x in self.kernel_singular_values],
                "generalization_singular_values": [float(x) for x in self.generalization_singular_values],
                "rank_tolerance": float(self.rank_tolerance), "m": int(self.m),
                "n_features": int(self.n_features), "n_neurons": int(self.n_neurons),
                "spikes_per_neuron_per_sample": float(self.spikes_per_neuron_per_sample),
                "rate_hz": float(self.rate_hz), "compilations": int(self.compilations),
                "runs": int(self.runs), "wall_seconds": float(self.wall_seconds),
                "settings": _jsonable(self.settings),
                "memory": None if self.memory is None else self.memory.to_dict()}

    def summary(self) -> str:
        """One line for logs: MC, ranks and activity.

        Returns
        -------
        str
            E.g. ``"MC 12.34 (N = 900 features), kernel rank 150, generalisation rank 20
            (m = 200), 1.2 spikes/neuron/sample"``.
        """
        return (f"MC {self.memory_capacity:.2f} (N = {self.n_features} features), kernel rank "
                f"{self.kernel_rank}, generalisation rank {self.generalization_rank} (m = {self.m}), "
                f"{self.spikes_per_neuron_per_sample:.3g} spikes/neuron/sample")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _int_opt(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise QualityOptionError(name, f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _real_opt(value, name: str, low: float, high: float, *, low_open=True, high_open=False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lb, hb = ("(" if low_open else "["), (")" if high_open else "]")
        raise QualityOptionError(name, f"{name} must lie in {lb}{low:g}, {high:g}{hb}, got {value!r}")
    return float(value)


def _time_opt(value, name: str) -> float:
    from brian2.units.fundamentalunits import Quantity

    from ..core.units import UnitError, parse_quantity

    if isinstance(value, numbers.Real) and not isinstance(value, (bool, Quantity)):
        raise QualityOptionError(name, f"{name} needs units, e.g. {name}='5 ms' (got the plain number {value!r})")
    try:
        q = float(parse_quantity(value, "second", where=name))
    except UnitError as exc:
        raise QualityOptionError(name, str(exc)) from None
    if not (math.isfinite(q) and q > 0):
        raise QualityOptionError(name, f"{name} must be a positive time, got {value!r}")
    return q


def quality_options(*, n_samples: int = 2000, sample_time=_SERIES["sample_time"], input_gain=_SERIES["input_gain"],
                    input_fraction: float = _SERIES["input_fraction"], max_delay: int = 40, streams: int = 200,
                    stream_length: int = 20, stream_noise: float = 0.05, washout: int = 20,
                    feature_taus=DEFAULT_FEATURE_TAUS, train_fraction: float = 0.5,
                    significance: float | None = 1e-3, rtol: float = DEFAULT_RTOL,
                    input_dim="amp", dt: float | None = None) -> dict:
    """Check the options of :func:`reservoir_quality`.

    :func:`reservoir_quality` calls this; so does the command line, before it creates
    anything. The options have the meaning and defaults of the :func:`reservoir_quality`
    parameters of the same name.

    Parameters
    ----------
    n_samples : int, default=2000
        Samples of the MC sequence and per run (>= 10).
    sample_time : str or Quantity, default="50 ms"
        Presentation time of one input value; must carry units.
    input_gain : str or Quantity, default="3200 pA"
        Current per unit of u, in the dimension ``input_dim``; > 0.
    input_fraction : float in (0, 1], default=1.0
        Fraction of neurons receiving the input.
    max_delay : int, default=40
        Largest MC delay (>= 1), well below ``n_samples``.
    streams : int, default=200
        m, streams and noisy copies (>= 2).
    stream_length : int, default=20
        Samples per stream (1 .. ``n_samples``).
    stream_noise : float, default=0.05
        Noise standard deviation of the copies, in units of u (>= 0).
    washout : int, default=20
        Discarded samples per run (>= 0).
    feature_taus : str, Quantity or float (s), or a sequence of them, default=(5, 20, 50) ms
        Filter time constants; plain numbers are seconds.
    train_fraction : float in (0, 1), default=0.5
        Fraction of the usable MC rows that train the readouts.
    significance : float in (0, 1) or None, default=1e-3
        Level of the MC significance test (None: no test).
    rtol : float in [0, 1), default=DEFAULT_RTOL (0.01)
        Rank tolerance relative to the largest kernel singular value.
    input_dim : str, default="amp"
        Dimension of the model's input current (``input_gain`` must have it).
    dt : float, optional
        Simulation step in seconds; ``sample_time`` must be a whole multiple of it. None:
        not checked.

    Returns
    -------
    dict
        The values by option name, in SI units (``sample_time`` and ``feature_taus`` in s,
        ``input_gain`` in A for a current).

    Raises
    ------
    QualityOptionError
        Naming the first bad option.

    Examples
    --------
    >>> from lnp_brian.tasks.quality import quality_options
    >>> o = quality_options(n_samples=500, sample_time="20 ms", feature_taus=["5 ms", 0.05], dt=1e-4)
    >>> o["sample_time"], o["input_gain"], o["feature_taus"]
    (0.02, 3.2e-09, [0.005, 0.05])
    >>> quality_options(n_samples=500, max_delay=600)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    lnp_brian.tasks.quality.QualityOptionError: max_delay 600 leaves too few samples of n_samples 500 ...
    """
    from brian2.units.fundamentalunits import Quantity

    from ..core.units import UnitError, parse_quantity

    out = {"n_samples": _int_opt(n_samples, "n_samples", 10)}
    out["sample_time"] = _time_opt(sample_time, "sample_time")
    if isinstance(input_gain, numbers.Real) and not isinstance(input_gain, (bool, Quantity)):
        raise QualityOptionError("input_gain", f"input_gain needs units, e.g. input_gain='800 pA' "
                                               f"(got the plain number {input_gain!r})")
    try:
        gain = float(parse_quantity(input_gain, input_dim, where="input_gain"))
    except UnitError as exc:
        raise QualityOptionError("input_gain", str(exc)) from None
    if not (math.isfinite(gain) and gain > 0):
        raise QualityOptionError("input_gain", f"input_gain must be positive, got {input_gain!r}")
    out["input_gain"] = gain
    out["input_fraction"] = _real_opt(input_fraction, "input_fraction", 0.0, 1.0)
    out["max_delay"] = _int_opt(max_delay, "max_delay", 1)
    out["streams"] = _int_opt(streams, "streams", 2)
    out["stream_length"] = _int_opt(stream_length, "stream_length", 1)
    out["stream_noise"] = _real_opt(stream_noise, "stream_noise", 0.0, 1e6, low_open=False)
    out["washout"] = _int_opt(washout, "washout", 0)
    out["train_fraction"] = _real_opt(train_fraction, "train_fraction", 0.0, 1.0, high_open=True)
    if significance is not None:
        significance = _real_opt(significance, "significance", 0.0, 1.0, high_open=True)
    out["significance"] = significance
    out["rtol"] = _real_opt(rtol, "rtol", 0.0, 1.0, low_open=False, high_open=True)
    taus = [feature_taus] if isinstance(feature_taus, (str, numbers.Real, Quantity)) else list(feature_taus)
    if not taus:
        raise QualityOptionError("feature_taus", "feature_taus must name at least one time constant")
    out["feature_taus"] = [float(t) if isinstance(t, numbers.Real) and not isinstance(t, (bool, Quantity))
                           and math.isfinite(t) and t > 0 else _time_opt(t, "feature_taus") for t in taus]
    usable = out["n_samples"] - out["max_delay"] + 1
    n_train = int(math.floor(out["train_fraction"] * max(usable, 0)))
    if n_train < 2 or usable - n_train < 3:
        raise QualityOptionError("max_delay", f"max_delay {out['max_delay']} leaves too few samples of "
                                              f"n_samples {out['n_samples']} to train and test the readouts "
                                              f"(max_delay must be well below n_samples)")
    if out["stream_length"] > out["n_samples"]:
        raise QualityOptionError("stream_length", f"stream_length {out['stream_length']} is longer than "
                                                  f"n_samples {out['n_samples']} (one run of the build)")
    if dt is not None:
        k = out["sample_time"] / dt
        if abs(k - round(k)) > 1e-6 or round(k) < 1:
            raise QualityOptionError("sample_time", f"sample_time = {out['sample_time'] * 1e3:g} ms must be a "
                                                    f"positive multiple of the simulation step dt = {dt * 1e3:g} ms")
    return out


def _simulation_step(dt, spec) -> float:
    from ..core.units import UnitError
    from ..simulation.simulator import simulation_dt

    try:
        return simulation_dt(dt, spec)
    except UnitError as exc:
        raise QualityOptionError("dt", str(exc)) from None


def _background(noise, spec):
    from ..brian.inputs import background_noise

    try:
        return background_noise(noise, spec)
    except TypeError as exc:
        raise QualityOptionError("noise", str(exc)) from None


def reservoir_quality(network, device: str = "cpp_standalone", *, n_samples: int = 2000, sample_time=_SERIES["sample_time"],
                      input_gain=_SERIES["input_gain"], input_fraction: float = _SERIES["input_fraction"], max_delay: int = 40,
                      streams: int = 200, stream_length: int = 20, stream_noise: float = 0.05,
                      washout: int = 20, feature_taus=DEFAULT_FEATURE_TAUS, train_fraction: float = 0.5,
                      alphas=DEFAULT_ALPHAS, significance: float | None = 1e-3, rtol: float = DEFAULT_RTOL,
                      noise=True, seed: int = 0, dt=None, build_dir=None, reuse: bool = False,
                      threads: int = 0, runtime_target: str | None = None, progress=None) -> QualityResult:
    """Memory capacity, kernel rank and generalisation rank of a spiking network.

    One :class:`~lnp_brian.simulation.simulator.Simulator` is built for the network (one compilation on
    the standalone backends, none with ``reuse`` and a compiled ``build_dir``); every
    measurement is a re-run of it with new input currents:

    a. **MC**: an i.i.d. input u(t), uniform in [-1, 1], one value per ``sample_time``, for
       ``washout + n_samples`` samples; the features of the last ``n_samples`` go to
       :func:`memory_capacity`.
    b. **Kernel rank**: ``streams`` (m) different i.i.d. streams of ``stream_length`` samples,
       presented back to back (as many per run as fit in ``n_samples``, after a washout of
       random input); the features at the end of every stream form the (m, N) kernel matrix.
    c. **Generalisation rank**: m noisy copies of *one* such stream, u + ``stream_noise`` x
       N(0, 1) per sample, back to back (the washout is made of copies too, so every copy is
       preceded by the same history up to noise); the features at the end of every copy
       form the generalisation matrix.

    Encoder (as :class:`~lnp_brian.tasks.runners.SeriesTaskRunner`): one scalar channel, mixed into a
    seeded random subset of ``input_fraction`` of the neurons with seeded weights uniform in
    [-1, 1]; neuron j receives ``input_gain * W[j] * u(t)`` on top of the model's background
    noise. Unlike the forecasting runner it adds no bias currents (``input_bias``): the measures
    here were calibrated without them, and an i.i.d. input with mean 0 has no attractor for
    the bias to tile. Plasticity is frozen (the plasticity amplitudes are set to 0 in every run, see
    :func:`lnp_brian.tasks.runners.plasticity_amplitudes`), so every run sees the same network.

    Features: the spike trains of the active neurons filtered with each time constant of
    ``feature_taus`` (:func:`lnp_brian.simulation.traces.filtered_features`), concatenated
    (N = active neurons x number of time constants), sampled at the end of each presentation
    (half a simulation step early, so a sample never contains the next input). Several time
    constants let a linear readout reach both recent inputs (short filters) and older ones
    (long filters).

    Parameters
    ----------
    network : Network
        A spiking network whose model has an input current.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}, default="cpp_standalone"
        Simulation backend.
    n_samples : int
        Samples of the MC sequence and length of every run after its washout (default 2000).
    sample_time : str or Quantity
        Presentation time of one input value (default ``"50 ms"``, the series encoder's), a
        multiple of dt.
    input_gain : str or Quantity
        Current per unit of u (default ``"3200 pA"``, the series encoder's, in the model's input
        unit).
    input_fraction : float in (0, 1]
        Fraction of neurons receiving the input (default 1, the series encoder's).
    max_delay : int
        Largest delay K of the MC readouts, in samples (default 40).
    streams : int
        m, the number of streams and of noisy copies (default 200). Ranks are at most
        ``min(m, N)``.
    stream_length : int
        Samples per stream (default 20: 1 s at the default 50 ms ``sample_time``, 100 ms at
        5 ms; longer than the filters' memory, so the state at a stream's end depends mostly
        on that stream).
    stream_noise : float
        Standard deviation of the noise added to each copy of the stream, in units of u
        (default 0.05; u itself has standard deviation 0.58).
    washout : int
        Samples at the start of every run whose features are not used (default 20).
    feature_taus : sequence of str, Quantity or float (s)
        Filter time constants (default 5, 20, 50 ms).
    train_fraction : float in (0, 1)
        Of :func:`memory_capacity` (default 0.5).
    alphas : sequence of float >= 0
        Of :func:`memory_capacity` (default :data:`DEFAULT_ALPHAS`).
    significance : float in (0, 1) or None
        Of :func:`memory_capacity` (default 1e-3).
    rtol : float
        Rank tolerance relative to the largest singular value of the kernel matrix (default
        0.01); the same absolute tolerance is used for the generalisation matrix.
    noise : bool or PoissonNoise or OUNoise
        Background noise: ``True`` (default) the model's ``[input]`` noise, ``False`` none.
    seed : int
        Seeds the encoder, every input sequence and the background noise of every run; the
        same seed gives the same numbers on the same backend.
    dt : str or Quantity, optional
        Simulation step (default: the model's, else 0.1 ms).
    build_dir : str or Path, optional
        Where the standalone project is compiled (default: a new temporary folder).
    reuse : bool, default=False
        Re-use a project compiled in ``build_dir`` for the same structure (no compilation).
    threads : int, default=0
        OpenMP threads for cpp_standalone (0: no OpenMP).
    runtime_target : {"cython", "numpy"}, optional
        Code generation target of the runtime device. ``dt`` to ``runtime_target`` are
        passed to :class:`~lnp_brian.simulation.simulator.Simulator`.
    progress : callable, optional
        ``progress(stage, done, total)`` after every run (stage ``"memory"``, ``"kernel"`` or
        ``"generalization"``).

    Returns
    -------
    QualityResult
        MC, kernel and generalisation rank with their singular values and state matrices,
        activity, cost (compilations, runs, wall time) and the settings.

    Raises
    ------
    QualityOptionError
        If an option cannot be used (see :func:`quality_options`).
    TypeError
        If ``network`` is not a :class:`~lnp_brian.network.network.Network` or ``progress``
        is not callable.
    ValueError
        If the model has no spiking neurons or no input current, or ``alphas`` is invalid.

    Examples
    --------
    >>> import json
    >>> import lnp_brian as lb
    >>> from lnp_brian.tasks.quality import reservoir_quality
    >>> net = lb.build_network("hrsnn", n=300, seed=1)
    >>> q = reservoir_quality(net, "cpp_standalone", seed=1)      # doctest: +SKIP
    >>> q.memory_capacity, q.kernel_rank, q.generalization_rank   # doctest: +SKIP
    >>> json.dumps(q.to_dict())                                   # doctest: +SKIP
    """
    from brian2 import second

    from ..brian.inputs import Stimulus
    from ..core.seeding import derive_seed, rng
    from ..network.network import Network
    from ..simulation.simulator import Simulator, compile_count
    from ..simulation.traces import filtered_features
    from .runners import plasticity_amplitudes

    t_start = time.perf_counter()
    if not isinstance(network, Network):
        raise TypeError(f"network must be a lnp_brian Network, got {type(network).__name__}")
    spec = network.model
    if not spec.neuron.spiking:
        raise ValueError(f"model {spec.name!r} has no spiking neurons (no threshold): the features are spikes")
    if spec.neuron.input is None:
        raise ValueError(f"model {spec.name!r} has no input current (neuron.input) to drive")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(stage, done, total) or None")
    dt_sim = _simulation_step(dt, spec)
    o = quality_options(n_samples=n_samples, sample_time=sample_time, input_gain=input_gain,
                        input_fraction=input_fraction, max_delay=max_delay, streams=streams,
                        stream_length=stream_length, stream_noise=stream_noise, washout=washout,
                        feature_taus=feature_taus, train_fraction=train_fraction, significance=significance,
                        rtol=rtol, input_dim=spec.neuron.input_dim, dt=dt_sim)
    alphas = _as_alphas(alphas)
    seed = int(seed)
    T_run = o["washout"] + o["n_samples"]
    st, L, m, wo = o["sample_time"], o["stream_length"], o["streams"], o["washout"]

    # ---- encoder ---------------------------------------------------------------------
    n = network.n
    n_in = max(1, int(round(o["input_fraction"] * n)))
    input_neurons = np.sort(rng(seed, "quality.input_neurons").choice(n, n_in, replace=False))
    W = np.zeros((1, n))
    W[0, input_neurons] = rng(seed, "quality.input_weights").uniform(-1.0, 1.0, n_in)
    noise_input = _background(noise, spec)
    stim = Stimulus(np.zeros((T_run, 1)), dt=st * second, weights=W)
    inputs = [stim] if noise_input is None else [noise_input, stim]

    plastic_any = bool(network.plastic.any())
    freeze = plasticity_amplitudes(spec) if plastic_any else ()
    overrides = {}
    if plastic_any and freeze:
        overrides["syn_params"] = {name: np.zeros(len(network.pre)) for name in freeze}
    active = np.flatnonzero(network.active)

    before = compile_count()
    sim = Simulator(network, device, duration=T_run * st * second, dt=dt, inputs=inputs, build_dir=build_dir,
                    reuse=reuse, threads=threads, runtime_target=runtime_target)
    runs = 0

    def simulate(u, phase, c):
        nonlocal runs
        res = sim.run(network, seed=derive_seed(seed, f"quality.run.{phase}.{c}"),
                      stimulus=o["input_gain"] * u[:, None], stimulus_weights=W, **overrides)
        runs += 1
        return res

    def features(res, rows):
        """Features at the end of the presentations ``rows`` (indices into the run)."""
        times = (np.asarray(rows) + 1) * st - 0.5 * sim.dt
        if len(active) == 0:
            return np.zeros((len(rows), 1))
        return np.concatenate([filtered_features(res, tau, sample_times=times, neurons=active)
                               for tau in o["feature_taus"]], axis=1)

    try:
        # (a) memory capacity
        u = rng(seed, "quality.memory.input").uniform(-1.0, 1.0, T_run)
        res = simulate(u, "memory", 0)
        kept = np.arange(wo, T_run)
        X = features(res, kept)
        t0, t1 = wo * st, T_run * st
        in_window = (res.spike_t >= t0) & (res.spike_t < t1)
        counts = np.bincount(res.spike_i[in_window], minlength=n)[:n]
        spikes_per = float(counts[active].sum()) / (max(len(active), 1) * o["n_samples"])
        blocks = [X.shape[1] // len(o["feature_taus"])] * len(o["feature_taus"]) if len(active) else None
        mc = memory_capacity(X, u[kept], o["max_delay"], train_fraction=o["train_fraction"], alphas=alphas,
                             significance=o["significance"], blocks=blocks)
        if progress is not None:
            progress("memory", 1, 1)

        # (b) kernel and (c) generalisation matrices, q streams per run
        q = o["n_samples"] // L
        n_runs = -(-m // q)
        ends = wo + (np.arange(q) + 1) * L - 1  # last presentation of each stream in a run
        K_rows, G_rows = [], []
        base = rng(seed, "quality.generalization.stream").uniform(-1.0, 1.0, L)
        phase_of_row = (np.arange(T_run) - wo) % L
        for c in range(n_runs):
            take = min(q, m - c * q)
            uk = rng(seed, f"quality.kernel.input.{c}").uniform(-1.0, 1.0, T_run)
            K_rows.append(features(simulate(uk, "kernel", c), ends[:take]))
            if progress is not None:
                progress("kernel", c + 1, n_runs)
        for c in range(n_runs):
            take = min(q, m - c * q)
            ug = base[phase_of_row] + o["stream_noise"] * rng(seed, f"quality.generalization.noise.{c}").normal(size=T_run)
            G_rows.append(features(simulate(ug, "generalization", c), ends[:take]))
            if progress is not None:
                progress("generalization", c + 1, n_runs)
        Km, Gm = np.concatenate(K_rows), np.concatenate(G_rows)
    finally:
        compilations = compile_count() - before
        sim.close()

    sk, sg = singular_values(Km), singular_values(Gm)
    tol = o["rtol"] * (float(sk.max()) if sk.size else 0.0)
    settings = {**{k: v for k, v in o.items()}, "alphas": [float(a) for a in alphas], "seed": seed,
                "device": device, "dt": sim.dt, "noise": None if noise_input is None else noise_input.describe(),
                "input_neurons": int(n_in), "streams_per_run": int(q), "runs_per_rank_matrix": int(n_runs),
                "frozen_parameters": list(freeze), "model": spec.name, "neurons": int(n),
                "input": "u(t) i.i.d. uniform in [-1, 1], one value per sample_time",
                "features": "exponentially filtered spike trains of the active neurons, one block per "
                            "feature_taus entry, sampled at the end of each presentation",
                "rank_tolerance": "rtol x largest singular value of the kernel matrix (uncentred), "
                                  "used for both ranks"}
    return QualityResult(
        memory_capacity=mc.total, r2=mc.r2, r2_raw=mc.r2_raw,
        kernel_rank=numerical_rank(sk, tol=tol), generalization_rank=numerical_rank(sg, tol=tol),
        kernel_singular_values=sk, generalization_singular_values=sg,
        kernel_effective_rank=effective_rank(sk), generalization_effective_rank=effective_rank(sg),
        rank_tolerance=tol, m=m, n_features=int(X.shape[1]) if len(active) else 0, n_neurons=int(len(active)),
        spikes_per_neuron_per_sample=spikes_per, rate_hz=spikes_per / st, compilations=int(compilations),
        runs=runs, wall_seconds=time.perf_counter() - t_start, settings=settings, memory=mc,
        kernel_states=Km, generalization_states=Gm)


# ==========================================================================================
# figure
# ==========================================================================================
def quality_figure(result: QualityResult, *, title: str | None = None):
    """Plot a :class:`QualityResult`: memory curve and singular value spectra.

    Two panels: held-out r^2 against delay (raw and counted, with the significance
    threshold) and the singular value spectra of the kernel and generalisation matrices
    with the rank tolerance.

    Parameters
    ----------
    result : QualityResult
        What :func:`reservoir_quality` returned.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (10 x 4 inches); save or close it.
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    d = result.delays
    ax1.plot(d, result.r2_raw, "o", ms=3, color="0.6", label="held-out $r^2$ (raw)")
    ax1.plot(d, result.r2, "-", color="C0", label=f"counted: MC = {result.memory_capacity:.2f}")
    if result.memory is not None and result.memory.threshold > 0:
        ax1.axhline(result.memory.threshold, color="0.5", lw=0.8, ls=":", label="significance threshold")
    ax1.set_xlabel("delay k (samples)")
    ax1.set_ylabel("$r^2(u(t-k+1), y_k(t))$")
    ax1.set_ylim(-0.02, 1.02)
    ax1.set_title("memory capacity")
    ax1.legend(fontsize=8)
    for s, label, color in ((result.kernel_singular_values, f"kernel (rank {result.kernel_rank})", "C1"),
                            (result.generalization_singular_values,
                             f"generalisation (rank {result.generalization_rank})", "C2")):
        s = np.asarray(s)
        if s.size and s.max() > 0:
            ax2.semilogy(np.arange(1, len(s) + 1), np.where(s > 0, s, np.nan), color=color, label=label)
    if result.rank_tolerance > 0:
        ax2.axhline(result.rank_tolerance, color="0.3", lw=0.8, ls="--", label="rank tolerance")
    ax2.set_xlabel("index")
    ax2.set_ylabel("singular value")
    ax2.set_title(f"state matrices, m = {result.m}, N = {result.n_features}")
    ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
