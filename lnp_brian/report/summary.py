"""Figures and tables of an experiment, from its rows alone (results.csv), never re-simulating.

- :func:`plot_trajectory`: neurons and synapses per iteration for each method with the task
  score of the model pruned after each iteration (the paper's Fig. 3);
- :func:`plot_score_vs_sops`: task score against average synaptic operations per sample
  (Fig. 4), error bars over seeds;
- :func:`plot_ablation`: final score of every method, ablations of LNP's steps among them
  (Fig. 5);
- :func:`summary_table`: the final iteration of every (model, task, method) as text, beside
  the baselines of the task.

Baselines: every row of a task carries the test scores of the task's baselines on the same
data - ``persistence_nrmse``, ``ridge_nrmse`` (lagged linear ridge) and ``esn_nrmse`` (echo-state
network, :func:`lnp_brian.tasks.esn.esn_baseline`) for time series, ``pixels_logistic_accuracy``
(logistic regression on the pixels) for images; any other ``<name>_nrmse`` /
``<name>_accuracy`` column is taken for a baseline too (:func:`baseline_columns`). The figures
draw them as labelled horizontal lines beside the score, the table lists them above each
task's methods. Rows without a baseline column (older results) simply show none.

``analysis/`` holds one script per figure that calls these on a saved experiment directory.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["score_metric", "plot_trajectory", "plot_score_vs_sops", "plot_ablation", "summary_table",
           "experiment_figures", "baseline_columns", "method_style", "FIGURES", "BASELINES", "METHOD_STYLES"]

FIGURES = {"trajectory": "fig3_trajectory.png", "sops": "fig4_score_vs_sops.png", "ablation": "fig5_ablation.png"}
_LABEL = {"nrmse_test": "test NRMSE (lower is better)", "accuracy_test": "test accuracy"}
#: known baselines in report order: name -> (label, line style, colour)
BASELINES = {
    "persistence": ("persistence", "--", "tab:gray"),
    "ridge": ("lagged ridge", "-.", "tab:brown"),
    "esn": ("ESN", (0, (1, 1)), "tab:purple"),
    "pixels_logistic": ("logistic on pixels", "--", "tab:olive"),
}
_SUFFIX = {"nrmse_test": "_nrmse", "accuracy_test": "_accuracy"}
#: one colour, marker and line style per method in every figure
METHOD_STYLES = {
    "dense": {"color": "black", "marker": "s", "ls": ":"},
    "lnp": {"color": "tab:blue", "marker": "o", "ls": "-"},
    "ap": {"color": "tab:orange", "marker": "^", "ls": "--"},
    "random": {"color": "tab:green", "marker": "v", "ls": "-."},
}
_ABLATION_COLORS = ("tab:cyan", "tab:pink", "tab:olive", "tab:brown", "tab:purple", "tab:gray", "tab:red")


def method_style(method: str) -> dict:
    """Colour, marker and line style of a method, the same in every figure.

    LNP ablations (``lnp-no-<step>`` / ``lnp-random-<step>``, e.g. ``lnp-no-sparsify``)
    get one colour per step; the ``lnp-random-<step>`` variants are dashed, with diamond
    markers and hatched bars. Unknown methods are grey crosses.

    Parameters
    ----------
    method : str
        Method name of a results row, e.g. ``"lnp"``, ``"ap"``, ``"lnp-random-sparsify"``.

    Returns
    -------
    dict
        Matplotlib keywords ``color``, ``marker``, ``ls`` and, for ablations, ``hatch``
        (a new dict each call).

    Examples
    --------
    >>> method_style("lnp")
    {'color': 'tab:blue', 'marker': 'o', 'ls': '-'}
    >>> method_style("lnp-random-sparsify")["ls"]
    '--'
    """
    if method in METHOD_STYLES:
        return dict(METHOD_STYLES[method])
    from ..pruning.config import STEP_BY_NAME

    for k, step in enumerate(STEP_BY_NAME):
        if method.endswith("-" + step):
            random = method.startswith("lnp-random")
            return {"color": _ABLATION_COLORS[k % len(_ABLATION_COLORS)], "marker": "D" if random else "P",
                    "ls": "--" if random else "-", "hatch": "//" if random else None}
    return {"color": "tab:gray", "marker": "x", "ls": "-"}


def score_metric(rows, task: str) -> str:
    """The score column of a task: ``nrmse_test`` for series, ``accuracy_test`` for images.

    A task counts as an image task when its first row has a numeric ``accuracy_test``.

    Parameters
    ----------
    rows : list of dict
        Results rows (``results.csv`` read as dicts: values may be strings or numbers, empty
        for missing), of any number of models, tasks, methods, seeds and iterations.
    task : str
        Task name (the ``task`` column).

    Returns
    -------
    str
        ``"nrmse_test"`` or ``"accuracy_test"``.

    Raises
    ------
    KeyError
        If no row has this task.

    Examples
    --------
    >>> rows = [{"task": "lorenz_h1", "nrmse_test": "0.12", "accuracy_test": ""},
    ...         {"task": "digits", "nrmse_test": "", "accuracy_test": "0.91"}]
    >>> score_metric(rows, "lorenz_h1"), score_metric(rows, "digits")
    ('nrmse_test', 'accuracy_test')
    """
    for r in rows:
        if r["task"] == task:
            v = r.get("accuracy_test", "")
            return "accuracy_test" if v not in ("", None) and not _nan(v) else "nrmse_test"
    raise KeyError(f"no rows for task {task!r}")


def _nan(v) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def _stats(rows, key):
    vals = np.array([float(r[key]) for r in rows if key in r and not _nan(r[key])], float)
    if not len(vals):
        return math.nan, math.nan
    return float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else 0.0


def baseline_columns(rows, metric: str) -> list[tuple[str, str]]:
    """The baselines with a value in ``rows`` for a score ``metric``, as ``(column, label)``.

    Baseline columns are ``<name>_nrmse`` for ``nrmse_test`` and ``<name>_accuracy`` for
    ``accuracy_test``; known ones come first, in :data:`BASELINES` order, then the others
    sorted by name.

    Parameters
    ----------
    rows : list of dict
        Results rows, or summary rows (whose columns end in ``_mean``).
    metric : {"nrmse_test", "accuracy_test"}
        The score the baselines are compared with.

    Returns
    -------
    list of (str, str)
        Column name (without ``_mean``) and legend label of every baseline with at least
        one numeric value.

    Examples
    --------
    >>> rows = [{"task": "lorenz_h1", "nrmse_test": "0.12", "ridge_nrmse": "0.2",
    ...          "persistence_nrmse": "0.5", "esn_nrmse": ""}]
    >>> baseline_columns(rows, "nrmse_test")
    [('persistence_nrmse', 'persistence'), ('ridge_nrmse', 'lagged ridge')]
    """
    suffix = _SUFFIX[metric]
    found = {}
    for r in rows:
        for k, v in r.items():
            col = k[:-5] if k.endswith("_mean") else k
            if col.endswith(suffix) and col != suffix[1:] and not _nan(v):
                found.setdefault(col, None)
    names = [c[: -len(suffix)] for c in found]
    order = [n for n in BASELINES if n in names] + sorted(n for n in names if n not in BASELINES)
    return [(n + suffix, BASELINES[n][0] if n in BASELINES else n) for n in order]


def _baseline_stats(rows, key):
    """Mean and std over seeds of a baseline column (every row of a seed carries the same
    value, whatever its method or iteration; a seed-independent baseline has std 0)."""
    per_seed: dict = {}
    for r in rows:
        if key in r and not _nan(r[key]):
            per_seed.setdefault(r.get("seed"), []).append(float(r[key]))
    vals = np.array([np.mean(v) for v in per_seed.values()], float)
    if not len(vals):
        return math.nan, math.nan
    return float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else 0.0


def _draw_baselines(ax, rows, metric):
    """A labelled horizontal line per baseline (mean over seeds) on ``ax``."""
    for k, (col, label) in enumerate(baseline_columns(rows, metric)):
        m, _ = _baseline_stats(rows, col)
        name = col[: -len(_SUFFIX[metric])]
        _, style, colour = BASELINES.get(name, (label, (0, (3, 1, 1, 1)), f"C{(k + 5) % 10}"))
        ax.axhline(m, ls=style, color=colour, lw=1.2, label=f"{label} baseline ({m:.3g})")


def _by(rows, **match):
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def _at(rows, iteration: int):
    return [r for r in rows if int(float(r["iteration"])) == iteration]


def _iters(rows):
    return sorted({int(float(r["iteration"])) for r in rows})


def _methods(rows):
    seen = []
    for r in rows:
        if r["method"] not in seen:
            seen.append(r["method"])
    return seen


def plot_trajectory(rows, task: str, axes=None, model: str | None = None):
    """Neurons, synapses and the task score per iteration, one line per method.

    Points are means ± standard deviations over seeds; methods with a single iteration (the
    dense network) are level lines, and the task's baselines are drawn on the score panel.

    Parameters
    ----------
    rows : list of dict
        Results rows (``results.csv`` read as dicts: values may be strings or numbers, empty
        for missing), of any number of models, tasks, methods, seeds and iterations.
    task : str
        Task to plot.
    axes : sequence of three matplotlib.axes.Axes, optional
        Axes for neurons, synapses and score (default: a new 1 x 3 figure).
    model : str, optional
        Only rows of this model (default: all).

    Returns
    -------
    sequence of three matplotlib.axes.Axes
        The neuron, synapse and score Axes.
    """
    import matplotlib.pyplot as plt

    rows = _by(rows, task=task, **({"model": model} if model else {}))
    metric = score_metric(rows, task)
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
    for method in _methods(rows):
        rm = _by(rows, method=method)
        its = _iters(rm)
        for ax, key in zip(axes, ("neurons", "synapses", metric)):
            m, s = np.array([_stats(_at(rm, i), key) for i in its]).T
            st = method_style(method)
            if len(its) == 1:  # dense: a level line across the plot
                ax.axhline(m[0], ls=":", color=st["color"], lw=1, label=method)
                continue
            # equal counts (LNP and AP share the schedule) would hide one line: dodge by 0.06
            shift = 0.06 * (_methods(rows).index(method) - 1) if key in ("neurons", "synapses") else 0.0
            ax.errorbar(np.asarray(its) + shift, m, yerr=s, marker=st["marker"], ms=4, capsize=2, ls=st["ls"],
                        color=st["color"], label=method)
    _draw_baselines(axes[2], rows, metric)
    from matplotlib.ticker import MaxNLocator

    for ax, title in zip(axes, ("neurons", "recurrent synapses", _LABEL[metric])):
        ax.set_xlabel("pruning iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, fontsize="small")
    axes[0].set_ylabel("count")
    axes[2].legend(fontsize="x-small")
    return axes


def plot_score_vs_sops(rows, task: str, ax=None, final_only: bool = False):
    """Task score against average synaptic operations per sample (the paper's Fig. 4).

    Synaptic operations are the total of input, recurrent and readout (``sops_total``). One
    marker per method and iteration (mean ± std over seeds); the final iteration is drawn
    large, and the x axis is logarithmic when the operations span more than a decade.

    Parameters
    ----------
    rows : list of dict
        Results rows (``results.csv`` read as dicts: values may be strings or numbers, empty
        for missing), of any number of models, tasks, methods, seeds and iterations.
    task : str
        Task to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    final_only : bool
        Plot only the final iteration of each method.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    import matplotlib.pyplot as plt

    rows = _by(rows, task=task)
    metric = score_metric(rows, task)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    xs_all = []
    for method in _methods(rows):
        rm = _by(rows, method=method)
        its = _iters(rm)
        pts = []
        for i in (its[-1:] if final_only else its):
            ri = _at(rm, i)
            pts.append((*_stats(ri, "sops_total"), *_stats(ri, metric)))
        x, xs, y, ys = np.array(pts).T
        xs_all.extend(x[np.isfinite(x) & (x > 0)])
        st = method_style(method)
        ax.errorbar(x[-1:], y[-1:], xerr=xs[-1:], yerr=ys[-1:], marker=st["marker"], ms=7, capsize=3, ls="none",
                    color=st["color"], label=method)
        if len(x) > 1:
            ax.plot(x, y, marker=".", ls=st["ls"], lw=0.8, alpha=0.5, color=st["color"])
    _draw_baselines(ax, rows, metric)  # baselines have no spiking cost: lines across the plot
    ax.set_xlabel("synaptic operations per sample (input + recurrent + readout)")
    ax.set_ylabel(_LABEL[metric])
    if xs_all and max(xs_all) > 10 * min(xs_all):  # log only where SOPs span a decade
        ax.set_xscale("log")
    ax.legend(fontsize="x-small")
    ax.set_title(f"{task}: score vs SOPs (final iteration large)", fontsize="small")
    return ax


def plot_ablation(rows, task: str, ax=None):
    """Final-iteration score of every method (mean ± std over seeds) as bars (Fig. 5).

    Parameters
    ----------
    rows : list of dict
        Results rows (``results.csv`` read as dicts: values may be strings or numbers, empty
        for missing), of any number of models, tasks, methods, seeds and iterations.
    task : str
        Task to plot.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure sized to the number of methods).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    import matplotlib.pyplot as plt

    rows = _by(rows, task=task)
    metric = score_metric(rows, task)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(_methods(rows)) + 2), 4), layout="constrained")
    names, means, stds = [], [], []
    for method in _methods(rows):
        rm = _by(rows, method=method)
        last = _iters(rm)[-1]
        m, s = _stats(_at(rm, last), metric)
        names.append(method)
        means.append(m)
        stds.append(s)
    bars = ax.bar(range(len(names)), means, yerr=stds, capsize=3, color=[method_style(m)["color"] for m in names],
                  alpha=0.85)
    for bar, m in zip(bars, names):
        bar.set_hatch(method_style(m).get("hatch"))
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize="small")
    _draw_baselines(ax, rows, metric)
    if baseline_columns(rows, metric):
        ax.legend(fontsize="x-small")
    ax.set_ylabel(_LABEL[metric])
    ax.set_title(f"{task}: final score by method and ablation", fontsize="small")
    return ax


def summary_table(summary) -> str:
    """The final iteration of every (model, task, method) as an aligned text table.

    Each task is headed by its baselines' test scores (mean over seeds, ± std where they
    vary); each method's row gives seeds, neurons, synapses, the score (mean ± std),
    synaptic operations per sample and λ_max (1/s).

    Parameters
    ----------
    summary : list of dict
        Summary rows (mean and std over seeds per model, method, task and iteration, with a
        ``final`` flag), as the experiment runner writes them.

    Returns
    -------
    str
        The table, or ``"(no rows)"`` when no row is final.
    """
    final = [s for s in summary if s.get("final")]
    if not final:
        return "(no rows)"
    lines = []
    for (model, task) in sorted({(s["model"], s["task"]) for s in final}):
        rs = [s for s in final if s["model"] == model and s["task"] == task]
        series = not math.isnan(rs[0].get("nrmse_test_mean", math.nan))
        metric = "nrmse_test" if series else "accuracy_test"
        head = f"{model} / {task}"
        parts = []
        for col, label in baseline_columns(rs, metric):
            m, sd = rs[0].get(f"{col}_mean", math.nan), rs[0].get(f"{col}_std", math.nan)
            if _nan(m):  # the first method lacks it: take the mean over the methods that have it
                m, sd = _stats([{"v": x.get(f"{col}_mean")} for x in rs], "v")[0], math.nan
            fmt = ".4f" if _nan(m) or abs(m) >= 1e-3 else ".2g"  # an ESN's 1e-5 is not 0.0000
            parts.append(f"{label} {'NRMSE' if series else 'accuracy'} {m:{fmt}}"
                         + (f" ± {sd:{fmt}}" if not _nan(sd) and sd > 1e-9 * abs(m) else ""))
        if parts:
            head += f"   baseline{'s' if len(parts) > 1 else ''}: " + ", ".join(parts)
        lines.append(head)
        lines.append(f"  {'method':<22} {'seeds':>5} {'neurons':>9} {'synapses':>10} "
                     f"{('NRMSE' if series else 'accuracy'):>17} {'SOPs/sample':>14} {'lambda_max 1/s':>15}")
        for s in rs:
            lines.append(f"  {s['method']:<22} {s['seeds']:>5} {s['neurons_mean']:>9.0f} {s['synapses_mean']:>10.0f} "
                         f"{s[metric + '_mean']:>9.4f} ± {s[metric + '_std']:<6.4f}"
                         f"{s['sops_total_mean']:>14.0f} {s['lambda_max_mean']:>15.3g}")
        lines.append("")
    return "\n".join(lines).rstrip()


def experiment_figures(rows, out) -> list[str]:
    """Write the three figures for every task into ``out``.

    The figures are :func:`plot_trajectory`, :func:`plot_score_vs_sops` and
    :func:`plot_ablation`, saved as PNG (120 dpi) under the names of :data:`FIGURES` with
    ``_<task>`` before the suffix. Switches matplotlib to the Agg backend.

    Parameters
    ----------
    rows : list of dict
        Results rows (``results.csv`` read as dicts: values may be strings or numbers, empty
        for missing), of any number of models, tasks, methods, seeds and iterations.
    out : str or Path
        Existing directory to write into.

    Returns
    -------
    list of str
        The file names written (without the directory).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    files = []
    tasks = sorted({r["task"] for r in rows})
    for task in tasks:
        suffix = f"_{task}"
        for kind, fn in (("trajectory", plot_trajectory), ("sops", plot_score_vs_sops), ("ablation", plot_ablation)):
            name = FIGURES[kind].replace(".png", f"{suffix}.png")
            ax = fn(rows, task)
            fig = (ax[0] if isinstance(ax, (list, np.ndarray)) else ax).figure
            fig.suptitle(f"{task}", fontsize="small")
            fig.savefig(out / name, dpi=120)
            plt.close(fig)
            files.append(name)
    return files
