"""Parameter distributions with units, as written in model files.

A heterogeneous parameter is a table such as::

    tau_m = { distribution = "gamma", mean = "20 ms", cv = 0.5, min = "2 ms" }

Kinds: ``constant`` (value), ``uniform`` (low, high), ``normal`` (mean, std),
``lognormal`` (mean, cv — of the lognormal variable itself), ``gamma`` (mean and cv, or
shape and scale). ``min`` and ``max`` clip samples (clipping, not truncation: values outside
are set to the bound). Samples are returned as float64 arrays in SI base units; the
distribution carries the dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS, Dimension, Quantity, get_dimensions

from ..core.units import UnitError, as_dimension, parse_quantity, unit_string

__all__ = ["Distribution", "DistributionError", "parse_distribution", "KINDS"]

KINDS = {
    "constant": ({"value"},),
    "uniform": ({"low", "high"},),
    "normal": ({"mean", "std"},),
    "lognormal": ({"mean", "cv"},),
    "gamma": ({"mean", "cv"}, {"shape", "scale"}),
}
# keys that are plain numbers, not quantities
_DIMENSIONLESS_KEYS = {"cv", "shape"}


class DistributionError(ValueError):
    """A distribution table that is malformed (unknown kind, missing key, bad unit...)."""


@dataclass(frozen=True)
class Distribution:
    """A distribution of a physical quantity.

    ``params`` hold SI floats; ``dim`` is the dimension of the sampled quantity.
    """

    kind: str
    params: dict = field(default_factory=dict)
    dim: Dimension = DIMENSIONLESS
    min: float | None = None
    max: float | None = None

    @classmethod
    def constant(cls, value) -> "Distribution":
        q = value if isinstance(value, Quantity) else Quantity(float(value))
        return cls("constant", {"value": float(q)}, get_dimensions(q))

    @classmethod
    def gamma(cls, mean, cv, *, min=None, max=None) -> "Distribution":
        q = mean if isinstance(mean, Quantity) else Quantity(float(mean))
        dim = get_dimensions(q)
        return cls("gamma", {"mean": float(q), "cv": float(cv)}, dim,
                   None if min is None else float(min), None if max is None else float(max))

    @property
    def mean(self) -> float:
        """Analytic mean (SI, before clipping)."""
        p = self.params
        if self.kind == "constant":
            return p["value"]
        if self.kind == "uniform":
            return 0.5 * (p["low"] + p["high"])
        if self.kind == "gamma" and "shape" in p:
            return p["shape"] * p["scale"]
        return p["mean"]

    @property
    def cv(self) -> float:
        """Analytic coefficient of variation (before clipping)."""
        p = self.params
        if self.kind == "constant":
            return 0.0
        if self.kind == "uniform":
            return (p["high"] - p["low"]) / np.sqrt(12) / abs(self.mean)
        if self.kind == "normal":
            return p["std"] / abs(p["mean"])
        if self.kind == "gamma" and "shape" in p:
            return 1.0 / np.sqrt(p["shape"])
        return p["cv"]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` values (float64, SI units)."""
        p = self.params
        if self.kind == "constant":
            x = np.full(n, p["value"], dtype=float)
        elif self.kind == "uniform":
            x = rng.uniform(p["low"], p["high"], n)
        elif self.kind == "normal":
            x = rng.normal(p["mean"], p["std"], n)
        elif self.kind == "lognormal":
            s2 = np.log1p(p["cv"] ** 2)
            mu = np.log(p["mean"]) - 0.5 * s2
            x = rng.lognormal(mu, np.sqrt(s2), n)
        elif self.kind == "gamma":
            if "shape" in p:
                shape, scale = p["shape"], p["scale"]
            else:
                shape = 1.0 / p["cv"] ** 2
                scale = p["mean"] / shape
            x = rng.gamma(shape, scale, n)
        else:  # pragma: no cover - guarded by parse_distribution
            raise DistributionError(f"unknown distribution {self.kind!r}")
        if self.min is not None or self.max is not None:
            x = np.clip(x, self.min, self.max)
        return x

    def to_dict(self) -> dict:
        """Table form with unit strings, as in a model file (round-trips through parse)."""
        unit = unit_string(self.dim)
        out: dict = {"distribution": self.kind}
        for key, val in self.params.items():
            out[key] = val if key in _DIMENSIONLESS_KEYS or unit == "1" else f"{val!r} {unit}"
        for key in ("min", "max"):
            val = getattr(self, key)
            if val is not None:
                out[key] = val if unit == "1" else f"{val!r} {unit}"
        return out

    def describe(self) -> str:
        d = self.to_dict()
        args = ", ".join(f"{k}={v}" for k, v in d.items() if k != "distribution")
        return f"{self.kind}({args})"


