"""Physical quantities written as text in model and config files.

Model files write quantities as strings such as ``"20 ms"``, ``"-65 mV"``, ``"100 Mohm"``
or ``"8/3"``. They are parsed here with Brian2's unit system by a small arithmetic
evaluator (numbers, unit names, ``* / **``, parentheses, unary minus) that never calls
``eval``, so a model file cannot run code.
"""

from __future__ import annotations

import ast
import numbers
import re

import numpy as np
from brian2.units import allunits as _allunits
from brian2 import units as _units
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    Dimension,
    Quantity,
    Unit,
    get_dimensions,
)

__all__ = ["UnitError", "parse_quantity", "seconds", "parse_unit", "as_dimension", "unit_string", "format_quantity"]


class UnitError(ValueError):
    """A quantity or unit string that cannot be parsed or has the wrong dimension."""


def _unit_namespace() -> dict[str, Unit]:
    names: dict[str, Unit] = {}
    for mod in (_allunits, _units):
        for name, obj in vars(mod).items():
            if isinstance(obj, Unit) and not name.startswith("_"):
                names[name] = obj
    names.setdefault("s", _units.second)  # "1 s" reads naturally in model files
    return names


_UNITS = _unit_namespace()
_BINOPS = {
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
}


def _eval(node: ast.AST, text: str):
    if isinstance(node, ast.Expression):
        return _eval(node.body, text)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return _float(node.value, text)
    if isinstance(node, ast.Name):
        if node.id in _UNITS:
            return _UNITS[node.id]
        if node.id.lower() in ("nan", "inf", "infinity"):
            raise UnitError(f"{text!r} is not a finite number; every number must be finite")
        raise UnitError(f"unknown unit {node.id!r} in {text!r}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, text), _eval(node.right, text)
        if isinstance(node.op, ast.Pow):
            if not isinstance(right, float):
                raise UnitError(f"exponent must be a number in {text!r}")
            op = lambda a, b: a**b  # noqa: E731
        else:
            op = _BINOPS.get(type(node.op))
        if op is not None:
            try:
                with np.errstate(all="ignore"):  # an overflow becomes inf, refused below
                    result = op(left, right)
            except ZeroDivisionError:
                raise UnitError(f"cannot evaluate {text!r}: division by zero") from None
            except OverflowError:
                raise UnitError(f"cannot evaluate {text!r}: the result is too large (not a finite number)") from None
            except Exception as exc:  # brian2 DimensionMismatchError for '1 mV + 1 ms'
                raise UnitError(f"cannot evaluate {text!r}: {' '.join(str(exc).split())}") from None
            if isinstance(result, complex):  # (-8) ** 0.5
                raise UnitError(f"cannot evaluate {text!r}: the result is not a real number")
            return result
    raise UnitError(f"cannot parse {text!r} as a quantity (numbers, unit names, * / ** only)")


def _float(value, text) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        shown = repr(text) if len(repr(text)) <= 40 else f"{repr(text)[:20]}...({len(repr(text))} characters)"
        raise UnitError(f"{shown} is too large (not a finite number)") from None


# a number, then a unit name (the lookahead stops "1e300*2" from reading as "1" and "e300*2")
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\d.]|[eE][-+]?\d)\s*([A-Za-z_].*)$")


def _normalise(text: str) -> str:
    # "20 ms" -> "20 * ms"; "1s" -> "1 * s"; "1/ms" stays; "-65 mV" -> "-65 * mV"
    m = _NUMBER_UNIT.match(text)
    if m:
        text = f"{m.group(1)} {m.group(2)}"
    parts = text.strip().split()
    out = []
    for k, part in enumerate(parts):
        if k and not (out[-1].endswith(("*", "/", "(", "+", "-")) or part.startswith(("*", "/", ")", "+", "-"))):
            out.append("*")
        out.append(part)
    return " ".join(out)


def parse_quantity(value, expected=None, *, where: str = "", finite: bool = True) -> Quantity:
    """Parse a number or a string such as ``"20 ms"`` into a Brian2 quantity.

    Every value must be a finite number (``nan``, ``inf`` and overflowing numbers such as
    ``"1e400 ms"`` are refused) unless ``finite=False``.

    Parameters
    ----------
    value : str, int, float or Quantity
        Plain numbers are dimensionless.
    expected : Dimension, Unit, Quantity or str, optional
        Dimension the result must have (e.g. ``"second"`` or ``ms``).
    where : str, optional
        Prefix for error messages, e.g. ``"models/hrsnn.toml: neuron.constants.tau"``.
    finite : bool, optional
        Refuse non-finite values (the default).

    Returns
    -------
    Quantity
        The value with its unit (a dimensionless Quantity for plain numbers).

    Raises
    ------
    UnitError
        The text cannot be parsed, names an unknown unit, is not finite, or has a dimension
        other than ``expected``.

    Examples
    --------
    >>> parse_quantity("20 ms")
    20. * msecond
    >>> parse_quantity("-65 mV", "volt")
    -65. * mvolt
    >>> float(parse_quantity("8/3"))
    2.6666666666666665
    >>> parse_quantity("-50 ms", "volt", where="neuron.constants.v_th")
    Traceback (most recent call last):
    ...
    lnp_brian.core.units.UnitError: neuron.constants.v_th: '-50 ms' has unit second, expected volt
    """
    prefix = f"{where}: " if where else ""
    if isinstance(value, Quantity):
        q = value
    elif isinstance(value, bool):
        raise UnitError(f"{prefix}expected a quantity, got the boolean {value!r}")
    elif isinstance(value, numbers.Real):
        try:
            q = Quantity(_float(value, value))
        except UnitError as exc:
            raise UnitError(f"{prefix}{exc}") from None
    elif isinstance(value, str):
        text = _normalise(value)
        if not text:
            raise UnitError(f"{prefix}empty quantity string")
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            raise UnitError(f"{prefix}cannot parse {value!r} as a quantity") from None
        try:
            q = _eval(tree, value)
        except UnitError as exc:
            raise UnitError(f"{prefix}{exc}") from None
        if not isinstance(q, Quantity):
            q = Quantity(float(q))
    else:
        raise UnitError(f"{prefix}expected a number or a string like '20 ms', got {type(value).__name__}")
    if finite and not np.all(np.isfinite(np.asarray(q, dtype=float))):
        raise UnitError(f"{prefix}{value!r} is not a finite number; every number must be finite "
                        "(no nan or inf, and at most about 1e308 in SI units)")
    if expected is not None:
        dim = as_dimension(expected)
        if get_dimensions(q) is not dim:
            raise UnitError(
                f"{prefix}{value!r} has unit {unit_string(get_dimensions(q))}, "
                f"expected {unit_string(dim)}"
            )
    return q


