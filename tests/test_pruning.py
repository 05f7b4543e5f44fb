"""Lyapunov Noise Pruning and its baselines: targets, invariants, switches, determinism,
compile-once, compact export and resume."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import lnp_brian as lb
from lnp_brian.pruning.config import PruneConfig
from lnp_brian.pruning.pruner import Pruner, ipr, schedule

from conftest import FAST_PRUNE as FAST


@pytest.fixture(scope="module")
def dense(prune_dense):
    return prune_dense


@pytest.fixture(scope="module")
def builds(prune_builds):
    return prune_builds


def prune(dense, builds, **changes):
    from lnp_brian.simulation.simulator import compile_count

    before = compile_count()
    pruner = Pruner(dense, PruneConfig(**{**FAST, **changes}), build_root=builds)
    pruner.built = compile_count() - before  # compilations of the constructor (0 when re-used)
    res = pruner.run()
    pruner.during_run = compile_count() - before - pruner.built
    return pruner, res


@pytest.fixture(scope="module")
def lnp(dense, builds):
    return prune(dense, builds)


def test_lnp_meets_targets_and_invariants(lnp, dense):
    pruner, res = lnp
    n_t, m_t = schedule(dense.n, len(dense.w), pruner.config)
    final = res.network
    # exact counts: sampling without replacement, isolated neurons counted before removal
    assert [r["neurons"] for r in res.rows] == [dense.n, *n_t]
    assert [r["synapses"] for r in res.rows] == [dense.n_synapses, *m_t]
    live = final.live_synapses()
    # Dale's law and no synapse touching a removed neuron
    assert np.all(final.w[live & final.exc[final.pre]] > 0) and np.all(final.w[live & ~final.exc[final.pre]] < 0)
    assert np.all(final.active[final.pre[final.syn_mask]] & final.active[final.post[final.syn_mask]])
    assert np.all(final.w[~final.syn_mask] == 0)
    # only synapses of the dense network: the compiled binary fits
    np.testing.assert_array_equal(final.pre, dense.pre)
    assert all(np.isfinite(r["lambda_max"]) and r["mean_ipr"] > 0 for r in res.rows)


def test_whole_loop_uses_at_most_two_compilations(lnp):
    # the dense network's build (lambda_max and operating point) and the gain replay's, both
    # made (or re-used) by the constructor; the loop itself never compiles
    pruner, res = lnp
    assert res.compilations == pruner.compilations == pruner.built <= 2
    assert pruner.during_run == 0
    assert pruner.lyap.sim.build_dir != pruner.replay.sim.build_dir and pruner._per_neuron is None


def test_same_seed_same_result(lnp, dense, builds):
    _, res = lnp
    pruner, again = prune(dense, builds)
    assert pruner.compilations == 0  # the build is re-used
    assert again.network.equals(res.network)
    assert [r["lambda_max"] for r in again.rows] == [r["lambda_max"] for r in res.rows]


def test_baselines_match_counts(lnp, dense, builds):
    _, base = lnp
    for method in ("ap", "random"):
        _, res = prune(dense, builds, method=method)
        assert [r["neurons"] for r in res.rows] == [r["neurons"] for r in base.rows]
        assert [r["synapses"] for r in res.rows] == [r["synapses"] for r in base.rows]
    # AP keeps the strongest synapses: the mean |w| of what survives rises
    _, ap = prune(dense, builds, method="ap", iterations=1)
    kept = ap.network.live_synapses()
    assert np.abs(ap.network.w[kept]).mean() > np.abs(dense.w).mean()


def test_compact_final_network_simulates_like_masked(lnp):
    from conftest import drive

    _, res = lnp
    masked = res.network
    compact = masked.compact()
    stim = drive(masked.n)
    keep = masked.active
    sub = lb.Stimulus(stim.values, dt=stim.dt, weights=stim.weights[:, keep])
    a = lb.simulate(masked, "runtime", duration="150 ms", inputs=stim, runtime_target="numpy")
    b = lb.simulate(compact, "runtime", duration="150 ms", inputs=sub, runtime_target="numpy")
    assert len(a.spike_t) > 100
    np.testing.assert_array_equal(b.spike_t, a.spike_t)
    np.testing.assert_array_equal(compact.ids[b.spike_i], a.spike_i)


def test_resume_equals_uninterrupted(dense, builds, tmp_path):
    full_dir, cut_dir = tmp_path / "full", tmp_path / "cut"
    pruner = Pruner(dense, PruneConfig(**FAST), build_root=builds)
    full = pruner.run(checkpoint_dir=full_dir)
    # an interrupted run: only iterations 0 and 1 were completed; 2 was half-written
    for k in (0, 1):
        shutil.copytree(full_dir / f"iter_{k:03d}", cut_dir / f"iter_{k:03d}")
    (cut_dir / "iter_002").mkdir()
    shutil.copy(full_dir / "iter_002" / "network.npz", cut_dir / "iter_002" / "network.npz")
    resumed = Pruner(dense, PruneConfig(**FAST), build_root=builds).run(checkpoint_dir=cut_dir, resume=True)
    assert resumed.network.equals(full.network)
    assert resumed.rows[-1]["lambda_max"] == full.rows[-1]["lambda_max"]


def test_ipr_known_values():
    n = 50
    assert ipr(np.eye(n)[:, :1])[0] == pytest.approx(1.0)
    assert ipr(np.ones((n, 1)))[0] == pytest.approx(1 / n)


def test_cli_prune_writes_outputs_and_resumes(tmp_path):
    import csv
    import json

    from lnp_brian.cli.main import main

    out = tmp_path / "run"
    args = ["prune", "--model", "hrsnn", "--neurons", "150", "--iterations", "2", "--target-neurons", "0.3",
            "--target-synapses", "0.6", "--duration", "300ms", "--trials", "2", "--copies", "2", "--seed", "4",
            "--out", str(out), "--quiet"]
    assert main(args) == 0
    rows = list(csv.DictReader((out / "trajectory.csv").open()))
    assert [int(r["iteration"]) for r in rows] == [0, 1, 2]
    assert {"neurons", "synapses", "lambda_max", "mean_ipr"} <= set(rows[0])
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "complete" and info["compilations"] == 2  # the loop build and the gain replay
    final = lb.Network.load(out / "network_final.npz")
    assert final.n == int(rows[-1]["neurons"]) and len(final.w) == int(rows[-1]["synapses"])
    assert {"zero_gain_fraction", "jaccard_magnitude", "ipr_M_grown", "objective_best", "max_re_eig_A",
            "spectral_distance", "lambda_max_d0", "exc_neurons"} <= set(rows[1])
    for name in ("counts.png", "eigenvalues.png", "lyapunov_spectra.png", "diagnostics.png", "spectra.json",
                 "network_final_masked.npz"):
        assert (out / name).exists(), name
    # interrupt after iteration 1 (iteration 2's row never written) and resume: same final network
    (out / "checkpoints" / "iter_002" / "row.json").unlink()
    assert main(args + ["--resume"]) == 0
    again = lb.Network.load(out / "network_final.npz")
    assert again.equals(final)
    assert json.loads((out / "run.json").read_text())["resumed"] == 1
    # resuming with other options is refused
    assert main([a if a != "4" else "5" for a in args] + ["--resume"]) == 2


@pytest.mark.slow
def test_lnp_2000_neurons_sparse_numerics_and_targets(tmp_path, monkeypatch):
    """A 2,000-neuron LNP run on cpp_standalone: the sparsification (approximate effective
    resistances) and the centrality steps never allocate a dense N x N array, and the
    targets are met.

    The check is a ceiling on the traced Python/NumPy memory of each call: 3/4 of one float64
    N x N matrix (24 MB), so any such matrix would break it. The sparse working set grows
    with the synapses, not with N^2 (measured with 2 MB blocks: 26.9 MB for 80k synapses at
    N = 2,000, 27.6 MB for 80k at N = 4,000, 52.6 MB for 160k at N = 8,000; 13.8 MB for 40k
    at N = 2,000 with 1 MB blocks), so the network is kept sparse enough (20 synapses in per
    neuron) to sit under the ceiling, and the sparsifier's fixed 64 MB allowance for blocks
    of right-hand sides (independent of N) is lowered to 1 MB for the test."""
    import tracemalloc

    import networkit  # noqa: F401 - imported before tracing: module imports are not the step's memory
    import pyamg  # noqa: F401

    from lnp_brian.pruning import pruner as pruning

    from lnp_brian.graph import sparsify
    from lnp_brian.network.network import connectivity_with_p

    n = 2000
    dense = lb.build_network("hrsnn", n=n, seed=5, connectivity=connectivity_with_p("hrsnn", 0.01))
    ceiling = 0.75 * 8 * n * n  # bytes
    peaks: dict = {}

    def traced(name, fn):
        def wrapper(*args, **kwargs):
            tracemalloc.start()
            try:
                return fn(*args, **kwargs)
            finally:
                peaks[name] = max(peaks.get(name, 0), tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
        return wrapper

    monkeypatch.setattr(sparsify, "_BLOCK_BYTES", 2**20)
    monkeypatch.setattr(pruning, "sparsify_synapses", traced("sparsify", pruning.sparsify_synapses))
    monkeypatch.setattr(pruning, "pruning_scores", traced("centrality", pruning.pruning_scores))
    config = PruneConfig(iterations=2, target_neurons=0.3, target_synapses=0.6, duration="300 ms", trials=2,
                         seed=1, lyapunov_copies=2, spectrum_k=8, resistances="approx", betweenness_pivots=64)
    pruner = Pruner(dense, config, build_root=tmp_path)
    res = pruner.run()
    assert set(peaks) == {"sparsify", "centrality"}
    assert max(peaks.values()) < ceiling, peaks
    final = res.network
    n_t, m_t = schedule(n, len(dense.w), config)
    assert final.n_active == n_t[-1]
    assert abs(final.n_synapses - m_t[-1]) <= 0.05 * m_t[-1]
    live = final.live_synapses()
    assert final.active[final.pre[live]].all() and final.active[final.post[live]].all()
    assert res.compilations == 2


def test_spiking_exponents_on_a_subset_predict_the_rest(dense, builds):
    """exponent_neurons: spiking exponents of an evenly spaced subset, the rest predicted from
    the linear-model exponents by the least-squares line through the subset."""
    from lnp_brian.lyapunov.spectrum import per_neuron_exponents_linear

    pruner = Pruner(dense, PruneConfig(**{**FAST, "exponents": "spiking", "exponent_neurons": 24}),
                    build_root=builds)
    op = pruner.operating_point(dense, seed=1)
    lam = pruner.exponents(dense, op, seed=1)
    assert np.isfinite(lam[dense.active]).all()
    subset = np.unique(np.linspace(0, dense.n - 1, 24).round().astype(int))
    rest = np.setdiff1d(np.arange(dense.n), subset)
    lin = per_neuron_exponents_linear(op.A(dense.W), 0.1)
    slope, icept = np.polyfit(lin[subset], lam[subset], 1)
    np.testing.assert_allclose(lam[rest], icept + slope * lin[rest], rtol=1e-9, atol=1e-9)
    assert np.ptp(lam[subset]) > 0  # measured, not one filler value


def test_large_network_spectrum_is_the_eigenvalues_real_parts(monkeypatch):
    """Above QR_SPECTRUM_MAX neurons the linear model's Lyapunov spectrum is taken from the
    eigenvalues (ARPACK): it must equal the largest real parts of the dense eigenvalues."""
    import scipy.sparse as sp

    from lnp_brian.pruning import pruner as pruning

    monkeypatch.setattr(pruning, "QR_SPECTRUM_MAX", 100)
    rng = np.random.default_rng(3)
    n = 300
    J = sp.random(n, n, density=0.05, random_state=4, data_rvs=lambda m: rng.normal(0, 1 / np.sqrt(15), m))
    tau = rng.uniform(0.01, 0.03, n)
    A = sp.diags(1 / tau) @ (0.9 * J - sp.eye(n))
    lam = Pruner.spectrum(None, A, 8, seed=1)
    ref = np.sort(np.linalg.eigvals(A.toarray()).real)[::-1][:8]
    np.testing.assert_allclose(lam, ref, rtol=1e-6)


def test_linear_exponents_on_a_subset_predict_the_rest(dense, builds):
    """exponent_neurons with linear exponents: the subset's are exact, the others predicted
    from A_ii and the column norm of A, and the prediction ranks neurons like the exact ones."""
    from scipy import stats

    from lnp_brian.lyapunov.spectrum import per_neuron_exponents_linear

    pruner = Pruner(dense, PruneConfig(**{**FAST, "exponent_neurons": 60}), build_root=builds)
    op = pruner.operating_point(dense, seed=1)
    lam = pruner.exponents(dense, op, seed=1)
    exact = per_neuron_exponents_linear(op.A(dense.W), 0.1)
    subset = np.unique(np.linspace(0, dense.n - 1, 60).round().astype(int))
    np.testing.assert_allclose(lam[subset], exact[subset], rtol=1e-9)
    rest = np.setdiff1d(np.arange(dense.n), subset)
    assert np.isfinite(lam).all()
    rho = stats.spearmanr(lam[rest], exact[rest])[0]
    assert rho > 0.5, rho  # measured 0.80


# ---- every PruneConfig field checked on construction -------------------------------------------
@pytest.mark.parametrize("field, value, expected", [
    ("iterations", 0, "an integer >= 1"),
    ("iterations", 2.5, "an integer >= 1"),
    ("target_neurons", 1.0, "0 <= f < 1"),
    ("target_neurons", float("nan"), "0 <= f < 1"),
    ("target_synapses", -0.1, "0 <= f < 1"),
    ("trials", -1, "an integer >= 0"),
    ("trials", 0, "while the timescale optimisation is on"),
    ("lyapunov_copies", 0, "an integer >= 1"),
    ("duration", "200 ms", "longer than the 200 ms transient"),
    ("duration", "-1 s", "longer than the 200 ms transient"),
    ("duration", 0.5, "a time with units"),
    ("duration", "nan s", "a time with units"),
    ("interval", "0 ms", "a positive time"),
    ("interval", "900 ms", "at most duration - transient = 1000 ms - 200 ms = 800 ms"),
    ("betweenness_pivots", -1, "None or 0 (exact), 'auto' or a count >= 1"),
    ("perturbation", float("inf"), "a finite number > 0"),
    ("regrow_budget", 1.0, "0 <= f < 1"),
    ("spectrum_k", 0, "an integer >= 1"),
    ("exponent_neurons", 1, "None (all neurons) or an integer >= 2"),
    ("seed", -1, "an integer >= 0"),
    ("device", "fpga", "one of runtime"),
    ("exponents", "magic", "'linear' or 'spiking'"),
    ("reweight", "yes", "true or false"),
    ("stratify", 1, "true or false"),
    ("gains", "open", "one of replay, closed-loop"),
    ("lyapunov_members", "all", "'endpoints' or 'neighbourhood'"),
    ("ipr_tolerance", -0.1, "a finite number >= 0"),
])
def test_prune_config_names_the_bad_field(field, value, expected):
    from lnp_brian.pruning.config import PruneConfigError

    with pytest.raises(PruneConfigError) as err:
        PruneConfig(**{field: value})
    msg = str(err.value)
    assert err.value.field == field and isinstance(err.value, ValueError)
    assert msg.startswith(f"{field} must be ") and expected in msg and f"got {value!r}" in msg and "\n" not in msg


def test_prune_config_accepts_the_edges():
    assert PruneConfig(trials=0, steps={"timescale": "off"}).trials == 0
    assert PruneConfig(method="ap", trials=0).trials == 0
    assert PruneConfig(betweenness_pivots=0).betweenness_pivots is None  # 0: exact, as --pivots 0
    assert PruneConfig(duration="201 ms", interval="1 ms").duration == "201 ms"
    assert PruneConfig(target_neurons=0.0, iterations=np.int64(2)).iterations == 2


class _NoSimPruner(Pruner):
    """Pruner.run's loop and checkpoints with cheap stand-ins for the simulations."""

    compilations = 0

    def __init__(self, dense, config):
        self.dense, self.config, self.evaluate, self.timings = dense, config, None, {}
        self.logged = []
        self.log = self.logged.append

    def measure(self, net, k):
        return {"iteration": k, "neurons": net.n_active, "synapses": net.n_synapses, "lambda_max": 0.5 * k,
                "mean_ipr": 0.1}

    def step(self, net, k, n_target, m_target):
        drop = np.flatnonzero(net.active)[: max(net.n_active - n_target, 0)]
        return net.prune(neurons=drop), {"dropped": len(drop), "note": f"iteration {k}"}


