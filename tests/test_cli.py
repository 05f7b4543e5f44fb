"""The command line: `lnp-brian simulate` writes a complete run directory, never overwrites
a run unless asked, documents its options, and fails on bad input with one clear line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import lnp_brian as lb
from lnp_brian.cli.main import main

ARGS = ["simulate", "--model", "hrsnn", "--neurons", "150", "--duration", "300ms", "--seed", "2"]


def test_simulate_cpp_writes_run_directory_and_reuses_build(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(ARGS + ["--device", "cpp_standalone", "--out", str(out)]) == 0
    for name in ("run.json", "network.npz", "spikes.npz", "raster.png", "dynamics.png", "run.log", "model.toml"):
        assert (out / name).exists(), name
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "complete" and info["compilations"] == 1
    assert info["device"] == "cpp_standalone"
    assert info["config"]["neurons"] == 150 and info["seeds"]["network"] == 2
    for key in ("python", "brian2", "brian2cuda", "numpy"):
        assert info["versions"][key]
    assert {"build_network", "build_simulator", "simulate", "total"} <= set(info["wall_seconds"])
    res = lb.SimResult.load(out / "spikes.npz")
    net = lb.Network.load(out / "network.npz")
    assert net.n == 150 and res.n == 150
    assert info["results"]["n_spikes"] == len(res.spike_t) > 0
    assert res.traces["v"].shape == (1, 5, 3000)

    # an existing run is not overwritten ...
    assert main(ARGS + ["--device", "cpp_standalone", "--out", str(out)]) == 2
    assert "already holds a run" in capsys.readouterr().err
    # ... unless asked; the compiled project in DIR/build is re-used, same seed, same spikes
    assert main(ARGS + ["--device", "cpp_standalone", "--out", str(out), "--overwrite"]) == 0
    again = json.loads((out / "run.json").read_text())
    assert again["compilations"] == 0
    np.testing.assert_array_equal(lb.SimResult.load(out / "spikes.npz").spike_i, res.spike_i)


def test_simulate_runtime_and_ode_model(tmp_path):
    out = tmp_path / "lorenz"
    code = main(["simulate", "--model", "lorenz63", "--duration", "2s", "--device", "runtime",
                 "--out", str(out), "--quiet"])
    assert code == 0
    res = lb.SimResult.load(out / "spikes.npz")
    assert set(res.traces) == {"x", "y", "z"}
    assert (out / "dynamics.png").stat().st_size > 10_000


@pytest.mark.parametrize("argv, phrase", [
    (["simulate", "--model", "nosuchmodel", "--out", "X"], "shipped models"),
    (["simulate", "--model", "hrsnn", "--duration", "1 parsec", "--out", "X"], "unknown unit"),
    (["simulate", "--model", "hrsnn", "--duration", "5 mV", "--out", "X"], "expected second"),
])
def test_bad_arguments(tmp_path, capsys, argv, phrase):
    argv = [a if a != "X" else str(tmp_path / "out") for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse type errors exit 2
        code = exc.code
    assert code == 2
    assert phrase in capsys.readouterr().err


def test_help_documents_every_option():
    out = subprocess.run([sys.executable, "-m", "lnp_brian.cli", "simulate", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for option in ("--model", "--neurons", "--duration", "--dt", "--device", "--seed", "--init-seed",
                   "--noise-seed", "--no-input", "--record", "--record-neurons", "--threads",
                   "--build-dir", "--out", "--overwrite", "--quiet"):
        assert option in out
    assert "cpp_standalone" in out and "cuda_standalone" in out


def test_models_command(capsys):
    assert main(["models"]) == 0
    listed = capsys.readouterr().out
    assert "hrsnn" in listed and "lorenz63" in listed
    assert main(["models", "mrsnn"]) == 0
    assert 'name = "mrsnn"' in capsys.readouterr().out


def test_plot_functions_return_axes(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.axes import Axes

    from lnp_brian.report import plots

    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 1, 2000))
    res = lb.SimResult(n=50, copies=1, duration=1.0, dt=1e-4, spike_t=t,
                       spike_i=rng.integers(0, 50, 2000).astype(np.int32))
    for fn in (plots.plot_raster, plots.plot_population_rate, plots.plot_rate_histogram,
               plots.plot_isi_cv_histogram, plots.plot_rate_spectrum):
        assert isinstance(fn(res), Axes)
    # Poisson spikes: flat spectrum, ISI CV near 1
    cv = res.isi_cv()
    assert np.nanmedian(cv) == pytest.approx(1.0, abs=0.15)


def _interrupt_when(argv, out, ready, timeout=240):
    """Start `python -m lnp_brian.cli ARGV` in its own process group, press Ctrl-C (SIGINT to the
    group, as a terminal does) once ``ready()`` holds, and return (exit status, seconds to exit)."""
    import os
    import signal
    import time

    # a terminal's foreground job starts with Ctrl-C at its default; test runners (pytest-xdist
    # workers, background shells) may ignore SIGINT, which a child would inherit
    proc = subprocess.Popen([sys.executable, "-m", "lnp_brian.cli", *argv, "--out", str(out)],
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    t_end = time.monotonic() + timeout
    while not ready() and proc.poll() is None and time.monotonic() < t_end:
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    os.killpg(proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    return proc.returncode, time.monotonic() - t0, err


def test_ctrl_c_during_simulate_is_interrupted_never_complete(tmp_path):
    """One Ctrl-C in the middle of a long simulation ends the command promptly with exit 130;
    run.json says 'interrupted' and no partial spikes are saved as results."""
    out = tmp_path / "run"
    log = out / "run.log"
    code, seconds, err = _interrupt_when(
        ["simulate", "--model", "hrsnn", "--neurons", "100", "--duration", "300 s", "--device", "runtime"],
        out, lambda: log.exists() and "simulating" in log.read_text())
    assert code == 130, err[-2000:]
    assert seconds < 20 and "Traceback" not in err and "interrupted" in err
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "interrupted"
    assert not (out / "spikes.npz").exists()


def test_ctrl_c_during_prune_keeps_finished_iterations_for_resume(tmp_path):
    out = tmp_path / "prune"
    argv = ["prune", "--model", "hrsnn", "--neurons", "50", "--duration", "300 ms", "--device", "runtime",
            "--iterations", "3", "--no-timescale-opt", "--copies", "2", "--seed", "3"]
    done = out / "checkpoints"
    code, seconds, err = _interrupt_when(argv, out, lambda: done.is_dir() and any(
        (p / "row.json").exists() for p in done.iterdir() if p.name != "iter_000"))
    assert code == 130 and seconds < 30, err[-2000:]
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "interrupted"
    finished = [p for p in done.iterdir() if (p / "row.json").exists()]
    assert len(finished) >= 2  # the dense network and at least one pruned iteration
    assert not (out / "network_final.npz").exists()
    # --resume continues from the kept checkpoints and completes
    assert main(argv + ["--out", str(out), "--resume", "--quiet"]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "complete" and info["resumed"] == 1


def _prune_parser():
    from lnp_brian.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return parser, sub.choices["prune"]


def _help_entries(text: str) -> dict:
    """{option: its help text on one line} from a parser's --help output."""
    entries, current = {}, None
    for line in text.splitlines():
        if line.startswith("  -"):
            current = line.split()[0].rstrip(",")
            entries[current] = line
        elif current is not None and line.startswith("   "):
            entries[current] += " " + line
        else:
            current = None
    return {k: " ".join(v.split()) for k, v in entries.items()}


