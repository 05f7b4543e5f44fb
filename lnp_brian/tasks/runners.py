"""Tasks: encode inputs, simulate a network on ONE compiled build, train and test a readout.

Two task families (docs/reservoir.md, docs/images.md), each a *runner* that is built once per network topology and
then evaluated as often as needed (a pruning loop calls :meth:`evaluate` every iteration
with the pruned network; values change through the simulator's run arguments, the binary is
never rebuilt):

- :class:`SeriesTaskRunner`: h-step-ahead forecasting of a chaotic series
  (:class:`lnp_brian.tasks.datasets.SeriesTask`). Every normalised sample u(t) is presented for
  ``sample_time`` as input currents (a :class:`~lnp_brian.brian.inputs.Stimulus`: K channels =
  the series' variables, mixed into a seeded random subset of neurons with seeded random
  weights times ``input_gain``). The series is simulated in chunks of a fixed number of
  samples (the compiled stimulus has a fixed shape), each preceded by a washout whose
  features are discarded. Features: filtered spike trains of the active neurons (a bank of
  alpha-kernel filters by default), sampled at the end of every presentation; readout:
  :class:`~lnp_brian.tasks.readout.RidgeReadout`; metrics: NRMSE and RMSE on the validation and
  test blocks, always beside the persistence and lagged-ridge baselines of the same split.
- :class:`ImageTaskRunner`: image classification (scikit-learn digits, CIFAR-10/100).
  Poisson rate coding (one input neuron per pixel, or per pixel and colour channel) into a
  :class:`~lnp_brian.brian.inputs.PoissonStimulus` with seeded sparse input synapses; every image
  is presented for ``present`` then followed by ``rest`` of silence, a fixed number of
  images per run. Features: the square roots of the spike counts of the active neurons
  during each presentation (or the counts themselves); readout:
  :class:`~lnp_brian.tasks.readout.ClassifierReadout`; metric: accuracy.

Both report synaptic operations per sample split into input / recurrent / readout synapses
(:func:`lnp_brian.tasks.metrics.sops`) and neuron / synapse counts
(:func:`lnp_brian.tasks.metrics.counts`).

Training regimes (the paper's models with and without "-STDP"):

- ``regime="readout"``: the network is static and only the readout is trained. Models with
  plasticity (the shipped HRSNN has STDP on E->E) have it *frozen* in every feature run by
  setting the plasticity amplitudes to zero through ``syn_params`` (see ``freeze``).
- ``regime="stdp"``: first an unsupervised STDP phase on the plastic synapses, driven by the
  task's training inputs (chunks or batches in order, ``stdp_epochs`` passes, the weights
  carried from run to run via ``result.final_state["w"]``); then the plasticity is frozen
  and the readout trained on the network with the learned weights, which :meth:`evaluate`
  returns (``out["network"]``, ``out["w"]``) for the caller to save.

Seeds: the runner's ``seed`` fixes the encoder (input neurons, input weights);
``evaluate(seed=)`` fixes the background noise of every run (run ``c`` gets
``derive_seed(seed, "tasks.run.<phase>.<c>")``), so the same network and seed give the same
features, and two networks evaluated with the same seed see the same noise.

This reconstruction is not the paper's code (whose full text is not available to this
project): encoders, presentation times and readouts are documented choices.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time

import numpy as np
from brian2 import second
from brian2.units.fundamentalunits import Quantity

from ..brian.inputs import MAX_MIXED_CHANNELS, OUNoise, check_clock_steps, PoissonNoise, PoissonStimulus, Stimulus, background_noise
from ..core.seeding import derive_seed, rng
from ..core.units import UnitError, parse_quantity, unit_string
from ..network.network import Network
from ..simulation.simulator import Simulator, SimulatorOwner, compile_count, simulation_dt
from ..simulation.traces import KERNELS, count_features, filtered_features
from . import metrics
from .datasets import SeriesTask, logistic_pixels_baseline, persistence_baseline, poisson_rates, ridge_baseline
from .esn import esn_baseline
from .readout import ClassifierReadout, RidgeReadout

__all__ = ["SeriesTaskRunner", "ImageTaskRunner", "REGIMES", "plasticity_amplitudes",
           "json_summary", "images_to_inputs", "default_series_readout", "TaskOptionError",
           "series_options", "image_options", "image_counts", "COLORS", "CIFAR_IMAGES"]

REGIMES = ("readout", "stdp")
COLORS = ("rgb", "gray")
#: images per split of the CIFAR python batches (train, test)
CIFAR_IMAGES = (50000, 10000)
#: keys of an :meth:`evaluate` result that hold objects or arrays, not JSON scalars
OBJECT_KEYS = ("network", "w", "estimator", "predictions", "results", "train_rates")


# ==========================================================================================
# helpers
# ==========================================================================================
class TaskOptionError(ValueError):
    """A task runner option that cannot be used; ``option`` names it.

    A :class:`ValueError`, so callers that catch that keep working; the command line uses
    ``option`` to point at the offending setting.

    Parameters
    ----------
    option : str
        Name of the bad option (e.g. ``"sample_time"``); stored as ``self.option``.
    message : str
        One line naming the option, the value given and what is expected.
    """

    def __init__(self, option: str, message: str):
        self.option = option
        super().__init__(message)


def _quantity(value, expected, name: str) -> float:
    """SI float of a physical parameter given with units ("5 ms", 5*ms), finite."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and not isinstance(value, Quantity):
        raise TaskOptionError(name, f"{name} needs units, e.g. {name}='{_EXAMPLES.get(unit_string(expected), '1 ' + unit_string(expected))}' "
                              f"(got the plain number {value!r})")
    try:
        q = float(parse_quantity(value, expected, where=name))
    except UnitError as exc:
        raise TaskOptionError(name, str(exc)) from None
    if not math.isfinite(q):
        raise TaskOptionError(name, f"{name} must be finite, got {value!r}")
    return q


_EXAMPLES = {"second": "50 ms", "amp": "100 pA", "hertz": "100 Hz"}  # keyed by unit_string's names


