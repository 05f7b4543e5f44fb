"""Model files: every shipped model loads, and bad files fail early and precisely."""

from __future__ import annotations

import re
import textwrap

import pytest

import lnp_brian as lb
from lnp_brian.core.units import UnitError, parse_quantity

GOOD = textwrap.dedent('''
    [model]
    name = "tiny"
    [neuron]
    equations = """
    dv/dt = (v_rest - v + R * I_in) / tau_m : volt
    """
    threshold = "v > v_th"
    reset = "v = v_rest"
    input = "I_in"
    input_unit = "amp"
    [neuron.constants]
    v_rest = "-65 mV"
    v_th = "-50 mV"
    R = "100 Mohm"
    [neuron.parameters]
    tau_m = { distribution = "gamma", mean = "20 ms", cv = 0.5 }
    [neuron.initial]
    v = "-65 mV"
    [synapse]
    weight_unit = "mV"
    on_pre = "v_post += mask * w"
    [network]
    n_neurons = 10
    exc_fraction = 0.8
    connectivity = { kind = "random", p = 0.5 }
    [network.weights]
    all = { distribution = "uniform", low = "0.1 mV", high = "0.5 mV" }
''')


def test_shipped_models_load_and_are_listed():
    names = lb.shipped_models()
    assert {"hrsnn", "mrsnn", "chrsnn", "lorenz63"} <= set(names)
    for name in names:
        spec = lb.load_model(name)
        assert spec.name == name and spec.description


