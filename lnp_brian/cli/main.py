"""The ``lnp-brian`` command line.

- ``lnp-brian simulate``: build a network from a model file, simulate it, write a run directory
- ``lnp-brian lyapunov``: Lyapunov exponents of a model
- ``lnp-brian prune``: LNP / AP / random pruning of a network
- ``lnp-brian experiment``: a grid of models x methods x seeds x tasks from a TOML file
- ``lnp-brian quality``: memory capacity, kernel rank and generalisation rank of a network
- ``lnp-brian models``: list the shipped models (or print one)

Every command writes one directory (``--out``) holding ``run.json`` (resolved config, seeds,
versions, compile count, wall times), its data files, figures and ``run.log``.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import signal
import sys
import threading
from pathlib import Path

__all__ = ["main", "build_parser"]


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def _quantity(unit, *, positive: bool = True, allow_zero: bool = False):
    """An argparse type: a finite quantity in ``unit`` (e.g. "500 ms"), > 0 (or >= 0)."""
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


def _integer(minimum: int, maximum: int | None = None):
    """An argparse type: an integer in [minimum, maximum]. 0 is a value, never "the default"."""
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


def _number(low: float | None = None, high: float | None = None, *, low_open: bool = False,
            high_open: bool = False):
    """An argparse type: a finite number in a range; NaN and inf are refused."""
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


def _floats(text: str):
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite numbers > 0, got {text!r}")
    return values


def _indices(text: str):
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated neuron indices, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated neuron indices >= 0, got {text!r}")
    return values


def _directory(text: str):
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a directory path, got {text!r}")
    return Path(text)


SEED = _integer(0, 2**32 - 1)  # NumPy and Brian2 seeds


def _integer_or(word: str, minimum: int):
    """An argparse type: ``word`` (e.g. "auto") or an integer >= minimum."""
    number = _integer(minimum)

    def parse(text):
        if text == word:
            return word
        try:
            return number(text)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"expected {word} or an integer >= {minimum}, got {text!r}") from None

    parse.__name__ = f"integer or {word}"
    return parse


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that can add options on first use (``populate(parser)``, called before
    it parses or prints help): the options of `lnp-brian prune` come from PruneConfig, whose
    module loads Brian2, so they are made only when that command is taken, and `lnp-brian
    --help` or another command's stays fast."""

    def __init__(self, *args, populate=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._populate = populate

    def _ready(self):
        if self._populate is not None:
            populate, self._populate = self._populate, None
            populate(self)

    def parse_known_args(self, args=None, namespace=None):
        self._ready()
        return super().parse_known_args(args, namespace)

    def parse_known_intermixed_args(self, args=None, namespace=None):
        self._ready()
        return super().parse_known_intermixed_args(args, namespace)

    def format_usage(self):
        self._ready()
        return super().format_usage()

    def format_help(self):
        self._ready()
        return super().format_help()


# ---- option groups shared by the commands (parents=[...]); per-command differences are arguments
def _network_options(*, model_help: str = "shipped model name or path to a .toml file",
                     neurons_help: str = "number of neurons (default: the model's)",
                     connection_probability: bool = True) -> argparse.ArgumentParser:
    """--model, --neurons and (for commands that accept it) --connection-probability."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--model", required=True, help=model_help)
    p.add_argument("--neurons", type=_integer(1), help=neurons_help)
    if connection_probability:
        p.add_argument("--connection-probability", type=_number(0, 1, low_open=True), metavar="P",
                       help="connection probability of a 'random' model (default: the model's); for large "
                            "networks keep the in-degree, e.g. 0.01 at 10,000 neurons for hrsnn's 0.1 at 1,000")
    return p


def _run_options(*, seed_help: str, seed_default: int = 1) -> argparse.ArgumentParser:
    """--device and --seed (``seed_help`` says what the seed seeds; "%(default)s" shows the default)."""
    from ..core.devices import DEVICES

    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--device", choices=DEVICES, default="cpp_standalone",
                   help="Brian2 backend (default %(default)s)")
    p.add_argument("--seed", type=SEED, default=seed_default, help=seed_help)
    return p


def _output_options(*, what: str = "a run", resume_help: str | None = None) -> argparse.ArgumentParser:
    """--out, --overwrite, --quiet, and --resume where a command can continue a run."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--out", required=True, type=_directory, help="output directory DIR")
    if resume_help is not None:
        p.add_argument("--resume", action="store_true", help=resume_help)
    p.add_argument("--overwrite", action="store_true", help=f"replace {what} already in DIR")
    p.add_argument("--quiet", action="store_true", help="print only where the results went")
    return p


