"""Experiment runner: a tiny grid end to end on a real dask cluster, the same grid with the
local executor killed and resumed (equal results), retries and failures, config errors, the
analysis scripts.

Every experiment here shares one builds folder (``--builds``): the tiny grid's two builds
(the pruning loop and the Lorenz63 task) are compiled once, by the first experiment, and every
later one re-uses them, so the comparisons below are between runs of the same binaries.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lnp_brian.experiment import runner as ex
from lnp_brian.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
TINY = """
[experiment]
name = "tiny"
seeds = [1]
methods = ["dense", "lnp", "ap"]
device = "cpp_standalone"
workers = 1

[network]
models = ["hrsnn"]
neurons = 80

[pruning]
iterations = 2
target_neurons = 0.3
target_synapses = 0.6
trials = 2
duration = "0.3 s"
copies = 2

[[tasks]]
name = "lorenz63"
kind = "lorenz63"
horizons = [1, 10]
samples = 600
chunk = 400
sample_time = "10 ms"           # short presentations keep the grid quick (the default is 50 ms)
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("exp_config")
    (d / "tiny.toml").write_text(TINY)
    return d / "tiny.toml"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    return tmp_path_factory.mktemp("exp_builds")


@pytest.fixture(scope="module")
def uninterrupted(tiny, builds, tmp_path_factory):
    """The reference results: the grid run once, through the CLI on a real dask cluster of two
    worker processes. The resume test runs the same grid with the local executor and compares
    its results.csv with these, so one grid run serves as both the dask and the local check."""
    from distributed import LocalCluster

    out = tmp_path_factory.mktemp("exp_plain") / "exp"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        code = main(["experiment", str(tiny), "--out", str(out), "--builds", str(builds), "--quiet",
                     "--scheduler", cluster.scheduler_address])
    assert code == 0
    return out


def _cli():
    return [sys.executable, "-m", "lnp_brian.cli"]


def test_tiny_grid_end_to_end(uninterrupted):
    rows = ex.read_results(uninterrupted)
    # dense: iteration 0 only; lnp and ap: 0, 1, 2; one row per horizon
    assert len(rows) == (1 + 3 + 3) * 2
    assert {r["task"] for r in rows} == {"lorenz63_h1", "lorenz63_h10"}
    by = {(r["method"], r["task"], int(r["iteration"])): r for r in rows}
    dense = by[("dense", "lorenz63_h1", 0)]
    assert dense["neurons"] == 80
    for method in ("lnp", "ap"):
        # iteration 0 is the same dense network scored with the same noise seed
        assert by[(method, "lorenz63_h1", 0)]["nrmse_test"] == dense["nrmse_test"]
        final = by[(method, "lorenz63_h1", 2)]
        assert final["neurons"] == round(80 * 0.7)  # the neuron target, exactly
        assert abs(final["synapses"] - dense["synapses"] * 0.4) <= 0.05 * dense["synapses"] * 0.4
        # fewer live synapses and neurons: fewer recurrent operations per sample
        assert final["sops_recurrent"] < 0.8 * dense["sops_recurrent"]
        assert final["readout_synapses"] == final["neurons"] * 3 * 5  # 3 outputs x 5 filter blocks
    # the baselines beside every series row are the known ones (docs/reservoir.md)
    h1, h10 = by[("dense", "lorenz63_h1", 0)], by[("dense", "lorenz63_h10", 0)]
    assert h1["ridge_nrmse"] < 0.02 and 0.15 < h1["persistence_nrmse"] < 0.3
    assert 0.6 < h10["ridge_nrmse"] < 1.0 and h10["persistence_nrmse"] > 1.0
    # the spiking reservoir beats persistence at both horizons (measured 0.17 vs 0.22, 0.67 vs 1.34)
    assert h1["nrmse_test"] < h1["persistence_nrmse"] and h10["nrmse_test"] < h10["persistence_nrmse"]
    assert h10["nrmse_test"] > h1["nrmse_test"]  # ten steps ahead is harder
    # AP ranked neurons by their rates under the task's training inputs
    info = json.loads((uninterrupted / "runs/hrsnn__ap__s1__lorenz63/checkpoints/iter_001/info.json").read_text())
    assert info["ranked_by"] == "task rates"
    summary = ex.read_results(uninterrupted / "summary.csv")
    finals = [s for s in summary if s["final"] == 1]
    assert {s["method"] for s in finals} == {"dense", "lnp", "ap"} and all(s["seeds"] == 1 for s in finals)
    run = json.loads((uninterrupted / "run.json").read_text())
    assert run["status"] == "complete" and run["failed"] == {} and len(run["complete"]) == 3
    assert run["compilations"] <= 3  # loop, gain replay and task builds, shared by the three methods
    res = json.loads((uninterrupted / "runs/hrsnn__lnp__s1__lorenz63/result.json").read_text())
    assert {"network", "pruning", "task_noise", "encoder"} <= set(res["seeds"])
    assert res["versions"]["brian2"] == "2.10.1"
    for name in ("fig3_trajectory", "fig4_score_vs_sops", "fig5_ablation"):
        for task in ("lorenz63_h1", "lorenz63_h10"):
            assert (uninterrupted / f"{name}_{task}.png").stat().st_size > 10_000
    assert "persistence NRMSE" in (uninterrupted / "summary.txt").read_text()


