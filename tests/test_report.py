"""Reports carry the baselines beside the reservoir's score: results rows -> summary.csv
columns, summary.txt, and labelled lines in the figures. Synthetic rows, nothing simulated."""

from __future__ import annotations

import csv
import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from lnp_brian.experiment import runner as ex  # noqa: E402
from lnp_brian.report import summary as report  # noqa: E402


def _rows(with_esn=True, with_image=True):
    rows = []
    esn = {1: 0.011, 2: 0.013}  # the ESN baseline is seeded per run: it varies with the seed
    for seed in (1, 2):
        for method, iters in (("dense", [0]), ("lnp", [0, 1, 2])):
            for it in iters:
                base = {"experiment": "t", "model": "hrsnn", "method": method, "seed": seed, "regime": "readout",
                        "iteration": it, "neurons": 100 - 10 * it, "synapses": 1000 - 200 * it,
                        "lambda_max": 1.0, "sops_total": 5000.0 - 1000 * it + seed}
                rows.append({**base, "task": "lorenz63_h10", "horizon": 10, "nrmse_test": 0.5 + 0.01 * it + 0.001 * seed,
                             "persistence_nrmse": 1.39, "ridge_nrmse": 0.77,
                             **({"esn_nrmse": esn[seed]} if with_esn else {})})
                if with_image:
                    rows.append({**base, "task": "digits", "accuracy_test": 0.8 - 0.02 * it,
                                 "pixels_logistic_accuracy": 0.95})
    return rows


def test_flatten_carries_series_and_image_baselines():
    common = {"sops": {"input": 0, "recurrent": 1, "readout": 2, "total": 3, "spikes": 4}, "rate_hz": 5.0,
              "counts": {"neurons_with_readout": 1, "synapses_with_readout": 2, "input_synapses": 0,
                         "readout_synapses": 3}, "readout": {"alpha": 1.0}}
    series = ex._flatten("s", {**common, "nrmse": {"train": 0.1, "val": 0.2, "test": 0.3}, "rmse": {"test": 1.0},
                               "baselines": {"persistence": {"nrmse": 1.3, "rmse": 9.0, "val_nrmse": 1.2},
                                             "ridge": {"nrmse": 0.7, "alpha": 1e-6, "lags": 6},
                                             "esn": {"nrmse": 0.02, "rmse": 0.1, "val_nrmse": 0.03}}})
    assert (series["s|persistence_nrmse"], series["s|ridge_nrmse"], series["s|esn_nrmse"]) == (1.3, 0.7, 0.02)
    image = ex._flatten("d", {**common, "accuracy": {"train": 1.0, "test": 0.8},
                              "baselines": {"pixels_logistic": {"accuracy": 0.95, "C": 0.1}}})
    assert image["d|pixels_logistic_accuracy"] == 0.95 and "d|pixels_logistic_nrmse" not in image
    for col in ex.BASELINE_METRICS:
        assert col in ex.RESULT_COLUMNS and col in ex.SUMMARY_METRICS


def test_summary_csv_and_text_have_every_baseline(tmp_path):
    summary = ex.summarise(_rows())
    path = ex.write_summary(tmp_path / "summary.csv", summary)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for col in ("persistence_nrmse", "ridge_nrmse", "esn_nrmse", "pixels_logistic_accuracy"):
        assert f"{col}_mean" in rows[0] and f"{col}_std" in rows[0]
    lnp = next(r for r in rows if r["task"] == "lorenz63_h10" and r["method"] == "lnp" and r["final"] == "1")
    assert float(lnp["esn_nrmse_mean"]) == pytest.approx(0.012)
    assert float(lnp["esn_nrmse_std"]) == pytest.approx(np.std([0.011, 0.013], ddof=1))
    assert lnp["pixels_logistic_accuracy_mean"] == ""  # a series row has no image baseline
    text = report.summary_table(summary)
    head = next(line for line in text.splitlines() if line.startswith("hrsnn / lorenz63_h10"))
    assert "persistence NRMSE 1.3900" in head and "lagged ridge NRMSE 0.7700" in head
    assert "ESN NRMSE 0.0120 ± 0.0014" in head
    head = next(line for line in text.splitlines() if line.startswith("hrsnn / digits"))
    assert "baseline: logistic on pixels accuracy 0.9500" in head


def test_a_new_baseline_column_is_summarised_too(tmp_path):
    rows = [{**r, "nvar_nrmse": 0.3} for r in _rows(with_image=False)]
    summary = ex.summarise(rows)
    assert summary[0]["nvar_nrmse_mean"] == 0.3
    header = ex.write_summary(tmp_path / "s.csv", summary).read_text().splitlines()[0]
    assert "nvar_nrmse_mean" in header
    assert "nvar NRMSE 0.3000" in report.summary_table(summary)


def test_old_results_without_the_new_baselines_still_report(tmp_path):
    rows = _rows(with_esn=False, with_image=False)
    summary = ex.summarise(rows)
    text = report.summary_table(summary)
    assert "persistence NRMSE 1.3900, lagged ridge NRMSE 0.7700" in text and "ESN" not in text
    assert math.isnan(summary[0]["esn_nrmse_mean"])
    assert report.experiment_figures(rows, tmp_path)


def _labels(ax):
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_figures_draw_a_labelled_line_per_baseline(tmp_path):
    import matplotlib.pyplot as plt

    rows = _rows()
    axes = report.plot_trajectory(rows, "lorenz63_h10")
    labels = _labels(axes[2])
    assert "persistence baseline (1.39)" in labels and "lagged ridge baseline (0.77)" in labels
    assert "ESN baseline (0.012)" in labels  # the mean over seeds
    esn = next(line for line in axes[2].get_lines() if line.get_label().startswith("ESN"))
    assert esn.get_ydata()[0] == pytest.approx(0.012)
    ax = report.plot_score_vs_sops(rows, "lorenz63_h10")
    assert {"persistence baseline (1.39)", "lagged ridge baseline (0.77)", "ESN baseline (0.012)"} <= set(_labels(ax))
    ax = report.plot_ablation(rows, "digits")
    assert _labels(ax) == ["logistic on pixels baseline (0.95)"]
    assert report.baseline_columns(rows, "accuracy_test") == [("pixels_logistic_accuracy", "logistic on pixels")]
    assert [c for c, _ in report.baseline_columns(rows, "nrmse_test")] == ["persistence_nrmse", "ridge_nrmse",
                                                                         "esn_nrmse"]
    plt.close("all")
    files = report.experiment_figures(rows, tmp_path)
    assert len(files) == 6 and all((tmp_path / f).stat().st_size > 5000 for f in files)