def test_prune_help_shows_every_pruneconfig_default():
    """Every PruneConfig field with an option is an option of `prune`, and its help shows the
    dataclass default (the one place pruning defaults are written)."""
    import dataclasses

    from lnp_brian.pruning.config import PruneConfig

    entries = _help_entries(_prune_parser()[1].format_help())
    fields = [f for f in dataclasses.fields(PruneConfig) if "option" in f.metadata]
    assert {f.name for f in fields} >= {"method", "target_neurons", "target_synapses", "iterations", "steps",
                                        "duration", "lyapunov_copies", "betweenness_pivots", "exponents", "trials",
                                        "gains", "lyapunov_members", "reweight", "stratify", "ipr_tolerance",
                                        "perturbation", "spectrum_k", "regrow_budget", "resistances"}
    for f in fields:
        option = f.metadata["option"]
        if f.name == "steps":
            for step in ("lyapunov", "sparsify", "node-pruning", "delocalize", "timescale-opt"):
                assert f"--no-{step}" in entries and f"--random-{step}" in entries
            continue
        assert option in entries, option
        shown = ("(default: on)" if f.default else "(default: off)") if isinstance(f.default, bool) \
            else f"(default {f.default})"
        assert shown in entries[option], (option, entries[option])
    assert entries["--copies"].endswith("(default 4)") and entries["--trials"].endswith("(default 8)")
    assert "--gains {replay,closed-loop}" in entries["--gains"]
    assert "--lyapunov-members {endpoints,neighbourhood}" in entries["--lyapunov-members"]


