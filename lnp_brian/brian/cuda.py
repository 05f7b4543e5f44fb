"""What brian2cuda needs to generate, compile and run CUDA standalone projects here.

Measured on this project's machines: without a GPU, brian2cuda's default GPU detection
fails before any code is generated (``nvidia-smi -L`` failed), so detection is switched off
and the target architecture set explicitly; CUDA 13 toolkits ship no cuRAND, which comes from
the ``nvidia-curand`` wheel (headers, library, and a ``libcurand.so`` link made here); and
brian2cuda's hard-coded ``-std=c++11`` is overridden with ``-std=c++17`` for CUDA 13's Thrust.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

__all__ = ["gpu_info", "nvcc_path", "nvcc_version", "unavailable", "can_compile",
           "cuda_preferences", "curand_paths", "set_brian2cuda_detection"]

DEFAULT_COMPUTE_CAPABILITY = 9.0  # Hopper (H100/H200); nvcc 13 accepts 7.5 and above
DEFAULT_CUDA_VERSION = 13.0  # assumed for code generation when nvcc cannot tell
NO_GPU = "no NVIDIA GPU found (nvidia-smi lists none)"
NO_NVCC = "nvcc was not found (install the CUDA toolkit or set CUDA_PATH)"


@lru_cache(maxsize=1)
def gpu_info() -> dict | None:
    """Name and compute capability of GPU 0, or None when no NVIDIA GPU answers.

    Asks ``nvidia-smi`` once per process (the answer is cached).

    Returns
    -------
    dict or None
        ``{"name": str, "compute_capability": float}``, e.g. ``9.0`` for an H100 (when
        nvidia-smi does not report it: ``DEFAULT_COMPUTE_CAPABILITY``, 9.0), or None.
    """
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=name,compute_cap", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    name, _, cap = out.stdout.strip().splitlines()[0].rpartition(",")
    try:
        capability = float(cap.strip())
    except ValueError:
        capability = DEFAULT_COMPUTE_CAPABILITY
    return {"name": name.strip(), "compute_capability": capability}


def nvcc_path() -> str | None:
    """Path of nvcc: on PATH, else under ``$CUDA_PATH`` or ``/usr/local/cuda``.

    Returns
    -------
    str or None
        The path of the nvcc executable, or None when none is found.
    """
    found = shutil.which("nvcc")
    if found:
        return found
    for root in (os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if root and (Path(root) / "bin" / "nvcc").exists():
            return str(Path(root) / "bin" / "nvcc")
    return None


def nvcc_version(nvcc: str | None = None) -> float | None:
    """CUDA release of nvcc (e.g. 13.0) from ``nvcc --version``; None when it cannot tell.

    Parameters
    ----------
    nvcc : str, optional
        Path of nvcc (default: :func:`nvcc_path`).

    Returns
    -------
    float or None
        The release, e.g. ``13.0``; None without nvcc or when its output cannot be read.
    """
    nvcc = nvcc or nvcc_path()
    if nvcc is None:
        return None
    try:
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.stdout.splitlines():  # "Cuda compilation tools, release 13.0, V13.0.88"
        if "release" in line:
            try:
                return float(line.split("release", 1)[1].split(",")[0])
            except ValueError:
                return None
    return None


def unavailable() -> str | None:
    """What this machine lacks to compile and run cuda_standalone builds.

    Returns
    -------
    str or None
        A message naming what is missing (a GPU, nvcc or both), or None when nothing is.
    """
    missing = [why for why, absent in ((NO_GPU, gpu_info() is None), (NO_NVCC, nvcc_path() is None))
               if absent]
    if len(missing) == 2:
        return "no NVIDIA GPU found (nvidia-smi lists none) and nvcc was not found (no CUDA toolkit)"
    return missing[0] if missing else None


def can_compile() -> tuple[bool, str]:
    """Whether a cuda_standalone project should be compiled here, and why (not).

    Compiling needs nvcc; running needs a GPU, so without one the project is only generated
    (set ``LNP_BRIAN_CUDA_COMPILE=1`` to compile anyway, e.g. to check the toolchain).

    Returns
    -------
    ok : bool
        Whether to compile.
    reason : str
        Where nvcc was found, or what is missing.
    """
    nvcc = nvcc_path()
    forced = os.environ.get("LNP_BRIAN_CUDA_COMPILE") == "1"
    if nvcc is None:
        return False, unavailable()
    if gpu_info() is None and not forced:
        return False, NO_GPU + "; compiling and running it needs a GPU machine"
    return True, f"nvcc at {nvcc}"


def curand_paths() -> tuple[str, str] | None:
    """Include and library directories of cuRAND from the ``nvidia-curand`` wheel.

    The wheel ships only a versioned ``libcurand.so.N``; a ``libcurand.so`` link to it is made
    in ``$XDG_CACHE_HOME/lnp_brian/curand`` (default ``~/.cache``) so the linker finds it.

    Returns
    -------
    tuple of (str, str) or None
        ``(include_dir, lib_dir)``, where ``lib_dir`` holds the ``libcurand.so`` link; None
        when the wheel is not installed.
    """
    try:
        import nvidia  # namespace package of the NVIDIA wheels
    except ImportError:
        return None
    for base in getattr(nvidia, "__path__", []):
        for sub in ("cu13", "curand", "cu12"):
            inc, lib = Path(base, sub, "include"), Path(base, sub, "lib")
            if (inc / "curand.h").exists() and lib.exists():
                sofiles = sorted(lib.glob("libcurand.so*"))
                if not sofiles:
                    continue
                link_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lnp_brian" / "curand"
                link_dir.mkdir(parents=True, exist_ok=True)
                link = link_dir / "libcurand.so"
                if not link.exists():
                    try:
                        link.symlink_to(sofiles[0])
                    except FileExistsError:
                        pass
                return str(inc), str(link_dir)
    return None


def cuda_preferences() -> dict:
    """Brian2 preferences for a cuda_standalone build on this machine.

    GPU detection is switched off and the compute capability set from :func:`gpu_info`
    (default ``DEFAULT_COMPUTE_CAPABILITY``, 9.0); the CUDA path and release come from nvcc
    (default release ``DEFAULT_CUDA_VERSION``, 13.0), cuRAND from :func:`curand_paths`, and
    C++17 replaces brian2cuda's ``-std=c++11``.

    Returns
    -------
    dict
        Brian2 preference names (``"devices.cuda_standalone.cuda_backend.*"``,
        ``"codegen.cpp.*"``) to values.
    """
    gpu = gpu_info()
    prefs = {
        "devices.cuda_standalone.cuda_backend.detect_gpus": False,
        "devices.cuda_standalone.cuda_backend.gpu_id": 0,
        "devices.cuda_standalone.cuda_backend.compute_capability":
            gpu["compute_capability"] if gpu else DEFAULT_COMPUTE_CAPABILITY,
        "devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc": ["-w", "-use_fast_math", "-std=c++17"],
        "codegen.cpp.extra_compile_args_gcc": ["-w", "-O3", "-ffast-math", "-fno-finite-math-only",
                                               "-march=native", "-std=c++17"],
    }
    nvcc = nvcc_path()
    if nvcc is None:
        prefs["devices.cuda_standalone.cuda_backend.detect_cuda"] = False
    else:
        prefs["devices.cuda_standalone.cuda_backend.cuda_path"] = str(Path(nvcc).resolve().parent.parent)
    # code generation asks brian2cuda for the CUDA release (it runs nvcc --version itself,
    # and fails code generation where that fails): tell it, so only compiling needs nvcc
    prefs["devices.cuda_standalone.cuda_backend.cuda_runtime_version"] = (
        nvcc_version(nvcc) or DEFAULT_CUDA_VERSION)
    paths = curand_paths()
    if paths is not None:
        inc, lib = paths
        real_lib = str(Path(lib, "libcurand.so").resolve().parent)
        prefs["codegen.cpp.include_dirs"] = [inc]
        prefs["codegen.cpp.library_dirs"] = [lib]
        prefs["codegen.cpp.runtime_library_dirs"] = [real_lib]
    return prefs


def set_brian2cuda_detection(prefs: dict) -> None:
    """Give brian2cuda the CUDA installation of ``prefs`` (from :func:`cuda_preferences`).

    brian2cuda detects the CUDA path, nvcc and the GPU once per process and keeps the answer,
    so a later build would use the nvcc found first (even after PATH changed), and without
    any CUDA installation code generation itself fails. Setting its record from our own
    detection makes every build use the current nvcc, or, with none, generate code only.

    Parameters
    ----------
    prefs : dict
        The preferences from :func:`cuda_preferences` (its CUDA path and runtime version are
        used).
    """
    from brian2cuda.utils import gputools

    nvcc = nvcc_path()
    root = prefs.get("devices.cuda_standalone.cuda_backend.cuda_path") or (
        str(Path(nvcc).resolve().parent.parent) if nvcc else "/usr/local/cuda")
    gputools.restore_cuda_installation({
        "cuda_path": root,
        "nvcc_path": str(Path(root, "bin", "nvcc")),  # brian2cuda's own rule
        "runtime_version": prefs.get("devices.cuda_standalone.cuda_backend.cuda_runtime_version")
        or DEFAULT_CUDA_VERSION,
    })
    gputools.reset_gpu_selection()
