"""Linear-algebra side of the Lyapunov machinery (lnp_brian.lyapunov.spectrum), checked
against systems with known answers: hand-computed matrices, scipy's dense expm, eigenvalues of
linear systems, Lorenz63, the Sompolinsky-Crisanti-Sommers rate network, and a brute-force
Lyapunov matrix."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from lnp_brian.lyapunov import spectrum as ls


# --- helpers ----------------------------------------------------------------------------------


def gaussian_rate_matrix(n, g, tau, seed):
    """A of dx/dt = (-x + g J x) / tau with J_ij ~ N(0, 1/n)."""
    J = np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(n), (n, n))
    return (g * J - np.eye(n)) / tau


def lorenz(sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    def f(x):
        return np.array([sigma * (x[1] - x[0]), x[0] * (rho - x[2]) - x[1],
                         x[0] * x[1] - beta * x[2]])

    def jac(x):
        return np.array([[-sigma, sigma, 0.0], [rho - x[2], -1.0, -x[0]], [x[1], x[0], -beta]])

    return f, jac


def tanh_network(n, g, tau, seed):
    """dx/dt = (-x + g J tanh(x)) / tau, J_ij ~ N(0, 1/n) (Sompolinsky et al. 1988)."""
    J = np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(n), (n, n))
    gJ, eye = g * J, np.eye(n)

    def f(x):
        return (gJ @ np.tanh(x) - x) / tau

    def jac(x):
        return (gJ * (1.0 - np.tanh(x) ** 2) - eye) / tau

    return f, jac, J


def random_graph(n, p, seed):
    """Sparse signed W with a reciprocal pair, an autapse and one explicitly stored zero
    (a pruned synapse, which must be ignored) at (0, n-1)."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((n, n)) < p) * rng.normal(0.0, 1.0, (n, n))
    np.fill_diagonal(dense, 0.0)
    dense[1, 2], dense[2, 1] = 0.7, -0.3
    dense[3, 3] = 0.5
    dense[0, n - 1] = 0.0
    i, j = np.nonzero(dense)
    W = sp.csr_matrix((np.append(dense[i, j], 0.0), (np.append(i, 0), np.append(j, n - 1))),
                      shape=(n, n))
    assert W.nnz == len(i) + 1          # the zero is stored
    return W


def brute_force_lyapunov(exponents, W, scale=None):
    """Per-synapse L and union sizes by a plain Python loop over sets."""
    s = ls.stability_scores(exponents, scale)
    dense = W.toarray() if sp.issparse(W) else np.asarray(W)
    n = dense.shape[0]
    nbr = [set() for _ in range(n)]
    for i, j in zip(*np.nonzero(dense)):
        if i != j:
            nbr[i].add(int(j))
            nbr[j].add(int(i))
    values, sizes, pairs = [], [], []
    for i in range(n):
        for j in range(n):
            if dense[i, j] != 0:
                U = {i, j} | nbr[i] | nbr[j]
                values.append(len(U) / sum(1.0 / s[k] for k in U))
                sizes.append(len(U))
                pairs.append((i, j))
    return np.array(values), np.array(sizes), pairs


# --- 5.1 linear rate matrix -------------------------------------------------------------------


def test_linear_rate_matrix_two_neurons_by_hand():
    # 0 -> 1 with w = 2, 1 -> 0 with w = -1 (rows pre, cols post)
    W = sp.csr_matrix(np.array([[0.0, 2.0], [-1.0, 0.0]]))
    g = np.array([0.5, 2.0])
    tau = np.array([0.01, 0.02])
    A = ls.linear_rate_matrix(W, g, tau)
    assert sp.isspmatrix_csr(A) and A.dtype == np.float64
    # tau_0 dx0/dt = -x0 + g0 * w_10 * x1 ;  tau_1 dx1/dt = -x1 + g1 * w_01 * x0
    expected = np.array([[-1 / 0.01, 0.5 * -1.0 / 0.01],
                         [2.0 * 2.0 / 0.02, -1 / 0.02]])
    np.testing.assert_allclose(A.toarray(), expected, rtol=1e-15)
    np.testing.assert_allclose(A.toarray(), [[-100.0, -50.0], [200.0, -50.0]], rtol=1e-15)


