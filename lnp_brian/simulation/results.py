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

    Attributes
    ----------
    n : int
        Neurons per copy.
    copies : int
        Number of network copies simulated side by side.
    duration, dt : float
        Simulated time and time step, in seconds.
    spike_t : float array
        Spike times (s), all copies, sorted by time.
    spike_i : int array
        Index of the spiking neuron in the replicated group (copy ``c`` neuron ``j`` is
        ``c*n + j``).
    trace_t : float array
        Times of recorded trace samples (s).
    traces : dict
        Variable name -> float array (copies, k, T) in SI units.
    trace_units : dict
        Variable name -> unit string.
    record_indices : int array (k,)
        Neuron indices (within a copy) of the traces.
    info : dict
        Device, seed, compilations, wall times and anything else about the run.
    input_spike_t, input_spike_i : arrays
        Spikes of the Poisson input neurons of a PoissonStimulus (shared by all copies).
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
        """(times in s, neuron indices within the copy) of one copy."""
        lo, hi = copy * self.n, (copy + 1) * self.n
        sel = (self.spike_i >= lo) & (self.spike_i < hi)
        return self.spike_t[sel], self.spike_i[sel] - lo

    def spike_counts(self, copy: int = 0) -> np.ndarray:
        _, i = self.spikes(copy)
        return np.bincount(i, minlength=self.n)

    def rates(self, copy: int = 0, t_start: float = 0.0) -> np.ndarray:
        """Mean firing rate of every neuron (Hz) after ``t_start`` (s)."""
        t, i = self.spikes(copy)
        span = self.duration - t_start
        if span <= 0:
            raise ValueError("t_start must be before the end of the run")
        return np.bincount(i[t >= t_start], minlength=self.n) / span

    def population_rate(self, bin_width: float = 1e-3, copy: int = 0, neurons=None):
        """(bin centres in s, population rate in Hz per neuron) with bins of ``bin_width`` s."""
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
        """Coefficient of variation of inter-spike intervals per neuron (NaN with fewer than
        ``min_spikes`` spikes)."""
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
        """Recorded trace of ``var`` for one copy, shape (k, T), as a quantity."""
        if var not in self.traces:
            raise KeyError(f"{var!r} was not recorded (recorded: {', '.join(self.traces) or 'none'})")
        return Quantity(self.traces[var][copy], dim=parse_unit(self.trace_units[var]))

    # ---- files ----------------------------------------------------------------------------
    def save(self, path) -> Path:
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
        rates = self.rates()
        return (f"{self.copies} x {self.n} neurons, {self.duration:g} s: {len(self.spike_t)} spikes, "
                f"mean rate {rates.mean():.2f} Hz")
