"""Experiment grids: models x methods x seeds x tasks, pruned and scored after every iteration.

An experiment is a TOML file (``configs/*.toml``, format in ``configs/README.md``). Its grid
is every combination of model, method, seed and task; each combination is one *run*:

1. build the dense network of the model with the seed;
2. prune it with the method (``dense``: no pruning, only iteration 0; ``lnp``, ``ap``,
   ``random``; ablations ``lnp-no-<step>`` / ``lnp-random-<step>``) on the schedule of the
   ``[pruning]`` section, with :class:`lnp_brian.pruning.pruner.Pruner`;
3. after every iteration, train and test the task's readout on the pruned network (the
   paper's Fig. 3c) with :mod:`lnp_brian.tasks.runners` (one row per horizon for a series task), or,
   for a ``quality`` task, measure memory capacity, kernel and generalisation rank with
   :func:`lnp_brian.tasks.quality.reservoir_quality` (one row).

Runs are independent and go through an executor: a local process pool (``workers``) or a
dask.distributed cluster (``scheduler``). Each run writes ``runs/<key>/result.json`` when it
is complete (atomically) and checkpoints every pruning iteration, so ``resume`` skips
complete runs and continues interrupted ones from their last complete iteration, with the
same numbers as an uninterrupted run. Builds are shared per (model, size, seed) under
``builds/``: all methods of one seed prune the same dense topology and re-use its compiled
binaries (file-locked, so parallel runs compile each once).

Noise seeds: every task evaluation of a run uses the same noise seed (common random numbers),
so differences between iterations and methods come from the networks, not from the noise.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import signal
import sys
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.files import atomic_write, json_default, read_json, write_json
from ..core.seeding import derive_seed
from ..pruning.config import STEP_BY_NAME, PruneConfig

__all__ = ["ExperimentConfig", "ExperimentConfigError", "ExperimentIncomplete", "TaskSpec", "RunSpec", "load_experiment",
           "parse_method", "grid", "run_one", "Experiment", "read_results", "summarise",
           "quality_table", "RESULT_COLUMNS", "SUMMARY_METRICS", "BASELINE_METRICS", "QUALITY_DEFAULTS"]

SERIES_KINDS = ("lorenz63", "rossler", "mackey_glass")
IMAGE_KINDS = ("digits", "cifar10", "cifar100")
#: task-agnostic reservoir quality (lnp_brian.tasks.quality): memory capacity, kernel and
#: generalisation rank, one result row per network
QUALITY_KINDS = ("quality",)
TASK_KINDS = SERIES_KINDS + IMAGE_KINDS + QUALITY_KINDS
# task keys a config may set, by family, with the runner argument they go to (None: dataset)
_SERIES_KEYS = {"samples": None, "dt": None, "data_seed": None, "train": None, "val": None, "test": None,
                "horizons": None, "sample_time": "sample_time", "input_fraction": "input_fraction",
                "input_gain": "input_gain", "input_bias": "input_bias", "signed": "signed", "noise": "noise",
                "washout": "washout", "chunk": "chunk", "feature_tau": "feature_tau", "stdp_epochs": "stdp_epochs",
                "feature_kernel": "feature_kernel", "features": "features", "input_term": "input_term"}
_IMAGE_KEYS = {"n_train": "n_train", "n_test": "n_test", "data_seed": "data_seed", "path": "path",
               "label": "label", "present": "present", "rest": "rest", "max_rate": "max_rate",
               "batch": "batch", "input_fraction": "input_fraction", "input_weight": "input_weight",
               "color": "color", "noise": "noise", "stdp_epochs": "stdp_epochs", "features": "features"}
_QUALITY_KEYS = {"n_samples": "n_samples", "max_delay": "max_delay", "streams": "streams",
                 "stream_length": "stream_length", "stream_noise": "stream_noise", "washout": "washout",
                 "sample_time": "sample_time", "input_gain": "input_gain", "input_fraction": "input_fraction",
                 "feature_tau": "feature_taus", "noise": "noise"}
#: defaults of the quality task where they differ from lnp_brian.tasks.quality.reservoir_quality's
#: (smaller: it runs after every pruning iteration)
QUALITY_DEFAULTS = {"n_samples": 1000, "max_delay": 40, "streams": 100, "stream_length": 20}
def _pruning_fields() -> list:
    """(field, type) of every PruneConfig field, the type being the first of the annotation's
    union (``int | None`` -> int)."""
    import typing

    hints = typing.get_type_hints(PruneConfig)
    return [(f, (typing.get_args(hints[f.name]) or (hints[f.name],))[0]) for f in dataclasses.fields(PruneConfig)]


#: the [pruning] keys of an experiment file and their types: PruneConfig's fields, named by
#: their metadata "key" where it is given (None: not a [pruning] key)
_PRUNING_KEYS = {f.metadata.get("key", f.name): kind for f, kind in _pruning_fields()
                 if f.metadata.get("key", f.name) is not None}
#: PruneConfig fields -> experiment file keys where they differ (lyapunov_copies -> copies)
_PRUNE_FIELDS = {f.name: f.metadata["key"] for f, _ in _pruning_fields()
                 if f.metadata.get("key") not in (None, f.name)}
# task defaults (used by the runs and by the checks of load_experiment)
SERIES_SAMPLES = 2000
SERIES_SPLITS = {"train": 0.6, "val": 0.2, "test": 0.2}
IMAGE_COUNTS = {"digits": (300, 200), "cifar10": (1000, 500), "cifar100": (1000, 500)}
# bounds against typing slips (a grid of this size would never finish anyway)
MIN_NEURONS, MAX_NEURONS = 10, 1_000_000
MAX_SAMPLES = 10_000_000
MAX_SEEDS = 10_000
MAX_WORKERS = 4096
MAX_RETRIES = 100

#: the grid entry of a result row
_ID_COLUMNS = ["experiment", "model", "method", "seed", "task", "regime", "horizon"]
#: the pruner's measurements of the network (Pruner.measure; the LNP diagnostics only after
#: LNP iterations), copied into every task row of that iteration
_NETWORK_COLUMNS = [
    "iteration", "neurons", "synapses", "lambda_max", "lambda_max_stderr", "mean_ipr", "mean_rate_hz",
    "exc_neurons", "inh_neurons", "lambda_max_d0", "max_re_eig_A", "spectral_distance", "eig_distance_M",
    "zero_gain_fraction",
    "lyapunov_cv", "jaccard_magnitude", "mean_input_change", "input_change_exc", "input_change_inh", "clipped",
    "ipr_M_dense", "ipr_M_pruned",
    "ipr_M_grown", "regrown", "objective_first", "objective_best", "tau_cv_before", "tau_cv_after",
    "neuron_overshoot", "betweenness_hop_spearman",
]
#: the task evaluation's metrics (TaskEvaluator, per row task)
_TASK_COLUMNS = [
    "nrmse_train", "nrmse_val", "nrmse_test", "rmse_test", "persistence_nrmse", "ridge_nrmse", "esn_nrmse",
    "accuracy_train", "accuracy_test", "chance", "pixels_logistic_accuracy",
    "memory_capacity", "kernel_rank", "generalization_rank", "spikes_per_neuron_per_sample",
    "sops_input", "sops_recurrent", "sops_readout", "sops_total", "spikes_per_sample", "task_rate_hz",
    "neurons_with_readout", "synapses_with_readout", "input_synapses", "readout_synapses",
    "readout_alpha", "readout_C",
]
#: columns of results.csv, in order (metrics a task or an iteration does not have are left empty)
RESULT_COLUMNS = _ID_COLUMNS + _NETWORK_COLUMNS + _TASK_COLUMNS
#: metrics averaged over seeds in summary.csv
SUMMARY_METRICS = ["neurons", "synapses", "lambda_max", "mean_ipr", "max_re_eig_A", "spectral_distance",
                   "eig_distance_M", "nrmse_val", "nrmse_test", "rmse_test",
                   "persistence_nrmse", "ridge_nrmse", "esn_nrmse", "accuracy_test", "pixels_logistic_accuracy",
                   "memory_capacity", "kernel_rank", "generalization_rank",
                   "sops_total", "sops_recurrent", "sops_input", "sops_readout", "synapses_with_readout",
                   "neurons_with_readout"]
#: the baselines' test scores beside the reservoir's: ``<baseline>_nrmse`` (series) and
#: ``<baseline>_accuracy`` (images), from the ``baselines`` dict of every task evaluation
#: (a baseline not listed here still gets its column in results.csv and summary.csv)
BASELINE_METRICS = ["persistence_nrmse", "ridge_nrmse", "esn_nrmse", "pixels_logistic_accuracy"]


class ExperimentIncomplete(RuntimeError):
    """Some runs of the grid failed (after their retries); the others' results are saved."""


