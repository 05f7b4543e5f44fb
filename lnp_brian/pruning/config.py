"""Settings of a pruning run (:class:`PruneConfig`): every default of LNP and its baselines.

All defaults live in one place. The command line's ``prune`` options and the experiment
files' ``[pruning]`` keys are generated from these fields (their ``metadata``), so importing
this module loads neither Brian2 nor SciPy and ``lnp-brian prune --help`` stays fast
(constructing a :class:`PruneConfig` does load Brian2's unit parser, to check the time
fields).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = ["STEPS", "STEP_NAMES", "STEP_BY_NAME", "MODES", "METHODS", "GAINS", "PruneConfig", "PruneConfigError",
           "PROBE_TRANSIENT", "PROBE_TRANSIENT_S", "PROBE_MIN_WINDOW_S", "EXACT_BETWEENNESS_MAX", "AUTO_PIVOTS", "config_seconds"]

#: the LNP steps and the names users give them (``--no-node-pruning``, ``lnp-random-timescale-opt``)
STEP_NAMES = {"lyapunov": "lyapunov", "sparsify": "sparsify", "node_pruning": "node-pruning",
              "delocalize": "delocalize", "timescale": "timescale-opt"}
#: the inverse: user-facing step name -> PruneConfig step
STEP_BY_NAME = {name: step for step, name in STEP_NAMES.items()}
STEPS = tuple(STEP_NAMES)
EXACT_BETWEENNESS_MAX = 2000
AUTO_PIVOTS = 256
MODES = ("on", "off", "random")
METHODS = ("lnp", "ap", "random")
GAINS = ("replay", "closed-loop")
#: start of the analysis window of every noise probe in the loop: its rates, gains and
#: activity are measured after it, so ``PruneConfig.duration`` must be longer
PROBE_TRANSIENT_S = 0.2
PROBE_TRANSIENT = f"{PROBE_TRANSIENT_S * 1e3:g} ms"
#: the probe samples its filtered activity every max(dt, 1 ms) after the transient: at least
#: one such step must fit
PROBE_MIN_WINDOW_S = 1e-3

class PruneConfigError(ValueError):
    """A :class:`PruneConfig` field that cannot be used.

    The message is ``"<field> must be <expected>, got <value>"`` on one line; front ends map
    ``field`` to their own option names (``--copies``, ``pruning.copies``). The three
    parameters are kept as attributes of the same names.

    Parameters
    ----------
    field : str
        The field's name (``lyapunov_copies``, ``trials``, ...; ``steps.<step>`` for the mode
        of one step).
    value : object
        What was given.
    expected : str
        What is accepted, as a phrase (``"an integer >= 1"``).
    """

    def __init__(self, field: str, value, expected: str):
        self.field, self.value, self.expected = field, value, expected
        super().__init__(f"{field} must be {expected}, got {value!r}")


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def config_seconds(name: str, value) -> float:
    """A time field of :class:`PruneConfig` in seconds, checked to be finite.

    Parameters
    ----------
    name : str
        The field's name, used in the error (``"duration"``, ``"interval"``, ...).
    value : str or brian2.Quantity
        A time with units, e.g. ``'500 ms'`` or ``500 * ms``; a bare number is refused.

    Returns
    -------
    float
        The time in s.

    Raises
    ------
    PruneConfigError
        ``value`` is not a time with units, or not finite.

    Examples
    --------
    >>> config_seconds("duration", "500 ms")
    0.5
    """
    from ..core.units import UnitError, seconds

    try:
        t = seconds(value, name)
    except (UnitError, TypeError, ValueError) as exc:
        raise PruneConfigError(name, value, f"a time with units such as '500 ms' ({exc})") from None
    if not math.isfinite(t):
        raise PruneConfigError(name, value, "a finite time")
    return t


@dataclass
class PruneConfig:
    """Settings of a pruning run (all times as strings with units or Brian2 quantities).

    ``steps`` maps each LNP step to "on", "off" or "random" (its random counterpart:
    random importances, uniform synapse sampling, random neuron choice, random re-growth,
    random time-constant distribution). ``target_neurons`` / ``target_synapses`` are the
    fractions *removed* by the end; each iteration removes a geometric share
    (:func:`lnp_brian.pruning.pruner.schedule`). Every field is checked on construction
    (:meth:`validate`). The fields' metadata generate the ``lnp-brian prune`` options and the
    ``[pruning]`` keys of experiment files (named below where they differ from the field).

    Parameters
    ----------
    method : {"lnp", "ap", "random"}, default "lnp"
        Pruning method: lnp (Lyapunov Noise Pruning), ap (activity-based) or random
        (``--method``; not a ``[pruning]`` key: experiment files list methods).
    target_neurons : float, default 0.57
        Fraction of neurons removed by the end, ``0 <= f < 1``.
    target_synapses : float, default 0.5
        Fraction of synapses removed by the end, ``0 <= f < 1``. The synapses kept cannot
        exceed what the surviving neurons can hold: those of the dense topology between them.
    iterations : int, default 5
        Iterations of the geometric schedule, >= 1.
    steps : dict, default every step "on"
        Step -> mode, each "on", "off" or "random" (its random counterpart); missing steps
        are "on". Set with ``--no-STEP`` / ``--random-STEP`` or the ``lnp-no-STEP`` /
        ``lnp-random-STEP`` methods of an experiment, STEP being the name in brackets:

        - ``lyapunov`` (lyapunov): Lyapunov weighting of the sparsifier (off: plain spectral
          sparsification);
        - ``sparsify`` (sparsify): spectral sampling (off: keep the largest ``|w|``);
        - ``node_pruning`` (node-pruning): betweenness neuron pruning (off: only isolated
          neurons go);
        - ``delocalize`` (delocalize): delocalisation by re-growing synapses;
        - ``timescale`` (timescale-opt): timescale optimisation of ``tau_m``.
    seed : int, default 0
        Seed of every random choice, >= 0 (``--seed``; an experiment's run seed).
    device : str, default "cpp_standalone"
        Brian2 device, one of :data:`lnp_brian.core.devices.DEVICES` (``--device``;
        ``experiment.device``).
    duration : str or brian2.Quantity, default "1 s"
        Simulated time of each noise probe / lambda_max run, with unit (e.g. ``'1 s'``,
        ``'500 ms'``); longer than the 200 ms transient of the noise probe
        (:data:`PROBE_TRANSIENT`), by at least 1 ms.
    lyapunov_copies : int, default 4
        Perturbed copies for lambda_max, >= 1 (``--copies``; ``copies`` in experiment files).
    perturbation : float, default 1.0
        Finite-size lambda_max: kick size in scaled units (1 = 1 mV on v, 1 pA on currents),
        > 0; large enough to move spikes (at 1e-3 lambda_max is the slowest membrane leak).
    gains : {"replay", "closed-loop"}, default "replay"
        Gains of the linear model: replay (open loop, each neuron's recorded input played
        back) or closed-loop (the first version's).
    interval : str or brian2.Quantity, default "10 ms"
        Renormalisation interval of lambda_max, with unit; > 0 and at most ``duration`` minus
        the probe transient.
    exponents : {"linear", "spiking"}, default "linear"
        Per-neuron exponents from the linearised rate model (linear, fast) or from perturbed
        spiking copies (spiking).
    exponent_window : str or brian2.Quantity, default "100 ms"
        Finite-time window of the per-neuron exponents, with unit, > 0.
    exponent_neurons : int or None, default None
        Exponents of at most this many active neurons (evenly spaced), >= 2; the others are
        predicted by least squares on the subset: spiking ones from their linear-model
        exponents, linear ones from ``A_ii`` and the column norm of A
        (:meth:`lnp_brian.pruning.pruner.Pruner.exponents`). None: all neurons.
    spectrum_k : int, default 20
        Leading exponents of the linear model's Lyapunov spectrum that are measured and
        compared, >= 1.
    lyapunov_members : {"endpoints", "neighbourhood"}, default "endpoints"
        Lyapunov score of a synapse: harmonic mean over its two endpoints or over their
        neighbourhoods (:func:`lnp_brian.lyapunov.spectrum.lyapunov_matrix`).
    reweight : bool, default True
        Reweight kept synapses by 1/p (clipped to the pathway maximum); ``--no-reweight``
        switches it off.
    stratify : bool, default True
        Stratified neuron removal (the E:I ratio is kept); ``--no-stratify`` switches it off.
    resistances : {"auto", "exact", "approx"}, default "auto"
        Effective resistances of the spectral sparsifier: exact, approx (random projections)
        or auto (:func:`lnp_brian.graph.sparsify.effective_resistances`).
    betweenness_pivots : int, "auto" or None, default "auto"
        Betweenness pivots (sampled sources) of the neuron pruning (``--pivots``): a count
        >= 1; None or 0 for exact (0 is stored as None); or "auto": exact up to
        :data:`EXACT_BETWEENNESS_MAX` (2,000) active neurons, else :data:`AUTO_PIVOTS` (256)
        sampled sources (networkit; rank correlation 0.90-0.96 with exact at 4,000 neurons).
    ipr_vectors : int, default 10
        Leading eigenvectors of M whose mean IPR measures localisation, >= 1.
    ipr_tolerance : float, default 0.1
        Re-growth stops at mean IPR(M) <= (1 + tolerance) x the dense network's, >= 0.
    regrow_budget : float, default 0.05
        Fraction of the synapse target reserved for re-growth, ``0 <= f < 1``.
    regrow_batches : int, default 4
        Batches of the re-growth, >= 1.
    trials : int, default 8
        Optuna trials of the timescale optimisation, >= 0 (>= 1 while the step is on with
        method "lnp").

    Raises
    ------
    PruneConfigError
        A field that cannot be used, naming the field, the value and what is expected.

    Examples
    --------
    >>> cfg = PruneConfig(target_neurons=0.3, iterations=3, steps={"timescale": "off"})
    >>> cfg.target_synapses, cfg.duration
    (0.5, '1 s')
    >>> cfg.steps
    {'lyapunov': 'on', 'sparsify': 'on', 'node_pruning': 'on', 'delocalize': 'on', 'timescale': 'off'}
    """

    # Metadata, read by the command line (lnp_brian.cli.options.pruning_option_names) and by experiment
    # files (lnp_brian.experiment.runner): "help" what the value is (units, what is accepted; front ends
    # add the default), "option" its `lnp-brian prune` option, "key" its [pruning] key in an
    # experiment file where that is not the field's name (None: not in the file), "choices",
    # "unit", and "min" / "max" of the option's values ("min_open" / "max_open": bound excluded).
    method: str = field(default="lnp", metadata={
        "help": "pruning method: lnp (Lyapunov Noise Pruning), ap (activity-based) or random",
        "option": "--method", "choices": METHODS, "key": None})
    target_neurons: float = field(default=0.57, metadata={
        "help": "fraction of neurons removed by the end, 0 <= f < 1",
        "option": "--target-neurons", "min": 0, "max": 1, "max_open": True})
    target_synapses: float = field(default=0.5, metadata={
        "help": "fraction of synapses removed by the end, 0 <= f < 1; it cannot exceed what the surviving "
                "neurons can hold, see the docs",
        "option": "--target-synapses", "min": 0, "max": 1, "max_open": True})
    iterations: int = field(default=5, metadata={
        "help": "iterations of the geometric schedule, an integer >= 1", "option": "--iterations", "min": 1})
    steps: dict = field(default_factory=lambda: {s: "on" for s in STEPS}, metadata={
        "help": "each LNP step 'on', 'off' or 'random' (its random counterpart)",
        "option": "--no-STEP/--random-STEP", "key": None,
        "steps": {"lyapunov": "Lyapunov weighting of the sparsifier (plain spectral sparsification)",
                  "sparsify": "spectral sampling (keep the largest |w| instead)",
                  "node_pruning": "betweenness neuron pruning (only isolated neurons go)",
                  "delocalize": "delocalisation by re-growing synapses",
                  "timescale": "timescale optimisation of tau_m"}})
    seed: int = field(default=0, metadata={
        "help": "seed of every random choice, an integer >= 0", "key": None})
    device: str = field(default="cpp_standalone", metadata={"help": "Brian2 device", "key": None})
    duration: str = field(default="1 s", metadata={  # of every probe / λ_max simulation
        "help": f"simulated time of each probe / lambda_max run, with unit (e.g. 1 s, 500 ms); longer than "
                f"the {PROBE_TRANSIENT} transient of the noise probe",
        "option": "--duration", "unit": "second"})
    lyapunov_copies: int = field(default=4, metadata={
        "help": "perturbed copies for lambda_max, an integer >= 1", "option": "--copies", "key": "copies",
        "min": 1})
    # finite-size λ_max: kick of this size in scaled units (1 = 1 mV on v, 1 pA on currents),
    # large enough to move spikes; at 1e-3 λ_max is the slowest membrane leak
    perturbation: float = field(default=1.0, metadata={
        "help": "finite-size lambda_max: kick size in scaled units (1 = 1 mV on v, 1 pA on currents), a number "
                "> 0, large enough to move spikes (at 1e-3 lambda_max is the slowest membrane leak)",
        "option": "--perturbation", "min": 0, "min_open": True})
    gains: str = field(default="replay", metadata={  # or "closed-loop" (the first version's)
        "help": "gains of the linear model: replay (open loop, each neuron's recorded input played back) or "
                "closed-loop (the first version's)",
        "option": "--gains", "choices": GAINS})
    interval: str = field(default="10 ms", metadata={
        "help": "renormalisation interval of lambda_max, with unit; at most duration minus the probe transient"})
    exponents: str = field(default="linear", metadata={  # "linear" (from A) or "spiking" (perturbed copies)
        "help": "per-neuron exponents from the linearised rate model (linear, fast) or from perturbed spiking "
                "copies (spiking)",
        "option": "--exponents", "choices": ("linear", "spiking")})
    exponent_window: str = field(default="100 ms", metadata={
        "help": "finite-time window of spiking per-neuron exponents, with unit"})
    # exponents of at most this many active neurons (evenly spaced); the others are predicted
    # by least squares on the subset: spiking ones from their linear-model exponents, linear
    # ones from A_ii and the column norm of A (see Pruner.exponents)
    exponent_neurons: int | None = field(default=None, metadata={
        "help": "exponents of at most this many active neurons (evenly spaced), an integer >= 2; the others "
                "are predicted by least squares on the subset (default: all neurons)"})
    spectrum_k: int = field(default=20, metadata={
        "help": "leading exponents of the linear model's Lyapunov spectrum that are measured and compared, "
                "an integer >= 1",
        "option": "--spectrum-k", "min": 1})
    lyapunov_members: str = field(default="endpoints", metadata={
        "help": "Lyapunov score of a synapse: harmonic mean over its two endpoints or over their "
                "neighbourhoods (lnp_brian.lyapunov.spectrum.lyapunov_matrix)",
        "option": "--lyapunov-members", "choices": ("endpoints", "neighbourhood")})
    reweight: bool = field(default=True, metadata={
        "help": "reweighting of kept synapses by 1/p (clipped to the pathway maximum)",
        "option": "--no-reweight"})
    stratify: bool = field(default=True, metadata={
        "help": "stratified neuron removal (the E:I ratio is kept)", "option": "--no-stratify"})
    resistances: str = field(default="auto", metadata={
        "help": "effective resistances of the spectral sparsifier: exact, approx (random projections) or "
                "auto (lnp_brian.graph.sparsify.effective_resistances)",
        "option": "--resistances", "choices": ("auto", "exact", "approx")})
    # None: exact; "auto": exact up to EXACT_BETWEENNESS_MAX active neurons, else
    # AUTO_PIVOTS sampled sources (networkit; rank correlation 0.90-0.96 with exact at 4,000)
    betweenness_pivots: int | str | None = field(default="auto", metadata={
        "help": f"betweenness pivots (sampled sources) of the neuron pruning: a count >= 1, 0 (exact) or auto "
                f"(exact up to {EXACT_BETWEENNESS_MAX:,} active neurons, else {AUTO_PIVOTS} pivots)",
        "option": "--pivots", "min": 0})
    ipr_vectors: int = field(default=10, metadata={
        "help": "leading eigenvectors of M whose mean IPR measures localisation, an integer >= 1", "key": None})
    ipr_tolerance: float = field(default=0.1, metadata={
        "help": "re-growth stops at mean IPR(M) <= (1 + tolerance) x the dense network's, a number >= 0",
        "option": "--ipr-tolerance", "min": 0})
    regrow_budget: float = field(default=0.05, metadata={
        "help": "fraction of the synapse target reserved for re-growth, 0 <= f < 1",
        "option": "--regrow-budget", "min": 0, "max": 1, "max_open": True})
    regrow_batches: int = field(default=4, metadata={
        "help": "batches of the re-growth, an integer >= 1", "key": None})
    trials: int = field(default=8, metadata={
        "help": "Optuna trials of the timescale optimisation, an integer >= 0 (>= 1 while the step is on)",
        "option": "--trials", "min": 0})

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Check every field (called on construction) and normalise two of them.

        ``steps`` gets every step (missing ones "on") and ``betweenness_pivots = 0`` (exact)
        becomes None. Call it again after changing a field in place.

        Raises
        ------
        PruneConfigError
            A field that cannot be used, naming the field, the value and what is expected.
        """
        from ..core.devices import DEVICES

        def err(name, expected):
            raise PruneConfigError(name, getattr(self, name), expected)

        if self.method not in METHODS:
            err("method", f"one of {', '.join(METHODS)}")
        if not isinstance(self.steps, dict):
            err("steps", f"a dict of step -> mode (steps {', '.join(STEPS)}; modes {', '.join(MODES)})")
        steps = {s: "on" for s in STEPS}
        for key, mode in dict(self.steps).items():
            if key not in STEPS:
                raise PruneConfigError("steps", key, f"a step name ({', '.join(STEPS)})")
            if mode not in MODES:
                raise PruneConfigError(f"steps.{key}", mode, f"one of {', '.join(MODES)}")
            steps[key] = mode
        self.steps = steps
        for name in ("target_neurons", "target_synapses"):
            v = getattr(self, name)
            if not (_is_real(v) and math.isfinite(v) and 0.0 <= v < 1.0):
                err(name, "the fraction removed by the end: a number with 0 <= f < 1")
        for name, lo in (("iterations", 1), ("lyapunov_copies", 1), ("spectrum_k", 1), ("ipr_vectors", 1),
                         ("regrow_batches", 1), ("seed", 0), ("trials", 0)):
            v = getattr(self, name)
            if not (_is_int(v) and v >= lo):
                err(name, f"an integer >= {lo}")
        if self.trials < 1 and self.method == "lnp" and self.steps["timescale"] == "on":
            err("trials", "an integer >= 1 while the timescale optimisation is on (method lnp, step "
                          "timescale 'on'); switch the step off to run no trials")
        if self.device not in DEVICES:
            err("device", f"one of {', '.join(DEVICES)}")
        if not (_is_real(self.perturbation) and math.isfinite(self.perturbation) and self.perturbation > 0):
            err("perturbation", "a finite number > 0 (scaled units)")
        if not (_is_real(self.ipr_tolerance) and math.isfinite(self.ipr_tolerance) and self.ipr_tolerance >= 0):
            err("ipr_tolerance", "a finite number >= 0")
        if self.gains not in GAINS:
            err("gains", f"one of {', '.join(GAINS)}")
        if self.lyapunov_members not in ("endpoints", "neighbourhood"):
            err("lyapunov_members", "'endpoints' or 'neighbourhood'")
        if not isinstance(self.stratify, (bool, np.bool_)):
            err("stratify", "true or false")
        if not (_is_real(self.regrow_budget) and math.isfinite(self.regrow_budget) and 0.0 <= self.regrow_budget < 1.0):
            err("regrow_budget", "the fraction of the synapse target reserved for re-growth: 0 <= f < 1")
        if not isinstance(self.reweight, (bool, np.bool_)):
            err("reweight", "true or false")
        if self.exponents not in ("linear", "spiking"):
            err("exponents", "'linear' or 'spiking'")
        if self.exponent_neurons is not None and not (_is_int(self.exponent_neurons) and self.exponent_neurons >= 2):
            err("exponent_neurons", "None (all neurons) or an integer >= 2")
        if self.resistances not in ("auto", "exact", "approx"):
            err("resistances", "'auto', 'exact' or 'approx'")
        bp = self.betweenness_pivots
        if _is_int(bp) and bp == 0:
            self.betweenness_pivots = bp = None  # 0: exact, as on the command line
        if not (bp is None or bp == "auto" or (_is_int(bp) and bp >= 1)):
            err("betweenness_pivots", "None or 0 (exact), 'auto' or a count >= 1")
        duration = config_seconds("duration", self.duration)
        if not duration >= PROBE_TRANSIENT_S + PROBE_MIN_WINDOW_S - 1e-12:
            raise PruneConfigError(
                "duration", self.duration,
                f"longer than the {PROBE_TRANSIENT_S * 1e3:g} ms transient of every noise probe (measurements "
                f"start after it): at least {(PROBE_TRANSIENT_S + PROBE_MIN_WINDOW_S) * 1e3:g} ms")
        interval = config_seconds("interval", self.interval)
        if not interval > 0:
            err("interval", "a positive time")
        if interval > duration - PROBE_TRANSIENT_S + 1e-12:
            raise PruneConfigError(
                "interval", self.interval,
                f"at most duration - transient = {duration * 1e3:g} ms - {PROBE_TRANSIENT_S * 1e3:g} ms = "
                f"{(duration - PROBE_TRANSIENT_S) * 1e3:g} ms (at least one renormalisation interval after the "
                f"transient)")
        if not config_seconds("exponent_window", self.exponent_window) > 0:
            err("exponent_window", "a positive time")

    def pivots(self, n_active: int) -> int | None:
        """Betweenness pivots for a network with ``n_active`` active neurons.

        Parameters
        ----------
        n_active : int
            Active neurons of the network being pruned.

        Returns
        -------
        int or None
            Sampled sources of the betweenness, or None for exact betweenness.

        Examples
        --------
        >>> cfg = PruneConfig()
        >>> cfg.pivots(500) is None, cfg.pivots(5000)
        (True, 256)
        """
        if self.betweenness_pivots == "auto":
            return None if n_active <= EXACT_BETWEENNESS_MAX else AUTO_PIVOTS
        return self.betweenness_pivots

    def to_dict(self) -> dict:
        """Every field as plain values, e.g. for ``run.json``.

        Returns
        -------
        dict
            Field name -> value (``steps`` copied as a dict).
        """
        return dataclasses.asdict(self)