def _pruning_options(parser: argparse.ArgumentParser) -> None:
    """The pruning options of `lnp-brian prune`, one per PruneConfig field with an "option" in its
    metadata: type, bounds, choices and help from the field, the default shown is the field's
    default (the only place it is written). A bool field's option is a switch (--no-reweight);
    ``steps`` gives --no-STEP and --random-STEP per step, named as in experiment files."""
    import dataclasses
    import typing

    from ..pruning.config import STEP_BY_NAME
    from ..pruning.config import PruneConfig
    from .common import pruning_options

    fields = {f.name: f for f in dataclasses.fields(PruneConfig)}
    hints = typing.get_type_hints(PruneConfig)
    group = parser.add_argument_group("pruning options", "defaults from lnp_brian.pruning.config.PruneConfig")
    for name, option in pruning_options().items():
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
            convert, metavar = _quantity(meta["unit"]), option.lstrip("-").upper().replace("-", "_")
        elif kind is int:
            convert = _integer(meta.get("min", 0), meta.get("max"))
            if isinstance(f.default, str):  # a word such as "auto" is a value too
                convert = _integer_or(f.default, meta.get("min", 0))
            metavar = option.lstrip("-").upper().replace("-", "_")
        elif kind is float:
            convert = _number(meta.get("min"), meta.get("max"), low_open=meta.get("min_open", False),
                              high_open=meta.get("max_open", False))
            metavar = option.lstrip("-").upper().replace("-", "_")
        else:
            convert, metavar = None, option.lstrip("-").upper().replace("-", "_")
        group.add_argument(option, dest=name, type=convert, choices=meta.get("choices"), default=f.default,
                           metavar=metavar, help=f"{help_text} (default %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    """The ``lnp-brian`` argument parser, with one sub-command per command.

    Quantities are parsed with their units (``--duration 500ms``) into Brian2 quantities; the
    ``prune`` options are generated from the fields of
    :class:`lnp_brian.pruning.config.PruneConfig` when that command is parsed or its help is
    shown.

    Returns
    -------
    argparse.ArgumentParser
        The parser; ``parse_args`` gives a namespace whose ``command`` names the sub-command.

    Examples
    --------
    >>> args = build_parser().parse_args(["simulate", "--model", "hrsnn", "--out", "runs/sim",
    ...                                   "--duration", "500 ms"])
    >>> args.command, args.model, str(args.out), float(args.duration), args.seed
    ('simulate', 'hrsnn', 'runs/sim', 0.5, 1)
    """
    from ..core.version import __version__

    parser = argparse.ArgumentParser(
        prog="lnp-brian",
        description="Heterogeneous recurrent spiking networks in Brian2: simulate, Lyapunov "
                    "exponents, Lyapunov Noise Pruning.")
    parser.add_argument("--version", action="version", version=f"lnp_brian {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser(
        "simulate", help="build a network from a model file and simulate it",
        description="Build a random network from a model file (shipped name or path), simulate it "
                    "with the model's default input (Poisson background noise) and write DIR/run.json, "
                    "network.npz, spikes.npz, raster.png, dynamics.png and run.log.",
        parents=[_network_options(model_help="shipped model name (see `lnp-brian models`) or path to a .toml file",
                                  neurons_help="number of neurons (default: the model's network.n_neurons)"),
                 _run_options(seed_help="network seed: connectivity, weights, parameters (default %(default)s)"),
                 _output_options()])
    s.add_argument("--duration", type=_quantity("second"), default="1 s",
                   help="simulated time, with unit (e.g. 1s, 500ms; default 1 s)")
    s.add_argument("--dt", type=_quantity("second"), help="integration step (default: the model's, else 0.1 ms)")
    s.add_argument("--init-seed", type=SEED, help="seed of initial values (default: derived from --seed)")
    s.add_argument("--noise-seed", type=SEED, help="seed of the input noise (default: derived from --seed)")
    s.add_argument("--no-input", action="store_true", help="simulate without the model's default input")
    s.add_argument("--record", default=None,
                   help="state variable to record as traces (default: v if the model has it, else all)")
    s.add_argument("--record-neurons", type=_indices, default=None,
                   help="comma-separated neuron indices to record (default 0,1,2,3,4, those that exist)")
    s.add_argument("--threads", type=_integer(0), default=0, help="OpenMP threads for cpp_standalone (default 0: none)")
    s.add_argument("--build-dir", type=_directory,
                   help="standalone build directory (default DIR/build); a compiled project there with "
                        "the same structure is re-used without recompiling")

    ly = sub.add_parser(
        "lyapunov", help="Lyapunov exponents of a model: maximal, per neuron, spectrum, finite size",
        description="Maximal Lyapunov exponent by the two-trajectory method (reference and perturbed "
                    "copies in one build, renormalised every --interval), optionally per-neuron exponents, "
                    "the Lyapunov spectrum and finite-size exponents. Writes DIR/lyapunov.json and plots. "
                    "Exponents are in 1/s; every number carries its perturbation size (spiking networks "
                    "show stable chaos: see the docs).",
        parents=[_network_options(),
                 _run_options(seed_help="network seed (default %(default)s); noise and perturbations derive "
                                        "from it"),
                 _output_options()])
    ly.add_argument("--duration", type=_quantity("second"), default="2 s",
                    help="simulated time of the lambda_max run (default 2 s)")
    ly.add_argument("--dt", type=_quantity("second"), help="integration step (default: the model's, else 0.1 ms)")
    ly.add_argument("--copies", type=_integer(1), default=8, help="perturbed copies for lambda_max (default 8)")
    ly.add_argument("--perturbation", type=_number(0, low_open=True), default=1e-3,
                    help="perturbation size d0 in scaled units (mV, pA, nS, ms, 1; default 1e-3)")
    ly.add_argument("--interval", type=_quantity("second"), default="10 ms", help="renormalisation interval (default 10 ms)")
    ly.add_argument("--transient", type=_quantity("second", allow_zero=True), default="200 ms",
                    help="time after the perturbation before averaging (default 200 ms)")
    ly.add_argument("--warmup", type=_quantity("second", allow_zero=True), default="100 ms",
                    help="time before the perturbation is injected (default 100 ms)")
    ly.add_argument("--no-input", action="store_true", help="no background noise (default: the model's [input] noise)")
    ly.add_argument("--per-neuron", action="store_true",
                    help="also per-neuron exponents: each neuron perturbed in its own copy, batched in one build")
    ly.add_argument("--window", type=_quantity("second"), default="100 ms",
                    help="finite-time window of per-neuron exponents (default 100 ms)")
    ly.add_argument("--per-neuron-perturbation", type=_number(0, low_open=True), default=0.1,
                    help="size of each neuron's kick in scaled units (default 0.1, i.e. 0.1 mV for v)")
    ly.add_argument("--per-neuron-count", type=_integer(1),
                    help="perturb only this many neurons (evenly spaced; default all)")
    ly.add_argument("--spectrum", type=_integer(1), metavar="K",
                    help="also the first K Lyapunov exponents of the linearised (spiking: noise-probe rate "
                         "model) or smooth (ODE models) dynamics")
    ly.add_argument("--spectrum-method", choices=("build", "python"), default="build",
                    help="ODE models: integrate the variational equations in the compiled build (default; "
                         "hundreds of times faster per run) or step the Python QR reference")
    ly.add_argument("--sizes", type=_floats, help="finite-size exponents at these perturbation sizes, e.g. 1e-4,1e-2,1")

    sub.add_parser(
        "prune", help="prune a network: Lyapunov Noise Pruning (LNP), activity-based (AP) or random",
        description="Prune a network built from a model file with LNP (this project's documented "
                    "reconstruction of Chakraborty et al., ICLR 2024: noise probe, per-neuron Lyapunov "
                    "exponents, Lyapunov-weighted spectral sparsification, betweenness neuron pruning, "
                    "delocalisation, timescale optimisation), or with the AP / random baselines, on a "
                    "geometric schedule to the targets. Every iteration is a re-run of binaries compiled "
                    "once. Writes DIR/trajectory.csv, network_final.npz (compact), network_final_masked.npz, "
                    "run.json, checkpoints/ and figures.",
        parents=[_network_options(),
                 _run_options(seed_help="seed of the network and of every random choice (default %(default)s)"),
                 _output_options(resume_help="continue an interrupted run in DIR from its last complete "
                                             "iteration")],
        populate=_pruning_options)

    ex = sub.add_parser(
        "experiment", help="run a grid of models x methods x seeds x tasks from a TOML config",
        description="Run every (model, method, seed, task) of an experiment file (see configs/README.md): "
                    "build the dense network, prune it (dense, lnp, ap, random, lnp-no-STEP, lnp-random-STEP) "
                    "and train and test the task's readout after every iteration. Writes DIR/results.csv "
                    "(one row per model, method, seed, task, iteration), summary.csv (mean and std over "
                    "seeds), summary.txt, figures (Fig. 3 trajectory, Fig. 4 score vs SOPs, Fig. 5 "
                    "ablations), run.json and runs/KEY/ for every run.",
        parents=[_output_options(what="an experiment", resume_help="skip complete runs and continue interrupted "
                                                                   "ones from their last complete iteration")])
    ex.add_argument("config", type=Path, help="experiment file (TOML), e.g. configs/lorenz63.toml")
    ex.add_argument("--scheduler", metavar="ADDRESS",
                    help="dask.distributed scheduler address (e.g. tcp://127.0.0.1:8786): every run of the grid "
                         "is sent there; default: local processes")
    ex.add_argument("--workers", type=_integer(1),
                    help="local worker processes (default: the config's experiment.workers; 1 runs in this process)")
    ex.add_argument("--builds", type=_directory,
                    help="folder for compiled builds (default DIR/builds); experiments sharing it re-use "
                         "each other's binaries")

    q = sub.add_parser(
        "quality", help="task-agnostic reservoir quality: memory capacity, kernel and generalisation rank",
        description="Build a network from a model file and measure, on one compiled build re-run with new "
                    "input currents: the memory capacity (Jaeger 2001; i.i.d. uniform input, one ridge readout "
                    "per delay, r^2 on held-out samples), the kernel rank (states after --streams different "
                    "input streams) and the generalisation rank (states after --streams noisy copies of one "
                    "stream; Legenstein & Maass 2007). Features: spike trains filtered at 5, 20 and 50 ms. "
                    "Writes DIR/quality.json, quality.png (r^2 against delay, singular value spectra), "
                    "network.npz, run.json and run.log.",
        parents=[_network_options(model_help="shipped spiking model name or path to a .toml file",
                                  connection_probability=False),
                 _run_options(seed_help="network seed (default %(default)s); encoder, inputs and noise derive "
                                        "from it"),
                 _output_options()])
    q.add_argument("--samples", type=_integer(10), default=2000,
                   help="i.i.d. input samples of the memory-capacity run, also the length of every run "
                        "(default 2000; half train the readouts, half score them)")
    q.add_argument("--sample-time", type=_quantity("second"), default="50 ms",
                   help="presentation time of one input value, a multiple of dt (default 50 ms, as the "
                        "forecasting tasks)")
    q.add_argument("--input-gain", type=_quantity("amp"), default="3200 pA",
                   help="input current per unit of the input u in [-1, 1] (default 3200 pA, as the "
                        "forecasting tasks)")
    q.add_argument("--max-delay", type=_integer(1), default=40,
                   help="largest delay of the memory-capacity readouts, in samples (default 40)")
    q.add_argument("--streams", type=_integer(2), default=200,
                   help="m: input streams (kernel rank) and noisy copies (generalisation rank); ranks are at "
                        "most min(m, features) (default 200)")

    m = sub.add_parser("models", help="list the shipped models, or print one",
                       description="List the shipped models with their descriptions; with a name, print its file.")
    m.add_argument("name", nargs="?", help="a shipped model to print")
    return parser


def main(argv=None) -> int:
    """Run the command line.

    User errors (bad options or files, memory, disk) are printed as one line; other
    exceptions propagate.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``lnp-brian`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 done, 1 some runs of an experiment failed, 2 a user error, 130
        interrupted by Ctrl-C or SIGTERM.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    restore = _interrupt_handlers()
    try:
        return _dispatch(args, argv)
    except KeyboardInterrupt:
        print(f"lnp-brian {args.command}: interrupted; what was written is marked 'interrupted', "
              "never complete", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - user errors become one line, the rest propagate
        message = user_error_message(exc)
        if message is None:
            raise
        print(f"lnp-brian {args.command}: error: {message}", file=sys.stderr)
        return 2
    finally:
        restore()


def user_error_message(exc: BaseException) -> str | None:
    """One line for an error the user can fix (bad input, files, memory); None for a bug."""
    from ..core.runs import RunExistsError
    from ..simulation.simulator import BackendError

    if isinstance(exc, (CLIError, ValueError, RunExistsError, BackendError)):
        return " ".join(str(exc).split())
    if isinstance(exc, KeyError):
        return " ".join(str(exc.args[0] if exc.args else exc).split())
    if isinstance(exc, MemoryError):
        return "out of memory: the network or recording does not fit in this machine's memory " \
               "(try fewer neurons, a lower connection probability or a shorter duration)"
    if isinstance(exc, OSError):
        path = exc.filename if exc.filename is not None else ""
        what = exc.strerror or str(exc)
        note = "; files written before stay as they were" if exc.errno == errno.ENOSPC else ""
        return f"{path}: {what}{note}" if path else f"{what}{note}"
    return None


def _interrupt_handlers():
    """In the main thread: Ctrl-C raises KeyboardInterrupt (Python's own handler, in place of
    Brian2's, which turns it into a quiet early stop; a process started with SIGINT ignored,
    such as a background job, keeps ignoring it), and SIGTERM ends a command the same way
    (status 'interrupted'). Returns a function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    import brian2

    from ..brian.state import clear_stop_request, request_stop

    clear_stop_request()
    started_with = getattr(getattr(brian2, "_int_handler", None), "previous_handler", None)
    main_pid = os.getpid()

    def handler(signum, frame):
        if signum == signal.SIGTERM and os.getpid() != main_pid:  # a forked worker: die as usual
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        # the exception alone can be swallowed (raised inside a finaliser): the request makes
        # the simulation in progress, and any later one, stop as well
        request_stop()
        raise KeyboardInterrupt(f"signal {signum}")

    def unraisable(info):  # an interrupt dropped inside a finaliser: the stop request acts on it
        if not isinstance(info.exc_value, KeyboardInterrupt):
            previous_hook(info)

    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN if started_with is signal.SIG_IGN
                                             else handler),
                signal.SIGTERM: signal.signal(signal.SIGTERM, handler)}

    def restore():
        sys.unraisablehook = previous_hook
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore


def _dispatch(args, argv) -> int:
    if args.command == "models":
        return cmd_models(args)
    if args.command == "simulate":
        from .simulate import cmd_simulate

        return cmd_simulate(args, argv)
    if args.command == "lyapunov":
        from .lyapunov import cmd_lyapunov

        return cmd_lyapunov(args, argv)
    if args.command == "experiment":
        from .experiment import cmd_experiment

        return cmd_experiment(args, argv)
    if args.command == "prune":
        from .prune import cmd_prune

        return cmd_prune(args, argv)
    if args.command == "quality":
        from .quality import cmd_quality

        return cmd_quality(args, argv)
    raise CLIError(f"unknown command {args.command}")


def cmd_models(args) -> int:
    from importlib import resources

    from ..model.spec import load_model, shipped_models

    if args.name:
        if args.name not in shipped_models():
            raise CLIError(f"unknown model {args.name!r}; shipped: {', '.join(shipped_models())}")
        print(resources.files("lnp_brian.models").joinpath(f"{args.name}.toml").read_text(), end="")
        return 0
    for name in shipped_models():
        spec = load_model(name)
        print(f"{name:12s} {spec.description}")
    return 0

