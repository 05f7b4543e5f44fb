"""The building blocks of the ``lnp-brian`` parser: argparse types that check values and units,
the parent parsers whose options several commands share (``--model``, ``--neurons``,
``--device``, ``--seed``, ``--out``, ...), and the ``prune`` options made from
:class:`~lnp_brian.pruning.config.PruneConfig`. Each command module adds its own options with
these (``add_parser``); importing this module loads neither Brian2 nor scikit-learn."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

__all__ = ["CLIError", "quantity", "integer", "number", "floats", "indices", "directory", "SEED", "integer_or",
           "LazyParser", "network_options", "run_options", "output_options", "pruning_option_names",
           "add_pruning_options"]


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def quantity(unit, *, positive: bool = True, allow_zero: bool = False):
    """An argparse type: a finite quantity in ``unit`` (e.g. "500 ms"), > 0 (or >= 0).

    The text is read by :func:`lnp_brian.core.units.parse_quantity`, which is imported (with
    Brian2) only when a value is parsed, not when the parser is built. NaN and inf are refused.

    Parameters
    ----------
    unit : str or brian2.Unit
        The unit the value is in, e.g. ``"second"`` or ``"amp"``; the text may use any unit of
        the same dimension (``"500 ms"`` for ``"second"``) and must name one (a bare number is
        dimensionless, so it is refused for a unit other than a dimensionless one).
    positive : bool, default=True
        Refuse values < 0, and 0 unless ``allow_zero``; False accepts any finite value.
    allow_zero : bool, default=False
        With ``positive``, accept 0 as well (>= 0 rather than > 0).

    Returns
    -------
    callable
        ``parse(text)``, an argparse ``type``: it returns the value as a Brian2 Quantity with the
        dimension of ``unit``, and raises ``argparse.ArgumentTypeError`` (the message argparse
        prints) for a value that cannot be parsed, has another dimension or is out of range.

    Examples
    --------
    >>> duration = quantity("second")
    >>> duration("500 ms")
    0.5 * second
    >>> quantity("mV", positive=False)("-65 mV")
    -65. * mvolt
    >>> duration("0 s")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a value > 0 (in second), got '0 s'
    """
    def parse(text):
        from ..core.units import UnitError, parse_quantity

        try:
            q = parse_quantity(text, unit)
        except UnitError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        x = float(q)
        if not math.isfinite(x):
            raise argparse.ArgumentTypeError(f"expected a finite value in {unit}, got {text!r}")
        if positive and (x < 0 or (x == 0 and not allow_zero)):
            bound = ">= 0" if allow_zero else "> 0"
            raise argparse.ArgumentTypeError(f"expected a value {bound} (in {unit}), got {text!r}")
        return q

    parse.__name__ = f"quantity in {unit}"
    return parse


def integer(minimum: int, maximum: int | None = None):
    """An argparse type: an integer in [minimum, maximum].

    0 is a value, never "the default". Only base-10 integers are accepted (``"1e3"`` and
    ``"2.0"`` are refused).

    Parameters
    ----------
    minimum : int
        The smallest value accepted.
    maximum : int, optional
        The largest value accepted; None (the default) for no upper bound.

    Returns
    -------
    callable
        ``parse(text)``, an argparse ``type``: it returns the value as an int, and raises
        ``argparse.ArgumentTypeError`` for text that is not an integer in range.

    Examples
    --------
    >>> neurons = integer(1)
    >>> neurons("1000")
    1000
    >>> integer(0, 3)("4")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer in 0..3, got '4'
    """
    def parse(text):
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            rng = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
            raise argparse.ArgumentTypeError(f"expected an integer {rng}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def number(low: float | None = None, high: float | None = None, *, low_open: bool = False,
            high_open: bool = False):
    """An argparse type: a finite number in a range; NaN and inf are refused.

    Parameters
    ----------
    low : float, optional
        The lower bound; None (the default) for none.
    high : float, optional
        The upper bound; None (the default) for none.
    low_open : bool, default=False
        Exclude ``low`` itself (> low rather than >= low).
    high_open : bool, default=False
        Exclude ``high`` itself (< high rather than <= high).

    Returns
    -------
    callable
        ``parse(text)``, an argparse ``type``: it returns the value as a float, and raises
        ``argparse.ArgumentTypeError`` for text that is not a finite number in range (the
        message names the range, e.g. "a number in (0, 1]").
    """
    lo_b, hi_b = ("(" if low_open else "["), (")" if high_open else "]")
    if low is not None and high is not None:
        what = f"a number in {lo_b}{low:g}, {high:g}{hi_b}"
    elif low is not None:
        what = f"a number {'>' if low_open else '>='} {low:g}"
    else:
        what = "a finite number"

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        bad = not math.isfinite(value)
        if low is not None:
            bad |= value < low or (low_open and value == low)
        if high is not None:
            bad |= value > high or (high_open and value == high)
        if bad:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def floats(text: str):
    """An argparse type: comma-separated finite numbers > 0 (e.g. "0.5,1,2").

    Parameters
    ----------
    text : str
        The option's value; empty items (``"1,,2"``, a trailing comma) are skipped.

    Returns
    -------
    list of float
        The numbers, in the order given (at least one).

    Raises
    ------
    argparse.ArgumentTypeError
        If an item is not a number, a number is not finite or <= 0, or there is none.
    """
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite numbers > 0, got {text!r}")
    return values


def indices(text: str):
    """An argparse type: comma-separated neuron indices >= 0 (e.g. "0,3,7").

    Parameters
    ----------
    text : str
        The option's value; spaces around an item and empty items are allowed.

    Returns
    -------
    list of int
        The indices, in the order given (at least one; duplicates are kept).

    Raises
    ------
    argparse.ArgumentTypeError
        If an item is not an integer, an index is negative, or there is none.

    Examples
    --------
    >>> indices("0, 3,7")
    [0, 3, 7]
    >>> indices("1,-2")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected comma-separated neuron indices >= 0, got '1,-2'
    """
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated neuron indices, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated neuron indices >= 0, got {text!r}")
    return values


def directory(text: str):
    """An argparse type: a directory path (not blank); it need not exist yet.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    pathlib.Path
        The path, as given (not resolved, not created).

    Raises
    ------
    argparse.ArgumentTypeError
        If ``text`` is empty or only whitespace.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a directory path, got {text!r}")
    return Path(text)


