"""Simulation results: spikes and traces as plain arrays, with the analyses everyone needs.

A :class:`SimResult` holds spike times/indices and recorded traces of one run (all copies of
a replicated build), plus what produced it (device, seed, compile count, wall times). It
saves to and loads from one ``.npz`` without pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from brian2.units.fundamentalunits import Quantity

from ..core.files import atomic_savez
from ..core.units import parse_unit

__all__ = ["SimResult", "ResultFileError"]

RESULT_FORMAT = "lnp_brian.simresult/1"


class ResultFileError(ValueError):
    """A result file that cannot be read."""


@dataclass(eq=False)
class SimResult:
    """Spikes and traces of one simulation.

    Made by :meth:`Simulator.run <lnp_brian.simulation.simulator.Simulator.run>`; the fields
    are attributes of the same names. Spike analyses look at one copy at a time.

    Parameters
    ----------
    n : int
        Neurons per copy.
    copies : int
        Number of network copies simulated side by side.
    duration, dt : float
        Simulated time and time step, in seconds.
    spike_t : float array, optional
        Spike times (s), all copies, sorted by time.
    spike_i : int array, optional
        Index of the spiking neuron in the replicated group (copy ``c`` neuron ``j`` is
        ``c*n + j``).
    trace_t : float array (T,), optional
        Times of recorded trace samples (s).
    traces : dict, optional
        Variable name -> float array (copies, k, T) in SI units.
    trace_units : dict, optional
        Variable name -> unit string.
    record_indices : int array (k,), optional
        Neuron indices (within a copy) of the traces.
    final_state : dict, optional
        Variable name -> SI values at the end of the run, (copies * n,) for neuron state
        variables; ``"w"`` holds the final weights, (copies * m,) in the network's synapse
        order (changed by plasticity).
    info : dict, optional
        Device, seed, compilations, wall times and anything else about the run.
    input_spike_t, input_spike_i : arrays, optional
        Spikes of the Poisson input neurons of a PoissonStimulus (shared by all copies):
        times (s) and input indices.

    Examples
    --------
    Two copies of three neurons; copy 1 holds the neurons 3, 4 and 5 of ``spike_i``:

    >>> r = SimResult(n=3, copies=2, duration=1.0, dt=1e-4,
    ...               spike_t=np.array([0.1, 0.2, 0.25, 0.3, 0.5, 0.9]),
    ...               spike_i=np.array([0, 3, 1, 0, 4, 0]))
    >>> r.spikes(copy=1)
    (array([0.2, 0.5]), array([0, 1]))
    >>> r.rates()   # Hz
    array([3., 1., 0.])
    >>> r.isi_cv()  # neuron 0: intervals 0.2 s and 0.6 s
    array([0.5, nan, nan])
    >>> r.summary()
    '2 x 3 neurons, 1 s: 6 spikes, mean rate 1.33 Hz'
    """

    n: int
    copies: int
    duration: float
    dt: float
    spike_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    spike_i: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    trace_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    traces: dict = field(default_factory=dict)
    trace_units: dict = field(default_factory=dict)
    record_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    final_state: dict = field(default_factory=dict)  # variable -> (copies*n,) SI values at the end
    info: dict = field(default_factory=dict)
    input_spike_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    input_spike_i: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    # ---- spikes ---------------------------------------------------------------------------
    def spikes(self, copy: int = 0):
        """Spike times and neuron indices of one copy.

        Parameters
        ----------
        copy : int
            Network copy, in [0, copies).

        Returns
        -------
        t : float array
            Spike times (s), sorted.
        i : int array
            Index of the spiking neuron within the copy, in [0, n).

        Raises
        ------
        IndexError
            If ``copy`` is not one of the result's copies (a copy that was never simulated
            would otherwise look like a silent network).
        """
        lo, hi = self._check_copy(copy) * self.n, (copy + 1) * self.n
        sel = (self.spike_i >= lo) & (self.spike_i < hi)
        return self.spike_t[sel], self.spike_i[sel] - lo

    def _check_copy(self, copy) -> int:
        if isinstance(copy, (bool, np.bool_)) or not isinstance(copy, (int, np.integer)) \
                or not 0 <= copy < self.copies:
            raise IndexError(f"copy {copy!r} does not exist: this result has {self.copies} "
                             f"cop{'y' if self.copies == 1 else 'ies'}, numbered 0 to {self.copies - 1}")
        return int(copy)

    def spike_counts(self, copy: int = 0) -> np.ndarray:
        """Number of spikes of every neuron of one copy over the whole run.

        Parameters
        ----------
        copy : int
            Network copy.

        Returns
        -------
        int array (n,)
            Spike count per neuron.
        """
        _, i = self.spikes(copy)
        return np.bincount(i, minlength=self.n)

    def rates(self, copy: int = 0, t_start: float = 0.0) -> np.ndarray:
        """Mean firing rate of every neuron (Hz) after ``t_start`` (s).

        Parameters
        ----------
        copy : int
            Network copy.
        t_start : float
            Start of the counting window (s); spikes before it are ignored.

        Returns
        -------
        float array (n,)
            Spikes in [t_start, duration] divided by ``duration - t_start``, in Hz.

        Raises
        ------
        ValueError
            If ``t_start`` is not before the end of the run.
        """
        t, i = self.spikes(copy)
        span = self.duration - t_start
        if span <= 0:
            raise ValueError("t_start must be before the end of the run")
        return np.bincount(i[t >= t_start], minlength=self.n) / span

    def population_rate(self, bin_width: float = 1e-3, copy: int = 0, neurons=None):
        """Population firing rate per neuron in bins of ``bin_width`` seconds.

        Parameters
        ----------
        bin_width : float
            Bin width (s); the run is split into ``round(duration / bin_width)`` bins
            (at least one) starting at 0.
        copy : int
            Network copy.
        neurons : int array or bool array (n,), optional
            Neurons to include (default all); the rate is per included neuron.

        Returns
        -------
        t : float array (bins,)
            Bin centres (s).
        rate : float array (bins,)
            Spikes per bin divided by bin width and number of neurons, in Hz.

        Examples
        --------
        >>> r = SimResult(n=2, copies=1, duration=1.0, dt=1e-4,
        ...               spike_t=np.array([0.1, 0.2, 0.7]), spike_i=np.array([0, 1, 0]))
        >>> r.population_rate(0.5)
        (array([0.25, 0.75]), array([2., 1.]))
        """
        t, i = self.spikes(copy)
        count = self.n
        if neurons is not None:
            keep = np.zeros(self.n, bool)
            keep[np.asarray(neurons)] = True
            t, count = t[keep[i]], int(keep.sum())
        nbins = max(1, int(round(self.duration / bin_width)))
        hist, edges = np.histogram(t, bins=nbins, range=(0.0, nbins * bin_width))
        return 0.5 * (edges[1:] + edges[:-1]), hist / (bin_width * max(count, 1))

    def isi_cv(self, copy: int = 0, min_spikes: int = 3) -> np.ndarray:
        """Coefficient of variation of the inter-spike intervals of every neuron.

        About 1 for Poisson-like (irregular) firing, 0 for clock-like firing.

        Parameters
        ----------
        copy : int
            Network copy.
        min_spikes : int
            Fewest spikes a neuron needs for a value.

        Returns
        -------
        float array (n,)
            Standard deviation over mean of the intervals; NaN for neurons with fewer than
            ``min_spikes`` spikes.
        """
        t, i = self.spikes(copy)
        order = np.lexsort((t, i))
        t, i = t[order], i[order]
        out = np.full(self.n, np.nan)
        starts = np.searchsorted(i, np.arange(self.n))
        ends = np.searchsorted(i, np.arange(self.n), side="right")
        for j in np.flatnonzero(ends - starts >= min_spikes):
            isi = np.diff(t[starts[j]:ends[j]])
            out[j] = isi.std() / isi.mean() if isi.mean() > 0 else np.nan
        return out

    # ---- traces ---------------------------------------------------------------------------
    def trace(self, var: str, copy: int = 0) -> Quantity:
        """Recorded trace of ``var`` for one copy, as a quantity.

        Parameters
        ----------
        var : str
            A recorded variable (a key of ``traces``).
        copy : int
            Network copy.

        Returns
        -------
        Quantity (k, T)
            One row per recorded neuron (``record_indices``), one column per sample time
            (``trace_t``), in the variable's unit.

        Raises
        ------
        KeyError
            If ``var`` was not recorded.
        IndexError
            If ``copy`` is not one of the result's copies.
        """
        if var not in self.traces:
            raise KeyError(f"{var!r} was not recorded (recorded: {', '.join(self.traces) or 'none'})")
        return Quantity(self.traces[var][self._check_copy(copy)], dim=parse_unit(self.trace_units[var]))

    # ---- files ----------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the result to one ``.npz`` file (atomically, plain arrays only).

        Parameters
        ----------
        path : str or Path
            The file to write (replaced if it exists).

        Returns
        -------
        Path
            ``path`` as a :class:`~pathlib.Path`.
        """
        path = Path(path)
        data = {
            "format": np.array(RESULT_FORMAT),
            "meta": np.array(json.dumps({"n": self.n, "copies": self.copies, "duration": self.duration,
                                         "dt": self.dt, "trace_units": self.trace_units,
                                         "info": self.info}, default=str)),
            "spike_t": self.spike_t, "spike_i": self.spike_i, "trace_t": self.trace_t,
            "record_indices": self.record_indices,
            "input_spike_t": self.input_spike_t, "input_spike_i": self.input_spike_i,
        }
        data.update({f"trace/{k}": v for k, v in self.traces.items()})
        data.update({f"final/{k}": v for k, v in self.final_state.items()})
        return atomic_savez(path, data)

    @classmethod
    def load(cls, path) -> "SimResult":
        """Read a result saved by :meth:`save` (no pickle: a file cannot run code).

        Parameters
        ----------
        path : str or Path
            A ``.npz`` file written by :meth:`save`.

        Returns
        -------
        SimResult
            The saved result.

        Raises
        ------
        ResultFileError
            If the file is missing, cannot be read as ``.npz`` or is of another format.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise ResultFileError(f"{path}: no such file") from None
        except Exception as exc:
            raise ResultFileError(f"{path}: cannot read as .npz ({exc})") from None
        if str(data.get("format", "")) != RESULT_FORMAT:
            raise ResultFileError(f"{path}: key 'format' is not {RESULT_FORMAT!r}")
        meta = json.loads(str(data["meta"]))
        return cls(n=meta["n"], copies=meta["copies"], duration=meta["duration"], dt=meta["dt"],
                   spike_t=data["spike_t"], spike_i=data["spike_i"], trace_t=data["trace_t"],
                   traces={k[6:]: v for k, v in data.items() if k.startswith("trace/")},
                   trace_units=meta["trace_units"], record_indices=data["record_indices"],
                   final_state={k[6:]: v for k, v in data.items() if k.startswith("final/")},
                   info=meta["info"], input_spike_t=data.get("input_spike_t", np.zeros(0)),
                   input_spike_i=data.get("input_spike_i", np.zeros(0, np.int32)))

    def summary(self) -> str:
        """One line: copies, neurons, duration, spikes of all copies, mean rate of copy 0.

        Returns
        -------
        str
            E.g. ``"1 x 300 neurons, 1 s: 4521 spikes, mean rate 15.07 Hz"``.
        """
        rates = self.rates()
        return (f"{self.copies} x {self.n} neurons, {self.duration:g} s: {len(self.spike_t)} spikes, "
                f"mean rate {rates.mean():.2f} Hz")
