"""Lyapunov exponents of any Brian2 model, from simulations (two-trajectory / Benettin).

One build holds a reference copy of the network and several perturbed copies side by side
(:class:`~lnp_brian.simulation.simulator.Simulator` with ``copies``), all driven by the same input
(stimulus, or noise shared by every copy). Every ``interval`` the distance of each perturbed
copy from the reference is measured inside the simulation and the perturbation is rescaled
back to its size ``d0``; the log growth per interval, averaged after a transient, is the
exponent. The distance is the Euclidean norm over the chosen state variables of all neurons,
each divided by a scale (mV for voltages, pA for currents, nS, ms, 1 for dimensionless), plus
for spiking models exponentially filtered spike trains (so a spike moved by one step counts
by how far it moved, not by the 15 mV reset jump it causes).

**Which regime a number describes.** Spiking networks show *stable chaos*: in a clock-driven
LIF network an infinitesimal perturbation is erased at the next reset unless a spike moves to
another time step, so the exponent of tiny perturbations is negative, while perturbations
large enough to move spikes grow. Every result here therefore carries its perturbation size
``d0``: it is the *finite-size* Lyapunov exponent at that size (with renormalisation to d0
every ``interval``). :func:`finite_size_exponents` scans sizes in one build. For smooth
models (ODEs, rate networks) with small d0 it is the ordinary maximal exponent.

Per-neuron exponents λ_i: :func:`per_neuron_exponents` perturbs one neuron per copy, in
batches of copies re-run on one compiled binary; the fast estimate from the linearised rate
model is :func:`lnp_brian.lyapunov.spectrum.per_neuron_exponents_linear`.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import brian2 as b2

from ..brian.inputs import OUNoise, PoissonNoise, split_inputs
from ..core.units import seconds, unit_string
from ..network.network import Network
from ..simulation.simulator import Extension, Simulator, SimulatorOwner

__all__ = ["DivergenceMonitor", "TwoTrajectory", "LyapunovResult", "PerNeuronExponents",
           "FiniteSizeResult", "max_exponent", "per_neuron_exponents", "finite_size_exponents",
           "default_scales", "ode_system"]

# distance scale of a variable by its unit: what "1" means in d0
_SCALES = {"volt": 1e-3, "amp": 1e-12, "siemens": 1e-9, "second": 1e-3, "1": 1.0}
_SCALE_NAMES = {"volt": "mV", "amp": "pA", "siemens": "nS", "second": "ms", "1": "1"}
MONITOR = "lyap"


def default_scales(spec) -> dict:
    """Distance scale (SI) of every differential-equation variable of the model.

    The scale says what "1" means in a perturbation size ``d0``: 1 mV for voltages, 1 pA for
    currents, 1 nS for conductances, 1 ms for times, 1 for dimensionless variables (and for
    any other unit).

    Parameters
    ----------
    spec : ModelSpec
        The model (its neuron equations).

    Returns
    -------
    dict
        Variable name -> scale in SI units (e.g. ``{"v": 0.001}``), sorted by name.
    """
    eqs = b2.Equations(spec.neuron.equations)
    out = {}
    for name in sorted(eqs.diff_eq_names):
        unit = unit_string(eqs[name].dim)
        out[name] = _SCALES.get(unit, 1.0)
    return out


class DivergenceMonitor(Extension):
    """Measures and renormalises the distance of each copy from copy 0 inside the simulation.

    Adds to the neurons, for each distance variable ``x``: ``x_lref`` (linked to the same
    neuron of copy 0) and ``lyap_kick_x`` (the perturbation injected at ``t_kick``); for
    spiking models a filtered spike train ``lyap_s`` (decay ``trace_tau``, +1 per spike). A
    group ``lyap`` (one element per copy, clock ``interval``) sums the squared scaled distance
    through a summed variable, computes the rescaling factor and records ``d2`` every
    interval. Before ``t_kick`` the copies are held equal to the reference; at ``t_kick`` the
    kick is added; afterwards the perturbation is rescaled to ``d0`` every interval. With
    ``enabled = 0`` it does nothing and the copies run freely.

    The methods are the hooks of :class:`~lnp_brian.simulation.simulator.Extension`, called
    by the Simulator; per run, ``pending`` holds ``kicks``, ``d0``, ``t_kick`` and
    ``enabled``. Results go to ``SimResult.info`` as ``lyap_t`` (s) and ``lyap_d2``
    (copies, T), the squared scaled distance before each rescaling.

    Parameters
    ----------
    scales : dict
        Distance variable -> scale (SI), as from :func:`default_scales`.
    interval : float
        Renormalisation interval in seconds.
    trace_tau : float or None
        Decay time (s) of the filtered spike trains in the distance; None leaves them out.
    """

    def __init__(self, scales: dict, interval: float, trace_tau: float | None):
        self.scales = dict(scales)
        self.interval = float(interval)
        self.trace_tau = trace_tau
        self.pending: dict = {}
        self.d2: np.ndarray | None = None
        self.times: np.ndarray | None = None

    def key(self) -> str:
        """Identify the build structure (scales, interval, trace time constant).

        Returns
        -------
        str
            Text that enters the build's hash.
        """
        return f"DivergenceMonitor({sorted(self.scales.items())}, {self.interval!r}, {self.trace_tau!r})"

    def _vars(self):
        names = list(self.scales)
        return names + (["lyap_s"] if self.trace_tau is not None else [])

    def equations(self, sim) -> str:
        """Equations added to the neurons: reference links, kicks, spike trace, distance.

        Parameters
        ----------
        sim : Simulator
            The simulator being built.

        Returns
        -------
        str
            Brian2 equations.
        """
        eqs = b2.Equations(sim.network.model.neuron.equations)
        lines = []
        for x in self.scales:
            unit = unit_string(eqs[x].dim)
            lines += [f"{x}_lref : {unit} (linked)", f"lyap_kick_{x} : {unit} (constant)"]
        if self.trace_tau is not None:
            lines += ["dlyap_s/dt = -lyap_s / lyap_trace_tau : 1", "lyap_s_lref : 1 (linked)"]
        lines += ["lyap_factor : 1 (linked)", "lyap_inject : 1 (linked)"]
        # squared scaled distance of this neuron from the reference, stored by a
        # run_regularly (Synapses cannot read linked variables or expressions of them)
        lines.append("lyap_dist2 : 1")
        return "\n".join(lines)

    def reset(self, sim) -> str:
        """Reset code added to the neurons: each spike adds 1 to the filtered spike train.

        Parameters
        ----------
        sim : Simulator
            The simulator being built.

        Returns
        -------
        str
            ``"lyap_s += 1"``, or ``""`` without spike trains.
        """
        return "lyap_s += 1" if self.trace_tau is not None else ""

    def namespace(self, sim) -> dict:
        """Constants the added equations use (``lyap_trace_tau``).

        Parameters
        ----------
        sim : Simulator
            The simulator being built.

        Returns
        -------
        dict
            Name -> Brian2 quantity (empty without spike trains).
        """
        return {"lyap_trace_tau": self.trace_tau * b2.second} if self.trace_tau is not None else {}

    def add_objects(self, objs, sim) -> None:
        """Create the ``lyap`` group, the distance synapses, the rescaling operations and the
        monitor of ``d2``.

        Parameters
        ----------
        objs : object
            The build's Brian2 objects (``objs.neurons``; new objects go to ``objs.extra``).
        sim : Simulator
            The simulator being built.
        """
        G, n, copies = objs.neurons, sim.network.n, sim.copies
        interval = self.interval * b2.second
        suffix = "*" if sim.device == "runtime" else ""
        D = b2.NeuronGroup(copies, "d2 : 1\nd0 : 1 (constant)\nfactor : 1\ninject : 1\n"
                           "t_kick : second (shared, constant)\nenabled : 1 (shared, constant)",
                           dt=interval, order=-20, name=MONITOR + suffix)
        D.d0 = 1.0
        index_ref = np.arange(n * copies) % n
        for x in self._vars():
            setattr(G, f"{x}_lref", b2.linked_var(G, x, index=index_ref))
        G.lyap_factor = b2.linked_var(D, "factor", index=np.arange(n * copies) // n)
        G.lyap_inject = b2.linked_var(D, "inject", index=np.arange(n * copies) // n)
        units = {x: unit_string(G.variables[x].dim) for x in self.scales}
        terms = [f"(({x} - {x}_lref) / ({self.scales[x]!r} * {units[x]}))**2" for x in self.scales]
        if self.trace_tau is not None:
            terms.append("(lyap_s - lyap_s_lref)**2")
        G.run_regularly(f"lyap_dist2 = {' + '.join(terms)}", dt=interval, when="groups", order=-22)
        S = b2.Synapses(G, D, "d2_post = lyap_dist2_pre : 1 (summed)")
        S.connect(i=np.arange(n * copies), j=np.arange(n * copies) // n)
        half = 0.5 * self.interval
        # enabled = 0 lets the copies run freely (e.g. a noise probe with per-copy bias)
        D.run_regularly(
            f"inject = enabled * int(t >= t_kick - {half!r}*second and t < t_kick + {half!r}*second)\n"
            f"factor = enabled * int(t >= t_kick + {half!r}*second) * d0 / sqrt(clip(d2, 1e-300, 1e300))"
            " + (1 - enabled)",
            dt=interval, when="groups", order=-19)
        renorm = [f"{x} = {x}_lref + ({x} - {x}_lref) * lyap_factor + lyap_kick_{x} * lyap_inject"
                  for x in self.scales]
        if self.trace_tau is not None:
            renorm.append("lyap_s = lyap_s_lref + (lyap_s - lyap_s_lref) * lyap_factor")
        G.run_regularly("\n".join(renorm), dt=interval, when="groups", order=-17)
        M = b2.StateMonitor(D, "d2", record=True, dt=interval, when="groups", order=-18)
        objs.extra += [D, S, M]
        self._objs = (D, M)

    def settable_groups(self, objs) -> list:
        """Groups whose variables runs may set: the ``lyap`` group.

        Parameters
        ----------
        objs : object
            The build's Brian2 objects.

        Returns
        -------
        list
            ``[lyap group]``.
        """
        return [self._objs[0]]

    def group(self, objs, name):
        """The group called ``name``, if this extension owns it.

        Parameters
        ----------
        objs : object
            The build's Brian2 objects.
        name : str
            Group name (``"lyap"``).

        Returns
        -------
        brian2.NeuronGroup or None
            The ``lyap`` group, or None for any other name.
        """
        return self._objs[0] if name == MONITOR else None

    def values(self, sim) -> dict:
        """Values of the next run from ``pending``: kicks, ``d0``, ``t_kick`` and ``enabled``.

        Parameters
        ----------
        sim : Simulator
            The simulator about to run.

        Returns
        -------
        dict
            ``(group, variable) -> array``.
        """
        vals = {}
        D = MONITOR
        n, copies = sim.network.n, sim.copies
        kicks = self.pending.get("kicks", {})
        for x in self.scales:
            vals[("neurons", f"lyap_kick_{x}")] = np.asarray(kicks.get(x, np.zeros(n * copies)), float).reshape(-1)
        vals[(D, "d0")] = np.asarray(self.pending.get("d0", np.ones(copies)), float)
        vals[(D, "t_kick")] = np.array([float(self.pending.get("t_kick", 0.0))])
        vals[(D, "enabled")] = np.array([1.0 if self.pending.get("enabled", True) else 0.0])
        return vals

    def result_files(self, objs, device) -> dict:
        """Files of a standalone run that hold the recorded times and ``d2``.

        Parameters
        ----------
        objs : object
            The build's Brian2 objects.
        device : brian2 Device
            The standalone device (names the array files).

        Returns
        -------
        dict
            ``"lyap.t"`` and ``"lyap.d2"`` -> ``{"file": name, "dtype": "<f8", ...}``.
        """
        D, M = self._objs
        return {"lyap.t": {"file": device.get_array_filename(M.variables["t"]), "dtype": "<f8"},
                "lyap.d2": {"file": device.get_array_filename(M.variables["d2"]), "dtype": "<f8",
                            "k": len(D)}}

    def read_results(self, result, files, results_dir) -> None:
        """Read a standalone run's files into ``result.info`` (``lyap_t``, ``lyap_d2``).

        Parameters
        ----------
        result : SimResult
            The result being assembled.
        files : dict
            As returned by :meth:`result_files`.
        results_dir : pathlib.Path
            Directory of the run's result files.
        """
        t = np.fromfile(results_dir / files["lyap.t"]["file"], dtype="<f8")
        d2 = np.fromfile(results_dir / files["lyap.d2"]["file"], dtype="<f8").reshape(len(t), -1)
        result.info["lyap_t"], result.info["lyap_d2"] = t, d2.T

    def read_runtime(self, objs, result) -> None:
        """Copy a runtime run's monitor into ``result.info`` (``lyap_t``, ``lyap_d2``).

        Parameters
        ----------
        objs : object
            The build's Brian2 objects.
        result : SimResult
            The result being assembled.
        """
        D, M = self._objs
        result.info["lyap_t"] = np.asarray(M.t_, float).copy()
        result.info["lyap_d2"] = np.asarray(M.d2, float).copy()


def _freeze(network: Network) -> Network:
    """The network with plasticity switched off (weights frozen): exponents describe the
    network dynamics, not learning. Transmission is the static synapse model's on_pre."""
    if network.model.plasticity is None:
        return network
    return network.replace(model=dataclasses.replace(network.model, plasticity=None))