SEED = integer(0, 2**32 - 1)  # NumPy and Brian2 seeds
SEED.__doc__ = """An argparse type: a random seed, an integer in [0, 2**32 - 1].

    The range NumPy and Brian2 accept (``integer(0, 2**32 - 1)``); used by ``--seed``,
    ``--init-seed`` and ``--noise-seed``.

    Parameters
    ----------
    text : str
        The option's value, a base-10 integer.

    Returns
    -------
    int
        The seed.

    Raises
    ------
    argparse.ArgumentTypeError
        If ``text`` is not an integer in [0, 2**32 - 1].

    Examples
    --------
    >>> SEED("42")
    42
    """


def integer_or(word: str, minimum: int):
    """An argparse type: ``word`` (e.g. "auto") or an integer >= minimum.

    Parameters
    ----------
    word : str
        The word accepted as a value of its own, e.g. ``"auto"`` (compared exactly, case included).
    minimum : int
        The smallest integer accepted.

    Returns
    -------
    callable
        ``parse(text)``, an argparse ``type``: it returns ``word`` itself or the integer, and
        raises ``argparse.ArgumentTypeError`` for anything else.
    """
    number = integer(minimum)

    def parse(text):
        if text == word:
            return word
        try:
            return number(text)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"expected {word} or an integer >= {minimum}, got {text!r}") from None

    parse.__name__ = f"integer or {word}"
    return parse


