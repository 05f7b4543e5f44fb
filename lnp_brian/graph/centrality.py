"""Betweenness centrality of neurons for pruning (docs/method.md, step 5).

A neuron's betweenness is the fraction of shortest paths between other neurons that pass
through it: neurons that relay much of the network's traffic score high, peripheral ones low,
and LNP removes the lowest-scoring fraction. Path length follows the synaptic coupling: by
default an edge i->j has length ``1/|w_ij|``, so a strong synapse (excitatory or inhibitory alike)
is a short edge.

Users hand in NetworkX graphs (or scipy sparse matrices, so that large networks never need to
be materialised in NetworkX); networkit computes. Exact betweenness is O(n m) (Brandes), which
for 4,000 neurons and 800k synapses took 21 s with networkit against 88 s for networkx with
only 100 sampled sources; with ``k`` pivots networkit's EstimateBetweenness (Sanders,
Geisberger & Schultes 2008: k single-source dependency sums, linearly scaled to avoid the bias
towards the pivots) takes about k/n of the exact time (0.74 s for k = 100 there) and ranked
neurons in nearly the same order there (Spearman 0.90-0.96 against exact). How well k pivots
rank depends on how spread out the centralities are: on a homogeneous random network (1,000
neurons, 10 % connectivity, coefficient of variation of betweenness 0.22) Spearman was only
0.42 / 0.63 / 0.75 for k = 100 / 300 / 600, while exact betweenness took 0.5 s. Prefer exact
where it is affordable, and check a pivot count against exact on a smaller network before
pruning by it.

**Conventions.**

* Normalisation is networkx's (``endpoints=False``), applied to networkit's raw sums by this
  module so both back ends give the same numbers: with ``normalized=True`` each score is
  divided by (n - 1)(n - 2), the number of ordered (s, t) pairs that could pass through a
  node, for directed and undirected graphs alike; without it, directed scores are raw
  pair-dependency sums and undirected ones count each unordered pair once.
* Edge lengths (``length=``): ``"inverse_abs_weight"`` ``1/|w|`` (default), ``"abs_weight"``
  ``|w|``, or ``None`` (every edge length 1, hop counts). Edges of weight 0 (e.g. pruned
  synapses) are treated as absent under ``1/|w|``; self-loops never lie on a shortest path
  and are ignored.
* Equal-length paths are ties only on exact floating-point equality, in networkit and networkx
  alike; with real-valued weights ties are measure-zero.
* Results of the graph functions are dicts {node: score} over ``G.nodes`` (networkx's
  convention); :func:`betweenness_sparse` returns an array indexed by row/column of ``W``.
* The sampled estimate is seeded through networkit's global generator
  (``networkit.setSeed(seed, False)``) and runs single-threaded unless ``parallel=True``
  (faster, but then the pivots depend on thread scheduling and results are not reproducible).

**Pruning rule v2 (Dale's-law networks).** With lengths ``1/|w|`` on a Dale's-law network
the inhibitory synapses (about 8x stronger than the excitatory ones in the shipped models) are
the short edges, every shortest path runs through I cells and nearly all E cells score 0:
removing the lowest-scored 30 % of a 300-neuron HRSNN (240 E / 60 I) took 90 E and 0 I. The
v2 rule therefore

* divides each edge length 1/a_ij by the median length of its pathway (EE, EI, IE, II by the
  E/I labels of pre- and postsynaptic neuron), so every pathway has median length 1 and E and
  I cells compete on equal terms (:func:`pathway_lengths`, :func:`pruning_scores`);
* breaks ties (many cells score exactly 0) in a seeded random order, never by index, and
  removes per stratum, r_E from E and r_I from I in the active E:I proportion with
  largest-remainder rounding, so the kept E and I counts are each within one neuron of the
  ideal (:func:`neuron_removal`);
* offers :func:`hop_count_agreement`, the Spearman correlation of the scores with unweighted
  (hop-count) betweenness, as a diagnostic of how much the lengths change the ranking.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["LENGTHS", "betweenness", "betweenness_sparse", "betweenness_networkx",
           "pathway_lengths", "pruning_scores", "neuron_removal", "hop_count_agreement"]

LENGTHS = ("inverse_abs_weight", "abs_weight", None)


def _lengths(w: np.ndarray, length) -> np.ndarray:
    """Edge lengths from weights; NaN marks edges to drop (weight 0 under 1/|w|)."""
    if length not in LENGTHS:
        raise ValueError(f"length must be one of {LENGTHS}, got {length!r}")
    w = np.asarray(w, float)
    if not np.all(np.isfinite(w)):
        raise ValueError("edge weights must be finite")
    a = np.abs(w)
    if length is None:
        return np.ones_like(a)
    if length == "abs_weight":
        return a
    with np.errstate(divide="ignore"):
        return np.where(a > 0, 1.0 / a, np.nan)


def _rescale(raw: np.ndarray, n: int, normalized: bool, directed: bool) -> np.ndarray:
    """networkx's scaling (endpoints=False) of raw ordered-pair dependency sums."""
    if n <= 2:
        return raw
    if normalized:
        return raw / ((n - 1) * (n - 2))
    return raw if directed else raw / 2.0


