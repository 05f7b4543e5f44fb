"""Lyapunov spectrum of ODE models from variational equations integrated in the build
(lnp_brian.lyapunov.tangent), checked against known answers and the Python reference
(lnp_brian.lyapunov.spectrum.qr_spectrum_ode).

Cost: one cpp_standalone build (Lorenz63, ~12 s to compile) re-run several times; the other
checks run on the runtime device with NumPy code generation (no compilation)."""

from __future__ import annotations

import numpy as np
import pytest

import lnp_brian as lb
from lnp_brian.lyapunov import finite_size as ly
from lnp_brian.lyapunov import tangent as tg
from lnp_brian.lyapunov.spectrum import qr_spectrum_ode
from lnp_brian.model.spec import ModelSpec

LORENZ_SUM = -(10 + 1 + 8 / 3)  # trace of the Lorenz Jacobian: the sum of all exponents

# a linear system with units: Jacobian [[-1/t1, R/t1, 0], [1/(R t2), -1/t2, 0], [1/(mV t3), 0, -1/t3]]
# (v, I, u) has eigenvalues 0, -(1/t1 + 1/t2) = -150/s and -1/t3 = -20/s; non-normal, mixed units
LINEAR = '''
[model]
name = "linear3"
dt = "0.5 ms"
[neuron]
equations = """
dv/dt = (-v + R * I) / tau1 : volt
dI/dt = (-I + v / R) / tau2 : amp
du/dt = (v / mV - u) / tau3 : 1
"""
method = "rk4"
[neuron.constants]
R = "100 Mohm"
tau1 = "10 ms"
tau2 = "20 ms"
tau3 = "50 ms"
[neuron.initial]
v = "2 mV"
I = "5 pA"
u = 0.5
[network]
n_neurons = 2
'''


@pytest.fixture(scope="module")
def lorenz_engine(tmp_path_factory):
    """One cpp_standalone build of the shipped lorenz63 model (tau = 1 s, dt = 1 ms, rk4)
    with 3 tangent vectors, 1000 s per run."""
    build = tmp_path_factory.mktemp("tangent_lorenz")
    before = lb.compile_count()
    eng = tg.TangentSpectrum(lb.build_network("lorenz63"), 3, "cpp_standalone", duration="1000 s",
                             interval="10 ms", build_dir=build, reuse=True)
    assert lb.compile_count() - before == 1
    return eng, build


def test_variational_equations_of_lorenz():
    vs = tg.variational_system("lorenz63")
    assert vs.names == ("x", "y", "z") and vs.k == 3 and vs.namespace == {}
    assert len(vs.jacobian) == 8  # J has one structural zero: d(dx/dt)/dz
    assert (0, 2) not in vs.jacobian
    eqs = vs.equations.splitlines()
    assert "dtan_x_0/dt = (-sigma/tau) * tan_x_0 + (sigma/tau) * tan_y_0 : 1" in eqs
    assert sum(line.startswith("dtan_") for line in eqs) == 9
    code = vs.gram_schmidt_code(0.01)
    assert code.count("tan_dot_") == 3 * 4  # 3 projections (k(k-1)/2), each: dot + 3 updates
    assert code.count("+= tan_on * log(tan_norm_") == 3
    # the generated Jacobian equals the NumPy one of lnp_brian.lyapunov.finite_size.ode_system
    from brian2.parsing.sympytools import str_to_sympy

    names, _, jac, _ = ly.ode_system(lb.build_network("lorenz63"))
    point = {"x": 1.5, "y": -2.0, "z": 20.0, "sigma": 10.0, "rho": 28.0, "beta": 8 / 3, "tau": 1.0}
    J = np.zeros((3, 3))
    for (a, b), text in vs.jacobian.items():
        e = str_to_sympy(text)
        J[a, b] = float(e.subs({s: point[s.name] for s in e.free_symbols}))
    np.testing.assert_allclose(J, jac(np.array([1.5, -2.0, 20.0])), rtol=1e-12)


