"""Backends: runtime and C++ standalone agree exactly, and one compiled build re-runs with
new weights, masks, active flags and time constants (the compile-once rule)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lnp_brian as lb

V_REST, V_TH, R_M, T_REF = -65e-3, -50e-3, 100e6, 2e-3  # models/hrsnn.toml


def lif_isi(tau, current):
    """Analytic inter-spike interval of a LIF neuron with constant current, reset to rest."""
    drive = R_M * current
    return T_REF + tau * np.log(drive / (drive - (V_TH - V_REST)))


def measured_isi(result, n):
    t, i = result.spikes()
    out = np.full(n, np.nan)
    for j in range(n):
        tj = t[i == j]
        if len(tj) >= 3:
            out[j] = np.diff(tj[1:]).mean()  # from the 2nd spike: independent of v(0)
    return out


def test_runtime_and_cpp_give_identical_spikes(cpp_sim, runtime_sim, small_hrsnn):
    a = runtime_sim.run(seed=0)
    b = cpp_sim.run(seed=0)
    assert len(a.spike_t) > 1000  # the stimulus drives the network well above threshold
    np.testing.assert_array_equal(a.spike_i, b.spike_i)
    np.testing.assert_array_equal(a.spike_t, b.spike_t)
    np.testing.assert_array_equal(a.traces["v"], b.traces["v"])
    # STDP changed E->E weights identically (up to float rounding) on both backends
    changed = a.final_state["w"] != small_hrsnn.w
    assert changed.sum() > 100 and np.all(small_hrsnn.plastic[changed])
    np.testing.assert_allclose(a.final_state["w"], b.final_state["w"], rtol=1e-12, atol=1e-24)


def test_cpp_reruns_without_recompiling(cpp_sim, small_hrsnn, stimulus):
    """Three re-runs of one build: uncoupled LIF rates match theory for two sets of tau_m,
    and silenced neurons never spike while the others are unaffected."""
    n = small_hrsnn.n
    before = lb.compile_count()
    m = len(small_hrsnn.w)
    # zero weights, STDP amplitudes zero (else potentiation would grow weights from 0),
    # no stimulus, a constant 200 pA bias: uncoupled LIF neurons
    quiet = {"weights": np.zeros(m), "stimulus": np.zeros_like(stimulus.values),
             "bias": np.full(n, 200e-12), "syn_params": {"A_plus": np.zeros(m), "A_minus": np.zeros(m)}}

    r1 = cpp_sim.run(seed=0, **quiet)
    tau = small_hrsnn.params["tau_m"]
    isi = measured_isi(r1, n)
    ok = np.isfinite(isi)
    assert ok.sum() > 100
    assert np.all(np.abs(isi[ok] - lif_isi(tau[ok], 200e-12)) <= 2 * cpp_sim.dt)

    tau2 = np.full(n, 10e-3)
    r2 = cpp_sim.run(seed=0, params={"tau_m": tau2}, **quiet)
    isi2 = measured_isi(r2, n)
    assert np.all(np.isfinite(isi2))
    assert np.all(np.abs(isi2 - lif_isi(10e-3, 200e-12)) <= 2 * cpp_sim.dt)

    active = np.ones(n, bool)
    active[::4] = False
    r3 = cpp_sim.run(seed=0, active=active, params={"tau_m": tau2}, **quiet)
    assert np.all(r3.spike_counts()[~active] == 0)
    # uncoupled: the neurons left active spike exactly as before
    t2, i2 = r2.spikes()
    keep = active[i2]
    np.testing.assert_array_equal(r3.spike_t, t2[keep])
    np.testing.assert_array_equal(r3.spike_i, i2[keep])

    assert lb.compile_count() == before
    assert cpp_sim.compilations == 1
    assert r3.info["compilations"] == 1


def test_pruned_network_rerun_and_topology_check(cpp_sim, small_hrsnn):
    pruned = small_hrsnn.prune(synapses=np.arange(0, len(small_hrsnn.w), 2), neurons=[0, 1, 2])
    r = cpp_sim.run(pruned, seed=0)
    assert np.all(r.spike_counts()[:3] == 0)
    # pruned synapses carried no weight and STDP (masked) did not grow them back
    assert np.all(r.final_state["w"][~pruned.syn_mask] == 0)
    other = lb.build_network(small_hrsnn.model, n=small_hrsnn.n, seed=4)
    with pytest.raises(lb.TopologyMismatch):
        cpp_sim.run(other)


def test_same_seed_same_noise_and_reuse(small_hrsnn, tmp_path):
    """Noise seeds are run-time values: same seed -> same spikes, new seed -> new spikes;
    a second Simulator on the same directory re-uses the binary (no compilation)."""
    noise = lb.default_input(small_hrsnn.model)
    sim = lb.Simulator(small_hrsnn, "cpp_standalone", duration="200 ms", inputs=noise,
                       build_dir=tmp_path, reuse=True)
    a, b, c = sim.run(seed=5), sim.run(seed=5), sim.run(seed=6)
    assert len(a.spike_t) > 50
    np.testing.assert_array_equal(a.spike_i, b.spike_i)
    assert not np.array_equal(a.spike_i, c.spike_i)
    again = lb.Simulator(small_hrsnn, "cpp_standalone", duration="200 ms", inputs=noise,
                         build_dir=tmp_path, reuse=True)
    assert again.compilations == 0
    np.testing.assert_array_equal(again.run(seed=5).spike_i, a.spike_i)


def test_a_build_replaced_by_another_structure_is_never_run(cpp_sim):
    """A Simulator of another structure that compiles in the same folder rewrites its build
    record; a Simulator whose binary was replaced refuses to run instead of returning the
    other build's spikes as its own."""
    import json

    record = cpp_sim.build_dir / "lnp_build.json"
    saved = record.read_text()
    try:
        record.write_text(json.dumps({**json.loads(saved), "key": "another structure"}))
        with pytest.raises(lb.BackendError, match="replaced by a build of another structure"):
            cpp_sim.run(seed=0)
    finally:
        record.write_text(saved)
    assert len(cpp_sim.run(seed=0).spike_t) > 0


