"""Linear algebra of Lyapunov exponents: linearised rate model, per-neuron exponents,
Benettin/QR spectra, and the Lyapunov matrix (docs/method.md).

Pure NumPy/SciPy (no Brian2): :mod:`lnp_brian.lyapunov.finite_size` measures the spiking network and
calls these functions with plain arrays. Time is in seconds, so every exponent returned is a
rate in 1/s (positive: perturbations grow; negative: they decay).

**Conventions.**

* ``W`` is the signed weight matrix with rows = presynaptic ``i`` and columns =
  postsynaptic ``j`` (Brian2's ``i`` and ``j``, :attr:`lnp_brian.Network.W`).
* State vectors are columns, ``dx/dt = A x``, so ``A[j, i]`` is the effect of neuron ``i``
  on neuron ``j``: ``A`` is built from ``W.T``.
* Per-synapse outputs follow the order of ``W``'s nonzero entries sorted by (row, col),
  i.e. by presynaptic then postsynaptic index (:func:`synapse_pairs`). For
  ``W = network.W`` that is the order of the live synapses in :attr:`Network.pre` /
  :attr:`Network.post`, provided none of them has weight exactly 0.

**Which regime a number describes.** Everything here is about *infinitesimal*
perturbations of *smooth* dynamics: the linearised rate model around the noise-driven
operating point (exact growth rates of ``dx/dt = A x``, finite-time over the given ``T``),
or a smooth ODE ``dx/dt = f(x)`` with its Jacobian. They are not exponents of the spiking
network itself, whose resets erase infinitesimal perturbations ("stable chaos",
docs/method.md, step 2); those come from the two-trajectory method with a finite
perturbation size in :mod:`lnp_brian.lyapunov.finite_size`.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import expm_multiply
from scipy.special import expit

__all__ = [
    "Spectrum",
    "linear_rate_matrix",
    "effective_connectivity",
    "eigenvalue_distance",
    "per_neuron_exponents_linear",
    "qr_spectrum_linear",
    "qr_spectrum_ode",
    "max_exponent_ode",
    "stability_scores",
    "synapse_pairs",
    "lyapunov_matrix",
]

# Above this size the exponential is never formed densely (8 N^2 bytes per copy; scipy's
# expm holds several).
DENSE_MAX = 6000
# Growth factors are kept within e^(+-_ABS_LOG) between renormalisations (no overflow or
# underflow). QR frames are re-orthonormalised before the spread of growth rates across the
# frame can exceed e^(2 * _SPREAD), so the frame keeps full rank in double precision.
_ABS_LOG = 300.0
_SPREAD = 10.0
# With a user-chosen interval, warn when one interval spreads the frame by more than e^this.
_WARN_SPREAD = 30.0
# Rough costs used by method="auto" (seconds per unit, measured on 2 cores): scipy.linalg.expm
# per N^3, a dense matrix product per N^2 * k, a sparse product per nonzero * column.
_COST_EXPM = 1e-9
_COST_GEMM = 1e-10
_COST_SPMM = 7e-10
# lyapunov_matrix: nonzeros of the sparse row blocks held at once; rows of the dense
# path's blocks; cost ratio of one sparse gathered entry to one dense N^3 unit.
_CHUNK_NNZ = 4_000_000
_DENSE_ROWS = 1024
_SPARSE_PER_DENSE = 50.0
# Cap of lambda/lambda_0 in 1/s = 1 + exp(lambda/lambda_0) (s underflows to 0 beyond ~709).
_MAX_LOG_INV = 600.0


class Spectrum(NamedTuple):
    """Result of a Benettin/QR computation (a tuple of plain NumPy arrays).

    Returned by :func:`qr_spectrum_linear` and :func:`qr_spectrum_ode`; the fields below are
    also its attributes (and the order of unpacking).

    Parameters
    ----------
    exponents : float array (k,)
        Lyapunov exponents in 1/s, sorted descending.
    times : float array (m,)
        Time (s) since the start of the measurement (after any transient) at each
        re-orthonormalisation.
    history : float array (m, k)
        Running estimates at those times: accumulated ``log|diag R|`` divided by the elapsed
        time, each row sorted descending. ``history[-1] == exponents``.
    """

    exponents: np.ndarray
    times: np.ndarray
    history: np.ndarray


# ---------------------------------------------------------------------------------------------
# input checks


def _square(A, name="A", allow_dense=True):
    """A as float64 CSR (sparse input) or float64 2-D array (dense input), square."""
    if sp.issparse(A):
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"{name} must be a square matrix, got shape {A.shape}")
        A = sp.csr_matrix(A, dtype=np.float64)
        if not A.has_canonical_format:
            A = A.copy()  # never modify the caller's arrays
            A.sum_duplicates()
        data = A.data
    else:
        A = np.asarray(A, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"{name} must be a square matrix, got shape {A.shape}")
        if not allow_dense:
            A = sp.csr_matrix(A)
        data = A.data if sp.issparse(A) else A
    if A.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 x 0)")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name} has non-finite entries")
    return A


def _per_neuron(value, n, name, positive=False):
    """Scalar or length-n vector -> float64 array (n,)."""
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} has non-finite entries")
    if positive and np.any(v <= 0):
        raise ValueError(f"{name} must be > 0 (min {v.min()!r})")
    return v


def _positive(value, name):
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _trace(A):
    return float(A.diagonal().sum())


def _shifted_onenorm(A, mu):
    """||A - mu I||_1 (max absolute column sum), without densifying sparse A."""
    if sp.issparse(A):
        col = np.asarray(abs(A).sum(axis=0)).ravel()
        d = A.diagonal()
        col += np.abs(d - mu) - np.abs(d)
        return float(col.max())
    return float(np.abs(A - mu * np.eye(A.shape[0])).sum(axis=0).max())


def _norms(A):
    """(mu, ||A - mu I||_1) with mu = trace(A) / N, the shift expm_multiply also uses."""
    mu = _trace(A) / A.shape[0]
    return mu, _shifted_onenorm(A, mu)


def _segments(T, mu, norm):
    """(first try, worst case) numbers of equal segments of [0, T].

    Worst case: a bound from ||A - mu I||_1 guarantees that within one segment growth factors
    of different vectors differ by at most e^(2 * _SPREAD) and none leaves e^(+-_ABS_LOG).
    That bound is often far too pessimistic (hub columns make the 1-norm large), so the first
    try only rules out overflow, and callers measure the actual spread and refine
    (:class:`_TooWide`)."""
    worst = max(1, math.ceil(T * max(norm / _SPREAD, abs(mu) / _ABS_LOG)))
    first = max(1, math.ceil(T * (norm + abs(mu)) / _ABS_LOG))
    return min(first, worst), worst


class _TooWide(Exception):
    """Growth factors within one segment spread by more than e^(2 * _SPREAD)."""

    def __init__(self, spread):
        super().__init__(spread)
        self.spread = spread


def _refine(nseg, worst, spread):
    """More segments after a _TooWide with the given log-spread (never beyond worst)."""
    return min(worst, max(2 * nseg, math.ceil(nseg * spread / (1.6 * _SPREAD))))


def _nnz(A):
    return A.nnz if sp.issparse(A) else int(np.count_nonzero(A))


def _use_dense(method, A, ncols, sparse_products, dense_products):
    """Dense exponential or expm_multiply. ``sparse_products``: estimated number of products
    of A with an (N, ncols) block on the expm_multiply path; ``dense_products``: products of
    the dense exponential with such a block."""
    if method not in ("auto", "dense", "expm_multiply"):
        raise ValueError(f"method must be 'auto', 'dense' or 'expm_multiply', got {method!r}")
    if method != "auto":
        return method == "dense"
    n = A.shape[0]
    if n > DENSE_MAX:
        return False
    t_dense = _COST_EXPM * n**3 + _COST_GEMM * n * n * ncols * dense_products
    t_sparse = _COST_SPMM * _nnz(A) * ncols * sparse_products
    return t_dense <= t_sparse


class _Propagator:
    """Applies exp(A dt) to blocks of column vectors: a dense matrix for small systems,
    expm_multiply (never forming the exponential) otherwise."""

    def __init__(self, A, dt, dense):
        self.dense = dense
        if dense:
            M = A.toarray() if sp.issparse(A) else A
            self.P = scipy.linalg.expm(M * dt)
        else:
            self.Adt = (A if sp.issparse(A) else sp.csr_matrix(A)) * dt
            self.trace = _trace(self.Adt)

    def __call__(self, Y):
        if self.dense:
            return self.P @ Y
        return expm_multiply(self.Adt, Y, traceA=self.trace)


# ---------------------------------------------------------------------------------------------
# 5.1 linearised rate model


def linear_rate_matrix(W, gains, tau):
    """Linearised rate model (docs/method.md, step 1): ``A = D (diag(g) W^T - I)``, ``D = diag(1/tau)``.

    The model is ``tau_j dx_j/dt = -x_j + g_j * sum_i w_ij x_i``: each *postsynaptic*
    neuron ``j`` relaxes with its own time constant ``tau_j`` towards its gain times its summed
    presynaptic input. Entrywise, for ``dx/dt = A x`` with column vectors::

        A[j, i] = g_j * w_ij / tau_j          (i != j)
        A[j, j] = (g_j * w_jj - 1) / tau_j    (w_jj nonzero only with autapses)

    Parameters
    ----------
    W : scipy sparse matrix or array (N, N)
        Signed weights, rows = presynaptic ``i``, columns = postsynaptic ``j`` (Brian2's
        convention, :attr:`lnp_brian.Network.W`).
    gains : float or array (N,)
        Per-neuron gain ``g_j``: change of the activity variable per unit of extra input, in
        the inverse unit of ``W`` so that ``g_j w_ij`` is dimensionless.
    tau : float or array (N,)
        Per-neuron time constants in seconds, > 0.

    Returns
    -------
    scipy.sparse.csr_matrix (N, N)
        ``A`` in 1/s, float64, with sorted indices. Explicit zeros of ``W`` are dropped.

    Raises
    ------
    ValueError
        ``W`` not square or empty, non-finite entries, wrongly shaped ``gains``/``tau``, or
        ``tau <= 0``.

    Examples
    --------
    Two neurons with ``tau = 10 ms`` and one synapse ``0 -> 1`` of weight 2 (unit gains):

    >>> import numpy as np, scipy.sparse as sp
    >>> W = sp.csr_matrix(np.array([[0.0, 2.0], [0.0, 0.0]]))
    >>> linear_rate_matrix(W, gains=1.0, tau=0.01).toarray()
    array([[-100.,    0.],
           [ 200., -100.]])
    """
    W = _square(W, "W", allow_dense=False)
    n = W.shape[0]
    g = _per_neuron(gains, n, "gains")
    tau = _per_neuron(tau, n, "tau", positive=True)
    # Row j of W^T holds neuron j's inputs; scaling rows by g_j / tau_j gives D diag(g) W^T.
    A = sp.diags(g / tau) @ W.T.tocsr() - sp.diags(1.0 / tau)
    A = sp.csr_matrix(A)
    A.eliminate_zeros()
    A.sort_indices()
    return A


def effective_connectivity(W, gains, tau):
    """Effective connectivity ``M = D diag(g) W^T`` (1/s): the linear model without its leak.

    ``A = M - D`` (:func:`linear_rate_matrix`). ``M[j, i] = g_j w_ij / tau_j`` is the effect of
    a unit of activity of neuron ``i`` on the rate of change of neuron ``j``; unlike ``A`` its
    spectrum is not dominated by the leak diagonal ``-1/tau``, whose slowest entry would
    otherwise be the leading mode.

    Parameters
    ----------
    W : scipy sparse matrix or array (N, N)
        Signed weights, rows = presynaptic ``i``, columns = postsynaptic ``j`` (as for
        :func:`linear_rate_matrix`).
    gains : float or array (N,)
        Per-neuron gain ``g_j``, in the inverse unit of ``W``.
    tau : float or array (N,)
        Per-neuron time constants in seconds, > 0.

    Returns
    -------
    scipy.sparse.csr_matrix (N, N)
        ``M`` in 1/s, float64, with sorted indices; explicit zeros of ``W`` are dropped.

    Raises
    ------
    ValueError
        ``W`` not square or empty, non-finite entries, wrongly shaped ``gains``/``tau``, or
        ``tau <= 0``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> W = sp.csr_matrix(np.array([[0.0, 2.0], [0.0, 0.0]]))   # one synapse 0 -> 1
    >>> effective_connectivity(W, [1.0, 0.5], [0.01, 0.02]).toarray()
    array([[ 0.,  0.],
           [50.,  0.]])
    """
    W = _square(W, "W", allow_dense=False)
    n = W.shape[0]
    g = _per_neuron(gains, n, "gains")
    tau = _per_neuron(tau, n, "tau", positive=True)
    M = sp.csr_matrix(sp.diags(g / tau) @ W.T.tocsr())
    M.eliminate_zeros()
    M.sort_indices()
    return M


def eigenvalue_distance(eigenvalues, reference) -> float:
    """Distance between two eigenvalue spectra of possibly different size (1/s).

    The 1-Wasserstein distance between the empirical distributions of the eigenvalues' moduli:
    how far the bulk and the outliers of one spectrum have to move to become the other, with
    each spectrum weighted as a distribution (a pruned network has fewer eigenvalues than its
    dense one). 0 for identical spectra.

    Parameters
    ----------
    eigenvalues : array_like of complex (k,)
        Eigenvalues of one matrix, e.g. of :func:`effective_connectivity` in 1/s; only their
        moduli are compared.
    reference : array_like of complex (m,)
        Eigenvalues to compare with (``m`` may differ from ``k``).

    Returns
    -------
    float
        The distance, in the unit of the eigenvalues (1/s for rate matrices), >= 0.

    Raises
    ------
    ValueError
        If either spectrum is empty.

    Examples
    --------
    >>> eigenvalue_distance([1.0, -2.0, 3j], [1.0, 2.0, 3.0])
    0.0
    >>> eigenvalue_distance([1.0, 2.0], [2.0, 3.0])
    1.0
    """
    from scipy.stats import wasserstein_distance

    a, b = np.abs(np.asarray(eigenvalues)), np.abs(np.asarray(reference))
    if a.size == 0 or b.size == 0:
        raise ValueError("eigenvalue_distance needs two non-empty spectra")
    return float(wasserstein_distance(a, b))


# ---------------------------------------------------------------------------------------------
# 5.2 per-neuron exponents of the linear model


def per_neuron_exponents_linear(A, T, neurons=None, batch=512, method="auto"):
    """Finite-time growth rate of a perturbation seeded at each neuron, linear model.

    ``lambda_i = (1/T) log ||exp(A T) e_i||_2`` (docs/method.md, step 2): the exact growth rate over
    ``[0, T]`` of a unit perturbation of neuron ``i`` in ``dx/dt = A x``, measured by the
    Euclidean norm of the whole network's response (column ``i`` of ``exp(A T)``).

    Parameters
    ----------
    A : scipy sparse matrix or array (N, N)
        Linear dynamics in 1/s, e.g. from :func:`linear_rate_matrix`.
    T : float
        Horizon in seconds, > 0. Short ``T`` measures transient (non-normal) amplification;
        ``T -> inf`` tends to the largest real part of the eigenvalues reachable from ``i``.
    neurons : int array or bool mask, optional
        Which neurons (default: all).
    batch : int
        Unit vectors propagated together by :func:`scipy.sparse.linalg.expm_multiply`
        (memory about ``6 * N * batch`` floats).
    method : {"auto", "dense", "expm_multiply"}
        ``"dense"`` forms ``exp(A dt)`` with :func:`scipy.linalg.expm`; ``"expm_multiply"``
        only applies it to blocks of unit vectors and never forms it. ``"auto"`` picks the one
        estimated faster (dense wins for all neurons of a moderately sparse A; expm_multiply
        for few neurons or very sparse A), never dense above ``DENSE_MAX`` neurons.

    Returns
    -------
    float array (len(neurons),)
        Exponents in 1/s, in the order of ``neurons``.

    Raises
    ------
    ValueError
        ``A`` not square, empty or non-finite, ``T <= 0``, ``batch < 1``, an invalid
        ``neurons`` index or an unknown ``method``.

    Notes
    -----
    ``[0, T]`` is split into equal segments; each column is renormalised after each segment
    and its log-norm accumulated. This is mathematically identical; it avoids overflow or
    underflow for large ``|lambda| T`` and keeps the norms of the columns propagated together
    within a factor ``e^20`` of each other in each segment (more segments are used where they
    are not), so that columns that decay much faster than others keep their relative accuracy
    (expm_multiply's stopping test and expm's error bound are relative to the whole block).
    The cost of expm_multiply grows with ``||A - mu I||_1 T`` (``mu = trace(A) / N``).

    Examples
    --------
    For a diagonal ``A`` each exponent is its diagonal entry. In the two-neuron chain of
    :func:`linear_rate_matrix` a perturbation of neuron 0 also drives neuron 1, so over
    100 ms it decays more slowly than the leak alone (non-normal amplification):

    >>> import numpy as np
    >>> per_neuron_exponents_linear(np.diag([-1.0, -2.0]), T=1.0)
    array([-1., -2.])
    >>> A = np.array([[-100.0, 0.0], [200.0, -100.0]])
    >>> per_neuron_exponents_linear(A, T=0.1).round(1)
    array([ -70., -100.])
    """
    A = _square(A)
    n = A.shape[0]
    T = _positive(T, "T")
    batch = int(batch)
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    idx = _neuron_index(neurons, n)
    mu, norm = _norms(A)
    nseg, worst = _segments(T, mu, norm)
    dense = _use_dense(method, A, len(idx), 2 * norm * T + 10 * nseg, nseg - 1)
    if dense:
        step, order = max(len(idx), 1), np.arange(len(idx))  # all columns in one product
    else:
        # Batches of neurons with similar self-decay A_ii, so that columns propagated
        # together grow alike and fewer segments are needed.
        step, order = batch, np.argsort(A.diagonal()[idx], kind="stable")
    out = np.empty(len(idx))
    prop = None
    start = 0
    while start < len(idx):
        if prop is None:
            prop = _Propagator(A, T / nseg, dense)
        sel = order[start:start + step]
        try:
            logn = _column_lognorms(prop, n, idx[sel], nseg, check=nseg < worst)
        except _TooWide as e:
            nseg, prop = _refine(nseg, worst, e.spread), None
            continue
        out[sel] = logn / T
        start += len(sel)
    return out


def _column_lognorms(prop, n, cols, nseg, check):
    """sum over segments of log ||exp(A dt) y|| for y starting at e_i, i in cols."""
    logn = np.zeros(len(cols))
    Y = None
    for _ in range(nseg):
        if Y is None and prop.dense:
            Y = prop.P[:, cols]  # exp(A dt) e_i is column i: no product needed
        else:
            if Y is None:
                Y = np.zeros((n, len(cols)))
                Y[cols, np.arange(len(cols))] = 1.0
            Y = prop(Y)
        norms = np.linalg.norm(Y, axis=0)
        with np.errstate(divide="ignore"):
            ln = np.log(norms)
        finite = bool(np.all(np.isfinite(ln)))
        spread = float(np.ptp(ln)) if ln.size and finite else 0.0
        if not finite and not check:
            raise FloatingPointError("a propagated column became zero or non-finite")
        if not finite or (check and spread > 2 * _SPREAD):
            raise _TooWide(spread if finite else 4 * _ABS_LOG)
        logn += ln
        Y = Y / norms
    return logn


def _neuron_index(neurons, n):
    if neurons is None:
        return np.arange(n)
    idx = np.asarray(neurons)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(f"boolean neurons mask must have shape ({n},), got {idx.shape}")
        return np.flatnonzero(idx)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError("neurons must be a 1-D integer index array or a boolean mask")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(f"neuron index out of range for N = {n}")
    return idx % n


# ---------------------------------------------------------------------------------------------
# 5.2 Benettin/QR spectra


def _qr_accumulate(frame_step, Q, n_intervals, interval, check):
    """Shared QR loop: propagate the frame, re-orthonormalise, accumulate log|diag R|.

    check=True: raise _TooWide when one interval spreads the frame by more than
    e^(2 * _SPREAD) (the caller shortens the interval); check=False: warn beyond
    e^_WARN_SPREAD, where trailing exponents lose accuracy."""
    k = Q.shape[1]
    logsum = np.zeros(k)
    history = np.empty((n_intervals, k))
    warned = False
    for m in range(n_intervals):
        Q, R = np.linalg.qr(frame_step(Q))
        with np.errstate(divide="ignore"):
            ld = np.log(np.abs(np.diagonal(R)))
        spread = float(np.ptp(ld))
        if check and not spread <= 2 * _SPREAD:
            raise _TooWide(spread if np.isfinite(spread) else 4 * _ABS_LOG)
        if not np.all(np.isfinite(ld)):
            raise FloatingPointError(
                f"tangent frame lost rank or overflowed in interval {m + 1}; "
                "use a shorter interval")
        if spread > _WARN_SPREAD and not warned:
            warnings.warn(f"the tangent frame spread by e^{spread:.0f} within one interval; "
                          "the smallest exponents may be inaccurate: use a shorter interval",
                          RuntimeWarning, stacklevel=3)
            warned = True
        logsum += ld
        history[m] = logsum / ((m + 1) * interval)
    times = interval * np.arange(1, n_intervals + 1)
    history = -np.sort(-history, axis=1)
    return Spectrum(history[-1].copy(), times, history)


def random_frame(n, k, seed):
    """Random orthonormal (n, k) frame, the start frame of the QR methods.

    Drawn as k rows of length n, so the frame for k is the first k columns of the frame for
    any larger k with the same seed (Gram-Schmidt order: a k-vector run then reproduces the
    leading exponents of a larger one).

    Parameters
    ----------
    n : int
        Dimension of the state space.
    k : int
        Number of vectors, ``1 <= k <= n``.
    seed : int
        Seed of the NumPy random generator.

    Returns
    -------
    float array (n, k)
        Orthonormal columns (the QR factor with a positive diagonal of ``R``).

    Examples
    --------
    >>> import numpy as np
    >>> Q = random_frame(4, 2, seed=0)
    >>> Q.shape, bool(np.allclose(Q.T @ Q, np.eye(2)))
    ((4, 2), True)
    >>> bool(np.allclose(random_frame(4, 3, seed=0)[:, :2], Q))
    True
    """
    G = np.random.default_rng(seed).standard_normal((k, n)).T
    Q, R = np.linalg.qr(G)
    return Q * np.sign(np.diagonal(R))  # unique QR (positive diag R): independent of k


def _check_k(k, n):
    k = n if k is None else int(k)
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and N = {n}, got {k}")
    return k


def qr_spectrum_linear(A, k=None, T=None, interval=None, seed=0, method="auto"):
    """Lyapunov spectrum of ``dx/dt = A x`` by the Benettin/QR method.

    An orthonormal ``N x k`` frame is propagated by ``exp(A * interval)`` and
    re-orthonormalised by QR after each interval; ``log|diag R|`` accumulated over ``T``
    gives the first ``k`` exponents. For a linear system these converge to the real parts of
    the eigenvalues of ``A`` with multiplicity (a complex pair gives two equal exponents);
    the finite-``T`` error decays like ``1/T`` (non-normal transients, slow alignment of close
    exponents). This is the spectrum of the linearised rate model (docs/method.md, step 2), for plots and
    as an optimisation objective.

    Parameters
    ----------
    A : scipy sparse matrix or array (N, N)
        Linear dynamics in 1/s.
    k : int, optional
        Number of exponents (default ``N``: the whole spectrum; ``sum == trace(A)``).
    T : float, optional
        Total time in seconds. Default ``500 / r`` with ``r = |trace(A)| / N`` (e.g. 500
        membrane time constants for a rate model), or ``r = ||A||_1`` if the trace is 0.
    interval : float, optional
        Time between re-orthonormalisations (s), adjusted down so that a whole number of
        intervals spans ``T`` exactly. Default: the longest (starting from
        ``300 / (||A - mu I||_1 + |mu|)``, ``mu = trace(A)/N``, and shortened on restart) over
        which the frame's columns grow by factors within ``e^20`` of each other, so that it
        keeps full rank in double precision; never shorter than ``10 / ||A - mu I||_1``,
        which guarantees that. A given interval that spreads the frame more than ``e^30``
        gives a RuntimeWarning.
    seed : int
        Seed of the random initial frame.
    method : {"auto", "dense", "expm_multiply"}
        How ``exp(A * interval)`` is applied (see :func:`per_neuron_exponents_linear`).

    Returns
    -------
    Spectrum
        ``(exponents (k,), times (m,), history (m, k))``, exponents in 1/s sorted
        descending; ``history[r]`` is the running estimate at ``times[r]``.

    Raises
    ------
    ValueError
        ``A`` not square, empty or non-finite, ``k`` out of range, ``T`` or ``interval``
        not positive, or an unknown ``method``.
    FloatingPointError
        If the frame loses rank or overflows within one interval.

    Examples
    --------
    The exponents of a linear system are the real parts of its eigenvalues, also for a
    non-normal ``A``; a complex pair gives two equal exponents:

    >>> import numpy as np
    >>> qr_spectrum_linear(np.diag([-1.0, -2.0, -5.0]), T=1000.0).exponents.round(2)
    array([-1., -2., -5.])
    >>> qr_spectrum_linear(np.array([[-1.0, 10.0], [0.0, -3.0]]), T=1000.0).exponents.round(2)
    array([-1., -3.])
    >>> rotation = np.array([[-0.5, 1.0], [-1.0, -0.5]])    # eigenvalues -0.5 +- 1j
    >>> qr_spectrum_linear(rotation, T=100.0).exponents.round(2)
    array([-0.5, -0.5])
    """
    A = _square(A)
    n = A.shape[0]
    k = _check_k(k, n)
    mu, norm = _norms(A)
    if T is None:
        rate = abs(mu) if mu != 0 else _shifted_onenorm(A, 0.0)
        T = 500.0 / rate if rate > 0 else 1.0
    T = _positive(T, "T")
    if interval is None:
        n_int, worst = _segments(T, mu, norm)
    else:
        n_int = worst = max(1, math.ceil(T / _positive(interval, "interval") - 1e-9))
    dense = _use_dense(method, A, k, 2 * norm * T + 10 * n_int, n_int)
    Q0 = random_frame(n, k, seed)
    while True:
        prop = _Propagator(A, T / n_int, dense)
        try:
            return _qr_accumulate(prop, Q0, n_int, T / n_int, check=n_int < worst)
        except _TooWide as e:
            n_int = _refine(n_int, worst, e.spread)


_TABLEAUS = {
    # (a: per stage, the list of (earlier stage, coefficient) pairs; b: weights)
    "euler": ([[]], [1.0]),
    "midpoint": ([[], [(0, 0.5)]], [0.0, 1.0]),
    "rk4": ([[], [(0, 0.5)], [(1, 0.5)], [(2, 1.0)]], [1 / 6, 1 / 3, 1 / 3, 1 / 6]),
}


def _stepper(f, jac, dt, method):
    """One explicit Runge–Kutta step of the state, or of state + tangent frame together
    (variational equation dQ/dt = J(x) Q, evaluated at the same stage states)."""
    if method not in _TABLEAUS:
        raise ValueError(f"method must be one of {sorted(_TABLEAUS)}, got {method!r}")
    a, b = _TABLEAUS[method]
    bw = [(s, dt * w) for s, w in enumerate(b) if w != 0]

    def state(x):
        ks = []
        for coeffs in a:
            xs = x
            for m, c in coeffs:
                xs = xs + (dt * c) * ks[m]
            ks.append(np.asarray(f(xs), dtype=np.float64))
        for s, w in bw:
            x = x + w * ks[s]
        return x

    def both(x, Q):
        ks, Ks = [], []
        for coeffs in a:
            xs, Qs = x, Q
            for m, c in coeffs:
                xs = xs + (dt * c) * ks[m]
                Qs = Qs + (dt * c) * Ks[m]
            ks.append(np.asarray(f(xs), dtype=np.float64))
            Ks.append(np.asarray(jac(xs) @ Qs, dtype=np.float64))
        for s, w in bw:
            x = x + w * ks[s]
            Q = Q + w * Ks[s]
        return x, Q

    return state, both


def qr_spectrum_ode(f: Callable, jac: Callable, x0, dt, T, k=None, transient=None,
                    interval=None, method="rk4", seed=0):
    """Lyapunov spectrum of a smooth autonomous ODE ``dx/dt = f(x)`` (Benettin/QR).

    The state and ``k`` tangent vectors (variational equation ``dQ/dt = J(x) Q``) are
    integrated together with a fixed-step explicit Runge–Kutta method; the frame is
    re-orthonormalised by QR every ``interval`` after a state-only ``transient``. These are
    asymptotic exponents of infinitesimal perturbations, estimated over a finite ``T``.

    Parameters
    ----------
    f : callable
        ``f(x) -> dx/dt`` for ``x`` of shape (n,), in state units per second.
    jac : callable
        ``jac(x) -> J`` (n, n), ``J[a, b] = d f_a / d x_b`` in 1/s: an array, a scipy sparse
        matrix or anything whose ``@`` maps an (n, k) array to an (n, k) array.
    x0 : array (n,)
        Initial state.
    dt : float
        Integration step in seconds.
    T : float
        Measurement time in seconds (after the transient), rounded to a whole number of
        intervals; the time actually used is ``times[-1]``.
    k : int, optional
        Number of exponents (default n).
    transient : float, optional
        Time (s) integrated before measuring, state only (default ``0.1 * T``).
    interval : float, optional
        Time between re-orthonormalisations (s), rounded to a whole number of steps
        (default ``10 * dt``).
    method : {"rk4", "midpoint", "euler"}
        Fixed-step integrator for state and tangents.
    seed : int
        Seed of the random initial frame.

    Returns
    -------
    Spectrum
        ``(exponents (k,), times (m,), history (m, k))``: exponents in 1/s sorted
        descending, running estimates at each re-orthonormalisation.

    Raises
    ------
    ValueError
        Wrongly shaped ``x0``, ``f(x0)`` or ``jac(x0)``, ``k`` out of range, non-positive
        ``dt``, ``T`` or ``interval``, negative ``transient`` or an unknown ``method``.
    FloatingPointError
        If the state or the tangent frame becomes non-finite (unbounded trajectory, ``dt``
        too large) or the frame loses rank.

    Examples
    --------
    The Hopf normal form has a stable limit cycle of radius 1: one exponent 0 (along the
    cycle) and one -2 (towards it).

    >>> import numpy as np
    >>> def f(z):
    ...     x, y = z
    ...     r2 = x * x + y * y
    ...     return np.array([x - y - x * r2, x + y - y * r2])
    >>> def jac(z):
    ...     x, y = z
    ...     return np.array([[1 - 3 * x * x - y * y, -1 - 2 * x * y],
    ...                      [1 - 2 * x * y, 1 - x * x - 3 * y * y]])
    >>> spec = qr_spectrum_ode(f, jac, [0.5, 0.0], dt=0.05, T=100.0)
    >>> bool(abs(spec.exponents[0]) < 0.01), round(float(spec.exponents[1]), 2)
    (True, -2.0)
    """
    x = np.array(x0, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array, got shape {x.shape}")
    n = x.size
    fx = np.asarray(f(x))
    if fx.shape != (n,):
        raise ValueError(f"f(x0) must have shape ({n},), got {fx.shape}")
    J0 = jac(x)
    if getattr(J0, "shape", None) != (n, n):
        raise ValueError(f"jac(x0) must have shape ({n}, {n}), got {getattr(J0, 'shape', None)}")
    k = _check_k(k, n)
    dt = _positive(dt, "dt")
    T = _positive(T, "T")
    transient = 0.1 * T if transient is None else float(transient)
    if not (math.isfinite(transient) and transient >= 0):
        raise ValueError(f"transient must be >= 0, got {transient!r}")
    interval = 10 * dt if interval is None else _positive(interval, "interval")
    steps_per = max(1, round(interval / dt))
    interval = steps_per * dt
    n_intervals = max(1, round(T / interval))
    state_step, both_step = _stepper(f, jac, dt, method)

    def diverged(t):
        return FloatingPointError(f"the state or tangent frame became non-finite by t = {t:g} s "
                                  "(unbounded trajectory, or dt too large)")

    # Overflow inside f is reported below as a clear error, not as numpy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        n_transient = round(transient / dt)
        for done in range(0, n_transient, steps_per):
            for _ in range(min(steps_per, n_transient - done)):
                x = state_step(x)
            if not np.all(np.isfinite(x)):
                raise diverged((done + steps_per) * dt)

        holder = [x, 0]

        def frame_step(Q):
            xx = holder[0]
            for _ in range(steps_per):
                xx, Q = both_step(xx, Q)
            holder[1] += 1
            if not (np.all(np.isfinite(xx)) and np.all(np.isfinite(Q))):
                raise diverged(transient + holder[1] * interval)
            holder[0] = xx
            return Q

        return _qr_accumulate(frame_step, random_frame(n, k, seed), n_intervals, interval,
                              check=False)


def max_exponent_ode(f: Callable, jac: Callable, x0, dt, T, transient=None, interval=None,
                     method="rk4", seed=0) -> float:
    """Largest Lyapunov exponent (1/s) of a smooth autonomous ODE ``dx/dt = f(x)``.

    :func:`qr_spectrum_ode` with ``k = 1``: one tangent vector, renormalised every
    ``interval``.

    Parameters
    ----------
    f : callable
        ``f(x) -> dx/dt`` for ``x`` of shape (n,), in state units per second.
    jac : callable
        ``jac(x) -> J`` (n, n), ``J[a, b] = d f_a / d x_b`` in 1/s (array, sparse matrix or
        anything with ``@``).
    x0 : array (n,)
        Initial state.
    dt : float
        Integration step in seconds.
    T : float
        Measurement time in seconds (after the transient).
    transient : float, optional
        Time (s) integrated before measuring, state only (default ``0.1 * T``).
    interval : float, optional
        Time between renormalisations (s; default ``10 * dt``).
    method : {"rk4", "midpoint", "euler"}
        Fixed-step integrator for state and tangent.
    seed : int
        Seed of the random initial tangent vector.

    Returns
    -------
    float
        The largest exponent in 1/s.

    Raises
    ------
    ValueError, FloatingPointError
        As for :func:`qr_spectrum_ode`.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: np.array([-x[0], -3.0 * x[1]])
    >>> jac = lambda x: np.diag([-1.0, -3.0])
    >>> round(max_exponent_ode(f, jac, [1.0, 1.0], dt=0.02, T=20.0), 1)
    -1.0
    """
    spec = qr_spectrum_ode(f, jac, x0, dt, T, k=1, transient=transient, interval=interval,
                           method=method, seed=seed)
    return float(spec.exponents[0])


# ---------------------------------------------------------------------------------------------
# 5.3 Lyapunov matrix


def _scale(lam, scale):
    if scale is not None:
        return _positive(scale, "scale")
    a = np.abs(lam)
    s = float(np.median(a)) if a.size else 0.0
    if s > 0:
        return s
    # Median zero (most exponents exactly 0): fall back to the typical nonzero size; if all
    # are zero every score is 1/2 whatever the scale.
    nz = a[a > 0]
    return float(nz.mean()) if nz.size else 1.0


def _exponents(exponents):
    lam = np.asarray(exponents, dtype=np.float64)
    if lam.ndim != 1:
        raise ValueError(f"exponents must be 1-D, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        raise ValueError("exponents must be finite")
    return lam


def stability_scores(exponents, scale=None):
    """Per-neuron stability score ``s_k = 1 / (1 + exp(lambda_k / lambda_0))`` (docs/method.md, step 3).

    Parameters
    ----------
    exponents : float array (N,)
        Per-neuron exponents in 1/s.
    scale : float, optional
        ``lambda_0`` in 1/s, > 0. Default: median ``|lambda|`` (if that is 0, the mean of the
        nonzero ``|lambda|``; if all are 0, 1).

    Returns
    -------
    float array (N,)
        Scores in [0, 1]: near 1 for strongly contracting neurons, 1/2 at ``lambda = 0``, near 0
        for strongly expanding ones.

    Raises
    ------
    ValueError
        Exponents not 1-D or not finite, or ``scale`` not a finite number > 0.

    Examples
    --------
    >>> stability_scores([-10.0, 0.0, 10.0], scale=10.0).round(3)
    array([0.731, 0.5  , 0.269])
    """
    lam = _exponents(exponents)
    return expit(-lam / _scale(lam, scale))


def synapse_pairs(W):
    """Presynaptic and postsynaptic index of each nonzero of ``W``, sorted by (row, col).

    This is the order of the per-synapse values of :func:`lyapunov_matrix`; explicit zeros
    (e.g. pruned synapses) are skipped.

    Parameters
    ----------
    W : scipy sparse matrix or array (N, N)
        Weights, rows = presynaptic ``i``, columns = postsynaptic ``j``.

    Returns
    -------
    pre : int64 array (nnz,)
        Row (presynaptic) index of each nonzero.
    post : int64 array (nnz,)
        Column (postsynaptic) index of each nonzero.

    Raises
    ------
    ValueError
        If ``W`` is not a square matrix.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    >>> synapse_pairs(W)
    (array([0, 1, 1]), array([1, 0, 2]))
    """
    P = _pattern(W)
    pre = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    return pre, P.indices.astype(np.int64)


def _pattern(W):
    """Canonical CSR of W's nonzeros (duplicates summed, zeros dropped, sorted indices)."""
    if sp.issparse(W):
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W must be a square matrix, got shape {W.shape}")
        P = sp.csr_matrix(W, copy=True)
    else:
        W = np.asarray(W)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W must be a square matrix, got shape {W.shape}")
        P = sp.csr_matrix(W)
    P.sum_duplicates()
    P.eliminate_zeros()
    P.sort_indices()
    return P


