"""Experiment files with a task-agnostic ``quality`` task (memory capacity, kernel and
generalisation rank, lnp_brian.tasks.quality): the checks of the file before anything runs, and a
dense-only grid end to end on cpp_standalone (the Pruner's loop is not exercised), whose
quality task is measured on one compiled build that later networks of the run re-use.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lnp_brian.experiment import runner as ex
from lnp_brian.cli.main import main

QUALITY = """
[experiment]
name = "quality_tiny"
seeds = [1]
methods = ["dense"]
device = "cpp_standalone"
workers = 1

[network]
models = ["hrsnn"]
neurons = 60

[pruning]
duration = "0.3 s"
copies = 2

[[tasks]]
kind = "quality"
n_samples = 200
max_delay = 10
streams = 30
stream_length = 10
sample_time = "5 ms"
"""


def _write(tmp_path, text, name="q.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_quality_task_loads_with_defaults(tmp_path):
    cfg = ex.load_experiment(_write(tmp_path, QUALITY))
    task = cfg.task("quality")
    assert task.kind == "quality" and task.family == "quality" and task.regime == "readout"
    assert task.row_names == ["quality"] and task.horizons == []
    assert ex.grid(cfg) == [ex.RunSpec("hrsnn", "dense", 1, "quality")]
    # the defaults of the file format, and the file's values over them
    bare = QUALITY[:QUALITY.index("n_samples")] + 'name = "mc"\n'
    task = ex.load_experiment(_write(tmp_path, bare, "bare.toml")).task("mc")
    assert task.row_names == ["mc"] and task.options == {}
    assert ex._quality_kwargs(task) == {"n_samples": 1000, "max_delay": 40, "streams": 100, "stream_length": 20}
    kw = ex._quality_kwargs(ex.load_experiment(_write(tmp_path, QUALITY.replace(
        'sample_time = "5 ms"', 'sample_time = "5 ms"\nfeature_tau = ["5 ms", "20 ms"]\nnoise = false'),
        "taus.toml")).task("quality"))
    assert kw["feature_taus"] == ["5 ms", "20 ms"] and kw["noise"] is False and kw["n_samples"] == 200
    # the new columns
    cols = ex.RESULT_COLUMNS
    assert len(cols) == len(set(cols))
    for col in ("memory_capacity", "kernel_rank", "generalization_rank", "spikes_per_neuron_per_sample"):
        assert col in cols
    for col in ("memory_capacity", "kernel_rank", "generalization_rank", "spectral_distance", "eig_distance_M",
                "max_re_eig_A"):
        assert col in ex.SUMMARY_METRICS
    new = ["exc_neurons", "inh_neurons", "lambda_max_d0", "max_re_eig_A", "spectral_distance", "eig_distance_M",
           "zero_gain_fraction", "lyapunov_cv", "jaccard_magnitude", "mean_input_change", "input_change_exc",
           "input_change_inh", "clipped", "ipr_M_dense",
           "ipr_M_pruned", "ipr_M_grown", "regrown", "objective_first", "objective_best", "tau_cv_before",
           "tau_cv_after", "neuron_overshoot", "betweenness_hop_spearman"]
    at = cols.index("mean_rate_hz") + 1
    assert cols[at:at + len(new)] == new


# (text to replace, replacement, key named, expectation named, value named)
BAD = [
    ("n_samples = 200", "n_samples = 0", "tasks[0].n_samples", "integer >= 10", "got 0"),
    ("n_samples = 200", "n_samples = 2.5", "tasks[0].n_samples", "expected an integer", "got 2.5"),
    ("n_samples = 200", "n_samples = 100000000", "tasks[0].n_samples", "integer from 10 to", "100000000"),
    ("n_samples = 200", 'n_samples = 200\nregime = "stdp"', "tasks[0].regime", "expected 'readout' for kind 'quality'",
     "got 'stdp'"),
    ("n_samples = 200", "n_samples = 200\nhorizons = [1]", "tasks[0].horizons", "unknown key; expected one of",
     "max_delay"),
    ("n_samples = 200", "n_samples = 200\ndata_seed = 3", "tasks[0].data_seed", "unknown key", "stream_length"),
    ("max_delay = 10", "max_delay = 500", "tasks[0].max_delay", "too few samples", "max_delay 500"),
    ("max_delay = 10", "max_delay = 0", "tasks[0].max_delay", "integer >= 1", "got 0"),
    ("streams = 30", "streams = 1", "tasks[0].streams", "integer >= 2", "got 1"),
    ("stream_length = 10", "stream_length = 500", "tasks[0].stream_length", "longer than n_samples", "500"),
    ("stream_length = 10", "stream_length = 10\nstream_noise = -1.0", "tasks[0].stream_noise", "must lie in [0",
     "got -1.0"),
    ("stream_length = 10", "stream_length = 10\ninput_fraction = 0.0", "tasks[0].input_fraction", "(0, 1]", "got 0.0"),
    ("stream_length = 10", "stream_length = 10\nwashout = -1", "tasks[0].washout", "integer >= 0", "got -1"),
    ("stream_length = 10", "stream_length = 10\nnoise = 1", "tasks[0].noise", "true or false", "got 1"),
    ('sample_time = "5 ms"', 'sample_time = "0.25 ms"', "tasks[0].sample_time", "multiple of the simulation step",
     "0.25 ms"),
    ('sample_time = "5 ms"', 'sample_time = "5 kg"', "tasks[0].sample_time", "quantity in second", "'5 kg'"),
    ('sample_time = "5 ms"', 'sample_time = "5 ms"\ninput_gain = "5 mV"', "tasks[0].input_gain", "quantity in amp",
     "'5 mV'"),
    ('sample_time = "5 ms"', 'sample_time = "5 ms"\ninput_gain = "-5 pA"', "tasks[0].input_gain", "must be positive",
     "'-5 pA'"),
    ('sample_time = "5 ms"', 'sample_time = "5 ms"\nfeature_tau = []', "tasks[0].feature_tau", "non-empty list", ""),
    ('sample_time = "5 ms"', 'sample_time = "5 ms"\nfeature_tau = ["5 ms", "0 ms"]', "tasks[0].feature_tau",
     "positive time", "'0 ms'"),
    ('kind = "quality"', 'kind = "qualty"', "tasks[0].kind", "expected one of lorenz63", "quality, got 'qualty'"),
]


@pytest.mark.parametrize("old, new, key, expected, value", BAD)
def test_bad_quality_task_is_one_clear_error(tmp_path, old, new, key, expected, value):
    assert old in QUALITY
    path = _write(tmp_path, QUALITY.replace(old, new, 1))
    with pytest.raises(ex.ExperimentConfigError) as err:
        ex.load_experiment(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: {key}: "), msg
    assert expected in msg and value in msg, msg


@pytest.fixture(scope="module")
def quality_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("exp_quality")
    path = _write(d, QUALITY)
    out = d / "out"
    assert main(["experiment", str(path), "--out", str(out), "--quiet"]) == 0
    return path, out


def test_quality_grid_end_to_end(quality_run):
    _, out = quality_run
    rows = ex.read_results(out)
    assert len(rows) == 1  # dense: iteration 0, one row per network for a quality task
    r = rows[0]
    assert (r["task"], r["method"], r["iteration"], r["regime"]) == ("quality", "dense", 0, "readout")
    assert r["neurons"] == 60 and r["exc_neurons"] + r["inh_neurons"] == 60
    assert math.isfinite(r["memory_capacity"]) and 0 < r["memory_capacity"] <= 60 * 3  # 3 filter taus
    assert 1 <= r["generalization_rank"] <= r["kernel_rank"] <= 30
    assert r["spikes_per_neuron_per_sample"] > 0 and r["task_rate_hz"] > 0
    assert math.isfinite(r["lambda_max"]) and math.isfinite(r["spectral_distance"])
    assert math.isnan(r["nrmse_test"]) and math.isnan(r["accuracy_test"])  # other tasks' metrics: empty
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:len(ex.RESULT_COLUMNS)] == ex.RESULT_COLUMNS
    # one build for the quality task; the run's count is the pruner's builds plus it
    res = json.loads((out / "runs/hrsnn__dense__s1__quality/result.json").read_text())
    assert res["task_compilations"] == 1
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete" and run["compilations"] == res["compilations"] >= 1
    summary = ex.read_results(out / "summary.csv")
    assert summary[0]["memory_capacity_mean"] == r["memory_capacity"]
    assert summary[0]["kernel_rank_mean"] == r["kernel_rank"]
    text = (out / "summary.txt").read_text()
    assert "memory capacity" in text and "dense" in text
    assert not list(out.glob("fig*_quality.png"))  # the report's figures score by NRMSE / accuracy
    log = (out / "runs/hrsnn__dense__s1__quality/run.log").read_text()
    assert "kernel rank" in log


def test_quality_evaluator_reuses_the_runs_build(quality_run):
    """The evaluator with the run's build folder: the dense network again gives the numbers
    of results.csv and a pruned one (same topology) is measured, neither compiling."""
    import lnp_brian as lb

    path, out = quality_run
    cfg = ex.load_experiment(path)
    task = cfg.task("quality")
    (task_dir,) = out.glob("builds/*/task-quality-readout-*")
    dense = lb.build_network(lb.load_model("hrsnn"), 60, seed=1)
    ev = ex.TaskEvaluator(task, dense, cfg.device, task_dir, 1)
    first = ev(dense)
    assert first["rates"] is None  # AP then ranks by the noise probe's rates
    assert ev.compilations == 0
    row = ex.read_results(out)[0]
    assert first["quality|memory_capacity"] == row["memory_capacity"]
    assert first["quality|kernel_rank"] == row["kernel_rank"]
    assert ev(dense) is first  # cached per network content
    pruned = dense.prune(neurons=list(range(0, 60, 4)))
    second = ev(pruned)
    assert ev.compilations == 0
    assert math.isfinite(second["quality|memory_capacity"]) and second["quality|kernel_rank"] >= 1


def test_quality_and_series_tasks_report_apart(tmp_path, monkeypatch):
    """A grid with a quality and a series task (runs replaced by saved rows, nothing
    simulated): the series task gets the report's figures and table, the quality task its own
    table, and results.csv carries both kinds of metric."""
    text = QUALITY.replace('methods = ["dense"]', 'methods = ["dense", "lnp"]') + (
        '\n[[tasks]]\nkind = "lorenz63"\nsamples = 600\nsample_time = "10 ms"\n')
    path = _write(tmp_path, text)

    def fake(cfg, spec, out, builds=None, echo=False):
        spec = ex.RunSpec(**spec)
        rows = []
        for it in ([0] if spec.method == "dense" else [0, 1]):
            base = {"experiment": "quality_tiny", "model": "hrsnn", "method": spec.method, "seed": 1,
                    "regime": "readout", "iteration": it, "neurons": 60 - 10 * it, "synapses": 350 - 100 * it,
                    "lambda_max": 19.0, "spectral_distance": 0.1 * it, "eig_distance_M": 0.2 * it,
                    "max_re_eig_A": -15.0}
            if spec.task == "quality":
                rows.append({**base, "task": "quality", "horizon": "", "memory_capacity": 1.5 - 0.1 * it,
                             "kernel_rank": 30.0 - it, "generalization_rank": 25.0 - it,
                             "spikes_per_neuron_per_sample": 0.2})
            else:
                rows.append({**base, "task": "lorenz63_h1", "horizon": 1, "nrmse_test": 0.2 + 0.01 * it,
                             "sops_total": 1000.0 - 100 * it, "persistence_nrmse": 0.22})
        res = {"key": spec.key, "spec": vars(spec), "wall_seconds": 1.0, "compilations": 0, "rows": rows}
        done = Path(out) / "runs" / spec.key / "result.json"
        ex.write_result(done, res)
        return ex.read_result(done)

    monkeypatch.setattr(ex, "run_one", fake)
    out = tmp_path / "exp"
    summary = ex.Experiment(path, out, quiet=True).run()
    rows = ex.read_results(out)
    assert {r["task"] for r in rows} == {"quality", "lorenz63_h1"} and len(rows) == 6
    final_q = next(s for s in summary if s["task"] == "quality" and s["method"] == "lnp" and s["final"])
    assert final_q["memory_capacity_mean"] == pytest.approx(1.4) and final_q["spectral_distance_mean"] == 0.1
    text = (out / "summary.txt").read_text()
    assert "hrsnn / lorenz63_h1" in text and "NRMSE" in text
    assert "hrsnn / quality" in text and "memory capacity" in text and "1.400" in text
    assert (out / "fig3_trajectory_lorenz63_h1.png").exists()
    assert not list(out.glob("fig*_quality.png"))