def test_resume_after_kill_gives_the_same_results(tiny, builds, uninterrupted, tmp_path):
    out = tmp_path / "exp"
    ckpt = out / "runs/hrsnn__lnp__s1__lorenz63/checkpoints/iter_001/row.json"
    proc = subprocess.Popen(_cli() + ["experiment", str(tiny), "--out", str(out), "--builds", str(builds), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 600
        while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert ckpt.exists(), "the LNP run never reached its first iteration"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert not (out / "runs/hrsnn__lnp__s1__lorenz63/result.json").exists()  # killed mid-run
    assert (out / "runs/hrsnn__dense__s1__lorenz63/result.json").exists()
    done = subprocess.run(_cli() + ["experiment", str(tiny), "--out", str(out), "--builds", str(builds),
                                    "--resume", "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "results.csv").read_text() == (uninterrupted / "results.csv").read_text()
    log = (out / "runs/hrsnn__lnp__s1__lorenz63/run.log").read_text()
    assert "resuming after iteration 1" in log
    assert json.loads((out / "run.json").read_text())["resumed"] == 1


def test_the_runs_ran_on_the_dask_workers(uninterrupted):
    """The reference grid ran on the cluster's worker processes, not in this one (its results
    equal the local executor's: test_resume_after_kill_gives_the_same_results)."""
    run = json.loads((uninterrupted / "run.json").read_text())
    assert "dask.distributed" in run["executor"] and "2 workers" in run["executor"]
    pids = {json.loads((uninterrupted / "runs" / k / "result.json").read_text())["pid"] for k in run["complete"]}
    assert os.getpid() not in pids


def _replay(uninterrupted, fail):
    """A run_one that replays the saved results and fails as ``fail(key, attempt)`` says."""
    attempts: dict = {}

    def fake(cfg, spec, out, builds=None, echo=False):
        key = ex.RunSpec(**spec).key
        attempts[key] = attempts.get(key, 0) + 1
        if fail(key, attempts[key]):
            raise RuntimeError(f"worker lost while running {key}")
        d = Path(out) / "runs" / key
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(uninterrupted / "runs" / key / "result.json", d / "result.json")
        return json.loads((d / "result.json").read_text())

    return fake, attempts


def test_a_failed_run_is_retried_once(tiny, uninterrupted, tmp_path, monkeypatch):
    fake, attempts = _replay(uninterrupted, lambda key, n: "__lnp__" in key and n == 1)
    monkeypatch.setattr(ex, "run_one", fake)
    out = tmp_path / "exp"
    ex.Experiment(tiny, out, quiet=True).run()
    assert attempts["hrsnn__lnp__s1__lorenz63"] == 2 and attempts["hrsnn__dense__s1__lorenz63"] == 1
    assert (out / "results.csv").read_text() == (uninterrupted / "results.csv").read_text()
    assert "retrying" in (out / "run.log").read_text()


def test_a_run_failing_twice_is_reported_and_the_others_kept(tiny, uninterrupted, tmp_path, monkeypatch):
    fake, attempts = _replay(uninterrupted, lambda key, n: "__ap__" in key)
    monkeypatch.setattr(ex, "run_one", fake)
    out = tmp_path / "exp"
    with pytest.raises(ex.ExperimentIncomplete, match="1 of 3 runs failed: hrsnn__ap__s1__lorenz63"):
        ex.Experiment(tiny, out, quiet=True).run()
    assert attempts["hrsnn__ap__s1__lorenz63"] == 2
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "incomplete" and "worker lost" in run["failed"]["hrsnn__ap__s1__lorenz63"]
    rows = ex.read_results(out)
    assert {r["method"] for r in rows} == {"dense", "lnp"}
    # --resume runs only what is missing
    monkeypatch.setattr(ex, "run_one", _replay(uninterrupted, lambda key, n: False)[0])
    ex.Experiment(tiny, out, resume=True, quiet=True).run()
    assert (out / "results.csv").read_text() == (uninterrupted / "results.csv").read_text()


def test_analysis_scripts_regenerate_from_the_directory(uninterrupted, tmp_path):
    for script in ("fig3_trajectory", "fig4_score_vs_sops", "fig5_ablation", "table_summary"):
        done = subprocess.run([sys.executable, str(ROOT / "analysis" / f"{script}.py"), str(uninterrupted),
                               "--out", str(tmp_path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "fig3_trajectory_lorenz63_h10.png").stat().st_size > 10_000
    assert (tmp_path / "summary.csv").read_text() == (uninterrupted / "summary.csv").read_text()
    bad = subprocess.run([sys.executable, str(ROOT / "analysis" / "fig3_trajectory.py"), str(tmp_path / "nope")],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "results.csv not found" in bad.stderr


def test_shipped_configs_parse():
    for path in sorted((ROOT / "configs").glob("*.toml")):
        if path.stem == "cifar10":
            with pytest.raises(ex.ExperimentConfigError, match=r"tasks\[0\]\.path: .* does not exist"):
                ex.load_experiment(path)
            continue
        cfg = ex.load_experiment(path)
        assert ex.grid(cfg)
    quick = ex.load_experiment(ROOT / "configs/quick_lorenz63.toml")
    assert quick.methods == ["dense", "lnp", "ap"] and len(quick.seeds) == 3


@pytest.mark.parametrize("edit, key, expected", [
    (("[network]", "[network]\nsize = 3"), "network.size", "unknown key"),
    (('methods = ["dense", "lnp", "ap"]', 'methods = ["lnp", "magic"]'), "experiment.methods", "unknown method 'magic'"),
    (('sample_time = "10 ms"', 'sample_time = "5 kg"'), "tasks[0].sample_time", "quantity in second"),
    (('kind = "lorenz63"', 'kind = "weather"'), "tasks[0].kind", "expected one of lorenz63"),
    (('seeds = [1]', 'seeds = [1, 1]'), "experiment.seeds", "seeds repeat"),
    (('models = ["hrsnn"]', 'models = ["nosuchmodel"]'), "network.models", "nosuchmodel"),
    (('models = ["hrsnn"]', 'models = ["lorenz63"]'), "network.models", "no spiking neurons"),
    (('target_neurons = 0.3', 'target_neurons = 1.5'), "pruning", "fraction removed"),
    (('kind = "lorenz63"', 'kind = "cifar10"'), "tasks[0].chunk", "unknown key"),
    (('device = "cpp_standalone"', 'device = "fpga"'), "experiment.device", "expected one of"),
    (('horizons = [1, 10]', 'horizons = [0]'), "tasks[0].horizons", "integers >= 1"),
    (('[pruning]', '[pruning'), "", "not valid TOML"),
])
def test_bad_config_names_file_and_key(tmp_path, edit, key, expected):
    path = tmp_path / "bad.toml"
    assert edit[0] in TINY
    path.write_text(TINY.replace(edit[0], edit[1], 1))
    with pytest.raises(ex.ExperimentConfigError) as err:
        ex.load_experiment(path)
    msg = str(err.value)
    assert str(path) in msg and key in msg and expected in msg


def test_cifar_task_needs_an_existing_path(tmp_path):
    cfg = TINY.split("[[tasks]]")[0] + '[[tasks]]\nkind = "cifar10"\n'
    (tmp_path / "c.toml").write_text(cfg)
    with pytest.raises(ex.ExperimentConfigError, match=r"tasks\[0\]\.path: cifar10 needs the folder"):
        ex.load_experiment(tmp_path / "c.toml")
    (tmp_path / "c.toml").write_text(cfg + 'path = "missing_dir"\n')
    with pytest.raises(ex.ExperimentConfigError, match="missing_dir does not exist"):
        ex.load_experiment(tmp_path / "c.toml")


def test_cli_experiment_refuses_to_overwrite(uninterrupted, tiny, capsys):
    assert main(["experiment", str(tiny), "--out", str(uninterrupted)]) == 2
    assert "already holds a run" in capsys.readouterr().err


# ---- every key checked before anything runs ---------------------------------------------------
QUICK = (ROOT / "configs" / "quick_lorenz63.toml").read_text()
DIGITS = (ROOT / "configs" / "digits.toml").read_text()
TASKS_PART = QUICK[QUICK.index("[[tasks]]"):]

# (base file, text to replace, replacement, key named, expectation named, value named)
BAD_KEYS = [
    ("quick", 'name = "quick_lorenz63"', 'name = ""', "experiment.name", "non-empty one-line name", "''"),
    ("quick", "seeds = 3", "seeds = 0", "experiment.seeds", "integer from 1 to", "got 0"),
    ("quick", "seeds = 3", "seeds = []", "experiment.seeds", "non-empty list of integers >= 0", "got []"),
    ("quick", "seeds = 3", "seeds = [-1, 2]", "experiment.seeds", "integers >= 0", "[-1, 2]"),
    ("quick", 'methods = ["dense", "lnp", "ap"]', "methods = []", "experiment.methods", "non-empty list", "got []"),
    ("quick", 'methods = ["dense", "lnp", "ap"]', 'methods = ["lnp", "lnp"]', "experiment.methods",
     "distinct methods", "['lnp', 'lnp']"),
    ("quick", 'methods = ["dense", "lnp", "ap"]', "methods = [1]", "experiment.methods", "a method is a name", "got 1"),
    ("quick", "workers = 2", "workers = 0", "experiment.workers", "integer from 1 to", "got 0"),
    ("quick", "workers = 2", "workers = 2\nretries = -1", "experiment.retries", "integer from 0 to 100", "got -1"),
    ("quick", 'models = ["hrsnn"]', "models = []", "network.models", "non-empty list", "got []"),
    ("quick", "neurons = 300", "neurons = 0", "network.neurons", "integer from 10 to 1,000,000", "got 0"),
    ("quick", "neurons = 300", "neurons = 100000000", "network.neurons", "integer from 10 to 1,000,000", "100000000"),
    ("quick", "neurons = 300", "neurons = 3.5", "network.neurons", "expected an integer", "got 3.5"),
    ("quick", "iterations = 3", "iterations = 0", "pruning.iterations", "integer >= 1", "got 0"),
    ("quick", "target_neurons = 0.3", "target_neurons = nan", "pruning.target_neurons", "finite number", "got nan"),
    ("quick", "target_synapses = 0.6", "target_synapses = inf", "pruning.target_synapses", "finite number", "got inf"),
    ("quick", "target_synapses = 0.6", "target_synapses = 1.0", "pruning.target_synapses", "0 <= f < 1", "got 1.0"),
    ("quick", "target_neurons = 0.3", "target_neurons = -0.1", "pruning.target_neurons", "fraction removed", "-0.1"),
    ("quick", "trials = 6", "trials = -1", "pruning.trials", "integer >= 0", "got -1"),
    ("quick", "trials = 6", "trials = 0", "pruning.trials", ">= 1 while the timescale optimisation is on", "got 0"),
    ("quick", 'duration = "1 s"', 'duration = "200 ms"', "pruning.duration", "longer than the 200 ms transient",
     "'200 ms'"),
    ("quick", 'duration = "1 s"', 'duration = "-1 s"', "pruning.duration", "200 ms transient", "'-1 s'"),
    ("quick", 'duration = "1 s"', 'duration = "0.5 kg"', "pruning.duration", "quantity in second", "'0.5 kg'"),
    ("quick", "copies = 2", "copies = 0", "pruning.copies", "integer >= 1", "got 0"),
    ("quick", "copies = 2", 'copies = 2\ninterval = "900 ms"', "pruning.interval",
     "at most duration - transient = 1000 ms - 200 ms = 800 ms", "'900 ms'"),
    ("quick", "copies = 2", 'copies = 2\ninterval = "0.25 ms"', "pruning.interval",
     "multiple of the simulation step", "'0.25 ms'"),
    ("quick", "copies = 2", "copies = 2\nperturbation = 0.0", "pruning.perturbation", "finite number > 0", "got 0.0"),
    ("quick", "copies = 2", "copies = 2\nregrow_budget = 1.5", "pruning.regrow_budget", "0 <= f < 1", "got 1.5"),
    ("quick", "copies = 2", 'copies = 2\nexponents = "magic"', "pruning.exponents", "'linear' or 'spiking'", "'magic'"),
    ("quick", TASKS_PART, "", "tasks", "at least one [[tasks]] table", "got []"),
    ("quick", "horizons = [1, 10]", "horizons = []", "tasks[0].horizons", "list of integers >= 1", "got []"),
    ("quick", "horizons = [1, 10]", "horizons = [1, 1]", "tasks[0].horizons", "distinct horizons", "[1, 1]"),
    ("quick", "samples = 2500", "samples = 0", "tasks[0].samples", "integer from 2 to", "got 0"),
    ("quick", "samples = 2500", "samples = -5", "tasks[0].samples", "integer from 2 to", "got -5"),
    ("quick", "samples = 2500", "samples = 30", "tasks[0].horizons", "block has", "samples = 30"),
    ("quick", "samples = 2500", "samples = 2500\ntrain = 1.5", "tasks[0].train", "0 < f < 1", "got 1.5"),
    ("quick", "samples = 2500", "samples = 2500\ntrain = 0.0", "tasks[0].train", "0 < f < 1", "got 0.0"),
    ("quick", "samples = 2500", "samples = 2500\ntrain = 0.7", "tasks[0].train", "train + val + test = 1", "0.7 + 0.2 + 0.2"),
    ("quick", "samples = 2500", "samples = 2500\ndt = 0.0", "tasks[0].dt", "sampling step > 0", "got 0.0"),
    ("quick", 'kind = "lorenz63"', 'kind = "mackey_glass"\ndt = 0.7', "tasks[0].dt", "tau / dt must be an integer", "0.7"),
    ("quick", "samples = 2500", "samples = 2500\ndata_seed = -3", "tasks[0].data_seed", "integer >= 0", "got -3"),
    ("quick", 'sample_time = "50 ms"', 'sample_time = "0 ms"', "tasks[0].sample_time", "positive time", "'0 ms'"),
    ("quick", 'sample_time = "50 ms"', 'sample_time = "0.25 ms"', "tasks[0].sample_time",
     "multiple of the simulation step", "0.25 ms"),
    ("quick", 'sample_time = "50 ms"', 'sample_time = "75 ms"', "tasks[0].sample_time",
     "not a whole number of simulation steps of 0.1 ms in floating point", "72 ms or 76 ms"),
    ("quick", "input_bias = 0.5", "input_bias = -1", "tasks[0].input_bias", "finite number >= 0", "got -1"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "800 mV"', "tasks[0].input_gain", "quantity in amp", "'800 mV'"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "-800 pA"', "tasks[0].input_gain", "positive current",
     "'-800 pA'"),
    ("digits", 'input_weight = "50 pA"', 'input_weight = "0 pA"', "tasks[0].input_weight", "must be positive",
     "'0 pA'"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\ninput_fraction = 0.0', "tasks[0].input_fraction",
     "(0, 1]", "got 0.0"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\ninput_fraction = 2', "tasks[0].input_fraction",
     "(0, 1]", "got 2"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\nwashout = -1', "tasks[0].washout", "integer >= 0", "got -1"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\nchunk = 0', "tasks[0].chunk", "integer >= 1", "got 0"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\nstdp_epochs = 0', "tasks[0].stdp_epochs",
     "integer >= 1", "got 0"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\nfeature_tau = "-5 ms"', "tasks[0].feature_tau",
     "positive time", "'-5 ms'"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\nfeature_kernel = "gauss"', "tasks[0].feature_kernel",
     "one of 'exponential', 'alpha'", "'gauss'"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\nsigned = "yes"', "tasks[0].signed",
     "true or false", "'yes'"),
    ("quick", 'input_gain = "3200 pA"', 'input_gain = "3200 pA"\nnoise = 1', "tasks[0].noise", "true or false", "got 1"),
    ("digits", "n_train = 500", "n_train = 5", "tasks[0].n_train", "integer >= 10", "got 5"),
    ("digits", "n_train = 500", "n_train = 1700", "tasks[0].n_train", "at most the 1797 digits", "1700 + 300 = 2000"),
    ("digits", 'present = "100 ms"', 'present = "0 ms"', "tasks[0].present", "positive time", "'0 ms'"),
    ("digits", 'rest = "20 ms"', 'rest = "-20 ms"', "tasks[0].rest", "time >= 0", "'-20 ms'"),
    ("digits", "max_rate = 800.0", "max_rate = 0.0", "tasks[0].max_rate", "finite rate > 0 Hz", "got 0.0"),
    ("digits", "batch = 100", "batch = 0", "tasks[0].batch", "integer >= 1", "got 0"),
    ("digits", 'input_weight = "50 pA"', 'input_weight = "100 pA"\ncolor = "red"', "tasks[0].color",
     "'rgb' or 'gray'", "'red'"),
]


@pytest.mark.parametrize("base, old, new, key, expected, value", BAD_KEYS,
                         ids=[f"{c[3]}={c[2].splitlines()[-1] if c[2] else 'removed'}" for c in BAD_KEYS])
def test_every_bad_key_is_refused_before_anything_runs(tmp_path, base, old, new, key, expected, value):
    text = {"quick": QUICK, "digits": DIGITS}[base]
    assert text.count(old) == 1, old
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new))
    with pytest.raises(ex.ExperimentConfigError) as err:
        ex.load_experiment(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: {key}: "), msg
    assert expected in msg and value in msg, msg
    assert "\n" not in msg and err.value.key == key


def test_bad_experiment_files_name_the_path(tmp_path):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"[experiment]\nname = \"\xff\xfe\"\n")
    broken = tmp_path / "broken.toml"
    broken.write_text('[experiment]\nname = "x\n')
    scalar = tmp_path / "scalar.toml"
    scalar.write_text("experiment = 5\n")
    for path, expected in ((folder, "is a directory"), (binary, "not UTF-8"), (broken, "not valid TOML"),
                           (scalar, "experiment: expected a table [experiment], got 5"),
                           (tmp_path / "missing.toml", "no such file")):
        with pytest.raises(ex.ExperimentConfigError) as err:
            ex.load_experiment(path)
        msg = str(err.value)
        assert msg.startswith(f"{path}: ") and expected in msg and "\n" not in msg, msg


def _fake_result(cfg, spec):
    spec = ex.RunSpec(**spec) if isinstance(spec, dict) else spec
    return {"key": spec.key, "spec": vars(spec), "wall_seconds": 1.0, "compilations": 0,
            "rows": [{"experiment": "tiny", "model": "hrsnn", "method": spec.method, "seed": spec.seed,
                      "task": "lorenz63_h1", "regime": "readout", "horizon": 1, "iteration": 0,
                      "neurons": 80, "synapses": 500, "nrmse_test": 0.5}]}


def test_ctrl_c_marks_the_experiment_interrupted_and_resume_continues(tiny, tmp_path, monkeypatch):
    calls = []

    def fake(cfg, spec, out, builds=None, echo=False):
        key = ex.RunSpec(**spec).key
        calls.append(key)
        if "__dense__" not in key:
            raise KeyboardInterrupt
        done = Path(out) / "runs" / key / "result.json"
        ex.write_result(done, _fake_result(cfg, spec))
        return ex.read_result(done)

    monkeypatch.setattr(ex, "run_one", fake)
    out = tmp_path / "exp"
    with pytest.raises(KeyboardInterrupt):
        ex.Experiment(tiny, out, quiet=True).run()
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "interrupted"
    assert run["complete"] == ["hrsnn__dense__s1__lorenz63"] and run["failed"] == {}
    assert not (out / "runs" / "hrsnn__lnp__s1__lorenz63" / "result.json").exists()
    assert calls == ["hrsnn__dense__s1__lorenz63", "hrsnn__lnp__s1__lorenz63"]  # not retried
    # --resume skips the complete run and starts with the interrupted one
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        ex.Experiment(tiny, out, resume=True, quiet=True).run()
    assert calls == ["hrsnn__lnp__s1__lorenz63"]
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "interrupted" and run["resumed"] == 1


def test_result_files_are_checked_on_resume(tiny, tmp_path, monkeypatch):
    spec = {"model": "hrsnn", "method": "dense", "seed": 1, "task": "lorenz63"}
    f = tmp_path / "result.json"
    ex.write_result(f, _fake_result(None, spec))
    assert ex.read_result(f)["rows"][0]["nrmse_test"] == 0.5 and "sha256" not in ex.read_result(f)
    f.write_text(f.read_text().replace('"nrmse_test": 0.5', '"nrmse_test": 0.1'))
    with pytest.raises(ValueError, match=r"result .*result\.json does not match its checksum.*--overwrite"):
        ex.read_result(f)
    # an experiment resumed over a changed result stops before running anything
    def interrupted(cfg, spec, out, builds=None, echo=False):
        key = ex.RunSpec(**spec).key
        if "__dense__" not in key:
            raise KeyboardInterrupt
        ex.write_result(Path(out) / "runs" / key / "result.json", _fake_result(cfg, spec))
        return ex.read_result(Path(out) / "runs" / key / "result.json")

    monkeypatch.setattr(ex, "run_one", interrupted)
    out = tmp_path / "exp"
    with pytest.raises(KeyboardInterrupt):
        ex.Experiment(tiny, out, quiet=True).run()
    done = out / "runs" / "hrsnn__dense__s1__lorenz63" / "result.json"
    done.write_bytes(done.read_bytes()[:-20])  # truncated
    monkeypatch.setattr(ex, "run_one", lambda *a, **k: pytest.fail("nothing may run"))
    with pytest.raises(ValueError, match=r"result .*result\.json cannot be read .*--overwrite"):
        ex.Experiment(tiny, out, resume=True, quiet=True).run()
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "failed" and "result.json" in run["error"]


def test_lnp_evidence_script_pairs_by_seed(tmp_path):
    """analysis/lnp_evidence.py on rows with a known answer: LNP lower than AP on every seed by a
    constant 1 (exact Wilcoxon p = 0.0625 with 5 seeds, d_z infinite), equal to random."""
    import csv

    rows = []
    for seed in range(1, 6):
        for method, shift in (("dense", 0.0), ("lnp", 0.0), ("ap", 1.0), ("random", 0.0)):
            for it in ((0,) if method == "dense" else (0, 1)):
                rows.append({"experiment": "e", "model": "hrsnn", "method": method, "seed": seed,
                             "task": "lorenz63_h1", "iteration": it, "neurons": 10, "synapses": 20,
                             "spectral_distance": (seed * 0.1 + shift) if it else 0.0,
                             "nrmse_test": 0.1 + 0.01 * seed})
    ex.write_results(tmp_path / "results.csv", rows)
    done = subprocess.run([sys.executable, str(ROOT / "analysis" / "lnp_evidence.py"), str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    table = {(r["metric"], r["method"]): r for r in csv.DictReader((tmp_path / "evidence.csv").open())}
    ap = table[("spectral_distance", "ap")]
    assert float(ap["diff_mean"]) == pytest.approx(-1.0) and float(ap["wilcoxon_p"]) == pytest.approx(0.0625)
    assert float(ap["t_p"]) < 1e-6 and float(table[("spectral_distance", "random")]["diff_mean"]) == 0.0
    assert "lnp better" in (tmp_path / "evidence.txt").read_text()
    assert (tmp_path / "evidence.png").stat().st_size > 10_000