def test_compact_network_simulates_like_masked(small_hrsnn, stimulus):
    """Removing pruned neurons/synapses (compact) gives the same dynamics as masking them."""
    keep = np.ones(small_hrsnn.n, bool)
    keep[::3] = False
    masked = small_hrsnn.prune(neurons=np.flatnonzero(~keep),
                               synapses=np.arange(1, len(small_hrsnn.w), 3))
    compact = masked.compact()
    assert compact.n == keep.sum() and len(compact.w) == masked.n_synapses
    sub = lb.Stimulus(stimulus.values, dt=stimulus.dt, weights=stimulus.weights[:, keep])
    full = lb.simulate(masked, "runtime", duration="200 ms", inputs=stimulus, runtime_target="numpy")
    small = lb.simulate(compact, "runtime", duration="200 ms", inputs=sub, runtime_target="numpy")
    t, i = full.spikes()
    assert len(t) > 200
    np.testing.assert_array_equal(small.spike_t, t)
    np.testing.assert_array_equal(compact.ids[small.spike_i], i)


def test_copies_are_independent_replicas(small_hrsnn, stimulus):
    """Two copies in one build with identical values reproduce the single-copy run; a copy
    with different initial values diverges."""
    one = lb.simulate(small_hrsnn, "runtime", duration="100 ms", inputs=stimulus, runtime_target="numpy")
    sim = lb.Simulator(small_hrsnn, "runtime", duration="100 ms", inputs=stimulus, copies=2,
                       runtime_target="numpy")
    two = sim.run()
    for c in range(2):
        t, i = two.spikes(c)
        np.testing.assert_array_equal(t, one.spike_t)
        np.testing.assert_array_equal(i, one.spike_i)
    v0 = small_hrsnn.initial["v"]
    shifted = sim.run(initial={"v": np.concatenate([v0, v0 + 2e-3])})
    assert not np.array_equal(shifted.spikes(0)[1], shifted.spikes(1)[1])


def test_ode_model_runs_and_records(tmp_path):
    """A plain ODE model (Lorenz63, no threshold) simulates and records its variables."""
    net = lb.build_network("lorenz63")
    res = lb.simulate(net, "runtime", duration="2 s", record={"x": True, "y": True, "z": True},
                      runtime_target="numpy")
    x = res.traces["x"][0, 0]
    assert res.dt == pytest.approx(1e-3) and len(x) == 2000
    assert np.all(np.abs(x) < 30) and x.std() > 3  # on the attractor, not decaying
    assert len(res.spike_t) == 0


def test_cuda_generates_project_without_gpu(small_hrsnn, tmp_path):
    from lnp_brian.brian.cuda import gpu_info

    if gpu_info() is not None:
        pytest.skip("a GPU is present: covered by the gpu-marked tests")
    sim = lb.Simulator(small_hrsnn, "cuda_standalone", duration="50 ms",
                       inputs=lb.default_input(small_hrsnn.model), build_dir=tmp_path)
    assert sim.compilations == 0 and not sim.compiled
    for name in ("main.cu", "objects.cu", "network.cu", "makefile"):
        assert (tmp_path / name).exists()
    assert "-std=c++17" in (tmp_path / "makefile").read_text()
    # our run-time reseeding hook made it into the generated main
    assert "random_number_buffer.set_seed" in (tmp_path / "main.cu").read_text()
    with pytest.raises(lb.GPUUnavailable, match="GPU"):
        sim.run()


