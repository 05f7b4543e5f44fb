"""Bad input, across every command and file format, ends in one clear line before anything runs.

For each case: exit status 2, no traceback, the message names the option, file or key at fault
and what was expected, and nothing in the test's folder changed (no run directory made, no
file of the user's touched). Run in-process through ``lnp_brian.cli.main.main``, as the console
script does; tests/test_packaging.py runs the installed console script itself.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from lnp_brian.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
HRSNN = (ROOT / "models" / "hrsnn.toml").read_text()
TINY_EXPERIMENT = (ROOT / "configs" / "quick_lorenz63.toml").read_text()


def model_with(old: str, new: str) -> str:
    assert old in HRSNN, old
    return HRSNN.replace(old, new, 1)


def experiment_with(old: str, new: str) -> str:
    assert old in TINY_EXPERIMENT, old
    return TINY_EXPERIMENT.replace(old, new, 1)


SIM0 = ["simulate", "--model", "hrsnn"]
SIM = SIM0 + ["--neurons", "50", "--device", "runtime"]
LY = ["lyapunov", "--model", "hrsnn", "--neurons", "50", "--device", "runtime"]
PR = ["prune", "--model", "hrsnn", "--neurons", "50", "--device", "runtime"]

# (id, argv, files to create {name: text or bytes or None for a directory}, phrases in the message)
CASES = [
    # ---- simulate options
    ("neurons-zero", SIM0 + ["--neurons", "0"], {}, ["--neurons", ">= 1", "'0'"]),
    ("neurons-negative", SIM0 + ["--neurons", "-5"], {}, ["--neurons", ">= 1"]),
    ("neurons-float", SIM0 + ["--neurons", "1e12"], {}, ["--neurons", "integer"]),
    ("neurons-huge", SIM0 + ["--neurons", "100000000"], {}, ["--neurons", "GiB"]),
    ("duration-zero", SIM + ["--duration", "0 ms"], {}, ["--duration", "> 0"]),
    ("duration-negative", SIM + ["--duration", "-1 s"], {}, ["--duration", "> 0"]),
    ("duration-nan", SIM + ["--duration", "nan s"], {}, ["--duration"]),
    ("duration-inf", SIM + ["--duration", "1e400 s"], {}, ["--duration", "finite"]),
    ("duration-no-unit-voltage", SIM + ["--duration", "5 mV"], {}, ["--duration", "second"]),
    ("duration-unknown-unit", SIM + ["--duration", "1 parsec"], {}, ["--duration", "unit"]),
    ("dt-negative", SIM + ["--dt", "-0.1 ms"], {}, ["--dt", "> 0"]),
    ("dt-longer-than-duration", SIM + ["--duration", "10 ms", "--dt", "1 s"], {}, ["--duration", "--dt"]),
    ("seed-negative", SIM + ["--seed", "-1"], {}, ["--seed", "0..4294967295"]),
    ("seed-too-large", SIM + ["--seed", str(2**40)], {}, ["--seed"]),
    ("seed-text", SIM + ["--seed", "abc"], {}, ["--seed", "integer"]),
    ("init-seed-negative", SIM + ["--init-seed", "-3"], {}, ["--init-seed"]),
    ("noise-seed-negative", SIM + ["--noise-seed", "-3"], {}, ["--noise-seed"]),
    ("threads-negative", SIM + ["--threads", "-1"], {}, ["--threads", ">= 0"]),
    ("record-unknown-variable", SIM + ["--record", "nosuchvar"], {}, ["--record nosuchvar", "expected one of", "v"]),
    ("record-neurons-out-of-range", SIM + ["--record-neurons", "0,99"], {}, ["--record-neurons", "99", "0..49"]),
    ("record-neurons-negative", SIM + ["--record-neurons", "-1"], {}, ["--record-neurons", ">= 0"]),
    ("record-neurons-text", SIM + ["--record-neurons", "a,b"], {}, ["--record-neurons", "indices"]),
    ("device-unknown", SIM0 + ["--device", "gpu"], {}, ["--device", "invalid choice"]),
    ("unknown-model-name", ["simulate", "--model", "hrsn"], {}, ["hrsn", "shipped models", "hrsnn"]),
    ("model-missing-file", ["simulate", "--model", "{tmp}/nope.toml"], {}, ["nope.toml", "no such model file"]),
    ("model-is-directory", ["simulate", "--model", "{tmp}/modeldir"], {"modeldir": None}, ["modeldir", "is a directory"]),
    ("model-not-utf8", ["simulate", "--model", "{tmp}/latin.toml"], {"latin.toml": b"# \xfc\n[model]\n"},
     ["latin.toml", "UTF-8"]),
    ("model-bad-toml", ["simulate", "--model", "{tmp}/broken.toml"], {"broken.toml": "[neuron\n"},
     ["broken.toml", "TOML"]),
    # ---- output directory and file system
    ("out-empty", SIM + ["--out", ""], {}, ["--out", "directory path"]),
    ("out-is-file", SIM + ["--out", "{tmp}/afile"], {"afile": "x"}, ["afile", "is a file"]),
    ("out-under-file", SIM + ["--out", "{tmp}/afile/run"], {"afile": "x"}, ["afile", "is a file"]),
    ("out-holds-user-files", SIM + ["--out", "{tmp}/mine"], {"mine/thesis.tex": "x"},
     ["mine", "did not write", "thesis.tex"]),
    ("overwrite-foreign-files", SIM + ["--out", "{tmp}/old", "--overwrite"],
     {"old/run.json": json.dumps({"status": "complete", "manifest": ["run.json"]}), "old/thesis.tex": "x",
      "old/data/raw.csv": "1"}, ["did not write", "data", "thesis.tex", "nothing was removed"]),
    ("existing-run", SIM + ["--out", "{tmp}/old"], {"old/run.json": json.dumps({"status": "complete"})},
     ["already holds a run", "--overwrite"]),
    ("corrupt-run-json", SIM + ["--out", "{tmp}/old"], {"old/run.json": "{not json"}, ["run.json", "cannot be read"]),
    ("bad-model-with-overwrite", ["simulate", "--model", "{tmp}/broken.toml", "--out", "{tmp}/old", "--overwrite"],
     {"broken.toml": "[neuron\n", "old/run.json": json.dumps({"status": "complete", "manifest": []}),
      "old/notes.txt": "mine"}, ["broken.toml", "TOML"]),
    # ---- model file values (one line changed in the shipped hrsnn)
    ("model-p-nan", ["simulate", "--model", "{tmp}/m.toml"],
     {"m.toml": model_with('connectivity = { kind = "random", p = 0.1 }', 'connectivity = { kind = "random", p = nan }')},
     ["network.connectivity.p", "nan"]),
    ("model-tau-infinite", ["simulate", "--model", "{tmp}/m.toml"],
     {"m.toml": model_with('mean = "5 ms", cv = 0.3', 'mean = "1e400 ms", cv = 0.3')},
     ["neuron.parameters.tau_syn", "finite"]),
    ("model-voltage-in-ms", ["simulate", "--model", "{tmp}/m.toml"],
     {"m.toml": model_with('v_th = "-50 mV"', 'v_th = "-50 ms"')}, ["neuron.constants.v_th", "volt"]),
    ("model-resistance-no-unit", ["simulate", "--model", "{tmp}/m.toml"],
     {"m.toml": model_with('R_m = "100 Mohm"', 'R_m = 100')}, ["neuron.constants.R_m", "ohm"]),
    ("model-exc-fraction-nan", ["simulate", "--model", "{tmp}/m.toml"],
     {"m.toml": model_with("exc_fraction = 0.8", "exc_fraction = nan")}, ["network.exc_fraction", "nan"]),
    ("model-rate-infinite", ["simulate", "--model", "{tmp}/m.toml"],
     {"m.toml": model_with('rate = "10 Hz"', 'rate = "1e999 Hz"')}, ["input.noise.rate", "finite"]),
    ("model-unknown-distribution", ["simulate", "--model", "{tmp}/m.toml"],
     {"m.toml": model_with('distribution = "gamma", mean = "20 ms"', 'distribution = "gama", mean = "20 ms"')},
     ["neuron.parameters.tau_m", "gama"]),
    # ---- lyapunov options
    ("ly-perturbation-nan", LY + ["--perturbation", "nan"], {}, ["--perturbation", "> 0"]),
    ("ly-perturbation-zero", LY + ["--perturbation", "0"], {}, ["--perturbation", "> 0"]),
    ("ly-copies-zero", LY + ["--copies", "0"], {}, ["--copies", ">= 1"]),
    ("ly-interval-zero", LY + ["--interval", "0ms"], {}, ["--interval", "> 0"]),
    ("ly-interval-too-long", LY + ["--duration", "1 s", "--interval", "5 s"], {}, ["--interval", "averaged"]),
    ("ly-transient-too-long", LY + ["--duration", "300 ms"], {}, ["--duration", "--warmup", "--transient"]),
    ("ly-transient-negative", LY + ["--transient", "-1 ms"], {}, ["--transient", ">= 0"]),
    ("ly-window-zero", LY + ["--per-neuron", "--window", "0 s"], {}, ["--window", "> 0"]),
    ("ly-per-neuron-count-zero", LY + ["--per-neuron-count", "0"], {}, ["--per-neuron-count", ">= 1"]),
    ("ly-per-neuron-count-too-many", LY + ["--per-neuron-count", "500"], {}, ["--per-neuron-count", "50 neurons"]),
    ("ly-spectrum-zero", LY + ["--spectrum", "0"], {}, ["--spectrum", ">= 1"]),
    ("ly-sizes-negative", LY + ["--sizes", "1e-3,-1"], {}, ["--sizes", "> 0"]),
    ("ly-sizes-nan", LY + ["--sizes", "nan"], {}, ["--sizes"]),
    ("ly-connection-probability", LY + ["--connection-probability", "1.5"], {}, ["--connection-probability", "(0, 1]"]),
    ("ly-connection-probability-ode", ["lyapunov", "--model", "lorenz63", "--connection-probability", "0.1"], {},
     ["--connection-probability", "random"]),
    # ---- prune options
    ("pr-target-neurons-one", PR + ["--target-neurons", "1"], {}, ["--target-neurons", "[0, 1)"]),
    ("pr-target-synapses-negative", PR + ["--target-synapses", "-0.1"], {}, ["--target-synapses", "[0, 1)"]),
    ("pr-target-nan", PR + ["--target-synapses", "nan"], {}, ["--target-synapses"]),
    ("pr-iterations-zero", PR + ["--iterations", "0"], {}, ["--iterations", ">= 1"]),
    ("pr-trials-negative", PR + ["--trials", "-2"], {}, ["--trials", ">= 0"]),
    ("pr-copies-zero", PR + ["--copies", "0"], {}, ["--copies", ">= 1"]),
    ("pr-pivots-negative", PR + ["--pivots", "-1"], {}, ["--pivots", ">= 0"]),
    ("pr-duration-within-transient", PR + ["--duration", "150 ms"], {}, ["duration", "transient"]),
    ("pr-no-and-random", PR + ["--no-sparsify", "--random-sparsify"], {}, ["--no-sparsify", "--random-sparsify"]),
    ("pr-method-unknown", PR + ["--method", "magnitude"], {}, ["--method", "invalid choice"]),
    ("pr-gains-unknown", PR + ["--gains", "open-loop"], {}, ["--gains", "invalid choice", "'closed-loop'"]),
    ("pr-members-unknown", PR + ["--lyapunov-members", "all"], {}, ["--lyapunov-members", "neighbourhood"]),
    ("pr-resistances-unknown", PR + ["--resistances", "fast"], {}, ["--resistances", "invalid choice"]),
    ("pr-regrow-budget-one", PR + ["--regrow-budget", "1"], {}, ["--regrow-budget", "[0, 1)"]),
    ("pr-ipr-tolerance-negative", PR + ["--ipr-tolerance", "-0.1"], {}, ["--ipr-tolerance", ">= 0"]),
    ("pr-perturbation-zero", PR + ["--perturbation", "0"], {}, ["--perturbation", "> 0"]),
    ("pr-spectrum-k-zero", PR + ["--spectrum-k", "0"], {}, ["--spectrum-k", ">= 1"]),
    ("pr-pivots-word", PR + ["--pivots", "many"], {}, ["--pivots", "auto", "'many'"]),
    ("pr-no-reweight-value", PR + ["--no-reweight", "yes"], {}, ["unrecognized arguments", "yes"]),
    ("pr-trials-zero-with-timescale", PR + ["--trials", "0"], {}, ["--trials 0", ">= 1", "timescale"]),
    # ---- experiment files and options
    ("ex-missing-file", ["experiment", "{tmp}/none.toml"], {}, ["none.toml", "no such file"]),
    ("ex-file-is-directory", ["experiment", "{tmp}/cfgdir"], {"cfgdir": None}, ["cfgdir", "directory"]),
    ("ex-not-utf8", ["experiment", "{tmp}/e.toml"], {"e.toml": b"\xff\xfe[experiment]\n"}, ["e.toml", "UTF-8"]),
    ("ex-bad-toml", ["experiment", "{tmp}/e.toml"], {"e.toml": "[experiment\n"}, ["e.toml", "TOML"]),
    ("ex-empty-models", ["experiment", "{tmp}/e.toml"], {"e.toml": experiment_with('models = ["hrsnn"]', "models = []")},
     ["network.models", "empty"]),
    ("ex-unknown-key", ["experiment", "{tmp}/e.toml"], {"e.toml": experiment_with("neurons = 300", "nerons = 300")},
     ["network", "nerons"]),
    ("ex-neurons-zero", ["experiment", "{tmp}/e.toml"], {"e.toml": experiment_with("neurons = 300", "neurons = 0")},
     ["network.neurons"]),
    ("ex-copies-zero", ["experiment", "{tmp}/e.toml"], {"e.toml": experiment_with("copies = 2", "copies = 0")},
     ["pruning.copies"]),
    ("ex-trials-negative", ["experiment", "{tmp}/e.toml"],
     {"e.toml": experiment_with("\ntrials = ", "\ntrials = -3  # was ")},
     ["pruning.trials"]),
    ("ex-target-above-one", ["experiment", "{tmp}/e.toml"],
     {"e.toml": experiment_with("target_synapses = 0.6", "target_synapses = 1.5")}, ["pruning.target_synapses"]),
    ("ex-short-duration", ["experiment", "{tmp}/e.toml"],
     {"e.toml": experiment_with("\nduration = ", '\nduration = "0.1 s"  # was ')}, ["pruning.duration", "transient"]),
    ("ex-samples-negative", ["experiment", "{tmp}/e.toml"],
     {"e.toml": experiment_with("samples = 2500", "samples = -10")}, ["samples"]),
    ("ex-unknown-method", ["experiment", "{tmp}/e.toml"],
     {"e.toml": experiment_with('methods = ["dense", "lnp", "ap"]', 'methods = ["dense", "lnpp"]')}, ["experiment.methods", "lnpp"]),
    ("ex-workers-zero", ["experiment", "{tmp}/e.toml", "--workers", "0"],
     {"e.toml": TINY_EXPERIMENT}, ["--workers", ">= 1"]),
    ("ex-scheduler-unreachable", ["experiment", "{tmp}/e.toml", "--scheduler", "tcp://127.0.0.1:9"],
     {"e.toml": TINY_EXPERIMENT}, ["--scheduler", "no dask scheduler"]),
    ("ex-scheduler-malformed", ["experiment", "{tmp}/e.toml", "--scheduler", "http://x"],
     {"e.toml": TINY_EXPERIMENT}, ["--scheduler", "tcp://"]),
    ("ex-out-is-file", ["experiment", "{tmp}/e.toml", "--out", "{tmp}/afile"],
     {"e.toml": TINY_EXPERIMENT, "afile": "x"}, ["afile", "is a file"]),
    ("models-unknown", ["models", "nosuch"], {}, ["nosuch", "shipped"]),
]


def _snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (p.is_dir(), st.st_size, st.st_mtime_ns)
    return out


def _expand(argv, tmp):
    out = [a.replace("{tmp}", str(tmp)) for a in argv]
    if out[0] != "models" and "--out" not in out:
        out += ["--out", str(tmp / "run")]
    return out


def test_at_least_sixty_cases():
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("argv, files, phrases", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(tmp_path, capsys, argv, files, phrases):
    for name, content in files.items():
        path = tmp_path / name
        if content is None:
            path.mkdir(parents=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    before = _snapshot(tmp_path)
    try:
        code = main(_expand(argv, tmp_path))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    message = [line for line in err.splitlines() if "error:" in line]
    assert len(message) == 1, err
    for phrase in phrases:
        assert phrase in message[0], f"{phrase!r} not in {message[0]!r}"
    assert _snapshot(tmp_path) == before, "bad input changed files"


def test_disk_full_keeps_the_previous_file_and_says_so(tmp_path, capsys, monkeypatch):
    """A write that fails (disk full) leaves the earlier version of the file as it was."""
    from lnp_brian.core import files

    target = tmp_path / "data.json"
    files.write_json(target, {"version": 1})

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError) as info:
        files.write_json(target, {"version": 2})
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]  # no temporary file left behind

    from lnp_brian.cli.main import user_error_message

    message = user_error_message(info.value)
    assert "No space left on device" in message and "stay as they were" in message


def test_failed_run_is_replaced_without_overwrite_but_a_complete_one_is_not(tmp_path, capsys):
    from lnp_brian.core.runs import RunDir, RunExistsError

    out = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with RunDir(out, command="test") as run:
            run.file("partial.npz").write_text("x")
            raise RuntimeError("boom")
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    with RunDir(out, command="test") as run:  # no --overwrite needed
        assert not (out / "partial.npz").exists()
        run.file("result.npz").write_text("y")
        run.write("complete")
    with pytest.raises(RunExistsError, match="already holds a run"):
        RunDir(out, command="test")
    with pytest.raises(KeyboardInterrupt):
        with RunDir(out, overwrite=True, command="test"):
            raise KeyboardInterrupt
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "interrupted"
    with pytest.raises(RunExistsError, match="--resume"):
        RunDir(out, command="test")


def test_overwrite_removes_only_what_the_run_wrote(tmp_path):
    from lnp_brian.core.runs import RunDir, RunExistsError

    out = tmp_path / "run"
    with RunDir(out, command="test") as run:
        run.file("a.npz").write_text("1")
        run.file("sub/b.npz").parent.mkdir()
        (out / "sub" / "b.npz").write_text("2")
        run.file("build").mkdir()
        (out / "build" / "main").write_text("binary")
        run.write("complete")
    (out / "notes.txt").write_text("the user's")
    with pytest.raises(RunExistsError, match="notes.txt"):
        RunDir(out, overwrite=True, command="test")
    assert (out / "a.npz").exists() and (out / "notes.txt").exists()
    (out / "notes.txt").unlink()
    with RunDir(out, overwrite=True, command="test") as run:
        assert not (out / "a.npz").exists() and not (out / "sub").exists()
        assert (out / "build" / "main").read_text() == "binary"  # compiled builds are re-used
        run.write("complete")
