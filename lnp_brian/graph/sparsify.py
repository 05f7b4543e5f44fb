"""Spectral graph sparsification by effective resistances (Spielman–Srivastava; docs/method.md, step 4).

A sparsifier H of a weighted undirected graph G keeps few edges yet approximates G's Laplacian
in the quadratic-form sense: (1 - eps) x'L_G x <= x'L_H x <= (1 + eps) x'L_G x for all x, so
everything governed by the Laplacian (diffusion, cuts, random walks, linearised rate dynamics on
the symmetrised connectivity) survives. Spielman and Srivastava (2011) showed that sampling each
edge with probability proportional to w_e R_e, its weight times its effective resistance, and
reweighting kept edges by 1/p_e achieves this with O(n log n / eps^2) edges.

Lyapunov Noise Pruning uses it on directed signed synaptic matrices: the synapses are symmetrised
(``a_ij = |w_ij| + |w_ji|``, or a given coupling such as ``|M_ij| + |M_ji|`` of the effective
connectivity M), resistances are computed on that undirected graph, and each directed synapse
i->j inherits its edge's keep-probability, multiplied by an optional per-synapse importance (the
Lyapunov score L_ij of §5.3):

    p_ij = min(1, rho * a_ij * R_ij * L_ij / mean(L)),

with rho chosen so that the probabilities sum to the iteration's target. By default
(``sampling="exact"``) exactly that many synapses are then drawn without replacement with
inclusion probabilities p_ij (randomised systematic sampling, :func:`sample_without_replacement`);
``sampling="bernoulli"`` keeps each synapse independently. Kept weights may be reweighted by 1/p
(unbiased summed input per neuron) and clipped to a maximum magnitude. ``resistance="none"`` /
``"shuffled"`` replace the R factor for ablations, and :func:`jaccard`, :func:`magnitude_keep`,
:func:`input_change` and :func:`generalized_eigenvalue_range` measure what a sample did.

**Conventions used throughout.**

* Adjacency matrices are square scipy.sparse matrices; ``A[i, j]`` is the conductance (weight)
  between nodes i and j. Diagonal entries (self-loops) are ignored: they do not enter a
  Laplacian, have R_ii = 0 and therefore keep-probability 0.
* The undirected edge list of a symmetric ``A`` is :func:`upper_edges`: pairs (i, j) with
  i < j, sorted by (i, j) (the row-major order of the strict upper triangle in CSR).
* Synapses of a directed matrix ``W`` (rows presynaptic, columns postsynaptic, as in Brian2 and
  :attr:`lnp_brian.Network.W`) are its stored entries after summing duplicates, sorted by
  (pre, post) -- the order of ``W.tocsr()`` with sorted indices, which is also the order of
  :attr:`Network.pre`/:attr:`Network.post` restricted to live synapses.
* Every random choice comes from :func:`lnp_brian.core.seeding.rng` with an integer ``seed`` and a
  fixed purpose: the random projection ("sparsify.projection"), the edge sampling
  ("sparsify.sample") and the shuffled-resistance ablation ("sparsify.shuffle") are independent
  streams, so changing a target never changes the resistance estimates.

Numerics are sparse and near-linear in the number of edges on the approximate path. The exact
path inverts one dense (n_c x n_c) matrix per connected component (8 n_c^2 bytes) and is used
only when requested or, with ``method="auto"``, for components of at most
:data:`EXACT_MAX_NODES` nodes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..core.seeding import rng as _rng

__all__ = [
    "EXACT_MAX_NODES", "AUTO_DENSE_MAX_NODES", "laplacian", "symmetrize", "upper_edges",
    "effective_resistances", "expected_count_rho", "sample_without_replacement",
    "sparsify_graph", "SynapseSample", "sparsify_synapses", "sparsify_digraph", "jaccard",
    "magnitude_keep", "input_change", "generalized_eigenvalue_range",
]

#: ``method="auto"`` always inverts components of at most this many nodes densely (about
#: 72 MB and one or two seconds at the limit).
EXACT_MAX_NODES = 3000

#: Above EXACT_MAX_NODES, ``method="auto"`` still inverts a component densely when that is
#: estimated to be cheaper than the projections (dense, well-connected graphs) and the dense
#: matrix needs at most 8 * 10000^2 bytes = 800 MB.
AUTO_DENSE_MAX_NODES = 10000

# With method="approx", components this small are still solved exactly: one dense inverse of
# a <=128 x 128 matrix is cheaper than k Laplacian solves, and exact.
_SMALL_COMPONENT = 128

# With method="approx", the first _PILOT random projections bound the non-local share of the
# resistances, which decides how many more are needed (see effective_resistances).
_PILOT = 64

# Working-memory budget (bytes) for one block of right-hand sides or stacked dense inverses.
_BLOCK_BYTES = 64 * 2**20

_METHODS = ("auto", "exact", "approx")


# ---- matrices --------------------------------------------------------------------------------
def _as_csr(M, name: str) -> sp.csr_matrix:
    if not (sp.issparse(M) or isinstance(M, np.ndarray)):
        raise TypeError(f"{name} must be a scipy.sparse matrix or a 2-D numpy array, "
                        f"got {type(M).__name__}")
    M = sp.csr_matrix(M, dtype=float, copy=True)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be square (n x n), got shape {M.shape}")
    M.sum_duplicates()
    M.sort_indices()
    if not np.all(np.isfinite(M.data)):
        raise ValueError(f"{name} has non-finite entries (NaN or inf)")
    return M


def _check_adjacency(A) -> sp.csr_matrix:
    """Validated copy of a symmetric non-negative adjacency with the diagonal removed."""
    A = _as_csr(A, "A")
    if A.nnz and A.data.min() < 0:
        raise ValueError("A must be a non-negative (conductance) adjacency; it has negative "
                         "entries. For signed synaptic weights use symmetrize(W) or "
                         "sparsify_synapses(W, ...)")
    asym = abs(A - A.T)
    if asym.nnz and asym.max() > 1e-12 * max(A.max(), np.finfo(float).tiny):
        raise ValueError("A must be symmetric (an undirected graph); for a directed matrix "
                         "use symmetrize(W) first")
    return _drop_diagonal(A)


def _drop_diagonal(A: sp.csr_matrix) -> sp.csr_matrix:
    """A canonical CSR matrix without its diagonal and without stored zeros (a masked copy of
    the index arrays: ``setdiag(0)`` on a large CSR matrix costs several times more)."""
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    keep = (rows != A.indices) & (A.data != 0)
    if keep.all():
        return A
    indptr = np.r_[0, np.cumsum(np.bincount(rows[keep], minlength=A.shape[0]))]
    return sp.csr_matrix((A.data[keep], A.indices[keep], indptr), shape=A.shape)


def _laplacian(A: sp.csr_matrix) -> sp.csr_matrix:
    """L = D - A for an already validated adjacency (symmetric, non-negative, no diagonal)."""
    deg = np.asarray(A.sum(axis=1)).ravel()
    L = (sp.diags(deg) - A).tocsr()
    L.sort_indices()
    return L


def laplacian(A) -> sp.csr_matrix:
    """Graph Laplacian L = D - A of a symmetric non-negative adjacency.

    Parameters
    ----------
    A : (n, n) sparse or dense array
        Symmetric, non-negative edge weights (conductances). The diagonal is ignored:
        self-loops do not change a Laplacian's quadratic form x'Lx = sum_e w_e (x_i - x_j)^2.

    Returns
    -------
    L : (n, n) scipy.sparse.csr_matrix
        Positive semi-definite, rows summing to zero; one zero eigenvalue per connected
        component.

    Raises
    ------
    ValueError
        If A is not square, not symmetric, has negative or non-finite entries.

    Examples
    --------
    >>> A = np.array([[0.0, 1.0, 0.0],
    ...               [1.0, 0.0, 2.0],
    ...               [0.0, 2.0, 0.0]])
    >>> laplacian(A).toarray()
    array([[ 1., -1.,  0.],
           [-1.,  3., -2.],
           [ 0., -2.,  2.]])
    """
    return _laplacian(_check_adjacency(A))


def symmetrize(W) -> sp.csr_matrix:
    """Undirected conductances ``a_ij = |w_ij| + |w_ji|`` of a signed directed weight matrix.

    A synapse's sign says excitatory or inhibitory, not how strongly two neurons are coupled,
    so magnitudes are added: a reciprocal pair couples more strongly than either synapse.

    Parameters
    ----------
    W : (n, n) sparse or dense array
        Signed weights, rows presynaptic, columns postsynaptic (any unit: the result has W's
        unit, and effective resistances have the inverse unit).

    Returns
    -------
    A : (n, n) scipy.sparse.csr_matrix
        Symmetric, non-negative, zero diagonal (autapses dropped), no stored zeros.

    Examples
    --------
    >>> W = np.array([[0.0, 2.0],
    ...               [-1.0, 0.0]])   # 0 -> 1 excitatory, 1 -> 0 inhibitory
    >>> symmetrize(W).toarray()
    array([[0., 3.],
           [3., 0.]])
    """
    return _symmetrize(_as_csr(W, "W"))


def _symmetrize(W: sp.csr_matrix) -> sp.csr_matrix:
    """symmetrize() of an already canonical CSR matrix (see _as_csr)."""
    W = abs(W)
    A = (W + W.T).tocsr()
    A.sort_indices()
    return _drop_diagonal(A)


def upper_edges(A) -> tuple[np.ndarray, np.ndarray]:
    """The undirected edges of a symmetric adjacency, in this module's canonical order.

    Parameters
    ----------
    A : (n, n) sparse or dense array
        Symmetric adjacency; only its strict upper triangle is read (duplicates summed).

    Returns
    -------
    rows, cols : int64 arrays (m,)
        Pairs (i, j) with i < j and A[i, j] != 0, sorted by (i, j).

    Examples
    --------
    >>> A = np.array([[0.0, 1.0, 1.0],
    ...               [1.0, 0.0, 1.0],
    ...               [1.0, 1.0, 0.0]])
    >>> upper_edges(A)
    (array([0, 0, 1]), array([1, 2, 2]))
    """
    rows, cols, _ = _upper(_as_csr(A, "A"))
    return rows, cols


def _upper(A: sp.csr_matrix):
    """(rows, cols, values) of the nonzero strict upper triangle of a canonical CSR matrix,
    sorted by (row, col)."""
    rows = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr))
    keep = (A.indices > rows) & (A.data != 0)
    return rows[keep], A.indices[keep].astype(np.int64), A.data[keep]


# ---- effective resistances -------------------------------------------------------------------
def effective_resistances(A, edges=None, method: str = "auto", epsilon: float = 0.3,
                          seed: int = 0, tol: float = 1e-6) -> np.ndarray:
    """Effective resistance between node pairs of a weighted undirected graph.

    R_ij = (e_i - e_j)' L^+ (e_i - e_j) is the voltage between i and j when a unit current
    enters at i and leaves at j, edge weights read as conductances. For an edge it measures how
    indispensable the edge is: w_e R_e is the probability that the edge lies on a uniformly
    random spanning tree (1 for a bridge, about 2/n in a complete graph), and these
    "leverage scores" sum to n minus the number of components (Foster's theorem).

    Parameters
    ----------
    A : (n, n) sparse or dense array
        Symmetric, non-negative conductances; diagonal ignored.
    edges : None, (m, 2) int array, or pair of int arrays (rows, cols)
        Node pairs to evaluate. Default: every edge, in the order of :func:`upper_edges`
        (i < j, sorted by (i, j)). Pairs in different connected components get ``inf``;
        a pair (i, i) gets 0.
    method : {"auto", "exact", "approx"}
        ``"exact"``: per connected component, the dense inverse X = (L_c + J/n_c)^-1 (its
        restriction to the component's range equals L_c^+; J/n_c only fixes the all-ones
        direction), then R_ij = X_ii + X_jj - 2 X_ij. Costs O(n_c^3) time and 8 n_c^2 bytes.
        ``"approx"``: Spielman–Srivastava random projections, with the local part of each
        resistance computed exactly. For b = e_i - e_j, R_ij = r_ij + s_ij, where
        r_ij = 1/d_i + 1/d_j - 2 a_ij / (d_i d_j) (d the weighted degrees, a_ij the pair's
        conductance, 0 if not adjacent) is exact and the remainder
        s_ij = ||W^(1/2) B (L^+ - D^-1) b||^2 >= 0 is a squared norm: with k random
        +-1/sqrt(k) vectors (rows of Q), Z = Q W^(1/2) B (L^+ - D^-1) follows from k
        Laplacian solves, and s_ij ~ ||Z b||^2 within a factor (1 +- eps') for all pairs
        with high probability when k = ceil(24 ln n_c / eps'^2) (Johnson–Lindenstrauss). The
        error on R is eps' * s_ij / R_ij, and in well-connected networks s is a small share
        of R (below 1 % for 4,000 neurons at 10 % connectivity, up to ~13 % on sparse
        500-node graphs), so far fewer projections reach accuracy epsilon on R than for
        projecting R itself. The first 64 projections bound max s/R (with a factor-2
        margin), which sets k = ceil(24 ln n_c / epsilon^2 * (2 max s/R)^2), at least 64
        and at most the plain Spielman–Srivastava count ceil(24 ln n_c / epsilon^2) (reached
        on rings and lattices, where s dominates). Systems are solved in blocks by
        preconditioned conjugate gradients (Jacobi, switching to a pyamg smoothed-aggregation
        V-cycle when Jacobi converges slowly); memory is O((n_c + m_c) * block), never n^2.
        Components of at most 128 nodes are solved exactly. ``"auto"``: exact for components
        of at most :data:`EXACT_MAX_NODES` nodes; above, exact while the dense matrix fits
        (:data:`AUTO_DENSE_MAX_NODES`) and a cost model (n_c^3 against the plain projection
        count times nnz(A_c)) says it is cheaper -- true for dense networks (measured on 2
        cores, one BLAS thread: 4000 neurons with 1.6M synapses, exact 2-3 s, projections
        about 2 s) -- otherwise approx (20,000 neurons with 4M synapses: about 10 s).
    epsilon : float in (0, 1]
        Relative accuracy of the approximate method (sets k). Smaller is slower (k ~ 1/eps^2).
    seed : int
        Seed of the random projection (purpose "sparsify.projection").
    tol : float
        Relative residual ||L x - b|| / ||b|| at which each Laplacian solve stops.

    Returns
    -------
    R : float array (m,)
        Effective resistances, in the inverse unit of A's weights, in the order of ``edges``.

    Raises
    ------
    ValueError
        For a non-symmetric or negative A, an unknown method, or epsilon outside (0, 1].

    Examples
    --------
    Unit conductances: each edge of a path is a bridge (R = 1), each edge of a triangle has
    the direct edge in parallel with a two-edge detour (R = 2/3).

    >>> path = np.array([[0.0, 1.0, 0.0],
    ...                  [1.0, 0.0, 1.0],
    ...                  [0.0, 1.0, 0.0]])
    >>> effective_resistances(path)
    array([1., 1.])
    >>> triangle = np.ones((3, 3)) - np.eye(3)
    >>> effective_resistances(triangle)
    array([0.66666667, 0.66666667, 0.66666667])
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not 0 < epsilon <= 1:
        raise ValueError(f"epsilon must lie in (0, 1], got {epsilon}")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    A = _check_adjacency(A)
    n = A.shape[0]
    rows, cols = _upper(A)[:2] if edges is None else _check_pairs(edges, n)
    return _resistances(A, rows, cols, method, epsilon, seed, tol)


def _resistances(A, rows, cols, method, epsilon, seed, tol):
    """effective_resistances() for a validated adjacency (see _check_adjacency: canonical
    CSR, symmetric, non-negative, no diagonal) and validated int64 pairs."""
    n = A.shape[0]
    out = np.zeros(len(rows))
    if len(rows) == 0:
        return out

    ncomp, label = connected_components(A, directed=False)
    out[label[rows] != label[cols]] = np.inf
    query = np.flatnonzero((label[rows] == label[cols]) & (rows != cols))
    if len(query) == 0:
        return out

    # Renumber nodes so each component is a contiguous block: taking a component out of the
    # permuted Laplacian then costs only that component's nonzeros.
    sizes = np.bincount(label, minlength=ncomp)
    perm = np.lexsort((np.arange(n), label, sizes[label]))
    starts = np.r_[0, np.flatnonzero(np.diff(label[perm])) + 1]
    first = np.zeros(ncomp, np.int64)                    # first permuted position per component
    first[label[perm][starts]] = starts
    local = np.empty(n, np.int64)                        # position inside its component
    local[perm] = np.arange(n) - first[label[perm]]
    Lp = _laplacian(A)
    if not np.array_equal(perm, np.arange(n)):          # (one component: nothing to permute)
        Lp = Lp[perm][:, perm].tocsr()
        Lp.sort_indices()

    nnz_comp = np.bincount(label, weights=np.diff(A.indptr), minlength=ncomp)
    if method == "exact":
        exact = sizes > 1
    elif method == "approx":
        exact = (sizes > 1) & (sizes <= _SMALL_COMPONENT)
    else:
        exact = np.array([s > 1 and _prefer_exact(s, z, epsilon)
                          for s, z in zip(sizes.tolist(), nnz_comp.tolist())], bool)
    qlabel = label[rows[query]]
    qorder = query[np.argsort(qlabel, kind="stable")]
    qbounds = np.searchsorted(label[rows[qorder]], np.arange(ncomp + 1))

    # Exact: stacks of equal-size components (many small ones are common after pruning),
    # inverted together.
    exact_comps = np.flatnonzero(exact & (np.diff(qbounds) > 0))
    for s in np.unique(sizes[exact_comps]):
        comps = exact_comps[sizes[exact_comps] == s]
        per_chunk = max(1, _BLOCK_BYTES // (8 * int(s) ** 2))
        for c0 in range(0, len(comps), per_chunk):
            chunk = comps[c0:c0 + per_chunk]
            _exact_stack(Lp, chunk, int(s), first, local, rows, cols,
                         [qorder[qbounds[c]:qbounds[c + 1]] for c in chunk], out)

    # Approximate: one component at a time.
    gen = None
    for c in np.flatnonzero(~exact & (sizes > 1) & (np.diff(qbounds) > 0)):
        if gen is None:
            gen = _rng(seed, "sparsify.projection")
        a, b = first[c], first[c] + sizes[c]
        Lc = Lp[a:b, a:b]
        q = qorder[qbounds[c]:qbounds[c + 1]]
        out[q] = _approx_component(Lc, local[rows[q]], local[cols[q]], epsilon, gen, tol)
    return out


def _check_pairs(edges, n):
    if isinstance(edges, tuple) and len(edges) == 2:
        rows, cols = (np.asarray(e) for e in edges)
    else:
        arr = np.asarray(edges)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"edges must be an (m, 2) array or a pair (rows, cols), "
                             f"got shape {arr.shape}")
        rows, cols = arr[:, 0], arr[:, 1]
    if rows.shape != cols.shape or rows.ndim != 1:
        raise ValueError("edges: rows and cols must be 1-D arrays of equal length")
    if len(rows) and not (np.issubdtype(rows.dtype, np.integer)
                          and np.issubdtype(cols.dtype, np.integer)):
        raise ValueError("edges must hold integer node indices")
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    if len(rows) and (min(rows.min(), cols.min()) < 0 or max(rows.max(), cols.max()) >= n):
        raise ValueError(f"edges: node indices must lie in [0, {n})")
    return rows, cols


def _exact_stack(Lp, comps, s, first, local, rows, cols, queries, out):
    """Exact resistances for several components of equal size s, inverted as one stack."""
    if len(comps) == 1:
        a = first[comps[0]]
        dense = Lp[a:a + s, a:a + s].toarray()[None]
    else:
        idx = (first[comps][:, None] + np.arange(s)).ravel()
        block = Lp[idx][:, idx].tocoo()      # block-diagonal: components share no edges
        dense = np.zeros((len(comps), s, s))
        dense[block.row // s, block.row % s, block.col % s] = block.data
    # Scale by the mean weighted degree so the matrix is O(1) whatever the weight unit
    # (synaptic weights in SI units are ~1e-10); 1/s * J fixes the all-ones null direction.
    dbar = np.trace(dense, axis1=1, axis2=2) / s
    dense /= dbar[:, None, None]
    dense += 1.0 / s
    if len(comps) == 1:
        X = _spd_inverse(dense[0].T)[None]   # F-ordered view of a symmetric matrix: no copy
    else:
        X = np.linalg.inv(dense)
    for k, q in enumerate(queries):
        i, j = local[rows[q]], local[cols[q]]
        Xk = X[k]
        out[q] = (Xk[i, i] + Xk[j, j] - 2.0 * Xk[np.minimum(i, j), np.maximum(i, j)]) / dbar[k]


def _spd_inverse(M):
    """Inverse of an SPD matrix via Cholesky (about half the work of LU), in place for an
    F-contiguous M; only the upper triangle is filled, which is all the caller reads."""
    c, info = scipy.linalg.lapack.dpotrf(M, lower=0, clean=0, overwrite_a=1)
    if info == 0:
        X, info = scipy.linalg.lapack.dpotri(c, lower=0, overwrite_c=1)
        if info == 0:
            return X
    # L/mean_degree + J/n is SPD for a connected component; failing means weights spanning
    # ~16 orders of magnitude, where no double-precision resistance is meaningful.
    raise np.linalg.LinAlgError("Laplacian of a connected component is numerically singular "
                                "(edge weights spanning too many orders of magnitude?)")


def _approx_component(Lc, qi, qj, epsilon, gen, tol):
    """Spielman–Srivastava estimate of R for query pairs (qi, qj) inside one component, the
    local part of R exact and only the remainder projected (see effective_resistances)."""
    n = Lc.shape[0]
    dbar = Lc.diagonal().mean()
    Lc = (Lc / dbar).tocsr()
    Lc.sort_indices()
    d = Lc.diagonal()
    dinv = 1.0 / d
    # Exact local part r = ||W^(1/2) B D^-1 b||^2 + 2 <that, rest> for b = e_i - e_j:
    # 1/d_i + 1/d_j - 2 a_ij / (d_i d_j) >= 0, a_ij the pair's conductance (0 if not adjacent).
    local = dinv[qi] + dinv[qj] + 2.0 * _entries(Lc, qi, qj) * dinv[qi] * dinv[qj]
    # Edges of the component (strict upper triangle of -L) and B' W^(1/2) (n x m, CSC so
    # that a range of edges is a cheap column slice).
    U = sp.triu(-Lc, k=1, format="coo")
    sw = np.sqrt(U.data)
    m = len(sw)
    e = np.arange(m)
    Bt = sp.csc_matrix((np.r_[sw, -sw], (np.r_[U.row, U.col], np.r_[e, e])), shape=(n, m))
    k_max = _n_projections(n, epsilon)
    pilot = min(k_max, _PILOT)
    k = k_max
    solver = _LaplacianSolver(Lc, tol)
    # Wide blocks keep each sparse product efficient (one pass over L serves many columns);
    # the edge- and pair-sized temporaries are chunked so memory stays O((n + m) + n * block).
    block = int(max(1, min(k, 256, _BLOCK_BYTES // (8 * 6 * n))))
    acc = np.zeros(len(qi))
    done = 0
    while done < k:
        c = min(block, k - done, pilot - done if done < pilot else k)
        rows_per_chunk = max(1, _BLOCK_BYTES // (16 * c))
        Y = np.zeros((n, c))
        for e0 in range(0, m, rows_per_chunk):
            e1 = min(m, e0 + rows_per_chunk)
            Q = gen.integers(0, 2, size=(e1 - e0, c), dtype=np.int8).astype(float)
            Q *= 2.0
            Q -= 1.0                                   # +-1; 1/sqrt(k) is applied at the end
            Y += Bt[:, e0:e1] @ Q                      # columns sum to zero: consistent
        X = solver.solve(Y)
        X -= dinv[:, None] * Y                         # (L^+ - D^-1) Y: the non-local part
        for q0 in range(0, len(qi), rows_per_chunk):
            q1 = min(len(qi), q0 + rows_per_chunk)
            dq = X[qi[q0:q1]] - X[qj[q0:q1]]
            acc[q0:q1] += np.einsum("ij,ij->i", dq, dq)
        done += c
        if done == pilot < k_max:
            # Bound s/R from the pilot (with a factor 2 margin) and project only as often as
            # the remainder's share of R needs: error eps * s / R with k_max (s/R)^2 columns.
            s_hat = acc / done
            theta = min(1.0, 2.0 * float(np.max(s_hat / np.maximum(local + s_hat, 1e-300))))
            k = int(min(k_max, max(pilot, math.ceil(k_max * theta ** 2))))
    return (local + acc / k) / dbar


def _entries(M, qi, qj):
    """M[qi, qj] for a canonical CSR matrix (0 where nothing is stored), by binary search."""
    n = M.shape[1]
    keys = np.repeat(np.arange(M.shape[0], dtype=np.int64), np.diff(M.indptr)) * n + M.indices
    want = qi.astype(np.int64) * n + qj
    if len(keys) == 0:
        return np.zeros(len(want))
    pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
    return np.where(keys[pos] == want, M.data[pos], 0.0)


def _n_projections(n, epsilon):
    """k = ceil(24 ln n / epsilon^2) random projections (Spielman–Srivastava, Thm. 2)."""
    return math.ceil(24.0 * math.log(max(n, 2)) / epsilon ** 2)


def _prefer_exact(n, nnz, epsilon):
    """method="auto" for one component: exact up to EXACT_MAX_NODES nodes; above, exact while
    it fits in AUTO_DENSE_MAX_NODES and a cost model says it is cheaper. The dense route costs
    ~n^3 flops at BLAS speed, the projection route ~k * nnz(A) * (CG iterations) at sparse
    speed; measured here (n = 4000-6000, 80k-800k synapses, one BLAS thread) one unit of
    k * nnz(A) cost as much as 250-400 units of n^3, so dense networks stay exact longer.
    k here is the plain count _n_projections; since the local part of R is exact, the
    approximate route often needs far fewer (see _approx_component), so this model leans
    towards exact -- the accurate choice -- in the range where both are affordable."""
    if n <= EXACT_MAX_NODES:
        return True
    return n <= AUTO_DENSE_MAX_NODES and float(n) ** 3 < 400.0 * _n_projections(n, epsilon) * nnz


class _LaplacianSolver:
    """Solves L X = Y for a block of right-hand sides (columns of Y summing to zero) of a
    connected graph Laplacian by column-wise preconditioned conjugate gradients, vectorised
    over the block so that each iteration is one sparse-times-dense product.

    The preconditioner starts as Jacobi (excellent on the expander-like random graphs of
    recurrent networks: ~10 iterations). If a block does not converge within
    ``jacobi_iters`` iterations (lattices, rings, weakly rewired small worlds), it switches for
    good to a pyamg smoothed-aggregation V-cycle applied to the whole block; if pyamg cannot
    build a hierarchy it stays with Jacobi and iterates longer.
    """

    def __init__(self, L, tol, jacobi_iters=80, max_iters=20000):
        self.L, self.tol = L, tol
        self.dinv = 1.0 / L.diagonal()
        self.jacobi_iters, self.max_iters = jacobi_iters, max_iters
        self.amg = None
        self.amg_failed = False

    def solve(self, Y):
        if self.amg is None and not self.amg_failed:
            X, done = _block_pcg(self.L, Y, self._jacobi, self.tol, self.jacobi_iters)
            if done:
                return X
            try:
                self.amg = _BlockVCycle(self.L)
            except Exception as exc:  # pyamg failure: fall back to Jacobi, iterate longer
                warnings.warn(f"pyamg hierarchy failed ({exc}); using Jacobi-preconditioned CG",
                              RuntimeWarning, stacklevel=3)
                self.amg_failed = True
        if self.amg is not None:
            X, done = _block_pcg(self.L, Y, self.amg, self.tol, 500)
        else:
            X, done = _block_pcg(self.L, Y, self._jacobi, self.tol, self.max_iters)
        if not done:
            warnings.warn(f"Laplacian solves did not reach tol={self.tol}; effective "
                          "resistances may be inaccurate", RuntimeWarning, stacklevel=3)
        return X

    def _jacobi(self, R):
        return R * self.dinv[:, None]


def _block_pcg(L, Y, precond, tol, maxiter):
    """Independent preconditioned CG on every column of Y, one SpMM per iteration.
    Returns (X, converged)."""
    X = np.zeros_like(Y)
    R = Y.copy()
    bnorm = np.linalg.norm(Y, axis=0)
    bnorm[bnorm == 0] = 1.0
    Z = precond(R)
    P = Z.copy()
    rz = np.einsum("ij,ij->j", R, Z)
    for _ in range(maxiter):
        AP = L @ P
        pap = np.einsum("ij,ij->j", P, AP)
        alpha = np.divide(rz, pap, out=np.zeros_like(rz), where=pap > 0)
        X += alpha * P
        R -= alpha * AP
        if np.all(np.linalg.norm(R, axis=0) <= tol * bnorm):
            return X, True
        Z = precond(R)
        rz_new = np.einsum("ij,ij->j", R, Z)
        beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
        P *= beta
        P += Z
        rz = rz_new
    return X, False


class _BlockVCycle:
    """Symmetric smoothed-aggregation V-cycle (pyamg hierarchy, damped-Jacobi smoothing)
    applied to a block of vectors at once; a valid CG preconditioner for a Laplacian."""

    def __init__(self, L):
        import pyamg
        from pyamg.util.linalg import approximate_spectral_radius

        n = L.shape[0]
        ml = pyamg.smoothed_aggregation_solver(L, B=np.ones((n, 1)), symmetry="hermitian",
                                               max_coarse=300, max_levels=12)
        self.levels = []
        for lvl in ml.levels[:-1]:
            A = lvl.A.tocsr()
            dinv = 1.0 / A.diagonal()
            rho = approximate_spectral_radius(sp.diags(dinv) @ A)
            self.levels.append((A, lvl.P.tocsr(), lvl.R.tocsr(), (4.0 / (3.0 * rho)) * dinv))
        Ac = ml.levels[-1].A.toarray()
        if Ac.shape[0] > 5000:
            raise RuntimeError(f"coarsest level too large ({Ac.shape[0]} unknowns)")
        # Coarsest level: a small singular PSD matrix; invert on its range (eigen-cutoff
        # relative to the largest eigenvalue). Only a preconditioner, so this is safe.
        vals, vecs = scipy.linalg.eigh(Ac)
        keep = vals > vals.max() * 1e-10
        self.coarse = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T

    def __call__(self, B):
        return self._cycle(0, B)

    def _cycle(self, lev, B):
        if lev == len(self.levels):
            return self.coarse @ B
        A, P, R, wdinv = self.levels[lev]
        X = wdinv[:, None] * B                                  # pre-smooth from 0
        X += P @ self._cycle(lev + 1, R @ (B - A @ X))          # coarse-grid correction
        X += wdinv[:, None] * (B - A @ X)                       # post-smooth (adjoint)
        return X


# ---- keep-probabilities ----------------------------------------------------------------------
def expected_count_rho(scores, target: float) -> float:
    """The rho at which sum_e min(1, rho * scores_e) equals ``target``.

    The expected count is continuous, piecewise linear and non-decreasing in rho, so instead of
    bisecting we sort the scores and solve the linear piece that contains the target: the same
    root, to machine precision, in O(m log m).

    Parameters
    ----------
    scores : float array (m,), >= 0
        Per-edge (or per-synapse) scores; score 0 means probability 0 for every rho.
    target : float
        Wanted expected count, 0 <= target <= number of positive scores.

    Returns
    -------
    rho : float
        0 for target 0; ``inf`` when target equals the number of positive scores (every
        positive-score item kept with probability 1).

    Raises
    ------
    ValueError
        If ``target`` lies outside [0, number of positive scores].

    Examples
    --------
    >>> expected_count_rho([1.0, 1.0, 2.0], 2)   # 0.5 + 0.5 + min(1, 1.0) = 2
    0.5
    """
    s = np.asarray(scores, float)
    pos = np.sort(s[s > 0])[::-1]
    npos = len(pos)
    if not 0 <= target <= npos:
        raise ValueError(f"target must lie in [0, {npos}] (the number of items with a "
                         f"positive score), got {target}")
    if target == 0:
        return 0.0
    if target == npos:
        return math.inf
    # With the t largest scores saturated (p = 1): t + rho * tail_t = target.
    tail = np.cumsum(pos[::-1])[::-1]                  # tail[t] = sum of pos[t:]
    t = np.arange(min(npos, math.floor(target) + 1))
    rho = (target - t) / tail[t]
    ok = rho * pos[t] <= 1.0                           # item t itself not saturated
    ok &= np.r_[True, rho[1:] * pos[t[1:] - 1] >= 1.0]  # item t-1 saturated
    return float(rho[np.flatnonzero(ok)[0]] if ok.any() else rho[-1])


def _probabilities(scores, rho):
    if math.isinf(rho):
        return (scores > 0).astype(float)
    return np.minimum(1.0, rho * scores)


_SAMPLINGS = ("exact", "bernoulli")
_RESISTANCE_MODES = ("effective", "none", "shuffled")


def sample_without_replacement(p, seed=0, *, return_probabilities: bool = False):
    """Exactly ``round(sum(p))`` items drawn without replacement with inclusion probabilities p.

    Randomised systematic sampling (Madow 1949; Goodman and Kish 1950): items with p = 1 are
    always taken and items with p = 0 never; the others are put in a uniformly random order,
    laid end to end on [0, k) as intervals of length p_i (k the number still to draw), and the
    k points u, u + 1, ..., u + k - 1 with u ~ U[0, 1) pick the items whose intervals they
    hit. Since every p_i <= 1, an interval holds at most one point, so exactly k distinct
    items are drawn, and item i is drawn with probability exactly p_i (the chance that u
    falls in its interval, whatever the order). The random order makes the joint inclusion
    probabilities of pairs positive in general, unlike fixed-order systematic sampling.

    Parameters
    ----------
    p : float array (m,)
        Inclusion probabilities, 0 <= p <= 1, finite. If their sum is not an integer (to a
        relative 1e-9), they are first rescaled to q = min(1, c * p) with c chosen so that
        sum(q) = round(sum(p)) (the calibration of :func:`expected_count_rho`); the inclusion
        probabilities are then q, not p.
    seed : int or numpy.random.Generator
        An int seeds the stream ``lnp_brian.core.seeding.rng(seed, "sparsify.sample")``; a
        Generator is used (and advanced) as is, which suits many draws in a loop.
    return_probabilities : bool
        Also return the inclusion probabilities q actually used (equal to p when sum(p) is an
        integer).

    Returns
    -------
    keep : bool array (m,)
        Exactly ``round(sum(p))`` True entries (Python's ``round``: halves to even).
    q : float array (m,)
        Only with ``return_probabilities``.

    Raises
    ------
    ValueError
        If p is not one-dimensional, not finite or outside [0, 1].

    Examples
    --------
    >>> keep = sample_without_replacement([1.0, 0.5, 0.5, 0.0], seed=0)
    >>> int(keep.sum()), bool(keep[0]), bool(keep[3])   # 2 drawn, p = 1 always, p = 0 never
    (2, True, False)
    """
    p = np.asarray(p, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p must be a 1-D array of probabilities, got shape {p.shape}")
    if p.size and not np.all(np.isfinite(p)):
        raise ValueError("p has non-finite values (NaN or inf)")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"probabilities must lie in [0, 1], got range "
                         f"[{p.min():g}, {p.max():g}]")
    gen = seed if isinstance(seed, np.random.Generator) else _rng(seed, "sparsify.sample")
    total = float(p.sum())
    n = int(round(total))
    q = p
    if abs(total - n) > 1e-9 * max(1.0, n):
        q = _probabilities(p, expected_count_rho(p, n))
    keep = _systematic(q, n, gen)
    return (keep, q) if return_probabilities else keep


def _systematic(q, n, gen):
    """Randomised systematic sample of exactly n items with inclusion probabilities q
    (sum(q) = n up to rounding error); see sample_without_replacement."""
    keep = q >= 1.0
    k = n - int(keep.sum())
    rest = np.flatnonzero((q > 0) & (q < 1.0))
    if k <= 0 or len(rest) == 0:
        return keep
    order = gen.permutation(rest)
    c = np.cumsum(q[order])
    c *= k / c[-1]                      # sum(q[rest]) = k up to rounding: make it exact
    c[-1] = k
    u = gen.random()
    # Points u, u+1, ..., u+k-1: interval (c_{i-1}, c_i] holds ceil(c_i-u) - ceil(c_{i-1}-u)
    # of them (ceil(-u) = 0), k in all.
    hits = np.diff(np.ceil(c - u), prepend=0.0)
    chosen = order[hits > 0]
    keep[chosen] = True
    short = k - len(chosen)
    if short > 0:
        # Only if rounding made an interval of p ~ 1 longer than 1 (probability ~1e-12):
        # keep the count exact with the most probable items not yet drawn.
        left = order[hits == 0]
        keep[left[np.argsort(-q[left], kind="stable")[:short]]] = True
    return keep


def _importance_values(values, what: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"importance has non-finite values ({what})")
    if v.size and v.min() < 0:
        raise ValueError(f"importance must be non-negative ({what}); "
                         f"got minimum {v.min():g}")
    if v.size and not v.mean() > 0:
        raise ValueError(f"importance is zero everywhere ({what}): nothing could be kept")
    return v


def _relative(imp):
    """importance / mean(importance); exactly 1 for a constant importance, so that a constant
    gives bit-identical results to no importance at all."""
    if imp.size == 0 or imp.min() == imp.max():
        return np.ones_like(imp)
    return imp / imp.mean()


def _reweight(w, p, keep, max_reweight):
    factor = np.divide(1.0, p, out=np.zeros_like(p), where=keep)
    if max_reweight is not None:
        factor = np.minimum(factor, max_reweight)
    return np.where(keep, w * factor, 0.0)


def _clip(new_w, keep, max_weight):
    """sign(w) * min(|w|, max_weight) on kept synapses; returns (weights, number clipped)."""
    if max_weight is None:
        return new_w, 0
    over = keep & (np.abs(new_w) > max_weight)
    if not over.any():
        return new_w, 0
    return np.where(over, np.sign(new_w) * max_weight, new_w), int(over.sum())


def _check_max_weight(max_weight, m):
    if max_weight is None:
        return None
    mw = np.asarray(max_weight, dtype=float)
    if mw.ndim == 0:
        mw = float(mw)
        if not mw > 0:                   # also rejects NaN
            raise ValueError(f"max_weight must be positive (inf for no limit), got {mw}")
        return mw
    if mw.shape != (m,):
        raise ValueError(f"max_weight must be a scalar or have one value per synapse ({m},) "
                         f"in (pre, post) order, got shape {mw.shape}")
    if not np.all(mw > 0):              # also rejects NaN
        raise ValueError("max_weight must be positive (inf for no limit) for every synapse; "
                         f"got {mw[~(mw > 0)][0]}")
    return mw


def _check_max_reweight(max_reweight):
    if max_reweight is not None and not max_reweight >= 1:
        raise ValueError(f"max_reweight is a maximum factor on 1/p and must be >= 1, "
                         f"got {max_reweight}")


# ---- undirected graphs -----------------------------------------------------------------------
def sparsify_graph(G, n_edges=None, epsilon=None, weight="weight", importance=None,
                   reweight=True, max_reweight=None, seed=0, method="auto", C=1.5,
                   resistance_epsilon=0.3):
    """Spectral sparsifier of a weighted undirected NetworkX graph (Spielman–Srivastava).

    Each edge e is kept independently with probability

        p_e = min(1, rho * w_e * R_e * importance_e / mean(importance)),

    and kept edges are reweighted to w_e / p_e, so E[L_H] = L_G. With ``importance=None`` this
    is plain spectral sparsification.

    Parameters
    ----------
    G : networkx.Graph
        Undirected, non-negative weights (missing weight attribute = 1). Self-loops are
        dropped (they do not enter the Laplacian). Disconnected graphs and isolated nodes are
        fine: resistances are computed per component and edges never cross components.
    n_edges : float, optional
        Expected number of kept edges; rho is the root of sum_e p_e = n_edges.
    epsilon : float, optional
        Spectral accuracy instead of a count: rho = C ln(n) / epsilon^2, so that with high
        probability every generalised eigenvalue of (L_H, L_G) off the nullspace lies in
        [1 - epsilon, 1 + epsilon]. About rho * (n - components) edges are kept (Foster's
        theorem), so the graph only gets sparser when its mean degree exceeds 2 rho.
        Give exactly one of ``n_edges`` and ``epsilon``.
    weight : str
        Edge attribute holding the weight (conductance).
    importance : None, str or dict, optional
        Extra per-edge factor (>= 0): an edge attribute name, or a dict keyed by (u, v)
        in either orientation. Normalised by its mean over the edges; importance 0 means
        never kept.
    reweight : bool
        Multiply kept weights by 1/p_e (needed for the spectral guarantee).
    max_reweight : float, optional
        Upper bound on the factor 1/p_e (>= 1), limiting how much a rarely-kept edge grows.
    seed : int
        Seeds the resistance projection and the Bernoulli sampling (independent streams).
    method : {"auto", "exact", "approx"}
        How resistances are computed; see :func:`effective_resistances`.
    C : float
        Oversampling constant of the ``epsilon`` rule. The matrix Chernoff bound proves the
        guarantee with failure probability 1/n for C of about 5 (at epsilon = 0.5); the
        default 1.5 is empirical: on 20 dense random weighted graphs (n = 300, p = 0.5,
        epsilon = 0.5) the worst eigenvalue deviation was 0.31 (0.44 with C = 1).
    resistance_epsilon : float
        Accuracy of approximate resistances (see :func:`effective_resistances`).

    Returns
    -------
    H : networkx.Graph
        All nodes of G with their attributes; the kept edges with their attributes, the
        weight replaced by the reweighted one when ``reweight``, and ``keep_probability``.
        ``H.graph["sparsify"]`` records rho, the expected and actual edge counts and method.
    """
    import networkx as nx

    if G.is_directed() or G.is_multigraph():
        raise TypeError("sparsify_graph needs an undirected nx.Graph; for directed synapses "
                        "use sparsify_digraph")
    if (n_edges is None) == (epsilon is None):
        raise ValueError("give exactly one of n_edges (expected count) and epsilon "
                         "(spectral accuracy)")
    _check_max_reweight(max_reweight)
    nodes = list(G)
    index = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    us, vs, ws, keys = [], [], [], []
    for u, v, w in G.edges(data=weight, default=1.0):
        if u == v:
            continue
        i, j = index[u], index[v]
        us.append(min(i, j))
        vs.append(max(i, j))
        ws.append(w)
        keys.append((u, v))
    i = np.asarray(us, np.int64)
    j = np.asarray(vs, np.int64)
    w = np.asarray(ws, float)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"edge attribute {weight!r} has non-finite values")
    if w.size and w.min() < 0:
        raise ValueError(f"sparsify_graph needs non-negative weights ({weight!r}) -- they "
                         f"are conductances; got minimum {w.min():g}. For signed synaptic "
                         "weights use sparsify_digraph / sparsify_synapses")
    m = len(w)
    if importance is None:
        imp = np.ones(m)
    elif isinstance(importance, str):
        imp = _importance_values([G.edges[e].get(importance, np.nan) for e in keys],
                                 f"edge attribute {importance!r}")
    else:
        imp = _importance_values([_lookup(importance, u, v) for u, v in keys], "dict")

    A = sp.csr_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n, n))
    R = effective_resistances(A, edges=(i, j), method=method, epsilon=resistance_epsilon,
                              seed=seed)
    scores = w * R * _relative(imp)
    if n_edges is not None:
        npos = int(np.count_nonzero(scores > 0))
        if not 0 <= n_edges <= npos:
            raise ValueError(f"n_edges must lie in [0, {npos}] (edges with a positive weight "
                             f"and importance), got {n_edges}")
        rho = expected_count_rho(scores, n_edges)
    else:
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive, got {epsilon}")
        rho = C * math.log(max(n, 2)) / epsilon ** 2
    p = _probabilities(scores, rho)
    keep = _rng(seed, "sparsify.sample").random(m) < p
    new_w = _reweight(w, p, keep, max_reweight) if reweight else w

    H = nx.Graph()
    H.graph.update(G.graph)
    H.graph["sparsify"] = dict(rho=rho, expected_edges=float(p.sum()), edges=int(keep.sum()),
                               original_edges=m, method=method)
    H.add_nodes_from(G.nodes(data=True))
    for e in np.flatnonzero(keep):
        u, v = keys[e]
        attrs = dict(G.edges[u, v])
        attrs[weight] = float(new_w[e])
        attrs["keep_probability"] = float(p[e])
        H.add_edge(u, v, **attrs)
    return H


def _lookup(table, u, v):
    if (u, v) in table:
        return table[(u, v)]
    if (v, u) in table:
        return table[(v, u)]
    raise KeyError(f"importance has no entry for edge {(u, v)!r}")


# ---- directed signed synapses ----------------------------------------------------------------
@dataclass(frozen=True)
class SynapseSample:
    """Result of :func:`sparsify_synapses`: one entry per synapse, in (pre, post) order.

    The fields are read as attributes of the same names (the object is frozen).

    Parameters
    ----------
    shape : (int, int)
        Shape of W.
    pre, post : int64 arrays (m,)
        The synapses: the stored entries of W after summing duplicates, sorted by (pre, post).
    weight : float array (m,)
        Original signed weights.
    symmetric_weight : float array (m,)
        The coupling a_ij of the synapse's undirected edge: ``|w_ij| + |w_ji|``, or the
        ``edge_weight`` given (0 for autapses and stored zeros).
    resistance : float array (m,)
        The resistance factor used in the score: the effective resistance R_ij of the edge
        (inverse unit of a; 0 for autapses), 1 with ``resistance="none"``, the permuted
        values with ``resistance="shuffled"``.
    importance : float array (m,)
        Per-synapse importance as given (ones when none).
    probability : float array (m,)
        p_ij = min(1, rho * a_ij * R_ij * importance_ij / mean(importance)): the inclusion
        probability of each synapse under either sampling design.
    keep : bool array (m,)
        The sample.
    rho : float
        Scale solving sum(probability) = round(target) (``sampling="exact"``) or target
        (``"bernoulli"``); ``inf`` when all positive scores saturate.
    target : float
        The requested number of kept synapses (exact count) or expected number (Bernoulli).
    new_weight : float array (m,)
        Signed weights after sampling on kept synapses -- w/p (the factor capped at
        ``max_reweight``) when reweighting, w otherwise, then clipped to
        ``sign(w) * min(|.|, max_weight)`` -- and 0 on dropped synapses.
    clipped : int, default 0
        Number of kept synapses whose magnitude was cut to ``max_weight``.
    sampling : str, default "exact"
        ``"exact"`` or ``"bernoulli"``.
    resistance_mode : str, default "effective"
        ``"effective"``, ``"none"`` or ``"shuffled"``.
    """

    shape: tuple
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    symmetric_weight: np.ndarray
    resistance: np.ndarray
    importance: np.ndarray
    probability: np.ndarray
    keep: np.ndarray
    rho: float
    target: float
    new_weight: np.ndarray
    clipped: int = 0
    sampling: str = "exact"
    resistance_mode: str = "effective"

    @property
    def expected(self) -> float:
        """Expected number of kept synapses, sum of probabilities."""
        return float(self.probability.sum())

    @property
    def n_kept(self) -> int:
        """Number of kept synapses (True entries of ``keep``)."""
        return int(self.keep.sum())

    def matrix(self) -> sp.csr_matrix:
        """Kept synapses as a signed CSR matrix (rows presynaptic) holding ``new_weight``.

        Returns
        -------
        scipy.sparse.csr_matrix
            Shape ``shape``; entry (pre, post) of every kept synapse is its ``new_weight``
            (W's weight unit), dropped synapses are not stored.
        """
        k = self.keep
        return sp.csr_matrix((self.new_weight[k], (self.pre[k], self.post[k])), shape=self.shape)


def sparsify_synapses(W, target, importance=None, reweight=False, max_reweight=None, seed=0,
                      method="auto", epsilon=0.3, *, edge_weight=None, sampling="exact",
                      resistance="effective", max_weight=None) -> SynapseSample:
    """Spectral sampling of the synapses of a directed signed weight matrix (docs/method.md, step 4).

    Each synapse i->j gets an undirected coupling a_ij -- by default ``a_ij = |w_ij| + |w_ji|``,
    or the given ``edge_weight`` (e.g. ``|M_ij| + |M_ji|`` of the effective connectivity M, so
    that excitatory and inhibitory synapses are compared by their effect rather than their
    raw unit) -- effective resistances R_ij are computed on the undirected graph with those
    conductances, and the synapse is kept with probability

        p_ij = min(1, rho * a_ij * R_ij * L_ij / mean(L)),

    L being the optional importance (e.g. the Lyapunov score of §5.3; mean over all synapses).
    Without importance both synapses of a reciprocal pair share their edge's probability.

    With ``sampling="exact"`` (default) rho solves sum_ij p_ij = round(target) and exactly
    round(target) synapses are drawn without replacement, each with inclusion probability
    exactly p_ij (:func:`sample_without_replacement`). With ``"bernoulli"`` rho solves
    sum_ij p_ij = target and each synapse is kept independently (the count varies, with
    mean target).

    Parameters
    ----------
    W : (n, n) sparse or dense array
        Signed weights, rows presynaptic, columns postsynaptic (e.g. ``Network.W``).
    target : float
        Number of kept synapses (rounded with Python's ``round`` for exact sampling; the
        expected number for Bernoulli sampling), 0 <= target <= number of synapses.
    importance : None, array (m,) or (n, n) matrix, optional
        Non-negative per-synapse factor: an array in the synapse order described below, or a
        matrix read at (pre, post) (missing entries read as 0). Importance 0 means never kept.
    reweight : bool
        Scale kept weights by 1/p (sign preserved) so the expected matrix equals W (before
        capping by ``max_reweight`` and clipping by ``max_weight``): every neuron's summed
        input is then unbiased.
    max_reweight : float, optional
        Upper bound (>= 1) on the factor 1/p.
    seed : int
        Seeds the resistance projection, the sampling and the ``"shuffled"`` permutation
        (independent streams "sparsify.projection", "sparsify.sample", "sparsify.shuffle").
    method : {"auto", "exact", "approx"}
        Resistance method, see :func:`effective_resistances`.
    epsilon : float
        Accuracy of approximate resistances.
    edge_weight : None, (n, n) matrix or array (m,), optional
        Non-negative, finite, symmetric couplings a_ij used instead of ``|w_ij| + |w_ji|`` in
        the Laplacian and in the score. A matrix (sparse or dense) is read at (i, j); it must be
        symmetric, and entries outside the synapse pattern are ignored (the graph's edges are
        the node pairs joined by a nonzero synapse in either direction). An array gives one
        value per synapse in the order below; both synapses of a reciprocal pair must carry
        the same value. Edges with a_ij = 0 leave the graph and are never kept.
    sampling : {"exact", "bernoulli"}
        Exact count without replacement, or independent draws (the behaviour before v2).
    resistance : {"effective", "none", "shuffled"}
        The R factor of the score, for ablations: the effective resistances; R = 1 (score
        a * L, no resistances computed); or the effective resistances randomly permuted among
        the synapses with a positive score (same multiset of values, seeded). Nothing else
        changes.
    max_weight : None, float or array (m,), optional
        Largest allowed magnitude of a new weight (> 0, inf for none), e.g. each synapse's
        pathway maximum: kept weights become ``sign(w) * min(|w| * factor, max_weight)``. The
        number of clipped
        synapses is recorded in :attr:`SynapseSample.clipped`. Applies to kept weights whether
        or not they are reweighted.

    Returns
    -------
    SynapseSample
        Arrays over the synapses in this order: the stored entries of W after
        ``sum_duplicates()``, sorted by (pre, post) -- the CSR order of W (and of
        ``W.tocoo()`` once W is in canonical format). For ``Network.W`` this is the order of
        ``net.pre[live], net.post[live]`` with ``live = net.live_synapses()``.

    Raises
    ------
    ValueError
        If ``target`` lies outside [0, number of synapses], an option is not one of its
        allowed values, or ``importance``, ``edge_weight``, ``max_weight`` or
        ``max_reweight`` have the wrong shape or invalid values.

    Warns
    -----
    RuntimeWarning
        If the target exceeds the number of synapses with a positive score.

    Notes
    -----
    Stored zeros (w_ij = 0) and autapses (i = i, R_ii = 0) get probability 0: they carry no
    signal, or they do not enter the Laplacian. If the requested count exceeds the number of
    synapses with a positive score, every such synapse is kept (p = 1, rho = inf) and a
    RuntimeWarning says that the target cannot be met.

    Examples
    --------
    Keep exactly 100 of the synapses of a random signed 40-neuron network:

    >>> rng = np.random.default_rng(0)
    >>> W = rng.normal(size=(40, 40)) * (rng.random((40, 40)) < 0.25)
    >>> np.fill_diagonal(W, 0.0)
    >>> int(np.count_nonzero(W))   # synapses
    404
    >>> sample = sparsify_synapses(W, 100, seed=1)
    >>> sample.n_kept, sample.matrix().nnz
    (100, 100)
    """
    W = _as_csr(W, "W")
    n = W.shape[0]
    pre = np.repeat(np.arange(n, dtype=np.int64), np.diff(W.indptr))
    post = W.indices.astype(np.int64)
    w = W.data.copy()
    m = len(w)
    if not 0 <= target <= m:
        raise ValueError(f"target must lie in [0, {m}] (the number of synapses), got {target}")
    if sampling not in _SAMPLINGS:
        raise ValueError(f"sampling must be one of {_SAMPLINGS}, got {sampling!r}")
    if resistance not in _RESISTANCE_MODES:
        raise ValueError(f"resistance must be one of {_RESISTANCE_MODES}, got {resistance!r}")
    _check_max_reweight(max_reweight)
    max_weight = _check_max_weight(max_weight, m)
    if importance is None:
        imp = np.ones(m)
    elif sp.issparse(importance) or (isinstance(importance, np.ndarray)
                                     and importance.ndim == 2):
        if importance.shape != W.shape:
            raise ValueError(f"importance matrix has shape {importance.shape}, "
                             f"W has {W.shape}")
        Mi = sp.csr_matrix(importance)
        imp = _importance_values(np.asarray(Mi[pre, post]).ravel(), "matrix")
    else:
        imp = np.asarray(importance, dtype=float)
        if imp.shape != (m,):
            raise ValueError(f"importance must have one value per synapse ({m},) in "
                             f"(pre, post) order, got shape {imp.shape}")
        imp = _importance_values(imp, "array")

    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not 0 < epsilon <= 1:
        raise ValueError(f"epsilon must lie in (0, 1], got {epsilon}")
    lo, hi = np.minimum(pre, post), np.maximum(pre, post)
    live = (lo != hi) & (w != 0)
    if edge_weight is None:
        A = _symmetrize(W)                     # symmetric, non-negative, no diagonal
        ei, ej, ea = _upper(A)
    else:
        A, ei, ej, ea = _edge_graph(edge_weight, W.shape, pre, post, lo, hi, live)
    # Map each synapse to its undirected edge (i < j) by binary search on sorted keys.
    a = np.zeros(m)
    R = np.zeros(m)
    real = live.copy()
    if len(ei):
        key = ei * n + ej
        want = lo[real] * n + hi[real]
        pos = np.minimum(np.searchsorted(key, want), len(key) - 1)
        found = key[pos] == want               # (always, unless edge_weight is 0 there)
        idx = np.flatnonzero(real)
        real[idx[~found]] = False
        a[idx[found]] = ea[pos[found]]
        if resistance == "none":
            R[idx[found]] = 1.0
        else:
            R[idx[found]] = _resistances(A, ei, ej, method, epsilon, seed, 1e-6)[pos[found]]
    else:
        real[:] = False
    rel = _relative(imp)
    scores = a * R * rel
    if resistance == "shuffled":
        positive = np.flatnonzero(scores > 0)
        R[positive] = R[positive][_rng(seed, "sparsify.shuffle").permutation(len(positive))]
        scores = a * R * rel
    npos = int(np.count_nonzero(scores > 0))
    count = int(round(float(target))) if sampling == "exact" else target
    if count > npos:
        warnings.warn(f"target {target} exceeds the {npos} synapses with a positive score; "
                      "keeping all of them", RuntimeWarning, stacklevel=2)
        rho = math.inf
    else:
        rho = expected_count_rho(scores, count)
    p = _probabilities(scores, rho)
    gen = _rng(seed, "sparsify.sample")
    if sampling == "exact":
        keep = _systematic(p, min(count, npos), gen)
    else:
        keep = gen.random(m) < p
    new_w = _reweight(w, p, keep, max_reweight) if reweight else np.where(keep, w, 0.0)
    new_w, clipped = _clip(new_w, keep, max_weight)
    return SynapseSample(shape=W.shape, pre=pre, post=post, weight=w, symmetric_weight=a,
                         resistance=R, importance=imp, probability=p, keep=keep, rho=rho,
                         target=float(target), new_weight=new_w, clipped=clipped,
                         sampling=sampling, resistance_mode=resistance)


def _edge_graph(edge_weight, shape, pre, post, lo, hi, live):
    """Validated ``edge_weight`` as (A, ei, ej, ea): the symmetric adjacency on the synapse
    pattern (pairs joined by a live synapse) and its upper edges with their couplings."""
    n, m = shape[0], len(pre)
    key = lo[live] * n + hi[live]
    if sp.issparse(edge_weight) or (isinstance(edge_weight, np.ndarray)
                                    and edge_weight.ndim == 2):
        if edge_weight.shape != shape:
            raise ValueError(f"edge_weight matrix has shape {edge_weight.shape}, W has {shape}")
        E = _as_csr(edge_weight, "edge_weight")
        if E.nnz and E.data.min() < 0:
            raise ValueError(f"edge_weight must be non-negative (couplings); got minimum "
                             f"{E.data.min():g}")
        asym = abs(E - E.T)
        if asym.nnz and asym.max() > 1e-12 * max(E.max(), np.finfo(float).tiny):
            raise ValueError("edge_weight must be symmetric: a_ij = a_ji (e.g. |M_ij| + "
                             "|M_ji|)")
        ukey = np.unique(key)
        ei, ej = ukey // n, ukey % n
        ea = _entries(E, ei, ej)
    else:
        v = np.asarray(edge_weight, dtype=float)
        if v.shape != (m,):
            raise ValueError(f"edge_weight must be an (n, n) matrix or have one value per "
                             f"synapse ({m},) in (pre, post) order, got shape {v.shape}")
        if m and not np.all(np.isfinite(v)):
            raise ValueError("edge_weight has non-finite values (NaN or inf)")
        if m and v.min() < 0:
            raise ValueError(f"edge_weight must be non-negative (couplings); got minimum "
                             f"{v.min():g}")
        vals = v[live]
        ukey, inv = np.unique(key, return_inverse=True)
        vmax = np.full(len(ukey), -np.inf)
        vmin = np.full(len(ukey), np.inf)
        np.maximum.at(vmax, inv, vals)
        np.minimum.at(vmin, inv, vals)
        scale = max(float(vals.max()) if len(vals) else 0.0, np.finfo(float).tiny)
        if len(ukey) and np.max(vmax - vmin) > 1e-9 * scale:
            bad = int(np.argmax(vmax - vmin))
            raise ValueError(f"edge_weight must be symmetric: the synapses {ukey[bad] // n} -> "
                             f"{ukey[bad] % n} and back carry {vmin[bad]:g} and {vmax[bad]:g}")
        ei, ej, ea = ukey // n, ukey % n, vmax
    nz = ea > 0
    ei, ej, ea = ei[nz].astype(np.int64), ej[nz].astype(np.int64), ea[nz]
    A = sp.csr_matrix((np.r_[ea, ea], (np.r_[ei, ej], np.r_[ej, ei])), shape=shape)
    A.sum_duplicates()
    A.sort_indices()
    return A, ei, ej, ea


def sparsify_digraph(D, target, weight="weight", importance=None, reweight=False,
                     max_reweight=None, seed=0, method="auto", epsilon=0.3, *,
                     sampling="exact", resistance="effective", max_weight=None):
    """:func:`sparsify_synapses` on a NetworkX DiGraph (e.g. ``Network.to_networkx()``).

    Parameters
    ----------
    D : networkx.DiGraph
        Signed weights in edge attribute ``weight`` (missing = 1); edges u->v are synapses
        pre u -> post v. Zero-weight edges (e.g. pruned synapses) are never kept.
    target : float
        Number of kept edges (expected number with ``sampling="bernoulli"``).
    weight : str
        Name of the edge attribute holding the signed weight (read, and written on the
        kept edges).
    importance : None, str or dict, optional
        Edge attribute name or dict {(u, v): value} of non-negative per-synapse factors.
    reweight, max_reweight, seed, method, epsilon, sampling, resistance
        As in :func:`sparsify_synapses`.
    max_weight : None or float, optional
        Largest allowed magnitude of a new weight, as in :func:`sparsify_synapses` (a scalar
        here).

    Returns
    -------
    networkx.DiGraph
        All nodes with their attributes and graph attributes; kept edges with their
        attributes, ``weight`` replaced by the (re)weighted signed value, and
        ``keep_probability``. ``H.graph["sparsify"]`` records rho, the expected and actual
        edge counts, the method, the sampling and the number of clipped weights.

    Raises
    ------
    TypeError
        If D is not a directed simple graph (``nx.DiGraph``).
    """
    import networkx as nx

    if not D.is_directed() or D.is_multigraph():
        raise TypeError("sparsify_digraph needs an nx.DiGraph; for undirected graphs use "
                        "sparsify_graph")
    nodes = list(D)
    index = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    edges = list(D.edges(data=weight, default=1.0))
    i = np.fromiter((index[u] for u, _, _ in edges), np.int64, len(edges))
    j = np.fromiter((index[v] for _, v, _ in edges), np.int64, len(edges))
    w = np.fromiter((x for _, _, x in edges), float, len(edges))
    order = np.lexsort((j, i))                           # the (pre, post) order of W's CSR
    W = sp.csr_matrix((w[order], (i[order], j[order])), shape=(n, n))
    if importance is None:
        imp = None
    elif isinstance(importance, str):
        imp = np.array([D.edges[edges[e][0], edges[e][1]].get(importance, np.nan)
                        for e in order], float)
    else:
        imp = np.array([importance[(edges[e][0], edges[e][1])] for e in order], float)
    # W keeps explicit zeros (csr from COO does not drop them), so synapse s is edge order[s].
    res = sparsify_synapses(W, target, importance=imp, reweight=reweight,
                            max_reweight=max_reweight, seed=seed, method=method,
                            epsilon=epsilon, sampling=sampling, resistance=resistance,
                            max_weight=max_weight)
    H = nx.DiGraph()
    H.graph.update(D.graph)
    H.graph["sparsify"] = dict(rho=res.rho, expected_edges=res.expected, edges=res.n_kept,
                               original_edges=len(edges), method=method, sampling=sampling,
                               clipped=res.clipped)
    H.add_nodes_from(D.nodes(data=True))
    for s in np.flatnonzero(res.keep):
        u, v, _ = edges[order[s]]
        attrs = dict(D.edges[u, v])
        attrs[weight] = float(res.new_weight[s])
        attrs["keep_probability"] = float(res.probability[s])
        H.add_edge(u, v, **attrs)
    return H


# ---- diagnostics -----------------------------------------------------------------------------
def jaccard(keep_a, keep_b) -> float:
    """Jaccard overlap of two kept sets given as boolean masks.

    The overlap is the size of the intersection over the size of the union.

    Parameters
    ----------
    keep_a, keep_b : bool arrays (m,)
        Masks over the same items (e.g. ``SynapseSample.keep`` and :func:`magnitude_keep`).

    Returns
    -------
    float
        In [0, 1]; 1 for identical sets (including two empty ones), 0 for disjoint ones.

    Examples
    --------
    >>> jaccard([True, True, False], [True, False, True])   # 1 shared of 3
    0.3333333333333333
    """
    a = np.asarray(keep_a, dtype=bool)
    b = np.asarray(keep_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"keep_a and keep_b must be 1-D masks of equal length, got shapes "
                         f"{a.shape} and {b.shape}")
    union = int(np.count_nonzero(a | b))
    return 1.0 if union == 0 else int(np.count_nonzero(a & b)) / union


def magnitude_keep(weights, count: int) -> np.ndarray:
    """The ``count`` items of largest magnitude: plain magnitude pruning at the same count.

    Parameters
    ----------
    weights : float array (m,)
        Signed weights.
    count : int
        Number of items to keep, 0 <= count <= m.

    Returns
    -------
    keep : bool array (m,)
        Exactly ``count`` True entries; among equal magnitudes the earlier index wins
        (a stable sort of ``-|w|``).

    Examples
    --------
    >>> magnitude_keep([0.5, -2.0, 1.0, -0.1], 2)
    array([False,  True,  True, False])
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1:
        raise ValueError(f"weights must be 1-D, got shape {w.shape}")
    count = int(count)
    if not 0 <= count <= len(w):
        raise ValueError(f"count must lie in [0, {len(w)}], got {count}")
    keep = np.zeros(len(w), bool)
    keep[np.argsort(-np.abs(w), kind="stable")[:count]] = True
    return keep


def input_change(post, weight_old, weight_new, n: int) -> dict:
    """How sampling changed each neuron's summed synaptic input sum_i w_ij.

    Parameters
    ----------
    post : int array (m,)
        Postsynaptic neuron of each synapse (e.g. ``SynapseSample.post``).
    weight_old, weight_new : float arrays (m,)
        Signed weights before and after (0 for dropped synapses, e.g.
        ``SynapseSample.weight`` and ``SynapseSample.new_weight``).
    n : int
        Number of neurons.

    Returns
    -------
    dict
        Per-neuron float arrays (n,) -- ``"old"``, ``"new"``: the net summed inputs;
        ``"relative_change"``: ``(new - old) / sum_i |w_ij old|``, normalised by the total
        absolute input so that balanced E/I inputs (net sum near 0) do not blow it up (NaN for
        neurons without input); ``"exc_old"``, ``"exc_new"``, ``"inh_old"``, ``"inh_new"``:
        the excitatory sums and the magnitudes of the inhibitory sums (a synapse's type is the
        sign of its old weight, or of its new one where the old is 0);
        ``"exc_relative_change"``, ``"inh_relative_change"``: (new - old) / old of those sums
        (NaN where old is 0). Scalars -- ``"mean_abs_relative_change"``,
        ``"exc_mean_abs_relative_change"``, ``"inh_mean_abs_relative_change"``: means of the
        absolute relative changes over the neurons that have such input (NaN if none).
    """
    post = np.asarray(post)
    wo = np.asarray(weight_old, dtype=float)
    wn = np.asarray(weight_new, dtype=float)
    if not (post.ndim == wo.ndim == wn.ndim == 1 and len(post) == len(wo) == len(wn)):
        raise ValueError("post, weight_old and weight_new must be 1-D arrays of equal length")
    n = int(n)
    if len(post) and (post.min() < 0 or post.max() >= n):
        raise ValueError(f"post indices must lie in [0, {n})")

    def total(mask, values):
        return np.bincount(post[mask], weights=values[mask], minlength=n)

    every = np.ones(len(post), bool)
    old, new, scale = total(every, wo), total(every, wn), total(every, np.abs(wo))
    sign = np.where(wo != 0, np.sign(wo), np.sign(wn))
    exc, inh = sign > 0, sign < 0
    out = dict(old=old, new=new)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative_change"] = np.where(scale > 0, (new - old) / scale, np.nan)
        for name, mask, s in (("exc", exc, 1.0), ("inh", inh, -1.0)):
            o, nw = s * total(mask, wo), s * total(mask, wn)
            out[f"{name}_old"], out[f"{name}_new"] = o, nw
            out[f"{name}_relative_change"] = np.where(o > 0, (nw - o) / o, np.nan)
    for key, rel in (("mean_abs_relative_change", "relative_change"),
                     ("exc_mean_abs_relative_change", "exc_relative_change"),
                     ("inh_mean_abs_relative_change", "inh_relative_change")):
        r = out[rel]
        ok = np.isfinite(r)
        out[key] = float(np.mean(np.abs(r[ok]))) if ok.any() else math.nan
    return out


def generalized_eigenvalue_range(A_original, A_sparse) -> tuple[float, float]:
    """Smallest and largest generalised eigenvalue of (L_sparse, L_original).

    H = ``A_sparse`` is an epsilon-spectral sparsifier of G = ``A_original`` exactly when
    both lie in [1 - epsilon, 1 + epsilon]: (1 - eps) x'L_G x <= x'L_H x <= (1 + eps) x'L_G x
    for every x orthogonal to G's nullspace (one constant vector per connected component).

    Parameters
    ----------
    A_original, A_sparse : (n, n) sparse or dense arrays
        Symmetric non-negative adjacencies (diagonal ignored). For synapse samples pass
        ``symmetrize(W)`` and ``symmetrize(sample.matrix())``; compare against reweighted
        samples, since a plain subgraph has every eigenvalue <= 1.

    Returns
    -------
    (lambda_min, lambda_max) : (float, float)
        Over the range of L_G. Dense: O(n^3) time and a few n^2 doubles of memory, meant
        for checks on networks of up to a few thousand neurons.
    """
    G = _named_adjacency(A_original, "A_original")
    H = _named_adjacency(A_sparse, "A_sparse")
    if G.shape != H.shape:
        raise ValueError(f"A_original and A_sparse differ in shape: {G.shape} vs {H.shape}")
    if G.shape[0] < 2 or G.nnz == 0:
        raise ValueError("A_original has no edges: its Laplacian has no range to compare on")
    vals, vecs = scipy.linalg.eigh(_laplacian(G).toarray())
    keep = vals > 1e-10 * vals.max()
    X = vecs[:, keep] / np.sqrt(vals[keep])           # X' L_G X = I on L_G's range
    ev = scipy.linalg.eigvalsh(X.T @ (_laplacian(H) @ X))
    return float(ev[0]), float(ev[-1])


def _named_adjacency(M, name):
    try:
        return _check_adjacency(M)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