def _shared(inputs, model):
    """Inputs with noise made identical in every copy (else copies diverge by noise alone)."""
    noise, stim, spikes = split_inputs(inputs, model)
    if isinstance(noise, (PoissonNoise, OUNoise)) and not noise.shared:
        noise = dataclasses.replace(noise, shared=True)
    return [x for x in (noise, stim, spikes) if x is not None]


class TwoTrajectory(SimulatorOwner):
    """A compiled build of a reference copy plus ``perturbed`` copies of a network.

    With a :class:`DivergenceMonitor`: each :meth:`run` injects new kicks and returns the
    log growth per interval of every perturbed copy. Re-running never recompiles.

    Parameters
    ----------
    network : Network
        The network; plasticity is switched off unless ``freeze_plasticity=False``.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    perturbed : int
        Number of perturbed copies.
    duration : Quantity or str
        Simulated time of each run (kick time + transient + measurement).
    interval : Quantity or str
        Renormalisation interval (a multiple of dt).
    inputs : optional
        Stimulus and/or noise; noise is made ``shared`` across copies.
    scales : dict, optional
        Variable -> distance scale (SI). Default: every differential-equation variable with
        the scale of its unit (mV, pA, nS, ms, 1).
    trace_tau : Quantity, str or None
        Time constant of the filtered spike trains in the distance (spiking models; default
        10 ms; None leaves them out).
    freeze_plasticity : bool
        Switch plasticity off (default True).
    record_spikes : bool
        Also record spikes (e.g. to use the build as a noise probe, see
        :class:`lnp_brian.lyapunov.probe.NoiseProbe`).
    record, record_dt : optional
        State variables to record in every copy, as for :class:`~lnp_brian.simulation.simulator.Simulator`
        (the pruning loop records the synaptic input that the gain replay needs).
    dt : Quantity or str, optional
        Integration step (default: the model's, else 0.1 ms).
    build_dir, reuse, threads, progress, runtime_target : optional
        As for :class:`~lnp_brian.simulation.simulator.Simulator`.

    Raises
    ------
    ValueError
        If a distance variable is not a differential-equation variable of the model,
        ``perturbed < 1``, or ``interval`` is not a multiple of dt.
    """

    def __init__(self, network: Network, device: str = "cpp_standalone", *, perturbed: int = 8,
                 duration="2 s", interval="10 ms", inputs=None, scales: dict | None = None,
                 trace_tau="10 ms", freeze_plasticity: bool = True, dt=None, build_dir=None,
                 reuse: bool = False, threads: int = 0, progress: bool = False,
                 runtime_target: str | None = None, record_spikes: bool = False, record: dict | None = None,
                 record_dt=None):
        net = _freeze(network) if freeze_plasticity else network
        self.network = net
        self.scales = default_scales(net.model) if scales is None else {k: float(v) for k, v in scales.items()}
        unknown = set(self.scales) - set(b2.Equations(net.model.neuron.equations).diff_eq_names)
        if unknown:
            raise ValueError(f"distance variables {sorted(unknown)} are not differential-equation "
                             "variables of the model")
        spiking = net.model.neuron.spiking
        tau = None if (trace_tau is None or not spiking) else seconds(trace_tau, "trace_tau")
        self.interval = seconds(interval, "interval")
        self.monitor = DivergenceMonitor(self.scales, self.interval, tau)
        self.perturbed = int(perturbed)
        if self.perturbed < 1:
            raise ValueError("perturbed must be >= 1")
        self.sim = Simulator(net, device, duration=duration, dt=dt, inputs=_shared(inputs, net.model),
                             copies=1 + self.perturbed, record_spikes=record_spikes, record=record,
                             record_dt=record_dt, build_dir=build_dir,
                             reuse=reuse, threads=threads, progress=progress,
                             runtime_target=runtime_target, extensions=[self.monitor])
        steps = self.interval / self.sim.dt
        if abs(steps - round(steps)) > 1e-6:
            raise ValueError(f"interval {self.interval} s must be a multiple of dt {self.sim.dt} s")

    def random_kicks(self, d0, rng: np.random.Generator) -> dict:
        """Kicks of scaled size ``d0`` in random directions over all distance variables of
        all neurons.

        Parameters
        ----------
        d0 : float or array (perturbed,)
            Size of each kick in the scaled norm (1 = 1 mV for a voltage, see
            :func:`default_scales`), one for all copies or one per perturbed copy.
        rng : numpy.random.Generator
            Source of the random directions.

        Returns
        -------
        dict
            Variable -> array (perturbed, n) in SI units, ready for :meth:`run`.
        """
        n, k = self.network.n, self.perturbed
        d0 = np.broadcast_to(np.asarray(d0, float), (k,))
        names = list(self.scales)
        direction = rng.normal(size=(k, len(names), n))
        direction /= np.linalg.norm(direction.reshape(k, -1), axis=1)[:, None, None]
        return {x: direction[:, j, :] * d0[:, None] * self.scales[x] for j, x in enumerate(names)}

    def run_free(self, network: Network | None = None, *, seed: int = 0, **overrides):
        """Simulate all copies without perturbation or renormalisation (monitor disabled).

        Values may differ per copy through the overrides (e.g. a per-copy ``bias`` for the
        noise probe).

        Parameters
        ----------
        network : Network, optional
            Same topology as the built one (default: the one built); plasticity is switched
            off if the build's is.
        seed : int
            Seed of the noise.
        **overrides
            Passed to :meth:`Simulator.run <lnp_brian.simulation.simulator.Simulator.run>`.

        Returns
        -------
        SimResult
            The run of all copies.
        """
        self.monitor.pending = {"enabled": False}
        res = self.sim.run(self._frozen(network), seed=seed, **overrides)
        res.info.pop("lyap_t", None), res.info.pop("lyap_d2", None)
        return res

    def _frozen(self, network):
        if network is None:
            return None
        if network.model.plasticity is not None and self.network.model.plasticity is None:
            return _freeze(network)
        return network

    def run(self, kicks: dict, *, t_kick=0.0, network: Network | None = None, seed: int = 0, **overrides):
        """Simulate once with new kicks and return the log growth per interval.

        Parameters
        ----------
        kicks : dict
            Variable -> array (perturbed, n) in SI units (e.g. from :meth:`random_kicks`);
            variables left out are not kicked. Every copy needs a non-zero kick.
        t_kick : float, Quantity or str
            When the kick is injected (a float is in seconds); before it the copies are held
            equal to the reference.
        network : Network, optional
            Same topology as the built one (default: the one built).
        seed : int
            Seed of the noise (shared by all copies).
        **overrides
            Passed to :meth:`Simulator.run <lnp_brian.simulation.simulator.Simulator.run>`.

        Returns
        -------
        times : ndarray (T,)
            Times (s) of the renormalisations after the kick.
        log_growth : ndarray (perturbed, T)
            Log growth of the scaled distance per interval; NaN where the perturbation
            collapsed to exactly zero.
        d0 : ndarray (perturbed,)
            Scaled size of each copy's kick.
        info : dict
            The run's ``SimResult.info`` (the whole result is kept as ``last_result``).

        Raises
        ------
        ValueError
            If a perturbed copy has a zero kick.
        """
        n, k = self.network.n, self.perturbed
        full, d0 = {}, np.ones(k + 1)
        norm2 = np.zeros(k)
        for x in self.scales:
            arr = np.zeros((k + 1, n))
            if x in kicks:
                arr[1:] = np.asarray(kicks[x], float).reshape(k, n)
            norm2 += ((arr[1:] / self.scales[x]) ** 2).sum(axis=1)
            full[x] = arr.ravel()
        if np.any(norm2 <= 0):
            raise ValueError("every perturbed copy needs a non-zero kick")
        d0[1:] = np.sqrt(norm2)
        t_kick = seconds(t_kick, "t_kick") if not isinstance(t_kick, float) else t_kick
        self.monitor.pending = {"kicks": full, "d0": d0, "t_kick": t_kick}
        res = self.sim.run(self._frozen(network), seed=seed, **overrides)
        self.last_result = res  # copy 0 is the unperturbed network: its spikes and traces are a probe
        t, d2 = res.info.pop("lyap_t"), res.info.pop("lyap_d2")
        after = t > t_kick + 0.5 * self.interval
        with np.errstate(divide="ignore", invalid="ignore"):
            logd = 0.5 * np.log(d2[1:, after] / d0[1:, None] ** 2)
        logd[~np.isfinite(logd)] = np.nan  # collapsed: the perturbation was erased exactly
        return t[after], logd, d0[1:], res.info


