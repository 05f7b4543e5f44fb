"""Plots of simulation results. Every function takes results (and optionally an Axes) and
returns the matplotlib Axes it drew on, so figures can be composed and restyled freely."""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

__all__ = ["plot_raster", "plot_population_rate", "plot_traces", "plot_rate_histogram",
           "plot_isi_cv_histogram", "plot_rate_spectrum", "raster_figure", "dynamics_figure",
           "plot_divergence", "plot_per_neuron_exponents", "plot_lyapunov_spectrum", "plot_finite_size",
           "plot_pruning_counts", "plot_eigenvalues", "diagnostics_figure"]

E_COLOR, I_COLOR = "#1f4e99", "#c0392b"


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_raster(result, ax=None, *, copy: int = 0, exc=None, max_neurons: int | None = None,
                markersize: float = 1.0):
    """Spike raster (time in s against neuron index); E and I coloured when ``exc`` is given.

    Parameters
    ----------
    result : SimResult
        The simulation to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    copy : int
        Network copy.
    exc : bool array (n,), optional
        Excitatory labels (e.g. ``network.exc``); E spikes blue, I red, with a legend.
    max_neurons : int, optional
        Plot only neurons with index below this.
    markersize : float
        Marker size in points.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    t, i = result.spikes(copy)
    if max_neurons is not None:
        keep = i < max_neurons
        t, i = t[keep], i[keep]
    if exc is None:
        ax.plot(t, i, ".", ms=markersize, color="k", rasterized=True)
    else:
        e = np.asarray(exc)[i]
        ax.plot(t[e], i[e], ".", ms=markersize, color=E_COLOR, rasterized=True, label="E")
        ax.plot(t[~e], i[~e], ".", ms=markersize, color=I_COLOR, rasterized=True, label="I")
        ax.legend(loc="upper right", markerscale=6, frameon=False, fontsize="small")
    ax.set_xlim(0, result.duration)
    ax.set_ylim(-0.5, (max_neurons or result.n) - 0.5)
    ax.set_ylabel("neuron index")
    ax.set_xlabel("time (s)")
    return ax


def plot_population_rate(result, ax=None, *, bin_width: float = 5e-3, copy: int = 0):
    """Population firing rate (Hz per neuron) in bins of ``bin_width`` seconds.

    Parameters
    ----------
    result : SimResult
        The simulation to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    bin_width : float
        Bin width in seconds.
    copy : int
        Network copy.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    t, r = result.population_rate(bin_width, copy)
    ax.plot(t, r, color="k", lw=0.8)
    ax.set_xlim(0, result.duration)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"rate (Hz)\n{bin_width * 1e3:g} ms bins")
    return ax


def plot_traces(result, var: str = "v", ax=None, *, copy: int = 0, max_traces: int = 5):
    """Recorded traces of ``var`` for a few neurons, in the variable's best unit.

    Parameters
    ----------
    result : SimResult
        The simulation to plot.
    var : str
        A recorded variable (e.g. ``"v"``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    copy : int
        Network copy.
    max_traces : int
        Plot at most this many recorded neurons (the first ones).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    KeyError
        If ``var`` was not recorded.
    """
    ax = _ax(ax)
    q = result.trace(var, copy)
    unit = _display_unit(q)
    values = np.asarray(q / unit)
    for k in range(min(max_traces, values.shape[0])):
        ax.plot(result.trace_t, values[k], lw=0.7, label=f"neuron {result.record_indices[k]}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{var} ({unit})")
    ax.legend(loc="upper right", fontsize="x-small", frameon=False)
    return ax


def _display_unit(q):
    from brian2.units.fundamentalunits import get_dimensions

    try:
        return q.get_best_unit() if get_dimensions(q) is not None and np.size(q) else 1
    except Exception:
        return 1