def _networkit_scores(n, rows, cols, lens, directed, weighted, k, seed, parallel):
    import networkit as nk

    g = nk.Graph(n, weighted=weighted, directed=directed)
    if len(rows):
        if weighted:
            g.addEdges((np.ascontiguousarray(lens, float),
                        (np.ascontiguousarray(rows, np.uint64),
                         np.ascontiguousarray(cols, np.uint64))))
        else:
            g.addEdges((np.ascontiguousarray(rows, np.uint64),
                        np.ascontiguousarray(cols, np.uint64)))
    if k is None or k >= n:
        algo = nk.centrality.Betweenness(g, normalized=False)
    else:
        nk.setSeed(int(seed), False)
        algo = nk.centrality.EstimateBetweenness(g, int(k), normalized=False,
                                                 parallel=bool(parallel))
    algo.run()
    return np.asarray(algo.scores(), float)


def _check_k(k):
    if k is not None and (int(k) != k or k < 1):
        raise ValueError(f"k (number of pivots) must be a positive integer or None, got {k!r}")


def betweenness_sparse(W, k: int | None = None, seed: int = 0, normalized: bool = True,
                       length="inverse_abs_weight", directed: bool = True,
                       parallel: bool = False) -> np.ndarray:
    """Betweenness centrality of the graph of a sparse weight matrix, computed by networkit.

    Parameters
    ----------
    W : (n, n) scipy sparse matrix or 2-D array
        Weights (signed allowed), rows = source (presynaptic), columns = target
        (postsynaptic): paths follow synapses from pre to post. Duplicates are summed; stored
        zeros, the diagonal and, under ``1/|w|``, zero weights are no edges.
    k : int, optional
        Number of pivots (sampled sources) for the estimate; ``None`` (or k >= n) computes
        exact betweenness.
    seed : int
        Seed of the pivot sampling.
    normalized : bool
        Divide by (n - 1)(n - 2) (networkx's convention, see module notes).
    length : {"inverse_abs_weight", "abs_weight", None}
        Edge length as a function of weight; default ``1/|w|`` (strong synapse = short edge).
    directed : bool
        If False, W is read as an undirected graph and ``|W|`` must be symmetric.
    parallel : bool
        Parallel sampling for ``k`` pivots (not reproducible). Exact betweenness always uses
        networkit's threads (its result does not depend on them).

    Returns
    -------
    float array (n,)
        Score of node i at index i.

    Raises
    ------
    TypeError
        If W is neither a scipy sparse matrix nor a NumPy array.
    ValueError
        If W is not square, ``k`` is not a positive integer, ``length`` is unknown, a weight is
        not finite, or ``directed=False`` with an asymmetric ``|W|``.

    Examples
    --------
    >>> W = np.array([[0.0, 1.0, 0.1],
    ...               [0.0, 0.0, 1.0],
    ...               [0.0, 0.0, 0.0]])
    >>> betweenness_sparse(W)  # 0 -> 2 is weak, so the shortest path runs through 1
    array([0. , 0.5, 0. ])
    """
    if not (sp.issparse(W) or isinstance(W, np.ndarray)):
        raise TypeError(f"W must be a scipy sparse matrix or 2-D array, got {type(W).__name__}")
    W = sp.csr_matrix(W, dtype=float, copy=True)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square (n x n), got shape {W.shape}")
    n = W.shape[0]
    _check_k(k)
    W.sum_duplicates()
    W.setdiag(0.0)
    W.eliminate_zeros()
    if not directed:
        asym = abs(abs(W) - abs(W).T)
        if asym.nnz and asym.max() > 1e-12 * abs(W).max():
            raise ValueError("directed=False needs a symmetric |W| (an undirected graph)")
        W = sp.triu(W, k=1, format="csr")
    coo = W.tocoo()
    lens = _lengths(coo.data, length)
    ok = ~np.isnan(lens)
    raw = _networkit_scores(n, coo.row[ok], coo.col[ok], lens[ok], directed,
                            length is not None, k, seed, parallel)
    return _rescale(raw, n, normalized, directed)


