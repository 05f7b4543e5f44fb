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

    Usually made by :func:`parse_distribution` from a model file's table, or with
    :meth:`constant` and :meth:`gamma`.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`: ``"constant"``, ``"uniform"``, ``"normal"``, ``"lognormal"``
        or ``"gamma"``.
    params : dict of str to float, optional
        The kind's parameters (e.g. ``mean`` and ``cv``) as SI floats; ``cv`` and ``shape``
        are plain numbers.
    dim : Dimension, optional
        Dimension of the sampled quantity (default dimensionless).
    min : float, optional
        Lower clipping bound of the samples (SI); None for none.
    max : float, optional
        Upper clipping bound of the samples (SI); None for none.

    Examples
    --------
    >>> from lnp_brian.core.units import parse_quantity
    >>> d = Distribution.gamma(parse_quantity("20 ms"), 0.5, min=0.002)
    >>> d.mean, d.cv
    (0.02, 0.5)
    >>> d.describe()
    'gamma(mean=0.02 second, cv=0.5, min=0.002 second)'
    """

    kind: str
    params: dict = field(default_factory=dict)
    dim: Dimension = DIMENSIONLESS
    min: float | None = None
    max: float | None = None

    @classmethod
    def constant(cls, value) -> "Distribution":
        """A distribution that always gives ``value``.

        Parameters
        ----------
        value : Quantity or float
            The value; a plain number is dimensionless.

        Returns
        -------
        Distribution
            Kind ``"constant"`` with the value in SI units and its dimension.

        Examples
        --------
        >>> import numpy as np
        >>> from lnp_brian.core.units import parse_quantity
        >>> d = Distribution.constant(parse_quantity("-65 mV"))
        >>> d.describe()
        'constant(value=-0.065 volt)'
        >>> d.sample(3, np.random.default_rng(0))
        array([-0.065, -0.065, -0.065])
        """
        q = value if isinstance(value, Quantity) else Quantity(float(value))
        return cls("constant", {"value": float(q)}, get_dimensions(q))

    @classmethod
    def gamma(cls, mean, cv, *, min=None, max=None) -> "Distribution":
        """A gamma distribution given by its mean and coefficient of variation.

        Parameters
        ----------
        mean : Quantity or float
            The mean (a plain number is dimensionless); must be positive.
        cv : float
            Coefficient of variation (std / mean), a plain number > 0.
        min : float, optional
            Lower clipping bound in SI units of ``mean`` (e.g. ``0.002`` for 2 ms).
        max : float, optional
            Upper clipping bound in SI units of ``mean``.

        Returns
        -------
        Distribution
            Kind ``"gamma"`` with ``mean`` and ``cv``.

        Raises
        ------
        DistributionError
            If the mean or cv is not positive and finite, or ``max`` is not above ``min``
            (the checks of :func:`parse_distribution`).
        """
        q = mean if isinstance(mean, Quantity) else Quantity(float(mean))
        dist = cls("gamma", {"mean": float(q), "cv": float(cv)}, get_dimensions(q),
                   None if min is None else float(min), None if max is None else float(max))
        _check(dist, "Distribution.gamma")
        return dist

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
        """Draw ``n`` values, clipped to ``min`` and ``max``.

        Parameters
        ----------
        n : int
            Number of values.
        rng : numpy.random.Generator
            Source of randomness (unused for ``"constant"``), e.g. from
            :func:`lnp_brian.core.seeding.rng`.

        Returns
        -------
        ndarray of float64, shape (n,)
            The values in SI units of :attr:`dim`.

        Examples
        --------
        >>> import numpy as np
        >>> d = parse_distribution({"distribution": "uniform", "low": "1 ms", "high": "3 ms"})
        >>> d.sample(3, np.random.default_rng(0)).round(5)
        array([0.00227, 0.00154, 0.00108])
        """
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
        """Table form with unit strings, as in a model file.

        The table round-trips through :func:`parse_distribution`.

        Returns
        -------
        dict
            ``distribution`` (the kind), each parameter and bound as a string with its SI
            unit (plain numbers for ``cv``, ``shape`` and dimensionless distributions).

        Examples
        --------
        >>> parse_distribution({"distribution": "gamma", "mean": "20 ms", "cv": 0.5, "min": "2 ms"}).to_dict()
        {'distribution': 'gamma', 'mean': '0.02 second', 'cv': 0.5, 'min': '0.002 second'}
        """
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
        """One-line description, e.g. ``gamma(mean=0.02 second, cv=0.5)``.

        Returns
        -------
        str
            The kind with its parameters and bounds (SI units).
        """
        d = self.to_dict()
        args = ", ".join(f"{k}={v}" for k, v in d.items() if k != "distribution")
        return f"{self.kind}({args})"


def parse_distribution(spec, expected=None, *, where: str = "") -> Distribution:
    """Build a :class:`Distribution` from a model-file value.

    Parameters
    ----------
    spec : dict, str, int or float
        A table (``{distribution = "gamma", mean = "20 ms", cv = 0.5}``, with optional
        ``min`` and ``max``) or a plain value (``"20 ms"`` or ``1.5``), which means a
        constant.
    expected : str, Unit, Quantity or Dimension, optional
        The required dimension (anything :func:`~lnp_brian.core.units.parse_quantity`
        accepts); when omitted the dimension is taken from the values.
    where : str, optional
        Names the file and key in errors, e.g. ``"neuron.parameters.tau_m"``.

    Returns
    -------
    Distribution
        The validated distribution (parameters in SI units).

    Raises
    ------
    DistributionError
        Unknown kind, missing or extra keys, a wrong or inconsistent unit, a non-finite
        number, or a parameter out of range (e.g. ``std <= 0``, ``high <= low``).

    Examples
    --------
    >>> d = parse_distribution({"distribution": "gamma", "mean": "20 ms", "cv": 0.5, "min": "2 ms"},
    ...                        "second", where="neuron.parameters.tau_m")
    >>> d
    Distribution(kind='gamma', params={'mean': 0.02, 'cv': 0.5}, dim=second, min=0.002, max=None)
    >>> parse_distribution("-65 mV").describe()
    'constant(value=-0.065 volt)'
    >>> parse_distribution({"distribution": "normal", "mean": "1 mV"}, where="x")
    Traceback (most recent call last):
    ...
    lnp_brian.model.distributions.DistributionError: x: distribution 'normal' takes keys {mean, std} (plus optional min, max); got {mean}
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
    for key in sorted(keys, key=lambda k: (k in _DIMENSIONLESS_KEYS, k)):  # the same order in every process
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
