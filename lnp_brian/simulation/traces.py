"""Spike trains as features: filtered traces (exponential or alpha kernel) sampled on a time
grid (what a series readout and the noise probe see) and spike counts per window (what an
image readout sees). Both read a :class:`~lnp_brian.simulation.results.SimResult`."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

__all__ = ["filtered_features", "count_features", "KERNELS"]

#: the causal kernels of :func:`filtered_features`
KERNELS = ("exponential", "alpha")


def _spikes_of(result, copy, neurons):
    """Spike times, feature column of each spike, and the number of columns."""
    if not 0 <= copy < result.copies:
        raise ValueError(f"copy must lie in [0, {result.copies}), got {copy}")
    t, i = result.spikes(copy)
    if neurons is None:
        return t, i.astype(np.int64), result.n
    neurons = np.asarray(neurons, dtype=np.int64).reshape(-1)
    if neurons.size and (neurons.min() < 0 or neurons.max() >= result.n):
        raise ValueError(f"neurons must be indices in [0, {result.n})")
    if len(np.unique(neurons)) != len(neurons):
        raise ValueError("neurons must not repeat")
    col = -np.ones(result.n, np.int64)
    col[neurons] = np.arange(len(neurons))
    keep = col[i] >= 0
    return t[keep], col[i[keep]], len(neurons)


def filtered_features(result, tau: float, sample_times=None, sample_dt: float | None = None, *,
                      t_start: float = 0.0, copy: int = 0, neurons=None, kernel: str = "exponential") -> np.ndarray:
    """Spike trains filtered with a causal kernel, sampled at given times.

    ``x_j(s) = sum over spikes t_k <= s of neuron j of K(s - t_k)``, evaluated exactly at
    every sample time s, with ``K(d) = exp(-d / tau)`` (``"exponential"``: a spike adds 1
    and decays with time constant ``tau``) or ``K(d) = (d / tau) exp(-d / tau)``
    (``"alpha"``: two exponential filters in a row, which rises from 0, peaks at 1/e at
    d = tau and has its mean at 2 tau). This is the leaky-integrated activity a downstream
    synapse would see, which is what a linear readout of a reservoir reads. Unlike binning
    first, spike times are not rounded to the sample grid, and a sample never contains a
    spike that happens after it.

    Why an alpha kernel: a neuron firing every few ms gives an exponential trace that jumps
    by 1 at each spike, so its value at a sample time depends on where the last spike fell;
    the alpha kernel is continuous at the spike, and that phase noise is smaller.

    Alignment with a series: if input sample k is presented during
    [t_start + k dt, t_start + (k+1) dt), the default grid samples at the *end* of each
    presentation, ``s_k = t_start + (k+1) dt``, so row k is the state after the network has
    seen u(0..k) and pairs with the target u(k + h) (``task.train.index`` picks rows).

    Parameters
    ----------
    result : SimResult
        The simulation whose spikes are filtered.
    tau : float
        Filter time constant (s), e.g. 20e-3.
    sample_times : float array (T,), optional
        Strictly increasing sample times (s).
    sample_dt : float, optional
        Instead of ``sample_times``: the series step (s); samples at
        ``t_start + (k+1) sample_dt`` for every whole step inside the run.
    t_start : float
        Time (s) the first input sample starts (with ``sample_dt`` only).
    copy : int
        Network copy.
    neurons : int array, optional
        Neurons (within the copy) to use, in this column order; default all ``result.n``
        (pass ``np.flatnonzero(network.active)`` to drop pruned neurons).
    kernel : {"exponential", "alpha"}, default="exponential"
        The filter kernel K (see above).

    Returns
    -------
    float array (T, N)
        Row k: the filtered spike train of every selected neuron at sample time k
        (dimensionless: each spike contributes at most 1, or 1/e with the alpha kernel).

    Raises
    ------
    ValueError
        If ``tau`` is not positive, ``kernel`` is unknown, not exactly one of
        ``sample_times`` and ``sample_dt`` is given, the sample times are empty, not finite
        or not increasing, no whole step fits in the run, or ``copy`` / ``neurons`` are out
        of range.

    Examples
    --------
    Neuron 0 fires at 50 ms and 150 ms, neuron 1 at 120 ms and 250 ms; samples at the ends of
    three 100 ms steps:

    >>> from lnp_brian.simulation.results import SimResult
    >>> r = SimResult(n=2, copies=1, duration=0.3, dt=1e-4,
    ...               spike_t=np.array([0.05, 0.12, 0.15, 0.25]), spike_i=np.array([0, 1, 0, 1]))
    >>> filtered_features(r, tau=0.1, sample_dt=0.1)   # row 0, neuron 0: exp(-0.5)
    array([[0.60653066, 0.        ],
           [0.82966082, 0.44932896],
           [0.30521516, 0.77182955]])
    >>> filtered_features(r, tau=0.1, sample_dt=0.1, kernel="alpha")   # row 0: 0.5 exp(-0.5)
    array([[0.30326533, 0.        ],
           [0.63796057, 0.35946317],
           [0.53990774, 0.60080333]])
    """
    tau = float(tau)
    if not tau > 0:
        raise ValueError(f"tau must be > 0 (seconds), got {tau!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(map(repr, KERNELS))}, got {kernel!r}")
    if (sample_times is None) == (sample_dt is None):
        raise ValueError("give exactly one of sample_times and sample_dt")
    if sample_dt is not None:
        sample_dt = float(sample_dt)
        if not sample_dt > 0:
            raise ValueError(f"sample_dt must be > 0 (seconds), got {sample_dt!r}")
        steps = int(np.floor((result.duration - t_start) / sample_dt + 1e-9))
        if steps < 1:
            raise ValueError(f"no whole step of {sample_dt} s between t_start={t_start} s and "
                             f"the end of the run ({result.duration} s)")
        s = t_start + sample_dt * np.arange(1, steps + 1)
        uniform = True
    else:
        s = np.asarray(sample_times, dtype=float).reshape(-1)
        if s.size == 0 or not np.all(np.isfinite(s)):
            raise ValueError("sample_times must be a non-empty array of finite times (s)")
        d = np.diff(s)
        if np.any(d <= 0):
            raise ValueError("sample_times must be strictly increasing")
        uniform = d.size == 0 or np.allclose(d, d[0], rtol=1e-9, atol=0)
    t, col, n_cols = _spikes_of(result, copy, neurons)
    m = np.searchsorted(s, t, side="left")  # first sample at or after each spike
    keep = m < len(s)
    t, col, m = t[keep], col[keep], m[keep]
    # a = sum exp(-d/tau) and, for the alpha kernel, b = sum (d/tau) exp(-d/tau) over the spikes
    # so far; between samples h apart: a <- r a, b <- r (b + (h/tau) a), r = exp(-h/tau)
    age = (s[m] - t) / tau
    inc_a = np.zeros((len(s), n_cols))
    np.add.at(inc_a, (m, col), np.exp(-age))
    inc_b = None
    if kernel == "alpha":
        inc_b = np.zeros((len(s), n_cols))
        np.add.at(inc_b, (m, col), age * np.exp(-age))
    if uniform:
        step = s[1] - s[0] if len(s) > 1 else 1.0
        r = np.exp(-step / tau)
        a = lfilter([1.0], [1.0, -r], inc_a, axis=0)
        if inc_b is None:
            return a
        inc_b[1:] += r * (step / tau) * a[:-1]
        return lfilter([1.0], [1.0, -r], inc_b, axis=0)
    h = np.diff(s) / tau
    decay = np.exp(-h)
    a, b = inc_a, inc_b
    for k in range(1, len(s)):
        if b is not None:
            b[k] += decay[k - 1] * (b[k - 1] + h[k - 1] * a[k - 1])
        a[k] += decay[k - 1] * a[k - 1]
    return a if b is None else b


def count_features(result, window_starts, window_length: float, copy: int = 0,
                   neurons=None) -> np.ndarray:
    """Spike counts of every neuron in every presentation window.

    A spike at time t counts in window w if ``start_w <= t < start_w + window_length``
    (half-open, so back-to-back windows share no spike). Windows may overlap or be in any
    order.

    Parameters
    ----------
    result : SimResult
        The simulation whose spikes are counted.
    window_starts : float array (W,)
        Start of each window (s), e.g. the onset of each image presentation.
    window_length : float
        Length of every window (s).
    copy : int
        Network copy.
    neurons : int array, optional
        Neurons (within the copy) to use, in this column order; default all.

    Returns
    -------
    int array (W, N)
        Spikes of every selected neuron (columns) in every window (rows).

    Raises
    ------
    ValueError
        If a window start is not finite, ``window_length`` is not positive, or ``copy`` /
        ``neurons`` are out of range.

    Examples
    --------
    >>> from lnp_brian.simulation.results import SimResult
    >>> r = SimResult(n=2, copies=1, duration=0.3, dt=1e-4,
    ...               spike_t=np.array([0.05, 0.12, 0.15, 0.25]), spike_i=np.array([0, 1, 0, 1]))
    >>> count_features(r, [0.0, 0.1, 0.2], 0.1)
    array([[1, 0],
           [1, 1],
           [0, 1]])
    """
    starts = np.asarray(window_starts, dtype=float).reshape(-1)
    if not np.all(np.isfinite(starts)):
        raise ValueError("window_starts must be finite times (s)")
    window_length = float(window_length)
    if not window_length > 0:
        raise ValueError(f"window_length must be > 0 (seconds), got {window_length!r}")
    t, col, n_cols = _spikes_of(result, copy, neurons)
    order = np.argsort(t, kind="stable")
    t, col = t[order], col[order]
    lo = np.searchsorted(t, starts, side="left")
    hi = np.searchsorted(t, starts + window_length, side="left")
    per_window = hi - lo
    # spike positions of all windows, concatenated: lo_w, lo_w+1, ..., hi_w-1 for each w
    window = np.repeat(np.arange(len(starts)), per_window)
    first = np.repeat(lo - np.concatenate(([0], np.cumsum(per_window)[:-1])), per_window)
    pos = np.arange(per_window.sum()) + first
    flat = np.bincount(window * n_cols + col[pos], minlength=len(starts) * n_cols)
    return flat.reshape(len(starts), n_cols).astype(np.int64)


# ==========================================================================================
# Readouts
# ==========================================================================================
