"""Lyapunov Noise Pruning (LNP) and its baselines, as this project reconstructs the method.

The source is Chakraborty, Kang, Kumar & Mukhopadhyay, *Sparse Spiking Neural Network:
Exploiting Heterogeneity in Timescales for Pruning Recurrent SNN* (ICLR 2024). Its full text
(equations, Algorithms 1-4) was not available to this project: the steps below are the
reconstruction documented in ``docs/method.md``, and every step can be switched on, off, or
replaced by its random counterpart so that it can be ablated. Do not read the numbers produced
here as a reproduction of the paper's.

One LNP iteration maps a Network to a Network (never touching Brian2 objects):

1. operating point: rates under the background noise and *open-loop* gains by replay
   (:mod:`lnp_brian.lyapunov.gains`); linear model A = D (diag(g κ) Wᵀ − I), effective connectivity
   M = D diag(g κ) Wᵀ;
2. per-neuron Lyapunov exponents λ_i of the linear model (or of spiking copies);
3. Lyapunov matrix: per synapse, the harmonic mean of the stability scores of its two neurons;
4. spectral sampling of synapses on the effective coupling ``a_ij = |M_ji| + |M_ij|`` with
   probability ∝ a_ij R_ij L_ij, without replacement to the exact count, kept synapses
   reweighted by 1/p (clipped to the model's pathway maximum);
5. neuron pruning: lowest betweenness on pathway-normalised lengths, E:I kept, ties random;
6. delocalisation: re-grow dense synapses where M's leading eigenvectors are localised, until
   their mean IPR is back near the dense network's;
7. timescale optimisation: a model-based search (Optuna TPE) over the gamma distribution of the
   surviving neurons' τ_m, rank order kept, inside the model's bounds, minimising the distance
   of the linear spectrum from the dense network's.

Targets follow a geometric schedule to the final fractions (default 57 % of neurons and 50 %
of synapses removed). Every simulation is a re-run of two builds compiled once for the dense
network's topology: pruned synapses have weight 0 and mask 0, pruned neurons ``active = False``.

Baselines with the same count schedule: activity-based pruning (AP: lowest-rate neurons,
smallest-``|w|`` synapses; rates from a task's training inputs when a task is given, else from the
operating point) and random pruning.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import brian2 as b2
import numpy as np
import scipy.sparse as sp

from ..core.files import atomic_write, json_default, json_text, read_json, write_json
from ..core.seeding import derive_seed, rng
from ..graph.centrality import hop_count_agreement, neuron_removal, pruning_scores
from ..graph.sparsify import (expected_count_rho, input_change, jaccard, magnitude_keep, sample_without_replacement,
                              sparsify_synapses)
from ..lyapunov.finite_size import TwoTrajectory, default_scales, estimate_exponent, per_neuron_exponents
from ..lyapunov.gains import ReplayGains, record_settings, recorded_input
from ..lyapunov.probe import NoiseProbe
from ..lyapunov.spectrum import (effective_connectivity, eigenvalue_distance, linear_rate_matrix, lyapunov_matrix,
                                 per_neuron_exponents_linear, qr_spectrum_linear)
from ..model.spec import PATHWAYS
from ..network.network import Network
from .config import EXACT_BETWEENNESS_MAX, PROBE_TRANSIENT, PROBE_TRANSIENT_S, PruneConfig, config_seconds
from .timescales import (leading_real_parts, optimise_timescales, parameter_bounds, random_timescales,
                         spectral_distance, timescale_objective)

__all__ = ["Pruner", "PruneResult", "OperatingPoint", "ipr", "leading_eigenvectors", "schedule", "random_counterpart",
           "CheckpointError", "verify_checkpoint"]

QR_SPECTRUM_MAX = 2000  # above: the linear model's spectrum from ARPACK eigenvalues
#: sampling step of the recorded synaptic input that the gain replay plays back
REPLAY_RECORD_DT = "0.5 ms"
#: above this many active neurons, eigenvalues come from ARPACK (the largest 200) instead of LAPACK
EIG_DENSE_MAX = 3000
CHECKPOINT_MANIFEST = "manifest.json"


def schedule(n0: int, m0: int, config: PruneConfig):
    """Neuron and synapse counts after each iteration k = 1..K (geometric schedule).

    Iteration k keeps ``round(n0 * (1 - target_neurons) ** (k / K))`` neurons, and likewise
    synapses, so every iteration removes the same share and iteration K meets the targets.

    Parameters
    ----------
    n0 : int
        Active neurons of the dense network.
    m0 : int
        Live synapses of the dense network.
    config : PruneConfig
        Its ``iterations`` (K), ``target_neurons`` and ``target_synapses`` are used.

    Returns
    -------
    neurons : int array (K,)
        Target active neurons after iterations 1..K.
    synapses : int array (K,)
        Target live synapses after iterations 1..K.

    Examples
    --------
    >>> from lnp_brian.pruning.config import PruneConfig
    >>> neurons, synapses = schedule(1000, 100_000, PruneConfig(iterations=3))
    >>> neurons.tolist(), synapses.tolist()
    ([755, 570, 430], [79370, 62996, 50000])
    """
    k = np.arange(1, config.iterations + 1) / config.iterations
    neurons = np.round(n0 * (1 - config.target_neurons) ** k).astype(int)
    synapses = np.round(m0 * (1 - config.target_synapses) ** k).astype(int)
    return neurons, synapses


def ipr(vectors) -> np.ndarray:
    """Inverse participation ratio ``Σ|u_i|⁴ / (Σ|u_i|²)²`` of each column.

    It measures localisation: 1/N for a vector spread evenly over N entries, 1 for a vector on
    one entry. The normalisation of the vectors does not matter.

    Parameters
    ----------
    vectors : array (N,) or (N, k), real or complex
        One vector, or vectors as columns (e.g. eigenvectors).

    Returns
    -------
    float or float array (k,)
        The IPR of each column.

    Examples
    --------
    >>> import numpy as np
    >>> ipr(np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]))
    array([0.25, 1.  ])
    """
    p = np.abs(np.asarray(vectors)) ** 2
    return (p ** 2).sum(axis=0) / p.sum(axis=0) ** 2


def leading_eigenvectors(A, k: int, active=None, by: str = "real"):
    """The ``k`` leading eigenpairs of ``A`` restricted to the active neurons.

    Dense LAPACK up to 600 active neurons, ARPACK (``eigs``) above.

    Parameters
    ----------
    A : array or scipy sparse (N, N)
        Square matrix, e.g. the linear model A or the effective connectivity M (1/s).
    k : int
        Eigenpairs wanted; capped at ``max(n_active - 2, 1)``.
    active : bool array (N,), optional
        Neurons to restrict ``A`` to (default: all).
    by : {"real", "modulus"}
        Order by largest real part (``"real"``) or largest modulus (``"modulus"``, for the
        effective connectivity M).

    Returns
    -------
    eigenvalues : complex array (k,)
        Leading first.
    vectors : complex array (n_active, k)
        The matching eigenvectors as columns, over the active neurons only.

    Examples
    --------
    >>> import numpy as np
    >>> vals, vecs = leading_eigenvectors(np.diag([-1.0, -3.0, -2.0, -0.5]), 2)
    >>> vals.real, vecs.shape
    (array([-0.5, -1. ]), (4, 2))
    """
    A = sp.csr_matrix(A)
    idx = np.arange(A.shape[0]) if active is None else np.flatnonzero(active)
    sub = A[idx][:, idx]
    n = sub.shape[0]
    k = min(k, max(n - 2, 1))
    key = (lambda v: -v.real) if by == "real" else (lambda v: -np.abs(v))
    if n <= 600:
        vals, vecs = np.linalg.eig(sub.toarray())
        order = np.argsort(key(vals), kind="stable")[:k]
        return vals[order], vecs[:, order]
    from scipy.sparse.linalg import eigs

    vals, vecs = eigs(sub, k=k, which="LR" if by == "real" else "LM", tol=1e-6, maxiter=20 * n)
    order = np.argsort(key(vals), kind="stable")
    return vals[order], vecs[:, order]


def random_counterpart(values, gen: np.random.Generator) -> np.ndarray:
    """The same values in random order (keeps their distribution, destroys their structure).

    The "random" mode of a step uses it, e.g. shuffled Lyapunov importances.

    Parameters
    ----------
    values : array_like
        Values to shuffle (along the first axis).
    gen : numpy.random.Generator
        Source of the permutation.

    Returns
    -------
    numpy.ndarray
        A shuffled copy.

    Examples
    --------
    >>> import numpy as np
    >>> shuffled = random_counterpart([0.1, 0.2, 0.3, 0.4], np.random.default_rng(0))
    >>> sorted(shuffled.tolist())
    [0.1, 0.2, 0.3, 0.4]
    """
    return gen.permutation(np.asarray(values))


@dataclass
class PruneResult:
    """Trajectory of a pruning run: one row per iteration (0 = the dense network).

    Parameters
    ----------
    rows : list of dict
        The measurements of each iteration (:meth:`Pruner.measure`, plus the step's scalar
        diagnostics and ``wall_seconds`` after iteration 0).
    network : Network
        The final network (pruned synapses masked, pruned neurons inactive).
    networks : list of Network
        The network after every iteration, the dense one first.
    config : PruneConfig
        The settings of the run.
    compilations : int
        Compilations of the pruner's builds (and its task evaluator's) during the run.
    info : dict
        Extra information; ``info["timings"]`` is the wall time in s of each stage.
    """

    rows: list
    network: Network
    networks: list
    config: PruneConfig
    compilations: int
    info: dict = field(default_factory=dict)

    def column(self, key):
        """One measurement over the iterations.

        Parameters
        ----------
        key : str
            A row key, e.g. ``"lambda_max"`` or ``"neurons"``.

        Returns
        -------
        float array (K + 1,)
            The value of every row, NaN where a row lacks it.
        """
        return np.array([r.get(key, np.nan) for r in self.rows], dtype=float)


@dataclass
class OperatingPoint:
    """Where a network sits under its background noise, and its linearisation there.

    Parameters
    ----------
    rates : float array (N,)
        Firing rates (Hz) of the coupled network after the probe's transient.
    gains : float array (N,)
        Open-loop gains dr/dI (Hz per unit of the model's input, e.g. Hz/A): each neuron's own
        transfer slope at its operating point (:mod:`lnp_brian.lyapunov.gains`), or the closed-loop
        estimate with ``PruneConfig.gains = "closed-loop"``.
    kappa : float array (N,)
        Charge per spike per unit weight (s): ``tau_syn`` of the postsynaptic neuron.
    tau : float array (N,)
        Membrane time constants (s).
    synaptic_input : float array (T, N) or None
        The recorded recurrent input current of every neuron (what the replay replays).
    seed : int
        Noise seed of the probe.
    active : bool array (N,)
        The network's active neurons when it was measured.
    """

    rates: np.ndarray
    gains: np.ndarray
    kappa: np.ndarray
    tau: np.ndarray
    synaptic_input: np.ndarray | None
    seed: int
    active: np.ndarray

    @property
    def zero_gain_fraction(self) -> float:
        """Fraction of active neurons with gain exactly 0 (no linear response at all)."""
        g = self.gains[self.active]
        return float(np.mean(g == 0)) if len(g) else 0.0

    def A(self, W) -> sp.csr_matrix:
        """Linear rate model ``A = D (diag(g kappa) W^T - I)`` (1/s) of weights ``W``.

        ``D = diag(1/tau)``; see :func:`lnp_brian.lyapunov.spectrum.linear_rate_matrix`.

        Parameters
        ----------
        W : scipy sparse (N, N)
            Signed weights, rows presynaptic (:attr:`lnp_brian.network.network.Network.W`).

        Returns
        -------
        scipy.sparse.csr_matrix (N, N)
            A in 1/s.
        """
        return linear_rate_matrix(W, self.gains * self.kappa, self.tau)

    def M(self, W) -> sp.csr_matrix:
        """Effective connectivity ``M = D diag(g kappa) W^T`` (1/s): A without the leak.

        Parameters
        ----------
        W : scipy sparse (N, N)
            Signed weights, rows presynaptic.

        Returns
        -------
        scipy.sparse.csr_matrix (N, N)
            M in 1/s (:func:`lnp_brian.lyapunov.spectrum.effective_connectivity`).
        """
        return effective_connectivity(W, self.gains * self.kappa, self.tau)

    def coupling(self, net: Network) -> np.ndarray:
        """``|M|`` per synapse of ``net`` (1/s): the effect of synapse i->j on neuron j.

        Each postsynaptic neuron's ``g kappa / tau`` is floored at 1e-3 of the median positive
        value over the active neurons, so that synapses onto silent (zero-gain) neurons can be
        ranked too.

        Parameters
        ----------
        net : Network
            The network whose synapses are scored (its ``w``, ``post``).

        Returns
        -------
        float array (m,)
            One value per synapse of ``net`` (masked ones included), in 1/s.
        """
        g = self.gains * self.kappa / self.tau
        pos = g[self.active & (g > 0)]
        floor = 1e-3 * float(np.median(pos)) if len(pos) else 1.0
        return np.abs(net.w) * np.maximum(g, floor)[net.post]


class Pruner:
    """LNP and its baselines for one dense network, on two compiled builds.

    Parameters
    ----------
    dense : Network
        The network to prune (its topology is what every build is compiled for).
    config : PruneConfig, optional
        Settings of the run (default ``PruneConfig()``).
    inputs : optional
        Background noise of the probes and λ_max runs (default: the model's).
    evaluate : callable, optional
        ``evaluate(network, seed) -> dict`` scoring a network on a task (e.g.
        ``lnp_brian.tasks.runners`` runners); its numbers go into the trajectory, and AP ranks neurons
        by ``result["rates"]`` (per-neuron Hz on the task's training inputs) when present.
    build_root : path, optional
        Where the standalone builds go (one sub-directory each); re-used if compatible.
    log : callable, optional
        Called with progress messages.
    dt : str or brian2.Quantity, optional
        Integration step of every build (default: the model file's, else 0.1 ms).

    Notes
    -----
    Builds: the *loop* build (reference + perturbed copies, recording spikes and the
    synaptic input of every neuron) gives λ_max and the operating point in one run; the
    *replay* build (the same neurons, uncoupled, three copies) gives the open-loop gains and
    every timescale trial. ``exponents = "spiking"`` adds a third build.
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
            from ..brian.inputs import default_input

            inputs = default_input(dense.model)
        replay = cfg.gains == "replay"
        record = record_settings(dense.model, REPLAY_RECORD_DT) if replay else {}
        # one build for λ_max and the operating point: copy 0 of every λ_max run is the
        # unperturbed network, recorded (spikes and synaptic input)
        self.lyap = TwoTrajectory(dense, cfg.device, perturbed=cfg.lyapunov_copies, duration=cfg.duration,
                                  interval=cfg.interval, inputs=inputs, dt=dt,
                                  build_dir=bdir("loop" if replay else "loop-closed-loop"),
                                  reuse=root is not None, record_spikes=True, **record)
        self.probe = NoiseProbe(dense, cfg.device, noise=inputs, engine=self.lyap, transient=PROBE_TRANSIENT)
        self.noise = self.probe.noise
        self.replay = None
        if replay:
            self.replay = ReplayGains(dense, cfg.device, duration=cfg.duration, record_dt=REPLAY_RECORD_DT,
                                      noise=self.noise, transient=PROBE_TRANSIENT, dt=dt, build_dir=bdir("replay"),
                                      reuse=root is not None)
        self._per_neuron = None
        if cfg.exponents == "spiking":
            window = config_seconds("exponent_window", cfg.exponent_window)
            step = config_seconds("interval", cfg.interval)
            scales = default_scales(dense.model)
            var = "v" if "v" in scales else next(iter(scales))
            self._per_neuron = TwoTrajectory(
                dense, cfg.device, perturbed=min(dense.n, 128), duration=(0.1 + window + step) * b2.second,
                interval=cfg.interval, inputs=self.noise, dt=dt, trace_tau=None, scales={var: scales[var]},
                build_dir=bdir("per_neuron"), reuse=root is not None)
        self.timings: dict = {}
        self._ops: dict = {}
        self._last_run = (None, None)  # (network key, seed), SimResult of the last λ_max run
        self._reference = None
        self._wmax = _pathway_maxima(dense)

    @property
    def compilations(self) -> int:
        """Compilations so far of the loop, replay and spiking-exponent builds and the evaluator."""
        sims = [self.lyap.sim] + ([self.replay.sim] if self.replay else []) + \
            ([self._per_neuron.sim] if self._per_neuron else [])
        extra = getattr(self.evaluate, "compilations", 0) or 0
        return sum(s.compilations for s in sims) + int(extra)

    @contextmanager
    def _timed(self, key):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - t0

    # ---- measurements ----------------------------------------------------------------------
    def lambda_max(self, net: Network, seed: int, tau=None):
        """Finite-size λ_max (1/s) at ``config.perturbation`` and its standard error, on the loop build.

        The run's unperturbed copy is kept as the probe of ``net``'s operating point (unless
        ``tau`` is given).

        Parameters
        ----------
        net : Network
            The network to measure (same topology as the dense one).
        seed : int
            Seed of the noise and of the kicks.
        tau : float array (N,), optional
            Membrane time constants ``tau_m`` in s for this run only (a timescale trial).

        Returns
        -------
        mean : float
            λ_max in 1/s, averaged after the probe transient (or after half the run if
            that is shorter).
        stderr : float
            Its standard error in 1/s.
        """
        gen = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
        kicks = self.lyap.random_kicks(self.config.perturbation, gen)
        overrides = {} if tau is None else {"params": {"tau_m": tau}}
        times, logd, _, _ = self.lyap.run(kicks, t_kick=0.0, network=net, seed=seed, **overrides)
        # copy 0 of this run is the unperturbed network: a probe of its operating point
        self._last_run = ((net.content_key(), int(seed)) if tau is None else None, self.lyap.last_result)
        start = min(PROBE_TRANSIENT_S, 0.5 * self.lyap.duration)
        mean, se, _, _ = estimate_exponent(times, logd, self.lyap.interval, start)
        return mean, se

    def operating_point(self, net: Network, seed: int) -> OperatingPoint:
        """Rates, open-loop gains and recorded input of ``net`` under its noise.

        One run of the loop build (a λ_max run, whose copy 0 is unperturbed) and one replay;
        with ``gains = "closed-loop"`` one noise-probe run instead. The latest result is
        cached per (network content, seed).

        Parameters
        ----------
        net : Network
            The network to measure.
        seed : int
            Noise seed of the probe.

        Returns
        -------
        OperatingPoint
            Rates, gains, kappa, tau and the recorded input of ``net``.
        """
        key = (net.content_key(), int(seed))
        if key in self._ops:
            return self._ops[key]
        if self.replay is None:  # closed loop: extra current into every neuron of the coupled network
            pr = self.probe.run(net, seed=seed, covariance=False)
            op = OperatingPoint(pr.rates, pr.gains, pr.kappa, pr.tau, None, int(seed), net.active.copy())
        else:
            if self._last_run[0] != key:
                self.lambda_max(net, seed)
            res = self._last_run[1]
            syn, _ = recorded_input(res, net.model, copy=0)
            gr = self.replay.run(net, syn, seed=seed)
            tau = np.asarray(net.params["tau_m"], float) if "tau_m" in net.params else \
                np.full(net.n, float(net.model.neuron.constants["tau_m"]))
            op = OperatingPoint(res.rates(0, t_start=PROBE_TRANSIENT_S), gr.gains, self.probe.kappa(net), tau,
                                syn, int(seed), net.active.copy())
        self._ops = {key: op}  # the latest only: the next iteration starts from it
        return op

    def spectrum(self, A, k: int, seed: int, active=None):
        """First k Lyapunov exponents (1/s) of the linearised model restricted to the active neurons.

        QR method (4x the default time for close exponents to separate) up to
        ``QR_SPECTRUM_MAX`` (2,000) neurons; above, the k largest real parts of the
        eigenvalues of A from ARPACK, which for the linear model dx/dt = A x are its Lyapunov
        exponents (the QR method converges to them, see tests/test_lyapunov_spectrum.py) at
        a fraction of the cost (QR at 10,000 neurons took minutes per trial).

        Parameters
        ----------
        A : scipy sparse (N, N)
            Linear rate model in 1/s (:meth:`OperatingPoint.A`).
        k : int
            Exponents wanted (capped at the number of neurons).
        seed : int
            Seed of the QR method's initial vectors or ARPACK's start vector.
        active : bool array (N,), optional
            Neurons to restrict ``A`` to (default: all).

        Returns
        -------
        float array (k,)
            The exponents in 1/s, largest first.
        """
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

    def exponents(self, net: Network, op: OperatingPoint, seed: int) -> np.ndarray:
        """Per-neuron exponents (1/s): from the linear model A, or from spiking copies.

        ``config.exponents`` chooses the source and ``config.exponent_window`` the finite
        time window. With ``config.exponent_neurons`` only an evenly spaced subset is
        measured and the others are predicted by least squares (linear: from ``A_ii`` and
        the column norm of A; spiking: from the linear exponents). Spiking perturbations
        that were erased get the smallest exponent seen (the most stable).

        Parameters
        ----------
        net : Network
            The network (its active neurons and weights).
        op : OperatingPoint
            Its operating point, which gives A.
        seed : int
            Seed of the spiking copies (unused for linear exponents).

        Returns
        -------
        float array (N,)
            One exponent per neuron in 1/s, NaN for inactive neurons.
        """
        window = config_seconds("window", self.config.exponent_window)
        limit = self.config.exponent_neurons
        active = np.flatnonzero(net.active)
        A = op.A(net.W)
        # the neurons measured: all active ones, or an evenly spaced subset of ``limit``
        subset = active if limit is None or len(active) <= limit else \
            active[np.unique(np.linspace(0, len(active) - 1, limit).round().astype(int))]
        if self._per_neuron is None and len(subset) == len(active):
            lam = per_neuron_exponents_linear(A, window)
        elif self._per_neuron is None:
            # linear exponents of an evenly spaced subset; the others predicted by least
            # squares from two cheap features of each neuron: its self-decay A_ii and the
            # norm of its column of A (how strongly a kick spreads in one step)
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
                lin = per_neuron_exponents_linear(A, window)
                x, y = lin[subset], lam[subset]
                slope, icept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(np.mean(y)))
                rest = np.setdiff1d(active, subset)
                lam[rest] = icept + slope * lin[rest]
        return np.where(net.active, lam, np.nan)

    def linear_summary(self, net: Network, op: OperatingPoint) -> dict:
        """The linear model's numbers of ``net`` at ``op``, over its active neurons.

        Parameters
        ----------
        net : Network
            The network.
        op : OperatingPoint
            Its operating point.

        Returns
        -------
        dict
            ``"spectrum"``: the ``config.spectrum_k`` largest Re eig(A), its Lyapunov
            spectrum (1/s, largest first); ``"max_re_eig_A"``: the first of them;
            ``"eig_M"``: eigenvalues of M (1/s; all, or the 200 of largest modulus above 3,000
            neurons); ``"mean_ipr"``: mean IPR of M's ``config.ipr_vectors`` leading
            eigenvectors.
        """
        idx = np.flatnonzero(net.active)
        W = net.W
        A = op.A(W)[idx][:, idx]
        M = op.M(W)[idx][:, idx]
        # the same routine as the timescale objective's, so both compare like with like
        spectrum = leading_real_parts(A, self.config.spectrum_k)
        _, vecs = leading_eigenvectors(M, self.config.ipr_vectors, by="modulus")
        return {"spectrum": spectrum, "max_re_eig_A": float(spectrum[0]), "eig_M": _eigenvalues(M),
                "mean_ipr": float(ipr(vecs).mean())}

    def reference(self) -> dict:
        """The dense network's linear summary (at the iteration-0 measurement seed).

        Computed once and cached; the distances of every iteration are measured from it.

        Returns
        -------
        dict
            As :meth:`linear_summary` of the dense network.
        """
        if self._reference is None:
            seed = derive_seed(self.config.seed, "measure0")
            self._reference = self.linear_summary(self.dense, self.operating_point(self.dense, seed))
        return self._reference

    def measure(self, net: Network, k: int) -> dict:
        """Numbers recorded for iteration k.

        Counts, finite-size λ_max with its d0, the linear model's stability and its distance
        from the dense network's, IPR of M, gains, rates and the task score. The noise seed
        is derived from ``config.seed`` and ``k``.

        Parameters
        ----------
        net : Network
            The network after iteration ``k``.
        k : int
            Iteration (0: the dense network).

        Returns
        -------
        dict
            One trajectory row: ``iteration``, ``neurons``, ``synapses``, ``exc_neurons``,
            ``inh_neurons``, ``lambda_max`` and ``lambda_max_stderr`` (1/s),
            ``lambda_max_d0``, ``mean_ipr``, ``max_re_eig_A`` (1/s), ``spectral_distance``
            (1/s), ``eig_distance_M``, ``zero_gain_fraction``, ``mean_rate_hz`` (Hz) and the
            scalar results of ``evaluate`` when one is given.
        """
        seed = derive_seed(self.config.seed, f"measure{k}")
        with self._timed("lambda_max"):
            lam, se = self.lambda_max(net, seed)
        row = {"iteration": k, "neurons": net.n_active, "synapses": net.n_synapses,
               "exc_neurons": int((net.active & net.exc).sum()), "inh_neurons": int((net.active & ~net.exc).sum()),
               "lambda_max": lam, "lambda_max_stderr": se, "lambda_max_d0": float(self.config.perturbation)}
        with self._timed("operating_point"):
            op = self.operating_point(net, seed)
        with self._timed("measure"):
            lin = self.linear_summary(net, op)
            ref = lin if k == 0 and net is self.dense else self.reference()
            if self._reference is None and net is self.dense:
                self._reference = lin
            row.update({"mean_ipr": lin["mean_ipr"], "max_re_eig_A": lin["max_re_eig_A"],
                        "spectral_distance": spectral_distance(lin["spectrum"], ref["spectrum"]),
                        "eig_distance_M": eigenvalue_distance(lin["eig_M"], ref["eig_M"]),
                        "zero_gain_fraction": op.zero_gain_fraction,
                        "mean_rate_hz": float(op.rates[net.active].mean())})
        if self.evaluate is not None:
            with self._timed("task"):
                scored = self.evaluate(net, seed)
            row.update({key: float(v) for key, v in scored.items() if np.isscalar(v)})
        return row

    # ---- one iteration ---------------------------------------------------------------------
    def step(self, net: Network, k: int, n_target: int, m_target: int) -> tuple[Network, dict]:
        """One pruning iteration of ``config.method`` (LNP, AP or random).

        Parameters
        ----------
        net : Network
            The network after iteration ``k - 1``.
        k : int
            Iteration, from 1 (it seeds the random choices).
        n_target : int
            Active neurons to keep; LNP can end below it when removal isolates neurons
            (``info["neuron_overshoot"]``).
        m_target : int
            Live synapses to keep.

        Returns
        -------
        network : Network
            The pruned network.
        info : dict
            What each step did (diagnostics such as ``rho``, ``ipr_M_pruned``,
            ``regrown``; empty for random pruning).
        """
        cfg = self.config
        seed = derive_seed(cfg.seed, f"iteration{k}")
        gen = rng(cfg.seed, f"iteration{k}")
        info: dict = {}
        if cfg.method == "random":
            new = self._random_prune(net, n_target, m_target, gen)
        elif cfg.method == "ap":
            new = self._activity_prune(net, n_target, m_target, seed, k, info)
        else:
            new = self._lnp_step(net, n_target, m_target, seed, k, gen, info)
        return new, info

    def _random_prune(self, net, n_target, m_target, gen):
        active = np.flatnonzero(net.active)
        drop = gen.choice(active, size=max(len(active) - n_target, 0), replace=False)
        net = net.prune(neurons=drop)
        return _synapses_to(net, m_target, gen.random(len(net.w)))

    def _activity_prune(self, net, n_target, m_target, seed, k, info):
        rates = None
        if self.evaluate is not None:
            scored = self.evaluate(net, seed)
            rates = scored.get("rates")
            info["ranked_by"] = "task rates" if rates is not None else "noise-probe rates"
        if rates is None:
            with self._timed("operating_point"):
                rates = self.operating_point(net, derive_seed(self.config.seed, f"measure{k - 1}")).rates
            info.setdefault("ranked_by", "noise-probe rates (no task given)")
        rates = np.where(net.active, rates, np.inf)
        order = np.argsort(rates, kind="stable")  # lowest rate first
        drop = order[: max(net.n_active - n_target, 0)]
        net = net.prune(neurons=drop)
        return _synapses_to(net, m_target, np.abs(net.w))

    def _lnp_step(self, net, n_target, m_target, seed, k, gen, info):
        cfg, steps = self.config, self.config.steps
        # step 1 (docs/method.md): operating point and open-loop gains of the last measurement of ``net``
        with self._timed("operating_point"):
            op = self.operating_point(net, derive_seed(cfg.seed, f"measure{k - 1}"))
        info["zero_gain_fraction"] = op.zero_gain_fraction
        live = net.live_synapses()
        idx = np.flatnonzero(live)
        # steps 2-3: per-neuron exponents and the Lyapunov matrix
        importance = None
        if steps["lyapunov"] != "off":
            with self._timed("exponents"):
                lam = self.exponents(net, op, seed)
            with self._timed("lyapunov_matrix"):
                finite = np.isfinite(lam)
                filled = np.where(finite, lam, np.nanmax(lam[finite]) if finite.any() else 0.0)
                pattern = sp.csr_matrix((np.ones(len(idx)), (net.pre[idx], net.post[idx])), shape=(net.n, net.n))
                importance = lyapunov_matrix(filled, pattern, members=cfg.lyapunov_members)
                if steps["lyapunov"] == "random":
                    importance = random_counterpart(importance, gen)
            info["mean_exponent"] = float(np.nanmean(lam))
            info["lyapunov_cv"] = float(importance.std() / importance.mean())
        # step 4: spectral sampling on the effective coupling, to the count that neuron removal
        # will leave at the target (corrected exactly, at random, after it)
        with self._timed("sparsify"):
            coupling = op.coupling(net)
            C = sp.csr_matrix((coupling[idx], (net.pre[idx], net.post[idx])), shape=(net.n, net.n))
            a = sp.csr_matrix(C + C.T)
            budget = int(round(cfg.regrow_budget * m_target)) if steps["delocalize"] != "off" else 0
            frac_kept = n_target / max(net.n_active, 1)
            want = min(len(idx), int(round((m_target - budget) / max(frac_kept ** 2, 1e-9))))
            resistance = {"on": "effective", "off": "none", "random": "shuffled"}[steps["sparsify"]]
            sample = sparsify_synapses(net.W, want, importance=importance, edge_weight=a, reweight=cfg.reweight,
                                       max_weight=self._wmax[idx], sampling="exact", resistance=resistance,
                                       seed=seed, method=cfg.resistances)
            if not (np.array_equal(sample.pre, net.pre[idx]) and np.array_equal(sample.post, net.post[idx])):
                raise RuntimeError("synapse order mismatch between the network and the sparsifier")
            w = net.w.copy()
            w[idx] = sample.new_weight
            sparse_net = net.replace(w=w).prune(synapses=idx[~sample.keep])
            magnitude = magnitude_keep(net.w[idx], sample.n_kept)
            info.update(rho=float(sample.rho), clipped=int(sample.clipped),
                        jaccard_magnitude=float(jaccard(sample.keep, magnitude)),
                        **_input_change(net, idx, sample.new_weight))
            # every synapse's probability and score, for the exact-count correction below
            prob = np.zeros(len(net.w))
            prob[idx] = sample.probability
            score = np.zeros(len(net.w))
            score[idx] = sample.symmetric_weight * sample.resistance * sample.importance
        # step 5: neuron pruning on the sparsified graph (counts after isolated neurons are dropped)
        with self._timed("node_pruning"):
            sparse_net = _drop_isolated(sparse_net)
            if steps["node_pruning"] != "off":
                sparse_net = self._remove_neurons(sparse_net, op, n_target, seed, steps["node_pruning"], info)
            info["neuron_overshoot"] = int(max(n_target - sparse_net.n_active, 0))
        weights = self._weights(net)
        sparse_net = _sample_to(sparse_net, m_target - budget, prob, score, weights, self._wmax, cfg.reweight, gen)
        # step 6: delocalisation of M's leading eigenvectors
        with self._timed("delocalize"):
            M = op.M(sparse_net.W)
            _, vecs = leading_eigenvectors(M, cfg.ipr_vectors, sparse_net.active, by="modulus")
            mean_ipr = float(ipr(vecs).mean())
            info["ipr_M_dense"] = ref_ipr = self.reference()["mean_ipr"]
            info["ipr_M_pruned"] = mean_ipr
            if budget > 0:
                limit = ref_ipr * (1.0 + cfg.ipr_tolerance)
                sparse_net, mean_ipr, added = self._delocalize(sparse_net, op, budget, mean_ipr, limit, gen, weights)
                info["regrown"] = added
                # budget left (delocalised already, or re-growth stopped helping): sampled by score
                sparse_net = _sample_to(sparse_net, m_target, prob, score, weights, self._wmax, cfg.reweight, gen)
            info["ipr_M_grown"] = mean_ipr
        # step 7: timescale optimisation
        if steps["timescale"] != "off" and "tau_m" in sparse_net.params:
            with self._timed("timescale"):
                sparse_net = self._optimise_timescales(sparse_net, op, seed, gen, info)
        return sparse_net

    def _remove_neurons(self, net, op, n_target, seed, mode, info):
        """Betweenness on pathway-normalised effective-coupling lengths, E:I kept, ties random;
        repeated if removal isolates further neurons, so the count is met."""
        for _ in range(10):
            n_remove = net.n_active - n_target
            if n_remove <= 0:
                break
            if mode == "random":
                scores = rng(seed, f"neurons{net.n_active}").random(net.n)
            else:
                live = net.live_synapses()
                pivots = self.config.pivots(net.n_active)
                scores = pruning_scores(net.pre[live], net.post[live], op.coupling(net)[live], net.exc, net.active,
                                        net.n, k=pivots, seed=seed)
                info["betweenness_pivots"] = 0 if pivots is None else pivots  # 0: exact
                if net.n_active <= EXACT_BETWEENNESS_MAX:  # exact hop-count betweenness: seconds above
                    info["betweenness_hop_spearman"] = float(hop_count_agreement(
                        scores, net.pre[live], net.post[live], net.active, net.n))
            drop = neuron_removal(scores, net.exc, net.active, n_remove, seed, stratify=self.config.stratify)
            net = _drop_isolated(net.prune(neurons=drop))
        return net

    def _weights(self, net: Network) -> np.ndarray:
        """Weights for re-grown synapses: the current ones where set, else the dense network's."""
        return np.where(net.w != 0, net.w, self.dense.w)

    def _delocalize(self, net, op, budget, mean_ipr, limit, gen, weights):
        """Re-grow dense-network synapses at the neurons carrying M's most localised
        eigenvectors while the mean IPR is above ``limit`` and falls (batches of
        budget / regrow_batches)."""
        cfg = self.config
        added = 0
        batch = max(1, budget // max(cfg.regrow_batches, 1))
        while added < budget and mean_ipr > limit:
            live = net.live_synapses()
            candidates = np.flatnonzero(~live & net.active[net.pre] & net.active[net.post] & (self.dense.w != 0))
            if not len(candidates):
                break
            n_add = min(batch, budget - added, len(candidates))
            if cfg.steps["delocalize"] == "random":
                choice = gen.choice(candidates, size=n_add, replace=False)
            else:
                choice = self._regrowth_candidates(net, op, candidates, n_add)
            trial = _restore(net, choice, weights)
            _, vecs = leading_eigenvectors(op.M(trial.W), cfg.ipr_vectors, trial.active, by="modulus")
            new_ipr = float(ipr(vecs).mean())
            if new_ipr >= mean_ipr:
                break
            net, mean_ipr, added = trial, new_ipr, added + n_add
        return net, mean_ipr, added

    def _regrowth_candidates(self, net, op, candidates, n_add):
        """Pruned dense synapses out of the neurons that carry the most localised modes, partners
        within two hops, preferring partners whose degree differs most from the neuron's."""
        cfg = self.config
        W = net.W
        act = np.flatnonzero(net.active)
        _, vecs = leading_eigenvectors(op.M(W), cfg.ipr_vectors, net.active, by="modulus")
        weight = np.zeros(net.n)
        weight[act] = (np.abs(vecs) ** 2).max(axis=1)  # how much a neuron carries localised modes
        U = ((W != 0) + (W.T != 0)).astype(bool).astype(np.int8)
        two_hop = (U @ U + U).tocsr()
        two_hop.data[:] = 1
        degree = np.asarray(U.sum(axis=1)).ravel()
        pre, post = net.pre[candidates], net.post[candidates]
        near = np.asarray(two_hop[pre, post]).ravel() > 0
        # a synapse *out of* a neuron that carries a localised (right) eigenvector spreads it:
        # u_post gains M[post, pre] u_pre / λ
        hub = weight[pre]
        hetero = np.abs(degree[pre] - degree[post])
        score = hub * (1.0 + hetero / max(degree.max(), 1)) * np.where(near, 1.0, 0.01)
        return candidates[np.argsort(-score, kind="stable")[:n_add]]

    def _optimise_timescales(self, net, op, seed, gen, info):
        """Gamma distribution (shape, mean) of the surviving neurons' τ_m, rank order kept,
        inside the model's bounds. Objective: distance of the linear model's spectrum from the
        dense network's plus an instability penalty; every trial is one replay (open-loop
        gains at the new τ_m, the recorded input and the same noise seed)."""
        cfg = self.config
        active = net.active
        tau = np.asarray(net.params["tau_m"], float).copy()
        bounds = parameter_bounds(net.model, "tau_m")
        info["tau_cv_before"] = float(tau[active].std() / tau[active].mean())
        if cfg.steps["timescale"] == "random":
            new = random_timescales(tau, active, bounds, gen).tau
            info["tau_cv_after"] = float(new[active].std() / new[active].mean())
            return net.replace(params={**net.params, "tau_m": new})
        reference = self.reference()["spectrum"]
        k = len(reference)
        idx = np.flatnonzero(active)
        W = net.W

        def objective(candidate):
            if self.replay is not None:
                gains = self.replay.run(net, op.synaptic_input, seed=op.seed, params={"tau_m": candidate}).gains
            else:
                gains = op.gains
            A = linear_rate_matrix(W, gains * op.kappa, candidate)[idx][:, idx]
            return timescale_objective(A, reference, k)

        res = optimise_timescales(objective, tau, active, bounds, cfg.trials, seed % (2**31))
        info.update(objective_first=res.first_value, objective_best=res.best_value, tau_cv_after=res.cv_after,
                    tau_shape=res.shape, tau_mean_s=res.mean, startup_trials=res.n_startup)
        self.log(f"    timescales: objective {res.first_value:.4g} -> {res.best_value:.4g} 1/s, CV of tau_m "
                 f"{res.cv_before:.3f} -> {res.cv_after:.3f}")
        return net.replace(params={**net.params, "tau_m": res.tau})

    def random_match(self, net: Network) -> Network:
        """The dense network randomly pruned, in one step, to ``net``'s neuron and synapse counts.

        Parameters
        ----------
        net : Network
            The network whose counts are matched.

        Returns
        -------
        Network
            A random counterpart of ``net`` (seeded by ``config.seed``).
        """
        gen = rng(self.config.seed, "random-match")
        return self._random_prune(self.dense, net.n_active, net.n_synapses, gen)

    def compare(self, final: Network, k: int | None = None) -> dict:
        """Compare the dense, the final and a randomly pruned network with the final counts.

        Lyapunov spectra (first k exponents of the linearised model), eigenvalues of the
        effective connectivity M and λ_max of each, all on the compiled builds.

        Parameters
        ----------
        final : Network
            The pruned network.
        k : int, optional
            Exponents of each spectrum (default ``config.spectrum_k``).

        Returns
        -------
        dict
            ``"spectra"`` (float arrays, 1/s), ``"eigenvalues"`` (complex arrays of M, 1/s) and
            ``"lambda_max"`` ((mean, stderr) in 1/s), each keyed by ``"dense"``,
            ``"pruned"`` and ``"random, equal counts"``.
        """
        k = k or self.config.spectrum_k
        out = {"spectra": {}, "eigenvalues": {}, "lambda_max": {}}
        seed = derive_seed(self.config.seed, "compare")
        for label, net in (("dense", self.dense), ("pruned", final), ("random, equal counts", self.random_match(final))):
            op = self.operating_point(net, seed)
            out["lambda_max"][label] = self.lambda_max(net, seed)
            out["spectra"][label] = self.spectrum(op.A(net.W), k, seed, net.active)
            idx = np.flatnonzero(net.active)
            out["eigenvalues"][label] = _eigenvalues(op.M(net.W)[idx][:, idx])
        return out

    # ---- the loop ---------------------------------------------------------------------------
    def run(self, network: Network | None = None, *, checkpoint_dir=None, resume: bool = False) -> PruneResult:
        """Iterate to the targets: measure the dense network, then prune and measure K times.

        With ``checkpoint_dir`` every iteration is saved (``iter_KKK/network.npz``,
        ``info.json``, ``manifest.json`` with the SHA-256 of each file, then ``row.json``);
        ``resume`` continues from the last complete iteration there and gives the same result
        as an uninterrupted run. Every checkpoint it loads is first checked against its
        manifest (:func:`verify_checkpoint`).

        Parameters
        ----------
        network : Network, optional
            Network to start from (default: the dense network the pruner was built for).
        checkpoint_dir : path, optional
            Folder of the checkpoints (default: none are written).
        resume : bool
            Continue from the complete checkpoints in ``checkpoint_dir``.

        Returns
        -------
        PruneResult
            The trajectory, the final network and every intermediate one.

        Raises
        ------
        CheckpointError
            A checkpoint to resume from was changed or truncated after it was written.
        """
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
    """A checkpoint that does not match the checksums written with it.

    Parameters
    ----------
    path : path
        The offending file (kept as a :class:`~pathlib.Path` in ``path``).
    message : str
        What is wrong and what to do about it.
    """

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
    """Check every file of one checkpoint folder against the SHA-256 sums in its ``manifest.json``.

    Parameters
    ----------
    folder : path
        One iteration's checkpoint folder (``iter_KKK``).

    Returns
    -------
    dict
        The manifest (``"format"``, ``"iteration"``, ``"algorithm"``, ``"files"``: name ->
        SHA-256).

    Raises
    ------
    CheckpointError
        A ValueError naming the file: a missing or unreadable manifest, a missing file, or a
        file whose contents changed or were truncated after it was written.
    """
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


def _sample_to(net: Network, target: int, prob, score, weights, wmax, reweight: bool, gen) -> Network:
    """Exactly ``target`` live synapses, at random (never by a deterministic cut on score).

    Too many: keep ``target`` of them uniformly, scaling their weights by count / target when
    reweighting (the expected input is kept). Too few: add pruned synapses between active
    neurons without replacement, with inclusion probabilities proportional to ``score`` and
    summing to the deficit; an added synapse gets its dense weight over its first-stage keep
    probability ``prob`` when reweighting. Weights are clipped to ``wmax``."""
    live = net.live_synapses()
    count = int(live.sum())
    if count > target:
        idx = np.flatnonzero(live)
        keep = np.sort(gen.choice(idx, size=target, replace=False))
        out = net.prune(synapses=np.setdiff1d(idx, keep))
        if reweight and target > 0:
            w = out.w.copy()
            w[keep] = np.sign(w[keep]) * np.minimum(np.abs(w[keep]) * count / target, wmax[keep])
            out = out.replace(w=w)
        return out
    free = np.flatnonzero(~live & net.active[net.pre] & net.active[net.post] & (weights != 0))
    deficit = min(target - count, len(free))
    if deficit <= 0:
        return net
    s = np.asarray(score, float)[free]
    positive = s[s > 0]
    s = np.where(s > 0, s, 1e-3 * positive.min() if len(positive) else 1.0)  # unscored ones stay possible
    p = np.minimum(1.0, expected_count_rho(s, deficit) * s)
    pick = free[sample_without_replacement(p, int(gen.integers(2**31)))]
    w = np.asarray(weights, float).copy()
    if reweight:
        first = np.asarray(prob, float)[pick]
        scaled = np.where(first > 0, np.abs(w[pick]) / np.where(first > 0, first, 1.0), np.abs(w[pick]))
        w[pick] = np.sign(w[pick]) * np.minimum(scaled, wmax[pick])
    return _restore(net, pick, w)


def _input_change(net: Network, idx, new_weight) -> dict:
    """How the synapses ``idx`` getting ``new_weight`` change each neuron's summed excitatory
    and inhibitory input: the mean signed relative change over neurons (``input_change_exc``,
    ``input_change_inh``: the bias, 0 in expectation with reweighting, about minus the dropped
    fraction without) and the mean absolute one over both (``mean_input_change``: bias plus
    sampling noise)."""
    ch = input_change(net.post[idx], net.w[idx], new_weight, net.n)
    exc, inh = ch["exc_relative_change"], ch["inh_relative_change"]
    both = np.concatenate([exc[np.isfinite(exc)], inh[np.isfinite(inh)]])
    return {"input_change_exc": float(np.nanmean(exc)), "input_change_inh": float(np.nanmean(inh)),
            "mean_input_change": float(np.abs(both).mean()) if len(both) else 0.0}


def _pathway_maxima(net: Network) -> np.ndarray:
    """Per synapse, the largest |weight| its pathway allows: the model's weight ``max`` for the
    pathway (EE, EI, IE, II or "all"), else the largest |w| of that pathway in ``net``."""
    dists = net.model.network.weights if net.model.network is not None else {}
    out = np.zeros(len(net.w))
    pw = net.pathway
    for code, name in enumerate(PATHWAYS):
        sel = pw == code
        if not sel.any():
            continue
        d = dists.get(name, dists.get("all"))
        cap = getattr(d, "max", None)
        out[sel] = float(cap) if cap is not None else float(np.abs(net.w[sel]).max())
    return out


def _eigenvalues(X) -> np.ndarray:
    """All eigenvalues of a square sparse matrix (LAPACK), or its 200 of largest modulus
    (ARPACK) above EIG_DENSE_MAX rows."""
    n = X.shape[0]
    if n <= EIG_DENSE_MAX:
        return np.linalg.eigvals(X.toarray())
    from scipy.sparse.linalg import eigs

    return eigs(sp.csr_matrix(X), k=min(200, n - 2), which="LM", return_eigenvectors=False)