class LazyParser(argparse.ArgumentParser):
    """An ArgumentParser that can add options on first use.

    ``populate(parser)`` is called once, before the parser first parses or formats its usage or
    help: the options of `lnp-brian prune` come from PruneConfig, whose module loads Brian2, so
    they are made only when that command is taken, and `lnp-brian --help` or another command's
    stays fast. :mod:`lnp_brian.cli.main` makes it the class of the sub-command parsers
    (``parser_class``).

    Parameters
    ----------
    *args
        Positional arguments of ``argparse.ArgumentParser``.
    populate : callable, optional
        ``populate(parser)`` adds options to this parser (e.g. :func:`add_pruning_options`);
        None (the default) for a parser whose options are all added up front.
    **kwargs
        Keyword arguments of ``argparse.ArgumentParser`` (``prog``, ``description``,
        ``parents``, ...).
    """

    def __init__(self, *args, populate=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._populate = populate

    def _ready(self):
        if self._populate is not None:
            populate, self._populate = self._populate, None
            populate(self)

    def parse_known_args(self, args=None, namespace=None):
        """Add the deferred options, then parse as ``ArgumentParser.parse_known_args``.

        Parameters
        ----------
        args : list of str, optional
            The arguments to parse; None (the default) for ``sys.argv[1:]``.
        namespace : argparse.Namespace, optional
            The object to set the values on; None (the default) for a new one.

        Returns
        -------
        namespace : argparse.Namespace
            The parsed values.
        extras : list of str
            The arguments that were not recognised.
        """
        self._ready()
        return super().parse_known_args(args, namespace)

    def parse_known_intermixed_args(self, args=None, namespace=None):
        """Add the deferred options, then parse as ``ArgumentParser.parse_known_intermixed_args``.

        Parameters
        ----------
        args : list of str, optional
            The arguments to parse (options and positionals intermixed); None (the default) for
            ``sys.argv[1:]``.
        namespace : argparse.Namespace, optional
            The object to set the values on; None (the default) for a new one.

        Returns
        -------
        namespace : argparse.Namespace
            The parsed values.
        extras : list of str
            The arguments that were not recognised.
        """
        self._ready()
        return super().parse_known_intermixed_args(args, namespace)

    def format_usage(self):
        """Add the deferred options, then format the usage line.

        Returns
        -------
        str
            The usage message, deferred options included.
        """
        self._ready()
        return super().format_usage()

    def format_help(self):
        """Add the deferred options, then format the help text.

        Returns
        -------
        str
            The help message (usage, description and options), deferred options included.
        """
        self._ready()
        return super().format_help()


# ---- option groups shared by the commands (parents=[...]); per-command differences are arguments
def network_options(*, model_help: str = "shipped model name or path to a .toml file",
                     neurons_help: str = "number of neurons (default: the model's)",
                     connection_probability: bool = True) -> argparse.ArgumentParser:
    """Make the parent parser of --model, --neurons and (where accepted) --connection-probability.

    Parameters
    ----------
    model_help : str, optional
        The help of ``--model`` (a shipped model name or a .toml file; required).
    neurons_help : str, optional
        The help of ``--neurons`` (an integer >= 1).
    connection_probability : bool, default=True
        Add ``--connection-probability P`` (a number in (0, 1]), for commands that build a
        'random' model.

    Returns
    -------
    argparse.ArgumentParser
        A parser without ``--help`` (``add_help=False``), for the ``parents`` of a command.
    """
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--model", required=True, help=model_help)
    p.add_argument("--neurons", type=integer(1), help=neurons_help)
    if connection_probability:
        p.add_argument("--connection-probability", type=number(0, 1, low_open=True), metavar="P",
                       help="connection probability of a 'random' model (default: the model's); for large "
                            "networks keep the in-degree, e.g. 0.01 at 10,000 neurons for hrsnn's 0.1 at 1,000")
    return p


def run_options(*, seed_help: str, seed_default: int = 1) -> argparse.ArgumentParser:
    """Make the parent parser of --device and --seed.

    ``--device`` is a Brian2 backend of :data:`lnp_brian.core.devices.DEVICES` (default
    ``cpp_standalone``); ``--seed`` is a :data:`SEED`.

    Parameters
    ----------
    seed_help : str
        The help of ``--seed``: what the seed seeds; "%(default)s" shows the default.
    seed_default : int, default=1
        The default of ``--seed``.

    Returns
    -------
    argparse.ArgumentParser
        A parser without ``--help`` (``add_help=False``), for the ``parents`` of a command.
    """
    from ..core.devices import DEVICES

    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--device", choices=DEVICES, default="cpp_standalone",
                   help="Brian2 backend (default %(default)s)")
    p.add_argument("--seed", type=SEED, default=seed_default, help=seed_help)
    return p


def output_options(*, what: str = "a run", resume_help: str | None = None) -> argparse.ArgumentParser:
    """Make the parent parser of --out, --overwrite, --quiet, and --resume where a command can continue a run.

    Parameters
    ----------
    what : str, default="a run"
        What ``--overwrite`` replaces in the output directory, as its help says it
        ("replace WHAT already in DIR").
    resume_help : str, optional
        The help of ``--resume``; None (the default) for a command without ``--resume``.

    Returns
    -------
    argparse.ArgumentParser
        A parser without ``--help`` (``add_help=False``), for the ``parents`` of a command.
    """
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--out", required=True, type=directory, help="output directory DIR")
    if resume_help is not None:
        p.add_argument("--resume", action="store_true", help=resume_help)
    p.add_argument("--overwrite", action="store_true", help=f"replace {what} already in DIR")
    p.add_argument("--quiet", action="store_true", help="print only where the results went")
    return p


