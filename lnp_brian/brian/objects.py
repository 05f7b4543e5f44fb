"""Brian2 objects for a model: the one place where equations are composed.

Given a :class:`~lnp_brian.model.spec.ModelSpec`, a synapse list and the inputs, this module
creates the NeuronGroup, Synapses, noise, stimulus and monitor objects in whatever Brian2
device is active. What is *structure* (sizes, synapse list, equations, duration) is fixed
here; every *value* (parameters, weights, masks, ``active`` flags, initial state, stimulus
arrays, the noise seed) is a Brian2 variable that the backends set before each run, so a
standalone binary compiled once can be re-run with new values.

Added to the user's neuron equations:

- one ``name : unit (constant)`` line per heterogeneous parameter;
- ``active : boolean (constant)`` and the threshold ``(<threshold>) and active``;
- ``<input> = I_bias + I_noise + I_stim`` with the terms the inputs need.

Added to the synapse model: ``w`` (weight), ``mask : 1 (constant)`` (where the code reads
it) and one line per per-synapse parameter. With ``copies > 1`` the network is replicated block-diagonally in one
group (neuron ``c*N + j`` is neuron ``j`` of copy ``c``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import brian2 as b2
from brian2.units.fundamentalunits import Quantity

from ..core.units import unit_string
from .inputs import OUNoise, PoissonNoise, Stimulus
from .integrators import exact

if TYPE_CHECKING:  # the model layer sits above this one and hands its ModelSpec down
    from ..model.spec import ModelSpec

__all__ = ["BrianObjects", "create_objects", "neuron_equations"]

NEURONS, SYN, SYN_PLASTIC, NOISE, SEED = "neurons", "syn", "syn_plastic", "noise", "seedholder"
SPIKES, STATES, STIM = "spikes", "states", "stim"
INPUTS, INPUT_SYN, INPUT_RATES, INPUT_SPIKES = "inputs", "input_syn", "input_rates", "input_spikes"


@dataclass
class BrianObjects:
    """The Brian2 objects of one network build, as made by :func:`create_objects`.

    Parameters
    ----------
    neurons : brian2.NeuronGroup
        All neurons, ``copies * n`` of them (neuron ``c*n + j`` is neuron ``j`` of copy ``c``).
    synapses : dict of str to brian2.Synapses, optional
        The recurrent synapses by name: ``"syn"`` (static) and ``"syn_plastic"``.
    syn_index : dict of str to ndarray, optional
        For each name in ``synapses``, the indices of its synapses in the network's synapse
        list (one copy).
    noise_group : brian2.NeuronGroup, optional
        The group generating linked noise (OU noise, or Poisson noise shared by copies).
    poisson_input : brian2.PoissonInput, optional
        The Poisson shot-noise sources.
    stim : brian2.TimedArray, optional
        The stimulus currents (called ``stim`` in the equations).
    seedholder : brian2.NeuronGroup, optional
        One-neuron group holding the shared ``noise_seed`` variable.
    spike_monitor : brian2.SpikeMonitor, optional
        Spikes of the neurons.
    state_monitor : brian2.StateMonitor, optional
        Recorded state variables.
    input_group : brian2.NeuronGroup, optional
        Poisson input neurons of a :class:`~lnp_brian.brian.inputs.PoissonStimulus`.
    input_synapses : brian2.Synapses, optional
        Synapses from the input neurons to the network.
    input_rates : brian2.TimedArray, optional
        Rates of the input neurons (Hz).
    input_monitor : brian2.SpikeMonitor, optional
        Spikes of the input neurons.
    record_indices : ndarray, optional
        Neuron indices (all copies) that ``state_monitor`` records.
    extra : list, optional
        Further Brian2 objects added by extensions (e.g. Lyapunov monitors).
    """

    neurons: b2.NeuronGroup
    synapses: dict = field(default_factory=dict)  # name -> Synapses
    syn_index: dict = field(default_factory=dict)  # name -> indices into the network's synapses
    noise_group: b2.NeuronGroup | None = None
    poisson_input: object | None = None
    stim: b2.TimedArray | None = None
    seedholder: b2.NeuronGroup | None = None
    spike_monitor: b2.SpikeMonitor | None = None
    state_monitor: b2.StateMonitor | None = None
    input_group: b2.NeuronGroup | None = None
    input_synapses: b2.Synapses | None = None
    input_rates: b2.TimedArray | None = None
    input_monitor: b2.SpikeMonitor | None = None
    record_indices: np.ndarray | None = None
    extra: list = field(default_factory=list)

    @property
    def all(self) -> list:
        """The objects that go into a ``brian2.Network`` (TimedArrays and absent ones left out)."""
        objs = [self.neurons, *self.synapses.values(), self.noise_group, self.poisson_input,
                self.input_group, self.input_synapses, self.input_monitor,
                self.seedholder, self.spike_monitor, self.state_monitor, *self.extra]
        return [o for o in objs if o is not None]


def _decl(name: str, dim, flags: str = "constant") -> str:
    return f"{name} : {unit_string(dim)}" + (f" ({flags})" if flags else "")


def neuron_equations(spec: ModelSpec, noise=None, stim: Stimulus | None = None,
                     linked_noise: bool = False, n: int = 1) -> str:
    """The complete neuron equations Brian2 gets for ``spec`` with these inputs.

    The user's equations plus one ``name : unit (constant)`` line per heterogeneous
    parameter, ``active`` (spiking models), and the input current
    ``<input> = I_bias + I_noise + I_stim`` with the terms the inputs need.

    Parameters
    ----------
    spec : ModelSpec
        The model.
    noise : PoissonNoise or OUNoise, optional
        Background noise (adds ``I_noise``).
    stim : Stimulus, optional
        Stimulus currents (adds ``I_stim``).
    linked_noise : bool, optional
        ``I_noise`` is linked from a separate noise group instead of integrated in the
        neurons (required for OU noise).
    n : int, optional
        Neurons per copy; a stimulus with one channel per neuron feeds neuron ``i`` channel
        ``i % n``.

    Returns
    -------
    str
        The equations, one per line.

    Raises
    ------
    ValueError
        OU noise with ``linked_noise=False``.
    """
    nspec = spec.neuron
    lines = [nspec.equations]
    lines += [_decl(name, d.dim) for name, d in nspec.parameters.items()]
    if nspec.spiking:
        lines.append("active : boolean (constant)")
    if nspec.input is not None:
        unit = unit_string(nspec.input_dim)
        terms = ["I_bias"]
        lines.append(f"I_bias : {unit} (constant)")
        if noise is not None:
            terms.append("I_noise")
            if linked_noise:
                lines.append(f"I_noise : {unit} (linked)")
            elif isinstance(noise, PoissonNoise):
                lines.append(f"dI_noise/dt = -I_noise / noise_tau : {unit}")
                lines.append("noise_gain : 1 (constant)")
            else:  # OU noise is always generated in its own group (stochastic integration)
                raise ValueError("OU noise must be linked from its own group")
        if stim is not None:
            terms.append("I_stim")
            if stim.weights is None:
                lines.append(f"I_stim = {STIM}(t, i % {n}) : {unit}")
            else:
                mix = " + ".join(f"stim_w{k} * {STIM}(t, {k})" for k in range(stim.n_channels))
                lines.append(f"I_stim = {mix} : {unit}")
                lines += [f"stim_w{k} : 1 (constant)" for k in range(stim.n_channels)]
        lines.append(f"{nspec.input} = {' + '.join(terms)} : {unit}")
    return "\n".join(lines)


def _noise_group(noise, size: int, unit: str, name: str):
    """A group generating the noise current, linked into the neurons."""
    if isinstance(noise, OUNoise):
        eqs = (f"dI_noise/dt = (noise_mean - I_noise) / noise_tau"
               f" + noise_gain * noise_std * sqrt(2 / noise_tau) * xi : {unit}\n"
               "noise_gain : 1 (constant)")
        group = b2.NeuronGroup(size, eqs, method="euler", name=name, namespace={
            "noise_mean": noise.mean, "noise_std": noise.std, "noise_tau": noise.tau})
        group.I_noise = noise.mean
        return group, None
    group = b2.NeuronGroup(size, f"dI_noise/dt = -I_noise / noise_tau : {unit}\nnoise_gain : 1 (constant)",
                           method=exact, name=name, namespace={"noise_tau": noise.tau})
    return group, _poisson_input(group, noise)


def _poisson_input(group, noise: PoissonNoise):
    return b2.PoissonInput(group, "I_noise", int(noise.n), noise.rate,
                           weight=f"noise_gain * {float(noise.weight)!r} * {unit_string(noise.dim)}")


def create_objects(spec: ModelSpec, n: int, pre, post, plastic, *, delays=None, noise=None,
                   stim: Stimulus | None = None, spikes=None, copies: int = 1, record: dict | None = None,
                   record_dt=None, record_spikes: bool = True, unique_names: bool = False,
                   extra_equations: str = "", extra_reset: str = "",
                   extra_namespace: dict | None = None) -> BrianObjects:
    """Create the Brian2 objects (in the active device) for one network topology.

    Only structure is fixed here; values (parameters, weights, initial state, ...) are
    Brian2 variables that the backends set before each run.

    Parameters
    ----------
    spec : ModelSpec
        The model.
    n : int
        Neurons per copy.
    pre, post : array_like of int
        Presynaptic and postsynaptic neuron of each synapse of one copy.
    plastic : array_like of bool
        Per synapse, whether it is plastic (goes into ``"syn_plastic"``).
    delays : float or array_like, optional
        None (no delay), one value for all synapses, or one per synapse, in seconds (SI). A
        single value is compiled in; per-synapse values are set by the backends.
    noise : PoissonNoise or OUNoise, optional
        Background noise current.
    stim : Stimulus, optional
        Stimulus currents.
    spikes : PoissonStimulus, optional
        Poisson input neurons with input synapses, shared by all copies.
    copies : int, optional
        Number of copies of the network, replicated block-diagonally in one group
        (default 1).
    record : dict, optional
        Variable names to neuron indices (within one copy) or True for all; recorded in
        every copy.
    record_dt : Quantity, optional
        Sampling interval of the state monitor, in seconds (default: the simulation ``dt``).
    record_spikes : bool, optional
        Add a spike monitor (spiking models; default True).
    unique_names : bool, optional
        Append ``*`` to the object names so several runtime simulators can coexist in one
        process (default False).
    extra_equations : str, optional
        Equations added to the neurons before the group is created (for extensions such as
        the Lyapunov divergence monitor).
    extra_reset : str, optional
        Code added to the reset of spiking models.
    extra_namespace : dict, optional
        Names added to the neurons' namespace.

    Returns
    -------
    BrianObjects
        The created objects.

    Raises
    ------
    ValueError
        A recorded neuron index outside ``[0, n)``.
    """
    suffix = "*" if unique_names else ""
    nspec = spec.neuron
    N = n * copies
    linked = noise is not None and (isinstance(noise, OUNoise) or (noise.shared and copies > 1))
    namespace = dict(nspec.constants)
    objs = BrianObjects(neurons=None)  # type: ignore[arg-type]
    if noise is not None and not linked:
        namespace["noise_tau"] = noise.tau
    if stim is not None:
        # a private copy: runtime re-runs write new stimulus values into it in place
        values = Quantity(np.array(stim.values, dtype=float, copy=True), dim=nspec.input_dim)
        objs.stim = b2.TimedArray(values, dt=stim.dt, name=STIM + suffix)
        namespace[STIM] = objs.stim  # the equations call it by the fixed name "stim"
    eqs = neuron_equations(spec, noise, stim, linked_noise=linked, n=n)
    if extra_equations:
        eqs += "\n" + extra_equations
    namespace.update(extra_namespace or {})
    threshold = f"({nspec.threshold}) and active" if nspec.spiking else None
    reset = "\n".join(part for part in (nspec.reset, extra_reset if nspec.spiking else "") if part) or None
    kwargs = {}
    if nspec.refractory is not None:
        kwargs["refractory"] = nspec.refractory
    if nspec.method is not None:  # Brian2's exact integrator, its results kept on disk (integrators.py)
        kwargs["method"] = exact if nspec.method == "exact" else nspec.method
    G = b2.NeuronGroup(N, eqs, threshold=threshold, reset=reset, namespace=namespace,
                       name=NEURONS + suffix, **kwargs)
    if nspec.spiking:
        G.active = True
    objs.neurons = G

    if noise is not None:
        unit = unit_string(nspec.input_dim)
        if linked:
            size = n if (noise.shared or copies == 1) else N
            objs.noise_group, objs.poisson_input = _noise_group(noise, size, unit, NOISE + suffix)
            objs.noise_group.noise_gain = 1
            index = np.arange(N) % size
            G.I_noise = b2.linked_var(objs.noise_group, "I_noise", index=index)
        else:
            G.noise_gain = 1
            objs.poisson_input = _poisson_input(G, noise)

    pre, post, plastic = np.asarray(pre), np.asarray(post), np.asarray(plastic, bool)
    if spec.synapse is not None and len(pre):
        for name, sel in ((SYN, ~plastic), (SYN_PLASTIC, plastic)):
            idx = np.flatnonzero(sel)
            if not len(idx):
                continue
            S = _synapses(spec, G, name + suffix, plastic=name == SYN_PLASTIC, delays=delays)
            offs = (np.arange(copies) * n)[:, None]
            S.connect(i=(pre[idx][None, :] + offs).ravel(), j=(post[idx][None, :] + offs).ravel())
            if "mask" in S.variables:
                S.mask = 1
            objs.synapses[name] = S
            objs.syn_index[name] = idx

    if spikes is not None:
        _input_objects(objs, spec, spikes, G, n, copies, delays, suffix)

    objs.seedholder = b2.NeuronGroup(1, "noise_seed : integer (shared, constant)", name=SEED + suffix)
    if record_spikes and nspec.spiking:
        objs.spike_monitor = b2.SpikeMonitor(G, name=SPIKES + suffix)
    if record:
        variables, idx = _record_indices(record, n, copies)
        objs.record_indices = idx
        kw = {"dt": record_dt} if record_dt is not None else {}
        objs.state_monitor = b2.StateMonitor(G, variables, record=idx, name=STATES + suffix, **kw)
    return objs


def _input_objects(objs, spec, spikes, G, n, copies, delays, suffix):
    """Poisson input neurons driven by a rate TimedArray, shared by all copies, and input
    synapses with the model's static synapse code."""
    objs.input_rates = b2.TimedArray(np.array(spikes.rates, dtype=float, copy=True) * b2.Hz, dt=spikes.dt,
                                     name=INPUT_RATES + suffix)
    objs.input_group = b2.NeuronGroup(spikes.n_channels, "rate = input_rates(t, i) : Hz",
                                      threshold="rand() < rate * dt", namespace={"input_rates": objs.input_rates},
                                      name=INPUTS + suffix)
    k, j, _ = spikes.synapses()
    S = _synapses(spec, G, INPUT_SYN + suffix, plastic=False, delays=delays, source=objs.input_group)
    offs = (np.arange(copies) * n)[:, None]
    S.connect(i=np.tile(k, copies), j=(j[None, :] + offs).ravel())
    if "mask" in S.variables:
        S.mask = 1
    objs.input_synapses = S
    objs.input_monitor = b2.SpikeMonitor(objs.input_group, name=INPUT_SPIKES + suffix)