@pytest.mark.gpu
def test_cuda_matches_cpp_on_gpu(small_hrsnn, stimulus, tmp_path):
    """On a GPU machine: cuda_standalone compiles, runs and matches cpp_standalone rates."""
    cuda = lb.simulate(small_hrsnn, "cuda_standalone", duration="300 ms", inputs=stimulus,
                       build_dir=tmp_path / "cuda")
    cpp = lb.simulate(small_hrsnn, "cpp_standalone", duration="300 ms", inputs=stimulus,
                      build_dir=tmp_path / "cpp")
    assert len(cuda.spike_t) == pytest.approx(len(cpp.spike_t), rel=0.02)


def test_poisson_stimulus_drives_network_identically_on_both_backends(small_hrsnn, tmp_path):
    """Rate-coded spiking input: input spikes follow the rates; a neuron without input
    synapses and without recurrent input stays silent; new rates need no recompilation."""
    n, k = small_hrsnn.n, 20
    rng = np.random.default_rng(1)
    weights = np.where(rng.random((k, n)) < 0.3, 60e-12, 0.0)
    rates = np.zeros((4, k))
    rates[0::2] = 200.0  # 50 ms on, 50 ms off, twice
    stim = lb.PoissonStimulus(rates, dt="50 ms", weights=weights)
    sim = lb.Simulator(small_hrsnn, "cpp_standalone", duration="200 ms", inputs=stim, build_dir=tmp_path)
    res = sim.run(seed=3)
    t = res.input_spike_t
    on = ((t < 0.05) | ((t >= 0.1) & (t < 0.15))).sum()
    assert on == len(t) and len(t) == pytest.approx(200.0 * k * 0.1, rel=0.15)  # Poisson count
    assert len(res.spike_t) > 0
    silent = sim.run(seed=3, input_rates=np.zeros_like(rates))
    assert len(silent.input_spike_t) == 0 and len(silent.spike_t) == 0
    assert sim.compilations == 1


def test_request_stop_ends_a_runtime_run_and_blocks_the_next(small_hrsnn):
    """request_stop (what the CLI's Ctrl-C handler calls) ends a long runtime run within a few
    steps, even when it comes before the run starts, and a stopped run is never returned."""
    import threading
    import time

    from lnp_brian.brian.state import clear_stop_request, request_stop
    from lnp_brian.simulation.simulator import SimulationInterrupted

    sim = lb.Simulator(small_hrsnn, "runtime", duration="10 ms")
    sim.run(seed=1)  # compiles the Cython code objects (about 10 s with a cold cache) before the clock runs
    sim.duration = 300.0
    try:
        requested = []

        def stop_now():
            requested.append(time.perf_counter())
            request_stop()

        timer = threading.Timer(1.0, stop_now)
        timer.start()
        with pytest.raises(SimulationInterrupted, match="stopped at"):
            sim.run(seed=1)
        assert time.perf_counter() - requested[0] < 10  # 300 s of biological time would take minutes
        with pytest.raises(SimulationInterrupted, match="before the run started"):
            sim.run(seed=1)
    finally:
        clear_stop_request()
    sim.duration = 0.01
    assert sim.run(seed=1).info["seed"] == 1  # allowed again after clear_stop_request


def test_a_stimulus_brian2_cannot_integrate_exactly_is_refused_by_name(hrsnn):
    """75 ms / 0.1 ms is 749.9999999999999 in floating point, and no float near 75 ms divides to
    750: Brian2's exact integrator would fail deep inside the build. The Simulator says so
    first, with the usable values beside it; 80 ms runs and switches at step 800."""
    net = lb.build_network(hrsnn, n=20, seed=1)
    values, weights = np.array([[0.0], [100e-12]]), np.ones((1, 20))
    with pytest.raises(ValueError, match=r"Stimulus.dt = 75 ms .* 749.9999999999999.* 72 ms or 76 ms"):
        lb.Simulator(net, "runtime", duration="80 ms", inputs=[lb.Stimulus(values, dt="75 ms", weights=weights)])
    v = {}
    for step in (0.0, 100e-12):  # no noise: the runs differ only by the step at t = 80 ms
        stim = lb.Stimulus(np.array([[0.0], [step]]), dt="80 ms", weights=weights)
        res = lb.simulate(net, "runtime", duration="85 ms", inputs=[stim], record={"v": [0]},
                          record_spikes=False, runtime_target="numpy", seed=1)
        v[step] = np.asarray(res.traces["v"][0, 0])
    diff = v[100e-12] - v[0.0]
    assert np.all(diff[:801] == 0) and np.all(diff[802:] > 0)  # the step acts from step 800 on


