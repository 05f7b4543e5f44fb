"""Model files: every shipped model loads, and bad files fail early and precisely."""

from __future__ import annotations

import re
import textwrap

import pytest

import lnp_brian as lb
from lnp_brian.units import UnitError, parse_quantity

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
    ("wrong unit", 'v_th = "-50 mV"', 'v_th = "50 ms"', "neuron.threshold", "Brian2 rejected"),
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
    with pytest.raises(lb.ModelError, match="no such model file"):
        lb.load_model(tmp_path / "nope.toml")


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


def test_distributions_sample_their_moments():
    import numpy as np

    from lnp_brian.distributions import parse_distribution

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