@dataclass
class LyapunovResult:
    """Maximal (finite-size) Lyapunov exponent from the two-trajectory method.

    Returned by :func:`max_exponent`; the fields below are also its attributes.

    Parameters
    ----------
    lambda_max, lambda_max_stderr : float
        Mean growth rate over perturbed copies and time, in 1/s, and its standard error over
        10 consecutive time blocks (copies share the reference trajectory, so the spread
        between copies alone would understate it).
    per_copy : array
        Estimate of each perturbed copy (1/s).
    perturbation : float
        Size d0 of the perturbation in the scaled norm (see :mod:`lnp_brian.lyapunov.finite_size`).
    interval : float
        Renormalisation interval (s).
    transient : float
        Time (s) after the kick before the growth is averaged.
    t_kick : float
        Time (s) of the kick (the ``warmup``).
    times, log_growth : arrays
        Renormalisation times (s) and log growth per interval (copies, T), the divergence
        history; ``np.nancumsum(log_growth, axis=1)`` is the log distance without rescaling.
    collapsed : int
        Intervals in which a perturbation was erased exactly (counted as missing data).
    method : dict
        How it was computed: method name, copies, duration, scales, spike-trace time
        constant, device, seed, compilations and run time.
    """

    lambda_max: float
    lambda_max_stderr: float
    per_copy: np.ndarray
    perturbation: float
    interval: float
    transient: float
    t_kick: float
    times: np.ndarray
    log_growth: np.ndarray
    collapsed: int
    method: dict = field(default_factory=dict)

    def convergence(self):
        """Running estimate of λ_max after the transient, to judge convergence.

        Returns
        -------
        times : ndarray (m,)
            Renormalisation times (s) after ``t_kick + transient``.
        estimate : ndarray (m,)
            Running mean growth rate up to each time (1/s), averaged over copies.
        """
        keep = self.times > self.t_kick + self.transient
        lg = self.log_growth[:, keep]
        counts = np.cumsum(np.isfinite(lg), axis=1)
        running = np.nancumsum(lg, axis=1) / np.maximum(counts, 1) / self.interval
        return self.times[keep], np.nanmean(running, axis=0)

    def to_dict(self) -> dict:
        """JSON-ready summary (exponents in 1/s, times in s; no divergence history).

        Returns
        -------
        dict
            ``lambda_max``, ``lambda_max_stderr``, ``unit``, ``per_copy``, ``perturbation``,
            ``interval_s``, ``transient_s``, ``t_kick_s``, ``collapsed_intervals`` and
            ``method``.
        """
        return {"lambda_max": self.lambda_max, "lambda_max_stderr": self.lambda_max_stderr,
                "unit": "1/s", "per_copy": self.per_copy.tolist(), "perturbation": self.perturbation,
                "interval_s": self.interval, "transient_s": self.transient, "t_kick_s": self.t_kick,
                "collapsed_intervals": self.collapsed, "method": self.method}


