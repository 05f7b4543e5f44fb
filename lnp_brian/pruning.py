"""Lyapunov Noise Pruning (LNP) and its baselines, as this project reconstructs the method.

The source is Chakraborty, Kang, Kumar & Mukhopadhyay, *Sparse Spiking Neural Network:
Exploiting Heterogeneity in Timescales for Pruning Recurrent SNN* (ICLR 2024). Its full text
(equations, Algorithms 1-4) was not available to this project: the steps below are the
reconstruction documented in DESIGN §5, and every step can be switched on, off, or replaced by
its random counterpart so that it can be ablated or swapped. Do not read the numbers produced
here as a reproduction of the paper's.

One LNP iteration maps a Network to a Network (never touching Brian2 objects):

1. noise probe (§5.1): rates, gains and the linearised rate model A of the current network;
2. per-neuron Lyapunov exponents λ_i (§5.2): from A (fast) or from perturbed spiking copies;
3. Lyapunov matrix (§5.3): per synapse, the harmonic mean of stability scores over the
   neighbourhood of its two neurons;
4. spectral sparsification (§5.4): Spielman–Srivastava sampling of synapses with keep
   probability ∝ a_ij R_ij L_ij to this iteration's synapse target;
5. neuron pruning (§5.5): remove the lowest betweenness-centrality neurons (edge length 1/|w|)
   to the neuron target, and isolated neurons;
6. delocalisation (§5.6): while the leading eigenvectors of A are localised (mean inverse
   participation ratio above threshold) and the edge budget lasts, re-grow synapses of the dense
   network at the most localised neurons, keeping a batch only if the mean IPR falls;
7. timescale optimisation (§5.7): Optuna over the gamma distribution of the surviving neurons'
   τ_m (rank order kept), minimising |λ_max| plus the distance of the Lyapunov spectrum from the
   dense network's.

Targets follow a geometric schedule to the final fractions (default 57 % of neurons and 50 %
of synapses removed). Every simulation — probes, λ_max, optimisation trials — is a re-run of
binaries compiled once for the dense network's topology: pruned synapses have weight 0 and
mask 0, pruned neurons ``active = False``.

Baselines with the same count schedule: activity-based pruning (AP: lowest-rate neurons,
smallest-|w| synapses; rates from a task's training inputs when a task is given, else from the
noise probe) and random pruning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import time
from dataclasses import dataclass, field
from pathlib import Path

import brian2 as b2
import numpy as np
import scipy.sparse as sp

from .centrality import betweenness_sparse
from .files import atomic_write, json_default, json_text, read_json, write_json
from .lyapunov import TwoTrajectory, _estimate, _seconds, default_scales, per_neuron_exponents
from .lyapunov_spectrum import lyapunov_matrix, per_neuron_exponents_linear, qr_spectrum_linear
from .network import Network
from .probe import NoiseProbe
from .seeding import derive_seed, rng
from .sparsify import sparsify_synapses

__all__ = ["STEPS", "MODES", "METHODS", "PruneConfig", "PruneConfigError", "Pruner", "PruneResult", "ipr",
           "leading_eigenvectors", "schedule", "random_counterpart", "CheckpointError", "verify_checkpoint",
           "PROBE_TRANSIENT", "PROBE_TRANSIENT_S", "PROBE_MIN_WINDOW_S"]

STEPS = ("lyapunov", "sparsify", "node_pruning", "delocalize", "timescale")
EXACT_BETWEENNESS_MAX = 2000
QR_SPECTRUM_MAX = 2000  # above: the linear model's spectrum from ARPACK eigenvalues
AUTO_PIVOTS = 256
MODES = ("on", "off", "random")
METHODS = ("lnp", "ap", "random")
#: start of the analysis window of every noise probe in the loop: its rates, gains and
#: activity are measured after it, so ``PruneConfig.duration`` must be longer
PROBE_TRANSIENT_S = 0.2
PROBE_TRANSIENT = f"{PROBE_TRANSIENT_S * 1e3:g} ms"
#: the probe samples its filtered activity every max(dt, 1 ms) after the transient: at least
#: one such step must fit
PROBE_MIN_WINDOW_S = 1e-3
CHECKPOINT_MANIFEST = "manifest.json"


class PruneConfigError(ValueError):
    """A :class:`PruneConfig` field that cannot be used.

    ``field`` is the field's name (``lyapunov_copies``, ``trials``, ...), ``value`` what was
    given and ``expected`` what is accepted; the message is ``"<field> must be <expected>,
    got <value>"`` on one line (front ends map ``field`` to their own option names)."""

    def __init__(self, field: str, value, expected: str):
        self.field, self.value, self.expected = field, value, expected
        super().__init__(f"{field} must be {expected}, got {value!r}")


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _seconds_field(name: str, value) -> float:
    """A time field (string with units or Brian2 quantity) in seconds, finite."""
    from .units import UnitError, parse_quantity

    try:
        t = float(parse_quantity(value, "second", where=name))
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
    fractions *removed* by the end; each iteration removes a geometric share.
    """

    method: str = "lnp"
    target_neurons: float = 0.57
    target_synapses: float = 0.5
    iterations: int = 5
    steps: dict = field(default_factory=lambda: {s: "on" for s in STEPS})
    seed: int = 0
    device: str = "cpp_standalone"
    duration: str = "1 s"  # of every probe / λ_max simulation
    lyapunov_copies: int = 4
    perturbation: float = 1e-3
    interval: str = "10 ms"
    exponents: str = "linear"  # "linear" (from A) or "spiking" (perturbed copies)
    exponent_window: str = "100 ms"
    # exponents of at most this many active neurons (evenly spaced); the others are predicted
    # by least squares on the subset: spiking ones from their linear-model exponents, linear
    # ones from A_ii and the column norm of A (see Pruner.exponents)
    exponent_neurons: int | None = None
    spectrum_k: int = 20
    reweight: bool = False
    resistances: str = "auto"  # effective resistances: "exact", "approx" or "auto" (lnp_brian.sparsify)
    # None: exact; "auto": exact up to EXACT_BETWEENNESS_MAX active neurons, else
    # AUTO_PIVOTS sampled sources (networkit; rank correlation 0.90-0.96 with exact at 4,000)
    betweenness_pivots: int | str | None = "auto"
    ipr_vectors: int = 10
    ipr_threshold: float = 10.0  # localised when mean IPR > ipr_threshold / n_active
    regrow_budget: float = 0.05  # fraction of the synapse target reserved for re-growth
    regrow_batches: int = 4
    trials: int = 8

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Check every field (called on construction); raises :class:`PruneConfigError`
        naming the field, the value and what is expected. Normalises ``steps`` (missing steps
        "on") and ``betweenness_pivots = 0`` (exact, as None)."""
        from .backends import DEVICES

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
        if not (_is_real(self.ipr_threshold) and math.isfinite(self.ipr_threshold) and self.ipr_threshold > 0):
            err("ipr_threshold", "a finite number > 0")
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
        duration = _seconds_field("duration", self.duration)
        if not duration >= PROBE_TRANSIENT_S + PROBE_MIN_WINDOW_S - 1e-12:
            raise PruneConfigError(
                "duration", self.duration,
                f"longer than the {PROBE_TRANSIENT_S * 1e3:g} ms transient of every noise probe (measurements "
                f"start after it): at least {(PROBE_TRANSIENT_S + PROBE_MIN_WINDOW_S) * 1e3:g} ms")
        interval = _seconds_field("interval", self.interval)
        if not interval > 0:
            err("interval", "a positive time")
        if interval > duration - PROBE_TRANSIENT_S + 1e-12:
            raise PruneConfigError(
                "interval", self.interval,
                f"at most duration - transient = {duration * 1e3:g} ms - {PROBE_TRANSIENT_S * 1e3:g} ms = "
                f"{(duration - PROBE_TRANSIENT_S) * 1e3:g} ms (at least one renormalisation interval after the "
                f"transient)")
        if not _seconds_field("exponent_window", self.exponent_window) > 0:
            err("exponent_window", "a positive time")

    def pivots(self, n_active: int) -> int | None:
        """Betweenness pivots for a network with ``n_active`` neurons (None: exact)."""
        if self.betweenness_pivots == "auto":
            return None if n_active <= EXACT_BETWEENNESS_MAX else AUTO_PIVOTS
        return self.betweenness_pivots

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def schedule(n0: int, m0: int, config: PruneConfig):
    """Neuron and synapse counts after each iteration k = 1..K (geometric schedule)."""
    k = np.arange(1, config.iterations + 1) / config.iterations
    neurons = np.round(n0 * (1 - config.target_neurons) ** k).astype(int)
    synapses = np.round(m0 * (1 - config.target_synapses) ** k).astype(int)
    return neurons, synapses