def _neighbourhood_sums(P, inv, method="auto"):
    """For each nonzero (i, j) of P (order of synapse_pairs): the size of
    U_ij = {i, j} ∪ N(i) ∪ N(j) and the sum of ``inv`` over it, where N is the neighbourhood
    in the undirected graph of P's nonzeros (in- and out-neighbours, self-loops ignored).

    Exact, by inclusion–exclusion on closed neighbourhoods N[i] = {i} ∪ N(i):
    U_ij = N[i] ∪ N[j] (i ∈ N[i], j ∈ N[j]), so
    |U_ij| = |N[i]| + |N[j]| - |N[i] ∩ N[j]|, and the same for the sum of ``inv``. With C the
    closed adjacency (C = 1[P + P^T + I != 0]), |N[i] ∩ N[j]| = (C C)_ij and the sum of
    ``inv`` over it is (C diag(inv) C)_ij (common neighbours, plus i and j themselves when
    adjacent or equal — always, for a synapse i -> j). Only the entries at synapses are
    needed: "sparse" gathers the two rows of C per synapse and multiplies them elementwise
    (cost: sum of closed degrees over the synapses), in blocks of bounded size; "dense"
    computes row blocks of C C and C diag(inv) C with dense products (cost N^3, memory
    N^2), much faster for dense-ish graphs of a few thousand neurons. All terms are positive
    and each partial sum is at most the union's sum, so the subtraction loses at most a few
    ulps; the counts are exact integers either way.
    """
    n = P.shape[0]
    pre, post = synapse_pairs(P)
    C = sp.csr_matrix((P != 0).astype(np.float64))
    C = sp.csr_matrix(C + C.T + sp.identity(n, format="csr"))
    C.data[:] = 1.0
    C.sort_indices()
    deg = np.diff(C.indptr)            # |N[i]|
    vsum = C @ inv                     # sum of inv over N[i]
    count = (deg[pre] + deg[post]).astype(np.int64)
    total = vsum[pre] + vsum[post]
    if method not in ("auto", "dense", "sparse"):
        raise ValueError(f"method must be 'auto', 'dense' or 'sparse', got {method!r}")
    if method == "auto":
        method = ("dense" if n <= DENSE_MAX and float(n) ** 3 <= _SPARSE_PER_DENSE * count.sum()
                  else "sparse")
    if method == "dense":
        Cd = C.toarray()
        Cv = Cd * inv[:, None]
        for r0 in range(0, n, _DENSE_ROWS):
            r1 = min(n, r0 + _DENSE_ROWS)
            e0, e1 = np.searchsorted(pre, [r0, r1])   # synapses with pre in [r0, r1)
            rows, cols = pre[e0:e1] - r0, post[e0:e1]
            count[e0:e1] -= np.rint((Cd[r0:r1] @ Cd)[rows, cols]).astype(np.int64)
            total[e0:e1] -= (Cd[r0:r1] @ Cv)[rows, cols]
        return count, total
    # Sparse: blocks of synapses whose two gathered rows hold about _CHUNK_NNZ entries.
    cost = np.cumsum(count)
    start, m = 0, len(pre)
    while start < m:
        base = cost[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(cost, base + _CHUNK_NNZ, side="right")))
        both = C[pre[start:stop]].multiply(C[post[start:stop]]).tocsr()  # N[i] ∩ N[j]
        count[start:stop] -= np.diff(both.indptr)
        total[start:stop] -= both @ inv
        start = stop
    return count, total