def test_linear_rate_matrix_autapse_broadcast_and_dense_input():
    Wd = np.array([[0.5, 1.0, 0.0], [0.0, 0.0, -2.0], [0.3, 0.0, 0.0]])
    A = ls.linear_rate_matrix(Wd, 2.0, 0.1)        # dense W, scalar gain and tau
    expected = (2.0 * Wd.T - np.eye(3)) / 0.1
    np.testing.assert_allclose(A.toarray(), expected, rtol=1e-15)
    assert A[0, 0] == pytest.approx((2.0 * 0.5 - 1.0) / 0.1)   # autapse on the diagonal
    A2 = ls.linear_rate_matrix(sp.coo_matrix(Wd), [2.0] * 3, [0.1] * 3)
    np.testing.assert_array_equal(A.toarray(), A2.toarray())


@pytest.mark.parametrize("W, g, tau, match", [
    (np.ones((2, 3)), 1.0, 0.01, "square"),
    (np.ones((2, 2)), [1.0, 1.0, 1.0], 0.01, "gains"),
    (np.ones((2, 2)), 1.0, [0.01, 0.0], "tau"),
    (np.ones((2, 2)), 1.0, [0.01, np.nan], "tau"),
    (np.array([[0.0, np.inf], [0.0, 0.0]]), 1.0, 0.01, "non-finite"),
])
def test_linear_rate_matrix_rejects_bad_input(W, g, tau, match):
    with pytest.raises(ValueError, match=match):
        ls.linear_rate_matrix(W, g, tau)


# --- 5.2 per-neuron exponents -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["dense", "expm_multiply", "auto"])
def test_per_neuron_exponents_equal_direct_expm(method):
    rng = np.random.default_rng(4)
    n, T = 40, 0.05
    A = rng.normal(0.0, 30.0, (n, n)) * (rng.random((n, n)) < 0.3) - np.diag(rng.uniform(30, 90, n))
    direct = np.log(np.linalg.norm(scipy.linalg.expm(A * T), axis=0)) / T
    lam = ls.per_neuron_exponents_linear(sp.csr_matrix(A), T, batch=7, method=method)
    np.testing.assert_allclose(lam, direct, rtol=1e-8)
    # a subset keeps the order asked for; a boolean mask gives ascending order
    pick = np.array([17, 3, 39, 3])
    np.testing.assert_allclose(
        ls.per_neuron_exponents_linear(A, T, neurons=pick, batch=3, method=method),
        direct[pick], rtol=1e-8)
    mask = np.zeros(n, bool)
    mask[[5, 2]] = True
    np.testing.assert_allclose(
        ls.per_neuron_exponents_linear(A, T, neurons=mask, method=method), direct[[2, 5]],
        rtol=1e-8)


@pytest.mark.parametrize("method", ["dense", "expm_multiply"])
def test_per_neuron_exponents_of_leaky_neurons_are_minus_one_over_tau(method):
    tau = np.random.default_rng(0).uniform(1e-3, 30e-3, 25)
    A = sp.diags(-1.0 / tau)
    for T in (0.02, 2.0):   # at T = 2 s, exp(-T/tau) is far below the smallest double
        lam = ls.per_neuron_exponents_linear(A, T, method=method)
        np.testing.assert_allclose(lam, -1.0 / tau, rtol=1e-10)