def ipr(vectors) -> np.ndarray:
    """Inverse participation ratio Σ|u_i|⁴ / (Σ|u_i|²)² of each column (1/N when spread evenly
    over N entries, 1 when on one entry)."""
    p = np.abs(np.asarray(vectors)) ** 2
    return (p ** 2).sum(axis=0) / p.sum(axis=0) ** 2


def leading_eigenvectors(A, k: int, active=None):
    """The ``k`` eigenpairs of largest real part of the effective connectivity ``A``
    restricted to the active neurons: (eigenvalues, vectors (n_active, k))."""
    A = sp.csr_matrix(A)
    idx = np.arange(A.shape[0]) if active is None else np.flatnonzero(active)
    sub = A[idx][:, idx]
    n = sub.shape[0]
    k = min(k, max(n - 2, 1))
    if n <= 600:
        vals, vecs = np.linalg.eig(sub.toarray())
        order = np.argsort(-vals.real)[:k]
        return vals[order], vecs[:, order]
    from scipy.sparse.linalg import eigs

    vals, vecs = eigs(sub, k=k, which="LR", tol=1e-6, maxiter=20 * n)
    order = np.argsort(-vals.real)
    return vals[order], vecs[:, order]


def random_counterpart(values, gen: np.random.Generator) -> np.ndarray:
    """The same values in random order (keeps their distribution, destroys their structure)."""
    return gen.permutation(np.asarray(values))