def parse_unit(text: str, *, where: str = "") -> Dimension:
    """Parse a unit string such as ``"mV"``, ``"amp"`` or ``"1"`` into its dimension.

    The scale of the unit is dropped: ``"mV"`` and ``"volt"`` give the same dimension.

    Parameters
    ----------
    text : str
        A unit expression (``"1"``, ``""`` and ``"dimensionless"`` mean no unit).
    where : str, optional
        Prefix for error messages, e.g. the model file and key.

    Returns
    -------
    Dimension
        The Brian2 dimension of the unit.

    Raises
    ------
    UnitError
        The text is not a unit expression.

    Examples
    --------
    >>> parse_unit("mV") is parse_unit("volt")
    True
    >>> unit_string(parse_unit("nA"))
    'amp'
    """
    if text in ("1", "", "dimensionless"):
        return DIMENSIONLESS
    q = parse_quantity(text, where=where)
    return get_dimensions(q)


def as_dimension(expected) -> Dimension:
    """The Brian2 dimension of a unit string, unit, quantity or dimension.

    Parameters
    ----------
    expected : str, Unit, Quantity or Dimension
        A unit string is parsed with :func:`parse_unit`; a dimension is returned as is.

    Returns
    -------
    Dimension
        The Brian2 dimension.

    Examples
    --------
    >>> as_dimension("ms") is as_dimension(parse_quantity("2 s"))
    True
    """
    if isinstance(expected, Dimension):
        return expected
    if isinstance(expected, str):
        return parse_unit(expected)
    return get_dimensions(expected)


_BASE = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")


def unit_string(dim) -> str:
    """A unit expression Brian2's equation parser accepts, e.g. ``"volt"`` or ``"1"``.

    Named SI units (volt, amp, ohm, ...) are used where one fits; otherwise a product of
    powers of base units.

    Parameters
    ----------
    dim : str, Unit, Quantity or Dimension
        Anything :func:`as_dimension` accepts.

    Returns
    -------
    str
        The unit expression, ``"1"`` for dimensionless.

    Examples
    --------
    >>> unit_string("mV"), unit_string("Hz * ms"), unit_string("metre**2")
    ('volt', '1', 'metre**2')
    >>> unit_string("mV/ms")
    'metre**2 * kilogram * second**-4 * amp**-1'
    """
    dim = as_dimension(dim)
    if dim is DIMENSIONLESS:
        return "1"
    named = {"volt", "amp", "second", "ohm", "siemens", "farad", "hertz", "metre", "kilogram",
             "coulomb", "watt", "joule", "mole", "kelvin"}
    for name in named:
        if get_dimensions(_UNITS[name]) is dim:
            return name
    exps = list(dim._dims)
    terms = [f"{b}**{int(e) if float(e).is_integer() else e}" if e != 1 else b
             for b, e in zip(_BASE, exps) if e != 0]
    return " * ".join(terms)


def seconds(value, name: str) -> float:
    """A time in seconds, from a quantity or a string with units (the one parser of durations).

    Parameters
    ----------
    value : str or Quantity
        A time such as ``"300 ms"`` or ``0.3 * brian2.second``.
    name : str
        The option or argument it came from, named in the error.

    Returns
    -------
    float
        The time in seconds.

    Raises
    ------
    UnitError
        If ``value`` is not a time.

    Examples
    --------
    >>> seconds("300 ms", "duration")
    0.3
    """
    return float(parse_quantity(value, "second", where=name))


def format_quantity(q, digits: int = 4) -> str:
    """Human-readable quantity, e.g. ``20. ms``; numbers pass through.

    Parameters
    ----------
    q : Quantity, float or object
        A scalar quantity is shown in its best unit, an array quantity with ``str``; a float
        is rounded to ``digits`` significant digits, anything else shown with ``str``.
    digits : int, optional
        Significant digits (default 4).

    Returns
    -------
    str
        The formatted value.

    Examples
    --------
    >>> format_quantity(parse_quantity("0.02 s"))
    '20. ms'
    >>> format_quantity(0.123456789)
    '0.1235'
    """
    if isinstance(q, Quantity):
        return q.in_best_unit(digits) if np.ndim(q) == 0 else str(q)
    return f"{q:.{digits}g}" if isinstance(q, float) else str(q)