def test_per_neuron_exponents_see_non_normal_amplification():
    # neuron 0 drives neuron 1 strongly (feed-forward): its perturbation grows transiently
    A = np.array([[-10.0, 0.0], [500.0, -10.0]])
    lam = ls.per_neuron_exponents_linear(A, 0.05)
    assert lam[0] > 0 > lam[1]
    assert lam[1] == pytest.approx(-10.0, rel=1e-12)
    # exp(A T) e_0 = e^{-10 T} (1, 500 T): growth rate known in closed form
    T = 0.05
    assert lam[0] == pytest.approx(-10.0 + np.log(np.hypot(1.0, 500.0 * T)) / T, rel=1e-10)


def test_per_neuron_exponents_reject_bad_input():
    A = -np.eye(3)
    with pytest.raises(ValueError, match="square"):
        ls.per_neuron_exponents_linear(np.ones((3, 2)), 1.0)
    with pytest.raises(ValueError, match="T"):
        ls.per_neuron_exponents_linear(A, 0.0)
    with pytest.raises(ValueError, match="out of range"):
        ls.per_neuron_exponents_linear(A, 1.0, neurons=[0, 3])
    with pytest.raises(ValueError, match="mask"):
        ls.per_neuron_exponents_linear(A, 1.0, neurons=np.ones(2, bool))
    with pytest.raises(ValueError, match="method"):
        ls.per_neuron_exponents_linear(A, 1.0, method="krylov")
    with pytest.raises(ValueError, match="batch"):
        ls.per_neuron_exponents_linear(A, 1.0, batch=0)


# --- 5.2 QR spectrum of the linear model ------------------------------------------------------


