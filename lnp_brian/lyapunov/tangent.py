"""Lyapunov spectrum of an ODE model computed inside the compiled build (variational equations).

The Benettin/QR spectrum of a smooth model ``dx/dt = f(x)`` needs ``k`` tangent vectors that
obey the variational equation ``d(dx)/dt = J(x) dx`` along the trajectory, re-orthonormalised
every ``interval``. :func:`lnp_brian.lyapunov.spectrum.qr_spectrum_ode` does this step by step
in Python; here the same computation runs in the Brian2 build itself (runtime, cpp_standalone
or cuda_standalone code generation), so a 3000 s spectrum of Lorenz63 at dt = 1 ms costs
seconds instead of tens of minutes.

**How it is built.**

* The Jacobian ``J_ab = d f_a / d x_b`` of the model's differential equations is derived
  symbolically (SymPy, subexpressions substituted) and written back as Brian2 code; it keeps
  the model's parameters and constants as symbols, so per-neuron parameters stay per neuron
  and every value remains settable per run.
* For each state variable ``x_a`` and tangent vector ``m`` the neurons get a state variable
  ``tan_<x_a>_<m>``, integrated in the same group with the model's method (e.g. rk4: the
  Jacobian is evaluated at the same stage states as the model, exactly as
  :func:`~lnp_brian.lyapunov.spectrum.qr_spectrum_ode` does)::

      d(tan_a_m)/dt = sum_b J_ab(x) * (s_b / s_a) * tan_b_m

* **Units.** The tangent variables are dimensionless: ``tan_a_m = dx_a / s_a`` with ``s_a``
  the distance scale of the variable's unit (mV for voltages, pA for currents, nS, ms, 1 for
  dimensionless, as in :func:`lnp_brian.lyapunov.finite_size.default_scales`; ``scales`` overrides it).
  The Euclidean norm of a tangent vector is therefore the same scaled norm as the distance of
  the two-trajectory method. A constant change of coordinates does not change the exponents;
  the scales only keep the components of comparable size.
* Every ``interval`` a ``run_regularly`` operation re-orthonormalises the ``k`` vectors of
  each neuron by modified Gram–Schmidt (plain per-neuron scalar code) and adds ``log`` of each
  vector's norm (before normalisation) to ``tan_log_<m>`` — only for intervals that start
  after the transient (``tan_t_start``, settable per run, so the transient needs no rebuild).
  During the transient the frame is still integrated and re-orthonormalised, so it is aligned
  with the dynamics when the measurement starts.
* A StateMonitor records the accumulators at most ~2000 times per run (block standard errors
  and the running estimate). The last interval, which ends with the run and is not followed
  by a Gram–Schmidt step in the build, is orthonormalised in NumPy from the final state, so the
  measured time is exactly ``duration - transient``.

Every neuron of the group is its own system with its own frame (uncoupled ODE models: e.g.
per-neuron parameters give one spectrum per neuron). Coupled networks (synapses) would need
the tangent vectors to travel through the synapses and Gram–Schmidt reductions over the whole
group; they are refused, as are spiking models (resets make the flow non-smooth) and
stochastic equations. Inputs the package adds (bias, noise, stimulus) enter the equations as
state-independent terms: the exponents are then those of the driven system (conditional
exponents).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import brian2 as b2

from ..brian.objects import NEURONS
from ..core.units import seconds, unit_string
from ..network.network import Network
from ..simulation.simulator import Extension, Simulator, SimulatorOwner
from .spectrum import random_frame

__all__ = ["VariationalSystem", "variational_system", "TangentExtension", "TangentSpectrum",
           "TangentSpectrumResult", "spectrum_in_build", "PREFIX"]

#: prefix of every variable, temporary and namespace name the extension adds
PREFIX = "tan_"
# at most this many samples of the accumulators per run (block standard errors)
_MAX_SAMPLES = 2000
_BLOCKS = 10


def _default_scales(spec) -> dict:
    from .finite_size import default_scales

    return default_scales(spec)


@dataclass(frozen=True)
class VariationalSystem:
    """The generated variational equations of a model (see the module docstring).

    Made by :func:`variational_system`; the fields below are also its attributes.

    Parameters
    ----------
    names : tuple of str
        State variables ``x_a`` (sorted), the order of the tangent components.
    k : int
        Number of tangent vectors.
    scales : dict
        Variable -> scale ``s_a`` (SI) of its tangent component.
    jacobian : dict
        ``(a, b) -> Brian2 expression of J_ab`` (unit of ``x_a`` / (unit of ``x_b`` * s)), for
        the non-zero entries.
    equations : str
        Brian2 equations added to the neurons: the ``d * k`` tangent variables, the ``k``
        accumulators ``tan_log_<m>`` and ``tan_t_start`` (shared).
    namespace : dict
        Scale constants the equations use (``tan_scale_<x>``, only for scaled units).

    Examples
    --------
    A hand-made system of two variables and two tangent vectors (no Jacobian needed for
    the names and the Gram–Schmidt code):

    >>> system = VariationalSystem(names=("x", "y"), k=2, scales={"x": 1.0, "y": 1.0},
    ...                            jacobian={}, equations="", namespace={})
    >>> system.tangent_variables
    ['tan_x_0', 'tan_y_0', 'tan_x_1', 'tan_y_1']
    >>> system.log_variables
    ['tan_log_0', 'tan_log_1']
    """

    names: tuple
    k: int
    scales: dict
    jacobian: dict
    equations: str
    namespace: dict

    def var(self, x: str, m: int) -> str:
        """Name of the tangent component of state variable ``x`` in vector ``m``.

        Parameters
        ----------
        x : str
            State variable, one of ``names``.
        m : int
            Index of the tangent vector, ``0 <= m < k``.

        Returns
        -------
        str
            ``"tan_<x>_<m>"``.

        Examples
        --------
        >>> VariationalSystem(("v",), 1, {"v": 1e-3}, {}, "", {}).var("v", 0)
        'tan_v_0'
        """
        return f"{PREFIX}{x}_{m}"

    @property
    def tangent_variables(self) -> list[str]:
        """Names of all ``d * k`` tangent components, vector by vector."""
        return [self.var(x, m) for m in range(self.k) for x in self.names]

    @property
    def log_variables(self) -> list[str]:
        """Names of the ``k`` accumulators ``tan_log_<m>`` of the log norms."""
        return [f"{PREFIX}log_{m}" for m in range(self.k)]

    def gram_schmidt_code(self, interval: float) -> str:
        """Abstract code of one re-orthonormalisation of the ``k`` vectors of one neuron.

        Modified Gram–Schmidt that adds ``log(norm)`` to the accumulators of intervals
        starting after ``tan_t_start``. The MGS step at time t closes the interval
        [t - interval, t]: it counts when t > tan_t_start + interval / 2.

        Parameters
        ----------
        interval : float
            Re-orthonormalisation interval in seconds.

        Returns
        -------
        str
            Brian2 abstract code (one statement per line) for a ``run_regularly`` operation.

        Examples
        --------
        >>> system = VariationalSystem(names=("x", "y"), k=2, scales={"x": 1.0, "y": 1.0},
        ...                            jacobian={}, equations="", namespace={})
        >>> print(system.gram_schmidt_code(0.01))
        tan_on = int(t > tan_t_start + 0.005*second)
        tan_norm_0 = sqrt(tan_x_0**2 + tan_y_0**2)
        tan_log_0 += tan_on * log(tan_norm_0)
        tan_x_0 = tan_x_0 / tan_norm_0
        tan_y_0 = tan_y_0 / tan_norm_0
        tan_dot_0_1 = tan_x_0 * tan_x_1 + tan_y_0 * tan_y_1
        tan_x_1 = tan_x_1 - tan_dot_0_1 * tan_x_0
        tan_y_1 = tan_y_1 - tan_dot_0_1 * tan_y_0
        tan_norm_1 = sqrt(tan_x_1**2 + tan_y_1**2)
        tan_log_1 += tan_on * log(tan_norm_1)
        tan_x_1 = tan_x_1 / tan_norm_1
        tan_y_1 = tan_y_1 / tan_norm_1
        """
        p = PREFIX
        lines = [f"{p}on = int(t > {p}t_start + {0.5 * interval!r}*second)"]
        for m in range(self.k):
            for j in range(m):  # remove the components along the vectors already done
                dot = " + ".join(f"{self.var(x, j)} * {self.var(x, m)}" for x in self.names)
                lines.append(f"{p}dot_{j}_{m} = {dot}")
                lines += [f"{self.var(x, m)} = {self.var(x, m)} - {p}dot_{j}_{m} * {self.var(x, j)}"
                          for x in self.names]
            norm2 = " + ".join(f"{self.var(x, m)}**2" for x in self.names)
            lines.append(f"{p}norm_{m} = sqrt({norm2})")
            lines.append(f"{p}log_{m} += {p}on * log({p}norm_{m})")
            lines += [f"{self.var(x, m)} = {self.var(x, m)} / {p}norm_{m}" for x in self.names]
        return "\n".join(lines)


def _check_smooth(spec) -> None:
    if spec.neuron.spiking or spec.neuron.reset:
        raise ValueError(f"model {spec.name!r} has a threshold/reset: the in-build spectrum needs a model "
                         "given as ODEs without spikes or resets (spiking networks: use the two-trajectory "
                         "method, lnp_brian.lyapunov.finite_size.max_exponent)")


def variational_system(model, k: int | None = None, scales: dict | None = None) -> VariationalSystem:
    """Generate (SymPy) the variational equations of ``k`` tangent vectors of a model.

    Parameters
    ----------
    model : ModelSpec, Network, model name or path
        A model given as ODEs (no threshold or reset, no noise ``xi``).
    k : int, optional
        Number of tangent vectors, 1 <= k <= number of differential equations (default: all).
    scales : dict, optional
        Variable -> scale (SI) of its tangent component (default: by unit, see the module
        docstring).

    Returns
    -------
    VariationalSystem

    Raises
    ------
    ValueError
        Spiking model, stochastic equations, k out of range, or a Jacobian entry SymPy cannot
        write as Brian2 code (e.g. the derivative of ``clip`` or ``int``).
    """
    import sympy
    from brian2.parsing.sympytools import str_to_sympy, sympy_to_str

    from ..model.spec import load_model

    spec = model.model if isinstance(model, Network) else load_model(model)
    _check_smooth(spec)
    eqs = b2.Equations(spec.neuron.equations)
    if eqs.stochastic_variables:
        noise = ", ".join(sorted(eqs.stochastic_variables))
        raise ValueError(f"model {spec.name!r} has stochastic equations ({noise}): the variational "
                         "equations need a deterministic ODE")
    names = tuple(sorted(eqs.diff_eq_names))
    if not names:
        raise ValueError(f"model {spec.name!r} has no differential equations")
    d = len(names)
    k = d if k is None else int(k)
    if not 1 <= k <= d:
        raise ValueError(f"k must be between 1 and the number of state variables ({d}: {', '.join(names)}), got {k}")
    used = set(eqs.names) | set(spec.neuron.constants) | set(spec.neuron.parameters)
    used |= {spec.neuron.input} if spec.neuron.input else set()
    clash = sorted(x for x in used if x.startswith(PREFIX))
    if clash:
        raise ValueError(f"model names {clash} start with {PREFIX!r}, which the tangent variables use")
    scales = dict(_default_scales(spec) if scales is None else {x: float(v) for x, v in scales.items()})
    missing = set(names) - set(scales)
    if missing or any(not (math.isfinite(scales[x]) and scales[x] > 0) for x in names):
        raise ValueError(f"scales must give a positive finite scale for every state variable {list(names)}")
    scales = {x: scales[x] for x in names}

    def canonical(expr):
        return expr.xreplace({s: sympy.Symbol(s.name, real=True) for s in expr.free_symbols})

    subexpr = {e.varname: canonical(str_to_sympy(e.expr.code)) for e in eqs.values()
               if e.type == "subexpression"}
    subs = {sympy.Symbol(name, real=True): value for name, value in subexpr.items()}
    symbols = {x: sympy.Symbol(x, real=True) for x in names}
    jac = {}
    for a, x in enumerate(names):
        f = canonical(str_to_sympy(eqs[x].expr.code))
        for _ in range(len(subexpr) + 1):  # subexpressions may refer to each other
            if not (f.free_symbols & set(subs)):
                break
            f = f.xreplace(subs)
        for b, y in enumerate(names):
            entry = sympy.diff(f, symbols[y])
            if entry == 0:
                continue
            if entry.has(sympy.Derivative) or entry.has(sympy.Subs):
                raise ValueError(f"cannot differentiate d{x}/dt = {eqs[x].expr.code} with respect to {y}: "
                                 f"SymPy leaves {entry} (a function without a known derivative, e.g. clip "
                                 "or int); write the model with smooth functions")
            jac[(a, b)] = sympy_to_str(entry)

    units = {x: unit_string(eqs[x].dim) for x in names}
    namespace, ratio = {}, {}
    for x in names:
        if units[x] != "1" or scales[x] != 1.0:
            namespace[f"{PREFIX}scale_{x}"] = b2.Quantity(scales[x], dim=eqs[x].dim)
    for a, x in enumerate(names):
        for b, y in enumerate(names):
            if units[x] == units[y] and scales[x] == scales[y]:
                ratio[(a, b)] = ""
            else:
                num = f"{PREFIX}scale_{y}" if f"{PREFIX}scale_{y}" in namespace else "1"
                den = f"{PREFIX}scale_{x}" if f"{PREFIX}scale_{x}" in namespace else "1"
                ratio[(a, b)] = f" * ({num} / {den})"
    lines = []
    for m in range(k):
        for a, x in enumerate(names):
            terms = [f"({jac[(a, b)]}){ratio[(a, b)]} * {PREFIX}{y}_{m}"
                     for b, y in enumerate(names) if (a, b) in jac]
            rhs = " + ".join(terms) if terms else "0 / second"
            lines.append(f"d{PREFIX}{x}_{m}/dt = {rhs} : 1")
    lines += [f"{PREFIX}log_{m} : 1" for m in range(k)]
    lines.append(f"{PREFIX}t_start : second (shared, constant)")
    system = VariationalSystem(names=names, k=k, scales=scales, jacobian=jac, equations="\n".join(lines),
                               namespace=namespace)
    # tangent names of variables such as "norm_0" or "on" could meet the helper names
    added = (system.tangent_variables + system.log_variables + list(namespace)
             + [f"{PREFIX}t_start", f"{PREFIX}on"] + [f"{PREFIX}norm_{m}" for m in range(k)]
             + [f"{PREFIX}dot_{j}_{m}" for m in range(k) for j in range(m)])
    if len(set(added)) != len(added):
        twice = sorted({x for x in added if added.count(x) > 1})
        raise ValueError(f"the tangent variables of model {spec.name!r} would reuse the names {twice}; "
                         "rename the state variables")
    return system


class TangentExtension(Extension):
    """Adds the variational equations, the Gram–Schmidt step and its records to a
    :class:`~lnp_brian.simulation.simulator.Simulator` build (see the module docstring).

    Per run (``pending``): ``frame`` (d, k) start frame for every neuron, or (N, d, k) one per
    neuron; ``t_start`` (s), the end of the transient. Results in ``SimResult.info``:
    ``tangent_log`` (N, k) accumulated log norms, ``tangent_final`` (N, d, k) the tangent
    vectors at the end, ``tangent_t`` and ``tangent_series`` (N, k, samples) the
    accumulators recorded after the Gram–Schmidt step.

    The methods other than :meth:`prepare` and :meth:`spectrum` are the hooks of
    :class:`~lnp_brian.simulation.simulator.Extension`, called by the Simulator.

    Parameters
    ----------
    system : VariationalSystem
        The variational equations to add (from :func:`variational_system`).
    interval : float
        Re-orthonormalisation interval in seconds (a multiple of dt).
    """

    def __init__(self, system: VariationalSystem, interval: float):
        self.system = system
        self.interval = float(interval)
        self.pending: dict = {}
        self._objs = None

    def key(self) -> str:
        """Identify the build structure (variables, k, scales, interval, equations).

        Returns
        -------
        str
            Text that enters the build's hash.
        """
        s = self.system
        return (f"TangentExtension({s.names}, {s.k}, {sorted(s.scales.items())}, {self.interval!r}, "
                f"{s.equations!r})")

    def equations(self, sim) -> str:
        """Equations added to the neurons: the tangent variables and accumulators.

        Parameters
        ----------
        sim : Simulator
            The simulator being built.

        Returns
        -------
        str
            Brian2 equations (``VariationalSystem.equations``).
        """
        return self.system.equations

    def namespace(self, sim) -> dict:
        """Constants the added equations use (the scales ``tan_scale_<x>``).

        Parameters
        ----------
        sim : Simulator
            The simulator being built.

        Returns
        -------
        dict
            Name -> Brian2 quantity.
        """
        return dict(self.system.namespace)

    def record_interval(self, sim) -> float:
        """Sampling interval of the accumulators: a multiple of ``interval``.

        Parameters
        ----------
        sim : Simulator
            The simulator (its duration bounds the number of samples to about 2000).

        Returns
        -------
        float
            Interval in seconds.
        """
        per = max(1, math.ceil(sim.duration / self.interval / _MAX_SAMPLES))
        return per * self.interval

    def add_objects(self, objs, sim) -> None:
        """Add the Gram–Schmidt operation to the neurons and a StateMonitor of the accumulators.

        Parameters
        ----------
        objs : object
            The build's Brian2 objects (``objs.neurons``; new objects go to ``objs.extra``).
        sim : Simulator
            The simulator being built.
        """
        G = objs.neurons
        interval = self.interval * b2.second
        # runtime: Brian2's automatic (unique) name; run_regularly's clock name cannot take "*"
        G.run_regularly(self.system.gram_schmidt_code(self.interval), dt=interval, when="start", order=-30,
                        name=None if sim.device == "runtime" else f"{PREFIX}gram_schmidt")
        M = b2.StateMonitor(G, self.system.log_variables, record=True, dt=self.record_interval(sim) * b2.second,
                            when="start", order=-29, name=f"{PREFIX}monitor" + ("*" if sim.device == "runtime" else ""))
        objs.extra.append(M)
        self._objs = (G, M)

    def values(self, sim) -> dict:
        """Values of the next run: the start frame, zeroed accumulators and ``tan_t_start``.

        Parameters
        ----------
        sim : Simulator
            The simulator about to run.

        Returns
        -------
        dict
            ``(group, variable) -> array``.

        Raises
        ------
        ValueError
            If the pending frame is not of shape (d, k) or (N, d, k).
        """
        s = self.system
        N = sim.network.n * sim.copies
        frame = np.asarray(self.pending.get("frame", random_frame(len(s.names), s.k, 0)), float)
        if frame.shape == (len(s.names), s.k):
            frame = np.broadcast_to(frame, (N, len(s.names), s.k))
        if frame.shape != (N, len(s.names), s.k):
            raise ValueError(f"frame: expected shape ({len(s.names)}, {s.k}) or ({N}, {len(s.names)}, {s.k}), "
                             f"got {frame.shape}")
        vals = {}
        for m in range(s.k):
            for a, x in enumerate(s.names):
                vals[(NEURONS, s.var(x, m))] = np.ascontiguousarray(frame[:, a, m])
            vals[(NEURONS, f"{PREFIX}log_{m}")] = np.zeros(N)
        vals[(NEURONS, f"{PREFIX}t_start")] = np.array([float(self.pending.get("t_start", 0.0))])
        return vals

    def prepare(self, frame, t_start: float) -> None:
        """Set the next run's start frame and the end of its transient.

        Parameters
        ----------
        frame : array (d, k) or (N, d, k)
            Start frame in scaled units, for every neuron or one per neuron.
        t_start : float
            End of the transient in seconds (a whole number of intervals).
        """
        self.pending = {"frame": np.asarray(frame, float), "t_start": float(t_start)}

    def spectrum(self, result, *, neuron: int = 0) -> "TangentSpectrumResult":
        """The spectrum from a run's :class:`~lnp_brian.simulation.results.SimResult`.

        Works for any Simulator carrying this extension, e.g. one shared with other
        extensions.

        Parameters
        ----------
        result : SimResult
            A run of a build with this extension; its ``tangent_*`` info entries are
            consumed (removed).
        neuron : int
            Which system's spectrum goes into ``exponents`` (an index over the neurons of
            all copies).

        Returns
        -------
        TangentSpectrumResult
            Exponents (1/s) of every neuron, with block standard errors and the running
            estimate of ``neuron``.

        Raises
        ------
        ValueError
            If ``neuron`` is out of range.
        FloatingPointError
            If the tangent vectors became non-finite or lost rank.
        """
        s = self.system
        info = result.info
        L = info.pop("tangent_log")
        V = info.pop("tangent_final")
        t, series = info.pop("tangent_t"), info.pop("tangent_series")
        D, dt, trans = float(result.duration), float(result.dt), float(self.pending.get("t_start", 0.0))
        if not 0 <= int(neuron) < L.shape[0]:
            raise ValueError(f"neuron must be in [0, {L.shape[0]}), got {neuron}")
        # the last interval ends with the run: orthonormalise it here (QR = Gram–Schmidt)
        per = max(1, round(self.interval / dt))
        steps = round(D / dt)
        t_last = ((steps - 1) // per) * per * dt  # time of the last Gram–Schmidt step in the build
        with np.errstate(divide="ignore", invalid="ignore"):
            R = np.linalg.qr(V, mode="r")
            last = np.log(np.abs(np.diagonal(R, axis1=-2, axis2=-1)))
        if t_last >= trans - 0.5 * self.interval:
            L = L + last
        if not (np.all(np.isfinite(L)) and np.all(np.isfinite(V))):
            raise FloatingPointError(
                "the tangent vectors became non-finite or lost rank (unbounded trajectory, dt too large, "
                "or an interval over which the vectors grow too far apart: use a shorter interval)")
        measured = D - trans
        all_exp = L / measured
        # running estimate and block standard errors from the recorded accumulators
        keep = t > trans + 0.5 * self.interval
        tt = np.concatenate([[trans], t[keep], [D]])
        LL = np.concatenate([np.zeros(L.shape + (1,)), series[..., keep], L[..., None]], axis=-1)
        all_se = _block_stderr(tt, LL)
        with np.errstate(divide="ignore", invalid="ignore"):
            history = (LL[neuron][:, 1:] / (tt[1:] - trans)).T
        order = np.argsort(-all_exp[neuron], kind="stable")
        method = {"name": "Benettin/QR on the variational equations in the build (modified Gram-Schmidt)",
                  "jacobian": "SymPy, from the model's equations", "variables": list(s.names),
                  "scales": s.scales, "k": s.k, "dt_s": dt, "blocks": _BLOCKS}
        return TangentSpectrumResult(
            exponents=all_exp[neuron][order], stderr=all_se[neuron][order], all_exponents=all_exp,
            all_stderr=all_se, times=tt[1:] - trans, history=history, interval=self.interval, transient=trans,
            measured=measured, duration=D, neuron=int(neuron), method=method)

    def result_files(self, objs, device) -> dict:
        """Files of a standalone run that hold the accumulators and the final tangent vectors.

        Parameters
        ----------
        objs : object
            The build's Brian2 objects.
        device : brian2 Device
            The standalone device (names the array files).

        Returns
        -------
        dict
            Key -> ``{"file": name, "dtype": "<f8"}``.
        """
        G, M = self._objs
        files = {"tangent.t": {"file": device.get_array_filename(M.variables["t"]), "dtype": "<f8"}}
        for name in self.system.log_variables:
            files[f"tangent.series.{name}"] = {"file": device.get_array_filename(M.variables[name]), "dtype": "<f8"}
        for name in self.system.log_variables + self.system.tangent_variables:
            files[f"tangent.final.{name}"] = {"file": device.get_array_filename(G.variables[name]), "dtype": "<f8"}
        return files

    def _store(self, result, final: dict, t, series: dict) -> None:
        s = self.system
        N = len(final[s.log_variables[0]])
        result.info["tangent_log"] = np.stack([final[v] for v in s.log_variables], axis=1)
        result.info["tangent_final"] = np.stack(
            [np.stack([final[s.var(x, m)] for m in range(s.k)], axis=1) for x in s.names], axis=1)
        result.info["tangent_t"] = np.asarray(t, float)
        result.info["tangent_series"] = np.stack([series[v].reshape(len(t), N).T for v in s.log_variables], axis=1)

    def read_results(self, result, files, results_dir) -> None:
        """Read a standalone run's files into ``result.info`` (``tangent_*`` entries).

        Parameters
        ----------
        result : SimResult
            The result being assembled.
        files : dict
            As returned by :meth:`result_files`.
        results_dir : pathlib.Path
            Directory of the run's result files.
        """
        def load(key):
            return np.fromfile(results_dir / files[key]["file"], dtype="<f8")

        s = self.system
        final = {v: load(f"tangent.final.{v}") for v in s.log_variables + s.tangent_variables}
        self._store(result, final, load("tangent.t"), {v: load(f"tangent.series.{v}") for v in s.log_variables})

    def read_runtime(self, objs, result) -> None:
        """Copy a runtime run's values into ``result.info`` (``tangent_*`` entries).

        Parameters
        ----------
        objs : object
            The build's Brian2 objects.
        result : SimResult
            The result being assembled.
        """
        G, M = self._objs
        s = self.system
        final = {v: np.asarray(G.variables[v].get_value(), float).copy()
                 for v in s.log_variables + s.tangent_variables}
        series = {v: np.asarray(getattr(M, v), float).T.copy() for v in s.log_variables}
        self._store(result, final, np.asarray(M.t_, float).copy(), series)


@dataclass
class TangentSpectrumResult:
    """Lyapunov spectrum from the in-build variational equations.

    Parameters
    ----------
    exponents, stderr : arrays (k,)
        Exponents of system ``neuron`` in 1/s, sorted descending, and their standard errors
        over ``blocks`` consecutive time blocks of the measurement.
    all_exponents, all_stderr : arrays (N, k)
        The same for every neuron of the build (each is its own system), in Gram–Schmidt
        order (descending asymptotically).
    times : array (m,)
        Time (s) since the end of the transient of each sample of the running estimate.
    history : array (m, k)
        Running estimates (1/s) of system ``neuron`` at ``times``, Gram–Schmidt order.
    interval, transient, measured, duration : float
        Re-orthonormalisation interval, transient (rounded to a whole number of intervals),
        measured time ``duration - transient`` and simulated time, all in seconds.
    neuron : int
        Index of the system whose spectrum is in ``exponents`` (over the neurons of all
        copies).
    method : dict
        How it was computed: method name, variables, scales, k, dt, blocks, device, seed,
        compilations and timings.
    """

    exponents: np.ndarray
    stderr: np.ndarray
    all_exponents: np.ndarray
    all_stderr: np.ndarray
    times: np.ndarray
    history: np.ndarray
    interval: float
    transient: float
    measured: float
    duration: float
    neuron: int = 0
    method: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary (exponents in 1/s, times in s; no per-neuron arrays or history).

        Returns
        -------
        dict
            ``exponents``, ``stderr``, ``unit``, ``interval_s``, ``transient_s``,
            ``measured_s``, ``duration_s``, ``neuron`` and ``method``.
        """
        return {"exponents": self.exponents.tolist(), "stderr": self.stderr.tolist(), "unit": "1/s",
                "interval_s": self.interval, "transient_s": self.transient, "measured_s": self.measured,
                "duration_s": self.duration, "neuron": self.neuron, "method": self.method}


