"""Model files: neuron and synapse equations plus parameter distributions, in TOML.

A model file describes *what* is simulated (equations with units, heterogeneous parameter
distributions, connectivity and weight statistics, default input). :func:`load_model`
reads one — by shipped name (``"hrsnn"``) or by any path — validates it completely (keys,
units, distributions, and the equations themselves through Brian2) and returns a
:class:`ModelSpec`. Every error names the file, the key and what was expected.

The format is documented with a complete example in ``models/README.md``.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from brian2.units.fundamentalunits import DIMENSIONLESS, Dimension, Quantity, get_dimensions

from ..core.units import UnitError, parse_quantity, parse_unit, unit_string
from .distributions import Distribution, DistributionError, parse_distribution

__all__ = [
    "ModelError",
    "ModelSpec",
    "NeuronSpec",
    "SynapseSpec",
    "PlasticitySpec",
    "NetworkDefaults",
    "ClusterSpec",
    "load_model",
    "shipped_models",
    "PATHWAYS",
    "RESERVED_NAMES",
]

PATHWAYS = ("EE", "EI", "IE", "II")  # presynaptic type, postsynaptic type
TIME = get_dimensions(parse_quantity("1 s"))
# names the package adds to the Brian2 groups; model files must not declare them
RESERVED_NAMES = {"active", "mask", "w", "I_bias", "I_noise", "I_stim", "noise_gain"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", str(text)).strip()


class ModelError(ValueError):
    """A model file that cannot be used: names the file, the key and what was expected.

    The message reads ``"<source>: <key>: <message>"`` on one line.

    Parameters
    ----------
    source : str
        The model file (path, ``models/<name>.toml`` or ``"<string>"``).
    key : str
        The key at fault, e.g. ``"neuron.constants.v_th"``; empty for the file as a whole.
    message : str
        What is wrong or was expected (line breaks are folded into spaces).
    """

    def __init__(self, source: str, key: str, message: str):
        self.source, self.key = source, key
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {_one_line(message)}")


@dataclass(frozen=True)
class NeuronSpec:
    """The ``[neuron]`` section of a model file.

    Parameters
    ----------
    equations : str
        Brian2 equations with units.
    threshold : str, optional
        Spike condition, e.g. ``"v > v_th"``; None for a plain ODE system (no spikes).
    reset : str, optional
        Reset code run after a spike, e.g. ``"v = v_reset"``.
    refractory : Quantity, optional
        Refractory period, in seconds (>= 0).
    method : str, optional
        Brian2 integration method (``"exact"``, ``"euler"``, ``"rk4"``, ...); None lets
        Brian2 choose.
    input : str, optional
        Name of the input current the package provides
        (``input = I_bias + I_noise + I_stim``); None for a model without input.
    input_dim : Dimension, optional
        Unit of the input current (default dimensionless).
    constants : dict of str to Quantity, optional
        Fixed values, compiled into the code.
    parameters : dict of str to Distribution, optional
        Heterogeneous parameters, one value per neuron; changeable between runs.
    initial : dict of str to Distribution, optional
        Initial values of state variables.
    """

    equations: str
    threshold: str | None = None
    reset: str | None = None
    refractory: Quantity | None = None
    method: str | None = None
    input: str | None = None  # name of the input current the package provides
    input_dim: Dimension = DIMENSIONLESS
    constants: dict = field(default_factory=dict)  # name -> Quantity (compiled in)
    parameters: dict = field(default_factory=dict)  # name -> Distribution (per neuron)
    initial: dict = field(default_factory=dict)  # state variable -> Distribution

    @property
    def spiking(self) -> bool:
        """Whether the neurons spike (the model has a threshold)."""
        return self.threshold is not None


@dataclass(frozen=True)
class SynapseSpec:
    """The ``[synapse]`` section of a model file: the static (recurrent) synapse model.

    Parameters
    ----------
    on_pre : str, optional
        Code run on a presynaptic spike, e.g. ``"I_syn_post += w"``; None for rate models
        that use a ``(summed)`` variable in ``model``.
    on_post : str, optional
        Code run on a postsynaptic spike.
    model : str, optional
        Extra synapse equations (default none).
    weight_dim : Dimension, optional
        Unit of the weight ``w`` (default dimensionless).
    delay : Distribution, optional
        Synaptic delay in seconds (>= 0), one value or per synapse; None for no delay.
    constants : dict of str to Quantity, optional
        Fixed values, compiled into the code.
    parameters : dict of str to Distribution, optional
        Per-synapse parameters.
    """

    on_pre: str | None = None
    on_post: str | None = None
    model: str = ""
    weight_dim: Dimension = DIMENSIONLESS
    delay: Distribution | None = None
    constants: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)  # name -> Distribution (per synapse)


@dataclass(frozen=True)
class PlasticitySpec:
    """The ``[plasticity]`` section of a model file: a plastic synapse model for some pathways.

    Parameters
    ----------
    pathways : tuple of str, optional
        Pathways that are plastic, presynaptic then postsynaptic type: ``"EE"``, ``"EI"``,
        ``"IE"``, ``"II"`` (default ``("EE",)``).
    model : str, optional
        Synapse equations (e.g. event-driven traces).
    on_pre : str, optional
        Code run on a presynaptic spike (transmission and learning rule).
    on_post : str, optional
        Code run on a postsynaptic spike.
    constants : dict of str to Quantity, optional
        Fixed values, compiled into the code.
    parameters : dict of str to Distribution, optional
        Per-synapse parameters, drawn for the plastic synapses only.
    """

    pathways: tuple = ("EE",)
    model: str = ""
    on_pre: str | None = None
    on_post: str | None = None
    constants: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)  # name -> Distribution (per plastic synapse)


@dataclass(frozen=True)
class ClusterSpec:
    """One ``[[network.clusters]]`` entry: a group of neurons with its own parameters.

    Parameters
    ----------
    fraction : float
        Fraction of the neurons in this cluster, in (0, 1]; the fractions sum to 1.
    parameters : dict of str to Distribution, optional
        Overrides of neuron parameters for this cluster (same units).
    """

    fraction: float
    parameters: dict = field(default_factory=dict)  # overrides of neuron parameters


@dataclass(frozen=True)
class NetworkDefaults:
    """The ``[network]`` section of a model file: defaults for building a network.

    Parameters
    ----------
    n_neurons : int, optional
        Number of neurons (default 1).
    exc_fraction : float, optional
        Fraction of excitatory neurons in [0, 1] (the first ones of each cluster; default 1).
    dale : bool, optional
        Dale's law: weights are magnitudes, signed by the presynaptic type (default True).
    connectivity : dict, optional
        ``{"kind": ...}`` with the kind's keys: ``none`` (default), ``all``, ``random``
        (``p``), ``clustered`` (``p_within``, ``p_between``), ``watts_strogatz`` (``k``,
        ``beta``), and optionally ``autapses``.
    weights : dict of str to Distribution, optional
        Weight distributions by pathway (``"EE"``, ``"EI"``, ``"IE"``, ``"II"``) or
        ``"all"``, in the synapse's weight unit.
    clusters : tuple of ClusterSpec, optional
        The clusters, laid out one after another (default none).
    """

    n_neurons: int = 1
    exc_fraction: float = 1.0
    dale: bool = True
    connectivity: dict = field(default_factory=lambda: {"kind": "none"})
    weights: dict = field(default_factory=dict)  # pathway or "all" -> Distribution
    clusters: tuple = ()


@dataclass(frozen=True)
class ModelSpec:
    """A validated model file.

    Made by :func:`load_model` or :meth:`from_toml`; describes what is simulated.

    Parameters
    ----------
    name : str
        Model name (``[model] name``, default the file name).
    source : str
        Where the model came from, for messages (a path or ``models/<name>.toml``).
    text : str
        The file's TOML, kept so a saved network is self-contained.
    description : str
        Free text from ``[model] description``.
    neuron : NeuronSpec
        The neuron model.
    synapse : SynapseSpec or None
        The static synapse model; None for a model without recurrent connections.
    plasticity : PlasticitySpec or None
        The plastic synapse model, if any.
    network : NetworkDefaults
        Defaults for building a network.
    input : dict
        Default input noise for simulations: ``{}`` or ``{"kind": "poisson" | "ou", ...}``
        with Quantity values (see :func:`lnp_brian.brian.inputs.default_input`).
    dt : Quantity, optional
        Default integration step, in seconds; None for the package default (0.1 ms).
    """

    name: str
    source: str
    text: str
    description: str
    neuron: NeuronSpec
    synapse: SynapseSpec | None
    plasticity: PlasticitySpec | None
    network: NetworkDefaults
    input: dict  # default input for simulations (see lnp_brian.brian.inputs.default_input)
    dt: Quantity | None = None  # default integration step

    @classmethod
    def from_toml(cls, text: str, source: str = "<string>", *, validate: bool = True) -> "ModelSpec":
        """Parse and validate model TOML text.

        Parameters
        ----------
        text : str
            The model file's TOML.
        source : str, optional
            Names the model in error messages (default ``"<string>"``).
        validate : bool, optional
            Also check the equations with Brian2 (see
            :func:`~lnp_brian.brian.check.check_with_brian2`; default True). Without it
            only keys, units and ranges are checked, and no Brian2 objects are created.

        Returns
        -------
        ModelSpec
            The model.

        Raises
        ------
        ModelError
            Invalid TOML, or any key, unit, distribution or equation the model cannot use.

        Examples
        --------
        >>> text = '''
        ... [neuron]
        ... equations = "dv/dt = (v_rest - v) / tau_m : volt"
        ... threshold = "v > v_th"
        ... reset = "v = v_rest"
        ... [neuron.constants]
        ... v_rest = "-65 mV"
        ... v_th = "-50 mV"
        ... [neuron.parameters]
        ... tau_m = { distribution = "gamma", mean = "20 ms", cv = 0.5, min = "2 ms" }
        ... '''
        >>> spec = ModelSpec.from_toml(text, "lif.toml", validate=False)
        >>> spec.name, spec.neuron.spiking, spec.state_variables
        ('lif', True, ['v'])
        >>> spec.neuron.parameters["tau_m"].describe()
        'gamma(mean=0.02 second, cv=0.5, min=0.002 second)'
        """
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ModelError(source, "", f"invalid TOML: {' '.join(str(exc).split())}") from None
        parser = _Parser(source)
        spec = parser.model(raw, text)
        if validate:
            from ..brian.check import ModelCheckError, check_with_brian2

            # before the sign checks of quantities whose unit only the equations fix: a
            # voltage given in ms must be reported as a unit error, not as a negative time
            try:
                check_with_brian2(spec)
            except ModelCheckError as exc:
                raise ModelError(source, exc.key, exc.message) from None
        parser.finish()
        return spec

    # ---- unit helpers ---------------------------------------------------------------
    def neuron_param_dim(self, name: str) -> Dimension:
        """Dimension of a heterogeneous neuron parameter.

        Parameters
        ----------
        name : str
            A key of ``neuron.parameters``, e.g. ``"tau_m"``.

        Returns
        -------
        Dimension
            Its Brian2 dimension.

        Raises
        ------
        KeyError
            ``name`` is not a neuron parameter.
        """
        return self.neuron.parameters[name].dim

    def synapse_param_dims(self) -> dict[str, Dimension]:
        """Dimensions of every per-synapse quantity stored on a Network.

        Returns
        -------
        dict of str to Dimension
            Synapse and plasticity parameters by name, and ``"delay"`` (time) when the
            synapse has a delay.
        """
        dims = {}
        if self.synapse is not None:
            dims.update({k: d.dim for k, d in self.synapse.parameters.items()})
            if self.synapse.delay is not None:
                dims["delay"] = TIME
        if self.plasticity is not None:
            dims.update({k: d.dim for k, d in self.plasticity.parameters.items()})
        return dims

    @property
    def state_variables(self) -> list[str]:
        """Sorted names of the variables declared in ``neuron.equations``."""
        from brian2 import Equations

        return sorted(Equations(self.neuron.equations).names)


def shipped_models() -> list[str]:
    """Names of the models shipped with the package (files in ``models/``).

    Returns
    -------
    list of str
        Sorted model names, usable with :func:`load_model`.

    Examples
    --------
    >>> "hrsnn" in shipped_models()
    True
    """
    root = resources.files("lnp_brian.models")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_model(model: "str | Path | ModelSpec") -> ModelSpec:
    """Load a model by shipped name (e.g. ``"hrsnn"``) or by path to a TOML file.

    The model is validated completely, its equations with Brian2 included (a text already
    accepted in this process is not checked again).

    Parameters
    ----------
    model : str, Path or ModelSpec
        A shipped model's name, a path to a ``.toml`` file, or a ModelSpec (returned as is).

    Returns
    -------
    ModelSpec
        The validated model.

    Raises
    ------
    ModelError
        Unknown name (with the closest shipped name), unreadable file, or an invalid model.
    """
    if isinstance(model, ModelSpec):
        return model
    text_arg = str(model)
    path = Path(text_arg).expanduser()
    names = shipped_models()
    looks_like_path = (path.suffix == ".toml" or "/" in text_arg
                       or (path.exists() and not (path.is_dir() and text_arg in names)))
    if looks_like_path:
        return ModelSpec.from_toml(_read_model_file(path), str(path))
    if text_arg not in names:
        close = difflib.get_close_matches(text_arg, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ModelError(text_arg, "", f"unknown model name; shipped models: {', '.join(names)}; "
                         f"or give a path to a .toml file.{hint}")
    res = resources.files("lnp_brian.models").joinpath(f"{text_arg}.toml")
    return ModelSpec.from_toml(res.read_text(encoding="utf-8"), f"models/{text_arg}.toml")


def _read_model_file(path: Path) -> str:
    """The text of a model file; every failure is one ModelError line naming the path."""
    where = str(path)
    try:
        if path.is_dir():
            raise ModelError(where, "", "is a directory, not a model file (give the path of a .toml file)")
        if not path.exists():
            raise ModelError(where, "", f"no such model file (or give a shipped model by name: "
                                        f"{', '.join(shipped_models())})")
        if not path.is_file():
            raise ModelError(where, "", "not a regular file (give the path of a .toml file)")
        data = path.read_bytes()
    except PermissionError:
        raise ModelError(where, "", "cannot read the file: permission denied") from None
    except OSError as exc:
        raise ModelError(where, "", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ModelError(where, "", f"not a UTF-8 text file (byte 0x{data[exc.start]:02x} at line {line}); "
                                    "model files are UTF-8 TOML") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as Path.read_text does


# ------------------------------------------------------------------------------------
class _Parser:
    """Turns the raw TOML dict into specs, with file/key-precise errors."""

    SECTIONS = {"model", "neuron", "synapse", "plasticity", "network", "input"}
    NEURON = {"equations", "threshold", "reset", "refractory", "method", "input", "input_unit",
              "constants", "parameters", "initial"}
    SYNAPSE = {"model", "on_pre", "on_post", "weight_unit", "delay", "constants", "parameters"}
    PLASTICITY = {"pathways", "model", "on_pre", "on_post", "constants", "parameters"}
    NETWORK = {"n_neurons", "exc_fraction", "dale", "connectivity", "weights", "clusters"}
    CONNECTIVITY = {
        "none": set(),
        "all": set(),
        "random": {"p"},
        "clustered": {"p_within", "p_between"},
        "watts_strogatz": {"k", "beta"},
    }
    NOISE = {
        "poisson": {"rate", "n", "weight", "tau"},
        "ou": {"mean", "std", "tau"},
    }

    def __init__(self, source: str):
        self.source = source
        # checks run by finish(), after the equations had their say on the units
        self.deferred: list = []

    def finish(self) -> None:
        """Run the deferred range checks (see ``ModelSpec.from_toml``)."""
        for check in self.deferred:
            check()
        self.deferred = []

    def err(self, key: str, msg: str) -> ModelError:
        return ModelError(self.source, key, msg)

    def keys(self, table, allowed, where):
        if not isinstance(table, dict):
            raise self.err(where, f"expected a table, got {_given(table)}")
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                name = f"{where}.{key}" if where else key
                raise self.err(name, f"unknown key{hint}; expected one of: {', '.join(sorted(allowed))}")

    def string(self, table, key, where, required=False):
        if key not in table:
            if required:
                raise self.err(f"{where}.{key}", "missing (required)")
            return None
        val = table[key]
        if not isinstance(val, str):
            raise self.err(f"{where}.{key}", f"expected a string, got {_given(val)}")
        return val.strip() or None

    def boolean(self, table, key, where, default):
        val = table.get(key, default)
        if not isinstance(val, bool):
            raise self.err(f"{where}.{key}", f"expected true or false, got {_given(val)}")
        return val

    def number(self, table, key, where, default, kind=float, lo=None, hi=None, what=None,
               lo_open=False):
        """A plain number (int or float) that must be finite and lie in its range; ``what``
        describes it in the error, e.g. ``"a probability in [0.0, 1.0]"``."""
        val = table.get(key, default)
        if what is None:
            what = _range_text("an integer" if kind is int else "a number", lo, hi, lo_open)
        ok = not isinstance(val, bool) and isinstance(val, (int, float))
        if ok:
            try:
                x = float(val)
            except OverflowError:  # an integer beyond the float range
                x = math.inf
            ok = math.isfinite(x) and (kind is not int or x.is_integer())
            if ok:
                val = int(val) if kind is int else x
                ok = _in_range(val, lo, hi, lo_open)
        if not ok:
            bad = table.get(key, default)
            note = " (not a finite number)" if isinstance(bad, float) and not math.isfinite(bad) else ""
            raise self.err(f"{where}.{key}", f"expected {what}, got {_given(bad)}{note}")
        return val

    def wrap(self, exc: Exception, where: str) -> ModelError:
        """Turn a 'key: reason' error from units/distributions into a ModelError."""
        key, sep, reason = str(exc).partition(": ")
        return ModelError(self.source, key, reason) if sep else ModelError(self.source, where, str(exc))

    def quantity(self, value, where, expected=None, *, lo=None, hi=None, lo_open=False, what=None):
        """A finite quantity (unit ``expected`` if given), optionally in a range (SI)."""
        try:
            q = parse_quantity(value, expected, where=where)
        except UnitError as exc:
            raise self.wrap(exc, where) from None
        if not _in_range(float(q), lo, hi, lo_open):
            raise self.err(where, f"expected {what or _range_text('a value', lo, hi, lo_open)}, got {_given(value)}")
        return q

    def constants(self, table, where):
        if not isinstance(table, dict):
            raise self.err(where, f"expected a table of name = value, got {_given(table)}")
        out = {}
        for name, val in table.items():
            key = f"{where}.{name}"
            self.identifier(name, key)
            q = self.quantity(val, key, self.expected_dim(name))
            if get_dimensions(q) is TIME:
                # a time must be positive; unless the name fixes the unit (tau...), the
                # equations are checked first (a voltage given in ms is a unit error)
                check = self._positive_time_check(key, q, val)
                if self.expected_dim(name) is TIME:
                    check()
                else:
                    self.deferred.append(check)
            out[name] = q
        return out

    def _positive_time_check(self, key, q, given):
        def check():
            if not float(q) > 0:
                raise self.err(key, f"expected a positive time (> 0; a time constant), got {_given(given)}")
        return check

    @staticmethod
    def expected_dim(name):
        # A name starting with "tau" is a time constant: a bare number there is a missing unit.
        return TIME if name.startswith("tau") else None

    def identifier(self, name, where):
        if not _IDENT.match(name):
            raise self.err(where, "not a valid variable name")
        if name in RESERVED_NAMES:
            raise self.err(where, f"{name!r} is reserved: the package adds it (reserved: "
                                  f"{', '.join(sorted(RESERVED_NAMES))})")

    def distributions(self, table, where, *, positive_time=True):
        if not isinstance(table, dict):
            raise self.err(where, f"expected a table of name = distribution, got {_given(table)}")
        out = {}
        for name, spec in table.items():
            key = f"{where}.{name}"
            self.identifier(name, key)
            out[name] = self.distribution(spec, key, self.expected_dim(name), positive_time)
        return out

    def distribution(self, spec, key, expected=None, positive_time=True):
        try:
            dist = parse_distribution(spec, expected, where=key)
        except DistributionError as exc:
            raise self.wrap(exc, key) from None
        if dist.dim is TIME and positive_time:
            if expected is not None:
                self.positive(dist, key)
            else:  # the unit is fixed by the equations, checked first
                self.deferred.append(lambda: self.positive(dist, key))
        return dist

    def positive(self, dist: Distribution, key: str, *, strict: bool = True, what: str = "time constants"):
        """Every sample must be positive (``strict``) or non-negative."""
        lowest = _lowest(dist)
        if lowest is None:
            return
        if lowest == -math.inf:
            raise self.err(key, f"{what} must be {'positive' if strict else '>= 0'}; a normal distribution "
                                f"can go negative: give {'a positive' if strict else 'a non-negative'} 'min'")
        if (strict and not lowest > 0) or (not strict and lowest < 0):
            unit = unit_string(dist.dim)
            raise self.err(key, f"{what} must be {'positive (> 0)' if strict else '>= 0'} for every sample; "
                                f"the lowest possible value is {lowest!r} {unit}")

    # ---- sections -----------------------------------------------------------------------
    def model(self, raw: dict, text: str) -> ModelSpec:
        self.keys(raw, self.SECTIONS, "")
        meta = raw.get("model", {})
        self.keys(meta, {"name", "description", "dt"}, "model")
        dt = None
        if "dt" in meta:
            dt = self.quantity(meta["dt"], "model.dt", "second", lo=0.0, lo_open=True,
                               what="a positive time step (> 0)")
        if "neuron" not in raw:
            raise self.err("neuron", "missing section [neuron] (required)")
        neuron = self.neuron(raw["neuron"])
        synapse = self.synapse(raw["synapse"]) if "synapse" in raw else None
        plasticity = self.plasticity(raw["plasticity"]) if "plasticity" in raw else None
        if plasticity is not None and synapse is None:
            raise self.err("plasticity", "needs a [synapse] section (weight unit, delay)")
        network = self.network(raw.get("network", {}), neuron, synapse)
        inp = self.input(raw.get("input", {}), neuron)
        name = self.string(meta, "name", "model") or Path(self.source).stem
        return ModelSpec(name=name, source=self.source, text=text,
                         description=self.string(meta, "description", "model") or "",
                         neuron=neuron, synapse=synapse, plasticity=plasticity,
                         network=network, input=inp, dt=dt)

    def unit(self, t, key, where):
        try:
            return parse_unit(str(t[key]), where=f"{where}.{key}")
        except UnitError as exc:
            raise self.wrap(exc, f"{where}.{key}") from None

    def neuron(self, t) -> NeuronSpec:
        w = "neuron"
        self.keys(t, self.NEURON, w)
        eqs = self.string(t, "equations", w, required=True)
        if eqs is None:
            raise self.err(f"{w}.equations", "must not be empty")
        refractory = None
        if "refractory" in t:
            refractory = self.quantity(t["refractory"], f"{w}.refractory", "second", lo=0.0,
                                       what="a refractory period >= 0")
        inp = self.string(t, "input", w)
        input_dim = DIMENSIONLESS
        if inp is not None:
            self.identifier(inp, f"{w}.input")
            if "input_unit" not in t:
                raise self.err(f"{w}.input_unit", f"missing: give the unit of the input current {inp!r} (e.g. \"amp\")")
            input_dim = self.unit(t, "input_unit", w)
        elif "input_unit" in t:
            raise self.err(f"{w}.input_unit", "given without neuron.input")
        return NeuronSpec(
            equations=eqs,
            threshold=self.string(t, "threshold", w),
            reset=self.string(t, "reset", w),
            refractory=refractory,
            method=self.string(t, "method", w),
            input=inp,
            input_dim=input_dim,
            constants=self.constants(t.get("constants", {}), f"{w}.constants"),
            parameters=self.distributions(t.get("parameters", {}), f"{w}.parameters"),
            initial=self.distributions(t.get("initial", {}), f"{w}.initial", positive_time=False),
        )

    def synapse(self, t) -> SynapseSpec:
        w = "synapse"
        self.keys(t, self.SYNAPSE, w)
        if "weight_unit" not in t:
            raise self.err(f"{w}.weight_unit", "missing: give the unit of the weight w (e.g. \"pA\", or \"1\")")
        wdim = self.unit(t, "weight_unit", w)
        delay = None
        if "delay" in t:
            delay = self.distribution(t["delay"], f"{w}.delay", "second", positive_time=False)
            self.positive(delay, f"{w}.delay", strict=False, what="delays")
        on_pre, model = self.string(t, "on_pre", w), self.string(t, "model", w) or ""
        if on_pre is None and "(summed)" not in model:
            raise self.err(f"{w}.on_pre", "missing: give on_pre (spiking) or a (summed) variable in synapse.model (rate models)")
        return SynapseSpec(
            on_pre=on_pre, on_post=self.string(t, "on_post", w), model=model, weight_dim=wdim,
            delay=delay,
            constants=self.constants(t.get("constants", {}), f"{w}.constants"),
            parameters=self.distributions(t.get("parameters", {}), f"{w}.parameters"),
        )

    def plasticity(self, t) -> PlasticitySpec:
        w = "plasticity"
        self.keys(t, self.PLASTICITY, w)
        pathways = t.get("pathways", ["EE"])
        if not isinstance(pathways, list) or not pathways or any(p not in PATHWAYS for p in pathways):
            raise self.err(f"{w}.pathways", f"expected a non-empty list of {', '.join(PATHWAYS)} (pre then post type), got {pathways!r}")
        on_pre = self.string(t, "on_pre", w, required=True)
        return PlasticitySpec(
            pathways=tuple(pathways), model=self.string(t, "model", w) or "", on_pre=on_pre,
            on_post=self.string(t, "on_post", w),
            constants=self.constants(t.get("constants", {}), f"{w}.constants"),
            parameters=self.distributions(t.get("parameters", {}), f"{w}.parameters"),
        )

    def network(self, t, neuron: NeuronSpec, synapse: SynapseSpec | None) -> NetworkDefaults:
        w = "network"
        self.keys(t, self.NETWORK, w)
        n = self.number(t, "n_neurons", w, 1, int, lo=1, hi=_MAX_NEURONS,
                        what=f"a whole number of neurons >= 1 (at most {_MAX_NEURONS})")
        exc = self.number(t, "exc_fraction", w, 1.0, float, lo=0.0, hi=1.0,
                          what="a fraction of excitatory neurons in [0.0, 1.0]")
        dale = self.boolean(t, "dale", w, True)
        conn = t.get("connectivity", {"kind": "none"})
        if not isinstance(conn, dict):
            raise self.err(f"{w}.connectivity", f"expected a table such as {{ kind = \"random\", p = 0.1 }}, got {_given(conn)}")
        conn = dict(conn)
        kind = conn.get("kind", "none")
        if kind not in self.CONNECTIVITY:
            raise self.err(f"{w}.connectivity.kind", f"unknown kind {kind!r}; expected one of {', '.join(self.CONNECTIVITY)}")
        self.keys(conn, self.CONNECTIVITY[kind] | {"kind", "autapses"}, f"{w}.connectivity")
        if "autapses" in conn:
            self.boolean(conn, "autapses", f"{w}.connectivity", False)
        for key in self.CONNECTIVITY[kind]:
            if key not in conn:
                raise self.err(f"{w}.connectivity.{key}", f"missing (connectivity {kind!r} needs {', '.join(sorted(self.CONNECTIVITY[kind]))})")
            if key in ("p", "p_within", "p_between", "beta"):
                what = ("a rewiring probability" if key == "beta" else "a connection probability") + " in [0.0, 1.0]"
                conn[key] = self.number(conn, key, f"{w}.connectivity", None, float, lo=0.0, hi=1.0, what=what)
            else:
                conn[key] = self.number(conn, key, f"{w}.connectivity", None, int, lo=1, hi=_MAX_NEURONS,
                                        what="a whole number of neighbours >= 1")
        if kind != "none" and synapse is None:
            raise self.err(f"{w}.connectivity", f"connectivity {kind!r} needs a [synapse] section")
        weights = {}
        wt = t.get("weights", {})
        self.keys(wt, set(PATHWAYS) | {"all"}, f"{w}.weights")
        if synapse is not None and kind != "none":
            needed = ["all"] if "all" in wt else list(PATHWAYS if exc < 1.0 else ["EE"])
            if exc == 0.0 and "all" not in wt:
                needed = ["II"]
            for pw in needed:
                if pw not in wt:
                    raise self.err(f"{w}.weights.{pw}", "missing weight distribution (give all four pathways EE, EI, IE, II, or 'all')")
            for pw, spec in wt.items():
                weights[pw] = self.distribution(spec, f"{w}.weights.{pw}", synapse.weight_dim)
                if dale:
                    lowest = _lowest(weights[pw])
                    if lowest is not None and lowest < 0:
                        raise self.err(f"{w}.weights.{pw}", "with dale = true weights are magnitudes (sign from the presynaptic type): the distribution must be non-negative (give min = 0)")
        clusters = []
        ct = t.get("clusters", [])
        if not isinstance(ct, list):
            raise self.err(f"{w}.clusters", "expected an array of tables [[network.clusters]]")
        for k, c in enumerate(ct):
            where = f"{w}.clusters[{k}]"
            self.keys(c, {"fraction", "parameters"}, where)
            if "fraction" not in c:
                raise self.err(f"{where}.fraction", "missing (the fraction of the neurons in this cluster)")
            frac = self.number(c, "fraction", where, None, float, lo=0.0, hi=1.0, lo_open=True,
                               what="a fraction of the neurons in (0.0, 1.0]")
            params = self.distributions(c.get("parameters", {}), f"{where}.parameters")
            for name in params:
                if name not in neuron.parameters:
                    raise self.err(f"{where}.parameters.{name}", f"not a neuron parameter (neuron.parameters has {', '.join(neuron.parameters) or 'none'})")
                if params[name].dim is not neuron.parameters[name].dim:
                    raise self.err(f"{where}.parameters.{name}", f"unit {unit_string(params[name].dim)} differs from neuron.parameters.{name} ({unit_string(neuron.parameters[name].dim)})")
            clusters.append(ClusterSpec(frac, params))
        if clusters and abs(sum(c.fraction for c in clusters) - 1.0) > 1e-9:
            raise self.err(f"{w}.clusters", f"cluster fractions must sum to 1, got {sum(c.fraction for c in clusters)}")
        if kind == "clustered" and not clusters:
            raise self.err(f"{w}.connectivity.kind", "'clustered' needs [[network.clusters]]")
        return NetworkDefaults(n, exc, dale, conn, weights, tuple(clusters))

    def input(self, t, neuron: NeuronSpec) -> dict:
        self.keys(t, {"noise"}, "input")
        if not t:
            return {}
        if neuron.input is None:
            raise self.err("input", "the model has no neuron.input current to drive")
        noise = t.get("noise")
        if noise is None:
            return {}
        where = "input.noise"
        if not isinstance(noise, dict) or noise.get("kind") not in self.NOISE:
            got = noise.get("kind") if isinstance(noise, dict) else noise
            raise self.err(f"{where}.kind", f"expected one of {', '.join(self.NOISE)}, got {_given(got)}")
        kind = noise["kind"]
        self.keys(noise, self.NOISE[kind] | {"kind"}, where)
        out = {"kind": kind}
        # unit, lowest allowed value, open bound, description
        checks = {"rate": ("Hz", 0.0, False, "a rate >= 0 (per source)"),
                  "weight": (neuron.input_dim, None, False, None),
                  "tau": ("second", 0.0, True, "a positive time constant (> 0)"),
                  "mean": (neuron.input_dim, None, False, None),
                  "std": (neuron.input_dim, 0.0, False, "a standard deviation >= 0")}
        for key in self.NOISE[kind]:
            if key not in noise:
                raise self.err(f"{where}.{key}", f"missing (noise kind {kind!r} needs {', '.join(sorted(self.NOISE[kind]))})")
            if key == "n":
                out[key] = self.number(noise, key, where, None, int, lo=1, hi=_MAX_NEURONS,
                                       what="a whole number of sources >= 1")
            else:
                unit, lo, lo_open, what = checks[key]
                out[key] = self.quantity(noise[key], f"{where}.{key}", unit, lo=lo, lo_open=lo_open, what=what)
        return out


_MAX_NEURONS = 2**31 - 1  # neuron indices are int32


def _in_range(x, lo, hi, lo_open=False) -> bool:
    if lo is not None and (x <= lo if lo_open else x < lo):
        return False
    return hi is None or x <= hi


def _range_text(noun, lo, hi, lo_open=False) -> str:
    if lo is not None and hi is not None:
        return f"{noun} in {'(' if lo_open else '['}{lo}, {hi}]"
    if lo is not None:
        return f"{noun} {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f"{noun} <= {hi}"
    return f"{noun}"


def _given(value) -> str:
    """A value as the model file wrote it, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    if isinstance(value, (str, int, float)):
        return repr(value)
    return f"a {type(value).__name__}"


def _lowest(dist: Distribution) -> float | None:
    """The lowest value a distribution can produce (SI), after clipping to min/max; None
    when only bounded by zero from below (lognormal, gamma: always positive)."""
    p = dist.params
    lowest = {"constant": p.get("value"), "uniform": p.get("low"), "normal": -math.inf}.get(dist.kind)
    if dist.min is not None:
        lowest = dist.min if lowest is None else max(lowest, dist.min)
    if dist.max is not None and lowest is not None:
        lowest = min(lowest, dist.max)
    elif dist.max is not None and dist.max <= 0:  # lognormal/gamma clipped at a max <= 0
        lowest = dist.max
    return lowest