def plot_rate_histogram(result, ax=None, *, copy: int = 0, exc=None, bins: int = 40):
    """Histogram of per-neuron firing rates (Hz), titled with the mean rate and silent share.

    Parameters
    ----------
    result : SimResult
        The simulation to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    copy : int
        Network copy.
    exc : bool array (n,), optional
        Excitatory labels; E and I are stacked in their colours.
    bins : int
        Number of bins between 0 and the largest rate.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    rates = result.rates(copy)
    edges = np.linspace(0, max(rates.max(), 1e-9), bins + 1)
    if exc is None:
        ax.hist(rates, bins=edges, color="0.3")
    else:
        e = np.asarray(exc)
        ax.hist([rates[e], rates[~e]], bins=edges, color=[E_COLOR, I_COLOR], label=["E", "I"], stacked=True)
        ax.legend(frameon=False, fontsize="small")
    ax.set_xlabel("firing rate (Hz)")
    ax.set_ylabel("neurons")
    ax.set_title(f"mean {rates.mean():.2f} Hz, {np.mean(rates == 0) * 100:.0f} % silent", fontsize="small")
    return ax


def plot_isi_cv_histogram(result, ax=None, *, copy: int = 0, bins: int = 40):
    """Histogram of the ISI coefficient of variation (neurons with >= 3 spikes).

    A dashed line marks CV = 1 (a Poisson process).

    Parameters
    ----------
    result : SimResult
        The simulation to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    copy : int
        Network copy.
    bins : int
        Number of bins.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    cv = result.isi_cv(copy)
    cv = cv[np.isfinite(cv)]
    if cv.size:
        ax.hist(cv, bins=bins, color="0.3")
        ax.axvline(1.0, color="0.6", ls="--", lw=0.8)  # Poisson process
        ax.set_title(f"median CV {np.median(cv):.2f} ({cv.size} neurons)", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no neuron with 3 spikes", ha="center", transform=ax.transAxes)
    ax.set_xlabel("ISI CV")
    ax.set_ylabel("neurons")
    return ax


def rate_spectrum(result, copy: int = 0, bin_width: float | None = None):
    """Welch power spectral density of the population rate: (frequency Hz, PSD Hz^2/Hz)."""
    bin_width = bin_width or max(result.dt, 1e-3)
    _, r = result.population_rate(bin_width, copy)
    fs = 1.0 / bin_width
    nperseg = min(len(r), max(16, int(round(0.5 / bin_width))))  # ~2 Hz resolution
    return welch(r - r.mean(), fs=fs, nperseg=nperseg)


def plot_rate_spectrum(result, ax=None, *, copy: int = 0, bin_width: float | None = None):
    """Power spectrum of the population rate by Welch's method (log scale).

    Parameters
    ----------
    result : SimResult
        The simulation to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    copy : int
        Network copy.
    bin_width : float, optional
        Bin width of the population rate in seconds (default: ``max(dt, 1 ms)``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    f, p = rate_spectrum(result, copy, bin_width)
    keep = f > 0
    ax.semilogy(f[keep], p[keep] + 1e-30, color="k", lw=0.8)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD (Hz$^2$/Hz)")
    return ax


def raster_figure(result, network=None, *, bin_width: float = 5e-3, title: str | None = None):
    """Raster over population rate, sharing the time axis.

    Parameters
    ----------
    result : SimResult
        The simulation to plot.
    network : Network, optional
        Colours E and I spikes by ``network.exc``.
    bin_width : float
        Bin width of the population rate in seconds.
    title : str, optional
        Title above the raster.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure.
    """
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(2, 1, sharex=True, figsize=(8, 5.5),
                                 gridspec_kw={"height_ratios": [3, 1]}, layout="constrained")
    plot_raster(result, a1, exc=None if network is None else network.exc)
    a1.set_xlabel("")
    plot_population_rate(result, a2, bin_width=bin_width)
    if title:
        a1.set_title(title)
    return fig


def dynamics_figure(result, network=None, *, var: str = "v", title: str | None = None):
    """Membrane traces, rate and ISI-CV histograms, population-rate spectrum (2 x 2 panels).

    Parameters
    ----------
    result : SimResult
        The simulation to plot.
    network : Network, optional
        Colours E and I in the rate histogram by ``network.exc``.
    var : str
        Variable of the trace panel; if it was not recorded the panel says so.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7), layout="constrained")
    if var in result.traces:
        plot_traces(result, var, axes[0, 0])
    else:
        axes[0, 0].text(0.5, 0.5, f"{var} not recorded", ha="center", transform=axes[0, 0].transAxes)
    exc = None if network is None else network.exc
    plot_rate_histogram(result, axes[0, 1], exc=exc)
    plot_isi_cv_histogram(result, axes[1, 0])
    plot_rate_spectrum(result, axes[1, 1])
    if title:
        fig.suptitle(title)
    return fig