_ONE_BUILD = """
import sys
import numpy as np
import lnp_brian as lb
net = lb.build_network("hrsnn", n=200, seed=3)
with lb.Simulator(net, "cpp_standalone", duration="200 ms", inputs=lb.default_input(net.model),
                  build_dir=sys.argv[1]) as sim:
    res = sim.run(seed=4)
np.savez(sys.argv[1] + "/spikes.npz", t=res.spike_t, i=res.spike_i)
"""


def test_precompiled_standard_headers_change_no_object_of_the_simulation(tmp_path, package_cache):
    """cpp_standalone builds include the standard headers precompiled once (parsing them was most
    of each code object's compile time). The code objects compile to the same bytes and the
    runs give the same spikes as a build without it (LNP_BRIAN_PCH=off). Each build runs in a
    fresh process, where Brian2 gives its objects the same names."""
    import os
    import subprocess
    import sys

    from lnp_brian.core.files import read_json

    dirs = {switch: tmp_path / switch for switch in ("on", "off")}
    for switch, folder in dirs.items():
        subprocess.run([sys.executable, "-c", _ONE_BUILD, str(folder)], check=True, capture_output=True,
                       env=dict(os.environ, LNP_BRIAN_PCH=switch))
    on, off = dirs["on"], dirs["off"]
    header = read_json(on / "lnp_build.json")["precompiled_header"]
    assert header is not None and header.startswith(str(package_cache))
    assert Path(header + ".gch").stat().st_size > 1e6  # the compiled form, not the text
    assert f"-include{header}" in (on / "makefile").read_text()
    assert read_json(off / "lnp_build.json")["precompiled_header"] is None
    assert "-include" not in (off / "makefile").read_text()
    objects = sorted(p.relative_to(on) for p in (on / "code_objects").glob("*.o"))
    assert len(objects) > 10
    for obj in objects:
        assert (on / obj).read_bytes() == (off / obj).read_bytes(), obj
    spikes = {switch: np.load(folder / "spikes.npz") for switch, folder in dirs.items()}
    assert len(spikes["on"]["t"]) > 100
    np.testing.assert_array_equal(spikes["on"]["t"], spikes["off"]["t"])
    np.testing.assert_array_equal(spikes["on"]["i"], spikes["off"]["i"])


def test_exact_integrator_cache_returns_brians_code_and_keys_what_brian_checks(tmp_path, monkeypatch):
    """The exact integrator's result (sympy's matrix exponential, ~0.6 s per group) is kept on
    disk. What comes back is Brian2's own abstract code, read from disk on the next call, and
    equations that Brian2 refuses (a TimedArray that changes within a time step) are refused
    again instead of being served from the cache of a near-identical model."""
    import sys

    import brian2 as b2
    from brian2.stateupdaters.base import UnsupportedEquationsException

    from lnp_brian.brian.integrators import exact
    from lnp_brian.core.files import CACHE_ENV

    brians = sys.modules["brian2.stateupdaters.exact"]
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    eqs = """dv/dt = (v_rest - v + R_m * (I_syn + drive(t, i))) / tau_m : volt (unless refractory)
             dI_syn/dt = -I_syn / tau_syn : amp
             tau_m : second (constant)
             tau_syn : second (constant)"""

    def variables(drive_dt):  # what a NeuronGroup hands its integrator (the ones that matter here)
        clock = b2.defaultclock.variables
        drive = b2.TimedArray(np.zeros((2, 3)) * b2.pA, dt=drive_dt)
        return b2.Equations(eqs), {"t": clock["t"], "dt": clock["dt"], "drive": drive}

    equations, ok = variables(b2.defaultclock.dt * 10)
    reference = brians.LinearStateUpdater()(equations, ok)  # Brian2's own integrator, no cache
    assert "exp(" in reference and "_v = " in reference
    assert exact(equations, ok) == reference
    stored = list((tmp_path / "exact").glob("*.txt"))
    assert len(stored) == 1 and stored[0].read_text() == reference

    def no_sympy(*args, **kwargs):
        raise AssertionError("computed again instead of read from the cache")

    with monkeypatch.context() as m:
        m.setattr(brians.LinearStateUpdater, "__call__", no_sympy)
        assert exact(equations, ok) == reference  # from disk

    equations, changing = variables(b2.defaultclock.dt * 0.5)  # not constant over one step
    with pytest.raises(UnsupportedEquationsException, match="constant over a time step"):
        brians.LinearStateUpdater()(equations, changing)
    with pytest.raises(UnsupportedEquationsException, match="constant over a time step"):
        exact(equations, changing)
    assert len(list((tmp_path / "exact").glob("*.txt"))) == 1