def lyapunov_matrix(exponents, W, scale=None, method="auto", members="endpoints"):
    """Per-synapse Lyapunov value ``L_ij``: the harmonic mean of stability scores.

    The stability score of neuron k is ``s_k = 1 / (1 + exp(lambda_k / lambda_0))``
    (:func:`stability_scores`). With ``members="endpoints"`` (the default) ``L_ij`` is the
    harmonic mean of ``s_i`` and ``s_j``, the two neurons the synapse connects. With
    ``members="neighbourhood"`` it is the harmonic mean over
    ``{i, j} ∪ N(i) ∪ N(j)``, ``N(v)`` being the in- and out-neighbours of ``v`` (each neuron
    counted once, self-loops add nothing). The harmonic mean is dominated by the least stable
    member (``min s <= L <= |U| * min s``), so synapses touching unstable neurons get small
    ``L`` and are pruned first. Over neighbourhoods of ~100 neurons the mean is nearly the
    same for every synapse (coefficient of variation ~1 % measured on a 300-neuron HRSNN),
    which is why the endpoints are the default.

    Parameters
    ----------
    exponents : float array (N,)
        Per-neuron exponents in 1/s (e.g. :func:`per_neuron_exponents_linear`).
    W : scipy sparse matrix or array (N, N)
        Weights, rows = presynaptic ``i``, columns = postsynaptic ``j``; only the pattern of
        nonzeros is used (explicit zeros, e.g. pruned synapses, are skipped).
    scale : float, optional
        ``lambda_0`` in 1/s (default median ``|lambda|``, see :func:`stability_scores`).
    method : {"auto", "sparse", "dense"}
        Neighbourhood version only: how common neighbours are counted (``"sparse"``: per
        synapse on sparse rows; ``"dense"``: dense N x N products, fast for a few thousand
        neurons; same exact result; ``"auto"`` picks the faster, never dense above
        ``DENSE_MAX``).
    members : {"endpoints", "neighbourhood"}
        Which neurons' scores enter the harmonic mean.

    Returns
    -------
    float array (nnz,)
        ``L_ij`` in (0, 1], one per nonzero of ``W`` in (row, col) order — presynaptic index,
        then postsynaptic index; :func:`synapse_pairs` gives the matching ``(pre, post)``.

    Raises
    ------
    ValueError
        Exponents not finite or not of shape (N,), ``W`` not square, or an unknown
        ``method`` or ``members``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> W = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> lyapunov_matrix([-10.0, 10.0], W, scale=10.0).round(3)   # s = 0.731, 0.269
    array([0.393, 0.393])
    """
    lam = _exponents(exponents)
    P = _pattern(W)
    if lam.shape != (P.shape[0],):
        raise ValueError(f"exponents must have shape ({P.shape[0]},) to match W, got {lam.shape}")
    if members not in ("endpoints", "neighbourhood"):
        raise ValueError(f"members must be 'endpoints' or 'neighbourhood', got {members!r}")
    # 1/s = 1 + exp(lambda/lambda_0) directly (accurate for s near 0). The cap keeps the
    # sums finite (no inf - inf below); a capped member still makes L ~ 1e-260, i.e. 0.
    inv = 1.0 + np.exp(np.minimum(lam / _scale(lam, scale), _MAX_LOG_INV))
    if members == "endpoints":
        if method not in ("auto", "dense", "sparse"):
            raise ValueError(f"method must be 'auto', 'dense' or 'sparse', got {method!r}")
        pre, post = synapse_pairs(P)
        count = np.where(pre == post, 1.0, 2.0)   # an autapse has one member
        total = np.where(pre == post, inv[pre], inv[pre] + inv[post])
        return count / total
    count, total = _neighbourhood_sums(P, inv, method)
    return count / total