def _graph_arrays(G, weight):
    if G.is_multigraph():
        raise TypeError("betweenness needs an nx.Graph or nx.DiGraph, not a multigraph")
    nodes = list(G)
    index = {v: i for i, v in enumerate(nodes)}
    edges = [(index[u], index[v], x) for u, v, x in G.edges(data=weight, default=1.0) if u != v]
    rows = np.fromiter((e[0] for e in edges), np.int64, len(edges))
    cols = np.fromiter((e[1] for e in edges), np.int64, len(edges))
    w = np.fromiter((e[2] for e in edges), float, len(edges))
    return nodes, rows, cols, w


def betweenness(G, weight: str = "weight", k: int | None = None, seed: int = 0,
                normalized: bool = True, length="inverse_abs_weight",
                parallel: bool = False) -> dict:
    """Betweenness centrality of a NetworkX (Di)Graph, computed by networkit.

    Same numbers as :func:`betweenness_networkx` (exact case) in a fraction of the time.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        Directed graphs use edge direction (u -> v = pre -> post).
    weight : str
        Edge attribute with the (signed) weight; missing = 1.
    k : int, optional
        Number of pivots for the sampled estimate (networkit EstimateBetweenness); ``None``
        for exact betweenness.
    seed : int
        Seed of the pivot sampling.
    normalized : bool
        networkx's normalisation, 1/((n - 1)(n - 2)).
    length : {"inverse_abs_weight", "abs_weight", None}
        Edge length from weight; default ``1/|w|``.
    parallel : bool
        Parallel (non-reproducible) sampling when ``k`` is given.

    Returns
    -------
    dict
        {node: score} in the order of ``G.nodes``.

    Raises
    ------
    TypeError
        For a multigraph.
    ValueError
        If ``k`` is not a positive integer, ``length`` is unknown or a weight is not finite.

    Examples
    --------
    A weak direct synapse 0 -> 2 is a long edge, so the shortest path from 0 to 2 runs
    through neuron 1; counting hops instead, the direct edge wins:

    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 1.0), (0, 2, 0.1)])
    >>> betweenness(G)
    {0: 0.0, 1: 0.5, 2: 0.0}
    >>> betweenness(G, length=None)
    {0: 0.0, 1: 0.0, 2: 0.0}
    """
    _check_k(k)
    nodes, rows, cols, w = _graph_arrays(G, weight)
    lens = _lengths(w, length)
    ok = ~np.isnan(lens)
    directed = G.is_directed()
    raw = _networkit_scores(len(nodes), rows[ok], cols[ok], lens[ok], directed,
                            length is not None, k, seed, parallel)
    scores = _rescale(raw, len(nodes), normalized, directed)
    return dict(zip(nodes, scores.tolist()))


