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
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from brian2.units.fundamentalunits import DIMENSIONLESS, Dimension, Quantity, get_dimensions

from .distributions import Distribution, DistributionError, parse_distribution
from .units import UnitError, parse_quantity, parse_unit, unit_string

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


class ModelError(ValueError):
    """A model file that cannot be used: names the file, the key and what was expected."""

    def __init__(self, source: str, key: str, message: str):
        self.source, self.key = source, key
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class NeuronSpec:
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
        return self.threshold is not None


@dataclass(frozen=True)
class SynapseSpec:
    on_pre: str | None = None
    on_post: str | None = None
    model: str = ""
    weight_dim: Dimension = DIMENSIONLESS
    delay: Distribution | None = None
    constants: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)  # name -> Distribution (per synapse)


@dataclass(frozen=True)
class PlasticitySpec:
    pathways: tuple = ("EE",)
    model: str = ""
    on_pre: str | None = None
    on_post: str | None = None
    constants: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)  # name -> Distribution (per plastic synapse)


@dataclass(frozen=True)
class ClusterSpec:
    fraction: float
    parameters: dict = field(default_factory=dict)  # overrides of neuron parameters


@dataclass(frozen=True)
class NetworkDefaults:
    n_neurons: int = 1
    exc_fraction: float = 1.0
    dale: bool = True
    connectivity: dict = field(default_factory=lambda: {"kind": "none"})
    weights: dict = field(default_factory=dict)  # pathway or "all" -> Distribution
    clusters: tuple = ()


@dataclass(frozen=True)
class ModelSpec:
    """A validated model file. ``text`` is the file's TOML, kept so a saved network is
    self-contained."""

    name: str
    source: str
    text: str
    description: str
    neuron: NeuronSpec
    synapse: SynapseSpec | None
    plasticity: PlasticitySpec | None
    network: NetworkDefaults
    input: dict  # default input for simulations (see lnp_brian.inputs.default_input)
    dt: Quantity | None = None  # default integration step

    @classmethod
    def from_toml(cls, text: str, source: str = "<string>", *, validate: bool = True) -> "ModelSpec":
        """Parse and validate model TOML text (``source`` is used in error messages)."""
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ModelError(source, "", f"invalid TOML: {exc}") from None
        spec = _Parser(source).model(raw, text)
        if validate:
            from .validate import check_with_brian2

            check_with_brian2(spec)
        return spec

    # ---- unit helpers ---------------------------------------------------------------
    def neuron_param_dim(self, name: str) -> Dimension:
        return self.neuron.parameters[name].dim

    def synapse_param_dims(self) -> dict[str, Dimension]:
        """Dimensions of every per-synapse quantity stored on a Network."""
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
        from brian2 import Equations

        return sorted(Equations(self.neuron.equations).names)