@dataclass
class PruneResult:
    """Trajectory of a pruning run: one row per iteration (0 = the dense network)."""

    rows: list
    network: Network
    networks: list
    config: PruneConfig
    compilations: int
    info: dict = field(default_factory=dict)

    def column(self, key):
        return np.array([r.get(key, np.nan) for r in self.rows], dtype=float)


class Pruner:
    """LNP and its baselines for one dense network, on binaries compiled once.

    Parameters
    ----------
    dense : Network
        The network to prune (its topology is what every build is compiled for).
    config : PruneConfig
    inputs : optional
        Background noise of the probes and λ_max runs (default: the model's).
    evaluate : callable, optional
        ``evaluate(network, seed) -> dict`` scoring a network on a task (e.g.
        ``lnp_brian.tasks`` runners); its numbers go into the trajectory, and AP ranks neurons
        by ``result["rates"]`` (per-neuron Hz on the task's training inputs) when present.
    build_root : path, optional
        Where the standalone builds go (one sub-directory each); re-used if compatible.
    log : callable, optional
        Called with progress messages.
    """

    def __init__(self, dense: Network, config: PruneConfig | None = None, *, inputs=None, evaluate=None,
                 build_root=None, log=None, dt=None):
        self.dense = dense
        self.config = config or PruneConfig()
        self.evaluate = evaluate
        self.log = log or (lambda msg: None)
        cfg = self.config
        root = Path(build_root) if build_root is not None else None

        def bdir(name):
            return None if root is None else root / name

        if inputs is None:
            from .inputs import default_input

            inputs = default_input(dense.model)
        # one build for the whole loop: the two-trajectory engine (reference + perturbed
        # copies) doubles as the noise probe (copy 0 unbiased, the others biased)
        self.lyap = TwoTrajectory(dense, cfg.device, perturbed=cfg.lyapunov_copies, duration=cfg.duration,
                                  interval=cfg.interval, inputs=inputs, dt=dt, build_dir=bdir("loop"),
                                  reuse=root is not None, record_spikes=True)
        self.probe = NoiseProbe(dense, cfg.device, noise=inputs, engine=self.lyap, transient=PROBE_TRANSIENT)
        self.noise = self.probe.noise
        self._per_neuron = None
        if cfg.exponents == "spiking":
            window = _seconds(cfg.exponent_window, "exponent_window")
            step = _seconds(cfg.interval, "interval")
            scales = default_scales(dense.model)
            var = "v" if "v" in scales else next(iter(scales))
            self._per_neuron = TwoTrajectory(
                dense, cfg.device, perturbed=min(dense.n, 128), duration=(0.1 + window + step) * b2.second,
                interval=cfg.interval, inputs=self.noise, dt=dt, trace_tau=None, scales={var: scales[var]},
                build_dir=bdir("per_neuron"), reuse=root is not None)
        self.timings: dict = {}
        self._dense_spectrum = None

    @property
    def compilations(self) -> int:
        sims = [self.lyap.sim] + ([self._per_neuron.sim] if self._per_neuron else [])
        extra = getattr(self.evaluate, "compilations", 0) or 0
        return sum(s.compilations for s in sims) + int(extra)

    def _time(self, key, t0):
        self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - t0

    # ---- measurements ----------------------------------------------------------------------
    def lambda_max(self, net: Network, seed: int, tau=None):
        """λ_max (1/s) and its error on the compiled two-trajectory build."""
        gen = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
        kicks = self.lyap.random_kicks(self.config.perturbation, gen)
        overrides = {} if tau is None else {"params": {"tau_m": tau}}
        times, logd, _, _ = self.lyap.run(kicks, t_kick=0.0, network=net, seed=seed, **overrides)
        start = min(PROBE_TRANSIENT_S, 0.5 * self.lyap.duration)
        mean, se, _, _ = _estimate(times, logd, self.lyap.interval, start)
        return mean, se

    def spectrum(self, A, k: int, seed: int, active=None):
        """First k Lyapunov exponents (1/s) of the linearised model restricted to the active
        neurons: QR method (4x the default time for close exponents to separate) up to
        QR_SPECTRUM_MAX neurons; above, the k largest real parts of the eigenvalues of A from
        ARPACK, which for the linear model dx/dt = A x are its Lyapunov exponents (the QR
        method converges to them, see tests/test_lyapunov_spectrum.py) at a fraction of the
        cost (QR at 10,000 neurons took minutes per trial)."""
        if active is not None:
            idx = np.flatnonzero(active)
            A = sp.csr_matrix(A)[idx][:, idx]
        k = min(k, A.shape[0])
        if A.shape[0] > QR_SPECTRUM_MAX:
            from scipy.sparse.linalg import eigs

            v0 = np.random.default_rng(seed).standard_normal(A.shape[0])
            vals = eigs(sp.csr_matrix(A), k=k, which="LR", tol=1e-8, v0=v0, maxiter=50 * A.shape[0],
                        return_eigenvectors=False)
            return np.sort(vals.real)[::-1]
        rate = abs(A.diagonal().mean()) or 1.0
        return qr_spectrum_linear(A, k=k, T=2000.0 / rate, seed=seed).exponents

    def exponents(self, net: Network, probe_result, seed: int) -> np.ndarray:
        """Per-neuron exponents: from the linear model A, or from spiking copies."""
        window = _seconds(self.config.exponent_window, "window")
        limit = self.config.exponent_neurons
        active = np.flatnonzero(net.active)
        # the neurons measured: all active ones, or an evenly spaced subset of ``limit``
        subset = active if limit is None or len(active) <= limit else \
            active[np.unique(np.linspace(0, len(active) - 1, limit).round().astype(int))]
        if self._per_neuron is None and len(subset) == len(active):
            lam = per_neuron_exponents_linear(probe_result.A, window)
        elif self._per_neuron is None:
            # linear exponents of an evenly spaced subset; the others predicted by least
            # squares from two cheap features of each neuron: its self-decay A_ii and the
            # norm of its column of A (how strongly a kick spreads in one step)
            A = sp.csr_matrix(probe_result.A)
            lam = np.full(net.n, np.nan)
            lam[subset] = per_neuron_exponents_linear(A, window, neurons=subset)
            feats = np.column_stack([np.ones(net.n), A.diagonal(), np.sqrt(np.asarray(A.multiply(A).sum(axis=0))).ravel()])
            coef, *_ = np.linalg.lstsq(feats[subset], lam[subset], rcond=None)
            rest = np.setdiff1d(active, subset)
            lam[rest] = feats[rest] @ coef
        else:
            per = per_neuron_exponents(net, engine=self._per_neuron, warmup="100 ms",
                                       window=self.config.exponent_window, perturbation=0.1,
                                       neurons=subset, seed=seed)
            lam = np.full(net.n, np.nan)
            lam[per.neurons] = per.lambdas
            # erased perturbations are the most stable: give them the smallest exponent seen
            finite = np.isfinite(lam)
            lam[~finite & np.isin(np.arange(net.n), subset)] = lam[finite].min() if finite.any() else -1.0
            if len(subset) < len(active):
                lin = per_neuron_exponents_linear(probe_result.A, window)
                x, y = lin[subset], lam[subset]
                slope, icept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(np.mean(y)))
                rest = np.setdiff1d(active, subset)
                lam[rest] = icept + slope * lin[rest]
        lam = np.where(net.active, lam, np.nan)
        return lam

    # ---- one iteration ---------------------------------------------------------------------
    def step(self, net: Network, k: int, n_target: int, m_target: int) -> tuple[Network, dict]:
        cfg = self.config
        seed = derive_seed(cfg.seed, f"iteration{k}")
        gen = rng(cfg.seed, f"iteration{k}")
        info: dict = {}
        if cfg.method == "random":
            new = self._random_prune(net, n_target, m_target, gen)
        elif cfg.method == "ap":
            new = self._activity_prune(net, n_target, m_target, seed, info)
        else:
            new = self._lnp_step(net, n_target, m_target, seed, gen, info)
        return new, info

    def _random_prune(self, net, n_target, m_target, gen):
        active = np.flatnonzero(net.active)
        drop = gen.choice(active, size=max(len(active) - n_target, 0), replace=False)
        net = net.prune(neurons=drop)
        return _synapses_to(net, m_target, gen.random(len(net.w)))

    def _activity_prune(self, net, n_target, m_target, seed, info):
        rates = None
        if self.evaluate is not None:
            scored = self.evaluate(net, seed)
            rates = scored.get("rates")
            info["ranked_by"] = "task rates" if rates is not None else "noise-probe rates"
        if rates is None:
            t0 = time.perf_counter()
            rates = self.probe.run(net, seed=seed, covariance=False).rates
            self._time("noise_probe", t0)
            info.setdefault("ranked_by", "noise-probe rates (no task given)")
        rates = np.where(net.active, rates, np.inf)
        order = np.argsort(rates, kind="stable")  # lowest rate first
        drop = order[: max(net.n_active - n_target, 0)]
        net = net.prune(neurons=drop)
        return _synapses_to(net, m_target, np.abs(net.w))

    def _lnp_step(self, net, n_target, m_target, seed, gen, info):
        cfg, steps = self.config, self.config.steps
        # 5.1 noise probe and 5.2 exponents
        t0 = time.perf_counter()
        pr = self.probe.run(net, seed=seed, covariance=False)
        self._time("noise_probe", t0)
        t0 = time.perf_counter()
        live = net.live_synapses()
        importance = None
        if steps["lyapunov"] != "off":
            lam = self.exponents(net, pr, seed)
            self._time("exponents", t0)
            t0 = time.perf_counter()
            pattern = sp.csr_matrix((np.ones(live.sum()), (net.pre[live], net.post[live])), shape=(net.n, net.n))
            filled = np.where(np.isfinite(lam), lam, np.nanmax(lam[np.isfinite(lam)]) if np.isfinite(lam).any() else 0.0)
            importance = lyapunov_matrix(filled, pattern)
            if steps["lyapunov"] == "random":
                importance = random_counterpart(importance, gen)
            info["mean_exponent"] = float(np.nanmean(lam))
            self._time("lyapunov_matrix", t0)
        # 5.4 sparsification (to the target plus what neuron removal will take, minus the
        # re-growth budget; counts are corrected exactly after neuron pruning)
        t0 = time.perf_counter()
        frac_kept = n_target / max(net.n_active, 1)
        budget = int(round(cfg.regrow_budget * m_target)) if steps["delocalize"] != "off" else 0
        want = min(int(live.sum()), int(round((m_target - budget) / max(frac_kept ** 2, 1e-9))))
        W = sp.csr_matrix((net.w[live], (net.pre[live], net.post[live])), shape=(net.n, net.n))
        if steps["sparsify"] == "random":  # uniform sampling to the same count
            priority = gen.random(live.sum())
            keep_live = np.zeros(live.sum(), bool)
            keep_live[np.argsort(-priority)[:want]] = True
            new_w = net.w[live]
        elif steps["sparsify"] == "off":
            # no spectral sampling: keep the largest |w| (plain magnitude pruning, same count)
            priority = np.abs(net.w[live])
            keep_live = np.zeros(live.sum(), bool)
            keep_live[np.argsort(-priority, kind="stable")[:want]] = True
            new_w = net.w[live]
        else:
            sample = sparsify_synapses(W, want, importance=importance, reweight=cfg.reweight, seed=seed,
                                       method=cfg.resistances)
            if not (np.array_equal(sample.pre, net.pre[live]) and np.array_equal(sample.post, net.post[live])):
                raise RuntimeError("synapse order mismatch between the network and the sparsifier")
            # rank by the unclipped score a_ij R_ij L_ij (probabilities saturate at 1)
            priority = sample.symmetric_weight * sample.resistance * sample.importance
            keep_live = sample.keep
            new_w = sample.new_weight if cfg.reweight else net.w[live]
            info["rho"] = float(sample.rho)
        self._time("sparsify", t0)
        idx = np.flatnonzero(live)
        w = net.w.copy()
        w[idx] = new_w
        sparse_net = net.replace(w=w).prune(synapses=idx[~keep_live])
        prio = np.zeros(len(net.w))
        prio[idx] = priority
        # 5.5 neuron pruning
        t0 = time.perf_counter()
        to_drop = max(sparse_net.n_active - n_target, 0)
        if to_drop and steps["node_pruning"] != "off":
            if steps["node_pruning"] == "random":
                score = gen.random(net.n)
            else:
                pivots = cfg.pivots(sparse_net.n_active)
                score = betweenness_sparse(sparse_net.W, k=pivots, seed=seed)
                info["betweenness_pivots"] = 0 if pivots is None else pivots  # 0: exact
            score = np.where(sparse_net.active, score, np.inf)
            drop = np.argsort(score, kind="stable")[:to_drop]
            sparse_net = sparse_net.prune(neurons=drop)
        sparse_net = _drop_isolated(sparse_net)
        self._time("node_pruning", t0)
        # restore dropped synapses (by priority) or drop more, to the exact synapse target
        sparse_net = _synapses_to(sparse_net, m_target - budget, prio, weights=self._weights(net))
        # 5.6 delocalisation
        t0 = time.perf_counter()
        A = self.probe_matrix(sparse_net, pr)
        vals, vecs = leading_eigenvectors(A, cfg.ipr_vectors, sparse_net.active)
        mean_ipr = float(ipr(vecs).mean())
        info["ipr_before_regrowth"] = mean_ipr
        if budget > 0:
            sparse_net, mean_ipr, added = self._delocalize(sparse_net, pr, budget, mean_ipr, gen, self._weights(net))
            info["regrown"] = added
            # budget left over (delocalised already, or re-growth stopped helping): by priority
            sparse_net = _synapses_to(sparse_net, m_target, prio, weights=self._weights(net))
        self._time("delocalize", t0)
        # 5.7 timescale optimisation
        if steps["timescale"] != "off" and "tau_m" in sparse_net.params:
            t0 = time.perf_counter()
            sparse_net = self._optimise_timescales(sparse_net, seed, gen, info)
            self._time("timescale", t0)
        info["mean_ipr"] = mean_ipr
        return sparse_net

    def probe_matrix(self, net: Network, pr):
        """Effective connectivity A of ``net`` with the gains of the last probe."""
        from .lyapunov_spectrum import linear_rate_matrix

        return linear_rate_matrix(net.W, pr.gains * pr.kappa, pr.tau)

    def _weights(self, net: Network) -> np.ndarray:
        """Weights for re-grown synapses: the current ones where set, else the dense network's."""
        return np.where(net.w != 0, net.w, self.dense.w)

    def _delocalize(self, net, pr, budget, mean_ipr, gen, weights):
        """Re-grow dense-network synapses at the most localised neurons while it lowers the
        mean IPR of the leading eigenvectors (batches of budget / regrow_batches)."""
        cfg = self.config
        threshold = cfg.ipr_threshold / max(net.n_active, 1)
        added = 0
        batch = max(1, budget // max(cfg.regrow_batches, 1))
        while added < budget and mean_ipr > threshold:
            live = net.live_synapses()
            candidates = np.flatnonzero(~live & net.active[net.pre] & net.active[net.post])
            if not len(candidates):
                break
            n_add = min(batch, budget - added, len(candidates))
            if cfg.steps["delocalize"] == "random":
                choice = gen.choice(candidates, size=n_add, replace=False)
            else:
                choice = self._regrowth_candidates(net, pr, candidates, n_add)
            trial = _restore(net, choice, weights)
            A = self.probe_matrix(trial, pr)
            _, vecs = leading_eigenvectors(A, cfg.ipr_vectors, trial.active)
            new_ipr = float(ipr(vecs).mean())
            if new_ipr >= mean_ipr:
                break
            net, mean_ipr, added = trial, new_ipr, added + n_add
        return net, mean_ipr, added

    def _regrowth_candidates(self, net, pr, candidates, n_add):
        """Pruned dense synapses at the most localised neurons, partners within two hops,
        preferring partners whose degree differs most from the neuron's (degree heterogeneity)."""
        cfg = self.config
        W = net.W
        act = np.flatnonzero(net.active)
        _, vecs = leading_eigenvectors(self.probe_matrix(net, pr), cfg.ipr_vectors, net.active)
        weight = np.zeros(net.n)
        weight[act] = (np.abs(vecs) ** 2).max(axis=1)  # how much a neuron carries localised modes
        U = ((W != 0) + (W.T != 0)).astype(bool).astype(np.int8)
        two_hop = (U @ U + U).tocsr()
        two_hop.data[:] = 1
        degree = np.asarray(U.sum(axis=1)).ravel()
        pre, post = net.pre[candidates], net.post[candidates]
        near = np.asarray(two_hop[pre, post]).ravel() > 0
        hub = np.maximum(weight[pre], weight[post])
        hetero = np.abs(degree[pre] - degree[post])
        score = hub * (1.0 + hetero / max(degree.max(), 1)) * np.where(near, 1.0, 0.01)
        return candidates[np.argsort(-score, kind="stable")[:n_add]]

    def _optimise_timescales(self, net, seed, gen, info):
        """Optuna TPE over the gamma distribution (shape, mean) of the surviving neurons' τ_m;
        neurons keep their rank order. Objective: |λ_max| + mean |Δλ| of the first k exponents
        of the linearised spectrum against the dense network's. Every trial re-runs binaries."""
        import optuna
        from scipy import stats

        cfg = self.config
        active = np.flatnonzero(net.active)
        tau = net.params["tau_m"].copy()
        ranks = (stats.rankdata(tau[active]) - 0.5) / len(active)
        mean0 = float(tau[active].mean())
        k = min(cfg.spectrum_k, len(active) - 1)
        dense_spec = self.dense_spectrum(k)

        def taus(shape, mean):
            new = tau.copy()
            new[active] = stats.gamma(shape, scale=mean / shape).ppf(ranks)
            return np.clip(new, 1e-4, None)

        def objective(shape, mean, trial_seed):
            candidate = net.replace(params={**net.params, "tau_m": taus(shape, mean)})
            lam, _ = self.lambda_max(candidate, trial_seed)
            pr = self.probe.run(candidate, seed=trial_seed, covariance=False)
            spec = self.spectrum(pr.A, k, trial_seed, candidate.active)
            return abs(lam) + float(np.mean(np.abs(spec - dense_spec[: len(spec)]))), lam

        if cfg.steps["timescale"] == "random":
            shape, mean = float(gen.uniform(1.0, 20.0)), float(mean0 * gen.uniform(0.5, 2.0))
            info["timescale"] = {"shape": shape, "mean_s": mean, "mode": "random"}
            return net.replace(params={**net.params, "tau_m": taus(shape, mean)})
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed % (2**31)))
        current_cv = float(tau[active].std() / mean0)
        study.enqueue_trial({"shape": float(np.clip(1.0 / max(current_cv, 1e-3) ** 2, 1.0, 50.0)), "mean": mean0})
        lam_of = {}

        def run_trial(trial):
            shape = trial.suggest_float("shape", 1.0, 50.0, log=True)
            mean = trial.suggest_float("mean", 0.5 * mean0, 2.0 * mean0)
            value, lam = objective(shape, mean, seed)
            lam_of[trial.number] = lam
            return value

        study.optimize(run_trial, n_trials=cfg.trials)
        best = study.best_trial
        info["timescale"] = {"shape": best.params["shape"], "mean_s": best.params["mean"],
                             "objective": best.value, "trials": cfg.trials,
                             "lambda_max_best": lam_of.get(best.number)}
        self.log(f"    timescales: gamma shape {best.params['shape']:.2f}, mean {best.params['mean'] * 1e3:.2f} ms "
                 f"(objective {best.value:.3g})")
        return net.replace(params={**net.params, "tau_m": taus(best.params["shape"], best.params["mean"])})

    def dense_spectrum(self, k: int):
        if self._dense_spectrum is None or len(self._dense_spectrum) < k:
            pr = self.probe.run(self.dense, seed=derive_seed(self.config.seed, "dense"), covariance=False)
            self._dense_spectrum = self.spectrum(pr.A, k, self.config.seed, self.dense.active)
        return self._dense_spectrum

    def random_match(self, net: Network) -> Network:
        """The dense network randomly pruned, in one step, to ``net``'s neuron and synapse counts."""
        gen = rng(self.config.seed, "random-match")
        return self._random_prune(self.dense, net.n_active, net.n_synapses, gen)

    def compare(self, final: Network, k: int | None = None) -> dict:
        """Lyapunov spectra (first k exponents of the linearised model) and eigenvalues of the
        effective connectivity of the dense, the final and a randomly pruned network with the
        final counts — all on the compiled build."""
        k = k or self.config.spectrum_k
        out = {"spectra": {}, "eigenvalues": {}, "lambda_max": {}}
        seed = derive_seed(self.config.seed, "compare")
        for label, net in (("dense", self.dense), ("pruned", final), ("random, equal counts", self.random_match(final))):
            pr = self.probe.run(net, seed=seed, covariance=False)
            A = self.probe_matrix(net, pr)
            out["spectra"][label] = self.spectrum(A, k, seed, net.active)
            idx = np.flatnonzero(net.active)
            sub = A[idx][:, idx]
            out["eigenvalues"][label] = (np.linalg.eigvals(sub.toarray()) if len(idx) <= 3000
                                         else leading_eigenvectors(A, 200, net.active)[0])
            out["lambda_max"][label] = self.lambda_max(net, seed)
        return out

    # ---- the loop ---------------------------------------------------------------------------
    def measure(self, net: Network, k: int) -> dict:
        """Numbers recorded for iteration k: counts, λ_max, mean IPR, task score."""
        seed = derive_seed(self.config.seed, f"measure{k}")
        t0 = time.perf_counter()
        lam, se = self.lambda_max(net, seed)
        self._time("lambda_max", t0)
        row = {"iteration": k, "neurons": net.n_active, "synapses": net.n_synapses,
               "lambda_max": lam, "lambda_max_stderr": se}
        t0 = time.perf_counter()
        pr = self.probe.run(net, seed=seed, covariance=False)
        _, vecs = leading_eigenvectors(self.probe_matrix(net, pr), self.config.ipr_vectors, net.active)
        row["mean_ipr"] = float(ipr(vecs).mean())
        row["mean_rate_hz"] = float(pr.rates[net.active].mean())
        self._time("measure", t0)
        if self.evaluate is not None:
            t0 = time.perf_counter()
            scored = self.evaluate(net, seed)
            row.update({key: float(v) for key, v in scored.items() if np.isscalar(v)})
            self._time("task", t0)
        return row

    def run(self, network: Network | None = None, *, checkpoint_dir=None, resume: bool = False) -> PruneResult:
        """Iterate to the targets. With ``checkpoint_dir`` every iteration is saved
        (``iter_KKK/network.npz``, ``info.json``, ``manifest.json`` with the SHA-256 of each file,
        then ``row.json``); ``resume`` continues from the last complete iteration there and gives
        the same result as an uninterrupted run. Every checkpoint it loads is first checked against
        its manifest (:func:`verify_checkpoint`): a changed or truncated file raises
        :class:`CheckpointError` instead of being used."""
        cfg = self.config
        net = network if network is not None else self.dense
        n_sched, m_sched = schedule(net.n_active, net.n_synapses, cfg)
        ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
        rows, networks = [], []
        start = 0
        if ckpt is not None and resume:
            done = _completed(ckpt)
            for k in done:
                d = ckpt / f"iter_{k:03d}"
                verify_checkpoint(d)  # a changed or truncated file is refused, never loaded
                rows.append(read_json(d / "row.json"))
                networks.append(Network.load(d / "network.npz"))
            if done:
                net, start = networks[-1], done[-1] + 1
                self.log(f"resuming after iteration {done[-1]}")
        if start == 0:
            self.log(f"iteration 0 (dense): {net.summary()}")
            row = self.measure(net, 0)
            rows.append(row)
            networks.append(net)
            self._checkpoint(ckpt, 0, net, row)
            self.log(f"  lambda_max {row['lambda_max']:.3g} 1/s, mean IPR {row['mean_ipr']:.3g}")
            start = 1
        for k in range(start, cfg.iterations + 1):
            t0 = time.perf_counter()
            self.log(f"iteration {k}/{cfg.iterations}: targets {n_sched[k - 1]} neurons, {m_sched[k - 1]} synapses")
            net, info = self.step(net, k, int(n_sched[k - 1]), int(m_sched[k - 1]))
            row = self.measure(net, k)
            row.update({key: v for key, v in info.items() if np.isscalar(v)})
            row["wall_seconds"] = time.perf_counter() - t0
            rows.append(row)
            networks.append(net)
            self._checkpoint(ckpt, k, net, row, extra=info)
            self.log(f"  {net.n_active} neurons, {net.n_synapses} synapses, lambda_max {row['lambda_max']:.3g} 1/s, "
                     f"mean IPR {row['mean_ipr']:.3g} ({row['wall_seconds']:.1f} s)")
        return PruneResult(rows=rows, network=net, networks=networks, config=cfg, compilations=self.compilations,
                           info={"timings": dict(self.timings)})

    def _checkpoint(self, ckpt, k, net, row, extra=None):
        if ckpt is None:
            return
        d = ckpt / f"iter_{k:03d}"
        net.save(d / "network.npz")
        files = ["network.npz"]
        if extra:
            write_json(d / "info.json", json.loads(json.dumps(extra, default=json_default)))
            files.append("info.json")
        row_bytes = json_text(row).encode("utf-8")  # hashed, then written as write_json would
        digests = {name: _sha256(d / name) for name in files}
        digests["row.json"] = hashlib.sha256(row_bytes).hexdigest()
        write_json(d / CHECKPOINT_MANIFEST, {"format": "lnp-brian checkpoint 1", "iteration": k,
                                             "algorithm": "sha256", "files": digests})
        atomic_write(d / "row.json", lambda fh: fh.write(row_bytes))  # written last: marks the iteration complete