def test_qr_spectrum_linear_equals_real_parts_of_eigenvalues():
    n, g, tau = 80, 0.8, 0.02
    A = gaussian_rate_matrix(n, g, tau, seed=1)
    eig = np.linalg.eigvals(A)
    expected = np.sort(eig.real)[::-1]
    assert np.sum(np.abs(eig.imag) > 1e-9) >= 20       # many complex pairs
    spec = ls.qr_spectrum_linear(sp.csr_matrix(A), T=2000 * tau, seed=3)
    assert spec.exponents.shape == (n,)
    assert np.all(np.diff(spec.exponents) <= 0)
    np.testing.assert_allclose(spec.exponents, expected, rtol=0.02)
    # the whole spectrum sums to trace(A) (log det exp(A T) = T trace A)
    assert spec.exponents.sum() == pytest.approx(np.trace(A), rel=1e-6)
    # convergence history: running estimates at each re-orthonormalisation
    m = len(spec.times)
    assert spec.history.shape == (m, n) and m > 10
    np.testing.assert_allclose(spec.times[-1], 2000 * tau, rtol=1e-12)
    np.testing.assert_allclose(np.diff(spec.times), spec.times[0], rtol=1e-9)
    np.testing.assert_array_equal(spec.history[-1], spec.exponents)
    early = np.max(np.abs(spec.history[m // 20] - expected) / np.abs(expected))
    late = np.max(np.abs(spec.exponents - expected) / np.abs(expected))
    assert late < early


def test_qr_spectrum_linear_paths_agree_and_k_subset():
    n, tau = 30, 0.01
    A = gaussian_rate_matrix(n, 1.3, tau, seed=2)       # unstable: some exponents > 0
    kw = dict(T=40 * tau, interval=tau, seed=5)
    dense = ls.qr_spectrum_linear(A, method="dense", **kw)
    sparse = ls.qr_spectrum_linear(sp.csr_matrix(A), method="expm_multiply", **kw)
    np.testing.assert_allclose(sparse.history, dense.history, rtol=1e-9, atol=1e-9)
    assert dense.exponents[0] > 0 > dense.exponents[-1]
    # the first k frame vectors evolve as in the full frame (Gram-Schmidt order), so k = 4
    # gives the leading 4 exponents of the full run with the same seed
    top = ls.qr_spectrum_linear(A, k=4, T=400 * tau, seed=5)
    full = ls.qr_spectrum_linear(A, T=400 * tau, seed=5)
    assert top.exponents.shape == (4,) and top.history.shape[1] == 4
    np.testing.assert_allclose(top.exponents, full.exponents[:4], rtol=1e-8)


def test_qr_spectrum_linear_default_interval_adapts_and_long_interval_warns():
    A = np.diag([0.0, -200.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = ls.qr_spectrum_linear(A, T=200.0)         # default interval: no warning
    # finite-T error is log(initial projection) / T; the sum is exact at any T
    np.testing.assert_allclose(spec.exponents, [0.0, -200.0], atol=0.02)
    assert spec.exponents.sum() == pytest.approx(-200.0, abs=1e-9)
    with pytest.warns(RuntimeWarning, match="shorter interval"):
        ls.qr_spectrum_linear(A, T=2.0, interval=1.0)      # frame spreads by e^200


def test_qr_spectrum_linear_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        ls.qr_spectrum_linear(np.ones((4, 3)))
    with pytest.raises(ValueError, match="k must"):
        ls.qr_spectrum_linear(-np.eye(3), k=4)
    with pytest.raises(ValueError, match="interval"):
        ls.qr_spectrum_linear(-np.eye(3), T=1.0, interval=-1.0)


# --- 5.2 QR spectrum of smooth ODEs -----------------------------------------------------------


def test_lorenz63_spectrum():
    f, jac = lorenz()
    spec = ls.qr_spectrum_ode(f, jac, [1.0, 1.0, 1.0], dt=0.01, T=500.0, transient=10.0,
                              interval=0.1, seed=0)
    l1, l2, l3 = spec.exponents
    assert l1 == pytest.approx(0.906, abs=0.05)
    assert l2 == pytest.approx(0.0, abs=0.05)
    assert l3 == pytest.approx(-14.57, abs=0.1)
    # phase-space contraction is constant: sum = trace J = -(sigma + 1 + beta)
    assert spec.exponents.sum() == pytest.approx(-(10.0 + 1.0 + 8.0 / 3.0), abs=1e-3)
    assert spec.times[-1] == pytest.approx(500.0)
    assert spec.history.shape == (5000, 3)


def test_ode_spectrum_of_linear_system_matches_eigenvalues():
    # non-normal, with a complex pair: exponents are the real parts with multiplicity
    A = np.array([[-1.0, 8.0, 30.0], [-8.0, -1.0, 0.0], [0.0, 0.0, -3.0]])
    spec = ls.qr_spectrum_ode(lambda x: A @ x, lambda x: A, np.ones(3), dt=0.01, T=100.0,
                              transient=0.0, interval=0.05, seed=7)
    np.testing.assert_allclose(spec.exponents, [-1.0, -1.0, -3.0], atol=0.03)
    # same seed -> same initial frame: agrees with the exact-exponential QR up to RK4 error
    lin = ls.qr_spectrum_linear(A, T=100.0, interval=0.05, seed=7)
    np.testing.assert_allclose(spec.history, lin.history, rtol=0, atol=2e-5)


@pytest.mark.parametrize("method, taylor", [
    ("euler", lambda z: 1 + z),
    ("midpoint", lambda z: 1 + z + z**2 / 2),
    ("rk4", lambda z: 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24),
])
def test_ode_tangent_propagation_is_the_integrators_map(method, taylor):
    # on dx/dt = a x each method's step multiplies by its Taylor polynomial of exp(a dt), so
    # the full spectrum sums to sum_i log|taylor(a_i dt)| / dt exactly (QR is volume-exact)
    a = np.array([-1.0, -4.0, 2.0])
    A, dt = np.diag(a), 0.01
    spec = ls.qr_spectrum_ode(lambda x: A @ x, lambda x: A, np.ones(3), dt=dt, T=50.0,
                              transient=0.0, interval=0.1, method=method)
    exact_sum = np.sum(np.log(np.abs(taylor(a * dt)))) / dt
    assert spec.exponents.sum() == pytest.approx(exact_sum, rel=1e-10)
    assert exact_sum != pytest.approx(a.sum(), rel=1e-12)     # the map is not exp(A dt)
    np.testing.assert_allclose(spec.exponents, [2.0, -1.0, -4.0], atol=0.1)


def test_tanh_rate_network_transition_to_chaos():
    """Sompolinsky, Crisanti & Sommers (1988): the quiescent state is stable for g < 1, the
    network is chaotic for g > 1."""
    n, tau = 200, 0.01
    x0 = np.random.default_rng(11).normal(0.0, 1.0, n)
    f, jac, J = tanh_network(n, 0.5, tau, seed=1)
    lam_low = ls.max_exponent_ode(f, jac, x0, dt=tau / 10, T=300 * tau, transient=100 * tau,
                                  interval=tau)
    assert lam_low < 0
    # it settles at x = 0, where lambda_max is the largest real part of (-I + g J) / tau
    assert lam_low == pytest.approx((-1.0 + 0.5 * np.linalg.eigvals(J).real.max()) / tau,
                                    rel=0.03)
    f, jac, _ = tanh_network(n, 2.0, tau, seed=1)
    lam_high = ls.max_exponent_ode(f, jac, x0, dt=tau / 10, T=300 * tau, transient=100 * tau,
                                   interval=tau)
    assert 0 < lam_high < 1.0 / tau


def test_ode_rejects_bad_input():
    f, jac = lorenz()
    with pytest.raises(ValueError, match="f\\(x0\\)"):
        ls.qr_spectrum_ode(lambda x: np.zeros(2), jac, np.ones(3), 0.01, 1.0)
    with pytest.raises(ValueError, match="jac"):
        ls.qr_spectrum_ode(f, lambda x: np.eye(2), np.ones(3), 0.01, 1.0)
    with pytest.raises(ValueError, match="k must"):
        ls.qr_spectrum_ode(f, jac, np.ones(3), 0.01, 1.0, k=0)
    with pytest.raises(ValueError, match="method"):
        ls.qr_spectrum_ode(f, jac, np.ones(3), 0.01, 1.0, method="rk45")
    with pytest.raises(ValueError, match="dt"):
        ls.qr_spectrum_ode(f, jac, np.ones(3), 0.0, 1.0)
    with pytest.raises(FloatingPointError, match="non-finite"):
        ls.qr_spectrum_ode(lambda x: x ** 2, lambda x: np.diag(2 * x), np.ones(1), 0.1, 10.0)


# --- 5.3 Lyapunov matrix ----------------------------------------------------------------------


def test_stability_scores():
    lam = np.array([-2.0, -1.0, 0.0, 1.0, 3.0])
    s = ls.stability_scores(lam)                    # scale = median |lambda| = 1
    np.testing.assert_allclose(s, 1.0 / (1.0 + np.exp(lam)), rtol=1e-15)
    np.testing.assert_allclose(ls.stability_scores(lam, scale=2.0),
                               1.0 / (1.0 + np.exp(lam / 2.0)), rtol=1e-15)
    # median |lambda| = 0 must not divide by zero
    s0 = ls.stability_scores([0.0, 0.0, 0.0, 5.0])
    assert np.all(np.isfinite(s0)) and s0[0] == 0.5 and s0[3] < 0.5
    np.testing.assert_array_equal(ls.stability_scores(np.zeros(3)), 0.5)
    for bad, match in (([np.nan, 1.0], "finite"), (np.ones((2, 2)), "1-D")):
        with pytest.raises(ValueError, match=match):
            ls.stability_scores(bad)
    with pytest.raises(ValueError, match="scale"):
        ls.stability_scores(lam, scale=0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", ["sparse", "dense"])
def test_lyapunov_matrix_equals_brute_force(seed, method, monkeypatch):
    n = 30
    W = random_graph(n, 0.12, seed)
    lam = np.random.default_rng(seed + 100).normal(0.0, 20.0, n)
    ref, sizes, pairs = brute_force_lyapunov(lam, W)
    pre, post = ls.synapse_pairs(W)
    assert list(zip(pre.tolist(), post.tolist())) == pairs      # (row, col) order
    assert (0, n - 1) not in pairs                             # the stored zero is skipped
    count, _ = ls._neighbourhood_sums(ls._pattern(W), np.ones(n), method)
    np.testing.assert_array_equal(count, sizes)                # union sizes exactly
    L = ls.lyapunov_matrix(lam, W, method=method, members="neighbourhood")
    np.testing.assert_allclose(L, ref, rtol=1e-13, atol=0)
    # tiny blocks (many chunks) give the same result
    monkeypatch.setattr(ls, "_CHUNK_NNZ", 5)
    monkeypatch.setattr(ls, "_DENSE_ROWS", 4)
    np.testing.assert_allclose(ls.lyapunov_matrix(lam, W, method=method, members="neighbourhood"), L, rtol=1e-14,
                               atol=0)
    # dense input, and COO input with shuffled entries, give the same order and values
    np.testing.assert_allclose(ls.lyapunov_matrix(lam, W.toarray(), method=method, members="neighbourhood"), L,
                               rtol=1e-14, atol=0)
    coo = W.tocoo()
    perm = np.random.default_rng(seed).permutation(coo.nnz)
    shuffled = sp.coo_matrix((coo.data[perm], (coo.row[perm], coo.col[perm])), shape=W.shape)
    np.testing.assert_allclose(ls.lyapunov_matrix(lam, shuffled, method=method, members="neighbourhood"), L,
                               rtol=1e-14, atol=0)


def test_lyapunov_matrix_sparse_and_dense_paths_agree_on_a_larger_graph():
    n = 400
    W = sp.random(n, n, density=0.05, random_state=3, format="csr")
    lam = np.random.default_rng(3).normal(0.0, 10.0, n)
    P = ls._pattern(W)
    inv = 1.0 / ls.stability_scores(lam)
    c_sparse, t_sparse = ls._neighbourhood_sums(P, inv, "sparse")
    c_dense, t_dense = ls._neighbourhood_sums(P, inv, "dense")
    np.testing.assert_array_equal(c_sparse, c_dense)
    np.testing.assert_allclose(t_sparse, t_dense, rtol=1e-12)
    with pytest.raises(ValueError, match="method"):
        ls.lyapunov_matrix(lam, W, method="networkx", members="neighbourhood")


def test_lyapunov_matrix_unstable_neighbourhoods_get_small_values():
    # two disjoint stars 0 <- {1..5} -> and 6 <- {7..11}; hub 0 is unstable, hub 6 stable
    n = 12
    rows, cols = [], []
    for hub in (0, 6):
        for leaf in range(hub + 1, hub + 6):
            rows += [leaf, hub]
            cols += [hub, leaf]
    W = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    lam = np.full(n, -10.0)
    lam[0] = 40.0
    L = ls.lyapunov_matrix(lam, W, scale=10.0, members="neighbourhood")
    pre, _ = ls.synapse_pairs(W)
    unstable_star = (pre < 6)
    assert L[unstable_star].max() < L[~unstable_star].min()
    # harmonic mean dominated by the least stable member: min s <= L <= |U| min s, far below
    # the arithmetic mean of the same six scores
    s = ls.stability_scores(lam, scale=10.0)
    members = s[:6]                      # every synapse of the first star sees all 6 neurons
    np.testing.assert_allclose(L[unstable_star], 6 / np.sum(1 / members), rtol=1e-14)
    assert members.min() <= L[unstable_star].min() <= 6 * members.min()
    np.testing.assert_allclose(L[unstable_star], 6 * members.min(), rtol=0.15)
    assert L[unstable_star].max() < 0.2 * members.mean()
    np.testing.assert_allclose(L[~unstable_star], s[6], rtol=1e-14)


def test_lyapunov_matrix_extreme_exponents_stay_finite():
    W = sp.csr_matrix(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L = ls.lyapunov_matrix([1e6, -1.0, -1.0], W, scale=1.0, members="neighbourhood")
    assert np.all(np.isfinite(L)) and np.all(L >= 0)
    assert L[0] < 1e-200 and L[1] < 1e-200          # both synapses see neuron 0
    L2 = ls.lyapunov_matrix([-1e6, -1e6, -1e6], W, scale=1.0)
    np.testing.assert_allclose(L2, 1.0)


def test_lyapunov_matrix_endpoints_is_the_harmonic_mean_of_the_two_neurons():
    # the default: L_ij = 2 / (1/s_i + 1/s_j), whatever the rest of the graph looks like
    W = random_graph(40, 0.15, 5)
    lam = np.random.default_rng(5).normal(-20.0, 15.0, 40)
    s = ls.stability_scores(lam)
    pre, post = ls.synapse_pairs(W)
    np.testing.assert_allclose(ls.lyapunov_matrix(lam, W), 2.0 / (1 / s[pre] + 1 / s[post]), rtol=1e-13)
    # heterogeneous exponents give a heterogeneous factor (the neighbourhood mean flattens it)
    L_end = ls.lyapunov_matrix(lam, W)
    L_nb = ls.lyapunov_matrix(lam, W, members="neighbourhood")
    assert L_end.std() / L_end.mean() > 2 * (L_nb.std() / L_nb.mean())
    with pytest.raises(ValueError, match="members"):
        ls.lyapunov_matrix(lam, W, members="all")


def test_lyapunov_matrix_rejects_bad_input():
    W = sp.random(5, 5, density=0.4, random_state=0, format="csr")
    with pytest.raises(ValueError, match="shape"):
        ls.lyapunov_matrix(np.zeros(4), W)
    with pytest.raises(ValueError, match="square"):
        ls.lyapunov_matrix(np.zeros(5), sp.random(5, 4, density=0.4, format="csr"))
    with pytest.raises(ValueError, match="finite"):
        ls.lyapunov_matrix(np.array([np.inf, 0, 0, 0, 0]), W)


# --- longer checks ----------------------------------------------------------------------------


@pytest.mark.slow
def test_lorenz63_long_run_tighter():
    f, jac = lorenz()
    spec = ls.qr_spectrum_ode(f, jac, [1.0, 1.0, 1.0], dt=0.01, T=2000.0, transient=20.0,
                              interval=0.1, seed=1)
    l1, l2, l3 = spec.exponents
    assert l1 == pytest.approx(0.906, abs=0.02)
    assert l2 == pytest.approx(0.0, abs=0.01)
    assert l3 == pytest.approx(-14.57, abs=0.03)


@pytest.mark.slow
def test_per_neuron_paths_agree_on_a_sparse_rate_network():
    n = 800
    rng = np.random.default_rng(8)
    W = sp.random(n, n, density=0.1, random_state=8, format="csr")
    W.data = rng.normal(0.0, 1.0, W.nnz) / np.sqrt(0.1 * n)
    A = ls.linear_rate_matrix(W, 0.9, rng.uniform(0.01, 0.03, n))
    dense = ls.per_neuron_exponents_linear(A, 0.1, method="dense")
    sparse = ls.per_neuron_exponents_linear(A, 0.1, method="expm_multiply", batch=300)
    np.testing.assert_allclose(sparse, dense, rtol=1e-9, atol=1e-9)
    # logarithmic-norm bounds: e^{T mu(-)} <= ||exp(A T) e_i|| <= e^{T mu(+)}, with mu(+-)
    # the extreme eigenvalues of the symmetric part of A
    sym = np.linalg.eigvalsh((A.toarray() + A.toarray().T) / 2)
    assert sym[0] <= dense.min() and dense.max() <= sym[-1]