def parse_distribution(spec, expected=None, *, where: str = "") -> Distribution:
    """Build a :class:`Distribution` from a model-file value.

    ``spec`` is a table (``{distribution = "gamma", mean = "20 ms", cv = 0.5}``) or a plain
    value (``"20 ms"`` or ``1.5``), which means a constant. ``expected`` is the required
    dimension (anything :func:`~lnp_brian.core.units.parse_quantity` accepts); when omitted the
    dimension is taken from the values. ``where`` names the file and key in errors.
    """
    if not isinstance(spec, dict):
        try:
            q = parse_quantity(spec, expected, where=where)
        except UnitError as exc:
            raise DistributionError(str(exc)) from None
        return Distribution("constant", {"value": float(q)}, get_dimensions(q))

    spec = dict(spec)
    kind = spec.pop("distribution", None)
    if kind is None:
        raise DistributionError(f"{where}: missing key 'distribution' (one of {', '.join(KINDS)})")
    if kind not in KINDS:
        raise DistributionError(
            f"{where}: unknown distribution {kind!r}; expected one of {', '.join(KINDS)}")
    bounds = {k: spec.pop(k) for k in ("min", "max") if k in spec}
    keys = set(spec)
    for allowed in KINDS[kind]:
        if keys == allowed:
            break
    else:
        forms = " or ".join("{" + ", ".join(sorted(a)) + "}" for a in KINDS[kind])
        raise DistributionError(
            f"{where}: distribution {kind!r} takes keys {forms} (plus optional min, max); "
            f"got {{{', '.join(sorted(keys))}}}")

    dim = None
    if expected is not None:
        dim = as_dimension(expected)
    params: dict[str, float] = {}
    for key in sorted(keys, key=lambda k: k in _DIMENSIONLESS_KEYS):
        sub = f"{where}.{key}"
        if key in _DIMENSIONLESS_KEYS:
            val = spec[key]
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                raise DistributionError(f"{sub}: expected a plain number, got {val!r}")
            try:
                params[key] = float(parse_quantity(val, DIMENSIONLESS, where=sub))
            except UnitError as exc:
                raise DistributionError(str(exc)) from None
            continue
        try:
            q = parse_quantity(spec[key], dim, where=sub)
        except UnitError as exc:
            raise DistributionError(str(exc)) from None
        if dim is None:
            dim = get_dimensions(q)
        params[key] = float(q)
    dim = DIMENSIONLESS if dim is None else dim
    lim = {}
    for key, val in bounds.items():
        try:
            lim[key] = float(parse_quantity(val, dim, where=f"{where}.{key}"))
        except UnitError as exc:
            raise DistributionError(str(exc)) from None
    dist = Distribution(kind, params, dim, lim.get("min"), lim.get("max"))
    _check(dist, where)
    return dist


def _check(d: Distribution, where: str) -> None:
    p = d.params
    for key, val in [*p.items(), ("min", d.min), ("max", d.max)]:
        if val is not None and not np.isfinite(val):  # parse_quantity refuses these already
            raise DistributionError(f"{where}.{key}: {val!r} is not a finite number; every number must be finite")
    positive = {"std": "std", "cv": "cv", "shape": "shape", "scale": "scale"}
    for key, label in positive.items():
        if key in p and not p[key] > 0:
            raise DistributionError(f"{where}.{key}: {label} must be > 0, got {p[key]}")
    if "cv" in p and p["cv"] > 1e150:  # cv**2 would overflow when sampling
        raise DistributionError(f"{where}.cv: cv must lie in (0, 1e150], got {p['cv']}")
    if d.kind == "uniform" and not p["high"] > p["low"]:
        raise DistributionError(f"{where}: uniform needs high > low")
    if d.kind in ("lognormal", "gamma") and "mean" in p and not p["mean"] > 0:
        raise DistributionError(f"{where}.mean: {d.kind} needs a positive mean, got {p['mean']}")
    if d.min is not None and d.max is not None and not d.max > d.min:
        raise DistributionError(f"{where}: max must be larger than min")