def _finite_real(value) -> bool:
    """A finite real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


def _fraction(value, name: str) -> float:
    if not (_finite_real(value) and 0 < value <= 1):
        raise TaskOptionError(name, f"{name} must lie in (0, 1], got {value!r}")
    return float(value)


def _nonnegative(value, name: str) -> float:
    if not (_finite_real(value) and value >= 0):
        raise TaskOptionError(name, f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _int(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise TaskOptionError(name, f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _steps(seconds: float, dt: float, name: str, exact: bool = False) -> int:
    """``seconds`` as a whole number of ``dt`` steps (error otherwise). ``exact``: also a whole
    number in floating point, as Brian2 needs for a TimedArray in the membrane equation."""
    k = seconds / dt
    if abs(k - round(k)) > 1e-6 or round(k) < 1:
        raise TaskOptionError(name, f"{name} = {seconds * 1e3:g} ms must be a positive multiple of the "
                                    f"simulation step dt = {dt * 1e3:g} ms")
    if exact:
        try:
            check_clock_steps(seconds, dt, name)
        except ValueError as exc:
            raise TaskOptionError(name, str(exc)) from None
    return int(round(k))


def _bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TaskOptionError(name, f"{name} must be true or false, got {value!r}")
    return bool(value)


def _check_noise(noise):
    if not (noise is None or isinstance(noise, (bool, np.bool_, PoissonNoise, OUNoise))):
        raise TaskOptionError("noise", f"noise must be true (the model's background noise), false (none) or a "
                                       f"PoissonNoise/OUNoise, got {noise!r}")
    return noise


#: the defaults of the series encoder and readout, chosen on validation data (see
#: :class:`SeriesTaskRunner` and docs/reservoir.md): one place, used by the runner, the
#: option checks and the experiment files
SERIES_DEFAULTS = {"sample_time": "50 ms", "input_fraction": 1.0, "input_gain": "3200 pA", "input_bias": 0.5,
                   "signed": True,
                   "noise": True, "washout": 20, "chunk": 500,
                   "feature_tau": ("2.5 ms", "10 ms", "25 ms", "50 ms", "100 ms"), "feature_kernel": "alpha",
                   "features": "spikes", "input_term": True, "stdp_epochs": 1}
FEATURE_KINDS = ("spikes", "v", "spikes+v")

#: the defaults of the image encoder and features, chosen on validation images of digits (see
#: :class:`ImageTaskRunner` and docs/images.md; analysis/tune_image_encoder.py): one place, used
#: by the runner, the option checks and the experiment files
IMAGE_DEFAULTS = {"present": "100 ms", "rest": "20 ms", "max_rate": 800.0, "batch": 100, "input_fraction": 0.2,
                  "input_weight": "50 pA", "color": "rgb", "noise": True, "features": "sqrt_counts",
                  "stdp_epochs": 1}
IMAGE_FEATURE_KINDS = ("counts", "sqrt_counts")


def series_options(*, sample_time=SERIES_DEFAULTS["sample_time"], input_fraction: float = SERIES_DEFAULTS["input_fraction"],
                   input_gain=SERIES_DEFAULTS["input_gain"], input_bias: float = SERIES_DEFAULTS["input_bias"],
                   signed: bool = True, noise=True,
                   washout: int = SERIES_DEFAULTS["washout"], chunk: int = SERIES_DEFAULTS["chunk"],
                   feature_tau=SERIES_DEFAULTS["feature_tau"], feature_kernel: str = SERIES_DEFAULTS["feature_kernel"],
                   features: str = "spikes", input_term: bool = True,
                   stdp_epochs: int = 1, input_dim="amp", dt: float | None = None) -> dict:
    """Check the encoder and simulation options of :class:`SeriesTaskRunner`.

    The runner calls this; an experiment file is checked with it before anything runs.
    The options have the meaning and defaults of the :class:`SeriesTaskRunner` parameters of
    the same name.

    Parameters
    ----------
    sample_time : str or Quantity, default="50 ms"
        Presentation time of one series sample; must carry units.
    input_fraction : float in (0, 1], default=1.0
        Fraction of the neurons receiving the input.
    input_gain : str or Quantity, default="3200 pA"
        Current per unit of the normalised series, in the dimension ``input_dim``; > 0.
    input_bias : float, default=0.5
        Spread of the input neurons' constant bias currents, in units of ``input_gain``; >= 0.
    signed : bool, default=True
        Mixing weights in [-1, 1] (True) or [0, 1].
    noise : bool or PoissonNoise or OUNoise, default=True
        Background noise (None is accepted as no noise).
    washout : int, default=20
        Samples discarded before every chunk (>= 0).
    chunk : int, default=500
        Samples kept per run (>= 1).
    feature_tau : str or Quantity, or a sequence of them, default=2.5, 10, 25, 50, 100 ms
        Filter time constants; positive, no repeats.
    feature_kernel : {"alpha", "exponential"}, default="alpha"
        Filter kernel of the spike trains (:func:`~lnp_brian.simulation.traces.filtered_features`).
    features : {"spikes", "v", "spikes+v"}, default="spikes"
        What the readout sees.
    input_term : bool, default=True
        Add u(t) as a feature block.
    stdp_epochs : int, default=1
        Passes of the STDP phase (>= 1).
    input_dim : str, default="amp"
        Dimension of the model's input current (``input_gain`` must have it).
    dt : float, optional
        Simulation step in seconds; ``sample_time`` must be a multiple of it. None: not
        checked.

    Returns
    -------
    dict
        The values by option name, in SI units (``sample_time`` and ``feature_tau`` in s,
        the latter as a tuple; ``input_gain`` in A for a current).

    Raises
    ------
    TaskOptionError
        Naming the first option that cannot be used.

    Examples
    --------
    >>> from lnp_brian.tasks.runners import series_options
    >>> o = series_options(sample_time="20 ms", input_gain="800 pA", feature_tau=["5 ms", "50 ms"])
    >>> o["sample_time"], round(o["input_gain"] * 1e12), o["feature_tau"]
    (0.02, 800, (0.005, 0.05))
    >>> series_options(sample_time=0.02)
    Traceback (most recent call last):
        ...
    lnp_brian.tasks.runners.TaskOptionError: sample_time needs units, e.g. ... (got the plain number 0.02)
    """
    taus = list(feature_tau) if isinstance(feature_tau, (list, tuple)) else [feature_tau]
    if not taus:
        raise TaskOptionError("feature_tau", "feature_tau must be a time or a non-empty list of times")
    out = {"sample_time": _quantity(sample_time, "second", "sample_time"),
           "input_fraction": _fraction(input_fraction, "input_fraction"),
           "input_gain": _quantity(input_gain, input_dim, "input_gain"),
           "input_bias": _nonnegative(input_bias, "input_bias"),
           "signed": _bool(signed, "signed"),
           "noise": _check_noise(noise),
           "washout": _int(washout, "washout", 0),
           "chunk": _int(chunk, "chunk", 1),
           "feature_tau": tuple(_quantity(t, "second", "feature_tau") for t in taus),
           "feature_kernel": feature_kernel,
           "features": features,
           "input_term": _bool(input_term, "input_term"),
           "stdp_epochs": _int(stdp_epochs, "stdp_epochs", 1)}
    if out["sample_time"] <= 0:
        raise TaskOptionError("sample_time", f"sample_time must be a positive time, got {sample_time!r}")
    if any(t <= 0 for t in out["feature_tau"]):
        raise TaskOptionError("feature_tau", f"feature_tau must be positive times, got {feature_tau!r}")
    if len(set(out["feature_tau"])) != len(out["feature_tau"]):
        raise TaskOptionError("feature_tau", f"feature_tau must not repeat a time, got {feature_tau!r}")
    if features not in FEATURE_KINDS:
        raise TaskOptionError("features", f"features must be one of {', '.join(map(repr, FEATURE_KINDS))}, "
                                          f"got {features!r}")
    if feature_kernel not in KERNELS:
        raise TaskOptionError("feature_kernel", f"feature_kernel must be one of {', '.join(map(repr, KERNELS))}, "
                                                f"got {feature_kernel!r}")
    if out["input_gain"] <= 0:
        raise TaskOptionError("input_gain", f"input_gain must be a positive current per unit of the series, "
                                            f"got {input_gain!r}")
    if dt is not None:
        _steps(out["sample_time"], dt, "sample_time", exact=True)
    return out


def image_options(*, present=IMAGE_DEFAULTS["present"], rest=IMAGE_DEFAULTS["rest"],
                  max_rate=IMAGE_DEFAULTS["max_rate"], batch: int = IMAGE_DEFAULTS["batch"],
                  input_fraction: float = IMAGE_DEFAULTS["input_fraction"], input_weight=IMAGE_DEFAULTS["input_weight"],
                  color: str = IMAGE_DEFAULTS["color"], noise=IMAGE_DEFAULTS["noise"],
                  features: str = IMAGE_DEFAULTS["features"], stdp_epochs: int = IMAGE_DEFAULTS["stdp_epochs"],
                  weight_dim="amp", dt: float | None = None) -> dict:
    """Check the encoder and simulation options of :class:`ImageTaskRunner`.

    The runner calls this; an experiment file is checked with it before anything runs.
    The options have the meaning of the :class:`ImageTaskRunner` parameters of the same
    name; the defaults are those of ``IMAGE_DEFAULTS``.

    Parameters
    ----------
    present : str or Quantity, default="100 ms"
        Presentation time per image; must carry units, > 0.
    rest : str or Quantity or 0, default="20 ms"
        Silence after each image; 0 or None for none.
    max_rate : float (Hz) or str, default=800.0
        Rate of a full-intensity input, > 0 (a number in Hz or e.g. ``"100 Hz"``).
    batch : int, default=100
        Images per run (>= 1).
    input_fraction : float in (0, 1], default=0.2
        Connection probability of every (input, neuron) pair.
    input_weight : str or Quantity, default="50 pA"
        Mean input synapse weight in the dimension ``weight_dim``; > 0.
    color : {"rgb", "gray"}, default="rgb"
        How colour images become inputs.
    noise : bool or PoissonNoise or OUNoise, default=True
        Background noise (None is accepted as no noise).
    features : {"sqrt_counts", "counts"}, default="sqrt_counts"
        What the readout sees per neuron and image (``IMAGE_FEATURE_KINDS``).
    stdp_epochs : int, default=1
        Passes of the STDP phase (>= 1).
    weight_dim : str, default="amp"
        Dimension of the model's synaptic weight (``input_weight`` must have it).
    dt : float, optional
        Simulation step in seconds; ``present`` and ``rest`` must be multiples of it.
        None: not checked.

    Returns
    -------
    dict
        The values by option name, in SI units (``present``, ``rest`` in s, ``max_rate``
        in Hz, ``input_weight`` in A for a current weight).

    Raises
    ------
    TaskOptionError
        Naming the first option that cannot be used.

    Examples
    --------
    >>> from lnp_brian.tasks.runners import image_options
    >>> o = image_options(present="50 ms", rest=0, max_rate="400 Hz", dt=1e-4)
    >>> o["present"], o["rest"], o["max_rate"], o["features"]
    (0.05, 0.0, 400.0, 'sqrt_counts')
    """
    out = {"present": _quantity(present, "second", "present"),
           "rest": 0.0 if (rest is None or (isinstance(rest, numbers.Real) and not isinstance(rest, bool)
                                            and rest == 0)) else _quantity(rest, "second", "rest")}
    if out["present"] <= 0:
        raise TaskOptionError("present", f"present must be a positive time, got {present!r}")
    if out["rest"] < 0:
        raise TaskOptionError("rest", f"rest must be a time >= 0, got {rest!r}")
    try:
        rate = float(poisson_rates(np.ones(1), max_rate)[0])
    except (ValueError, TypeError) as exc:
        raise TaskOptionError("max_rate", f"max_rate must be a rate in Hz > 0 (a number or e.g. '100 Hz'): {exc}") from None
    if not (math.isfinite(rate) and rate > 0):
        raise TaskOptionError("max_rate", f"max_rate must be a finite rate > 0 Hz, got {max_rate!r}")
    out["max_rate"] = rate
    out["batch"] = _int(batch, "batch", 1)
    out["input_fraction"] = _fraction(input_fraction, "input_fraction")
    out["input_weight"] = _quantity(input_weight, weight_dim, "input_weight")
    if out["input_weight"] <= 0:
        raise TaskOptionError("input_weight", f"input_weight must be positive (input synapses are excitatory), "
                                              f"got {input_weight!r}")
    if color not in COLORS:
        raise TaskOptionError("color", f"color must be 'rgb' or 'gray', got {color!r}")
    out["color"] = color
    out["noise"] = _check_noise(noise)
    if features not in IMAGE_FEATURE_KINDS:
        raise TaskOptionError("features", f"features must be one of {', '.join(map(repr, IMAGE_FEATURE_KINDS))}, "
                                          f"got {features!r}")
    out["features"] = features
    out["stdp_epochs"] = _int(stdp_epochs, "stdp_epochs", 1)
    if dt is not None:
        _steps(out["present"], dt, "present")
        if out["rest"] > 0:
            _steps(out["rest"], dt, "rest")
    return out


def image_counts(kind: str, n_train, n_test, *, label: str = "fine", available: int | None = None) -> tuple:
    """Check the image counts of a shipped data set.

    Parameters
    ----------
    kind : {"digits", "cifar10", "cifar100"}
        The data set.
    n_train, n_test : int
        Training and test images. ``digits``: each >= 10, together at most ``available``;
        CIFAR: n_train 2 .. 50,000, n_test 1 .. 10,000.
    label : {"fine", "coarse"}, default="fine"
        CIFAR-100 label set (checked for CIFAR only).
    available : int, optional
        ``digits`` only: images available (default all of scikit-learn's digits, 1797;
        loading them is skipped when given).

    Returns
    -------
    tuple of int
        ``(n_train, n_test)``.

    Raises
    ------
    TaskOptionError
        Naming the count (or ``label``) that cannot be used.
    ValueError
        If ``kind`` is unknown.

    Examples
    --------
    >>> from lnp_brian.tasks.runners import image_counts
    >>> image_counts("digits", 300, 200, available=1797)
    (300, 200)
    >>> image_counts("cifar10", 60000, 100)
    Traceback (most recent call last):
        ...
    lnp_brian.tasks.runners.TaskOptionError: n_train must be at most 50000 (the cifar10 train split), got 60000
    """
    if kind == "digits":
        n_train, n_test = _int(n_train, "n_train", 10), _int(n_test, "n_test", 10)
        if available is None:
            from .datasets import digits as load_digits

            available = len(load_digits()[0])
        if n_train + n_test > available:
            raise TaskOptionError("n_train", f"n_train + n_test must be at most the {available} digits, got "
                                             f"{n_train} + {n_test} = {n_train + n_test}")
        return n_train, n_test
    if kind not in ("cifar10", "cifar100"):
        raise ValueError(f"kind must be 'digits', 'cifar10' or 'cifar100', got {kind!r}")
    n_train, n_test = _int(n_train, "n_train", 2), _int(n_test, "n_test", 1)
    for name, value, most in (("n_train", n_train, CIFAR_IMAGES[0]), ("n_test", n_test, CIFAR_IMAGES[1])):
        if value > most:
            raise TaskOptionError(name, f"{name} must be at most {most} (the {kind} {name[2:]} split), got {value!r}")
    if label not in ("fine", "coarse"):
        raise TaskOptionError("label", f"label must be 'fine' or 'coarse', got {label!r}")
    return n_train, n_test


def integration_step(dt, spec) -> float:
    try:
        return simulation_dt(dt, spec)
    except UnitError as exc:
        raise ValueError(str(exc)) from None


def _window(result, t0: float, t1: float):
    """The part of a SimResult in [t0, t1), times shifted to start at 0 (for SOP counts)."""
    keep = (result.spike_t >= t0) & (result.spike_t < t1)
    ikeep = (result.input_spike_t >= t0) & (result.input_spike_t < t1)
    return dataclasses.replace(result, duration=t1 - t0, spike_t=result.spike_t[keep] - t0,
                               spike_i=result.spike_i[keep],
                               input_spike_t=result.input_spike_t[ikeep] - t0,
                               input_spike_i=result.input_spike_i[ikeep],
                               traces={}, trace_t=np.zeros(0))


def plasticity_amplitudes(spec) -> tuple:
    """Names of the plasticity parameters that ``freeze`` sets to zero by default.

    A parameter of the model's ``[plasticity.parameters]`` whose unit is the weight's unit
    is an *amplitude*: the amount a pre- or postsynaptic spike adds to ``w`` (in the shipped
    models ``A_plus`` and ``A_minus``, in pA). Setting all of them to zero stops every
    weight change of an additive rule, while time constants (seconds) stay. Models whose
    rule is written differently (multiplicative, dimensionless learning rates) must name
    the parameters to zero explicitly (``freeze=``).

    Parameters
    ----------
    spec : ModelSpec
        The network's model (``network.model``).

    Returns
    -------
    tuple of str
        Empty for a model without plasticity.
    """
    pl = spec.plasticity
    if pl is None or spec.synapse is None:
        return ()
    wdim = spec.synapse.weight_dim
    return tuple(name for name, dist in pl.parameters.items() if dist.dim is wdim)


def json_summary(out: dict) -> dict:
    """An ``evaluate`` result without its object/array entries.

    Parameters
    ----------
    out : dict
        What :meth:`SeriesTaskRunner.evaluate` or :meth:`ImageTaskRunner.evaluate` returned.

    Returns
    -------
    dict
        The same entries less ``network``, ``w``, ``estimator``, ``predictions``,
        ``results`` and ``train_rates``: plain JSON-serialisable numbers and strings.

    Examples
    --------
    >>> from lnp_brian.tasks.runners import json_summary
    >>> json_summary({"nrmse": {"test": 0.1}, "estimator": object(), "w": [0.5]})
    {'nrmse': {'test': 0.1}}
    """
    return {k: v for k, v in out.items() if k not in OBJECT_KEYS}


def images_to_inputs(images, color: str = "rgb") -> np.ndarray:
    """Flatten images to one value in [0, 1] per input neuron.

    Parameters
    ----------
    images : array (n, ...)
        Floats in [0, 1] or uint8 0..255 (as :func:`lnp_brian.tasks.datasets.poisson_rates`).
        Colour images are (n, H, W, 3) (CIFAR's layout from
        :func:`lnp_brian.tasks.datasets.load_cifar`).
    color : {"rgb", "gray"}
        For colour images: ``"rgb"`` keeps one input per pixel and channel (K = H*W*3, in
        H, W, channel order); ``"gray"`` averages the channels with the ITU-R BT.601 luma
        weights 0.299, 0.587, 0.114 (K = H*W). Ignored for images without a channel axis
        of length 3.

    Returns
    -------
    float array (n, K)
        One row per image, values in [0, 1].

    Raises
    ------
    ValueError
        If ``images`` is not an (n, ...) array with n >= 1, its values are neither floats
        in [0, 1] nor uint8, or ``color`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from lnp_brian.tasks.runners import images_to_inputs
    >>> rgb = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    >>> images_to_inputs(rgb).shape, images_to_inputs(rgb, "gray").shape
    ((2, 48), (2, 16))
    """
    x = np.asarray(images)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"images must be an array (n_images, ...) with n_images >= 1, got shape {x.shape}")
    if color not in ("rgb", "gray"):
        raise ValueError(f"color must be 'rgb' or 'gray', got {color!r}")
    x = poisson_rates(x, 1.0)  # checks the range / dtype and maps uint8 to [0, 1]
    if color == "gray" and x.ndim == 4 and x.shape[-1] == 3:
        x = x @ np.array([0.299, 0.587, 0.114])
    return x.reshape(len(x), -1)


#: weights of the input block u(t) searched with alpha (a lighter penalty on u: see docs/reservoir.md)
INPUT_BLOCK_WEIGHTS = (1.0, 3.0, 10.0, 30.0)


def default_series_readout(blocks=None, input_term: bool = True) -> RidgeReadout:
    """The forecasting readout used unless one is given.

    Ridge with an intercept on the feature blocks (the input u(t), the spike traces of each
    filter time constant, the membrane potentials), each block centred and scaled by one
    number (:class:`~lnp_brian.tasks.readout.BlockScaler`), alpha from 1e-4 to 1e5 chosen by blocked
    cross-validation on the training block.

    Why blocks and not per-feature standardisation: a neuron that fired once early in the
    training block has a trace that decays to ~1e-12 and a standard deviation near zero;
    standardising it alone turns its first spike in a held-out fold into a z-score of
    ~1e12, so cross-validation rejects every small alpha (measured on a 200-neuron HRSNN:
    NRMSE 0.70 with per-feature standardisation, 0.13 without). One scale per block keeps
    the neurons' relative sizes and still puts u(t) and the slow and fast traces on a
    common footing for one penalty. With ``input_term`` (the first block is u(t)) that block's
    weight is chosen with alpha from ``INPUT_BLOCK_WEIGHTS``: a lighter penalty on the input
    lowered the validation NRMSE at h = 1 from 0.013 to 0.009 (docs/reservoir.md).

    Parameters
    ----------
    blocks : sequence of int, optional
        Column counts of the feature blocks (:meth:`SeriesTaskRunner.feature_blocks`);
        default: one block.
    input_term : bool, default=True
        The first block is u(t): search its weight (``INPUT_BLOCK_WEIGHTS``: 1, 3, 10, 30)
        jointly with alpha when there is more than one block.

    Returns
    -------
    RidgeReadout
        Unfitted, with ``standardize="block"``.

    Examples
    --------
    >>> from lnp_brian.tasks.runners import default_series_readout
    >>> readout = default_series_readout(blocks=[3, 200, 200])
    >>> readout.blocks, readout.block_weight_grid[:2]
    ((3, 200, 200), [(1.0, 1.0, 1.0), (3.0, 1.0, 1.0)])
    """
    grid = None
    if input_term and blocks is not None and len(blocks) > 1:
        grid = [(w,) + (1.0,) * (len(blocks) - 1) for w in INPUT_BLOCK_WEIGHTS]
    return RidgeReadout(alphas=np.logspace(-4, 5, 10), standardize="block",
                        blocks=None if blocks is None else tuple(blocks), block_weight_grid=grid)


_ESN_CACHE: dict = {}  # the last few echo-state baselines: every method of a seed shares them


def _series_key(task: SeriesTask) -> str:
    import hashlib

    h = hashlib.sha256(f"{task.horizon}|{task.bounds}".encode())
    h.update(np.ascontiguousarray(task.series).tobytes())
    return h.hexdigest()


# ==========================================================================================
# common machinery
# ==========================================================================================
class _Runner(SimulatorOwner):
    """Simulator ownership, plasticity (freeze / STDP phase), progress and bookkeeping."""

    kind = "task"

    def _init_common(self, network, regime, freeze, stdp_epochs, seed, progress):
        if not isinstance(network, Network):
            raise TypeError(f"network must be a lnp_brian Network, got {type(network).__name__}")
        spec = network.model
        if not spec.neuron.spiking:
            raise ValueError(f"model {spec.name!r} has no spiking neurons (no threshold): tasks "
                             "read spikes")
        if regime not in REGIMES:
            raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")
        self.network = network
        self.regime = regime
        self.seed = int(seed)
        self.stdp_epochs = _int(stdp_epochs, "stdp_epochs", 1)
        self.progress = progress
        if progress is not None and not callable(progress):
            raise TypeError("progress must be a callable progress(stage, done, total) or None")
        plastic_any = bool(network.plastic.any())
        if regime == "stdp" and not plastic_any:
            raise ValueError(f"regime='stdp' needs plastic synapses, but model {spec.name!r} "
                             + ("has no [plasticity] section" if spec.plasticity is None
                                else "has none in this network (no synapse on its pathways)"))
        if freeze is None:
            freeze = plasticity_amplitudes(spec) if plastic_any else ()
            if plastic_any and not freeze:
                raise ValueError(
                    f"model {spec.name!r}: no plasticity parameter has the weight's unit "
                    f"({unit_string(spec.synapse.weight_dim)}), so the amplitudes to set to zero "
                    "for frozen runs cannot be detected; name them with freeze=(...)")
        else:
            freeze = (freeze,) if isinstance(freeze, str) else tuple(freeze)
            if plastic_any:
                known = set(spec.plasticity.parameters)
                bad = [f for f in freeze if f not in known]
                if bad:
                    raise ValueError(
                        f"freeze: {bad} are not per-synapse plasticity parameters of model "
                        f"{spec.name!r} (those are {sorted(known)}; constants cannot change "
                        "between runs of a compiled build)")
        self.freeze = freeze
        self._plastic_any = plastic_any
        self.runs = 0

    def _report(self, stage, done, total):
        if self.progress is not None:
            self.progress(stage, done, total)

    def _check_network(self, network):
        net = self.network if network is None else network
        if not isinstance(net, Network):
            raise TypeError(f"network must be a lnp_brian Network, got {type(net).__name__}")
        return net

    @property
    def bias_currents(self) -> np.ndarray | None:
        """Constant input currents (A) per neuron of every run, or None (no bias)."""
        return None

    def _run(self, net: Network, seed: int, plastic: bool, **values):
        """One run of the compiled binary; frozen runs are checked to leave w unchanged."""
        overrides = dict(values)
        if self.bias_currents is not None:
            overrides.setdefault("bias", self.bias_currents)
        if self._plastic_any and not plastic and self.freeze:
            m = len(net.pre)
            overrides["syn_params"] = {name: np.zeros(m) for name in self.freeze}
        res = self.sim.run(net, seed=seed, **overrides)
        self.runs += 1
        if self._plastic_any and not plastic:
            expected = np.where(net.live_synapses(), net.w, 0.0)
            change = np.abs(res.final_state["w"] - expected)
            scale = max(float(np.abs(expected).max(initial=0.0)), 1e-30)
            if change.max(initial=0.0) > 1e-9 * scale:
                raise RuntimeError(
                    f"a frozen run changed synaptic weights (max change {change.max():.3g} SI): "
                    f"setting {list(self.freeze)} to zero does not stop this model's plasticity; "
                    "name the right parameters with freeze=(...)")
        return res

    def _stdp_network(self, net: Network, seed: int, runs) -> Network:
        """Run the training inputs with plasticity on and return the network with the
        learned weights (plastic, live synapses only; everything else is kept exactly).

        ``runs`` is a list of dicts of run values (stimulus or input rates), in order."""
        w = net.w.copy()
        learn = net.plastic & net.live_synapses()
        total = self.stdp_epochs * len(runs)
        k = 0
        for epoch in range(self.stdp_epochs):
            for c, values in enumerate(runs):
                res = self._run(net.replace(w=w), derive_seed(seed, f"tasks.run.stdp.{epoch}.{c}"),
                                plastic=True, **values)
                w = np.where(learn, res.final_state["w"][: len(w)], net.w)
                k += 1
                self._report("stdp", k, total)
        return net.replace(w=w)

    def _common_out(self, net: Network, trained: Network, t_start: float, compile_before: int) -> dict:
        return {"regime": self.regime, "seed": None, "device": self.sim.device,
                "frozen_parameters": list(self.freeze) if self._plastic_any else [],
                "compilations": int(self.sim.compilations),
                "compilations_during_evaluate": int(compile_count() - compile_before),
                "runs": None, "wall_seconds": time.perf_counter() - t_start,
                "network_summary": trained.summary(),
                "network": trained, "w": trained.w.copy()}


# ==========================================================================================
# time series
# ==========================================================================================
class SeriesTaskRunner(_Runner):
    """Forecast a series h steps ahead from a spiking network's filtered spike trains.

    Built once per network topology: the constructor draws the encoder and compiles the
    simulation (one :class:`~lnp_brian.simulation.simulator.Simulator`); :meth:`evaluate` then simulates
    the whole series in chunks on that one build, fits the readout and scores it, for the
    built network or any network of the same topology (pruned by masks, new weights or
    time constants).

    Parameters
    ----------
    task : lnp_brian.tasks.datasets.SeriesTask
        The series, horizon and train/validation/test blocks (normalised with the training
        block's statistics).
    network : Network
        Topology and default values.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Simulation backend (``cpp_standalone``: one compilation, then each chunk costs only
        its simulation).
    sample_time : str or Quantity
        How long each series sample is presented (default ``"50 ms"``); a multiple of the
        simulation step.
    input_fraction : float in (0, 1]
        Fraction of the neurons that receive the input currents (a seeded random subset,
        excitatory and inhibitory alike; default 1: every neuron).
    input_gain : str or Quantity
        Current per unit of the normalised series (default ``"3200 pA"``: one standard
        deviation of a variable moves an input neuron's current by up to 3.2 nA; the
        membrane filters it and the threshold rectifies it). A reservoir driven weakly is
        dominated by its background noise. The defaults of ``sample_time``,
        ``input_fraction``, ``input_gain``, ``input_bias``, ``feature_tau`` and ``feature_kernel`` were chosen on
        the validation block of Lorenz63 (docs/reservoir.md has the numbers).
    input_bias : float
        Spread of a constant bias current per input neuron, in units of ``input_gain``
        (default 0.5): neuron j gets ``input_gain * input_bias * b_j`` with seeded b_j
        uniform in [-1, 1] (:attr:`bias_currents`). It staggers the neurons' firing
        thresholds across the range of the input; 0 turns it off.
    signed : bool
        Mixing weights uniform in [-1, 1] (default) or in [0, 1]. Each input neuron
        receives every channel k with its own weight: neuron j gets
        ``input_gain * sum_k W[k, j] u_k(t)``.
    noise : bool or PoissonNoise or OUNoise
        Background noise on top of the input: ``True`` (default) the model file's
        ``[input]`` noise, ``False`` none, or an explicit noise object.
    washout : int
        Samples simulated before every chunk and discarded (default 20, i.e. 1 s at 50 ms:
        ten times the slowest filter time constant and many membrane time constants, so
        every chunk forgets the initial state). They are the series' own preceding samples; before the series'
        start its first sample is repeated.
    chunk : int
        Samples whose features are kept per run (default 500). Every run simulates
        ``washout + chunk`` samples; the last chunk is padded with zeros (the series mean).
    feature_tau : str or Quantity, or a sequence of them
        Time constants of the filters of the spike trains: a filter bank (default 2.5, 10,
        25, 50 and 100 ms), one block of features per time constant.
    feature_kernel : {"alpha", "exponential"}
        The filters' kernel (:func:`~lnp_brian.simulation.traces.filtered_features`):
        ``"alpha"`` (default; (d/tau) exp(-d/tau), peak at tau, mean delay 2 tau) or
        ``"exponential"`` (exp(-d/tau)). At ~120 Hz an exponential trace jumps by 1 at
        every spike, so its value at the sample time depends on where the last spike fell;
        the alpha kernel is continuous there. On validation data (5 seeds) it lowered the
        NRMSE at h = 1 by 13 % and at h = 10 by 3 % (docs/reservoir.md).
    features : {"spikes", "v", "spikes+v"}
        What the readout sees of the network: the filtered spike trains (default), the
        membrane potentials ``v`` at the end of each presentation (a *non-spiking* readout:
        it reads sub-threshold state a downstream neuron could not see; label it so), or
        both.
    input_term : bool
        Add the current input u(t) as a block of features (default True), as an echo-state
        network's readout on [1; x(t); u(t)] does; the readout always has an intercept.
    regime : {"readout", "stdp"}
        Readout only (plasticity frozen), or an unsupervised STDP phase on the training
        block first (see the module docstring).
    freeze : sequence of str, optional
        Per-synapse plasticity parameters set to zero in frozen runs. Default: those with
        the weight's unit (:func:`plasticity_amplitudes`: ``A_plus``, ``A_minus`` in the
        shipped models). Frozen runs are checked to leave every weight unchanged.
    stdp_epochs : int
        Passes over the training block in the STDP phase.
    readout : RidgeReadout or estimator, optional
        Regressor to fit (cloned for every evaluation); default
        :func:`default_series_readout` (ridge with one scale per feature block, blocked-CV
        alpha on the training block). A :class:`~lnp_brian.tasks.readout.RidgeReadout` with
        ``standardize="block"`` and no ``blocks`` gets the runner's blocks.
    seed : int
        Seed of the encoder (input neurons and weights).
    shared_runs : dict, optional
        A dict shared by runners of the *same series and encoder* that differ only in the
        horizon (as an experiment builds them): the simulations of the last evaluated
        network and noise seed are kept there, and a runner that needs the same chunks
        (no longer than those simulated) reads them instead of simulating again. Features
        depend only on inputs up to each row, so the result is exactly that of a new
        simulation.
    dt : str or Quantity, optional
        Simulation step (default: the model's, else 0.1 ms).
    build_dir : str or Path, optional
        Where the standalone project is compiled (default: a new temporary folder).
    reuse : bool, default=False
        Re-use a project compiled in ``build_dir`` for the same structure: a second runner
        of the same structure (e.g. the other regime) then skips compiling.
    threads : int, default=0
        OpenMP threads for cpp_standalone (0: no OpenMP).
    runtime_target : {"cython", "numpy"}, optional
        Code generation target of the runtime device.
    progress : callable, optional
        ``progress(stage, done, total)`` after every run; ``stage`` is ``"stdp"`` or
        ``"features"``.

    Attributes
    ----------
    sim : Simulator
        The one compiled build (``dt``, ``build_dir``, ``reuse``, ``threads`` and
        ``runtime_target`` are passed to :class:`~lnp_brian.simulation.simulator.Simulator`).
    input_neurons : int array
        Neurons receiving input.
    input_weights : float array (K, N)
        Dimensionless mixing weights (zero outside ``input_neurons``).
    bias_pattern : float array (N,)
        The b_j of ``input_bias``: uniform in [-1, 1] on ``input_neurons``, 0 elsewhere.
    chunks : list of (first sample, samples kept)
        The simulation plan of one evaluation.
    build_seconds : float
        Wall time of building (and compiling) the simulation.
    last_train_rates : float array (N,)
        Per-neuron rates (Hz) over the training block of the latest :meth:`features` call.

    See Also
    --------
    ImageTaskRunner : The image-classification counterpart.
    lnp_brian.tasks.esn.esn_baseline : The echo-state network in :attr:`baselines`.

    Notes
    -----
    Features are the filtered spike trains of the *active* neurons sampled at the end of
    each presentation, strictly causally: the sample for u(t) is taken half a step before
    u(t + 1) is switched on, so it contains spikes up to the last integration step that saw
    u(t). Row t of the features pairs with the target u(t + h); rows of the three blocks are
    picked with ``task.<split>.index`` from one continuous chunked drive of the series
    (features of row t depend on inputs up to t only, so this leaks nothing; docs/reservoir.md and
    :class:`~lnp_brian.tasks.datasets.SeriesTask`). With no active neuron at all the readout gets
    one constant column and predicts the training mean.
    """

    kind = "series"

    def __init__(self, task: SeriesTask, network: Network, device: str = "cpp_standalone", *,
                 sample_time=SERIES_DEFAULTS["sample_time"], input_fraction: float = SERIES_DEFAULTS["input_fraction"],
                 input_gain=SERIES_DEFAULTS["input_gain"], input_bias: float = SERIES_DEFAULTS["input_bias"],
                 signed: bool = True, noise=True,
                 washout: int = SERIES_DEFAULTS["washout"], chunk: int = SERIES_DEFAULTS["chunk"],
                 feature_tau=SERIES_DEFAULTS["feature_tau"], feature_kernel: str = SERIES_DEFAULTS["feature_kernel"],
                 features: str = SERIES_DEFAULTS["features"],
                 input_term: bool = SERIES_DEFAULTS["input_term"], regime: str = "readout", freeze=None,
                 stdp_epochs: int = 1, shared_runs: dict | None = None,
                 readout=None, seed: int = 0, dt=None, build_dir=None, reuse: bool = False,
                 threads: int = 0, runtime_target: str | None = None, progress=None):
        if not isinstance(task, SeriesTask):
            raise TypeError(f"task must be a lnp_brian.tasks.datasets.SeriesTask (make_series_task), "
                            f"got {type(task).__name__}")
        self._init_common(network, regime, freeze, stdp_epochs, seed, progress)
        spec = network.model
        if spec.neuron.input is None:
            raise ValueError(f"model {spec.name!r} has no input current (neuron.input) for the "
                             "series' currents")
        self.task = task
        K = task.dim
        if K > MAX_MIXED_CHANNELS:
            raise ValueError(f"the series has {K} variables; mixed input currents support at most "
                             f"{MAX_MIXED_CHANNELS}")
        dt_sim = integration_step(dt, spec)
        o = series_options(sample_time=sample_time, input_fraction=input_fraction, input_gain=input_gain,
                           input_bias=input_bias, signed=signed, noise=noise, washout=washout, chunk=chunk, feature_tau=feature_tau,
                           feature_kernel=feature_kernel, features=features, input_term=input_term,
                           stdp_epochs=stdp_epochs, input_dim=spec.neuron.input_dim, dt=dt_sim)
        self.sample_time, self.input_fraction, self.input_gain = o["sample_time"], o["input_fraction"], o["input_gain"]
        self.input_bias = o["input_bias"]
        self.signed, self.washout, self.chunk = o["signed"], o["washout"], o["chunk"]
        self.feature_tau, self.feature_kernel = o["feature_tau"], o["feature_kernel"]
        self.shared_runs = shared_runs
        self.features_kind, self.input_term = o["features"], o["input_term"]
        self.v_name = None
        if "v" in self.features_kind:
            if "v" not in spec.state_variables:
                raise TaskOptionError("features", f"features {self.features_kind!r} reads the membrane potential v, "
                                                  f"which model {spec.name!r} does not have")
            self.v_name = "v"
        self.readout = readout
        self.noise = background_noise(noise, spec)

        # ---- encoder (seeded) --------------------------------------------------------
        n = network.n
        n_in = max(1, int(round(self.input_fraction * n)))
        self.input_neurons = np.sort(rng(self.seed, "tasks.series.input_neurons").choice(n, n_in, replace=False))
        low = -1.0 if self.signed else 0.0
        W = np.zeros((K, n))
        W[:, self.input_neurons] = rng(self.seed, "tasks.series.input_weights").uniform(low, 1.0, (K, n_in))
        self.input_weights = W
        self.bias_pattern = np.zeros(n)
        self.bias_pattern[self.input_neurons] = rng(self.seed, "tasks.series.input_bias").uniform(-1.0, 1.0, n_in)

        # ---- simulation plan: rows 0 .. last test index, in chunks -------------------
        n_rows = int(task.test.index[-1]) + 1
        self.chunks = [(s, min(self.chunk, n_rows - s)) for s in range(0, n_rows, self.chunk)]
        n_train_rows = int(task.bounds[1])
        self.stdp_chunks = [(s, min(self.chunk, n_train_rows - s)) for s in range(0, n_train_rows, self.chunk)]
        steps = self.washout + self.chunk
        stim = Stimulus(np.zeros((steps, K)), dt=self.sample_time * second, weights=W)
        inputs = [stim] if self.noise is None else [self.noise, stim]
        t0 = time.perf_counter()
        # v is recorded once per presentation at its start, so the state after the last
        # kept presentation needs one more (ignored) presentation in the run
        record = {} if self.v_name is None else {self.v_name: True}
        duration = (steps + (self.v_name is not None)) * self.sample_time
        self.sim = Simulator(network, device, duration=duration * second, dt=dt,
                             inputs=inputs, build_dir=build_dir, reuse=reuse, threads=threads,
                             runtime_target=runtime_target, record=record,
                             record_dt=None if self.v_name is None else self.sample_time * second)
        self.build_seconds = time.perf_counter() - t0
        self._baselines = None

    # ------------------------------------------------------------------------------------
    @property
    def baselines(self) -> dict:
        """Persistence, lagged-ridge and echo-state baselines of the task, by name.

        A dict ``{"persistence", "ridge", "esn"}`` of
        :class:`~lnp_brian.tasks.datasets.BaselineResult` on the same task and split
        (computed once per task, number of units and seed in this process). The echo-state
        network has as many units as the spiking network has neurons and a readout on
        [1; states; u], its settings chosen on the validation block
        (:func:`lnp_brian.tasks.esn.esn_baseline`)."""
        if self._baselines is None:
            units = int(self.sim.network.n)
            key = (_series_key(self.task), units, self.seed)
            if key not in _ESN_CACHE:
                if len(_ESN_CACHE) >= 8:
                    _ESN_CACHE.pop(next(iter(_ESN_CACHE)))
                _ESN_CACHE[key] = esn_baseline(self.task, units=units, seed=self.seed)
            self._baselines = {"persistence": persistence_baseline(self.task),
                               "ridge": ridge_baseline(self.task), "esn": _ESN_CACHE[key]}
        return self._baselines

    def chunk_stimulus(self, start: int, n_real: int) -> np.ndarray:
        """Input currents of the run that keeps rows ``start`` .. ``start + n_real - 1``.

        Parameters
        ----------
        start : int
            First kept row of the series.
        n_real : int
            Kept rows (at most ``chunk``; fewer for the last chunk).

        Returns
        -------
        float array (washout + chunk, K)
            ``input_gain`` (A) times the normalised series: washout rows first (the
            preceding samples, the first sample repeated before the series' start), zero
            padding last.
        """
        z = self.task.normalised
        idx = np.arange(start - self.washout, start + n_real)
        values = np.zeros((self.washout + self.chunk, z.shape[1]))
        values[: len(idx)] = z[np.clip(idx, 0, None)]
        return self.input_gain * values

    def sample_times(self, n_real: int) -> np.ndarray:
        """Feature sample times within a run: the end of each kept presentation.

        Half a simulation step early, so a sample never contains the next input (strictly
        causal, see the class Notes).

        Parameters
        ----------
        n_real : int
            Kept presentations of the run.

        Returns
        -------
        float array (n_real,)
            Times in s from the start of the run.
        """
        k = np.arange(self.washout, self.washout + n_real)
        return (k + 1) * self.sample_time - 0.5 * self.sim.dt

    def features(self, network: Network | None = None, seed: int = 0, *, keep_results: bool = False):
        """Simulate every chunk with plasticity frozen and return the features.

        The per-neuron rates (Hz) over the training block's presentations are left in
        ``self.last_train_rates`` (what activity-based pruning ranks by).

        Parameters
        ----------
        network : Network, optional
            Same topology as the built one (default: the built network).
        seed : int, default=0
            Seed of the background noise of every run.
        keep_results : bool, default=False
            Also return the raw simulation results.

        Returns
        -------
        X : float array (n_rows, n_features)
            Row t: the feature blocks (:meth:`feature_blocks`) after sample t was presented.
        sops : dict
            SOPs per sample of the test rows (see :meth:`evaluate`).
        rate : float
            Mean rate (Hz) of the active neurons over the kept presentations.
        results : list of (SimResult, start, n_real)
            One entry per chunk with ``keep_results``; empty otherwise.
        """
        net = self._check_network(network)
        active = np.flatnonzero(net.active)
        n_rows = self.chunks[-1][0] + self.chunks[-1][1]
        blocks = self.feature_blocks(len(active))
        X = np.zeros((n_rows, sum(blocks)))
        test_lo, test_hi = int(self.task.test.index[0]), int(self.task.test.index[-1]) + 1
        sop_sum = {}
        n_test = spikes_all = 0
        kept = []
        train_hi = int(self.task.bounds[1])
        train_counts = np.zeros(net.n)
        key = self._runs_key(net, seed)
        cached = self.shared_runs.get(key, []) if self.shared_runs is not None else []
        fresh, ran = [], False
        for c, (start, n_real) in enumerate(self.chunks):
            if c < len(cached) and cached[c][1] == start and cached[c][2] >= n_real:
                res = cached[c][0]  # the same drive up to row n_real: the same features
            else:
                ran = True
                res = self._run(net, derive_seed(seed, f"tasks.run.features.{c}"), plastic=False,
                                stimulus=self.chunk_stimulus(start, n_real),
                                stimulus_weights=self.input_weights)
            fresh.append((res, start, n_real))
            X[start:start + n_real] = self._chunk_features(res, start, n_real, active)
            t_keep0 = self.washout * self.sample_time
            spikes_all += _window(res, t_keep0, t_keep0 + n_real * self.sample_time).spike_counts()[active].sum()
            n_train_here = min(start + n_real, train_hi) - start
            if n_train_here > 0:
                train_counts += _window(res, t_keep0, t_keep0 + n_train_here * self.sample_time).spike_counts()[: net.n]
            lo, hi = max(start, test_lo), min(start + n_real, test_hi)
            if hi > lo:  # test rows in this chunk: their presentation slots
                t0 = (self.washout + lo - start) * self.sample_time
                part = metrics.sops(_window(res, t0, t0 + (hi - lo) * self.sample_time), net,
                                    readout_size=self.readout_size)
                for k, v in part.items():
                    sop_sum[k] = sop_sum.get(k, 0.0) + v
                n_test += hi - lo
            if keep_results:
                kept.append((res, start, n_real))
            self._report("features", c + 1, len(self.chunks))
        if self.shared_runs is not None and ran:
            self.shared_runs.clear()  # only the latest network is kept
            self.shared_runs[key] = fresh
        sops = {k: v / n_test for k, v in sop_sum.items()}
        rate = float(spikes_all) / (max(len(active), 1) * n_rows * self.sample_time)
        self.last_train_rates = np.where(net.active, train_counts / (train_hi * self.sample_time), 0.0)
        return X, sops, rate, kept

    def _runs_key(self, net: Network, seed: int) -> str:
        """What the feature runs depend on: network content, noise seed, build, series, encoder."""
        import hashlib
        import json

        h = hashlib.sha256(json.dumps([net.content_key(), int(seed), self.sample_time, self.input_gain,
                                       self.washout, self.chunk, self.sim.structure()],
                                      sort_keys=True, default=str).encode())
        for arr in (self.input_weights, self.task.normalised, self.bias_currents):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()

    @property
    def bias_currents(self) -> np.ndarray:
        """Bias current (A) of each neuron: ``input_gain * input_bias * bias_pattern``.

        ``bias_pattern`` is uniform in [-1, 1] on the input neurons (seeded) and 0 elsewhere.
        With a gain far above the rheobase a neuron fires where its input ``W[:, j] . u`` is
        positive, so without a bias every neuron's firing boundary passes through the mean of
        the series; the bias moves each boundary by a different amount.
        """
        return self.input_gain * self.input_bias * self.bias_pattern

    @property
    def readout_size(self) -> int:
        """Readout synapses per active neuron: output dimensions x the neuron's feature blocks."""
        per_neuron = (len(self.feature_tau) if "spikes" in self.features_kind else 0) + (self.v_name is not None)
        return self.task.dim * per_neuron

    def feature_blocks(self, n_active: int) -> list:
        """Column counts of the feature blocks, in order.

        u(t) (``input_term``), one block of filtered spike trains per ``feature_tau``
        (``features`` with spikes), v (``features`` with v). With no active neuron, one
        constant column stands in for the network.

        Parameters
        ----------
        n_active : int
            Active neurons of the network evaluated.

        Returns
        -------
        list of int
            One column count per block.
        """
        blocks = [self.task.dim] if self.input_term else []
        if n_active == 0:
            return blocks + [1]
        if "spikes" in self.features_kind:
            blocks += [n_active] * len(self.feature_tau)
        if self.v_name is not None:
            blocks.append(n_active)
        return blocks

    def _chunk_features(self, res, start: int, n_real: int, active) -> np.ndarray:
        parts = [self.task.normalised[start:start + n_real]] if self.input_term else []
        if not len(active):
            return np.column_stack(parts + [np.zeros(n_real)])
        if "spikes" in self.features_kind:
            times = self.sample_times(n_real)
            parts += [filtered_features(res, tau, sample_times=times, neurons=active, kernel=self.feature_kernel)
                      for tau in self.feature_tau]
        if self.v_name is not None:
            # record k holds v at k * sample_time: the state after presentation k - 1
            k = np.arange(self.washout, self.washout + n_real) + 1
            parts.append(res.traces[self.v_name][0][active][:, k].T)  # (copy, neuron, time)
        return np.column_stack(parts)

    def evaluate(self, network: Network | None = None, seed: int = 0, *,
                 keep_results: bool = False) -> dict:
        """Train the readout on the training block and score it on validation and test.

        Parameters
        ----------
        network : Network, optional
            Same topology as the built one (default: the built network), e.g. pruned by
            :meth:`Network.prune`.
        seed : int
            Seed of the background noise of every run.
        keep_results : bool
            Add the raw simulation results (``out["results"]``).

        Returns
        -------
        dict
            ``nrmse`` and ``rmse`` (``train``/``val``/``test``; RMSE in the series' original
            units), ``nrmse_per_variable`` (test), ``baselines`` (``persistence``,
            ``ridge``, ``esn``: their test and validation scores on the same task),
            ``readout`` (chosen ``alpha``, ``n_features``), ``sops`` (per sample on the test
            rows: ``recurrent``, ``input`` = 0, ``readout`` = spikes x dim, ``total``,
            ``spikes``) with ``sops_note``, ``counts`` (:func:`lnp_brian.tasks.metrics.counts`,
            readout = dim outputs, 0 input synapses), ``rate_hz`` (mean rate of the active
            neurons), ``compilations`` (of the runner's build: 1, or 0 when re-used),
            ``compilations_during_evaluate`` (0), ``runs``, ``wall_seconds``; objects:
            ``network`` (the network evaluated; after STDP in the ``stdp`` regime), ``w``
            (its weights), ``estimator`` (the fitted readout), ``predictions``
            (normalised ``val``/``test`` predictions), ``train_rates`` (per-neuron Hz over
            the training block); :func:`json_summary` drops them.
        """
        from sklearn.base import clone

        t_start = time.perf_counter()
        before = compile_count()
        runs_before = self.runs
        net = self._check_network(network)
        trained = net
        if self.regime == "stdp":
            trained = self._stdp_network(net, seed, [
                {"stimulus": self.chunk_stimulus(s, k), "stimulus_weights": self.input_weights}
                for s, k in self.stdp_chunks])
        X, sops, rate, kept = self.features(trained, seed, keep_results=keep_results)
        task = self.task
        blocks = self.feature_blocks(trained.n_active)
        est = clone(self.readout) if self.readout is not None else default_series_readout(blocks, self.input_term)
        if isinstance(est, RidgeReadout) and est.standardize == "block" and est.blocks is None:
            est.set_params(blocks=tuple(blocks))
        est.fit(X[task.train.index], task.train.targets)
        out = self._common_out(net, trained, t_start, before)
        nr, rm, preds = {}, {}, {}
        for split in ("train", "val", "test"):
            s = task.split(split)
            pred = np.asarray(est.predict(X[s.index]), float).reshape(len(s), -1)
            preds[split] = pred
            nr[split] = float(metrics.nrmse(s.targets, pred))
            rm[split] = float(metrics.rmse(task.denormalise(s.targets), task.denormalise(pred)))
        n_active = trained.n_active
        out.update({
            "task": task.name, "horizon": int(task.horizon), "seed": int(seed),
            "nrmse": nr, "rmse": rm,
            "nrmse_per_variable": [float(v) for v in metrics.nrmse(task.test.targets, preds["test"],
                                                                   multioutput="raw_values")],
            "baselines": {k: {"nrmse": b.nrmse, "rmse": b.rmse, "val_nrmse": b.val_nrmse,
                              **({"alpha": b.params["alpha"], "lags": b.params["lags"]} if k == "ridge" else {}),
                              **({p: b.params[p] for p in ("units", "spectral_radius", "leak_rate", "input_scaling",
                                                           "alpha", "implementation")} if k == "esn" else {})}
                          for k, b in self.baselines.items()},
            "readout": {"kind": type(est).__name__, "alpha": float(getattr(est, "alpha_", np.nan)),
                        "n_features": int(X.shape[1]), "n_neurons": int(n_active), "blocks": list(blocks),
                        "block_weights": None if getattr(est, "block_weights_", None) is None
                        else list(est.block_weights_),
                        "features": self.features_kind, "input_term": self.input_term,
                        "spiking": self.v_name is None},
            "sops": sops,
            "sops_note": "input enters as currents (Stimulus), not through synapses: 0 input SOPs; "
                         "readout dense: every spike of an active neuron x output dimensions x feature "
                         "blocks of that neuron (one per filter time constant, one for v)",
            "counts": metrics.counts(trained, readout_size=self.readout_size, input_synapses=0),
            "rate_hz": rate,
            "encoder": {"sample_time_ms": self.sample_time * 1e3, "input_gain_pA": self.input_gain * 1e12,
                        "input_bias": self.input_bias,
                        "input_fraction": self.input_fraction, "input_neurons": int(len(self.input_neurons)),
                        "signed": self.signed, "washout": self.washout, "chunk": self.chunk,
                        "feature_tau_ms": [t * 1e3 for t in self.feature_tau],
                        "feature_kernel": self.feature_kernel,
                        "noise": None if self.noise is None else self.noise.describe(),
                        "encoder_seed": self.seed},
            "runs": self.runs - runs_before,
            "estimator": est, "predictions": {k: preds[k] for k in ("val", "test")},
            "train_rates": self.last_train_rates,
        })
        if keep_results:
            out["results"] = kept
        out["wall_seconds"] = time.perf_counter() - t_start
        return out


# ==========================================================================================
# images
# ==========================================================================================
class ImageTaskRunner(_Runner):
    """Classify images from the spike counts of a network driven by Poisson rate coding.

    Every image becomes K Poisson input neurons (one per pixel, or per pixel and colour
    channel, see :func:`images_to_inputs`) firing at ``intensity * max_rate`` during its
    presentation (``present``), silent during the following ``rest``. ``batch`` images are
    presented per run, train and test alike, so one compiled build serves both; the last
    batch is padded with blank images whose outputs are dropped. Input synapses are sparse
    and seeded: each (input, neuron) pair is connected with probability ``input_fraction``
    with a weight uniform in [0.5, 1.5] x ``input_weight`` (excitatory; the model's static
    synapse code, so an input spike acts like a recurrent excitatory spike).

    The defaults (:data:`IMAGE_DEFAULTS`) were chosen on validation digits, never the test
    images (analysis/tune_image_encoder.py; docs/images.md has the table): on a dense
    300-neuron HRSNN, 300 training images, they raised the test accuracy from 0.74 (50 ms at
    100 Hz, 100 pA, raw counts) to 0.92, beside 0.95 for a logistic regression on the pixels.
    The input's own Poisson noise was the main limit: a full-intensity pixel now sends about
    80 spikes per image instead of 5. Digits have 64 inputs; images with many more (CIFAR)
    drive each neuron far harder at the same settings, so give them their own
    ``max_rate`` / ``input_weight`` / ``input_fraction``.

    Parameters
    ----------
    network : Network
        Topology and default values; its model needs a ``[synapse]`` section (the input
        synapses use it).
    train_images, test_images : arrays (n, ...)
        Floats in [0, 1] or uint8 (flattened by :func:`images_to_inputs`).
    train_labels, test_labels : int arrays (n,)
        Class labels; the training images need at least 2 classes.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Simulation backend.
    present, rest : str or Quantity
        Presentation and silence per image (default ``"100 ms"`` and ``"20 ms"``),
        multiples of the simulation step. On validation digits at 800 Hz, 50 ms lost 0.01
        of accuracy (0.04-0.10 at lower rates) and 200 ms gained 0.01 for twice the
        synaptic operations; no rest and a 50 ms rest both scored lower than 20 ms.
    max_rate : float (Hz) or str
        Rate of a full-intensity input (default 800 Hz). One input neuron per pixel at
        800 Hz stands for a population of pixel neurons at physiological rates (eight at
        100 Hz give the same Poisson count); its synapses then carry the population's drive.
    batch : int
        Images per run (default 100).
    input_fraction : float in (0, 1]
        Connection probability of every (input, neuron) pair (default 0.2).
    input_weight : str or Quantity
        Mean input synapse weight in the model's weight unit (default ``"50 pA"``).
    color : {"rgb", "gray"}
        Colour images only (see :func:`images_to_inputs`).
    features : {"sqrt_counts", "counts"}
        What the readout sees of each active neuron per image: the square root of its spike
        count during the presentation (default) or the count itself. The square root makes
        the spread of a Poisson-like count about the same at every rate, so busy and quiet
        neurons enter the standardised readout with comparable noise (validation accuracy
        0.927 against 0.916 for counts, mean over three noise seeds). It is a fixed
        per-neuron function of the spikes, not a read of sub-threshold state.
    noise, regime, freeze, stdp_epochs, seed, dt, build_dir, reuse, threads, runtime_target, progress
        As in :class:`SeriesTaskRunner` (the encoder seed fixes the input synapses;
        ``progress`` stages: ``"stdp"``, ``"train"``, ``"test"``).
    readout : estimator, optional
        Classifier (cloned per evaluation); default
        :class:`~lnp_brian.tasks.readout.ClassifierReadout`.
    name : str, default="images"
        Task name in the results (``out["task"]``).

    Attributes
    ----------
    sim : Simulator
        The one compiled build.
    input_weights : float array (K, N)
        Input weights (SI, zero where unconnected).
    rate_dt : float
        Sampling step (s) of the rate array (the largest step dividing present and rest).
    last_counts : float array (n, n_active)
        Spike counts of the images of the latest :meth:`features` call (what the features
        are computed from).
    classes : array
        The labels of the training and test images together, sorted.
    build_seconds : float
        Wall time of building (and compiling) the simulation.
    """

    kind = "images"

    def __init__(self, network: Network, train_images, train_labels, test_images, test_labels,
                 device: str = "cpp_standalone", *, present=IMAGE_DEFAULTS["present"],
                 rest=IMAGE_DEFAULTS["rest"], max_rate=IMAGE_DEFAULTS["max_rate"],
                 batch: int = IMAGE_DEFAULTS["batch"], input_fraction: float = IMAGE_DEFAULTS["input_fraction"],
                 input_weight=IMAGE_DEFAULTS["input_weight"], color: str = IMAGE_DEFAULTS["color"],
                 noise=IMAGE_DEFAULTS["noise"], features: str = IMAGE_DEFAULTS["features"],
                 regime: str = "readout", freeze=None, stdp_epochs: int = IMAGE_DEFAULTS["stdp_epochs"],
                 readout=None, seed: int = 0, dt=None, build_dir=None,
                 reuse: bool = False, threads: int = 0, runtime_target: str | None = None,
                 progress=None, name: str = "images"):
        self._init_common(network, regime, freeze, stdp_epochs, seed, progress)
        spec = network.model
        if spec.synapse is None:
            raise ValueError(f"model {spec.name!r} has no [synapse] section for the input synapses")
        self.name = name
        dt_sim = integration_step(dt, spec)
        o = image_options(present=present, rest=rest, max_rate=max_rate, batch=batch, input_fraction=input_fraction,
                          input_weight=input_weight, color=color, noise=noise, features=features,
                          stdp_epochs=stdp_epochs, weight_dim=spec.synapse.weight_dim, dt=dt_sim)
        self.color = color
        self.features_kind = o["features"]
        self.x_train = images_to_inputs(train_images, color)
        self.x_test = images_to_inputs(test_images, color)
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise ValueError(f"train images give {self.x_train.shape[1]} inputs, test images "
                             f"{self.x_test.shape[1]}: they must have the same shape")
        self.y_train = self._labels(train_labels, len(self.x_train), "train")
        self.y_test = self._labels(test_labels, len(self.x_test), "test")
        self.classes = np.unique(np.concatenate([self.y_train, self.y_test]))
        if len(np.unique(self.y_train)) < 2:
            raise ValueError("the training images need at least 2 classes")
        self.present, self.rest, self.max_rate = o["present"], o["rest"], o["max_rate"]
        self.batch, self.input_fraction, self.input_weight = o["batch"], o["input_fraction"], o["input_weight"]
        self.readout = readout
        self.noise = background_noise(noise, spec)

        # presentation grid
        p_steps = _steps(self.present, dt_sim, "present")
        r_steps = _steps(self.rest, dt_sim, "rest") if self.rest > 0 else 0
        g = math.gcd(p_steps, r_steps) if r_steps else p_steps
        self.rate_dt = g * dt_sim
        self.rows_present, self.rows_rest = p_steps // g, r_steps // g
        self.slot = self.present + self.rest

        # encoder: sparse seeded input synapses
        K, n = self.x_train.shape[1], network.n
        r = rng(self.seed, "tasks.images.input_synapses")
        connected = r.random((K, n)) < self.input_fraction
        weights = np.where(connected, self.input_weight * r.uniform(0.5, 1.5, (K, n)), 0.0)
        if not connected.any():
            raise ValueError("no input synapse drawn: raise input_fraction")
        self.input_weights = weights
        rows = self.batch * (self.rows_present + self.rows_rest)
        stim = PoissonStimulus(np.zeros((rows, K)), dt=self.rate_dt * second, weights=weights)
        inputs = [stim] if self.noise is None else [self.noise, stim]
        t0 = time.perf_counter()
        self.sim = Simulator(network, device, duration=self.batch * self.slot * second, dt=dt,
                             inputs=inputs, build_dir=build_dir, reuse=reuse, threads=threads,
                             runtime_target=runtime_target)
        self.build_seconds = time.perf_counter() - t0

    @staticmethod
    def _labels(labels, n, what):
        y = np.asarray(labels)
        if y.shape != (n,):
            raise ValueError(f"{what}: {n} images but labels of shape {y.shape}")
        return y

    # ---- constructors for the shipped data sets --------------------------------------------
    @classmethod
    def digits(cls, network: Network, n_train: int = 300, n_test: int = 200, *, data_seed: int = 0,
               **kwargs) -> "ImageTaskRunner":
        """A runner on scikit-learn's 8x8 digits (64 inputs).

        A stratified, seeded split (:func:`lnp_brian.tasks.datasets.stratified_split`) of
        ``n_train + n_test`` of the 1797 images.

        Parameters
        ----------
        network : Network
            The network to build the runner for.
        n_train : int, default=300
            Training images (>= 10).
        n_test : int, default=200
            Test images (>= 10; ``n_train + n_test`` at most 1797).
        data_seed : int, default=0
            Seed of the split (independent of the encoder ``seed``).
        **kwargs
            Any other :class:`ImageTaskRunner` parameter (``device``, ``present``, ...);
            ``name`` defaults to ``"digits"``.

        Returns
        -------
        ImageTaskRunner
            The built runner.

        Raises
        ------
        TaskOptionError
            If the counts cannot be used.
        """
        from .datasets import digits as load_digits, stratified_split

        images, labels = load_digits()
        n_train, n_test = image_counts("digits", n_train, n_test, available=len(images))
        if n_train + n_test < len(images):
            images, _, labels, _ = stratified_split(images, labels, 1 - (n_train + n_test) / len(images),
                                                    seed=data_seed)
        xtr, xte, ytr, yte = stratified_split(images, labels, n_test / (n_train + n_test), seed=data_seed)
        kwargs.setdefault("name", "digits")
        return cls(network, xtr, ytr, xte, yte, **kwargs)

    @classmethod
    def cifar(cls, network: Network, path, kind: str = "cifar10", n_train: int = 1000,
              n_test: int = 500, *, label: str = "fine", **kwargs) -> "ImageTaskRunner":
        """A runner on CIFAR-10/100 from the python pickle batches at ``path``.

        Nothing is downloaded: the first ``n_train`` training and ``n_test`` test images
        are read (:func:`lnp_brian.tasks.datasets.load_cifar`). ``color="rgb"`` (default):
        3072 inputs, one per pixel and channel; ``color="gray"``: 1024 luminance inputs.

        Parameters
        ----------
        network : Network
            The network to build the runner for.
        path : str or Path
            The extracted batch folder or the folder containing it.
        kind : {"cifar10", "cifar100"}, default="cifar10"
            Which data set.
        n_train : int, default=1000
            Training images (2 .. 50,000).
        n_test : int, default=500
            Test images (1 .. 10,000).
        label : {"fine", "coarse"}, default="fine"
            CIFAR-100 only: 100 fine classes or 20 superclasses.
        **kwargs
            Any other :class:`ImageTaskRunner` parameter (``device``, ``color``,
            ``max_rate``, ...); ``name`` defaults to ``kind``.

        Returns
        -------
        ImageTaskRunner
            The built runner.

        Raises
        ------
        TaskOptionError
            If the counts or ``label`` cannot be used.
        lnp_brian.tasks.datasets.CifarFileError
            If the batch files are missing or unreadable.
        """
        from .datasets import load_cifar

        n_train, n_test = image_counts(kind, n_train, n_test, label=label)
        xtr, ytr = load_cifar(path, kind, "train", limit=n_train, label=label)
        xte, yte = load_cifar(path, kind, "test", limit=n_test, label=label)
        kwargs.setdefault("name", kind)
        return cls(network, xtr, ytr, xte, yte, **kwargs)

    # ------------------------------------------------------------------------------------
    @property
    def baselines(self) -> dict:
        """Pixel-logistic-regression baseline on the same images, by name.

        ``{"pixels_logistic": {"accuracy", "train_accuracy", "cv_accuracy", "C"}}``: a
        logistic regression on the raw pixels with the same training and test images (C by
        cross-validation on the training images), the baseline any reader asks for;
        computed once (:func:`lnp_brian.tasks.datasets.logistic_pixels_baseline`)."""
        if getattr(self, "_baselines", None) is None:
            b = logistic_pixels_baseline(self.x_train, self.y_train, self.x_test, self.y_test, seed=self.seed)
            self._baselines = {"pixels_logistic": {"accuracy": b.accuracy, "train_accuracy": b.train_accuracy,
                                                   "cv_accuracy": b.cv_accuracy, "C": b.params["C"]}}
        return self._baselines

    def batch_rates(self, x: np.ndarray) -> np.ndarray:
        """Input rates of one run for up to ``batch`` images.

        Parameters
        ----------
        x : float array (n, K)
            Image inputs in [0, 1] (:func:`images_to_inputs`), n <= ``batch``.

        Returns
        -------
        float array (batch * rows per image, K)
            Rates in Hz on the ``rate_dt`` grid: each image at ``x * max_rate`` for its
            presentation rows, 0 for its rest rows; missing images are blank (padding).

        Raises
        ------
        ValueError
            If more than ``batch`` images are given.
        """
        if len(x) > self.batch:
            raise ValueError(f"at most {self.batch} images per run, got {len(x)}")
        per = self.rows_present + self.rows_rest
        rates = np.zeros((self.batch, per, x.shape[1]))
        rates[: len(x), : self.rows_present] = (x * self.max_rate)[:, None, :]
        return rates.reshape(self.batch * per, x.shape[1])

    def _batches(self, x):
        return [x[s:s + self.batch] for s in range(0, len(x), self.batch)]

    def features(self, x: np.ndarray, network: Network | None = None, seed: int = 0, stage: str = "test",
                 *, keep_results: bool = False):
        """Simulate the images with plasticity frozen and return their features.

        The features of each image are those of the active neurons (``features``: the square
        roots of their spike counts during the presentation, or the counts). The counts
        themselves are left in ``self.last_counts``.

        Parameters
        ----------
        x : float array (n, K)
            Image inputs in [0, 1] (:func:`images_to_inputs`), any number of images (run in
            batches).
        network : Network, optional
            Same topology as the built one (default: the built network).
        seed : int, default=0
            Seed of the Poisson input spikes and background noise of every run.
        stage : str, default="test"
            Label of the runs, for the run seeds and ``progress`` (``"train"`` or
            ``"test"``).
        keep_results : bool, default=False
            Also return the raw simulation results.

        Returns
        -------
        X : float array (n, max(n_active, 1))
            One row per image.
        sops : dict
            SOP totals of these runs (not yet per image; see
            :func:`lnp_brian.tasks.metrics.sops`).
        fan : int array (K,)
            Live input synapses leaving each input
            (:func:`lnp_brian.tasks.metrics.input_fan_out`).
        results : list of (SimResult, n_images)
            One entry per batch with ``keep_results``; empty otherwise.
        """
        net = self._check_network(network)
        active = np.flatnonzero(net.active)
        X = np.zeros((len(x), max(len(active), 1)))
        fan = metrics.input_fan_out(*np.nonzero(self.input_weights), self.input_weights.shape[0],
                                    active=net.active)
        totals, kept = {}, []
        batches = self._batches(x)
        for b, xb in enumerate(batches):
            res = self._run(net, derive_seed(seed, f"tasks.run.{stage}.{b}"), plastic=False,
                            input_rates=self.batch_rates(xb), input_weights=self.input_weights)
            starts = np.arange(len(xb)) * self.slot
            if len(active):
                X[b * self.batch: b * self.batch + len(xb)] = count_features(
                    res, starts, self.present, neurons=active)
            real = _window(res, 0.0, len(xb) * self.slot)
            in_spikes = np.bincount(real.input_spike_i, minlength=self.input_weights.shape[0])
            part = metrics.sops(real, net, input_synapses=(in_spikes, fan),
                                readout_size=len(self.classes))
            for k, v in part.items():
                totals[k] = totals.get(k, 0.0) + v
            if keep_results:
                kept.append((res, len(xb)))
            self._report(stage, b + 1, len(batches))
        self.last_counts = X[:, : len(active)].copy()
        if self.features_kind == "sqrt_counts":
            X = np.sqrt(X)
        return X, totals, fan, kept

    def evaluate(self, network: Network | None = None, seed: int = 0, *,
                 keep_results: bool = False) -> dict:
        """Train the classifier on the training images and score it on the test images.

        Parameters
        ----------
        network : Network, optional
            Same topology as the built one (default: the built network).
        seed : int
            Seed of the Poisson input spikes and the background noise of every run.
        keep_results : bool
            Add ``out["results"]`` = {"train": [(SimResult, n_images)], "test": [...]}.

        Returns
        -------
        dict
            ``accuracy`` (``train``, ``test``), ``chance`` (1 / classes), ``readout``
            (``C``, ``n_features``), ``sops`` per test image (``input``: input spikes x
            their live fan-out; ``recurrent``; ``readout``: spikes x classes; ``total``;
            ``spikes``; counted over each image's present + rest slot), ``counts``
            (with the live input synapses), ``rate_hz`` (mean rate of the active neurons
            during the test runs), ``input_rate_hz``, ``compilations``,
            ``compilations_during_evaluate``, ``runs``, ``wall_seconds``; objects as in
            :meth:`SeriesTaskRunner.evaluate` (``predictions``: test labels predicted;
            ``train_rates``: per-neuron Hz during the training presentations).
        """
        from sklearn.base import clone

        t_start = time.perf_counter()
        before = compile_count()
        runs_before = self.runs
        net = self._check_network(network)
        trained = net
        if self.regime == "stdp":
            trained = self._stdp_network(net, seed, [
                {"input_rates": self.batch_rates(xb), "input_weights": self.input_weights}
                for xb in self._batches(self.x_train)])
        Xtr, _, _, kept_tr = self.features(self.x_train, trained, seed, "train", keep_results=keep_results)
        train_counts = self.last_counts
        Xte, totals, fan, kept_te = self.features(self.x_test, trained, seed, "test",
                                                  keep_results=keep_results)
        est = clone(self.readout) if self.readout is not None else ClassifierReadout()
        est.fit(Xtr, self.y_train)
        train_rates = np.zeros(net.n)
        if trained.n_active:
            train_rates[trained.active] = train_counts.mean(axis=0) / self.present
        pred = est.predict(Xte)
        out = self._common_out(net, trained, t_start, before)
        n_test = len(self.x_test)
        sops = {k: v / n_test for k, v in totals.items()}
        n_act = max(trained.n_active, 1)
        out.update({
            "task": self.name, "seed": int(seed),
            "accuracy": {"train": float(metrics.accuracy(self.y_train, est.predict(Xtr))),
                         "test": float(metrics.accuracy(self.y_test, pred))},
            "chance": 1.0 / len(self.classes),
            "baselines": {"pixels_logistic": self.baselines["pixels_logistic"]},
            "readout": {"kind": type(est).__name__, "C": float(getattr(est, "C_", np.nan)),
                        "n_features": int(trained.n_active), "features": self.features_kind},
            "sops": sops,
            "sops_note": "per test image over its present + rest slot; input: input spikes x "
                         "live fan-out; readout dense: every spike of an active neuron x classes "
                         "(with sqrt_counts features the count is square-rooted once per neuron and image)",
            "counts": metrics.counts(trained, readout_size=len(self.classes),
                                     input_synapses=int(fan.sum())),
            "rate_hz": sops["spikes"] / (n_act * self.slot),
            "input_rate_hz": float(self.x_test.mean() * self.max_rate),
            "encoder": {"present_ms": self.present * 1e3, "rest_ms": self.rest * 1e3,
                        "max_rate_hz": self.max_rate, "batch": self.batch, "inputs": int(self.x_train.shape[1]),
                        "input_fraction": self.input_fraction, "input_weight_pA": self.input_weight * 1e12,
                        "color": self.color, "noise": None if self.noise is None else self.noise.describe(),
                        "features": self.features_kind, "encoder_seed": self.seed},
            "n_train": int(len(self.x_train)), "n_test": int(n_test),
            "runs": self.runs - runs_before,
            "estimator": est, "predictions": {"test": pred}, "train_rates": train_rates,
        })
        if keep_results:
            out["results"] = {"train": kept_tr, "test": kept_te}
        out["wall_seconds"] = time.perf_counter() - t_start
        return out
