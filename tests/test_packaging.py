"""What a user gets from `pip install .` (not editable): the wheel holds every package of the
source tree and the shipped models, and its console script runs every subcommand.

The wheel is installed into a fresh virtual environment. Its dependencies (brian2 and the rest,
pinned in setup.cfg) are taken from the environment running the tests through a ``.pth`` file,
so that the test needs no network and no second 80-second install; the editable install of
the development environment is *not* visible there (its ``.pth`` hook is not copied).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel path, bin folder of a fresh venv holding the wheel, its python)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp / "dist"), str(ROOT)], check=True, capture_output=True, cwd=tmp)
    wheel = next((tmp / "dist").glob("lnp_brian-*.whl"))
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, cwd=tmp)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    deps = Path(sysconfig.get_paths()["purelib"])
    (site / "_lnp_test_dependencies.pth").write_text(f"{deps}\n")
    hook = deps / "distutils-precedence.pth"  # setuptools' distutils shim, which brian2 imports
    if hook.exists():
        (site / hook.name).write_text(hook.read_text())
    return wheel, env_dir / "bin", python


def _source_packages():
    pkgs = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lnp_brian").rglob("__init__.py")}
    return pkgs | {"lnp_brian.models"}


def test_wheel_holds_every_package_and_the_models(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    in_wheel = {os.path.dirname(n).replace("/", ".") for n in names if n.endswith(".py") or n.endswith(".toml")}
    missing = _source_packages() - in_wheel
    assert not missing, f"packages missing from the wheel: {sorted(missing)}"
    for model in ("hrsnn", "mrsnn", "chrsnn", "lorenz63"):
        assert f"lnp_brian/models/{model}.toml" in names
    source_modules = {str(p.relative_to(ROOT)) for p in (ROOT / "lnp_brian").rglob("*.py")}
    assert source_modules <= set(names)


def test_installed_console_script_runs_every_subcommand(installed, tmp_path):
    _, bindir, python = installed
    cli = str(bindir / "lnp-brian")
    # Brian2 reads ./brian_preferences: the NumPy target needs no compiler, where Cython would
    # compile every code object again for this new environment (its cache is keyed by the path)
    (tmp_path / "brian_preferences").write_text("codegen.target = 'numpy'\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}

    def run(*args, code=0):
        proc = subprocess.run([cli, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
        assert proc.returncode == code, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        return proc

    where = subprocess.run([str(python), "-c", "import lnp_brian; print(lnp_brian.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=env).stdout
    assert where.startswith(str(bindir.parent)), f"not the installed copy: {where}"

    assert "hrsnn" in run("models").stdout
    assert "--model" in run("simulate", "--help").stdout

    run("simulate", "--model", "hrsnn", "--neurons", "30", "--duration", "100 ms", "--device", "runtime",
        "--out", "sim", "--quiet")
    assert json.loads((tmp_path / "sim" / "run.json").read_text())["status"] == "complete"

    run("lyapunov", "--model", "hrsnn", "--neurons", "30", "--duration", "400 ms", "--copies", "2",
        "--device", "runtime", "--out", "ly", "--quiet")
    assert json.loads((tmp_path / "ly" / "lyapunov.json").read_text())["status"] == "complete"

    run("prune", "--model", "hrsnn", "--neurons", "40", "--duration", "400 ms", "--iterations", "1",
        "--trials", "2", "--copies", "2", "--device", "runtime", "--out", "pr", "--quiet")
    info = json.loads((tmp_path / "pr" / "run.json").read_text())
    assert info["status"] == "complete" and info["results"]["final_neurons"] < 40

    (tmp_path / "tiny.toml").write_text(TINY_EXPERIMENT)
    run("experiment", "tiny.toml", "--out", "ex", "--quiet")
    assert json.loads((tmp_path / "ex" / "run.json").read_text())["status"] == "complete"
    assert (tmp_path / "ex" / "summary.txt").exists()

    # bad input through the installed script: one line, exit 2
    proc = run("simulate", "--model", "hrsnn", "--neurons", "0", "--out", "x", code=2)
    assert "--neurons" in proc.stderr and not (tmp_path / "x").exists()


TINY_EXPERIMENT = """
[experiment]
name = "tiny"
seeds = [1]
methods = ["dense", "random"]
device = "cpp_standalone"      # the installed package compiles its builds (faster than NumPy here)
workers = 1

[network]
models = ["hrsnn"]
neurons = 40

[pruning]
iterations = 1
target_neurons = 0.2
target_synapses = 0.3
duration = "0.4 s"
copies = 2
trials = 1

[[tasks]]
name = "lorenz63"
kind = "lorenz63"
horizons = [1]
samples = 200
sample_time = "5 ms"
"""