# ---- Lyapunov ------------------------------------------------------------------------------
def plot_divergence(result, ax=None):
    """Log distance of each perturbed copy from the reference against time, with λ_max.

    The distance is the cumulative log growth with the renormalisations undone; the dashed
    line has the fitted slope λ_max (1/s) from the end of the transient.

    Parameters
    ----------
    result : LyapunovResult
        A two-trajectory estimate (:func:`lnp_brian.lyapunov.finite_size.max_exponent`).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    t = result.times
    logd = np.nancumsum(result.log_growth, axis=1)
    for k in range(logd.shape[0]):
        ax.plot(t, logd[k], lw=0.7, alpha=0.7)
    start = result.t_kick + result.transient
    ref = np.interp(start, t, np.nanmean(logd, axis=0)) if len(t) else 0.0
    line = ref + result.lambda_max * (t - start)
    ax.plot(t, line, "k--", lw=1, label=f"λ_max = {result.lambda_max:.3g} ± {result.lambda_max_stderr:.2g} /s")
    ax.axvline(start, color="0.7", lw=0.8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("ln(distance / d0)")
    ax.set_title(f"perturbation d0 = {result.perturbation:g}, renormalised every "
                 f"{result.interval * 1e3:g} ms", fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_per_neuron_exponents(tau, lambdas, ax=None, *, label="spiking (perturbed copies)",
                              linear=None, exc=None):
    """Per-neuron exponents λ_i (1/s) against each neuron's membrane time constant (ms).

    Parameters
    ----------
    tau : float array (n,)
        Membrane time constants in seconds (plotted in ms).
    lambdas : float array (n,)
        Exponent of each neuron (1/s).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    label : str
        Legend label of ``lambdas``.
    linear : float array (n,), optional
        Exponents of the linearised rate model, drawn as grey crosses for comparison.
    exc : bool array (n,), optional
        Excitatory labels; colours the points E / I.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    tau_ms = np.asarray(tau) * 1e3
    colors = None if exc is None else np.where(np.asarray(exc), E_COLOR, I_COLOR)
    ax.scatter(tau_ms, lambdas, s=8, c=colors if colors is not None else "k", label=label, alpha=0.7)
    if linear is not None:
        ax.scatter(tau_ms, linear, s=8, marker="x", color="0.5", label="linearised rate model", alpha=0.7)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("τ_m (ms)")
    ax.set_ylabel("λ_i (1/s)")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_lyapunov_spectrum(exponents, ax=None, *, label=None):
    """Lyapunov exponents (1/s) sorted in descending order against their index (from 1).

    Parameters
    ----------
    exponents : float array
        Exponents in 1/s, in any order.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    label : str, optional
        Legend label (no legend without one).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    lam = np.sort(np.asarray(exponents))[::-1]
    ax.plot(np.arange(1, len(lam) + 1), lam, ".-", ms=4, lw=0.8, label=label)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("index")
    ax.set_ylabel("λ (1/s)")
    if label:
        ax.legend(frameon=False, fontsize="small")
    return ax


def plot_finite_size(result, ax=None):
    """Finite-size Lyapunov exponent λ(d0) against perturbation size (log axis).

    Parameters
    ----------
    result : FiniteSizeResult
        Exponents per size with standard errors
        (:func:`lnp_brian.lyapunov.finite_size.finite_size_exponents`).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    ax.errorbar(result.sizes, result.lambdas, yerr=result.stderr, fmt="o-", color="k", capsize=3)
    ax.set_xscale("log")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("perturbation size d0 (scaled units)")
    ax.set_ylabel("λ(d0) (1/s)")
    return ax