def estimate_exponent(times, logd, interval, start, blocks: int = 10):
    """Mean growth rate after ``start`` and its standard error.

    The copies share one reference trajectory, so their spread understates the uncertainty;
    the error is taken over ``blocks`` consecutive time blocks of the copy-averaged growth.

    Parameters
    ----------
    times : ndarray (T,)
        Renormalisation times (s).
    logd : ndarray (copies, T)
        Log growth per interval, NaN where the perturbation collapsed.
    interval : float
        Renormalisation interval (s).
    start : float
        Only intervals ending after this time (s) count.
    blocks : int
        Number of time blocks for the standard error.

    Returns
    -------
    mean : float
        Mean growth rate (1/s).
    stderr : float
        Its standard error over the time blocks (1/s; NaN with fewer than 2 blocks).
    per_copy : ndarray (copies,)
        Mean growth rate of each copy (1/s).
    collapsed : int
        Number of NaN intervals after ``start``.

    Raises
    ------
    ValueError
        If no interval ends after ``start``.

    Examples
    --------
    Two copies whose distance grows by ``e^0.05`` every 10 ms grow at 5/s:

    >>> import numpy as np
    >>> times = 0.01 * np.arange(1, 101)
    >>> mean, se, per_copy, collapsed = estimate_exponent(times, np.full((2, 100), 0.05), 0.01, 0.2)
    >>> round(mean, 6), round(se, 6), per_copy.round(6), collapsed
    (5.0, 0.0, array([5., 5.]), 0)
    """
    keep = times > start
    lg = logd[:, keep]
    if lg.shape[1] == 0:
        raise ValueError("no renormalisation interval after the transient: lengthen the duration")
    per_copy = np.nanmean(lg, axis=1) / interval
    series = np.nanmean(lg, axis=0) / interval
    series = series[np.isfinite(series)]
    mean = float(np.mean(series)) if series.size else float("nan")
    nb = min(blocks, series.size)
    if nb > 1:
        block_means = np.array([b.mean() for b in np.array_split(series, nb)])
        se = float(block_means.std(ddof=1) / np.sqrt(nb))
    else:
        se = float("nan")
    return mean, se, per_copy, int(np.isnan(lg).sum())


