"""Experiment runner: a tiny grid end to end, resume after a real kill, a real dask cluster,
retries and failures, config errors, the analysis scripts.

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

from lnp_brian import experiment as ex
from lnp_brian.cli import main

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
    out = tmp_path_factory.mktemp("exp_plain") / "exp"
    ex.Experiment(tiny, out, builds=builds, quiet=True).run()
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
        assert final["readout_synapses"] == final["neurons"] * 3
    # the baselines beside every series row are the known ones (DESIGN §6)
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
    assert run["compilations"] <= 2  # loop + task build, shared by the three methods
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


def test_dask_cluster_gives_the_local_results(tiny, builds, uninterrupted, tmp_path):
    from distributed import LocalCluster

    out = tmp_path / "exp"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        code = main(["experiment", str(tiny), "--out", str(out), "--builds", str(builds), "--quiet",
                     "--scheduler", cluster.scheduler_address])
    assert code == 0
    assert (out / "results.csv").read_text() == (uninterrupted / "results.csv").read_text()
    run = json.loads((out / "run.json").read_text())
    assert "dask.distributed" in run["executor"] and "2 workers" in run["executor"]
    pids = {json.loads((out / "runs" / k / "result.json").read_text())["pid"] for k in run["complete"]}
    assert os.getpid() not in pids  # the runs ran in the worker processes


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
    (('chunk = 400', 'chunk = 400\nsample_time = "5 kg"'), "tasks[0].sample_time", "quantity in second"),
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