def shipped_models() -> list[str]:
    """Names of the models shipped with the package (files in ``models/``)."""
    root = resources.files("lnp_brian.models")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_model(model: "str | Path | ModelSpec") -> ModelSpec:
    """Load a model by shipped name (e.g. ``"hrsnn"``) or by path to a TOML file."""
    if isinstance(model, ModelSpec):
        return model
    text_arg = str(model)
    path = Path(text_arg).expanduser()
    looks_like_path = path.suffix == ".toml" or "/" in text_arg or path.exists()
    if looks_like_path:
        if not path.is_file():
            raise ModelError(str(path), "", "no such model file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(str(path), "", f"cannot read: {exc}") from None
        return ModelSpec.from_toml(text, str(path))
    names = shipped_models()
    if text_arg not in names:
        close = difflib.get_close_matches(text_arg, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ModelError(text_arg, "", f"unknown model name; shipped models: {', '.join(names)}; "
                         f"or give a path to a .toml file.{hint}")
    res = resources.files("lnp_brian.models").joinpath(f"{text_arg}.toml")
    return ModelSpec.from_toml(res.read_text(encoding="utf-8"), f"models/{text_arg}.toml")


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

    def err(self, key: str, msg: str) -> ModelError:
        return ModelError(self.source, key, msg)

    def keys(self, table, allowed, where):
        if not isinstance(table, dict):
            raise self.err(where, f"expected a table, got {type(table).__name__}")
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
            raise self.err(f"{where}.{key}", f"expected a string, got {val!r}")
        return val.strip() or None

    def number(self, table, key, where, default, kind=float, lo=None, hi=None):
        val = table.get(key, default)
        if isinstance(val, bool) or not isinstance(val, (int, float)) or (kind is int and not float(val).is_integer()):
            raise self.err(f"{where}.{key}", f"expected {'an integer' if kind is int else 'a number'}, got {val!r}")
        val = kind(val)
        if (lo is not None and val < lo) or (hi is not None and val > hi):
            raise self.err(f"{where}.{key}", f"must lie in [{lo}, {hi}], got {val}")
        return val

    def wrap(self, exc: Exception, where: str) -> ModelError:
        """Turn a 'key: reason' error from units/distributions into a ModelError."""
        key, sep, reason = str(exc).partition(": ")
        return ModelError(self.source, key, reason) if sep else ModelError(self.source, where, str(exc))

    def quantity(self, value, where, expected=None):
        try:
            return parse_quantity(value, expected, where=where)
        except UnitError as exc:
            raise self.wrap(exc, where) from None

    def constants(self, table, where):
        self.keys(table, set(table), where)
        out = {}
        for name, val in table.items():
            self.identifier(name, f"{where}.{name}")
            q = self.quantity(val, f"{where}.{name}", self.expected_dim(name))
            if get_dimensions(q) is TIME and not float(q) > 0:
                raise self.err(f"{where}.{name}", f"times (time constants) must be positive, got {q}")
            out[name] = q
        return out

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
            raise self.err(where, "expected a table of name = distribution")
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
            self.positive(dist, key)
        return dist

    def positive(self, dist: Distribution, key: str):
        """A time constant must be positive for every sample."""
        p = dist.params
        lowest = {
            "constant": p.get("value"),
            "uniform": p.get("low"),
        }.get(dist.kind)
        if dist.kind == "normal":
            lowest = dist.min if dist.min is not None else float("-inf")
        if dist.min is not None and dist.kind != "normal":
            lowest = max(lowest, dist.min) if lowest is not None else dist.min
        if lowest is not None and not lowest > 0:
            what = ("a normal distribution can go negative: give a positive 'min'"
                    if dist.kind == "normal" else f"lowest value {lowest!r} s")
            raise self.err(key, f"time constants must be positive; {what}")

    # ---- sections -----------------------------------------------------------------------
    def model(self, raw: dict, text: str) -> ModelSpec:
        self.keys(raw, self.SECTIONS, "")
        meta = raw.get("model", {})
        self.keys(meta, {"name", "description", "dt"}, "model")
        dt = self.quantity(meta["dt"], "model.dt", "second") if "dt" in meta else None
        if dt is not None and not float(dt) > 0:
            raise self.err("model.dt", f"must be positive, got {dt}")
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

    def neuron(self, t) -> NeuronSpec:
        w = "neuron"
        self.keys(t, self.NEURON, w)
        eqs = self.string(t, "equations", w, required=True)
        if eqs is None:
            raise self.err(f"{w}.equations", "must not be empty")
        refractory = None
        if "refractory" in t:
            refractory = self.quantity(t["refractory"], f"{w}.refractory", "second")
            if float(refractory) < 0:
                raise self.err(f"{w}.refractory", f"must be >= 0, got {refractory}")
        inp = self.string(t, "input", w)
        input_dim = DIMENSIONLESS
        if inp is not None:
            self.identifier(inp, f"{w}.input")
            if "input_unit" not in t:
                raise self.err(f"{w}.input_unit", f"missing: give the unit of the input current {inp!r} (e.g. \"amp\")")
            try:
                input_dim = parse_unit(str(t["input_unit"]), where=f"{w}.input_unit")
            except UnitError as exc:
                raise self.wrap(exc, f"{w}.input_unit") from None
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
        try:
            wdim = parse_unit(str(t["weight_unit"]), where=f"{w}.weight_unit")
        except UnitError as exc:
            raise self.wrap(exc, f"{w}.weight_unit") from None
        delay = None
        if "delay" in t:
            delay = self.distribution(t["delay"], f"{w}.delay", "second", positive_time=False)
            low = delay.params.get("value", delay.params.get("low", delay.min))
            if delay.kind == "normal" and delay.min is None:
                raise self.err(f"{w}.delay", "a normal delay distribution can go negative: give 'min'")
            if low is not None and low < 0:
                raise self.err(f"{w}.delay", "delays must be >= 0")
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
        n = self.number(t, "n_neurons", w, 1, int, lo=1)
        exc = self.number(t, "exc_fraction", w, 1.0, float, lo=0.0, hi=1.0)
        dale = t.get("dale", True)
        if not isinstance(dale, bool):
            raise self.err(f"{w}.dale", f"expected true or false, got {dale!r}")
        conn = dict(t.get("connectivity", {"kind": "none"}))
        kind = conn.get("kind", "none")
        if kind not in self.CONNECTIVITY:
            raise self.err(f"{w}.connectivity.kind", f"unknown kind {kind!r}; expected one of {', '.join(self.CONNECTIVITY)}")
        self.keys(conn, self.CONNECTIVITY[kind] | {"kind", "autapses"}, f"{w}.connectivity")
        for key in self.CONNECTIVITY[kind]:
            if key not in conn:
                raise self.err(f"{w}.connectivity.{key}", f"missing (connectivity {kind!r} needs {', '.join(sorted(self.CONNECTIVITY[kind]))})")
            if key in ("p", "p_within", "p_between", "beta"):
                self.number(conn, key, f"{w}.connectivity", None, float, lo=0.0, hi=1.0)
            else:
                self.number(conn, key, f"{w}.connectivity", None, int, lo=1)
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
                if dale and weights[pw].kind in ("normal", "uniform") and (
                        weights[pw].params.get("low", 0) < 0 or weights[pw].kind == "normal" and (weights[pw].min is None or weights[pw].min < 0)):
                    raise self.err(f"{w}.weights.{pw}", "with dale = true weights are magnitudes (sign from the presynaptic type): the distribution must be non-negative (give min = 0)")
        clusters = []
        ct = t.get("clusters", [])
        if not isinstance(ct, list):
            raise self.err(f"{w}.clusters", "expected an array of tables [[network.clusters]]")
        for k, c in enumerate(ct):
            where = f"{w}.clusters[{k}]"
            self.keys(c, {"fraction", "parameters"}, where)
            frac = self.number(c, "fraction", where, None, float, lo=0.0, hi=1.0)
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
            raise self.err(f"{where}.kind", f"expected one of {', '.join(self.NOISE)}")
        kind = noise["kind"]
        self.keys(noise, self.NOISE[kind] | {"kind"}, where)
        out = {"kind": kind}
        units = {"rate": "Hz", "weight": neuron.input_dim, "tau": "second", "mean": neuron.input_dim,
                 "std": neuron.input_dim}
        for key in self.NOISE[kind]:
            if key not in noise:
                raise self.err(f"{where}.{key}", f"missing (noise kind {kind!r} needs {', '.join(sorted(self.NOISE[kind]))})")
            if key == "n":
                out[key] = self.number(noise, key, where, None, int, lo=1)
            else:
                out[key] = self.quantity(noise[key], f"{where}.{key}", units[key])
        if float(out["tau"]) <= 0:
            raise self.err(f"{where}.tau", "a time constant must be positive")
        return out