def _block_stderr(t, L, blocks: int = _BLOCKS):
    """Standard error of the mean rate over ``blocks`` consecutive time blocks, from the
    accumulated log norms ``L`` (N, k, P) at times ``t`` (P,) (t[0] = start, L[..., 0] = 0)."""
    P = len(t)
    nb = min(blocks, P - 1)
    if nb < 2:
        return np.full(L.shape[:2], np.nan)
    edges = np.unique(np.round(np.linspace(0, P - 1, nb + 1)).astype(int))
    rates = (L[..., edges[1:]] - L[..., edges[:-1]]) / (t[edges[1:]] - t[edges[:-1]])
    nb = rates.shape[-1]
    return rates.std(axis=-1, ddof=1) / np.sqrt(nb)


class TangentSpectrum(SimulatorOwner):
    """One build of an ODE model with ``k`` tangent vectors; :meth:`run` computes the spectrum
    for new initial conditions, start frames, transients or parameter values without
    recompiling.

    Parameters
    ----------
    network : Network
        An uncoupled ODE model (no threshold/reset, no live synapses).
    k : int, optional
        Number of exponents (default: all, the number of differential equations).
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    duration : Quantity or str
        Simulated time of every run, transient included (e.g. ``"3000 s"``).
    interval : Quantity or str
        Time between re-orthonormalisations (a multiple of dt; default 10 ms). Keep the spread
        of growth factors within one interval moderate (``(lambda_1 - lambda_k) * interval``
        of a few tens at most).
    dt : Quantity or str, optional
        Integration step (default: the model's, else 0.1 ms).
    scales : dict, optional
        Variable -> scale (SI) of its tangent component (default by unit: mV, pA, nS, ms, 1).
    inputs : optional
        Inputs as for :class:`~lnp_brian.simulation.simulator.Simulator` (bias/noise/stimulus of models
        with ``neuron.input``): exponents of the driven system.
    copies : int
        Copies of the network in the build (e.g. several initial conditions per run).
    build_dir, reuse, threads, progress, runtime_target
        As for :class:`~lnp_brian.simulation.simulator.Simulator`.
    """

    def __init__(self, network: Network, k: int | None = None, device: str = "cpp_standalone", *,
                 duration="100 s", interval="10 ms", dt=None, scales: dict | None = None, inputs=None,
                 copies: int = 1, build_dir=None, reuse: bool = False, threads: int = 0,
                 progress: bool = False, runtime_target: str | None = None):
        if not isinstance(network, Network):
            raise TypeError(f"network must be a lnp_brian Network, got {type(network).__name__}")
        spec = network.model
        _check_smooth(spec)
        if spec.synapse is not None and len(network.pre) and network.live_synapses().any():
            raise ValueError(f"network {spec.name!r} has {int(network.live_synapses().sum())} live synapses: the "
                             "in-build spectrum handles uncoupled ODE models only (each neuron its own "
                             "system); tangent vectors of coupled networks would have to travel through the "
                             "synapses")
        self.network = network
        self.system = variational_system(spec, k, scales)
        self.k = self.system.k
        self.interval = seconds(interval, "interval")
        step = seconds(dt if dt is not None else getattr(spec, "dt", None) or "0.1 ms", "dt")
        if not (math.isfinite(self.interval) and self.interval > 0):
            raise ValueError(f"interval must be positive, got {interval!r}")
        ratio = self.interval / step
        if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-6:
            raise ValueError(f"interval {self.interval:g} s must be a whole multiple of dt {step:g} s")
        self.extension = TangentExtension(self.system, self.interval)
        self.sim = Simulator(network, device, duration=duration, dt=dt, inputs=inputs, copies=copies,
                             record_spikes=False, build_dir=build_dir, reuse=reuse, threads=threads,
                             progress=progress, runtime_target=runtime_target, extensions=[self.extension])

    @property
    def names(self) -> tuple:
        """State variables of the model (sorted), the order of the tangent components."""
        return self.system.names

    def run(self, network: Network | None = None, *, transient="10 s", seed: int = 0, frame=None,
            initial: dict | None = None, neuron: int = 0, **overrides) -> TangentSpectrumResult:
        """Integrate once and return the spectrum.

        Parameters
        ----------
        network : Network, optional
            Same topology as the built one (e.g. other parameter values); default the built one.
        transient : Quantity or str
            Time (s) before the measurement starts, rounded to a whole number of intervals
            and shorter than the duration. The frame is integrated and re-orthonormalised
            during it, only its growth is not counted.
        seed : int
            Seed of the random orthonormal start frame (the one
            :func:`~lnp_brian.lyapunov.spectrum.qr_spectrum_ode` draws for that seed) and of
            any noise input.
        frame : array (d, k) or (N, d, k), optional
            Start frame (scaled units) instead of the random one.
        initial : dict, optional
            Initial state, variable -> value(s) in SI units (one value, per neuron, or per
            neuron of all copies), overriding the network's.
        neuron : int
            Which system's spectrum is returned in ``exponents`` (all are in ``all_exponents``).
        **overrides
            Passed to :meth:`Simulator.run` (``params``, ``bias``, ``stimulus``, ...).

        Returns
        -------
        TangentSpectrumResult
            The exponents (1/s) of system ``neuron`` and of all systems of the build.

        Raises
        ------
        ValueError
            If the transient is negative or not shorter than the duration, or ``neuron`` is
            out of range.
        """
        s = self.system
        trans = seconds(transient, "transient")
        n_int = round(trans / self.interval)
        trans = n_int * self.interval
        D = self.duration
        if not (trans >= 0 and trans < D - 1e-12):
            raise ValueError(f"transient {trans:g} s must be >= 0 and shorter than the duration {D:g} s")
        N = self.network.n * self.sim.copies
        if not 0 <= int(neuron) < N:
            raise ValueError(f"neuron must be in [0, {N}), got {neuron}")
        frame = random_frame(len(s.names), s.k, seed) if frame is None else np.asarray(frame, float)
        init = None
        if initial is not None:
            init = {}
            for x, v in initial.items():
                arr = np.asarray(v, float)
                init[x] = np.full(self.network.n, float(arr)) if arr.ndim == 0 else arr
        self.extension.prepare(frame, trans)
        t0 = time.perf_counter()
        res = self.sim.run(network, seed=seed, initial=init, **overrides)
        wall = time.perf_counter() - t0
        out = self.extension.spectrum(res, neuron=neuron)
        out.method.update(device=self.sim.device, integration_method=self.network.model.neuron.method,
                          seed=int(seed), compilations=self.compilations, run_seconds=wall,
                          build_seconds=self.sim.timings.get("build"),
                          compile_seconds=self.sim.timings.get("compile"))
        return out