def test_units_are_scaled_and_checked():
    vs = tg.variational_system(ModelSpec.from_toml(LINEAR, "linear3"), k=2)
    assert vs.names == ("I", "u", "v") and vs.k == 2
    assert vs.scales == {"I": 1e-12, "u": 1.0, "v": 1e-3}  # pA, mV, 1: tangents are dimensionless
    assert set(vs.namespace) == {"tan_scale_I", "tan_scale_v"}
    assert "dtan_v_1/dt" in vs.equations and "tan_log_1 : 1" in vs.equations


def test_refuses_what_it_cannot_handle():
    with pytest.raises(ValueError, match="threshold/reset"):
        tg.variational_system("hrsnn")
    noisy = ModelSpec.from_toml('[neuron]\nequations = "dx/dt = -x / (10*ms) + xi / sqrt(ms) : 1"\n', "noisy")
    with pytest.raises(ValueError, match="stochastic"):
        tg.variational_system(noisy)
    kinked = ModelSpec.from_toml('[neuron]\nequations = "dx/dt = -clip(x, 0, 1) / (10*ms) : 1"\n', "kinked")
    with pytest.raises(ValueError, match="cannot differentiate"):
        tg.variational_system(kinked)
    with pytest.raises(ValueError, match="k must be between 1 and"):
        tg.variational_system("lorenz63", k=4)
    coupled = ModelSpec.from_toml('''
[neuron]
equations = """
dx/dt = (-x + I_rec) / (10*ms) : 1
I_rec : 1
"""
[synapse]
weight_unit = "1"
model = "I_rec_post = w * tanh(x_pre) : 1 (summed)"
[network]
n_neurons = 5
dale = false
connectivity = { kind = "all" }
[network.weights]
all = { distribution = "normal", mean = 0.0, std = 1.0 }
''', "coupled")
    with pytest.raises(ValueError, match="uncoupled ODE models only"):
        tg.TangentSpectrum(lb.build_network(coupled, seed=1), device="runtime")
    with pytest.raises(ValueError, match="whole multiple of dt"):
        tg.TangentSpectrum(lb.build_network("lorenz63"), device="runtime", interval="1.5 ms")


def test_lorenz63_spectrum_in_build(lorenz_engine):
    """Known answers (Sprott 2003): 0.906, 0, -14.572 per time unit (tau = 1 s here)."""
    eng, _ = lorenz_engine
    res = eng.run(transient="20 s", seed=0)
    lam = res.exponents
    assert res.measured == pytest.approx(980.0) and res.transient == pytest.approx(20.0)
    assert lam.sum() == pytest.approx(LORENZ_SUM, rel=0.01)
    assert lam.sum() == pytest.approx(LORENZ_SUM, rel=1e-6)  # volume contraction is exact in the QR sum
    assert lam[0] == pytest.approx(0.906, abs=0.1)
    assert lam[1] == pytest.approx(0.0, abs=0.05)
    assert lam[2] == pytest.approx(-14.572, abs=0.1)
    assert np.all(res.stderr > 0) and res.stderr[0] < 0.05
    assert res.history.shape == (len(res.times), 3) and res.times[-1] == pytest.approx(980.0)
    np.testing.assert_allclose(res.history[-1], res.all_exponents[0])
    assert res.method["compilations"] == 1


def test_rerun_new_initial_conditions_no_recompilation(lorenz_engine):
    eng, build = lorenz_engine
    before = lb.compile_count()
    a = eng.run(transient="20 s", seed=1, initial={"x": -3.0, "y": 2.0, "z": 30.0})
    assert a.exponents[0] == pytest.approx(0.906, abs=0.1) and abs(a.exponents[1]) < 0.05
    # the public function on the same build folder re-uses the compiled binary: same numbers
    lam, info = tg.spectrum_in_build("lorenz63", 3, duration="1000 s", transient="20 s", interval="10 ms",
                                     device="cpp_standalone", seed=1, initial={"x": -3.0, "y": 2.0, "z": 30.0},
                                     build_dir=build, reuse=True)
    np.testing.assert_array_equal(lam, a.exponents)
    np.testing.assert_array_equal(info["stderr"], a.stderr)
    assert info["variables"] == ["x", "y", "z"] and info["measured_s"] == pytest.approx(980.0)
    assert lb.compile_count() == before