class CheckpointError(ValueError):
    """A checkpoint that does not match the checksums written with it (``path``: the file)."""

    def __init__(self, path, message: str):
        self.path = Path(path)
        super().__init__(message)


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_checkpoint(folder) -> dict:
    """Check every file of one checkpoint folder (``iter_KKK``) against the SHA-256 sums in
    its ``manifest.json``; returns the manifest. Raises :class:`CheckpointError` (a
    ValueError naming the file) for a missing or unreadable manifest, a missing file, or a
    file whose contents changed or were truncated after it was written."""
    d = Path(folder)
    man = d / CHECKPOINT_MANIFEST
    advice = f"delete {d} (that iteration and the later ones are recomputed) or run with --overwrite"
    if not man.is_file():
        raise CheckpointError(man, f"checkpoint {d} has no checksum manifest ({CHECKPOINT_MANIFEST}): it was "
                                   f"written by an older version or altered; {advice}")
    try:
        manifest = read_json(man)
        files = manifest["files"]
        if manifest.get("algorithm") != "sha256" or not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise ValueError("not a sha256 manifest")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(man, f"checkpoint manifest {man} cannot be read ({exc}); {advice}") from None
    for required in ("network.npz", "row.json"):
        if required not in files:
            raise CheckpointError(man, f"checkpoint manifest {man} lists no checksum for {required}; {advice}")
    for name, digest in files.items():
        if Path(name).name != name or name.startswith("."):
            raise CheckpointError(man, f"checkpoint manifest {man} names a file outside its folder ({name!r}); {advice}")
        f = d / name
        if not f.is_file():
            raise CheckpointError(f, f"checkpoint {f} is missing (listed in {man}); {advice}")
        if _sha256(f) != digest.lower():
            raise CheckpointError(f, f"checkpoint {f} does not match its checksum (sha256 in {man}): it was changed "
                                     f"or truncated after it was written; {advice}")
    return manifest