def betweenness_networkx(G, weight: str = "weight", k: int | None = None, seed: int = 0,
                         normalized: bool = True, length="inverse_abs_weight") -> dict:
    """Reference implementation: :func:`networkx.betweenness_centrality` on the same lengths.

    Slow (pure Python, O(n m)); use it to check :func:`betweenness` or on small graphs. With
    ``k`` it samples k sources (networkx's estimator, seeded), which differs from networkit's.
    Arguments and result as in :func:`betweenness`.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        Directed graphs use edge direction (u -> v = pre -> post).
    weight : str
        Edge attribute with the (signed) weight; missing = 1.
    k : int, optional
        Number of sampled sources (networkx's estimator); ``None`` for exact betweenness.
    seed : int
        Seed of the source sampling.
    normalized : bool
        networkx's normalisation, 1/((n - 1)(n - 2)).
    length : {"inverse_abs_weight", "abs_weight", None}
        Edge length from weight; default ``1/|w|``.

    Returns
    -------
    dict
        {node: score}, as from :func:`betweenness`.

    Raises
    ------
    TypeError
        For a multigraph.
    ValueError
        If ``k`` is not a positive integer, ``length`` is unknown or a weight is not finite.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 1.0), (0, 2, 0.1)])
    >>> betweenness_networkx(G) == betweenness(G)
    True
    """
    import networkx as nx

    _check_k(k)
    if G.is_multigraph():
        raise TypeError("betweenness needs an nx.Graph or nx.DiGraph, not a multigraph")
    H = G.__class__()
    H.add_nodes_from(G)
    key = "__length__"
    for u, v, x in G.edges(data=weight, default=1.0):
        if u == v:
            continue
        lens = _lengths(np.array([x]), length)[0]
        if not np.isnan(lens):
            H.add_edge(u, v, **{key: float(lens)})
    return nx.betweenness_centrality(H, k=k, normalized=normalized, seed=seed,
                                     weight=key if length is not None else None)


# ---- pruning rule v2: pathway-normalised lengths, stratified removal with random ties -------

def _edge_arrays(pre, post, n=None):
    pre = np.asarray(pre)
    post = np.asarray(post)
    if pre.shape != post.shape or pre.ndim != 1:
        raise ValueError(f"pre and post must be 1-D arrays of equal length, got {pre.shape} "
                         f"and {post.shape}")
    if len(pre) and not (np.issubdtype(pre.dtype, np.integer) and np.issubdtype(post.dtype, np.integer)):
        raise TypeError("pre and post must be integer neuron indices")
    pre, post = pre.astype(np.int64), post.astype(np.int64)
    if n is not None and len(pre) and (min(pre.min(), post.min()) < 0 or max(pre.max(), post.max()) >= n):
        raise ValueError(f"neuron indices must lie in [0, {n})")
    return pre, post


def _mask(x, n, what):
    x = np.asarray(x)
    if x.shape != (n,) or x.dtype != bool:
        raise ValueError(f"{what} must be a boolean array of shape ({n},), got {x.dtype} {x.shape}")
    return x