def spectrum_in_build(model_or_network, k: int | None = None, *, duration="100 s", transient="10 s",
                      interval="10 ms", dt=None, device: str = "cpp_standalone", seed: int = 0,
                      initial: dict | None = None, frame=None, inputs=None, scales: dict | None = None,
                      neuron: int = 0, build_dir=None, reuse: bool = False, threads: int = 0,
                      progress: bool = False, runtime_target: str | None = None,
                      engine: TangentSpectrum | None = None):
    """The first ``k`` Lyapunov exponents of an ODE model, integrated in the Brian2 build.

    The model's equations get ``k`` tangent vectors (variational equations generated by
    SymPy, integrated with the model's method in the same group) that are re-orthonormalised
    by modified Gram–Schmidt every ``interval`` in generated code; see :mod:`lnp_brian.lyapunov.tangent`.
    One build: with ``build_dir`` and ``reuse=True`` later calls with the same structure (model,
    k, duration, dt, interval, device) re-run the compiled binary; new initial conditions,
    seeds and transients never recompile (or pass ``engine``, a :class:`TangentSpectrum`).

    Parameters
    ----------
    model_or_network : Network, ModelSpec, model name or path
        An uncoupled ODE model without threshold/reset (e.g. ``"lorenz63"``); a model is built
        with :func:`lnp_brian.build_network` (its ``network.n_neurons``, parameter seed ``seed``).
    k : int, optional
        Number of exponents (default: the number of differential equations).
    duration : Quantity or str
        Simulated time, transient included (s).
    transient : Quantity or str
        Time (s) before the measurement starts (rounded to a whole number of intervals); the
        exponents average over ``duration - transient``.
    interval : Quantity or str
        Re-orthonormalisation interval (s), a whole multiple of dt.
    dt : Quantity or str, optional
        Integration step (s); default the model's, else 0.1 ms.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    seed : int
        Seed of the random start frame (the frame :func:`qr_spectrum_ode` draws for it).
    initial : dict, optional
        Initial state, variable -> value in SI units, instead of the model's.
    frame : array (d, k), optional
        Start frame instead of the random one.
    inputs, scales, neuron, build_dir, reuse, threads, progress, runtime_target
        See :class:`TangentSpectrum` and :meth:`TangentSpectrum.run`.
    engine : TangentSpectrum, optional
        A build to re-use (its structure wins over ``k``, ``duration``, ``interval``, ``dt``,
        ``device`` and the build options).

    Returns
    -------
    exponents : array (k,)
        Lyapunov exponents in 1/s, sorted descending.
    info : dict
        ``stderr`` (k,) standard errors in 1/s (10 time blocks), ``all_exponents`` /
        ``all_stderr`` (N, k) of every neuron, ``times`` (s after the transient) and
        ``history`` (running estimates, 1/s), ``interval_s``, ``transient_s``, ``measured_s``,
        ``duration_s``, ``variables``, ``method`` (device, timings, compilations) and
        ``engine`` (the :class:`TangentSpectrum`, to re-run).
    """
    from ..network.network import build_network

    if engine is None:
        net = model_or_network if isinstance(model_or_network, Network) else build_network(model_or_network, seed=seed)
    eng = engine or TangentSpectrum(net, k, device, duration=duration, interval=interval, dt=dt, scales=scales,
                                    inputs=inputs, build_dir=build_dir, reuse=reuse, threads=threads,
                                    progress=progress, runtime_target=runtime_target)
    given = engine is not None and isinstance(model_or_network, Network) and model_or_network is not eng.network
    res = eng.run(model_or_network if given else None, transient=transient, seed=seed, frame=frame, initial=initial,
                  neuron=neuron)
    info = {"stderr": res.stderr, "all_exponents": res.all_exponents, "all_stderr": res.all_stderr,
            "times": res.times, "history": res.history, "interval_s": res.interval,
            "transient_s": res.transient, "measured_s": res.measured, "duration_s": res.duration,
            "variables": list(eng.names), "method": res.method, "result": res, "engine": eng}
    return res.exponents, info
