"""Closed-loop noise probe: what the coupled network does under its background noise.

Runs of one compiled build with the same noise realisation (common random numbers): the
plain run gives firing rates r_i, exponentially filtered activity x_i(t) and its covariance
C; a run with a small extra bias current δI into *every* neuron gives the closed-loop gain
g_i = (r_i(δI) − r_i(0)) / δI (Hz/A). On a build with several copies (a
:class:`~lnp_brian.lyapunov.finite_size.TwoTrajectory` engine) both happen in one run: copy 0 unbiased,
the others biased, gains averaged. With κ_j, the charge one spike of unit weight delivers
(∫ kernel dt = τ_syn,j for current-based exponential synapses), the linearised rate model is

    dx/dt = A x,   A = D (diag(g ⊙ κ) Wᵀ − I),   D = diag(1/τ_m).

Closed-loop gains mix each neuron's own response with the network's (recurrent inhibition
cancels the extra current): on a 300-neuron HRSNN about half of them are exactly 0. Pruning
uses the open-loop gains of :mod:`lnp_brian.lyapunov.gains` by default; this probe remains as
``PruneConfig(gains="closed-loop")``, for comparison (docs/method.md, step 1), and for the
covariance of the filtered activity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..brian.inputs import default_input
from ..core.units import parse_quantity
from ..network.network import Network
from ..simulation.simulator import Simulator
from ..simulation.traces import filtered_features
from .spectrum import linear_rate_matrix

__all__ = ["NoiseProbe", "ProbeResult", "probe"]


@dataclass
class ProbeResult:
    """Result of a noise probe: rates, closed-loop gains, filtered-activity statistics and A.

    Parameters
    ----------
    rates : ndarray (N,)
        Firing rates (Hz) of the unbiased run after the transient.
    rates_biased : ndarray (N,)
        Rates (Hz) with the extra current δI (on an engine: the mean over the biased copies).
    gains : ndarray (N,)
        Closed-loop gains ``(rates_biased - rates) / bias`` in Hz/A (Hz per input unit);
        negative values set to 0, and 0 for inactive neurons.
    bias : float
        The extra current δI, in the model's input unit (A for current inputs).
    kappa : ndarray (N,)
        Charge per spike per unit weight, κ (s).
    tau : ndarray (N,)
        Time constants of the rate model (s), the neuron parameter ``tau_name``.
    A : scipy.sparse.csr_matrix (N, N)
        Linearised rate matrix ``D (diag(g ⊙ κ) Wᵀ − I)`` in 1/s
        (:func:`~lnp_brian.lyapunov.spectrum.linear_rate_matrix`).
    activity_mean, activity_var : ndarray (N,)
        Mean (Hz) and variance (Hz²) of the filtered activity x_i(t) after the transient.
    covariance : ndarray (N, N) or None
        Covariance (Hz²) of the filtered activity; None when it was not asked for (it is
        dense N x N).
    info : dict
        ``seed``, ``compilations``, ``duration_s``, ``noise``, ``activity_tau_s`` and
        ``transient_s``.
    """

    rates: np.ndarray
    rates_biased: np.ndarray
    gains: np.ndarray
    bias: float
    kappa: np.ndarray
    tau: np.ndarray
    A: sp.csr_matrix
    activity_mean: np.ndarray
    activity_var: np.ndarray
    covariance: np.ndarray | None
    info: dict = field(default_factory=dict)


class NoiseProbe:
    """A compiled noise-probe build, re-usable for every (masked) network of one topology.

    Parameters
    ----------
    network : Network
        The network to probe; it defines the topology of the build.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    duration : Quantity or str
        Probe time T_probe per run (default 2 s).
    noise : PoissonNoise or OUNoise, optional
        Background noise (default: the model's ``[input]`` noise).
    bias : Quantity or str
        Extra current δI of the second run (default 20 pA; in the model's input unit).
    activity_tau : Quantity or str
        Time constant of the exponential kernel for x_i(t) (default 20 ms).
    kappa : str or float, optional
        Charge per spike per unit weight, κ (s): the name of a per-neuron parameter or
        constant (default ``tau_syn`` when the model has it, else 1 s).
    transient : Quantity or str
        Start of the analysis window (default 200 ms).
    engine : TwoTrajectory, optional
        Run on this engine's build (copies, spikes recorded) instead of building one.
    **build
        Further options of the :class:`~lnp_brian.simulation.simulator.Simulator` built when
        no ``engine`` is given (``dt``, ``build_dir``, ``reuse``, ``threads``, ...).

    Raises
    ------
    ValueError
        If the model has no input current or no default noise (and none is given), or the
        engine has no perturbed copy or does not record spikes.
    """

    def __init__(self, network: Network, device: str = "cpp_standalone", *, duration="2 s", noise=None,
                 bias="20 pA", activity_tau="20 ms", kappa=None, transient="200 ms", engine=None, **build):
        spec = network.model
        if spec.neuron.input is None:
            raise ValueError(f"model {spec.name!r} has no input current to probe with noise")
        self.noise = noise if noise is not None else default_input(spec)
        if self.noise is None:
            raise ValueError(f"model {spec.name!r} has no default noise ([input] noise); pass noise=")
        self.bias = float(parse_quantity(bias, spec.neuron.input_dim, where="bias"))
        self.activity_tau = float(parse_quantity(activity_tau, "second", where="activity_tau"))
        self.transient = float(parse_quantity(transient, "second", where="transient"))
        self.kappa_name = kappa
        self.engine = engine
        if engine is not None:
            if engine.perturbed < 1 or not engine.sim.record_spikes:
                raise ValueError("the engine needs >= 1 perturbed copy and record_spikes=True")
            self.sim = engine.sim
        else:
            self.sim = Simulator(network, device, duration=duration, inputs=self.noise, **build)

    @property
    def compilations(self) -> int:
        """Compilations of the underlying build (1 on a standalone device, 0 when reused or runtime)."""
        return self.sim.compilations

    def kappa(self, network: Network) -> np.ndarray:
        """Charge per spike per unit weight, κ (s), per neuron of ``network``.

        Parameters
        ----------
        network : Network
            The network whose per-neuron parameters and model constants are looked up.

        Returns
        -------
        ndarray (N,)
            κ in seconds: the constructor's ``kappa`` (a number, or the named parameter or
            constant), else ``tau_syn`` when the model has it, else 1 s.

        Raises
        ------
        KeyError
            If the named κ is neither a neuron parameter nor a constant.
        """
        name = self.kappa_name
        spec = network.model
        if isinstance(name, (int, float)):
            return np.full(network.n, float(name))
        if name is None:
            name = "tau_syn" if ("tau_syn" in spec.neuron.parameters or "tau_syn" in spec.neuron.constants) else None
        if name is None:
            return np.ones(network.n)
        if name in network.params:
            return network.params[name].copy()
        if name in spec.neuron.constants:
            return np.full(network.n, float(spec.neuron.constants[name]))
        raise KeyError(f"kappa: {name!r} is neither a neuron parameter nor a constant")

    def run(self, network: Network | None = None, *, seed: int = 0, covariance: bool = True,
            tau_name: str = "tau_m", **overrides) -> ProbeResult:
        """Probe ``network`` with and without the extra current δI and return the result.

        Parameters
        ----------
        network : Network, optional
            Same topology as the built one, any masks (default: the one built).
        seed : int
            Seed of the noise; both runs use the same realisation (common random numbers).
        covariance : bool
            Also compute the dense N x N covariance of the filtered activity (default True).
        tau_name : str
            Neuron parameter or constant used as the time constant of the rate model
            (default ``"tau_m"``).
        **overrides
            Passed to :meth:`Simulator.run <lnp_brian.simulation.simulator.Simulator.run>`
            (e.g. ``params={"tau_m": ...}``).

        Returns
        -------
        ProbeResult
            Rates, closed-loop gains, filtered-activity statistics and the rate matrix A.
        """
        net = network if network is not None else self.sim.network
        if self.engine is not None:
            c = self.sim.copies
            bias = np.concatenate([np.zeros(net.n), np.full((c - 1) * net.n, self.bias)])
            base = self.engine.run_free(net, seed=seed, bias=bias, **overrides)
            r0 = base.rates(0, t_start=self.transient)
            r1 = np.mean([base.rates(k, t_start=self.transient) for k in range(1, c)], axis=0)
        else:
            base = self.sim.run(net, seed=seed, **overrides)
            biased = self.sim.run(net, seed=seed, bias=np.full(net.n, self.bias), **overrides)
            r0 = base.rates(t_start=self.transient)
            r1 = biased.rates(t_start=self.transient)
        # rate change per unit input; clipped at 0: a neuron's own response to more input
        # is not negative, negative values are network fluctuations (chaos amplifies the bias)
        gains = np.clip((r1 - r0) / self.bias, 0.0, None)
        gains[~net.active] = 0.0
        sample_dt = max(self.sim.dt, 1e-3)
        # (neurons, samples) after the transient, in Hz: a spike adds 1/tau
        x = filtered_features(base, self.activity_tau, sample_dt=sample_dt, t_start=self.transient).T
        x /= self.activity_tau
        cov = np.cov(x) if covariance else None
        params = {**net.params, **overrides.get("params", {})}
        if tau_name in params:
            tau = np.asarray(params[tau_name], float)
        else:
            tau = np.full(net.n, float(net.model.neuron.constants[tau_name]))
        kappa = self.kappa(net)
        A = linear_rate_matrix(net.W, gains * kappa, tau)
        return ProbeResult(rates=r0, rates_biased=r1, gains=gains, bias=self.bias, kappa=kappa, tau=tau,
                           A=A, activity_mean=x.mean(axis=1), activity_var=x.var(axis=1), covariance=cov,
                           info={"seed": seed, "compilations": self.compilations, "duration_s": self.sim.duration,
                                 "noise": self.noise.describe(), "activity_tau_s": self.activity_tau,
                                 "transient_s": self.transient})


def probe(network: Network, device: str = "cpp_standalone", *, seed: int = 0, covariance: bool = True,
          **kwargs) -> ProbeResult:
    """Build a :class:`NoiseProbe` and run it once.

    Parameters
    ----------
    network : Network
        The network to probe.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device of the build.
    seed : int
        Seed of the noise.
    covariance : bool
        Also compute the covariance of the filtered activity (default True).
    **kwargs
        Options of :class:`NoiseProbe` (``duration``, ``noise``, ``bias``, ``activity_tau``,
        ``kappa``, ``transient``, ``engine``) and of the Simulator build.

    Returns
    -------
    ProbeResult
        See :meth:`NoiseProbe.run`.
    """
    return NoiseProbe(network, device, **kwargs).run(seed=seed, covariance=covariance)