def add_pruning_options(parser: argparse.ArgumentParser) -> None:
    """Add the pruning options of `lnp-brian prune` to a parser.

    One option per PruneConfig field with an "option" in its metadata (see
    :func:`pruning_option_names`): type, bounds, choices and help from the field, the default
    shown is the field's default (the only place it is written). A bool field's option is a
    switch (--no-reweight); ``steps`` gives --no-STEP and --random-STEP per step, named as in
    experiment files. A field with a "unit" takes a quantity in that unit (:func:`quantity`).
    Imports :mod:`lnp_brian.pruning.config` (and so Brian2), which is why ``lnp-brian prune``
    calls it through :class:`LazyParser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The ``prune`` parser; the options go into a new argument group, "pruning options".
    """
    import dataclasses
    import typing

    from ..pruning.config import STEP_BY_NAME, PruneConfig

    fields = {f.name: f for f in dataclasses.fields(PruneConfig)}
    hints = typing.get_type_hints(PruneConfig)
    group = parser.add_argument_group("pruning options", "defaults from lnp_brian.pruning.config.PruneConfig")
    for name, option in pruning_option_names().items():
        f, meta = fields[name], fields[name].metadata
        help_text = meta.get("help", "").replace("%", "%%")
        if "steps" in meta:
            for user_name, step in STEP_BY_NAME.items():
                group.add_argument(f"--no-{user_name}", action="store_true",
                                   help=f"switch off {meta['steps'][step]}".replace("%", "%%"))
                group.add_argument(f"--random-{user_name}", action="store_true",
                                   help="replace it by its random counterpart")
            continue
        kind = (typing.get_args(hints[name]) or (hints[name],))[0]
        if kind is bool:
            off = option.startswith("--no-")
            group.add_argument(option, dest=name, action="store_false" if off else "store_true",
                               default=f.default, help=f"switch {'off' if off else 'on'} {help_text} "
                                                       f"(default: {'on' if f.default else 'off'})")
            continue
        if "choices" in meta:
            convert, metavar = None, None
        elif "unit" in meta:
            convert, metavar = quantity(meta["unit"]), option.lstrip("-").upper().replace("-", "_")
        elif kind is int:
            convert = integer(meta.get("min", 0), meta.get("max"))
            if isinstance(f.default, str):  # a word such as "auto" is a value too
                convert = integer_or(f.default, meta.get("min", 0))
            metavar = option.lstrip("-").upper().replace("-", "_")
        elif kind is float:
            convert = number(meta.get("min"), meta.get("max"), low_open=meta.get("min_open", False),
                              high_open=meta.get("max_open", False))
            metavar = option.lstrip("-").upper().replace("-", "_")
        else:
            convert, metavar = None, option.lstrip("-").upper().replace("-", "_")
        group.add_argument(option, dest=name, type=convert, choices=meta.get("choices"), default=f.default,
                           metavar=metavar, help=f"{help_text} (default %(default)s)")


def pruning_option_names() -> dict:
    """The ``lnp-brian prune`` option of every :class:`lnp_brian.pruning.config.PruneConfig` field that has one.

    The parser's options are made from these fields (:mod:`lnp_brian.cli.main`), and errors
    about a field name its option. Imports only :mod:`lnp_brian.pruning.config` (no Brian2).

    Returns
    -------
    dict
        Field -> option (metadata "option"), in field order. The ``steps`` field stands for
        the ``--no-STEP`` / ``--random-STEP`` flags, one pair per step of
        :data:`lnp_brian.pruning.config.STEP_BY_NAME`.

    Examples
    --------
    >>> options = pruning_option_names()
    >>> options["lyapunov_copies"], options["reweight"]
    ('--copies', '--no-reweight')
    """
    import dataclasses

    from ..pruning.config import PruneConfig

    return {f.name: f.metadata["option"] for f in dataclasses.fields(PruneConfig) if "option" in f.metadata}