def pathway_lengths(pre, post, weight, exc) -> np.ndarray:
    """Edge lengths 1/a normalised to median 1 within each pathway (EE, EI, IE, II).

    Parameters
    ----------
    pre, post : int arrays (m,)
        Presynaptic and postsynaptic neuron of each synapse.
    weight : float array (m,)
        Coupling a of each synapse (``|w|``, or the effective coupling ``|M_ij| + |M_ji|``);
        signed values are read as their magnitude.
    exc : bool array (n,)
        True for excitatory neurons; the pathway of a synapse is (exc[pre], exc[post]).

    Returns
    -------
    float array (m,)
        (1/a_ij) / median over the synapse's pathway of 1/a. Synapses of weight 0 get length
        ``inf`` (no edge) and are left out of the medians; every pathway holding a synapse of
        positive weight has median length 1.

    Examples
    --------
    >>> exc = np.array([True, True, False])
    >>> pathway_lengths([0, 1, 2, 2], [1, 0, 0, 1], [1.0, 3.0, 8.0, -16.0], exc)
    array([1.5       , 0.5       , 1.33333333, 0.66666667])
    """
    exc = np.asarray(exc, bool)
    pre, post = _edge_arrays(pre, post, len(exc))
    a = np.abs(np.asarray(weight, float))
    if a.shape != pre.shape:
        raise ValueError(f"weight must have one entry per synapse ({len(pre)}), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("synapse weights must be finite")
    with np.errstate(divide="ignore"):
        lengths = np.where(a > 0, 1.0 / np.where(a > 0, a, 1.0), np.inf)
    pathway = 2 * (~exc[pre]) + (~exc[post])  # 0 EE, 1 EI, 2 IE, 3 II (as Network.pathway)
    for code in range(4):
        sel = (pathway == code) & (a > 0)
        if sel.any():
            lengths[sel] /= np.median(lengths[sel])
    return lengths


def pruning_scores(pre, post, weight, exc, active, n, k: int | None = None, seed: int = 0,
                   normalize_pathways: bool = True, parallel: bool = False) -> np.ndarray:
    """Betweenness of each active neuron under pathway-normalised edge lengths (rule v2).

    Parameters
    ----------
    pre, post : int arrays (m,)
        Synapses pre -> post (paths follow them). Synapses touching an inactive neuron and
        synapses of weight 0 are ignored; of repeated (pre, post) pairs the strongest counts
        (also for the pathway medians).
    weight : float array (m,)
        Coupling a >= 0 of each synapse (magnitudes are taken).
    exc : bool array (n,)
        Excitatory labels.
    active : bool array (n,)
        Neurons still in the network; betweenness is computed on the graph of active neurons.
    n : int
        Number of neurons.
    k : int, optional
        Pivots for networkit's estimate (``None``, or k >= number of active neurons: exact).
    seed : int
        Seed of the pivot sampling.
    normalize_pathways : bool
        Lengths from :func:`pathway_lengths` (default); False gives the plain 1/a lengths of
        :func:`betweenness_sparse` (the v1 rule).
    parallel : bool
        Parallel (non-reproducible) pivot sampling.

    Returns
    -------
    float array (n,)
        Normalised betweenness (networkx's convention over the n_active active neurons);
        ``NaN`` for inactive neurons.

    Examples
    --------
    >>> exc = np.ones(4, bool)
    >>> pruning_scores([0, 1, 2], [1, 2, 3], [1.0, 1.0, 1.0], exc, exc, 4)  # directed path
    array([0.        , 0.33333333, 0.33333333, 0.        ])
    """
    n = int(n)
    exc = _mask(exc, n, "exc")
    active = _mask(active, n, "active")
    _check_k(k)
    pre, post = _edge_arrays(pre, post, n)
    a = np.abs(np.asarray(weight, float))
    if a.shape != pre.shape:
        raise ValueError(f"weight must have one entry per synapse ({len(pre)}), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("synapse weights must be finite")
    keep = active[pre] & active[post] & (a > 0) & (pre != post)
    pre, post, a = pre[keep], post[keep], a[keep]
    # parallel synapses: keep the strongest, before the medians (and a sparse matrix would
    # add up their lengths)
    order = np.lexsort((-a, post, pre))
    pre, post, a = pre[order], post[order], a[order]
    first = np.ones(len(pre), bool)
    first[1:] = (pre[1:] != pre[:-1]) | (post[1:] != post[:-1])
    pre, post, a = pre[first], post[first], a[first]
    lengths = pathway_lengths(pre, post, a, exc) if normalize_pathways else 1.0 / a
    idx = np.flatnonzero(active)
    out = np.full(n, np.nan)
    if len(idx) == 0:
        return out
    new = np.full(n, -1, np.int64)
    new[idx] = np.arange(len(idx))
    L = sp.csr_matrix((lengths, (new[pre], new[post])), shape=(len(idx), len(idx)))
    out[idx] = betweenness_sparse(L, k=k, seed=seed, length="abs_weight", parallel=parallel)
    return out


def neuron_removal(scores, exc, active, n_remove: int, seed: int = 0,
                   stratify: bool = True) -> np.ndarray:
    """Neurons to remove: the lowest-scored active ones, per E/I stratum, ties in random order.

    Parameters
    ----------
    scores : float array (n,)
        Score per neuron (e.g. :func:`pruning_scores`); lowest goes first. Ignored for inactive
        neurons; must not be NaN for active ones.
    exc : bool array (n,)
        Excitatory labels.
    active : bool array (n,)
        Candidates for removal.
    n_remove : int
        How many active neurons to remove (0 <= n_remove <= number active).
    seed : int
        Seed of the random order that breaks ties between equal scores.
    stratify : bool
        Remove r_E excitatory and r_I inhibitory neurons (r_E + r_I = n_remove) in the active
        E:I proportion, the quotas rounded by largest remainder (an exact half goes to a seeded
        coin flip), so that the kept E and I counts are each within one neuron of the ideal
        (n_active - n_remove) * n_E / n_active. False: the n_remove lowest overall.

    Returns
    -------
    int array (n_remove,)
        Sorted indices of the neurons to remove.

    Examples
    --------
    >>> scores = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 0.4])
    >>> exc = np.array([True, True, True, True, False, False])
    >>> active = np.ones(6, bool)
    >>> neuron_removal(scores, exc, active, 3)                  # 2 E + 1 I
    array([0, 1, 5])
    >>> neuron_removal(scores, exc, active, 3, stratify=False)  # 3 lowest
    array([0, 1, 2])
    """
    scores = np.asarray(scores, float)
    n = len(scores)
    if scores.ndim != 1:
        raise ValueError("scores must be a 1-D array")
    exc = _mask(exc, n, "exc")
    active = _mask(active, n, "active")
    if int(n_remove) != n_remove or not 0 <= n_remove <= active.sum():
        raise ValueError(f"n_remove must be an integer in [0, {int(active.sum())}] (active "
                         f"neurons), got {n_remove!r}")
    n_remove = int(n_remove)
    if np.isnan(scores[active]).any():
        raise ValueError("scores of active neurons must not be NaN")
    gen = np.random.default_rng(seed)
    tiebreak = gen.permutation(n)
    order = np.lexsort((tiebreak, scores))  # by score, ties in random order
    order = order[active[order]]
    if not stratify:
        return np.sort(order[:n_remove])
    is_e = exc[order]
    n_e, n_i = int(is_e.sum()), int((~is_e).sum())
    q_e = n_remove * n_e / (n_e + n_i) if n_e + n_i else 0.0
    q_i = n_remove - q_e
    r_e, r_i = int(np.floor(q_e)), int(np.floor(q_i))
    if r_e + r_i < n_remove:  # one neuron left: to the larger remainder
        rem_e, rem_i = q_e - r_e, q_i - r_i
        to_e = rem_e > rem_i if not np.isclose(rem_e, rem_i) else bool(gen.integers(2))
        to_e = (to_e and r_e < n_e) or r_i >= n_i
        r_e, r_i = r_e + to_e, r_i + (not to_e)
    return np.sort(np.concatenate([order[is_e][:r_e], order[~is_e][:r_i]]))


def hop_count_agreement(scores, pre, post, active, n) -> float:
    """Spearman correlation of scores with exact hop-count betweenness over active neurons.

    A diagnostic of how far the edge lengths move the ranking away from the unweighted graph's
    (1: same order; near 0: the lengths decide everything).

    Parameters
    ----------
    scores : float array (n,)
        Scores per neuron (e.g. :func:`pruning_scores`); NaN entries are left out.
    pre, post : int arrays (m,)
        The synapses the scores were computed on (pass only existing ones: every pair given
        is an edge, whatever its weight); those touching inactive neurons are ignored.
    active : bool array (n,)
        Neurons to compare.
    n : int
        Number of neurons.

    Returns
    -------
    float
        scipy.stats.spearmanr statistic; NaN when fewer than 3 neurons are compared or either
        ranking is constant.

    Examples
    --------
    >>> exc = np.ones(5, bool)
    >>> pre, post = [0, 1, 2, 3], [1, 2, 3, 4]
    >>> s = pruning_scores(pre, post, [1.0, 2.0, 3.0, 4.0], exc, exc, 5)
    >>> float(hop_count_agreement(s, pre, post, exc, 5))
    1.0
    """
    import scipy.stats

    n = int(n)
    scores = np.asarray(scores, float)
    if scores.shape != (n,):
        raise ValueError(f"scores must have shape ({n},), got {scores.shape}")
    active = _mask(active, n, "active")
    pre, post = _edge_arrays(pre, post, n)
    live = active[pre] & active[post]
    idx = np.flatnonzero(active)
    new = np.full(n, -1, np.int64)
    new[idx] = np.arange(len(idx))
    A = sp.csr_matrix((np.ones(live.sum()), (new[pre[live]], new[post[live]])),
                      shape=(len(idx), len(idx)))
    hops = np.full(n, np.nan)
    hops[idx] = betweenness_sparse(A, length=None)  # unweighted: BFS, every edge one hop
    use = active & ~np.isnan(scores)
    x, y = scores[use], hops[use]
    if use.sum() < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(scipy.stats.spearmanr(x, y).statistic)