def _record_indices(record: dict, n: int, copies: int):
    """One index set for all recorded variables (Brian2 StateMonitor records each variable
    at the same indices): the union of the requested ones, in every copy."""
    wanted = set()
    for var, idx in record.items():
        wanted.update(range(n) if idx is True else np.atleast_1d(np.asarray(idx, int)).tolist())
    base = np.array(sorted(wanted), dtype=int)
    if base.size and (base.min() < 0 or base.max() >= n):
        raise ValueError(f"record indices must lie in [0, {n})")
    full = (base[None, :] + (np.arange(copies) * n)[:, None]).ravel()
    return sorted(record), full


def uses_mask(spec: ModelSpec, plastic: bool) -> bool:
    """Whether the static (or plastic) synapse code reads ``mask``; only then is it declared
    (reading it on every spike costs memory bandwidth)."""
    part = spec.plasticity if plastic else spec.synapse
    code = " ".join(c or "" for c in (part.on_pre, part.on_post, part.model))
    return re.search(r"\bmask\b", code) is not None


def _synapses(spec: ModelSpec, G, name: str, *, plastic: bool, delays, source=None):
    sspec, pspec = spec.synapse, spec.plasticity
    lines = [_decl("w", sspec.weight_dim, "" if plastic else "constant")]
    if uses_mask(spec, plastic):
        lines.append("mask : 1 (constant)")
    lines += [_decl(k, d.dim) for k, d in sspec.parameters.items()]
    namespace = dict(sspec.constants)
    if plastic:
        lines += [_decl(k, d.dim) for k, d in pspec.parameters.items()]
        lines.append(pspec.model)
        on_pre, on_post = pspec.on_pre, pspec.on_post
        namespace.update(pspec.constants)
    else:
        lines.append(sspec.model)
        on_pre, on_post = sspec.on_pre, sspec.on_post
    namespace.update(spec.neuron.constants)
    kwargs = {}
    if delays is not None and np.ndim(delays) == 0:
        kwargs["delay"] = float(delays) * b2.second
    return b2.Synapses(G if source is None else source, G, model="\n".join(line for line in lines if line),
                       on_pre=on_pre,
                       on_post=on_post, namespace=namespace, name=name, **kwargs)