def test_model_by_path(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    spec = lb.load_model(path)
    net = lb.build_network(spec, seed=0)
    assert net.n == 10 and spec.source == str(path)


BAD = [
    # (description, replace this, with this, key in message, expected phrase)
    ("unknown key", 'threshold = "v > v_th"', 'treshold = "v > v_th"', "neuron.treshold", "did you mean 'threshold'"),
    ("unknown distribution", 'distribution = "gamma"', 'distribution = "gama"', "neuron.parameters.tau_m",
     "unknown distribution 'gama'"),
    ("missing unit", 'mean = "20 ms"', "mean = 20", "neuron.parameters.tau_m.mean", "expected second"),
    ("wrong unit", 'v_th = "-50 mV"', 'v_th = "50 ms"', "neuron.constants.v_th", "the equations use v_th as volt"),
    ("unknown unit", 'R = "100 Mohm"', 'R = "100 Mohms"', "neuron.constants.R", "unknown unit 'Mohms'"),
    ("negative time constant", 'tau_m = { distribution = "gamma", mean = "20 ms", cv = 0.5 }',
     'tau_m = { distribution = "uniform", low = "-1 ms", high = "20 ms" }', "neuron.parameters.tau_m", "positive"),
    ("negative constant tau", 'v_rest = "-65 mV"', 'v_rest = "-65 mV"\ntau_x = "-3 ms"', "neuron.constants.tau_x",
     "positive"),
    ("equation syntax", "dv/dt = (v_rest - v + R * I_in) / tau_m : volt", "dv/dt = (v_rest - v + R * I_in / tau_m : volt",
     "neuron.equations", "cannot parse"),
    ("equation units", "dv/dt = (v_rest - v + R * I_in) / tau_m : volt", "dv/dt = (v_rest - v + I_in) / tau_m : volt",
     "neuron.equations", "Brian2 rejected"),
    ("unknown identifier in reset", 'reset = "v = v_rest"', 'reset = "v = v_rset"', "neuron.reset", "v_rset"),
    ("bad on_pre", 'on_pre = "v_post += mask * w"', 'on_pre = "v_post += mask * w * ms"', "synapse", "Brian2 rejected"),
    ("bad cv", "cv = 0.5", "cv = -0.5", "neuron.parameters.tau_m.cv", "must be > 0"),
    ("missing weight unit", 'weight_unit = "mV"', "", "synapse.weight_unit", "missing"),
    ("bad probability", "p = 0.5", "p = 1.5", "network.connectivity.p", "[0.0, 1.0]"),
    ("reserved name", 'v_rest = "-65 mV"', 'v_rest = "-65 mV"\nactive = 1', "neuron.constants.active", "reserved"),
    ("bad toml", "[network]", "[network", "", "invalid TOML"),
    ("initial unit", 'v = "-65 mV"', 'v = "-65 mA"', "neuron.initial.v", "declare v in volt"),
]


@pytest.mark.parametrize("what, old, new, key, phrase", BAD, ids=[b[0] for b in BAD])
def test_bad_model_files_fail_clearly(tmp_path, what, old, new, key, phrase):
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(lb.ModelError) as info:
        lb.load_model(path)
    msg = str(info.value)
    assert msg.startswith(str(path)), msg
    assert key in msg, msg
    assert phrase in msg, msg


def test_unknown_model_name_lists_shipped():
    with pytest.raises(lb.ModelError, match=r"shipped models: .*hrsnn.*lorenz63") as info:
        lb.load_model("hrsn")
    assert "Did you mean 'hrsnn'" in str(info.value)


def test_missing_model_file(tmp_path):
    with pytest.raises(lb.ModelError, match="no such model file.*hrsnn"):
        lb.load_model(tmp_path / "nope.toml")


# ---- every value of a shipped model, broken one line at a time ------------------------------
NOISE = 'noise = { kind = "poisson", rate = "10 Hz", n = 200, weight = "15 pA", tau = "5 ms" }'
TAU_SYN = 'tau_syn = { distribution = "gamma", mean = "5 ms", cv = 0.3, min = "1 ms" }'
EE = 'EE = { distribution = "lognormal", mean = "30 pA", cv = 0.5, max = "150 pA" }'
CONN = 'connectivity = { kind = "random", p = 0.1 }'
FINITE = "not a finite number"
SHIPPED_BAD = [
    # (id, shipped model, line to replace, replacement, key in message, expected phrase)
    ("p nan", "hrsnn", CONN, CONN.replace("0.1", "nan"), "network.connectivity.p", "probability in [0.0, 1.0], got nan"),
    ("p inf", "hrsnn", CONN, CONN.replace("0.1", "inf"), "network.connectivity.p", FINITE),
    ("p negative", "hrsnn", CONN, CONN.replace("0.1", "-0.1"), "network.connectivity.p", "in [0.0, 1.0], got -0.1"),
    ("p string", "hrsnn", CONN, CONN.replace("0.1", '"0.1"'), "network.connectivity.p", "probability in [0.0, 1.0]"),
    ("autapses not bool", "hrsnn", CONN, CONN.replace(" }", ", autapses = 1 }"), "network.connectivity.autapses",
     "expected true or false"),
    ("ws k zero", "hrsnn", CONN, 'connectivity = { kind = "watts_strogatz", k = 0, beta = 0.1 }',
     "network.connectivity.k", "whole number of neighbours >= 1"),
    ("ws beta nan", "hrsnn", CONN, 'connectivity = { kind = "watts_strogatz", k = 10, beta = nan }',
     "network.connectivity.beta", FINITE),
    ("tau overflow", "hrsnn", TAU_SYN, TAU_SYN.replace('"5 ms"', '"1e400 ms"'), "neuron.parameters.tau_syn.mean", FINITE),
    ("cv nan", "hrsnn", TAU_SYN, TAU_SYN.replace("0.3", "nan"), "neuron.parameters.tau_syn.cv", FINITE),
    ("cv inf", "hrsnn", TAU_SYN, TAU_SYN.replace("0.3", "inf"), "neuron.parameters.tau_syn.cv", FINITE),
    ("tau normal", "hrsnn", TAU_SYN, 'tau_syn = { distribution = "normal", mean = "5 ms", std = "1 ms" }',
     "neuron.parameters.tau_syn", "give a positive 'min'"),
    ("tau min negative", "hrsnn", TAU_SYN, TAU_SYN.replace('"1 ms"', '"-1 ms"'), "neuron.parameters.tau_syn",
     "must be positive (> 0) for every sample"),
    ("rate overflow", "hrsnn", NOISE, NOISE.replace('"10 Hz"', '"1e999 Hz"'), "input.noise.rate", FINITE),
    ("rate negative", "hrsnn", NOISE, NOISE.replace('"10 Hz"', '"-10 Hz"'), "input.noise.rate", "a rate >= 0"),
    ("noise n zero", "hrsnn", NOISE, NOISE.replace("200", "0"), "input.noise.n", "whole number of sources >= 1"),
    ("noise weight nan", "hrsnn", NOISE, NOISE.replace('"15 pA"', '"nan pA"'), "input.noise.weight", FINITE),
    ("noise weight unit", "hrsnn", NOISE, NOISE.replace('"15 pA"', '"15 mV"'), "input.noise.weight",
     "has unit volt, expected amp"),
    ("noise tau zero", "hrsnn", NOISE, NOISE.replace('"5 ms"', '"0 ms"'), "input.noise.tau", "positive time constant"),
    ("ou std negative", "hrsnn", NOISE, 'noise = { kind = "ou", mean = "100 pA", std = "-5 pA", tau = "5 ms" }',
     "input.noise.std", "standard deviation >= 0"),
    ("exc_fraction nan", "hrsnn", "exc_fraction = 0.8", "exc_fraction = nan", "network.exc_fraction",
     "in [0.0, 1.0], got nan"),
    ("exc_fraction above 1", "hrsnn", "exc_fraction = 0.8", "exc_fraction = 1.5", "network.exc_fraction",
     "in [0.0, 1.0], got 1.5"),
    ("n_neurons zero", "hrsnn", "n_neurons = 1000", "n_neurons = 0", "network.n_neurons", "whole number of neurons >= 1"),
    ("n_neurons fractional", "hrsnn", "n_neurons = 1000", "n_neurons = 10.5", "network.n_neurons", "got 10.5"),
    ("n_neurons inf", "hrsnn", "n_neurons = 1000", "n_neurons = inf", "network.n_neurons", FINITE),
    ("dale not bool", "hrsnn", "n_neurons = 1000", 'n_neurons = 1000\ndale = "yes"', "network.dale",
     "expected true or false"),
    ("voltage in ms", "hrsnn", 'v_th = "-50 mV"', 'v_th = "-50 ms"', "neuron.constants.v_th",
     "'-50 ms' has unit second, but the equations use v_th as volt"),
    ("resistance without unit", "hrsnn", 'R_m = "100 Mohm"', "R_m = 100", "neuron.constants.R_m",
     "has no unit (a plain number), but the equations use R_m as ohm"),
    ("constant nan", "hrsnn", 'v_rest = "-65 mV"', "v_rest = nan", "neuron.constants.v_rest", FINITE),
    ("constant overflow", "hrsnn", 'R_m = "100 Mohm"', 'R_m = "1e306 Mohm"', "neuron.constants.R_m", FINITE),
    ("unused negative time", "hrsnn", 'R_m = "100 Mohm"', 'R_m = "100 Mohm"\nt_ref = "-2 ms"', "neuron.constants.t_ref",
     "expected a positive time"),
    ("dt zero", "hrsnn", 'dt = "0.1 ms"', 'dt = "0 ms"', "model.dt", "positive time step"),
    ("dt overflow", "hrsnn", 'dt = "0.1 ms"', 'dt = "1e999 ms"', "model.dt", FINITE),
    ("refractory negative", "hrsnn", 'refractory = "2 ms"', 'refractory = "-2 ms"', "neuron.refractory",
     "refractory period >= 0"),
    ("refractory nan", "hrsnn", 'refractory = "2 ms"', "refractory = nan", "neuron.refractory", FINITE),
    ("delay negative", "hrsnn", 'delay = "1 ms"', 'delay = "-1 ms"', "synapse.delay", "delays must be >= 0"),
    ("delay nan", "hrsnn", 'delay = "1 ms"', "delay = nan", "synapse.delay", FINITE),
    ("weight bound overflow", "hrsnn", EE, EE.replace('"150 pA"', '"1e400 pA"'), "network.weights.EE.max", FINITE),
    ("weight not a magnitude", "hrsnn", EE, 'EE = { distribution = "normal", mean = "30 pA", std = "5 pA" }',
     "network.weights.EE", "must be non-negative"),
    ("plasticity constant unit", "hrsnn", 'w_max = "150 pA"', 'w_max = "150 mV"', "plasticity.constants.w_max",
     "the equations use w_max as amp"),
    ("plasticity constant inf", "hrsnn", 'w_max = "150 pA"', "w_max = inf", "plasticity.constants.w_max", FINITE),
    ("plasticity parameter unit", "hrsnn", 'mean = "0.3 pA"', 'mean = "0.3 mV"', "plasticity.parameters.A_plus",
     "the equations use A_plus as amp"),
    ("input unit overflow", "hrsnn", 'input_unit = "amp"', 'input_unit = "1e400 amp"', "neuron.input_unit", FINITE),
    ("invalid toml", "hrsnn", "[network]", "[network", "", "invalid TOML"),
    ("cluster fraction nan", "chrsnn", "fraction = 0.25", "fraction = nan", "network.clusters[0].fraction", FINITE),
    ("cluster fraction zero", "chrsnn", "fraction = 0.25", "fraction = 0.0", "network.clusters[0].fraction",
     "in (0.0, 1.0]"),
    ("p_within above 1", "chrsnn", "p_within = 0.3", "p_within = 1.3", "network.connectivity.p_within",
     "probability in [0.0, 1.0]"),
    ("lorenz constant nan", "lorenz63", "\nsigma = 10", "\nsigma = nan", "neuron.constants.sigma", FINITE),
    ("lorenz division by zero", "lorenz63", 'beta = "8/3"', 'beta = "8/0"', "neuron.constants.beta", "division by zero"),
    ("lorenz dimensionless constant", "lorenz63", "\nrho = 28", '\nrho = "28 mV"', "neuron.constants.rho",
     "the equations use rho as dimensionless"),
    ("lorenz initial inf", "lorenz63", "x = 1.0", "x = inf", "neuron.initial.x", FINITE),
]


@pytest.fixture(scope="module")
def shipped_texts():
    return {name: lb.load_model(name).text for name in ("hrsnn", "chrsnn", "lorenz63")}


@pytest.mark.parametrize("what, model, old, new, key, phrase", SHIPPED_BAD, ids=[b[0] for b in SHIPPED_BAD])
def test_bad_values_in_shipped_models_fail_clearly(tmp_path, shipped_texts, what, model, old, new, key, phrase):
    text = shipped_texts[model]
    assert text.count(old) >= 1, old
    path = tmp_path / f"{model}_bad.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(lb.ModelError) as info:
        lb.load_model(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: {key}"), msg
    assert phrase in msg, msg
    assert "\n" not in msg, msg


def test_unit_mismatch_before_sign():
    """A voltage given in ms is a unit error, not a negative time (and not Brian2's message)."""
    text = lb.load_model("hrsnn").text.replace('v_reset = "-65 mV"', 'v_reset = "-65 ms"')
    with pytest.raises(lb.ModelError) as info:
        lb.ModelSpec.from_toml(text, "mine.toml")
    assert str(info.value) == ("mine.toml: neuron.constants.v_reset: '-65 ms' has unit second, "
                               "but the equations use v_reset as volt")


def test_shipped_models_fit_their_equations():
    from lnp_brian.brian.check import unit_mismatch

    for name in lb.shipped_models():
        assert unit_mismatch(lb.load_model(name)) is None, name


def test_directory_is_not_a_model_file(tmp_path):
    with pytest.raises(lb.ModelError) as info:
        lb.load_model(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, not a model file (give the path of a .toml file)"


def test_non_utf8_model_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[model]\ndescription = "Gr\u00fc\u00dfe"\n'.encode("latin-1"))
    with pytest.raises(lb.ModelError) as info:
        lb.load_model(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: not a UTF-8 text file (byte 0xfc at line 2)") and "\n" not in msg, msg


def test_unreadable_model_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.toml"
    path.write_text(GOOD)

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_bytes", denied)  # chmod does not stop root
    with pytest.raises(lb.ModelError) as info:
        lb.load_model(path)
    assert str(info.value) == f"{path}: cannot read the file: permission denied"


def test_invalid_toml_names_the_file_on_one_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(GOOD.replace('name = "tiny"', 'name = "tiny'))
    with pytest.raises(lb.ModelError) as info:
        lb.load_model(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: invalid TOML: ") and "line 3" in msg and "\n" not in msg, msg


@pytest.mark.parametrize("text", ["nan", "inf ms", "-inf", "1e400 ms", "1e999 Hz", "10**400", "1e300 * 1e300 * mV",
                                  float("nan"), float("inf"), 10**400])
def test_quantities_must_be_finite(text):
    with pytest.raises(UnitError, match="not a finite number"):
        parse_quantity(text)


def test_non_finite_quantities_on_request():
    q = parse_quantity("1e400 ms", "second", finite=False)
    assert float(q) == float("inf")


@pytest.mark.parametrize("text, value, unit", [
    ("20 ms", 0.02, "second"), ("1s", 1.0, "second"), ("-65 mV", -0.065, "volt"),
    ("100 Mohm", 1e8, "ohm"), ("8/3", 8 / 3, None), ("5*pA", 5e-12, "amp"), ("1/ms", 1000.0, "Hz"),
])
def test_quantities(text, value, unit):
    q = parse_quantity(text, unit)
    assert float(q) == pytest.approx(value)


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "ms.__class__", "1 + ", "20 parsec"])
def test_quantity_parser_never_evaluates_code(text):
    with pytest.raises(UnitError):
        parse_quantity(text)


@pytest.mark.parametrize("mean, cv, bounds, match", [(-0.02, 0.5, {}, "positive mean, got -0.02"),
                                                     (0.02, 0.0, {}, "cv must be > 0, got 0.0"),
                                                     (0.02, float("nan"), {}, "cv: nan is not a finite"),
                                                     (0.02, 0.5, {"min": 0.01, "max": 0.005}, "max must be larger")])
def test_gamma_made_in_code_gets_the_checks_of_a_model_file(mean, cv, bounds, match):
    from lnp_brian.model.distributions import Distribution, DistributionError

    with pytest.raises(DistributionError, match=match):
        Distribution.gamma(mean, cv, **bounds)


def test_distributions_sample_their_moments():
    import numpy as np

    from lnp_brian.model.distributions import parse_distribution

    rng = np.random.default_rng(0)
    cases = [({"distribution": "lognormal", "mean": "30 pA", "cv": 0.5}, 30e-12, 0.5),
             ({"distribution": "gamma", "shape": 4.0, "scale": "5 ms"}, 20e-3, 0.5),
             ({"distribution": "normal", "mean": "10 mV", "std": "1 mV"}, 10e-3, 0.1),
             ({"distribution": "uniform", "low": "0 ms", "high": "2 ms"}, 1e-3, 1 / np.sqrt(3))]
    for spec, mean, cv in cases:
        d = parse_distribution(spec)
        x = d.sample(200_000, rng)
        assert x.mean() == pytest.approx(mean, rel=0.01), spec
        assert x.std() / x.mean() == pytest.approx(cv, rel=0.02), spec
        assert d.mean == pytest.approx(mean) and d.cv == pytest.approx(cv)
        assert parse_distribution(d.to_dict()) == d
    clipped = parse_distribution({"distribution": "normal", "mean": "0 mV", "std": "1 mV", "min": "0 mV"})
    assert clipped.sample(1000, rng).min() == 0.0
    assert re.search("gamma", parse_distribution(cases[1][0]).describe())
