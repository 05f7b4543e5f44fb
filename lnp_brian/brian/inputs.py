"""Inputs that drive a network: background noise and deterministic stimulus currents.

All inputs enter through the model's input current (``neuron.input`` in the model file,
e.g. ``I_in``), which the package defines as ``I_in = I_bias + I_noise + I_stim``:

- ``I_bias``: a constant per-neuron current, changeable on every run;
- ``I_noise``: :class:`PoissonNoise` (exponentially filtered Poisson shot noise) or
  :class:`OUNoise` (Ornstein-Uhlenbeck current);
- ``I_stim``: a :class:`Stimulus`, currents through a Brian2 ``TimedArray`` (``K``
  channels, mixed into every neuron with per-neuron weights, or one channel per neuron).

Spiking input (e.g. rate-coded images) is a :class:`PoissonStimulus`: Poisson input neurons
connected through input synapses that use the model's synapse code.

With several copies of the network in one build (Lyapunov perturbations) ``shared=True``
gives every copy the very same noise realisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2.units.fundamentalunits import Quantity, get_dimensions

from ..core.units import as_dimension, parse_quantity, unit_string

__all__ = ["PoissonNoise", "OUNoise", "Stimulus", "PoissonStimulus", "default_input", "MAX_MIXED_CHANNELS",
           "clock_steps", "check_clock_steps"]

MAX_MIXED_CHANNELS = 32  # beyond this, give one channel per neuron (weights=None)


def _q(value, unit, name):
    return parse_quantity(value, unit, where=name)


@dataclass(frozen=True)
class PoissonNoise:
    """Filtered Poisson shot noise.

    ``n`` independent sources at ``rate`` per neuron, each spike adding ``weight`` to
    ``I_noise``, which decays with time constant ``tau``. Mean current
    ``n * rate * weight * tau``. The per-neuron factor ``noise_gain`` (default 1) scales
    ``weight`` and can be changed on every run.

    Parameters
    ----------
    rate : Quantity or str
        Rate of each source, in Hz (e.g. ``"10 Hz"``); >= 0.
    n : int
        Number of independent sources per neuron; >= 1.
    weight : Quantity or str
        Jump of ``I_noise`` per input spike, in the model's input unit (e.g. ``"5 pA"``).
    tau : Quantity or str
        Decay time constant of ``I_noise``, in seconds (e.g. ``"5 ms"``); > 0.
    shared : bool, optional
        With several copies of the network in one build, give every copy the very same
        noise realisation (default False).

    Raises
    ------
    ValueError
        ``n < 1``, ``rate < 0`` or ``tau <= 0``.
    UnitError
        A value that is not a quantity of the right unit.

    Examples
    --------
    >>> noise = PoissonNoise(rate="10 Hz", n=100, weight="5 pA", tau="5 ms")
    >>> noise.describe()
    {'kind': 'poisson', 'rate': '10. Hz', 'n': 100, 'weight': '5. pA', 'tau': '5. ms', 'shared': False}
    >>> float(noise.n * noise.rate * noise.weight * noise.tau)  # mean current in amp
    2.5e-11
    """

    rate: Quantity
    n: int
    weight: Quantity
    tau: Quantity
    shared: bool = False

    def __post_init__(self):
        object.__setattr__(self, "rate", _q(self.rate, "Hz", "PoissonNoise.rate"))
        object.__setattr__(self, "tau", _q(self.tau, "second", "PoissonNoise.tau"))
        object.__setattr__(self, "weight", _q(self.weight, None, "PoissonNoise.weight"))
        if int(self.n) < 1 or float(self.rate) < 0 or float(self.tau) <= 0:
            raise ValueError("PoissonNoise needs n >= 1, rate >= 0 and tau > 0")

    @property
    def dim(self):
        """Dimension of the noise current (that of ``weight``)."""
        return get_dimensions(self.weight)

    def describe(self) -> dict:
        """The noise as plain values, for run records.

        Returns
        -------
        dict
            ``kind`` (``"poisson"``), the fields as strings with units, ``n`` and ``shared``.
        """
        return {"kind": "poisson", "rate": str(self.rate), "n": int(self.n),
                "weight": str(self.weight), "tau": str(self.tau), "shared": self.shared}


@dataclass(frozen=True)
class OUNoise:
    """Ornstein-Uhlenbeck noise current.

    Stationary ``mean`` and ``std`` and correlation time ``tau``:
    ``dI/dt = (mean - I)/tau + std*sqrt(2/tau)*xi``. The per-neuron factor ``noise_gain``
    scales ``std``. The current is integrated in a group of its own and linked into the
    neurons.

    Parameters
    ----------
    mean : Quantity or str
        Stationary mean, in the model's input unit (e.g. ``"0.1 nA"``).
    std : Quantity or str
        Stationary standard deviation, in the unit of ``mean``; >= 0.
    tau : Quantity or str
        Correlation time, in seconds (e.g. ``"10 ms"``); > 0.
    shared : bool, optional
        With several copies of the network in one build, give every copy the very same
        noise realisation (default False).

    Raises
    ------
    ValueError
        ``tau <= 0`` or ``std < 0``.
    UnitError
        A value that is not a quantity of the right unit.

    Examples
    --------
    >>> OUNoise(mean="0.1 nA", std="50 pA", tau="10 ms").describe()
    {'kind': 'ou', 'mean': '100. pA', 'std': '50. pA', 'tau': '10. ms', 'shared': False}
    """

    mean: Quantity
    std: Quantity
    tau: Quantity
    shared: bool = False

    def __post_init__(self):
        object.__setattr__(self, "tau", _q(self.tau, "second", "OUNoise.tau"))
        object.__setattr__(self, "mean", _q(self.mean, None, "OUNoise.mean"))
        object.__setattr__(self, "std", _q(self.std, get_dimensions(self.mean), "OUNoise.std"))
        if float(self.tau) <= 0 or float(self.std) < 0:
            raise ValueError("OUNoise needs tau > 0 and std >= 0")

    @property
    def dim(self):
        """Dimension of the noise current (that of ``mean``)."""
        return get_dimensions(self.mean)

    def describe(self) -> dict:
        """The noise as plain values, for run records.

        Returns
        -------
        dict
            ``kind`` (``"ou"``), the fields as strings with units, and ``shared``.
        """
        return {"kind": "ou", "mean": str(self.mean), "std": str(self.std),
                "tau": str(self.tau), "shared": self.shared}


@dataclass(frozen=True)
class Stimulus:
    """Deterministic input currents sampled every ``dt``.

    ``values`` and ``weights`` can be replaced on every re-run of a compiled build as long as
    their shapes stay the same.

    Parameters
    ----------
    values : Quantity or array, shape (T, K)
        ``K`` input channels over ``T`` time steps, in the model's input unit (plain arrays
        are taken as SI values of that unit). The last value holds after the end. A 1-d
        array is one channel.
    dt : Quantity or str
        Sampling interval of ``values``, in seconds (e.g. ``"1 ms"``); > 0.
    weights : array (K, N), optional
        Per-neuron mixing weights (dimensionless): neuron ``j`` receives
        ``sum_k weights[k, j] * values[:, k]``; ``K`` at most 32 (``MAX_MIXED_CHANNELS``).
        ``None`` means one channel per neuron (``K == N``: neuron ``j`` receives channel
        ``j``).

    Raises
    ------
    ValueError
        ``values`` or ``weights`` of the wrong shape, ``dt <= 0``, or more than 32 mixed
        channels.

    Examples
    --------
    >>> import numpy as np
    >>> stim = Stimulus(values=np.zeros((100, 2)), dt="1 ms", weights=np.ones((2, 5)))
    >>> stim.n_channels
    2
    >>> stim.describe()
    {'kind': 'stimulus', 'shape': [100, 2], 'dt': '1. ms', 'mixed': True}
    """

    values: object
    dt: Quantity
    weights: np.ndarray | None = None

    def __post_init__(self):
        vals = self.values
        dim = get_dimensions(vals) if isinstance(vals, Quantity) else None
        arr = np.asarray(vals, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] < 1:
            raise ValueError(f"Stimulus.values must have shape (T, K), got {np.shape(vals)}")
        object.__setattr__(self, "values", arr)
        object.__setattr__(self, "_dim", dim)
        object.__setattr__(self, "dt", _q(self.dt, "second", "Stimulus.dt"))
        if float(self.dt) <= 0:
            raise ValueError("Stimulus.dt must be positive")
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=float)
            if w.ndim != 2 or w.shape[0] != arr.shape[1]:
                raise ValueError(f"Stimulus.weights must have shape (K={arr.shape[1]}, N), got {w.shape}")
            if w.shape[0] > MAX_MIXED_CHANNELS:
                raise ValueError(f"Stimulus with weights supports at most {MAX_MIXED_CHANNELS} channels; "
                                 "for more, give one channel per neuron (weights=None)")
            object.__setattr__(self, "weights", w)

    @property
    def n_channels(self) -> int:
        """Number of input channels ``K``."""
        return self.values.shape[1]

    def check_dim(self, dim) -> None:
        """Check that the values (if given as a Quantity) are in the model's input unit.

        Parameters
        ----------
        dim : str, Unit, Quantity or Dimension
            The model's input unit (``neuron.input_unit``).

        Raises
        ------
        ValueError
            The values carry a different unit. Plain arrays always pass.
        """
        if self._dim is not None and self._dim is not as_dimension(dim):
            raise ValueError(f"Stimulus values have unit {unit_string(self._dim)}, "
                             f"the model's input is in {unit_string(dim)}")

    def describe(self) -> dict:
        """The stimulus in brief, for run records.

        Returns
        -------
        dict
            ``kind`` (``"stimulus"``), ``shape`` ``[T, K]``, ``dt`` as a string and
            ``mixed`` (whether per-neuron weights are given).
        """
        return {"kind": "stimulus", "shape": list(self.values.shape), "dt": str(self.dt),
                "mixed": self.weights is not None}


@dataclass(frozen=True)
class PoissonStimulus:
    """Poisson input neurons projecting into the network through input synapses.

    ``K`` input neurons (e.g. one per pixel) fire with the rates in ``rates``. The input
    synapses use the model's static synapse code (``synapse.on_pre``, with the input weight
    as ``w``), so an input spike acts like a spike of a recurrent excitatory synapse. Rates
    and the non-zero weights can be replaced on every re-run (same shapes, same non-zero
    pattern).

    Parameters
    ----------
    rates : array, shape (T, K)
        Firing rate of each input neuron over ``T`` time steps, in Hz (non-negative, finite).
    dt : Quantity or str
        Sampling interval of ``rates``, in seconds (e.g. ``"10 ms"``).
    weights : array, shape (K, N)
        Input weight of every (input, neuron) pair in the model's weight unit (SI values);
        zeros are not connected.

    Raises
    ------
    ValueError
        ``rates`` negative, not finite or not 2-d, or ``weights`` of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> spikes = PoissonStimulus(rates=np.full((10, 2), 20.0), dt="10 ms",
    ...                          weights=np.array([[0.5, 0.0], [0.0, 0.25]]))
    >>> spikes.describe()
    {'kind': 'poisson_stimulus', 'shape': [10, 2], 'dt': '10. ms', 'input_synapses': 2}
    >>> spikes.synapses()
    (array([0, 1]), array([0, 1]), array([0.5 , 0.25]))
    """

    rates: np.ndarray
    dt: Quantity
    weights: np.ndarray

    def __post_init__(self):
        r = np.asarray(self.rates, dtype=float)
        if r.ndim != 2 or r.shape[0] < 1 or np.any(r < 0) or not np.all(np.isfinite(r)):
            raise ValueError(f"PoissonStimulus.rates must be a non-negative (T, K) array in Hz, got shape {r.shape}")
        object.__setattr__(self, "rates", r)
        object.__setattr__(self, "dt", _q(self.dt, "second", "PoissonStimulus.dt"))
        w = np.asarray(self.weights, dtype=float)
        if w.ndim != 2 or w.shape[0] != r.shape[1]:
            raise ValueError(f"PoissonStimulus.weights must have shape (K={r.shape[1]}, N), got {w.shape}")
        object.__setattr__(self, "weights", w)

    @property
    def n_channels(self) -> int:
        """Number of input neurons ``K``."""
        return self.rates.shape[1]

    def synapses(self):
        """The connected (input, neuron) pairs, sorted by (input, neuron).

        Returns
        -------
        k : ndarray of int
            Input neuron index of each synapse.
        j : ndarray of int
            Network neuron index of each synapse.
        w : ndarray of float
            Weight of each synapse (the model's weight unit, SI).
        """
        k, j = np.nonzero(self.weights)
        return k, j, self.weights[k, j]

    def describe(self) -> dict:
        """The stimulus in brief, for run records.

        Returns
        -------
        dict
            ``kind`` (``"poisson_stimulus"``), ``shape`` ``[T, K]``, ``dt`` as a string and
            the number of ``input_synapses``.
        """
        return {"kind": "poisson_stimulus", "shape": list(self.rates.shape), "dt": str(self.dt),
                "input_synapses": int(np.count_nonzero(self.weights))}


def default_input(spec) -> PoissonNoise | OUNoise | None:
    """The model file's ``[input]`` noise as an input object.

    Parameters
    ----------
    spec : ModelSpec
        The model; its ``input`` dict (``kind`` ``"poisson"`` or ``"ou"`` and the values).

    Returns
    -------
    PoissonNoise, OUNoise or None
        The noise, or None if the model file gives none.
    """
    cfg = spec.input
    if not cfg:
        return None
    if cfg["kind"] == "poisson":
        return PoissonNoise(rate=cfg["rate"], n=cfg["n"], weight=cfg["weight"], tau=cfg["tau"])
    return OUNoise(mean=cfg["mean"], std=cfg["std"], tau=cfg["tau"])


def background_noise(noise, spec):
    """The background noise of a task run: ``True`` the model file's ``[input]`` noise,
    ``False`` or ``None`` none, or a :class:`PoissonNoise` / :class:`OUNoise` as given."""
    if noise is True:
        return default_input(spec)
    if noise is None or noise is False:
        return None
    if isinstance(noise, (PoissonNoise, OUNoise)):
        return noise
    raise TypeError(f"noise must be True (the model's background), False/None (no noise) or a "
                    f"PoissonNoise/OUNoise, got {noise!r}")


def clock_steps(interval: float, dt: float) -> int | None:
    """Simulation steps in ``interval``, if Brian2 counts a whole number of them, else None.

    Brian2 integrates a stimulus exactly only when its sampling interval divided by the
    simulation step is an integer in floating point. 75 ms / 0.1 ms gives 749.9999999999999,
    and no floating-point number near 75 ms divides to exactly 750, so such an interval
    cannot be used at that step.

    Parameters
    ----------
    interval : float
        Sampling interval of the input, in seconds.
    dt : float
        Simulation step, in seconds.

    Returns
    -------
    int or None
        ``interval / dt``, or None when that is not a whole number >= 1.

    Examples
    --------
    >>> clock_steps(0.05, 1e-4), clock_steps(0.075, 1e-4), clock_steps(0.08, 1e-4)
    (500, None, 800)
    """
    k = interval / dt
    return int(k) if k >= 1 and k == int(k) else None


def check_clock_steps(interval: float, dt: float, name: str) -> int:
    """:func:`clock_steps`, or a ValueError that names the option and the nearest usable values.

    Parameters
    ----------
    interval : float
        Sampling interval of the input, in seconds.
    dt : float
        Simulation step, in seconds.
    name : str
        The option holding ``interval``, named in the error.

    Returns
    -------
    int
        Whole simulation steps in ``interval``.

    Raises
    ------
    ValueError
        ``interval`` is not a whole number of steps as Brian2 counts them.

    Examples
    --------
    >>> check_clock_steps(0.075, 1e-4, "sample_time")
    Traceback (most recent call last):
    ...
    ValueError: sample_time = 75 ms is not a whole number of simulation steps of 0.1 ms in floating point (0.075 / 0.0001 = 749.9999999999999), which Brian2 needs to integrate the input exactly; nearest usable: 72 ms or 76 ms
    """
    k = clock_steps(interval, dt)
    if k is not None:
        return k
    ms = max(1, round(interval * 1e3))
    lower = next((m for m in range(ms, 0, -1) if m != ms and clock_steps(m * 1e-3, dt)), None)
    upper = next(m for m in range(ms + 1, ms + 1000) if clock_steps(m * 1e-3, dt))
    near = f"{lower} ms or {upper} ms" if lower else f"{upper} ms"
    raise ValueError(f"{name} = {interval * 1e3:g} ms is not a whole number of simulation steps of "
                     f"{dt * 1e3:g} ms in floating point ({interval!r} / {dt!r} = {interval / dt!r}), which "
                     f"Brian2 needs to integrate the input exactly; nearest usable: {near}")


def split_inputs(inputs, spec):
    """Sort a list of inputs into (noise, stimulus, Poisson stimulus), checking kinds and units."""
    if inputs is None:
        inputs = []
    elif not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    noise = stim = spikes = None
    for inp in inputs:
        if isinstance(inp, (PoissonNoise, OUNoise)):
            if noise is not None:
                raise ValueError("at most one noise input per simulation")
            noise = inp
        elif isinstance(inp, Stimulus):
            if stim is not None:
                raise ValueError("at most one Stimulus per simulation")
            stim = inp
        elif isinstance(inp, PoissonStimulus):
            if spikes is not None:
                raise ValueError("at most one PoissonStimulus per simulation")
            if spec.synapse is None:
                raise ValueError(f"model {spec.name!r} has no [synapse] section for the input synapses")
            spikes = inp
        else:
            raise TypeError(f"unknown input {inp!r}; expected PoissonNoise, OUNoise, Stimulus or PoissonStimulus")
    if (noise or stim) and spec.neuron.input is None:
        raise ValueError(f"model {spec.name!r} has no input current (neuron.input) to drive")
    dim = spec.neuron.input_dim
    if noise is not None and noise.dim is not dim:
        raise ValueError(f"noise is in {unit_string(noise.dim)}, the model's input "
                         f"{spec.neuron.input} is in {unit_string(dim)}")
    if stim is not None:
        stim.check_dim(dim)
    return noise, stim, spikes
