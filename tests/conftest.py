"""Shared fixtures. Standalone builds are expensive (~10-20 s to compile), so each distinct
build is made once per session in its own directory and shared by the tests that need it."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # multithreaded BLAS crawls on 2 shared cores

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lnp_brian as lb  # noqa: E402


#: the longest test files, longest first (seconds on 2 cores in one full run: 104, 77, 68, 67,
#: 53, 53, 44, 42). `make test` runs whole files in two processes (``--dist loadfile
#: --no-loadscope-reorder``) in this order, so that no long file starts last while the other
#: process sits idle: with xdist's own order (most tests first) one process finished 90 s
#: before the other.
LONGEST_FIRST = ("test_tasks.py", "test_experiment.py", "test_backends.py", "test_lyapunov.py",
                 "test_packaging.py", "test_pruning.py", "test_tutorial.py", "test_cli.py")


def pytest_collection_modifyitems(config, items):
    from lnp_brian.brian.cuda import gpu_info

    missing = [name for name in LONGEST_FIRST if not (Path(__file__).parent / name).is_file()]
    assert not missing, f"conftest.LONGEST_FIRST names test files that do not exist: {missing}"
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files keep their own order
    if gpu_info() is None:
        skip = pytest.mark.skip(reason="needs an NVIDIA GPU")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_builds(tmp_path_factory, worker_id):
    """A folder of standalone builds shared by the pytest-xdist workers of this test run. A
    build folder is compiled under a file lock and re-used when its recorded structure key
    matches, so the first worker that needs a build compiles it and the other re-uses it."""
    base = tmp_path_factory.getbasetemp()
    root = (base if worker_id == "master" else base.parent) / "shared_builds"
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="session", autouse=True)
def package_cache(shared_builds):
    """One cache of compiled artefacts (the precompiled header, the exact integrator's results)
    for this test run, shared by its workers and the CLI processes it starts, and never the
    user's own."""
    from lnp_brian.core.files import CACHE_ENV

    path = shared_builds.parent / "lnp_brian_cache"
    saved = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(path)
    yield path
    if saved is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = saved


@pytest.fixture(scope="session")
def hrsnn():
    return lb.load_model("hrsnn")


#: the pruning tests' settings: two iterations on a 300-neuron HRSNN (tests/test_pruning*.py)
FAST_PRUNE = dict(iterations=2, target_neurons=0.3, target_synapses=0.6, duration="600 ms", trials=3, seed=3,
                  lyapunov_copies=2, spectrum_k=8)


@pytest.fixture(scope="session")
def prune_dense():
    """The 300-neuron HRSNN (seed 2) that the pruning tests prune."""
    return lb.build_network("hrsnn", n=300, seed=2)


@pytest.fixture(scope="session")
def prune_builds(shared_builds):
    """One build folder for every pruning test, in both workers: the loop and replay builds
    compile once per test run."""
    return shared_builds / "prune"


@pytest.fixture(scope="session")
def small_hrsnn(hrsnn):
    """A 200-neuron HRSNN (STDP on E->E), seed 3."""
    return lb.build_network(hrsnn, n=200, seed=3)


def drive(n_neurons: int, steps: int = 3000, channels: int = 3, seed: int = 0):
    """A deterministic 3-channel input current (pA range) and per-neuron mixing weights."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(size=(steps, channels)), axis=0) / np.sqrt(np.arange(1, steps + 1))[:, None]
    values = 150e-12 + 60e-12 * walk
    weights = rng.uniform(0.5, 1.5, size=(channels, n_neurons))
    return lb.Stimulus(values, dt="0.1 ms", weights=weights)


@pytest.fixture(scope="session")
def stimulus(small_hrsnn):
    return drive(small_hrsnn.n)


@pytest.fixture(scope="session")
def cpp_sim(small_hrsnn, stimulus, tmp_path_factory):
    """One compiled cpp_standalone build of small_hrsnn with a deterministic stimulus."""
    sim = lb.Simulator(small_hrsnn, "cpp_standalone", duration="300 ms", inputs=stimulus,
                       record={"v": [0, 1, 2]}, build_dir=tmp_path_factory.mktemp("cpp_sim"))
    yield sim
    sim.close()


@pytest.fixture(scope="session")
def runtime_sim(small_hrsnn, stimulus):
    sim = lb.Simulator(small_hrsnn, "runtime", duration="300 ms", inputs=stimulus,
                       record={"v": [0, 1, 2]})
    yield sim
    sim.close()


@pytest.fixture(scope="session")
def lorenz_result(tmp_path_factory):
    """lambda_max of the lorenz63 model file (tau = 1 s) on cpp_standalone, and the number of
    compilations it took (shared by the Lyapunov and dataset tests)."""
    from lnp_brian.lyapunov import finite_size as ly

    net = lb.build_network("lorenz63")
    before = lb.compile_count()
    res = ly.max_exponent(net, "cpp_standalone", duration="300 s", perturbation=1e-6, copies=4,
                          interval="100 ms", transient="10 s", seed=1,
                          build_dir=tmp_path_factory.mktemp("lorenz"))
    return res, lb.compile_count() - before