def test_new_prune_options_reach_the_config():
    from lnp_brian.cli.prune import config_from_args
    from lnp_brian.pruning.config import PruneConfig

    parser, _ = _prune_parser()
    base = ["prune", "--model", "hrsnn", "--out", "x"]
    # no option: PruneConfig's defaults, the seed and device of --seed / --device
    config = config_from_args(parser.parse_args(base))
    expected = PruneConfig(seed=1, device="cpp_standalone").to_dict()
    got = config.to_dict()
    assert got.pop("duration") == "1. s" and expected.pop("duration") == "1 s"
    assert got == expected
    config = config_from_args(parser.parse_args(base + [
        "--no-reweight", "--no-stratify", "--gains", "closed-loop", "--lyapunov-members", "neighbourhood",
        "--ipr-tolerance", "0.25", "--perturbation", "0.5", "--spectrum-k", "7", "--regrow-budget", "0.1",
        "--resistances", "exact", "--pivots", "32", "--copies", "3", "--random-node-pruning",
        "--no-timescale-opt", "--trials", "0", "--seed", "9", "--device", "runtime"]))
    assert config.reweight is False and config.stratify is False
    assert (config.gains, config.lyapunov_members, config.resistances) == ("closed-loop", "neighbourhood", "exact")
    assert (config.ipr_tolerance, config.perturbation, config.spectrum_k, config.regrow_budget) == (0.25, 0.5, 7, 0.1)
    assert (config.betweenness_pivots, config.lyapunov_copies, config.trials) == (32, 3, 0)
    assert config.steps == {"lyapunov": "on", "sparsify": "on", "node_pruning": "random", "delocalize": "on",
                            "timescale": "off"}
    assert (config.seed, config.device) == (9, "runtime")
    assert config_from_args(parser.parse_args(base + ["--pivots", "0"])).betweenness_pivots is None  # exact
    assert config_from_args(parser.parse_args(base + ["--pivots", "auto"])).betweenness_pivots == "auto"


def test_pruneconfig_errors_name_the_option_as_typed():
    """A value PruneConfig refuses is reported under the option's name (--copies, not
    lyapunov_copies)."""
    from lnp_brian.cli.prune import config_from_args

    parser, _ = _prune_parser()
    args = parser.parse_args(["prune", "--model", "hrsnn", "--out", "x"])
    args.lyapunov_copies = 0
    with pytest.raises(ValueError, match=r"^--copies 0: expected an integer >= 1"):
        config_from_args(args)
    args.lyapunov_copies, args.betweenness_pivots = 4, -3
    with pytest.raises(ValueError, match=r"^--pivots -3: expected"):
        config_from_args(args)


def test_experiment_pruning_keys_come_from_pruneconfig():
    """The [pruning] keys of an experiment file and their types are PruneConfig's fields (file
    key `copies` for lyapunov_copies); the step names are one table for files and options."""
    from lnp_brian.experiment import runner as experiment
    from lnp_brian.pruning.config import STEP_BY_NAME

    assert dict(experiment._PRUNING_KEYS) == {
        "target_neurons": float, "target_synapses": float, "iterations": int, "trials": int, "duration": str,
        "copies": int, "perturbation": float, "interval": str, "exponents": str, "exponent_window": str,
        "spectrum_k": int, "betweenness_pivots": int, "regrow_budget": float, "reweight": bool,
        "resistances": str, "exponent_neurons": int, "gains": str, "lyapunov_members": str, "stratify": bool,
        "ipr_tolerance": float}
    assert dict(experiment._PRUNE_FIELDS) == {"lyapunov_copies": "copies"}
    entries = _help_entries(_prune_parser()[1].format_help())
    for name in STEP_BY_NAME:
        assert f"--no-{name}" in entries and f"--random-{name}" in entries
        assert experiment.parse_method(f"lnp-no-{name}")[0] == "lnp"


def test_shared_options_are_the_same_in_every_command():
    """--model/--neurons/--device/--seed/--out/--overwrite/--quiet come from shared parents:
    same types and defaults wherever a command has them."""
    from lnp_brian.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices
    have = {"simulate": {"--model", "--neurons", "--connection-probability", "--device", "--seed", "--out",
                         "--overwrite", "--quiet"},
            "lyapunov": {"--model", "--neurons", "--connection-probability", "--device", "--seed", "--out",
                         "--overwrite", "--quiet"},
            "prune": {"--model", "--neurons", "--connection-probability", "--device", "--seed", "--out",
                      "--resume", "--overwrite", "--quiet"},
            "experiment": {"--out", "--resume", "--overwrite", "--quiet"},
            "quality": {"--model", "--neurons", "--device", "--seed", "--out", "--overwrite", "--quiet"}}
    seen = {}
    for command, options in have.items():
        actions = {o: a for a in sub[command]._actions for o in a.option_strings}
        assert options <= set(actions), (command, options - set(actions))
        for option in options - {"--resume"}:
            a = actions[option]
            sig = (a.dest, a.default, a.required, a.choices, getattr(a.type, "__name__", a.type))
            assert seen.setdefault(option, sig) == sig, (command, option)
    for command in ("experiment", "quality"):
        assert "--connection-probability" not in {o for a in sub[command]._actions for o in a.option_strings}


def test_help_does_not_load_brian2():
    code = ("import sys\nfrom lnp_brian.cli.main import main\n"
            "for argv in (['--help'], ['simulate', '--help'], ['lyapunov', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('brian2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
