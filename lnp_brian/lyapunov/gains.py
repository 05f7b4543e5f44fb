"""Open-loop neuron gains by replay, and the Siegert (diffusion) theory of LIF gains.

The pruning method linearises the network around its operating point with the gain
g_i = dr_i/dI_i (Hz/A): the slope of neuron i's *own* transfer function. Measuring it by
adding current to all neurons of the coupled network at once (closed loop, the old
:mod:`lnp_brian.lyapunov.probe`) mixes every neuron's response with the network's reaction to it.
Here it is measured open loop, by **replay**:

1. a coupled run records every neuron's recurrent synaptic input (the state variable the
   synapses add to, :func:`synaptic_target`; :func:`record_settings` says what to give the
   :class:`~lnp_brian.simulation.simulator.Simulator`, :func:`recorded_input` extracts it);
2. :class:`ReplayGains` simulates every neuron *uncoupled* (no recurrent synapses), driven
   by its recorded synaptic current (a :class:`~lnp_brian.brian.inputs.Stimulus` with one channel
   per neuron) plus fresh background noise of the same kind, in three copies with extra
   currents −δ, 0, +δ that all see the same noise (common random numbers);
   g = (r(+δ) − r(−δ)) / 2δ. One compiled build serves every re-run (new recordings, masks,
   parameters, seeds).

For an uncoupled LIF population driven by noise only, the gain has a closed form: the
Siegert formula (Brunel 2000) with the Fourcaud–Brunel correction for synaptic filtering
(:func:`siegert_rate`, :func:`siegert_gain`, :func:`lif_input_statistics`);
:func:`compare_with_siegert` checks a replay against it.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from brian2 import second
from scipy.special import dawsn, erfcx

from ..brian.inputs import OUNoise, PoissonNoise, Stimulus, default_input
from ..core.units import parse_quantity, unit_string
from ..model.spec import ModelSpec
from ..network.network import Network
from ..simulation.simulator import Simulator, SimulatorOwner

__all__ = ["synaptic_target", "record_settings", "recorded_input", "ReplayGains", "GainResult",
           "siegert_rate", "siegert_gain", "lif_input_statistics", "lif_constants", "InputStatistics",
           "compare_with_siegert", "FB_ALPHA"]

#: Fourcaud & Brunel (2002): α = √2 ``|ζ(1/2)|``, the boundary shift for filtered noise
FB_ALPHA = float(np.sqrt(2.0) * 1.4603545088095868)

# "<name>_post <op>= ..." or "<name>_post = ..." in a synapse's on_pre code
_POST_WRITE = re.compile(r"^\s*([A-Za-z_]\w*)_post\s*(?:[-+*/]?=)(?!=)")


# ------------------------------------------------------------------------------ recording
def synaptic_target(spec: ModelSpec) -> str:
    """The neuron state variable the recurrent synapses add to (e.g. ``"I_syn"``).

    Parsed from the ``on_pre`` code of the model's synapses (static and plastic): the
    variable written as ``<name>_post``. Replay by current needs it to be a current that
    acts like the input: a state variable with the model's input unit (``neuron.input_unit``)
    that enters every other neuron equation exactly as the input current does (same partial
    derivative, e.g. ``R_m/tau_m`` in ``dv/dt = (v_rest - v + R_m*(I_syn + I_in))/tau_m``),
    and whose own equation decays to 0 when nothing is added (so the replayed copy, where
    nothing writes it, holds it at 0 and the recorded values come in through the input).

    Parameters
    ----------
    spec : ModelSpec
        The model (its neuron equations, input and synapse code).

    Returns
    -------
    str
        The variable name.

    Raises
    ------
    ValueError
        Naming the model and what was found, when the model has no input current or no
        synapses, writes several or no postsynaptic variables, or writes one that is not
        such a current (e.g. ``v_post += w``, or a conductance).
    """
    from brian2 import Equations

    name = spec.name
    if spec.neuron.input is None:
        raise ValueError(f"model {name!r} has no input current (neuron.input): nothing to replay into")
    if spec.synapse is None or spec.synapse.on_pre is None:
        raise ValueError(f"model {name!r} has no spiking synapses (synapse.on_pre): nothing to record and replay")
    codes = [spec.synapse.on_pre]
    if spec.plasticity is not None and spec.plasticity.on_pre:
        codes.append(spec.plasticity.on_pre)
    written = []
    for code in codes:
        for stmt in re.split(r"[\n;]", code):
            m = _POST_WRITE.match(stmt)
            if m and m.group(1) not in written:
                written.append(m.group(1))
    if len(written) != 1:
        found = ", ".join(f"{w}_post" for w in written) or "no <variable>_post"
        raise ValueError(f"model {name!r}: replay needs the synapses to write exactly one postsynaptic "
                         f"current; synapse on_pre writes {found}")
    target = written[0]
    eqs = Equations(spec.neuron.equations)
    in_unit = unit_string(spec.neuron.input_dim)
    if target not in eqs.names:
        raise ValueError(f"model {name!r}: the synapses write {target}_post, and {target!r} is not a "
                         f"neuron state variable")
    if eqs[target].dim is not spec.neuron.input_dim:
        raise ValueError(f"model {name!r}: the synapses write {target!r} ({unit_string(eqs[target].dim)}), "
                         f"not a current in the input unit {in_unit}: replay by current is not possible "
                         f"for synapses that write {target!r} directly")
    _check_enters_like_input(spec, eqs, target)
    return target


def _check_enters_like_input(spec: ModelSpec, eqs, target: str) -> None:
    """Raise unless ``target`` enters every other equation exactly like the input current
    and its own equation is homogeneous (0 when it is 0)."""
    import sympy
    from brian2.parsing.sympytools import str_to_sympy

    inp = spec.neuron.input
    subs = {}
    for sub_name in eqs.subexpr_names:  # substitute subexpressions (in order of definition)
        subs[sympy.Symbol(sub_name, real=True)] = str_to_sympy(eqs[sub_name].expr.code)
    x, u = sympy.Symbol(target, real=True), sympy.Symbol(inp, real=True)
    enters = False
    for var in eqs.diff_eq_names:
        expr = str_to_sympy(eqs[var].expr.code)
        for _ in range(len(subs) + 1):
            expr = expr.subs(subs)
        if var == target:
            if sympy.simplify(expr.subs(x, 0)) != 0:
                raise ValueError(f"model {spec.name!r}: the equation of {target!r} is not 0 at {target} = 0 "
                                 f"(d{target}/dt = {eqs[var].expr.code}); its replayed copy would not "
                                 "stay at 0")
            continue
        dx, du = sympy.diff(expr, x), sympy.diff(expr, u)
        if sympy.simplify(dx - du) != 0:
            raise ValueError(f"model {spec.name!r}: {target!r} does not enter d{var}/dt the way the input "
                             f"{inp!r} does (d/d{target} = {dx}, d/d{inp} = {du}): replay by current is "
                             "not possible")
        enters = enters or dx != 0
    if not enters:
        raise ValueError(f"model {spec.name!r}: neither {target!r} nor {inp!r} drives any other neuron "
                         "variable")


def record_settings(spec: ModelSpec, record_dt="0.5 ms") -> dict:
    """Keyword arguments for a :class:`~lnp_brian.simulation.simulator.Simulator` (or any engine that
    passes them on) that make a coupled run record the synaptic current of every neuron.

    Parameters
    ----------
    spec : ModelSpec
        The model of the coupled network.
    record_dt : Quantity or str
        Sampling interval of the recording (s); the replay holds each sample for this long.

    Returns
    -------
    dict
        ``{"record": {<target>: True}, "record_dt": record_dt}``.

    Memory: 8 bytes x neurons x copies x duration / record_dt (1000 neurons, 2 s, 0.5 ms:
    32 MB per copy; the Simulator records every copy).
    """
    return {"record": {synaptic_target(spec): True}, "record_dt": record_dt}


def recorded_input(result, spec: ModelSpec, copy: int = 0):
    """The recorded synaptic current of every neuron of one copy.

    Parameters
    ----------
    result : SimResult
        Of a run made with :func:`record_settings`.
    spec : ModelSpec
        The model of the recorded network.
    copy : int
        Which copy of a replicated build (copy 0: the reference trajectory).

    Returns
    -------
    values : ndarray (T, N)
        Synaptic current in SI units of the input (A for hrsnn); row k is the sample at
        ``k * dt``.
    dt : float
        Sampling interval (s).

    Raises
    ------
    KeyError
        If the synaptic current was not recorded.
    ValueError
        If it was recorded for only some neurons, in another unit, or with fewer than 2
        samples.
    IndexError
        If ``copy`` is out of range.
    """
    target = synaptic_target(spec)
    if target not in result.traces:
        raise KeyError(f"{target!r} was not recorded (recorded: {', '.join(result.traces) or 'none'}); "
                       "pass record_settings(spec) to the simulator")
    idx = np.asarray(result.record_indices)
    if len(idx) != result.n or np.any(idx != np.arange(result.n)):
        raise ValueError(f"{target!r} was recorded for {len(idx)} of {result.n} neurons; replay needs all")
    unit = result.trace_units.get(target)
    if unit is not None and unit != unit_string(spec.neuron.input_dim):
        raise ValueError(f"recorded {target!r} is in {unit}, the model's input in "
                         f"{unit_string(spec.neuron.input_dim)}")
    if not 0 <= copy < result.copies:
        raise IndexError(f"copy {copy} of a result with {result.copies} copies")
    t = np.asarray(result.trace_t)
    if len(t) < 2:
        raise ValueError("the recording has fewer than 2 samples")
    dt = float(t[1] - t[0])
    # traces are (copies, neurons, T); the Stimulus wants (T, channels)
    return np.ascontiguousarray(np.asarray(result.traces[target][copy], float).T), dt


# ------------------------------------------------------------------------------ replay
@dataclass
class GainResult:
    """Open-loop gains of one replay (returned by :meth:`ReplayGains.run`).

    Parameters
    ----------
    rates : ndarray (N,)
        Firing rate (Hz) of the unbiased copy after the transient.
    gains : ndarray (N,)
        (r(+δ) − r(−δ)) / 2δ in Hz/A (Hz per input unit); negative values (noise) set to 0;
        0 for inactive neurons.
    rates_minus, rates_plus : ndarray (N,)
        Rates (Hz) with the extra current −δ and +δ.
    bias : float
        δ (A).
    info : dict
        ``fraction_zero`` (of active neurons with gain exactly 0), ``seed``, ``n_active``,
        ``base_bias`` (A, the constant current of all three copies), ``duration_s``,
        ``transient_s``, ``run_seconds``, ``compilations``, ``noise``.
    """

    rates: np.ndarray
    gains: np.ndarray
    rates_minus: np.ndarray
    rates_plus: np.ndarray
    bias: float
    info: dict = field(default_factory=dict)


def _uncoupled(network: Network) -> Network:
    """The same neurons (parameters, E/I labels, active flags, initial values) without a
    single synapse: the open-loop network of the replay."""
    empty = np.zeros(0, np.int32)
    return network.replace(pre=empty, post=empty, w=np.zeros(0), syn_mask=np.zeros(0, bool), syn_params={})


class ReplayGains(SimulatorOwner):
    """One compiled build that measures open-loop gains by replay, for every re-run.

    The build is the network's neurons without recurrent synapses, in three copies (extra
    current −δ, 0, +δ), each neuron j driven by Stimulus channel j (its recorded synaptic
    current, sampled every ``record_dt``) plus the background noise, shared by the copies so
    that the three differ by δ only (common random numbers).

    Parameters
    ----------
    network : Network
        The (coupled) network; only its neurons and size are used.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    duration : Quantity or str
        Simulated time of every replay; the recording must cover it.
    record_dt : Quantity or str
        Sampling interval of the recorded synaptic current (default 0.5 ms); a multiple of
        ``dt`` in practice, and ``duration / record_dt`` must be whole.
    noise : PoissonNoise or OUNoise, optional
        Background noise (default: the model's ``[input]`` noise); made shared across copies.
    bias : Quantity or str
        δ, the extra current of the outer copies (default 20 pA, in the model's input unit).
    transient : Quantity or str
        Rates are counted after this time (default 200 ms).
    dt : Quantity or str, optional
        Integration step (default: the model's).
    build_dir, reuse, threads :
        As for :class:`~lnp_brian.simulation.simulator.Simulator`.

    Raises
    ------
    ValueError
        If the model cannot be replayed (see :func:`synaptic_target`), has no default noise
        and none is given, ``bias <= 0``, the transient is not shorter than the duration, or
        the duration is not a whole number of ``record_dt``.
    TypeError
        If ``noise`` is not a PoissonNoise or OUNoise.
    """

    COPIES = 3  # −δ, 0, +δ

    def __init__(self, network: Network, device: str = "cpp_standalone", *, duration, record_dt="0.5 ms",
                 noise=None, bias="20 pA", transient="200 ms", dt=None, build_dir=None, reuse: bool = False,
                 threads: int = 0):
        spec = network.model
        self.target = synaptic_target(spec)
        noise = default_input(spec) if noise is None else noise
        if noise is None:
            raise ValueError(f"model {spec.name!r} has no default noise ([input] noise); pass noise=")
        if not isinstance(noise, (PoissonNoise, OUNoise)):
            raise TypeError(f"noise must be a PoissonNoise or OUNoise, got {noise!r}")
        self.noise = dataclasses.replace(noise, shared=True)
        self.bias = float(parse_quantity(bias, spec.neuron.input_dim, where="bias"))
        if not self.bias > 0:
            raise ValueError(f"bias must be positive, got {self.bias:g}")
        duration = float(parse_quantity(duration, "second", where="duration"))  # self.duration once built
        self.record_dt = float(parse_quantity(record_dt, "second", where="record_dt"))
        self.transient = float(parse_quantity(transient, "second", where="transient"))
        if not 0 <= self.transient < duration:
            raise ValueError(f"transient ({self.transient:g} s) must lie in [0, duration = {duration:g} s)")
        steps = duration / self.record_dt
        if self.record_dt <= 0 or abs(steps - round(steps)) > 1e-6:
            raise ValueError(f"duration {duration:g} s must be a whole number of record_dt {self.record_dt:g} s")
        self.n_samples = int(round(steps))
        self.n = network.n
        self.network = _uncoupled(network)
        stim = Stimulus(np.zeros((self.n_samples, self.n)), dt=self.record_dt * second)  # channel j -> neuron j
        self.sim = Simulator(self.network, device, duration=duration * second, dt=dt, inputs=[self.noise, stim],
                             copies=self.COPIES, build_dir=build_dir, reuse=reuse, threads=threads)

    def _input(self, synaptic_input) -> np.ndarray:
        if isinstance(synaptic_input, tuple):
            values, dt = synaptic_input
            if abs(float(dt) - self.record_dt) > 1e-9 * max(1.0, self.record_dt) + 1e-12:
                raise ValueError(f"the recording is sampled every {float(dt):g} s, the replay build every "
                                 f"{self.record_dt:g} s")
        else:
            values = synaptic_input
        values = np.asarray(values, float)
        if values.ndim != 2 or values.shape[1] != self.n:
            raise ValueError(f"synaptic_input must have shape (T, {self.n}), got {values.shape}")
        if values.shape[0] < self.n_samples:
            raise ValueError(f"synaptic_input has {values.shape[0]} samples; the replay of {self.duration:g} s "
                             f"needs {self.n_samples} (every {self.record_dt:g} s)")
        if not np.all(np.isfinite(values)):
            raise ValueError("synaptic_input has non-finite values")
        return values[: self.n_samples]

    def run(self, network: Network | None, synaptic_input, *, seed: int, params: dict | None = None,
            base_bias=None) -> GainResult:
        """Replay and return the open-loop gains.

        Parameters
        ----------
        network : Network or None
            The network whose neurons to replay (same size and model as built; its active
            flags and per-neuron parameters are used, its synapses ignored). None: the
            built one.
        synaptic_input : ndarray (T, N) or (values, dt)
            Recorded synaptic current per neuron in SI units of the input (A), e.g. from
            :func:`recorded_input`; samples beyond the duration are ignored. Add any
            deterministic input current the coupled run had (a task stimulus) to it.
        seed : int
            Seed of the background noise of the replay.
        params : dict, optional
            Per-neuron parameter overrides (SI), e.g. ``{"tau_m": ...}``; no rebuild.
        base_bias : float or ndarray (N,), optional
            Constant current (A) the coupled run had as ``bias`` (default 0).

        Returns
        -------
        GainResult
            Rates of the three copies and the open-loop gains (Hz/A).

        Raises
        ------
        ValueError
            If the network differs in size or model from the build, or ``synaptic_input``
            has the wrong shape, sampling interval, too few samples or non-finite values.
        """
        net = self.network if network is None else network
        if net.n != self.n or net.model.text != self.network.model.text:
            raise ValueError(f"network has {net.n} neurons of model {net.model.name!r}; the build has {self.n} "
                             f"of {self.network.model.name!r}")
        values = self._input(synaptic_input)
        base = np.zeros(self.n) if base_bias is None else np.broadcast_to(np.asarray(base_bias, float), (self.n,))
        d = self.bias
        bias = np.concatenate([base - d, base, base + d])
        # the replayed neuron's own synaptic variable stays 0: its input comes as I_stim
        initial = {self.target: np.zeros(self.n)}
        t0 = time.perf_counter()
        res = self.sim.run(_uncoupled(net), seed=seed, params=params, bias=bias, stimulus=values,
                           initial=initial)
        wall = time.perf_counter() - t0
        r_minus, r0, r_plus = (res.rates(c, t_start=self.transient) for c in range(self.COPIES))
        # a neuron's own response to more input is not negative: negative slopes are count noise
        gains = np.clip((r_plus - r_minus) / (2.0 * d), 0.0, None)
        gains[~net.active] = 0.0
        n_active = int(net.active.sum())
        fraction_zero = float(np.mean(gains[net.active] == 0.0)) if n_active else 0.0
        info = {"fraction_zero": fraction_zero, "seed": int(seed), "n_active": n_active,
                "base_bias": base.copy(), "duration_s": self.duration, "transient_s": self.transient,
                "record_dt_s": self.record_dt, "run_seconds": wall, "compilations": self.compilations,
                "noise": self.noise.describe(), "target": self.target}
        return GainResult(rates=r0, gains=gains, rates_minus=r_minus, rates_plus=r_plus, bias=d, info=info)


# ------------------------------------------------------------------------------ Siegert
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_PANELS = 24


def _erfcx_integral(lo, hi):
    """∫_lo^hi erfcx(t) dt for 0 <= lo <= hi (arrays), by composite Gauss–Legendre in
    s = log(1 + t): erfcx decays like 1/(t√π), so the integrand erfcx(e^s − 1) e^s is smooth
    and bounded over any range, from t ~ 0 to t ~ 1e6 (the mean-driven limit σ → 0)."""
    s0, s1 = np.log1p(lo), np.log1p(hi)
    h = (s1 - s0) / _PANELS
    k = np.arange(_PANELS)
    # nodes: (..., panels, 16)
    mid = s0[..., None] + (k + 0.5) * h[..., None]
    s = mid[..., None] + 0.5 * h[..., None, None] * _GL_X
    f = erfcx(np.expm1(s)) * np.exp(s)
    return 0.5 * h * np.einsum("...pk,k->...", f, _GL_W)


def _siegert_integral(a, b):
    """∫_a^b e^{u²}(1 + erf u) du for a <= b, without overflow or cancellation where it
    matters: for u < 0 the integrand is erfcx(−u); for u > 0 it is 2e^{u²} − erfcx(u), whose
    first part integrates to √π erfi(u) = 2 e^{u²} D(u) (Dawson's D). inf when it overflows
    (the rate is then 0)."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    t0, t1 = np.maximum(-b, 0.0), np.maximum(-a, 0.0)  # u in [a, min(b, 0)] is t = -u in [t0, t1]
    total = np.where(t1 > t0, _erfcx_integral(np.minimum(t0, t1), t1), 0.0)
    p0, p1 = np.maximum(a, 0.0), np.maximum(b, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        erfi_part = 2.0 * (np.exp(p1 ** 2) * dawsn(p1) - np.exp(p0 ** 2) * dawsn(p0))
        pos = np.where(p1 > p0, erfi_part - _erfcx_integral(p0, np.maximum(p0, p1)), 0.0)
    return total + np.where(np.isnan(pos), np.inf, pos)


def _integrand(u):
    """e^{u²}(1 + erf u), stable (inf where it overflows)."""
    u = np.asarray(u, float)
    with np.errstate(over="ignore"):
        return np.where(u < 0, erfcx(-np.minimum(u, 0.0)), 2.0 * np.exp(np.maximum(u, 0.0) ** 2)
                        - erfcx(np.maximum(u, 0.0)))


def _bounds(mu, sigma, tau_m, v_th, v_reset, tau_s):
    shift = sigma * 0.5 * FB_ALPHA * np.sqrt(tau_s / tau_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_th = (v_th + shift - mu) / sigma
        y_r = (v_reset + shift - mu) / sigma
    return y_th, y_r


def siegert_rate(mu, sigma, tau_m, t_ref, v_th, v_reset, tau_s=0.0):
    """Stationary firing rate of a LIF neuron in the diffusion approximation (Hz).

    ν = 1 / (t_ref + τ_m √π ∫_{y_r}^{y_θ} e^{u²}(1 + erf u) du),
    y_θ = (θ_eff − μ)/σ, y_r = (V_r,eff − μ)/σ (Brunel 2000, eq. 21), with the
    Fourcaud–Brunel (2002) correction for noise filtered by synapses of time constant τ_s:
    θ_eff = θ + σ (α/2) √(τ_s/τ_m), V_r,eff = V_r + σ (α/2) √(τ_s/τ_m),
    α = √2 ``|ζ(1/2)|`` ≈ 2.0652 (first order in √(τ_s/τ_m): good for τ_s ≪ τ_m).

    Parameters
    ----------
    mu : float or array
        Mean free membrane potential (V): the potential without threshold, μ = V_rest + R I.
    sigma : float or array
        Noise amplitude (V) as in Brunel 2000: τ_m dV/dt = μ − V + σ √τ_m ξ(t) for white
        noise, so σ² = 2 × the variance of the free membrane potential. For noise filtered
        with τ_s (dI/dt = −I/τ_s + σ √τ_m ξ / τ_s in units of R), σ is this white-noise
        amplitude, not the (smaller) std of V (see :func:`lif_input_statistics`). σ = 0
        gives the deterministic rate 1/(t_ref + τ_m ln((μ − V_r)/(μ − θ))) for μ > θ, else 0.
    tau_m, t_ref : float or array
        Membrane time constant and refractory period (s).
    v_th, v_reset : float or array
        Threshold and reset (V).
    tau_s : float or array
        Synaptic (noise) filter time constant (s); 0 for white noise.

    Returns
    -------
    float or ndarray
        Rate in Hz, broadcast over the inputs (a float for scalar inputs).

    Examples
    --------
    A neuron with τ_m = 20 ms, t_ref = 2 ms, θ = −50 mV, V_r = −65 mV. Without noise it
    fires only when μ > θ; with σ = 5 mV it also fires below threshold (μ = −55, −52 and
    −45 mV):

    >>> round(siegert_rate(-0.045, 0.0, 0.02, 0.002, -0.05, -0.065), 2)    # μ = −45 mV, σ = 0
    33.64
    >>> siegert_rate([-0.055, -0.052, -0.045], 0.005, 0.02, 0.002, -0.05, -0.065).round(2)
    array([ 8.52, 16.73, 37.43])
    """
    mu, sigma, tau_m, t_ref, v_th, v_reset, tau_s = np.broadcast_arrays(
        *(np.asarray(x, float) for x in (mu, sigma, tau_m, t_ref, v_th, v_reset, tau_s)))
    y_th, y_r = _bounds(mu, sigma, tau_m, v_th, v_reset, tau_s)
    noisy = sigma > 0
    integral = _siegert_integral(np.where(noisy, y_r, 0.0), np.where(noisy, y_th, 0.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = 1.0 / (t_ref + tau_m * np.sqrt(np.pi) * integral)
        above = mu > v_th
        det = np.where(above, 1.0 / (t_ref + tau_m * np.log(np.where(above, (mu - v_reset) / (mu - v_th), 2.0))),
                       0.0)
    out = np.where(noisy, rate, det)
    return out if out.ndim else float(out)


def siegert_gain(mu, sigma, tau_m, t_ref, v_th, v_reset, tau_s=0.0, dmu=None):
    """Slope of the Siegert rate with respect to the mean potential, dν/dμ (Hz/V).

    Parameters
    ----------
    mu, sigma, tau_m, t_ref, v_th, v_reset, tau_s :
        As for :func:`siegert_rate` (SI units); σ is held fixed.
    dmu : float or array, optional
        None: the analytic derivative
        dν/dμ = ν² τ_m √π (f(y_θ) − f(y_r)) / σ, f(u) = e^{u²}(1 + erf u).
        A value (V): the central difference (ν(μ + dμ) − ν(μ − dμ)) / 2dμ, i.e. the secant a
        measurement with extra currents ±dμ/R sees.

    Returns
    -------
    float or ndarray
        Hz/V (a float for scalar inputs); multiply by R_m for Hz/A.

    Examples
    --------
    The analytic slope and the secant over ±0.1 mV agree closely (same neuron as in
    :func:`siegert_rate`, μ = −52 mV, σ = 5 mV):

    >>> args = (-0.052, 0.005, 0.02, 0.002, -0.05, -0.065)
    >>> round(siegert_gain(*args))
    2923
    >>> round(float(siegert_gain(*args, dmu=1e-4)) / siegert_gain(*args), 3)
    1.0
    """
    args = np.broadcast_arrays(*(np.asarray(x, float) for x in (mu, sigma, tau_m, t_ref, v_th, v_reset, tau_s)))
    mu, sigma, tau_m, t_ref, v_th, v_reset, tau_s = args
    if dmu is not None:
        dmu = np.asarray(dmu, float)
        up = siegert_rate(mu + dmu, sigma, tau_m, t_ref, v_th, v_reset, tau_s)
        down = siegert_rate(mu - dmu, sigma, tau_m, t_ref, v_th, v_reset, tau_s)
        return (np.asarray(up) - np.asarray(down)) / (2.0 * dmu)
    rate = np.asarray(siegert_rate(mu, sigma, tau_m, t_ref, v_th, v_reset, tau_s))
    y_th, y_r = _bounds(mu, sigma, tau_m, v_th, v_reset, tau_s)
    noisy = sigma > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        f_th = _integrand(np.where(noisy, y_th, 0.0))
        f_r = _integrand(np.where(noisy, y_r, 0.0))
        g = rate ** 2 * tau_m * np.sqrt(np.pi) * (f_th - f_r) / sigma
        above = mu > v_th
        g_det = np.where(above, rate ** 2 * tau_m * (1.0 / np.where(above, mu - v_th, 1.0)
                                                      - 1.0 / np.where(above, mu - v_reset, 1.0)), 0.0)
    out = np.where(noisy, np.where(rate > 0, g, 0.0), g_det)
    return out if out.ndim else float(out)


class InputStatistics(NamedTuple):
    """Free-membrane statistics of a LIF neuron under background noise (per neuron, SI).

    Returned by :func:`lif_input_statistics`; the fields are also its attributes.

    Parameters
    ----------
    mu : ndarray (N,)
        Mean of the free membrane potential (V).
    std : ndarray (N,)
        Standard deviation of the free membrane potential (V).
    sigma : ndarray (N,)
        The white-noise amplitude to pass to :func:`siegert_rate` (V).
    tau_s : ndarray (N,)
        The noise's filter time constant (s).
    """

    mu: np.ndarray
    std: np.ndarray
    sigma: np.ndarray
    tau_s: np.ndarray


def _lookup(spec: ModelSpec, params: dict, name: str, n: int) -> np.ndarray:
    if name in params:
        return np.asarray(params[name], float) * np.ones(n)
    if name in spec.neuron.constants:
        return np.full(n, float(spec.neuron.constants[name]))
    raise ValueError(f"model {spec.name!r} has no LIF quantity {name!r} (neither a neuron parameter nor "
                     "a constant); the Siegert formula needs v_rest, v_th, v_reset, R_m and tau_m")


def lif_constants(spec: ModelSpec, params: dict, n: int | None = None) -> dict:
    """Per-neuron LIF quantities (SI arrays) that the Siegert formula needs.

    ``tau_m``, ``v_rest``, ``v_th``, ``v_reset`` and ``R_m`` are looked up by these names
    among ``params`` (per-neuron) and the model's constants; ``t_ref`` is
    ``neuron.refractory`` (0 if none).

    Parameters
    ----------
    spec : ModelSpec
        The LIF model.
    params : dict
        Per-neuron parameters (SI arrays), e.g. ``network.params``; they win over constants.
    n : int, optional
        Number of neurons (default: the largest size among ``params``, at least 1).

    Returns
    -------
    dict
        Name -> float array (n,): ``tau_m`` and ``t_ref`` (s), ``v_rest``, ``v_th`` and
        ``v_reset`` (V), ``R_m`` (ohm).

    Raises
    ------
    ValueError
        If one of the quantities is neither a parameter nor a constant of the model.
    """
    if n is None:
        n = max([np.size(v) for v in params.values()] + [1])
    out = {k: _lookup(spec, params, k, n) for k in ("tau_m", "v_rest", "v_th", "v_reset", "R_m")}
    ref = spec.neuron.refractory
    out["t_ref"] = np.full(n, 0.0 if ref is None else float(ref))
    return out


def lif_input_statistics(noise, spec: ModelSpec, params: dict, extra_current=0.0) -> InputStatistics:
    """Mean and spread of the free membrane potential of LIF neurons under background noise.

    For ``dv/dt = (v_rest − v + R_m (I_syn + I_in)) / tau_m`` with ``I_in = I_bias + I_noise``.

    - :class:`PoissonNoise` (n sources at ``rate``, jumps ``weight``, filter τ_s = ``tau``):
      shot noise with mean current n·rate·weight·τ_s and variance n·rate·weight²·τ_s/2.
      Diffusion approximation: replaced by an Ornstein–Uhlenbeck current with this mean,
      variance and correlation time τ_s (valid when many small jumps arrive per τ_m:
      here R·weight ≈ 1.5 mV against a 15 mV distance to threshold; the skewness of shot
      noise is neglected).
    - :class:`OUNoise`: mean, std and τ_s as given.

    An OU current of std s_I and correlation time τ_s, low-pass filtered by the membrane,
    gives Var V = R² s_I² τ_s / (τ_s + τ_m) (``std``), and the white-noise amplitude
    of Fourcaud–Brunel is σ = R s_I √(2 τ_s / τ_m) (``sigma``; σ²/2 · τ_m/(τ_m + τ_s) = Var V).
    ``noise_gain`` is taken as 1.

    Parameters
    ----------
    noise : PoissonNoise or OUNoise
        The background noise.
    spec : ModelSpec
        The LIF model (constants looked up by :func:`lif_constants`).
    params : dict
        Per-neuron parameters (SI arrays), e.g. ``network.params`` (with overrides).
    extra_current : float or ndarray
        Further constant mean current (A), e.g. a bias or the mean recorded synaptic current.

    Returns
    -------
    InputStatistics
        ``mu`` = v_rest + R (mean noise + extra), ``std``, ``sigma`` (V), ``tau_s`` (s).

    Raises
    ------
    TypeError
        If ``noise`` is not a PoissonNoise or OUNoise.
    """
    n = max([np.size(v) for v in params.values()] + [np.size(extra_current)])
    c = lif_constants(spec, params, n)
    if isinstance(noise, PoissonNoise):
        lam = int(noise.n) * float(noise.rate)
        tau_s, w = float(noise.tau), float(noise.weight)
        mean_i, std_i = lam * w * tau_s, np.sqrt(lam * w ** 2 * tau_s / 2.0)
    elif isinstance(noise, OUNoise):
        tau_s, mean_i, std_i = float(noise.tau), float(noise.mean), float(noise.std)
    else:
        raise TypeError(f"noise must be a PoissonNoise or OUNoise, got {noise!r}")
    R, tau_m = c["R_m"], c["tau_m"]
    mu = c["v_rest"] + R * (mean_i + np.asarray(extra_current, float))
    std = R * std_i * np.sqrt(tau_s / (tau_s + tau_m))
    sigma = R * std_i * np.sqrt(2.0 * tau_s / tau_m)
    return InputStatistics(mu=np.broadcast_to(mu, (n,)).copy(), std=std, sigma=sigma, tau_s=np.full(n, tau_s))


def compare_with_siegert(gain_result: GainResult, network: Network, noise=None, *, params: dict | None = None,
                         rate_range=(1.0, 100.0), secant: bool = True) -> dict:
    """Replay gains of an uncoupled LIF population driven by noise only, against Siegert.

    Parameters
    ----------
    gain_result : GainResult
        A replay with zero synaptic input (synapses masked, or a network without any).
    network : Network
        The replayed network (its per-neuron parameters, with ``params`` overrides).
    noise : PoissonNoise or OUNoise, optional
        The background noise of the replay (default: the model's).
    params : dict, optional
        The parameter overrides the replay ran with.
    rate_range : (float, float)
        Neurons whose replay rate (Hz) lies in this range are compared (outside it, rate
        estimates in a short run are dominated by count noise or refractoriness).
    secant : bool
        True (default): the Siegert gain as the same central difference the replay takes
        (±δ R_m in μ); False: the analytic derivative.

    Returns
    -------
    dict
        ``replay`` and ``siegert`` gains (N,) in Hz/A, ``siegert_rates`` (Hz), ``mask`` of the
        compared neurons, ``correlation`` (Pearson) and ``median_ratio`` (median of
        replay / Siegert) over them, ``rate_correlation`` and ``n_compared``.
    """
    spec = network.model
    noise = default_input(spec) if noise is None else noise
    p = {**network.params, **{k: np.asarray(v, float) for k, v in (params or {}).items()}}
    base = gain_result.info.get("base_bias", 0.0)
    st = lif_input_statistics(noise, spec, p, extra_current=base)
    c = lif_constants(spec, p, network.n)
    args = (st.mu, st.sigma, c["tau_m"], c["t_ref"], c["v_th"], c["v_reset"], st.tau_s)
    dmu = gain_result.bias * c["R_m"] if secant else None
    theory = np.asarray(siegert_gain(*args, dmu=dmu)) * c["R_m"]
    rates_theory = np.asarray(siegert_rate(*args))
    lo, hi = rate_range
    mask = network.active & (gain_result.rates >= lo) & (gain_result.rates <= hi) & (theory > 0)
    replay = gain_result.gains
    if mask.sum() >= 3:
        corr = float(np.corrcoef(replay[mask], theory[mask])[0, 1])
        rate_corr = float(np.corrcoef(gain_result.rates[mask], rates_theory[mask])[0, 1])
        ratio = float(np.median(replay[mask] / theory[mask]))
    else:
        corr = rate_corr = ratio = float("nan")
    return {"replay": replay, "siegert": theory, "siegert_rates": rates_theory, "mask": mask,
            "correlation": corr, "median_ratio": ratio, "rate_correlation": rate_corr,
            "n_compared": int(mask.sum())}