def max_exponent(network: Network, device: str = "cpp_standalone", *, duration="2 s",
                 perturbation: float = 1e-3, copies: int = 8, interval="10 ms", transient="200 ms",
                 warmup="0 ms", inputs=None, seed: int = 0, scales=None, trace_tau="10 ms",
                 engine: TwoTrajectory | None = None, **build) -> LyapunovResult:
    """Maximal Lyapunov exponent λ_max (1/s) of ``network`` by the two-trajectory method.

    ``copies`` perturbed copies start from random directions of scaled size ``perturbation``
    (see the module docstring for the scales) injected at ``warmup`` (time for the reference
    to reach its attractor); growth is averaged over intervals after ``warmup + transient``.
    The whole estimate is one build (one compilation on standalone devices); pass ``engine``
    (a :class:`TwoTrajectory`) to re-use a build. Same seed, same result.

    Parameters
    ----------
    network : Network
        The network (plasticity is switched off by default).
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    duration : Quantity or str
        Simulated time: warmup + transient + measurement (default ``"2 s"``).
    perturbation : float
        Size d0 in the scaled norm (1 = 1 mV for a voltage, 1 pA for a current; default
        1e-3); the exponent is the finite-size exponent at this size.
    copies : int
        Number of perturbed copies.
    interval : Quantity or str
        Renormalisation interval (a multiple of dt; default ``"10 ms"``).
    transient : Quantity or str
        Time after the kick before the growth is averaged (default ``"200 ms"``).
    warmup : Quantity or str
        Time before the kick (default ``"0 ms"``).
    inputs : optional
        Stimulus and/or noise; noise is made shared across copies.
    seed : int
        Seed of the noise and of the kick directions.
    scales : dict, optional
        Variable -> distance scale (SI); default :func:`default_scales`.
    trace_tau : Quantity, str or None
        Time constant of the filtered spike trains in the distance (default ``"10 ms"``).
    engine : TwoTrajectory, optional
        A build to re-use; its duration, copies, interval, inputs, scales, trace time
        constant and device then apply instead of the arguments.
    **build
        Further options of :class:`TwoTrajectory` (``dt``, ``build_dir``, ``reuse``,
        ``threads``, ``freeze_plasticity``, ...).

    Returns
    -------
    LyapunovResult
        λ_max and its standard error (1/s), per-copy estimates and the divergence history.

    Raises
    ------
    ValueError
        If no renormalisation interval ends after ``warmup + transient``, or as for
        :class:`TwoTrajectory`.
    """
    warm = seconds(warmup, "warmup")
    trans = seconds(transient, "transient")
    eng = engine or TwoTrajectory(network, perturbed=copies, duration=duration, interval=interval,
                                  inputs=inputs, scales=scales, trace_tau=trace_tau,
                                  device=device, **build)
    if engine is not None and network is not eng.network:
        net_arg = network
    else:
        net_arg = None
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    kicks = eng.random_kicks(perturbation, rng)
    t0 = time.perf_counter()
    times, logd, d0, info = eng.run(kicks, t_kick=warm, network=net_arg, seed=seed)
    mean, se, per_copy, collapsed = estimate_exponent(times, logd, eng.interval, warm + trans)
    return LyapunovResult(
        lambda_max=mean, lambda_max_stderr=se, per_copy=per_copy, perturbation=float(perturbation),
        interval=eng.interval, transient=trans, t_kick=warm, times=times, log_growth=logd,
        collapsed=collapsed,
        method={"name": "two-trajectory (Benettin) with renormalisation", "copies": eng.perturbed,
                "duration_s": eng.duration, "scales": eng.scales,
                "spike_trace_tau_s": eng.monitor.trace_tau, "device": eng.sim.device, "seed": seed,
                "compilations": eng.compilations, "run_seconds": time.perf_counter() - t0})