def test_linear_system_exponents_are_real_parts_of_eigenvalues():
    """Mixed units (volt, amp, 1), two independent neurons, runtime device (NumPy)."""
    net = lb.build_network(ModelSpec.from_toml(LINEAR, "linear3"))
    lam, info = tg.spectrum_in_build(net, duration="2 s", transient="500 ms", interval="5 ms", device="runtime",
                                     runtime_target="numpy", seed=2)
    np.testing.assert_allclose(lam, [0.0, -20.0, -150.0], atol=1e-3)
    assert lam.sum() == pytest.approx(-170.0, rel=1e-5)  # trace
    assert info["all_exponents"].shape == (2, 3)  # every neuron is its own system
    np.testing.assert_allclose(info["all_exponents"][1], info["all_exponents"][0], atol=1e-3)
    # k < d: the leading exponents only
    lam2, _ = tg.spectrum_in_build(net, 1, duration="2 s", transient="500 ms", interval="5 ms", device="runtime",
                                   runtime_target="numpy", seed=2)
    assert lam2 == pytest.approx([0.0], abs=1e-3)


def _reference_stderr(spec, blocks=10):
    """Standard errors of qr_spectrum_ode's exponents over time blocks (from its history)."""
    L = spec.history * spec.times[:, None]  # accumulated log|diag R| (rows sorted alike)
    L = np.vstack([np.zeros(L.shape[1]), L])
    t = np.concatenate([[0.0], spec.times])
    edges = np.round(np.linspace(0, len(t) - 1, blocks + 1)).astype(int)
    rates = (L[edges[1:]] - L[edges[:-1]]) / (t[edges[1:]] - t[edges[:-1]])[:, None]
    return rates.std(axis=0, ddof=1) / np.sqrt(blocks)


def test_agrees_with_python_reference():
    """Same model, dt, interval, method (rk4) and start frame as qr_spectrum_ode: without a
    transient it is the same computation (agreement to rounding amplified by chaos); with one
    (the build also evolves the frame during it) within the standard errors."""
    net = lb.build_network("lorenz63")
    names, f, jac, x0 = ly.ode_system(net)
    eng = tg.TangentSpectrum(net, 3, "runtime", duration="20 s", interval="100 ms", dt="10 ms",
                             runtime_target="numpy")
    same = eng.run(transient="0 s", seed=3)
    ref = qr_spectrum_ode(f, jac, x0, dt=0.01, T=20.0, k=3, transient=0.0, interval=0.1, seed=3)
    np.testing.assert_allclose(same.exponents, ref.exponents, atol=1e-6)
    res = eng.run(transient="4 s", seed=3)
    ref = qr_spectrum_ode(f, jac, x0, dt=0.01, T=16.0, k=3, transient=4.0, interval=0.1, seed=3)
    se = np.hypot(res.stderr, _reference_stderr(ref))
    assert np.all(np.abs(res.exponents - ref.exponents) <= 2 * se), (res.exponents, ref.exponents, se)
    assert res.exponents.sum() == pytest.approx(ref.exponents.sum(), rel=1e-6)


def test_cuda_standalone_code_is_generated(tmp_path, monkeypatch):
    """Without a GPU the CUDA project is generated (not compiled): the Gram–Schmidt step is a
    per-neuron kernel like any run_regularly operation."""
    from lnp_brian.brian import cuda

    monkeypatch.delenv("LNP_BRIAN_CUDA_COMPILE", raising=False)
    monkeypatch.setattr(cuda, "gpu_info", lambda: None)
    eng = tg.TangentSpectrum(lb.build_network("lorenz63"), 3, "cuda_standalone", duration="2 s",
                             interval="10 ms", build_dir=tmp_path)
    assert eng.compilations == 0
    # (Brian2 appends _1, _2 to code object names still held by objects alive in the process)
    kernel = next((tmp_path / "code_objects").glob("tan_gram_schmidt_codeobject*.cu")).read_text()
    assert "tan_log_2 += tan_on * _brian_log(tan_norm_2)" in kernel
    updater = next((tmp_path / "code_objects").glob("neurons_stateupdater_codeobject*.cu")).read_text()
    assert "tan_z_2" in updater
    with pytest.raises(lb.GPUUnavailable):
        eng.run(transient="1 s")
