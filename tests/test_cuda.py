"""cuda_standalone without a GPU, without nvcc and with a failing compiler: one clear message
each (issue 7), and the GPU check script's early exit. Code generation only, no real CUDA
compile: the compiler that runs here is a fake one that fails at once. The one GPU test
(marked ``gpu``, skipped without a GPU) compares cuda_standalone with cpp_standalone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lnp_brian as lb
from lnp_brian.brian import cuda

ROOT = Path(__file__).resolve().parents[1]
FAKE_GPU = {"name": "Fake GPU", "compute_capability": 9.0}
FAKE_NVCC_SAYS = "fake-nvcc: error: this compiler always fails"


@pytest.fixture(scope="module")
def tiny():
    """A 40-neuron HRSNN and a constant stimulus: code generation in about a second."""
    net = lb.build_network("hrsnn", n=40, seed=2)
    return net, lb.Stimulus(np.full((100, 1), 150e-12), dt="0.1 ms")


def fake_tool(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def cuda_sim(net_and_stim, build_dir):
    net, stim = net_and_stim
    return lb.Simulator(net, "cuda_standalone", duration="10 ms", inputs=stim, build_dir=build_dir)


# ---------------------------------------------------------------------- cuda.py on its own
def test_unavailable_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(cuda, "gpu_info", lambda: FAKE_GPU)
    monkeypatch.setattr(cuda, "nvcc_path", lambda: "/opt/cuda/bin/nvcc")
    assert cuda.unavailable() is None
    monkeypatch.setattr(cuda, "gpu_info", lambda: None)
    assert cuda.unavailable() == cuda.NO_GPU
    assert cuda.can_compile() == (False, cuda.NO_GPU + "; compiling and running it needs a GPU machine")
    monkeypatch.setenv("LNP_BRIAN_CUDA_COMPILE", "1")  # toolchain check without a GPU
    assert cuda.can_compile()[0]
    monkeypatch.setattr(cuda, "nvcc_path", lambda: None)
    both = cuda.unavailable()
    assert "no NVIDIA GPU" in both and "nvcc was not found" in both
    assert cuda.can_compile() == (False, both)
    monkeypatch.setattr(cuda, "gpu_info", lambda: FAKE_GPU)
    assert cuda.unavailable() == cuda.NO_NVCC


def test_nvcc_version(tmp_path):
    good = fake_tool(tmp_path / "good", "nvcc", 'echo "nvcc: NVIDIA (R) Cuda compiler driver"\n'
                     'echo "Cuda compilation tools, release 12.4, V12.4.131"\n')
    bad = fake_tool(tmp_path / "bad", "nvcc", f'echo "{FAKE_NVCC_SAYS}" >&2\nexit 1\n')
    assert cuda.nvcc_version(str(good)) == 12.4
    assert cuda.nvcc_version(str(bad)) is None


# ---------------------------------------------------------------------- the three failures
def test_no_gpu_one_message(tiny, tmp_path, monkeypatch):
    """nvcc there, no GPU: the project is generated, not compiled; run() says why."""
    monkeypatch.delenv("LNP_BRIAN_CUDA_COMPILE", raising=False)
    nvcc = fake_tool(tmp_path / "cuda" / "bin", "nvcc", f'echo "{FAKE_NVCC_SAYS}" >&2\nexit 1\n')
    monkeypatch.setattr(cuda, "gpu_info", lambda: None)
    monkeypatch.setattr(cuda, "nvcc_path", lambda: str(nvcc))
    sim = cuda_sim(tiny, tmp_path / "build")
    assert not sim.compiled and sim.compilations == 0
    assert (tmp_path / "build" / "main.cu").exists() and not (tmp_path / "build" / "main").exists()
    with pytest.raises(lb.GPUUnavailable) as info:
        sim.run()
    msg = str(info.value)
    assert msg.startswith("cuda_standalone cannot run here: no NVIDIA GPU found")
    assert "needs a GPU machine" in msg and str(tmp_path / "build") in msg
    assert "nvcc" not in msg and "\n" not in msg


def test_no_nvcc_one_message(tiny, tmp_path, monkeypatch):
    """A GPU but no CUDA toolkit: code generation still works (brian2cuda is not left to
    search for one, which fails without any), and run() names the missing nvcc."""
    monkeypatch.delenv("LNP_BRIAN_CUDA_COMPILE", raising=False)
    monkeypatch.setattr(cuda, "gpu_info", lambda: FAKE_GPU)
    monkeypatch.setattr(cuda, "nvcc_path", lambda: None)
    monkeypatch.setenv("CUDA_PATH", str(tmp_path / "no-cuda-here"))
    sim = cuda_sim(tiny, tmp_path / "build")
    assert not sim.compiled and sim.compilations == 0
    with pytest.raises(lb.GPUUnavailable) as info:
        sim.run()
    msg = str(info.value)
    assert msg.startswith("cuda_standalone cannot run here: nvcc was not found")
    assert "GPU" not in msg.split(". The CUDA project")[0] and str(tmp_path / "build") in msg


def test_neither_gpu_nor_nvcc_one_message(tiny, tmp_path, monkeypatch):
    monkeypatch.delenv("LNP_BRIAN_CUDA_COMPILE", raising=False)
    monkeypatch.setattr(cuda, "gpu_info", lambda: None)
    monkeypatch.setattr(cuda, "nvcc_path", lambda: None)
    sim = cuda_sim(tiny, tmp_path / "build")
    with pytest.raises(lb.GPUUnavailable, match="no NVIDIA GPU found .* and nvcc was not found"):
        sim.run()


def test_compile_failure_names_the_log(tiny, tmp_path, monkeypatch):
    """A compiler that fails: BackendError (not GPUUnavailable) naming the make log, which
    holds the compiler's output, and quoting its end. The fake nvcc is found on PATH although
    earlier builds in this process saw other compilers (brian2cuda's cached detection is
    refreshed for every build), so no real CUDA compile runs."""
    bin_dir = tmp_path / "cuda" / "bin"
    fake_tool(bin_dir, "nvcc", f'echo "{FAKE_NVCC_SAYS} ($*)" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LNP_BRIAN_CUDA_COMPILE", "1")
    monkeypatch.setattr(cuda, "gpu_info", lambda: None)
    assert cuda.nvcc_path() == str(bin_dir / "nvcc")
    build = tmp_path / "build"
    build.mkdir()
    (build / "lnp_make.log").write_text("stale log of an earlier build\n")
    with pytest.raises(lb.BackendError) as info:
        cuda_sim(tiny, build)
    assert not isinstance(info.value, lb.GPUUnavailable)
    msg = str(info.value)
    log = build / "lnp_make.log"
    first = msg.splitlines()[0]
    assert first.startswith("cuda_standalone compilation failed")
    assert f"compiler output: {log}" in first and f"project: {build}" in first
    text = log.read_text()
    assert FAKE_NVCC_SAYS in text and "stale log" not in text
    assert FAKE_NVCC_SAYS in msg  # the end of the log is quoted


def test_gpu_check_script_stops_without_gpu(tmp_path):
    """benchmarks/bench_gpu.py exits at once with code 3 and the GPUUnavailable message
    (nvidia-smi that fails, as on a machine without a driver, on any machine)."""
    bin_dir = tmp_path / "bin"
    fake_tool(bin_dir, "nvidia-smi", 'echo "NVIDIA-SMI has failed because it couldn\'t communicate '
              'with the NVIDIA driver." >&2\nexit 9\n')
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYTHONUNBUFFERED="1")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_gpu.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stderr.startswith("GPUUnavailable: cuda_standalone cannot be checked here: no NVIDIA GPU found")
    assert len(proc.stderr.strip().splitlines()) == 1  # one message, no traceback
    assert not (out / "results_gpu.json").exists()


# ---------------------------------------------------------------------- on a GPU machine
@pytest.mark.gpu
def test_cuda_matches_cpp_statistically(tmp_path):
    """cuda_standalone against cpp_standalone, same 1000-neuron network and deterministic
    input: population rate within 2 %, per-neuron rate distributions alike (KS p > 0.01)."""
    from scipy.stats import ks_2samp

    from conftest import drive

    net = lb.build_network("hrsnn", n=1000, seed=1)
    stim = drive(net.n, steps=5000)
    rates = {}
    for device in ("cpp_standalone", "cuda_standalone"):
        res = lb.simulate(net, device, duration="500 ms", inputs=stim, build_dir=tmp_path / device)
        rates[device] = res.rates()
    cpp, gpu = rates["cpp_standalone"], rates["cuda_standalone"]
    assert cpp.mean() > 1.0  # the network is active
    assert gpu.mean() == pytest.approx(cpp.mean(), rel=0.02)
    assert ks_2samp(cpp, gpu).pvalue > 0.01