@pytest.mark.parametrize("damage", ["network truncated", "network byte", "row edited", "info edited",
                                    "manifest removed", "manifest corrupt"])
def test_resume_refuses_a_tampered_checkpoint(tmp_path, damage):
    from lnp_brian.pruning.pruner import CheckpointError, verify_checkpoint

    net = lb.build_network("hrsnn", n=40, seed=1)
    config = PruneConfig(iterations=3, target_neurons=0.3, target_synapses=0.3, duration="300 ms")
    ckpt = tmp_path / "checkpoints"
    full = _NoSimPruner(net, config).run(checkpoint_dir=ckpt)
    for k in range(4):
        manifest = verify_checkpoint(ckpt / f"iter_{k:03d}")
        assert set(manifest["files"]) == ({"network.npz", "row.json"} | ({"info.json"} if k else set()))
    # intact: resumed from the checkpoints, nothing recomputed
    again = _NoSimPruner(net, config)
    res = again.run(checkpoint_dir=ckpt, resume=True)
    assert res.network.equals(full.network) and res.rows == json_rows(full.rows)
    assert "resuming after iteration 3" in again.logged
    d = ckpt / "iter_001"
    target = {"network truncated": "network.npz", "network byte": "network.npz", "row edited": "row.json",
              "info edited": "info.json", "manifest removed": "manifest.json", "manifest corrupt": "manifest.json"}[damage]
    f = d / target
    if damage == "network truncated":
        f.write_bytes(f.read_bytes()[:-100])
    elif damage == "network byte":
        raw = bytearray(f.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        f.write_bytes(bytes(raw))
    elif damage == "row edited":
        f.write_text(f.read_text().replace('"lambda_max": 0.5', '"lambda_max": 0.25'))
    elif damage == "info edited":
        f.write_text(f.read_text().replace("iteration 1", "iteration 9"))
    elif damage == "manifest removed":
        f.unlink()
    else:
        f.write_text("{not json")
    with pytest.raises(CheckpointError) as err:
        _NoSimPruner(net, config).run(checkpoint_dir=ckpt, resume=True)
    msg = str(err.value)
    assert isinstance(err.value, ValueError) and str(d) in msg and "--overwrite" in msg and "\n" not in msg
    if damage in ("network truncated", "network byte", "row edited", "info edited"):
        assert f"checkpoint {f} does not match its checksum" in msg and err.value.path == f
    # deleting the damaged iteration, as the message says, recomputes it and the later ones
    shutil.rmtree(d)
    redone = _NoSimPruner(net, config).run(checkpoint_dir=ckpt, resume=True)
    assert redone.network.equals(full.network)
    verify_checkpoint(d)


def json_rows(rows):
    import json

    return json.loads(json.dumps(rows))