@dataclass
class FiniteSizeResult:
    """Finite-size Lyapunov exponents: λ(d0) for each perturbation size d0.

    Returned by :func:`finite_size_exponents`; the fields below are also its attributes.

    Parameters
    ----------
    sizes : ndarray (n_sizes,)
        Perturbation sizes d0 in the scaled norm.
    lambdas : ndarray (n_sizes,)
        Exponent at each size (1/s), the mean over its copies.
    stderr : ndarray (n_sizes,)
        Standard error over the copies of each size (1/s; NaN with one copy per size).
    per_copy : ndarray (n_sizes, copies_per_size)
        Estimate of each perturbed copy (1/s).
    interval : float
        Renormalisation interval (s).
    method : dict
        Copies per size, duration, scales, device, seed and compilations.
    """

    sizes: np.ndarray
    lambdas: np.ndarray
    stderr: np.ndarray
    per_copy: np.ndarray  # (sizes, copies per size)
    interval: float
    method: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary (exponents in 1/s).

        Returns
        -------
        dict
            ``sizes``, ``lambdas``, ``stderr``, ``unit``, ``interval_s`` and ``method``.
        """
        return {"sizes": self.sizes.tolist(), "lambdas": self.lambdas.tolist(), "stderr": self.stderr.tolist(),
                "unit": "1/s", "interval_s": self.interval, "method": self.method}


def finite_size_exponents(network: Network, sizes=(1e-3, 1e-2, 1e-1, 1.0), *, copies_per_size: int = 4,
                          device: str = "cpp_standalone", duration="2 s", interval="10 ms",
                          transient="200 ms", warmup="0 ms", inputs=None, seed: int = 0, scales=None,
                          trace_tau="10 ms", **build) -> FiniteSizeResult:
    """Finite-size Lyapunov exponents λ(d0) at several perturbation sizes, in one build.

    Each size has its own ``copies_per_size`` perturbed copies. Small sizes probe the
    infinitesimal regime (negative in stable chaos), large ones the finite-size regime.

    Parameters
    ----------
    network : Network
        The network (plasticity is switched off by default).
    sizes : sequence of float
        Perturbation sizes d0 in the scaled norm (1 = 1 mV for a voltage).
    copies_per_size : int
        Perturbed copies per size.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    duration : Quantity or str
        Simulated time: warmup + transient + measurement (default ``"2 s"``).
    interval : Quantity or str
        Renormalisation interval (default ``"10 ms"``).
    transient : Quantity or str
        Time after the kick before the growth is averaged (default ``"200 ms"``).
    warmup : Quantity or str
        Time before the kick (default ``"0 ms"``).
    inputs : optional
        Stimulus and/or noise; noise is made shared across copies.
    seed : int
        Seed of the noise and of the kick directions.
    scales : dict, optional
        Variable -> distance scale (SI); default :func:`default_scales`.
    trace_tau : Quantity, str or None
        Time constant of the filtered spike trains in the distance (default ``"10 ms"``).
    **build
        Further options of :class:`TwoTrajectory` (``dt``, ``build_dir``, ``reuse``, ...).

    Returns
    -------
    FiniteSizeResult
        λ (1/s) and its standard error for each size.
    """
    sizes = np.asarray(sizes, float)
    k = int(copies_per_size)
    eng = TwoTrajectory(network, perturbed=len(sizes) * k, duration=duration, interval=interval,
                        inputs=inputs, scales=scales, trace_tau=trace_tau, device=device, **build)
    warm, trans = seconds(warmup, "warmup"), seconds(transient, "transient")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
    kicks = eng.random_kicks(np.repeat(sizes, k), rng)
    times, logd, _, _ = eng.run(kicks, t_kick=warm, seed=seed)
    keep = times > warm + trans
    per_copy = (np.nanmean(logd[:, keep], axis=1) / eng.interval).reshape(len(sizes), k)
    lam = np.nanmean(per_copy, axis=1)
    se = np.nanstd(per_copy, axis=1, ddof=1) / np.sqrt(np.isfinite(per_copy).sum(axis=1)) if k > 1 \
        else np.full(len(sizes), np.nan)
    return FiniteSizeResult(sizes=sizes, lambdas=lam, stderr=se, per_copy=per_copy, interval=eng.interval,
                            method={"copies_per_size": k, "duration_s": eng.duration, "scales": eng.scales,
                                    "device": device, "seed": seed, "compilations": eng.compilations})


@dataclass
class PerNeuronExponents:
    """Finite-time exponent of a perturbation seeded at each neuron (1/s).

    Returned by :func:`per_neuron_exponents`; the fields below are also its attributes.

    Parameters
    ----------
    neurons : ndarray of int (m,)
        The perturbed neurons.
    lambdas : ndarray (m,)
        Finite-time exponent of each (1/s). Where the perturbation was erased it averages
        the intervals before that, and is NaN if it vanished within the first one.
    erased : ndarray of bool (m,)
        True where the perturbation vanished exactly within the window (the kicked neuron
        reset at the same step as in the reference: stable).
    window : float
        Measurement window (s).
    perturbation : float
        Kick size in the scaled norm (0.1 = 0.1 mV for a voltage).
    variable : str
        The perturbed state variable.
    compilations : int
        Compilations of the build (1 on a standalone device, 0 when reused or runtime).
    batches : int
        Number of runs.
    copies_per_batch : int
        Perturbed copies per run.
    wall_seconds : float
        Wall-clock time of all runs (s).
    """

    neurons: np.ndarray
    lambdas: np.ndarray
    erased: np.ndarray
    window: float
    perturbation: float
    variable: str
    compilations: int
    batches: int
    copies_per_batch: int
    wall_seconds: float

    @property
    def seconds_per_copy(self) -> float:
        """Wall-clock time per perturbed neuron (s)."""
        return self.wall_seconds / max(len(self.neurons), 1)

    def to_dict(self) -> dict:
        """JSON-ready summary (exponents in 1/s, NaN as None).

        Returns
        -------
        dict
            Every field, plus ``unit``, ``window_s`` and ``seconds_per_copy``.
        """
        return {"neurons": self.neurons.tolist(),
                "lambdas": [None if not np.isfinite(x) else float(x) for x in self.lambdas],
                "erased": self.erased.tolist(), "unit": "1/s",
                "window_s": self.window, "perturbation": self.perturbation, "variable": self.variable,
                "compilations": self.compilations, "batches": self.batches,
                "copies_per_batch": self.copies_per_batch, "wall_seconds": self.wall_seconds,
                "seconds_per_copy": self.seconds_per_copy}


def per_neuron_exponents(network: Network, device: str = "cpp_standalone", *, window="100 ms",
                         warmup="100 ms", perturbation: float = 0.1, variable: str | None = None,
                         neurons=None, batch_size: int | None = None, interval="10 ms", inputs=None,
                         seed: int = 0, memory_budget: float = 4e9, progress=None,
                         engine: TwoTrajectory | None = None, **build) -> PerNeuronExponents:
    """Per-neuron exponents λ_i by perturbing one neuron per copy.

    λ_i is the finite-time growth rate over ``window`` of a perturbation of size
    ``perturbation`` applied to ``variable`` of neuron i at ``warmup``, renormalised every
    ``interval``. Neurons are perturbed in batches of copies in one build (one compilation).

    Parameters
    ----------
    network : Network
        The network (plasticity is switched off by default).
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    window : Quantity or str
        Measurement time after the kick (default ``"100 ms"``).
    warmup : Quantity or str
        Time before the kick (default ``"100 ms"``).
    perturbation : float
        Kick size in scaled units (0.1 means 0.1 mV for a voltage).
    variable : str, optional
        State variable to perturb (default ``v`` if the model has it, else the first
        differential-equation variable); the distance uses this variable only.
    neurons : array of int, optional
        Neurons to perturb (default: all).
    batch_size : int, optional
        Perturbed copies per run (default: what fits ``memory_budget``, at most 256).
    interval : Quantity or str
        Renormalisation interval (default ``"10 ms"``).
    inputs : optional
        Stimulus and/or noise; noise is made shared across copies.
    seed : int
        Seed of the noise.
    memory_budget : float
        Bytes the build may use when ``batch_size`` is not given (default 4e9).
    progress : callable, optional
        Called as ``progress(done, total)`` after each batch.
    engine : TwoTrajectory, optional
        A build to re-use (its copies are the batch size; its scales must include
        ``variable``).
    **build
        Further options of :class:`TwoTrajectory` (``dt``, ``build_dir``, ``reuse``, ...).

    Returns
    -------
    PerNeuronExponents
        λ_i (1/s) and which perturbations were erased.
    """
    net = network
    variable = variable or ("v" if "v" in default_scales(net.model) else next(iter(default_scales(net.model))))
    neurons = np.arange(net.n) if neurons is None else np.asarray(neurons, int)
    if batch_size is None:
        per_copy = 60.0 * len(net.pre) + 400.0 * net.n  # bytes per copy, measured order of magnitude
        batch_size = int(max(1, min(len(neurons), memory_budget // per_copy, 256)))
    warm, win = seconds(warmup, "warmup"), seconds(window, "window")
    step = seconds(interval, "interval")
    eng = engine or TwoTrajectory(net, device=device, perturbed=batch_size,
                                  duration=(warm + win + step) * b2.second,
                                  interval=interval, inputs=inputs, scales={variable: default_scales(net.model)[variable]},
                                  trace_tau=None, **build)
    scale = eng.scales[variable]
    lambdas = np.full(len(neurons), np.nan)
    erased = np.zeros(len(neurons), bool)
    t0 = time.perf_counter()
    batches = int(np.ceil(len(neurons) / eng.perturbed))
    for b in range(batches):
        chunk = neurons[b * eng.perturbed:(b + 1) * eng.perturbed]
        kick = np.zeros((eng.perturbed, net.n))
        targets = np.resize(chunk, eng.perturbed)  # pad the last batch by repeating (ignored)
        kick[np.arange(eng.perturbed), targets] = perturbation * scale
        times, logd, _, _ = eng.run({variable: kick}, t_kick=warm, seed=seed)
        # finite-time exponent: mean log growth per interval over the window (intervals after
        # the perturbation was erased exactly at a reset are NaN and left out)
        inside = times <= warm + win + 0.5 * eng.interval
        part = logd[:len(chunk), inside]
        sl = slice(b * eng.perturbed, b * eng.perturbed + len(chunk))
        erased[sl] = np.isnan(part).any(axis=1)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: erased at once
            lambdas[sl] = np.nanmean(part, axis=1) / eng.interval
        if progress is not None:
            progress(min((b + 1) * eng.perturbed, len(neurons)), len(neurons))
    return PerNeuronExponents(neurons=neurons, lambdas=lambdas, erased=erased, window=win,
                              perturbation=float(perturbation),
                              variable=variable, compilations=eng.compilations, batches=batches,
                              copies_per_batch=eng.perturbed, wall_seconds=time.perf_counter() - t0)


def ode_system(network: Network):
    """The model's neuron equations as a NumPy ODE system (for QR spectra of smooth models).

    ``f`` and ``jac`` are built symbolically (SymPy) from the Brian2 equations with constants
    and the first neuron's parameters substituted (SI units); pass them to
    :func:`~lnp_brian.lyapunov.spectrum.qr_spectrum_ode`. Only for single uncoupled ODE
    models (no threshold, no synapses, no input).

    Parameters
    ----------
    network : Network
        A network of a smooth, uncoupled model without input.

    Returns
    -------
    names : list of str
        State variable names (sorted), the order of the components of ``x``.
    f : callable
        ``f(x) -> dx/dt`` (SI units per second).
    jac : callable
        ``jac(x) -> J`` (n, n) in 1/s.
    x0 : ndarray (n,)
        The first neuron's initial state (0 where none is given).

    Raises
    ------
    ValueError
        If the model spikes, has synapses or an input, or its equations contain symbols
        that are neither variables nor known values.
    """
    import sympy
    from brian2.parsing.sympytools import str_to_sympy

    spec = network.model
    if spec.neuron.spiking or len(network.pre) or spec.neuron.input is not None:
        raise ValueError("ode_system needs a smooth, uncoupled model without input "
                         "(no threshold, no synapses, no neuron.input)")
    eqs = b2.Equations(spec.neuron.equations)
    names = sorted(eqs.diff_eq_names)
    values = {k: float(q) for k, q in spec.neuron.constants.items()}
    values.update({k: float(v[0]) for k, v in network.params.items()})
    subexpr = {e.varname: str_to_sympy(e.expr.code) for e in eqs.values() if e.type == "subexpression"}
    symbols = [sympy.Symbol(x, real=True) for x in names]
    exprs = []
    for x in names:
        e = str_to_sympy(eqs[x].expr.code)
        for _ in range(len(subexpr) + 1):  # subexpressions may refer to each other
            e = e.subs({sympy.Symbol(k, real=True): v for k, v in subexpr.items()})
            e = e.subs({sympy.Symbol(k): v for k, v in subexpr.items()})
        e = e.subs({sympy.Symbol(k, real=True): v for k, v in values.items()})
        e = e.subs({sympy.Symbol(k): v for k, v in values.items()})
        e = e.subs({sympy.Symbol(x_): s_ for x_, s_ in zip(names, symbols)})
        exprs.append(e)
    free = set().union(*(e.free_symbols for e in exprs)) - set(symbols)
    if free:
        raise ValueError(f"cannot evaluate the equations: unknown symbols {sorted(map(str, free))}")
    F = sympy.Matrix(exprs)
    f_num = sympy.lambdify([symbols], list(exprs), "numpy")
    j_num = sympy.lambdify([symbols], F.jacobian(symbols), "numpy")
    x0 = np.array([network.initial[x][0] if x in network.initial else 0.0 for x in names])
    return (names, lambda x: np.asarray(f_num(x), float), lambda x: np.asarray(j_num(x), float), x0)