class ExperimentConfigError(ValueError):
    """An experiment file that cannot be used: names the file, the key and what was expected.

    The message is ``"<source>: <key>: <message>"`` on one line (without the key when it is
    empty); ``source`` and ``key`` are kept as attributes.

    Parameters
    ----------
    source : path or str
        The experiment file.
    key : str
        The offending key, dotted (``"pruning.duration"``, ``"tasks[0].horizons"``), or ``""``
        for the file as a whole.
    message : str
        What is wrong, usually ``"expected ..., got ..."``.
    """

    def __init__(self, source, key: str, message: str):
        self.source, self.key = str(source), key
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


# ==========================================================================================
# configuration
# ==========================================================================================
@dataclass(frozen=True)
class TaskSpec:
    """One task of the grid, as a ``[[tasks]]`` table of an experiment file describes it.

    Parameters
    ----------
    name : str
        Name used in results (letters, digits, ``-`` and ``_``); a series task's rows are
        ``<name>_h<horizon>``.
    kind : str
        ``lorenz63``, ``rossler``, ``mackey_glass`` (series), ``digits``, ``cifar10``,
        ``cifar100`` (images) or ``quality`` (reservoir quality).
    regime : {"readout", "stdp"}
        Train only the readout, or run STDP first; quality tasks: "readout" only.
    options : dict
        The table's data set and encoder settings (``samples``, ``horizons``,
        ``sample_time``, ...; see ``configs/README.md``).
    """

    name: str
    kind: str
    regime: str = "readout"
    options: dict = field(default_factory=dict)

    @property
    def family(self) -> str:
        """``"series"``, ``"images"`` or ``"quality"``, from ``kind``."""
        if self.kind in SERIES_KINDS:
            return "series"
        return "quality" if self.kind in QUALITY_KINDS else "images"

    @property
    def horizons(self) -> list[int]:
        """Forecast horizons in samples of a series task (default ``[1]``); empty otherwise."""
        return list(self.options.get("horizons", [1])) if self.family == "series" else []

    @property
    def row_names(self) -> list[str]:
        """The task names of its result rows (one per horizon for a series, else the name)."""
        if self.family == "series":
            return [f"{self.name}_h{h}" for h in self.horizons]
        return [self.name]


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid: one (model, method, seed, task) combination.

    Parameters
    ----------
    model : str
        Shipped model name or path of a model file.
    method : str
        Method name as in the experiment file (``"dense"``, ``"lnp"``, ``"lnp-no-lyapunov"``,
        ...; see :func:`parse_method`).
    seed : int
        Seed of the network and of the pruning.
    task : str
        Name of a :class:`TaskSpec` of the experiment.
    """

    model: str
    method: str
    seed: int
    task: str

    @property
    def key(self) -> str:
        """Name of the run's folder under ``runs/``: ``<model>__<method>__s<seed>__<task>``.

        A model file is named by its stem.

        Examples
        --------
        >>> RunSpec("models/my_model.toml", "lnp-no-lyapunov", 3, "lorenz").key
        'my_model__lnp-no-lyapunov__s3__lorenz'
        """
        model = Path(self.model).stem if self.model.endswith(".toml") else self.model
        return f"{model}__{self.method}__s{self.seed}__{self.task}"


@dataclass
class ExperimentConfig:
    """A parsed experiment file (see ``configs/README.md``), as :func:`load_experiment` returns it.

    Parameters
    ----------
    name : str
        Experiment name (``experiment.name``; default: the file's stem).
    models : list of str
        Shipped model names or model file paths (``network.models``).
    methods : list of str
        Method names (``experiment.methods``; see :func:`parse_method`).
    seeds : list of int
        Seeds of the runs (``experiment.seeds``; a count N means 1..N).
    tasks : list of TaskSpec
        The ``[[tasks]]`` tables.
    neurons : int or None
        Network size (``network.neurons``; None: each model's own).
    device : str
        Brian2 device of every run (``experiment.device``).
    workers : int
        Local worker processes (``experiment.workers``; 1 runs in this process).
    retries : int
        How often a failed run is retried (``experiment.retries``).
    pruning : dict
        The ``[pruning]`` keys, as written in the file (``copies`` for
        ``PruneConfig.lyapunov_copies``); see :class:`lnp_brian.pruning.config.PruneConfig`.
    source : str
        Where the file was read from (used in messages, not in :meth:`sha`).
    text : str
        The file's text, copied to ``config.toml`` of the experiment directory.
    """

    name: str
    models: list
    methods: list
    seeds: list
    tasks: list
    neurons: int | None = None
    device: str = "cpp_standalone"
    workers: int = 1
    retries: int = 1
    pruning: dict = field(default_factory=dict)
    source: str = "<config>"
    text: str = ""

    def task(self, name: str) -> TaskSpec:
        """The task named ``name``.

        Parameters
        ----------
        name : str
            A task name (:attr:`TaskSpec.name`).

        Returns
        -------
        TaskSpec
            The task.

        Raises
        ------
        KeyError
            No task has that name.
        """
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"no task named {name!r} in {self.source}")

    def to_dict(self) -> dict:
        """Every field but ``text`` as plain values (tasks as dicts), e.g. for ``run.json``.

        Returns
        -------
        dict
            Field name -> value; :meth:`from_dict` reverses it.
        """
        d = dataclasses.asdict(self)
        d.pop("text")
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ExperimentConfig":
        """Rebuild a config from :meth:`to_dict` (with or without ``text``).

        Parameters
        ----------
        d : dict
            Field name -> value; tasks as dicts or :class:`TaskSpec`.

        Returns
        -------
        ExperimentConfig
            The config (not checked again: :func:`load_experiment` checks files).
        """
        d = dict(d)
        d["tasks"] = [t if isinstance(t, TaskSpec) else TaskSpec(**t) for t in d["tasks"]]
        return cls(**d)

    def sha(self) -> str:
        """Hash of what the results depend on (not where the file was read from).

        A resumed experiment must have the same hash as the one in its directory.

        Returns
        -------
        str
            The first 8 hex digits of the SHA-256 of the fields but ``source`` and ``text``.
        """
        d = self.to_dict()
        d.pop("source")
        return _short_hash(d)


def parse_method(name: str) -> tuple[str, dict]:
    """Split an experiment's method name into a pruning method and step modes.

    ``"lnp-no-<step>"`` switches a step off and ``"lnp-random-<step>"`` replaces it by its
    random counterpart, with the steps' user-facing names
    (:data:`lnp_brian.pruning.config.STEP_NAMES`).

    Parameters
    ----------
    name : str
        ``"dense"`` (no pruning), ``"lnp"``, ``"ap"``, ``"random"``, ``"lnp-no-<step>"`` or
        ``"lnp-random-<step>"``.

    Returns
    -------
    method : str
        ``"dense"``, ``"lnp"``, ``"ap"`` or ``"random"``.
    steps : dict
        ``PruneConfig.steps`` entries to change (empty for the plain methods).

    Raises
    ------
    ValueError
        An unknown method, naming every valid one.

    Examples
    --------
    >>> parse_method("lnp-no-lyapunov")
    ('lnp', {'lyapunov': 'off'})
    >>> parse_method("lnp-random-timescale-opt")
    ('lnp', {'timescale': 'random'})
    >>> parse_method("dense")
    ('dense', {})
    """
    from ..pruning.config import METHODS

    if not isinstance(name, str):
        raise ValueError(f"a method is a name (string), got {name!r}")
    if name == "dense" or name in METHODS:
        return name, {}
    for mode, word in (("off", "-no-"), ("random", "-random-")):
        if name.startswith("lnp" + word):
            step = name[len("lnp" + word):]
            if step in STEP_BY_NAME:
                return "lnp", {STEP_BY_NAME[step]: mode}
    valid = ["dense", *METHODS] + [f"lnp-{w}-{s}" for w in ("no", "random") for s in STEP_BY_NAME]
    raise ValueError(f"unknown method {name!r}; expected one of {', '.join(valid)}")


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _check_keys(source, section: str, table: dict, allowed) -> None:
    bad = sorted(set(table) - set(allowed))
    if bad:
        raise ExperimentConfigError(source, f"{section}.{bad[0]}" if section else bad[0],
                                    f"unknown key; expected one of {', '.join(sorted(allowed))}")


def _table(source, key: str, value) -> dict:
    if not isinstance(value, dict):
        raise ExperimentConfigError(source, key, f"expected a table [{key}], got {value!r}")
    return value


def _typed(source, key, value, kind):
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise ExperimentConfigError(source, key, f"expected {_KIND_NAMES.get(kind, kind.__name__)}, got {value!r}")
    return value


_KIND_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _int_in(source, key, value, lo: int, hi: int | None = None, what: str = "") -> int:
    """An integer lo <= value (<= hi)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= lo and (hi is None or value <= hi)
    if not ok:
        rng_text = f">= {lo}" if hi is None else f"from {lo} to {hi:,}"
        raise ExperimentConfigError(source, key, f"expected an integer {rng_text}{what}, got {value!r}")
    return value


def _check_quantity(source, key, value, unit):
    from ..core.units import UnitError, parse_quantity

    try:
        q = float(parse_quantity(value, unit))
    except (UnitError, TypeError, ValueError) as exc:
        raise ExperimentConfigError(source, key, f"expected a quantity in {unit} such as "
                                                 f"{_UNIT_EXAMPLES.get(unit, repr('1 ' + unit))}, got {value!r}: "
                                                 f"{_one_line(exc)}") from None
    if not math.isfinite(q):
        raise ExperimentConfigError(source, key, f"expected a finite quantity in {unit}, got {value!r}")
    return value


_UNIT_EXAMPLES = {"second": "'5 ms'", "amp": "'100 pA'"}


def _finite(source, value, key: str = "") -> None:
    """Every number of the document is finite (TOML allows nan and inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ExperimentConfigError(source, key, f"expected a finite number, got {value!r}")
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(source, v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(source, v, f"{key}[{i}]")


def _parse_task(source, k: int, table: dict) -> TaskSpec:
    where = f"tasks[{k}]"
    if not isinstance(table, dict):
        raise ExperimentConfigError(source, where, f"expected a [[tasks]] table, got {table!r}")
    kind = table.get("kind")
    if kind not in TASK_KINDS:
        raise ExperimentConfigError(source, f"{where}.kind", f"expected one of {', '.join(TASK_KINDS)}, got {kind!r}")
    allowed = _SERIES_KEYS if kind in SERIES_KINDS else _QUALITY_KEYS if kind in QUALITY_KINDS else _IMAGE_KEYS
    _check_keys(source, where, table, {"name", "kind", "regime", *allowed})
    name = table.get("name", kind)
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise ExperimentConfigError(source, f"{where}.name", f"expected a name of letters, digits, - and _, got {name!r}")
    regime = table.get("regime", "readout")
    if regime not in ("readout", "stdp"):
        raise ExperimentConfigError(source, f"{where}.regime", f"expected 'readout' or 'stdp', got {regime!r}")
    if kind in QUALITY_KINDS and regime != "readout":
        raise ExperimentConfigError(source, f"{where}.regime",
                                    f"expected 'readout' for kind {kind!r} (it measures the network as it is, "
                                    f"with plasticity frozen: there is no STDP phase), got {regime!r}")
    opts = {k2: v for k2, v in table.items() if k2 not in ("name", "kind", "regime")}
    units = {"sample_time": "second", "feature_tau": "second", "present": "second", "rest": "second",
             "input_gain": "amp", "input_weight": "amp"}
    for key, unit in units.items():
        if key in opts and not (key == "rest" and opts[key] == 0 and not isinstance(opts[key], bool)):
            values = opts[key] if key == "feature_tau" and isinstance(opts[key], list) else [opts[key]]
            if not values:
                raise ExperimentConfigError(source, f"{where}.{key}", "expected a time or a non-empty list of times")
            for value in values:
                _check_quantity(source, f"{where}.{key}", value, unit)
    for key in ("samples", "washout", "chunk", "stdp_epochs", "n_train", "n_test", "batch", "data_seed",
                "n_samples", "max_delay", "streams", "stream_length"):
        if key in opts:
            _typed(source, f"{where}.{key}", opts[key], int)
    for key in ("dt", "train", "val", "test", "input_fraction", "stream_noise"):
        if key in opts:
            _typed(source, f"{where}.{key}", opts[key], float)
    for key in ("signed", "noise", "input_term"):
        if key in opts:
            _typed(source, f"{where}.{key}", opts[key], bool)
    for key in ("label", "color", "path", "features"):
        if key in opts:
            _typed(source, f"{where}.{key}", opts[key], str)
    if "data_seed" in opts:
        _int_in(source, f"{where}.data_seed", opts["data_seed"], 0)
    if "horizons" in opts:
        h = opts["horizons"]
        if not (isinstance(h, list) and h and all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in h)):
            raise ExperimentConfigError(source, f"{where}.horizons", f"expected a list of integers >= 1, got {h!r}")
        if len(set(h)) != len(h):
            raise ExperimentConfigError(source, f"{where}.horizons", f"expected distinct horizons, got {h!r}")
    if kind in ("cifar10", "cifar100"):
        if "path" not in opts:
            raise ExperimentConfigError(source, f"{where}.path",
                                        f"{kind} needs the folder of the python-pickle batch files (nothing is downloaded)")
        path = Path(os.path.expanduser(str(opts["path"])))
        if not path.is_absolute():
            path = (Path(source).parent / path).resolve() if Path(source).exists() else path.resolve()
        if not path.exists():
            raise ExperimentConfigError(source, f"{where}.path", f"{path} does not exist: point it at the "
                                        f"extracted {kind} python batches (data_batch_1 ... / train, test)")
        opts["path"] = str(path)
    return TaskSpec(name=name, kind=kind, regime=regime, options=opts)


def _quality_kwargs(task: TaskSpec) -> dict:
    """The :func:`lnp_brian.tasks.quality.reservoir_quality` options of a quality task (the file's
    values over :data:`QUALITY_DEFAULTS`)."""
    kw = dict(QUALITY_DEFAULTS)
    kw.update({arg: task.options[key] for key, arg in _QUALITY_KEYS.items() if key in task.options})
    return kw


#: reservoir_quality option -> experiment file key, where they differ
_QUALITY_FILE_KEYS = {arg: key for key, arg in _QUALITY_KEYS.items()}


def _check_quality(source, where: str, task: TaskSpec, suffix: str = "", **model) -> dict:
    """A quality task's options with :func:`lnp_brian.tasks.quality.quality_options` (``model``:
    its ``input_dim`` and ``dt``); errors name the file's key."""
    from ..tasks.quality import QualityOptionError, quality_options

    kw = {k: v for k, v in _quality_kwargs(task).items() if k != "noise"}
    try:
        out = quality_options(**kw, **model)
    except QualityOptionError as exc:
        key = _QUALITY_FILE_KEYS.get(exc.option, exc.option)
        raise ExperimentConfigError(source, f"{where}.{key}", _one_line(exc).replace(exc.option, key) + suffix) from None
    for key in ("n_samples", "streams"):  # bounds against typing slips
        _int_in(source, f"{where}.{key}", kw[key], 10 if key == "n_samples" else 2, MAX_SAMPLES)
    return out


def _check_task_data(source, k: int, task: TaskSpec) -> None:
    """The data set settings of a task (model independent), with the data sets' own checks."""
    from ..tasks import datasets as ds
    from ..tasks.runners import TaskOptionError, image_counts

    where, o = f"tasks[{k}]", task.options
    if task.family == "quality":  # no data set: the options that do not depend on the model
        _check_quality(source, where, task)
    elif task.family == "series":
        samples = _int_in(source, f"{where}.samples", o.get("samples", SERIES_SAMPLES), 2, MAX_SAMPLES)
        if "dt" in o and not o["dt"] > 0:
            raise ExperimentConfigError(source, f"{where}.dt", f"expected a sampling step > 0 (time units of the "
                                                               f"{task.kind} system), got {o['dt']!r}")
        gen = {"lorenz63": ds.lorenz63, "rossler": ds.rossler, "mackey_glass": ds.mackey_glass}[task.kind]
        kw = {"seed": int(o.get("data_seed", 0)), **({"dt": float(o["dt"])} if "dt" in o else {})}
        try:
            gen(1, **kw)  # the generator's own checks of dt (mackey_glass: tau / dt), cheap
        except (ValueError, FloatingPointError) as exc:
            raise ExperimentConfigError(source, f"{where}.dt", _one_line(exc)) from None
        fr = {key: float(o.get(key, d)) for key, d in SERIES_SPLITS.items()}
        for key in SERIES_SPLITS:
            if key in o and not 0 < o[key] < 1:
                raise ExperimentConfigError(source, f"{where}.{key}",
                                            f"expected the fraction of the series in the {key} block, 0 < f < 1, "
                                            f"got {o[key]!r}")
        if abs(sum(fr.values()) - 1.0) > 1e-9:
            given = next((key for key in SERIES_SPLITS if key in o), "train")
            raise ExperimentConfigError(source, f"{where}.{given}",
                                        "expected train + val + test = 1 (defaults 0.6, 0.2, 0.2 for those not "
                                        f"given), got {fr['train']:g} + {fr['val']:g} + {fr['test']:g} = "
                                        f"{sum(fr.values()):g}")
        try:  # block lengths against the longest horizon: the task builder's own check
            ds.make_series_task(np.arange(float(samples)), horizon=max(task.horizons), **fr)
        except ValueError as exc:
            raise ExperimentConfigError(source, f"{where}.{'horizons' if 'horizons' in o else 'samples'}",
                                        f"{_one_line(exc)} (samples = {samples}, horizons = {task.horizons})") from None
    else:
        n_train, n_test = IMAGE_COUNTS[task.kind]
        try:
            image_counts(task.kind, o.get("n_train", n_train), o.get("n_test", n_test), label=o.get("label", "fine"))
        except TaskOptionError as exc:
            raise ExperimentConfigError(source, f"{where}.{exc.option}", _one_line(exc)) from None


def _check_task_model(source, k: int, task: TaskSpec, model: str, spec) -> None:
    """A task's encoder options against one model of the grid (units, simulation step), with
    the task runners' own checks (lnp_brian.tasks.runners.series_options / image_options)."""
    from ..tasks.runners import TaskOptionError, integration_step, image_options, series_options

    where = f"tasks[{k}]"
    if task.regime == "stdp" and spec.plasticity is None:
        raise ExperimentConfigError(source, f"{where}.regime", f"expected 'readout': model {model!r} has no "
                                                               "[plasticity] section for regime 'stdp'")
    if task.family == "quality":
        if spec.neuron.input is None:
            raise ExperimentConfigError(source, "network.models", f"{model!r} has no input current (neuron.input) "
                                                                  f"for the quality task {task.name!r}")
        try:
            dt = integration_step(None, spec)
        except ValueError as exc:
            raise ExperimentConfigError(source, "network.models", f"{model!r}: {_one_line(exc)}") from None
        _check_quality(source, where, task, f" (model {model!r})", input_dim=spec.neuron.input_dim, dt=dt)
        return
    keys = _SERIES_KEYS if task.family == "series" else _IMAGE_KEYS
    kw = {arg: task.options[key] for key, arg in keys.items()
          if arg is not None and key in task.options and key not in ("n_train", "n_test", "data_seed", "path", "label")}
    try:  # the model-independent checks first: their messages name no model
        (series_options if task.family == "series" else image_options)(**kw)
    except TaskOptionError as exc:
        raise ExperimentConfigError(source, f"{where}.{exc.option}", _one_line(exc)) from None
    try:
        dt = integration_step(None, spec)
        if task.family == "series":
            if spec.neuron.input is None:
                raise ExperimentConfigError(source, "network.models", f"{model!r} has no input current (neuron.input) "
                                                                      f"for the series task {task.name!r}")
            series_options(**kw, input_dim=spec.neuron.input_dim, dt=dt)
        else:
            if spec.synapse is None:
                raise ExperimentConfigError(source, "network.models", f"{model!r} has no [synapse] section for the "
                                                                      f"input synapses of the image task {task.name!r}")
            image_options(**kw, weight_dim=spec.synapse.weight_dim, dt=dt)
    except TaskOptionError as exc:
        raise ExperimentConfigError(source, f"{where}.{exc.option}", f"{_one_line(exc)} (model {model!r})") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ExperimentConfigError(path, "", "is a directory; expected an experiment file (TOML)") from None
    except UnicodeDecodeError as exc:
        raise ExperimentConfigError(path, "", f"not UTF-8 text (byte {exc.start}); expected an experiment file "
                                              "(TOML)") from None
    except OSError as exc:
        raise ExperimentConfigError(path, "", f"cannot be read: {exc.strerror or exc}") from None


def load_experiment(path) -> ExperimentConfig:
    """Read and check an experiment file.

    Every key is checked here, before anything runs: types, ranges, finite numbers, non-empty
    grids, the pruning schedule for every method
    (:class:`lnp_brian.pruning.config.PruneConfig`), and each task's data set and encoder
    options against every model (the task runners' own checks).

    Parameters
    ----------
    path : path
        The experiment file (TOML, format in ``configs/README.md``); relative model paths in
        it are relative to the file.

    Returns
    -------
    ExperimentConfig
        The checked configuration.

    Raises
    ------
    ExperimentConfigError
        One line naming the file, the key, the value and what was expected.
    """
    from ..core.devices import DEVICES
    from ..model.spec import load_model
    from ..pruning.config import PruneConfigError

    path = Path(path)
    if not path.exists():
        shipped = Path(__file__).resolve().parent.parent / "configs"
        hint = f"; shipped configs: {', '.join(sorted(p.name for p in shipped.glob('*.toml')))}" if shipped.is_dir() else ""
        raise ExperimentConfigError(path, "", f"no such file{hint}")
    text = _read_text(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentConfigError(path, "", f"not valid TOML: {_one_line(exc)}") from None
    src = str(path)
    _check_keys(src, "", doc, {"experiment", "network", "pruning", "tasks"})
    _finite(src, doc)
    ex = _table(src, "experiment", doc.get("experiment", {}))
    _check_keys(src, "experiment", ex, {"name", "seeds", "methods", "device", "workers", "retries"})
    nw = _table(src, "network", doc.get("network", {}))
    _check_keys(src, "network", nw, {"models", "neurons"})
    pr = _table(src, "pruning", doc.get("pruning", {}))
    _check_keys(src, "pruning", pr, _PRUNING_KEYS)
    pruning = {k: _typed(src, f"pruning.{k}", v, _PRUNING_KEYS[k]) for k, v in pr.items()}
    for key in ("duration", "interval", "exponent_window"):
        if key in pruning:
            _check_quantity(src, f"pruning.{key}", pruning[key], "second")

    name = ex.get("name", path.stem)
    if not (isinstance(name, str) and name.strip() and "\n" not in name):
        raise ExperimentConfigError(src, "experiment.name", f"expected a non-empty one-line name, got {name!r}")
    seeds = ex.get("seeds", 5)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        _int_in(src, "experiment.seeds", seeds, 1, MAX_SEEDS, " (a count: seeds 1..N) or a list of seeds")
        seeds = list(range(1, seeds + 1))
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                      for s in seeds)):
        raise ExperimentConfigError(src, "experiment.seeds",
                                    f"expected a count >= 1 or a non-empty list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ExperimentConfigError(src, "experiment.seeds", f"expected distinct seeds, got {seeds} (seeds repeat)")
    methods = ex.get("methods", ["dense", "lnp", "ap", "random"])
    if not (isinstance(methods, list) and methods):
        raise ExperimentConfigError(src, "experiment.methods", f"expected a non-empty list of method names, got {methods!r}")
    for m in methods:
        try:
            parse_method(m)
        except ValueError as exc:
            raise ExperimentConfigError(src, "experiment.methods", str(exc)) from None
    if len(set(methods)) != len(methods):
        raise ExperimentConfigError(src, "experiment.methods", f"expected distinct methods, got {methods!r}")
    device = ex.get("device", "cpp_standalone")
    if device not in DEVICES:
        raise ExperimentConfigError(src, "experiment.device", f"expected one of {', '.join(DEVICES)}, got {device!r}")
    workers = _int_in(src, "experiment.workers", _typed(src, "experiment.workers", ex.get("workers", 1), int), 1, MAX_WORKERS)
    retries = _int_in(src, "experiment.retries", _typed(src, "experiment.retries", ex.get("retries", 1), int), 0, MAX_RETRIES)

    models = nw.get("models", ["hrsnn"])
    if isinstance(models, str):
        models = [models]
    if not (isinstance(models, list) and models and all(isinstance(m, str) and m for m in models)):
        raise ExperimentConfigError(src, "network.models",
                                    f"expected a model name or path, or a non-empty list of them, got {models!r}")
    resolved, specs = [], {}
    for m in models:
        candidate = Path(m)
        if m.endswith(".toml") and not candidate.is_absolute():
            candidate = path.parent / candidate
            m = str(candidate.resolve()) if candidate.exists() else m
        try:
            spec = load_model(m)
        except Exception as exc:  # ModelError and unknown names: say which entry
            raise ExperimentConfigError(src, "network.models", f"{m!r}: {_one_line(exc)}") from None
        if not spec.neuron.spiking:
            raise ExperimentConfigError(src, "network.models", f"{m!r} has no spiking neurons; tasks read spikes")
        if m in specs:
            raise ExperimentConfigError(src, "network.models", f"expected distinct models, got {models!r}")
        resolved.append(m)
        specs[m] = spec
    neurons = nw.get("neurons")
    if neurons is not None:
        _int_in(src, "network.neurons", _typed(src, "network.neurons", neurons, int), MIN_NEURONS, MAX_NEURONS)

    tables = doc.get("tasks", [])
    if not isinstance(tables, list) or not tables:
        raise ExperimentConfigError(src, "tasks", f"expected at least one [[tasks]] table, got {tables!r}")
    tasks = [_parse_task(src, k, t) for k, t in enumerate(tables)]
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ExperimentConfigError(src, "tasks", f"task names repeat: {names}; give each a distinct name")
    for k, task in enumerate(tasks):
        _check_task_data(src, k, task)
        for m, spec in specs.items():
            _check_task_model(src, k, task, m, spec)
    cfg = ExperimentConfig(name=str(name), models=resolved, methods=list(methods), seeds=list(seeds), tasks=tasks,
                           neurons=neurons, device=device, workers=workers, retries=retries, pruning=pruning,
                           source=src, text=text)
    # the pruning schedule of every method, with PruneConfig's own checks
    for m in methods:
        method, steps = parse_method(m)
        if method == "dense":  # measured, never pruned: no optimisation trials needed
            steps = {"timescale": "off"}
        try:
            pconfig = _prune_config(cfg, method, steps, seeds[0])
        except PruneConfigError as exc:
            key = _PRUNE_FIELDS.get(exc.field, exc.field)
            key = f"pruning.{key}" if key in _PRUNING_KEYS else "pruning"
            raise ExperimentConfigError(src, key, f"expected {exc.expected}, got {exc.value!r}") from None
        except (ValueError, TypeError) as exc:
            raise ExperimentConfigError(src, "pruning", f"{_one_line(exc)} (method {m})") from None
    # the renormalisation interval on every model's simulation step (checked by the Lyapunov
    # engine only once a run has started)
    from ..core.units import parse_quantity
    from ..tasks.runners import integration_step

    interval = float(parse_quantity(pconfig.interval, "second"))
    for m, spec in specs.items():
        dt = integration_step(None, spec)
        if abs(interval / dt - round(interval / dt)) > 1e-6:
            raise ExperimentConfigError(src, "pruning.interval", f"expected a multiple of the simulation step dt = "
                                                                 f"{dt * 1e3:g} ms of model {m!r}, got {pconfig.interval!r}")
    return cfg


def grid(cfg: ExperimentConfig) -> list[RunSpec]:
    """Every (model, method, seed, task) combination of an experiment.

    Methods are innermost: the runs of one (model, seed), which share their compiled builds,
    are submitted together.

    Parameters
    ----------
    cfg : ExperimentConfig
        The experiment.

    Returns
    -------
    list of RunSpec
        The runs, in submission order.

    Examples
    --------
    >>> cfg = ExperimentConfig(name="demo", models=["hrsnn"], methods=["dense", "lnp"], seeds=[1, 2],
    ...                        tasks=[TaskSpec("lorenz", "lorenz63")])
    >>> [spec.key for spec in grid(cfg)]
    ['hrsnn__dense__s1__lorenz', 'hrsnn__lnp__s1__lorenz', 'hrsnn__dense__s2__lorenz', 'hrsnn__lnp__s2__lorenz']
    """
    return [RunSpec(model, method, seed, task.name)
            for model in cfg.models for seed in cfg.seeds for task in cfg.tasks for method in cfg.methods]


def _prune_config(cfg: ExperimentConfig, method: str, steps: dict, seed: int):
    p = dict(cfg.pruning)
    for key, fld in _PRUNE_FIELDS.items():
        if fld in p:
            p[key] = p.pop(fld)
    return PruneConfig(method="lnp" if method == "dense" else method, steps=steps, seed=seed,
                       device=cfg.device, **p)


# ==========================================================================================
# one run
# ==========================================================================================
def _short_hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _flatten(prefix: str, out: dict) -> dict:
    """The scalar metrics of a task evaluation under result-column names."""
    flat = {}
    for split in ("train", "val", "test"):
        if "nrmse" in out:
            flat[f"nrmse_{split}"] = out["nrmse"][split]
        if "accuracy" in out and split in out["accuracy"]:
            flat[f"accuracy_{split}"] = out["accuracy"][split]
    if "rmse" in out:
        flat["rmse_test"] = out["rmse"]["test"]
    for name, b in out.get("baselines", {}).items():
        for metric in ("nrmse", "accuracy"):  # series baselines have an NRMSE, image ones an accuracy
            if metric in b:
                flat[f"{name}_{metric}"] = b[metric]
    for k in ("input", "recurrent", "readout", "total"):
        flat[f"sops_{k}"] = out["sops"][k]
    flat["spikes_per_sample"] = out["sops"]["spikes"]
    flat["task_rate_hz"] = out["rate_hz"]
    c = out["counts"]
    flat["neurons_with_readout"] = c["neurons_with_readout"]
    flat["synapses_with_readout"] = c["synapses_with_readout"]
    flat["input_synapses"] = c["input_synapses"]
    flat["readout_synapses"] = c["readout_synapses"]
    if "chance" in out:
        flat["chance"] = out["chance"]
    r = out["readout"]
    if "alpha" in r:
        flat["readout_alpha"] = r["alpha"]
    if "C" in r:
        flat["readout_C"] = r["C"]
    return {f"{prefix}|{k}": float(v) for k, v in flat.items()}


def _flatten_quality(prefix: str, q) -> dict:
    """The result-column metrics of a :class:`lnp_brian.tasks.quality.QualityResult`."""
    flat = {"memory_capacity": q.memory_capacity, "kernel_rank": q.kernel_rank,
            "generalization_rank": q.generalization_rank,
            "spikes_per_neuron_per_sample": q.spikes_per_neuron_per_sample, "task_rate_hz": q.rate_hz}
    return {f"{prefix}|{k}": float(v) for k, v in flat.items()}


class TaskEvaluator:
    """``evaluate(network, seed)`` for :class:`~lnp_brian.pruning.pruner.Pruner`: trains and tests the
    task's readout(s) on one compiled build per task and returns flat scalar metrics
    (``"<row task>|<metric>"``) plus ``rates`` (per-neuron Hz on the training inputs, which AP
    ranks by). The noise seed is fixed per run (common random numbers) and results are cached
    per network content, so AP's ranking and the iteration's score are one evaluation.

    A quality task (:func:`lnp_brian.tasks.quality.reservoir_quality`, seeded with the run's noise
    seed) has no readout to train: it returns memory capacity, kernel and generalisation rank
    and ``rates`` None (AP then ranks by the noise probe's rates). Every network of the run is
    measured on one build in ``build_dir`` (pruned networks keep the dense topology)."""

    def __init__(self, task: TaskSpec, network, device: str, build_dir, seed: int, save_dir=None, log=None):
        from ..tasks import datasets as ds
        from ..tasks.runners import ImageTaskRunner, SeriesTaskRunner

        self.task = task
        self.seed = int(seed)
        self.eval_seed = derive_seed(seed, "experiment.task_noise")
        self.save_dir = Path(save_dir) if save_dir is not None else None
        self.log = log or (lambda msg: None)
        self.device, self.build_dir = device, build_dir
        self._quality_compilations = 0
        self._cache: dict = {}
        o = task.options
        if task.family == "quality":
            self.runners = []
            self.quality_kw = _quality_kwargs(task)
            self.names = task.row_names
            return
        common = {"regime": task.regime, "seed": derive_seed(seed, "experiment.encoder"), "build_dir": build_dir,
                  "reuse": True}
        runner_kw = {}
        keys = _SERIES_KEYS if task.family == "series" else _IMAGE_KEYS
        for key, arg in keys.items():
            if arg is not None and key in o and key not in ("n_train", "n_test", "data_seed", "path", "label"):
                runner_kw[arg] = o[key]
        self.runners = []
        if task.family == "series":
            n = int(o.get("samples", SERIES_SAMPLES))
            gen = {"lorenz63": ds.lorenz63, "rossler": ds.rossler, "mackey_glass": ds.mackey_glass}[task.kind]
            kw = {"seed": int(o.get("data_seed", 0))}
            if "dt" in o:
                kw["dt"] = float(o["dt"])
            series = gen(n, **kw)
            fr = {k: float(o[k]) for k in ("train", "val", "test") if k in o}
            shared = {}  # the horizons share one series and encoder: simulate each network once
            for h in task.horizons:
                st = ds.make_series_task(series, horizon=h, name=f"{task.name}_h{h}", **fr)
                self.runners.append(SeriesTaskRunner(st, network, device, **common, **runner_kw,
                                                     shared_runs=shared))
        else:
            data_seed = int(o.get("data_seed", 0))
            if task.kind == "digits":
                r = ImageTaskRunner.digits(network, int(o.get("n_train", IMAGE_COUNTS["digits"][0])),
                                           int(o.get("n_test", IMAGE_COUNTS["digits"][1])),
                                           data_seed=data_seed, device=device, name=task.name, **common, **runner_kw)
            else:
                r = ImageTaskRunner.cifar(network, o["path"], task.kind, int(o.get("n_train", IMAGE_COUNTS[task.kind][0])),
                                          int(o.get("n_test", IMAGE_COUNTS[task.kind][1])), label=o.get("label", "fine"),
                                          device=device,
                                          name=task.name, **common, **runner_kw)
            self.runners.append(r)
        self.names = task.row_names

    @property
    def compilations(self) -> int:
        return sum(r.sim.compilations for r in self.runners) + self._quality_compilations

    def _quality(self, net) -> dict:
        from ..tasks.quality import reservoir_quality

        q = reservoir_quality(net, self.device, seed=self.eval_seed, build_dir=self.build_dir, reuse=True,
                              **self.quality_kw)
        self._quality_compilations += q.compilations
        name = self.names[0]
        self.log(f"    {name}: {q.summary()}")
        return {**_flatten_quality(name, q), "rates": None}

    def __call__(self, net, seed=None) -> dict:
        key = net.content_key()
        if key in self._cache:
            return self._cache[key]
        if self.task.family == "quality":
            out = self._quality(net)
            self._cache = {key: out}
            return out
        out, rates = {}, None
        for name, runner in zip(self.names, self.runners):
            r = runner.evaluate(net, seed=self.eval_seed)
            out.update(_flatten(name, r))
            if rates is None:
                rates = r["train_rates"]
            if self.task.regime == "stdp" and self.save_dir is not None:
                r["network"].save(self.save_dir / f"{name}-{key}.npz")  # weights after STDP
            self.log(f"    {name}: " + ", ".join(f"{m} {r[m]['test']:.4g}" for m in ("nrmse", "accuracy") if m in r))
        out["rates"] = rates
        self._cache = {key: out}  # the last network only: AP asks for it again next step
        return out

    def close(self):
        for r in self.runners:
            r.close()


OUTPUT_FILES = ("config.toml", "runs", "builds", "results.csv", "summary.csv", "summary.txt")


def run_one(cfg: ExperimentConfig | dict, spec: RunSpec | dict, out, builds=None, echo: bool = False) -> dict:
    """Run one grid entry into ``out/runs/<key>/`` (resuming its checkpoints) and return its result.

    A complete run (``result.json``) is returned as saved. The run uses one BLAS thread, so
    local and distributed grids give identical numbers. This is what the executors call, so
    it also accepts plain dicts.

    Parameters
    ----------
    cfg : ExperimentConfig or dict
        The experiment, or its :meth:`ExperimentConfig.to_dict` (with ``text``).
    spec : RunSpec or dict
        The run, or its fields as a dict.
    out : path
        The experiment directory.
    builds : path, optional
        Where compiled builds go (default ``out/builds``), one folder per (model, size, seed).
    echo : bool
        Also print progress to stderr (it always goes to ``runs/<key>/run.log``).

    Returns
    -------
    dict
        The run's result as in ``result.json``: ``"rows"`` (one per iteration and task row,
        columns of :data:`RESULT_COLUMNS`), ``"key"``, ``"spec"``, ``"wall_seconds"``,
        ``"compilations"``, ``"task_compilations"``, ``"timings"``, ``"seeds"``,
        ``"versions"``, ``"host"`` and ``"pid"``.
    """
    from threadpoolctl import threadpool_limits

    _import_brian2()
    cfg = cfg if isinstance(cfg, ExperimentConfig) else ExperimentConfig.from_dict(cfg)
    spec = spec if isinstance(spec, RunSpec) else RunSpec(**spec)
    out = Path(out)
    d = out / "runs" / spec.key
    done = d / "result.json"
    if done.exists():
        return read_result(done)
    # one BLAS thread in every run, wherever it runs: floating-point sums then do not depend
    # on the executor (dask workers default to one thread, this process may have more), so
    # local and distributed grids give identical results; parallelism comes from the runs
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_one(cfg, spec, out, d, done, builds, echo)


def _run_one(cfg, spec, out, d, done, builds, echo) -> dict:
    from ..model.spec import load_model
    from ..network.network import build_network
    from ..pruning.pruner import Pruner
    from ..simulation.simulator import versions

    d.mkdir(parents=True, exist_ok=True)
    logf = open(d / "run.log", "a", encoding="utf-8")

    def log(msg):
        logf.write(time.strftime("%H:%M:%S ") + msg + "\n")
        logf.flush()
        if echo:
            print(f"  [{spec.key}] {msg.strip()}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    try:
        task = cfg.task(spec.task)
        method, steps = parse_method(spec.method)
        model = load_model(spec.model)
        n = cfg.neurons or model.network.n_neurons
        dense = build_network(model, n, seed=spec.seed)
        # one folder per dense topology and simulation settings; each build inside is also
        # keyed by its structure, so a shared --builds folder never mixes two experiments' builds
        builds = (Path(builds) if builds else out / "builds") / \
            f"{model.name}-n{n}-s{spec.seed}-{_short_hash([cfg.device, cfg.pruning, model.text])}"
        task_dir = builds / f"task-{task.name}-{task.regime}-{_short_hash([task.kind, task.options])}"
        evaluator = TaskEvaluator(task, dense, cfg.device, task_dir, spec.seed,
                                  save_dir=d / "stdp" if task.regime == "stdp" else None, log=log)
        pconfig = _prune_config(cfg, method, steps, spec.seed)
        pruner = Pruner(dense, pconfig, evaluate=evaluator, build_root=builds, log=log)
        log(f"{spec.key}: {dense.summary()}")
        if method == "dense":
            rows = [pruner.measure(dense, 0)]
            final = dense
        else:
            result = pruner.run(checkpoint_dir=d / "checkpoints", resume=True)
            rows, final = result.rows, result.network
        final.compact().save(d / "network_final.npz")
        wall = time.perf_counter() - t0
        base = {"experiment": cfg.name, "model": model.name, "method": spec.method, "seed": spec.seed,
                "regime": task.regime}
        expanded = []
        for row in rows:
            for name, h in zip(evaluator.names, task.horizons or [None]):
                r = {**base, "task": name, "horizon": "" if h is None else h,
                     **{k: row[k] for k in _NETWORK_COLUMNS if k in row}}
                r.update({k.split("|", 1)[1]: v for k, v in row.items() if k.startswith(name + "|")})
                expanded.append(r)
        res = {"key": spec.key, "spec": dataclasses.asdict(spec), "rows": expanded, "wall_seconds": wall,
               "compilations": pruner.compilations, "task_compilations": evaluator.compilations,
               "timings": dict(pruner.timings),
               "seeds": {"network": spec.seed, "pruning": spec.seed,
                         "task_noise": evaluator.eval_seed, "encoder": derive_seed(spec.seed, "experiment.encoder")},
               "versions": versions(), "host": os.uname().nodename, "pid": os.getpid()}
        write_result(done, res)  # written last: marks the run complete
        return read_result(done)  # plain JSON values, as a resumed or skipped run returns them
    except KeyboardInterrupt:
        log("interrupted: not complete; its checkpoints are kept for --resume")
        raise
    except BaseException:
        log("failed:\n" + traceback.format_exc())
        raise
    finally:
        logf.close()


def _import_brian2() -> None:
    """Import Brian2 where a run may execute in a thread other than the main one (dask workers
    run tasks in a thread pool): Brian2 installs a SIGINT handler when first imported, which
    only the main thread may do. Runs never use that handler (``lnp_brian.simulation.simulator`` switches
    Brian2's stop-on-Ctrl-C off), so it is skipped there."""
    import threading

    if "brian2" in sys.modules or threading.current_thread() is threading.main_thread():
        return
    original = signal.signal
    signal.signal = lambda signum, handler: signal.getsignal(signum)
    try:
        import brian2  # noqa: F401
    finally:
        signal.signal = original


def _result_digest(obj: dict) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_result(path, res: dict) -> Path:
    """Write a run's ``result.json`` (atomically) with the SHA-256 of its contents under
    ``"sha256"``, which :func:`read_result` checks."""
    plain = json.loads(json.dumps(res, default=json_default))  # the values a reader gets back
    plain.pop("sha256", None)
    plain["sha256"] = _result_digest(plain)
    return write_json(path, plain)


def read_result(path) -> dict:
    """A run's ``result.json``, checked against its SHA-256 (the ``"sha256"`` entry, removed
    from the dict returned). A file changed or truncated after it was written raises
    :class:`lnp_brian.pruning.pruner.CheckpointError` (a ValueError naming the file) instead of
    being used."""
    from ..pruning.pruner import CheckpointError

    path = Path(path)
    advice = f"delete it (--resume then runs {path.parent.name} again) or run with --overwrite"
    try:
        obj = read_json(path)
    except (OSError, ValueError) as exc:
        raise CheckpointError(path, f"result {path} cannot be read ({_one_line(exc)}); {advice}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("sha256"), str):
        raise CheckpointError(path, f"result {path} has no checksum (written by an older version, or altered); {advice}")
    digest = obj.pop("sha256")
    if _result_digest(obj) != digest.lower():
        raise CheckpointError(path, f"result {path} does not match its checksum: it was changed or truncated after "
                                    f"it was written; {advice}")
    return obj


# ==========================================================================================
# executors and the grid
# ==========================================================================================
class _SigintWatch:
    """Notes a Ctrl-C (SIGINT) while the grid runs, then lets the previous handler act (by
    default: KeyboardInterrupt). Worker processes get the same signal; a run that fails
    because of it is then recorded as interrupted, not as failed or retried. Outside the main
    thread (where handlers cannot be set) it only reports KeyboardInterrupts."""

    def __init__(self):
        self.seen = False
        self._previous = None
        self._installed = False

    def _handler(self, signum, frame):
        import signal

        self.seen = True
        prev = self._previous
        if prev == signal.SIG_IGN:
            return None
        if callable(prev) and prev != signal.SIG_DFL:
            return prev(signum, frame)  # default: raises KeyboardInterrupt
        raise KeyboardInterrupt

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.getsignal(signal.SIGINT)
                signal.signal(signal.SIGINT, self._handler)
                self._installed = True
            except (ValueError, OSError):
                pass
        return self

    def __exit__(self, *exc):
        import signal

        if self._installed:
            try:
                signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler)
            except (ValueError, OSError, TypeError):
                pass
        return False


class _LocalPool:
    """Runs in local worker processes (spawned: Brian2's global state stays per process)."""

    def __init__(self, workers: int):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
        self.describe = f"local process pool ({workers} worker{'s' if workers > 1 else ''})"

    def submit(self, *args):
        return self.pool.submit(run_one, *args)

    def as_completed(self, futures):
        from concurrent.futures import as_completed

        return as_completed(futures)

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Inline:
    """Runs in this process, one after another (workers = 1): no start-up cost, Ctrl+C direct."""

    describe = "this process"

    class _Done:
        def __init__(self, fn, args):
            self.fn, self.args = fn, args

        def result(self):
            return self.fn(*self.args)

    def submit(self, *args):
        return self._Done(run_one, args)

    def as_completed(self, futures):
        return iter(list(futures))

    def close(self):
        pass


class _Dask:
    """Runs on a dask.distributed cluster at ``address`` (e.g. tcp://127.0.0.1:8786)."""

    def __init__(self, address: str):
        from distributed import Client

        self.client = Client(address, timeout="30s")
        n = len(self.client.scheduler_info().get("workers", {}))
        self.describe = f"dask.distributed scheduler {address} ({n} worker{'s' if n != 1 else ''})"

    def submit(self, *args):
        # pure=False: a retry must run again, not return the cached failure
        return self.client.submit(run_one, *args, pure=False, key=f"lnp-brian-{RunSpec(**args[1]).key}-{time.time_ns()}")

    def as_completed(self, futures):
        from distributed import as_completed

        return as_completed(futures)

    def close(self):
        self.client.close()


def write_results(path, rows) -> Path:
    """results.csv: one row per (model, method, seed, task, iteration), RESULT_COLUMNS order."""
    extra = sorted({k for r in rows for k in r} - set(RESULT_COLUMNS))
    cols = RESULT_COLUMNS + extra
    text = io.StringIO()
    w = csv.DictWriter(text, fieldnames=cols, restval="", lineterminator="\n")
    w.writeheader()
    order = sorted(rows, key=lambda r: (r["model"], r["task"], r["method"], int(r["seed"]), int(r["iteration"])))
    for r in order:
        w.writerow({k: _fmt(v) for k, v in r.items()})
    return atomic_write(path, lambda fh: fh.write(text.getvalue().encode()))


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return "" if math.isnan(v) else repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


def read_results(path) -> list[dict]:
    """Rows of a results.csv (or of the results.csv in a directory), numbers as floats.

    Parameters
    ----------
    path : path
        A results.csv, or an experiment directory holding one.

    Returns
    -------
    list of dict
        One dict per row: the text columns (experiment, model, method, task, regime) as
        strings, the others as floats (empty cells NaN).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    text = {"experiment", "model", "method", "task", "regime"}
    for r in rows:
        for k, v in r.items():
            if k not in text:
                try:
                    r[k] = float(v) if v != "" else math.nan
                except ValueError:
                    pass
    return rows


def _summary_metrics(keys) -> list[str]:
    """SUMMARY_METRICS, then any other baseline column (``<name>_nrmse`` / ``<name>_accuracy``)
    among ``keys``, sorted."""
    extra = {k for k in keys if k.endswith(("_nrmse", "_accuracy")) and k not in SUMMARY_METRICS}
    return SUMMARY_METRICS + sorted(extra)


def summarise(rows) -> list[dict]:
    """Mean and standard deviation over seeds per (model, method, task, iteration).

    Of every :data:`SUMMARY_METRICS` column and every baseline column (``<name>_nrmse``,
    ``<name>_accuracy``) the rows have; NaN and empty values are left out.

    Parameters
    ----------
    rows : list of dict
        Result rows (:func:`read_results`, or the ``"rows"`` of :func:`run_one`).

    Returns
    -------
    list of dict
        One dict per group, sorted: ``model``, ``method``, ``task``, ``iteration``,
        ``seeds`` (rows averaged), ``final`` (1 for the last iteration of that model, method
        and task) and ``<metric>_mean`` / ``<metric>_std`` (ddof 1; 0 for one seed, NaN for
        none).

    Examples
    --------
    >>> rows = [{"model": "hrsnn", "method": "lnp", "task": "lorenz_h1", "iteration": 1, "seed": seed,
    ...          "nrmse_test": nrmse} for seed, nrmse in ((1, 0.2), (2, 0.4))]
    >>> s = summarise(rows)[0]
    >>> s["seeds"], s["final"], round(s["nrmse_test_mean"], 3), round(s["nrmse_test_std"], 3)
    (2, 1, 0.3, 0.141)
    """
    metrics = _summary_metrics({k for r in rows for k in r})
    groups: dict = {}
    for r in rows:
        key = (r["model"], r["method"], r["task"], int(float(r["iteration"])))
        groups.setdefault(key, []).append(r)
    out = []
    for (model, method, task, it), rs in sorted(groups.items()):
        s = {"model": model, "method": method, "task": task, "iteration": it, "seeds": len(rs),
             "final": int(it == max(int(float(x["iteration"])) for x in rows
                                    if x["model"] == model and x["method"] == method and x["task"] == task))}
        for m in metrics:
            vals = np.array([float(x[m]) for x in rs if m in x and x[m] not in ("", None)], float)
            vals = vals[np.isfinite(vals)]
            s[f"{m}_mean"] = float(vals.mean()) if len(vals) else math.nan
            s[f"{m}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else (0.0 if len(vals) else math.nan)
        out.append(s)
    return out


def quality_table(summary) -> str:
    """The final iteration of every (model, quality task, method) as an aligned text table.

    Memory capacity, kernel and generalisation rank (mean ± std over seeds), with counts and
    λ_max (1/s).

    Parameters
    ----------
    summary : list of dict
        Rows of :func:`summarise` for quality tasks.

    Returns
    -------
    str
        The table, one block per (model, task); ``"(no rows)"`` when there is no final row.
    """
    final = [s for s in summary if s.get("final")]
    if not final:
        return "(no rows)"

    def ms(s, m, fmt):
        mean, sd = s.get(f"{m}_mean", math.nan), s.get(f"{m}_std", math.nan)
        return f"{mean:{fmt}} ± {sd:<6{fmt}}"

    lines = []
    for model, task in sorted({(s["model"], s["task"]) for s in final}):
        lines.append(f"{model} / {task}   (memory capacity: higher is better; kernel rank: higher; "
                     f"generalisation rank: lower)")
        lines.append(f"  {'method':<22} {'seeds':>5} {'neurons':>9} {'synapses':>10} {'memory capacity':>17} "
                     f"{'kernel rank':>17} {'gen. rank':>17} {'lambda_max 1/s':>15}")
        for s in (x for x in final if x["model"] == model and x["task"] == task):
            lines.append(f"  {s['method']:<22} {s['seeds']:>5} {s['neurons_mean']:>9.0f} {s['synapses_mean']:>10.0f} "
                         f"{ms(s, 'memory_capacity', '.3f'):>17} {ms(s, 'kernel_rank', '.1f'):>17} "
                         f"{ms(s, 'generalization_rank', '.1f'):>17} {s['lambda_max_mean']:>15.3g}")
        lines.append("")
    return "\n".join(lines).rstrip()


def write_summary(path, summary) -> Path:
    cols = ["model", "method", "task", "iteration", "final", "seeds"]
    metrics = _summary_metrics({k[:-5] for r in summary for k in r if k.endswith("_mean")})
    cols += [f"{m}_{s}" for m in metrics for s in ("mean", "std")]
    text = io.StringIO()
    w = csv.DictWriter(text, fieldnames=cols, restval="", lineterminator="\n")
    w.writeheader()
    for r in summary:
        w.writerow({k: _fmt(v) for k, v in r.items()})
    return atomic_write(path, lambda fh: fh.write(text.getvalue().encode()))


class Experiment:
    """Run the grid of an :class:`ExperimentConfig` into a directory.

    Parameters
    ----------
    config : ExperimentConfig or path
        The experiment, or its file (read with :func:`load_experiment`).
    out : path
        The experiment directory: ``run.json``, ``config.toml`` (the file as given),
        ``results.csv`` (rewritten as runs finish), ``summary.csv``, figures, ``runs/<key>/``
        (each run's log, checkpoints, final network, ``result.json``) and ``builds/``.
    resume : bool
        Skip complete runs, continue interrupted ones.
    overwrite : bool
        Replace an earlier experiment in ``out`` (compiled builds are kept).
    scheduler : str, optional
        Address of a dask.distributed scheduler; default: local processes. The workers must
        see ``out`` (and ``builds``) at the same path: a shared or the same file system.
    builds : path, optional
        Where compiled builds go (default ``out/builds``); experiments that share it re-use
        each other's binaries (same structure, no compilation).
    workers : int, optional
        Local worker processes (default: the config's ``workers``; 1 runs in this process).
    argv : list of str, optional
        The command line, recorded in ``run.json`` (default ``sys.argv``).
    quiet : bool
        Write progress messages only to ``out/run.log`` (by default they also go to stderr).

    Raises
    ------
    ExperimentConfigError
        ``config`` is a file that cannot be used.
    lnp_brian.core.runs.RunExistsError
        ``out`` cannot be used (it holds a run that ``resume`` / ``overwrite`` do not allow
        replacing, a run in progress, or files lnp-brian did not write).
    ValueError
        ``resume`` of a directory that holds an experiment with a different configuration.
    """

    def __init__(self, config, out, *, resume: bool = False, overwrite: bool = False, scheduler: str | None = None,
                 workers: int | None = None, builds=None, argv=None, quiet: bool = False):
        from ..core.runs import RunDir

        self.config = config if isinstance(config, ExperimentConfig) else load_experiment(config)
        self.run_dir = RunDir(out, overwrite=overwrite, resume=resume, command="experiment", argv=argv)
        self.out = self.run_dir.path
        for name in OUTPUT_FILES:  # the manifest: what --overwrite may remove later
            self.run_dir.file(name)
        self.scheduler = scheduler
        self.builds = str(Path(builds).resolve()) if builds else None
        self.workers = int(workers or self.config.workers)
        self.quiet = quiet
        self.resume = resume
        if resume and "config_sha" in self.run_dir.info and self.run_dir.info["config_sha"] != self.config.sha():
            self.run_dir.close()
            raise ValueError(f"{self.out} holds an experiment with a different configuration; resume it with "
                             f"the same file (its copy is {self.out / 'config.toml'})")

    def log(self, msg: str):
        """Write a progress message to ``out/run.log`` and, unless ``quiet``, to stderr.

        Parameters
        ----------
        msg : str
            The message.
        """
        self.run_dir.log(msg, echo=not self.quiet)

    def _executor(self):
        if self.scheduler:
            return _Dask(self.scheduler)
        return _Inline() if self.workers == 1 else _LocalPool(self.workers)

    def run(self) -> list[dict]:
        """Run every grid entry not yet complete, then write the results, summary and figures.

        ``run.json`` ends with status ``complete``, ``incomplete`` (some runs failed after
        their retries), ``interrupted`` (Ctrl-C; complete runs and the others' checkpoints
        are kept for ``--resume``) or ``failed`` (any other error, re-raised).

        Returns
        -------
        list of dict
            The summary rows (:func:`summarise`), as in ``summary.csv``.

        Raises
        ------
        ExperimentIncomplete
            Some runs failed after their retries; the others' results are saved.
        KeyboardInterrupt
            Ctrl-C, re-raised after the state was recorded.
        """
        results: dict = {}
        failures: dict = {}
        t0 = time.perf_counter()
        with _SigintWatch() as sigint:
            try:
                summary, specs = self._run(results, failures, sigint)
            except BaseException as exc:
                interrupted = isinstance(exc, KeyboardInterrupt) or sigint.seen
                self._stop("interrupted" if interrupted else "failed", results, failures, t0, exc)
                raise
        if failures:
            raise ExperimentIncomplete(f"{len(failures)} of {len(specs)} runs failed: {', '.join(sorted(failures))}; "
                                       f"the others are in {self.out / 'results.csv'}; rerun with --resume")
        return summary

    def _stop(self, status: str, results: dict, failures: dict, t0: float, exc: BaseException) -> None:
        """Record an experiment that stopped early (never as complete) and release run.log."""
        run = self.run_dir
        try:
            if status == "interrupted":
                self.log(f"interrupted: {len(results)} runs complete; their results and the other runs' "
                         f"checkpoints are kept: continue with --resume")
            else:
                run.update(error=_one_line(f"{type(exc).__name__}: {exc}"))
            run.update(wall_seconds={**run.info.get("wall_seconds", {}), "grid": round(time.perf_counter() - t0, 3)},
                       failed=failures, complete=sorted(results))
            run.write(status)
        finally:
            run.close()

    def _run(self, results: dict, failures: dict, sigint) -> tuple:
        from ..simulation.simulator import versions

        cfg, run = self.config, self.run_dir
        specs = grid(cfg)
        atomic_write(self.out / "config.toml", lambda fh: fh.write(cfg.text.encode()))
        run.update(config=cfg.to_dict(), config_sha=cfg.sha(), versions=versions(),
                   grid={"runs": len(specs), "models": cfg.models, "methods": cfg.methods, "seeds": cfg.seeds,
                         "tasks": [t.name for t in cfg.tasks]})
        run.write("running")
        todo = []
        for s in specs:
            f = self.out / "runs" / s.key / "result.json"
            if f.exists():
                results[s.key] = read_result(f)  # checked against its checksum
            else:
                todo.append(s)
        if results:
            self.log(f"{len(results)} of {len(specs)} runs already complete: skipped")
        ex = self._executor()
        self.log(f"experiment {cfg.name}: {len(todo)} runs to go on {ex.describe} -> {self.out}")
        t0 = time.perf_counter()
        try:
            cfg_d = cfg.to_dict()
            cfg_d["text"] = cfg.text
            echo = not self.quiet and not self.scheduler  # dask workers log to their own files
            pending = {}
            for s in todo:
                pending[ex.submit(cfg_d, dataclasses.asdict(s), str(self.out), self.builds, echo)] = (s, 0)
            while pending:
                for fut in ex.as_completed(list(pending)):
                    s, tries = pending.pop(fut)
                    try:
                        res = fut.result()
                    except KeyboardInterrupt:
                        raise
                    except BaseException as exc:  # noqa: BLE001 - report, retry, carry on
                        if sigint.seen:  # a worker stopped by the same Ctrl-C: not a failure
                            raise KeyboardInterrupt from exc
                        msg = f"{type(exc).__name__}: {exc}"
                        if tries < cfg.retries:
                            self.log(f"run {s.key} failed ({msg}); retrying (log: runs/{s.key}/run.log)")
                            pending[ex.submit(cfg_d, dataclasses.asdict(s), str(self.out), self.builds, echo)] = (s, tries + 1)
                        else:
                            failures[s.key] = msg
                            self.log(f"run {s.key} FAILED after {tries + 1} tries: {msg}; see runs/{s.key}/run.log")
                        break
                    results[s.key] = res
                    write_results(self.out / "results.csv", [r for v in results.values() for r in v["rows"]])
                    last = res["rows"][-1]
                    score = next((f"{m} {last[m]:.4g}" for m in ("nrmse_test", "accuracy_test", "memory_capacity")
                                  if m in last), "")
                    self.log(f"[{len(results)}/{len(specs)}] {s.key}: {last['neurons']:.0f} neurons, "
                             f"{last['synapses']:.0f} synapses, {score} ({res['wall_seconds']:.0f} s)")
                    break
        finally:
            ex.close()
        if sigint.seen:  # a Ctrl-C whose KeyboardInterrupt something swallowed: still not complete
            raise KeyboardInterrupt
        rows = [r for v in results.values() for r in v["rows"]]
        summary = []
        if rows:
            write_results(self.out / "results.csv", rows)
            summary = summarise(rows)
            write_summary(self.out / "summary.csv", summary)
            from ..report import summary as report

            # the report's figures and table score by NRMSE or accuracy: quality tasks get a
            # table of their own (below), no figures
            quality = {n for t in cfg.tasks if t.family == "quality" for n in t.row_names}
            scored = [r for r in rows if r["task"] not in quality]
            figures = report.experiment_figures(scored, self.out) if scored else []
            for name in figures:
                run.file(name)
            tables = [report.summary_table([s for s in summary if s["task"] not in quality])] if scored else []
            if quality:
                tables.append(quality_table([s for s in summary if s["task"] in quality]))
            (self.out / "summary.txt").write_text("\n\n".join(tables) + "\n", encoding="utf-8")
        else:
            figures = []
        run.update(wall_seconds={**run.info.get("wall_seconds", {}), "grid": round(time.perf_counter() - t0, 3)},
                   executor=ex.describe, failed=failures, complete=sorted(results),
                   compilations=sum(v.get("compilations", 0) for v in results.values()),
                   files=["results.csv", "summary.csv", "summary.txt", "config.toml", *figures, "runs/", "builds/"])
        run.write("complete" if not failures else "incomplete")
        run.close()
        return summary, specs