# ---- pruning -------------------------------------------------------------------------------
def plot_pruning_counts(trajectories: dict, axes=None, *, error=None):
    """Neurons and synapses per iteration (the paper's Fig. 3a,b) for one or more methods.

    Parameters
    ----------
    trajectories : dict
        Label -> (iterations, neurons, synapses) arrays, one line per label.
    axes : pair of matplotlib.axes.Axes, optional
        Axes for neurons and synapses (default: a new 1 x 2 figure).
    error : dict, optional
        The same labels -> (neurons_sd, synapses_sd), drawn as shaded bands.

    Returns
    -------
    pair of matplotlib.axes.Axes
        The neuron and synapse Axes.
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    for label, (it, neurons, synapses) in trajectories.items():
        sd = (error or {}).get(label)
        for ax, y, k in ((axes[0], neurons, 0), (axes[1], synapses, 1)):
            line, = ax.plot(it, y, "o-", ms=4, label=label)
            if sd is not None:
                ax.fill_between(it, np.asarray(y) - sd[k], np.asarray(y) + sd[k], color=line.get_color(), alpha=0.2)
    axes[0].set_ylabel("neurons")
    axes[1].set_ylabel("synapses")
    for ax in axes:
        ax.set_xlabel("iteration")
        ax.legend(frameon=False, fontsize="small")
    return axes


def plot_eigenvalues(spectra: dict, ax=None):
    """Eigenvalues (1/s) of effective connectivity matrices in the complex plane.

    Parameters
    ----------
    spectra : dict
        Label -> complex eigenvalues (1/s); the legend gives each set's largest real part.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    ax = _ax(ax)
    for label, ev in spectra.items():
        ev = np.asarray(ev)
        ax.plot(ev.real, ev.imag, ".", ms=3, alpha=0.6, label=f"{label} (max Re {ev.real.max():.3g})")
    ax.axvline(0, color="0.7", lw=0.8)
    ax.set_xlabel("Re λ (1/s)")
    ax.set_ylabel("Im λ (1/s)")
    ax.legend(frameon=False, fontsize="small", markerscale=3)
    return ax


#: the panels of :func:`diagnostics_figure`: title, y label, (column, legend label) pairs
DIAGNOSTIC_PANELS = (
    ("open-loop gains", "fraction of neurons", (("zero_gain_fraction", "gain = 0"),)),
    ("Lyapunov factor", "CV of L over synapses", (("lyapunov_cv", "CV"),)),
    ("sampling vs magnitude pruning", "Jaccard overlap", (("jaccard_magnitude", "same count"),)),
    ("input kept by reweighting", "mean relative change", (("input_change_exc", "E input"),
                                                            ("input_change_inh", "I input"))),
    ("neurons by type", "active neurons", (("exc_neurons", "E"), ("inh_neurons", "I"))),
    ("localisation of M", "mean IPR", (("ipr_M_dense", "dense"), ("ipr_M_pruned", "pruned"),
                                       ("ipr_M_grown", "re-grown"))),
    ("timescale optimisation", "objective (1/s)", (("objective_first", "unchanged"), ("objective_best", "best"))),
    ("heterogeneity of tau_m", "CV", (("tau_cv_before", "before"), ("tau_cv_after", "after"))),
    ("linear stability", "max Re eig(A) (1/s)", (("max_re_eig_A", "max Re"),)),
    ("finite-size lambda_max", "lambda_max (1/s)", (("lambda_max", "lambda_max"),)),
    ("distance from the dense network", "1/s", (("spectral_distance", "Lyapunov spectrum of A"),
                                                ("eig_distance_M", "eigenvalues of M"))),
)


def diagnostics_figure(rows, *, title: str | None = None):
    """One panel per LNP diagnostic against the iteration (docs/method.md).

    Shows what each step did, from a pruning trajectory; the panels and their columns are
    ``DIAGNOSTIC_PANELS`` of this module. Panels whose columns are missing say so instead of
    plotting.

    Parameters
    ----------
    rows : list of dict
        One row per iteration (``PruneResult.rows`` or the rows of ``trajectory.csv``), with
        an ``iteration`` column; values may be numbers or strings, empty for missing.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    def column(key):
        return np.array([float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows])

    it = column("iteration")
    fig, axes = plt.subplots(3, 4, figsize=(14, 8.5), layout="constrained")
    for ax, (name, ylabel, series) in zip(axes.flat, DIAGNOSTIC_PANELS):
        drawn = False
        for key, label in series:
            y = column(key)
            if np.isfinite(y).any():
                ax.plot(it, y, "o-", ms=4, label=label)
                drawn = True
        if name == "finite-size lambda_max" and drawn:
            d0 = column("lambda_max_d0")
            if np.isfinite(d0).any():
                ax.set_title(f"{name} (d0 = {np.nanmax(d0):g})", fontsize="small")
        if not ax.get_title():
            ax.set_title(name, fontsize="small")
        if not drawn:
            ax.text(0.5, 0.5, "not recorded", ha="center", va="center", transform=ax.transAxes, color="0.5")
        elif len(series) > 1:
            ax.legend(fontsize="x-small")
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.flat[-1].axis("off")
    if title:
        fig.suptitle(title)
    return fig