def _completed(ckpt: Path) -> list[int]:
    """Iterations whose checkpoint is complete (row.json written last), consecutive from 0."""
    done = []
    k = 0
    while (ckpt / f"iter_{k:03d}" / "row.json").exists() and (ckpt / f"iter_{k:03d}" / "network.npz").exists():
        done.append(k)
        k += 1
    return done


def _drop_isolated(net: Network) -> Network:
    """Deactivate active neurons left without any live synapse."""
    live = net.live_synapses()
    deg = np.bincount(net.pre[live], minlength=net.n) + np.bincount(net.post[live], minlength=net.n)
    isolated = np.flatnonzero(net.active & (deg == 0))
    return net.prune(neurons=isolated) if len(isolated) else net


def _restore(net: Network, idx, weights) -> Network:
    """Re-grow synapses ``idx`` with the given weights (per synapse of the network)."""
    mask, w = net.syn_mask.copy(), net.w.copy()
    mask[idx] = True
    w[idx] = weights[idx]
    return net.replace(syn_mask=mask, w=w)


def _synapses_to(net: Network, target: int, priority, weights=None) -> Network:
    """Exactly ``target`` live synapses: drop the lowest-priority live ones, or re-grow the
    highest-priority pruned ones between active neurons (with ``weights``)."""
    live = net.live_synapses()
    count = int(live.sum())
    priority = np.asarray(priority, float)
    if count > target:
        idx = np.flatnonzero(live)
        drop = idx[np.argsort(priority[idx], kind="stable")[: count - target]]
        return net.prune(synapses=drop)
    if count < target and weights is not None:
        free = np.flatnonzero(~live & net.active[net.pre] & net.active[net.post])
        add = free[np.argsort(-priority[free], kind="stable")[: target - count]]
        return _restore(net, add, weights)
    return net
