"""Random connectivity: which (pre, post) pairs exist.

Every function returns ``(pre, post)`` int32 arrays sorted by (pre, post) with no
duplicates and, unless ``autapses`` is set, no self-connections.

Two samplers, with the same distribution for every kind:

``dense``
    The original sampler: one uniform draw per ordered pair (i, j), in row chunks, so its
    time is O(N^2) whatever the number of synapses (its memory stays O(synapses)). A
    network of 100,000 neurons takes minutes here even at 100 synapses per neuron.
``sparse``
    O(synapses) time and memory. ``random`` and ``clustered`` skip from one synapse to the
    next with geometric gaps (Batagelj & Brandes 2005), block by block of (presynaptic
    cluster, postsynaptic cluster): each pair is present independently with its
    probability, exactly as in the dense sampler, and the output comes out sorted with no
    duplicates by construction. ``all`` is enumerated. ``watts_strogatz`` rewires the ring
    lattice vectorised, with the same sequential rewiring rule as the dense sampler.

``method="auto"`` (the default, used by ``build_network``) takes ``dense`` up to
``DENSE_MAX_N`` = 20,000 neurons and ``sparse`` above. The threshold is there for
reproducibility: the two samplers draw different random numbers, so the same seed gives a
different (equally distributed) network; keeping the dense sampler for every size the
project has built and measured (<= 20,000 neurons) keeps those networks, and every result
obtained with them, bit-identical for a given seed.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["connect", "DENSE_MAX_N", "METHODS"]

_CHUNK_CELLS = 4_000_000  # Bernoulli draws held at once (dense sampler)
_GAP_BATCH = 1 << 20  # geometric gaps drawn at once (sparse sampler)
_MAX_TRIES = 100  # Watts-Strogatz: draws per rewired edge before it keeps its target
_WS_BLOCK_EDGES = 1 << 18  # Watts-Strogatz ring edges rewired at once (sparse sampler)

DENSE_MAX_N = 20_000  # method="auto": the dense sampler up to this many neurons
METHODS = ("auto", "dense", "sparse")


# ------------------------------------------------------------------------------------ dense
def _bernoulli_rows(n, prob_row, rng, autapses):
    """Draw each pair (i, j) with probability prob_row(i_block)[i, j], in row chunks."""
    rows = max(1, _CHUNK_CELLS // max(n, 1))
    pre_parts, post_parts = [], []
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        p = prob_row(start, stop)
        hit = rng.random((stop - start, n)) < p
        if not autapses:
            k = np.arange(start, stop)
            hit[k - start, k] = False
        i, j = np.nonzero(hit)
        pre_parts.append((i + start).astype(np.int32))
        post_parts.append(j.astype(np.int32))
    if not pre_parts:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.concatenate(pre_parts), np.concatenate(post_parts)


def _ring(n, k):
    """Ring-lattice offsets of Watts-Strogatz: k/2 on each side (k rounded up to even)."""
    half = max(1, (k + 1) // 2)
    return half, np.concatenate([np.arange(1, half + 1), -np.arange(1, half + 1)])


def _watts_strogatz(n, k, beta, rng, autapses):
    """Directed Watts-Strogatz: each neuron projects to its k nearest ring neighbours
    (k/2 on each side, k rounded up to even), then each target is rewired with probability
    beta to a uniformly chosen neuron (no duplicates, no self-connections).

    Edges are rewired one after the other (in (pre, ring offset) order): the new target is
    drawn uniformly until it is neither the neuron itself nor one of its current targets
    (at most 100 draws, else the edge keeps its target). A neuron's target set is built
    when its first edge is rewired, so this is O(synapses); the random numbers drawn, and
    so the network, are those of the original all-rows version."""
    half, offsets = _ring(n, k)
    width = len(offsets)
    pre = np.repeat(np.arange(n), width)
    post = (pre + np.tile(offsets, n)) % n
    rewire = rng.random(len(pre)) < beta
    targets = {}
    for e in np.flatnonzero(rewire):
        i = pre[e]
        if i not in targets:  # the row is untouched until its first rewired edge
            targets[i] = set(post[i * width:(i + 1) * width])
        row = targets[i]
        for _ in range(_MAX_TRIES):
            new = int(rng.integers(n))
            if new not in row and (autapses or new != i):
                row.discard(post[e])
                row.add(new)
                post[e] = new
                break
    keep = (pre != post) | autapses
    return pre[keep].astype(np.int32), post[keep].astype(np.int32)


# ----------------------------------------------------------------------------------- sparse
def _bernoulli_cells(cells, p, rng):
    """Sorted indices in [0, cells), each present independently with probability p: the
    gaps between successive hits of a Bernoulli(p) sequence are Geometric(p). Yields int64
    batches of at most _GAP_BATCH indices."""
    if cells <= 0 or p <= 0.0:
        return
    if p >= 1.0:
        for start in range(0, cells, _GAP_BATCH):
            yield np.arange(start, min(cells, start + _GAP_BATCH), dtype=np.int64)
        return
    last = -1
    while True:
        expect = (cells - 1 - last) * p
        size = int(min(_GAP_BATCH, expect + 6.0 * math.sqrt(expect) + 16))
        pos = np.cumsum(rng.geometric(p, size))
        pos += last
        if pos[-1] >= cells:
            yield pos[:np.searchsorted(pos, cells)]
            return
        yield pos
        last = int(pos[-1])


def _cat(parts):
    """np.concatenate, without the copy of a single part."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _bernoulli_blocks(n, cluster, p_of, rng, autapses):
    """Each pair (i, j) independently with probability p_of(cluster[i] == cluster[j])
    (one cluster: p_of(True)), block by block of (pre cluster, post cluster), in
    O(synapses). Returns sorted (pre, post) int32."""
    labels, inverse = np.unique(np.asarray(cluster), return_inverse=True)
    members = [np.flatnonzero(inverse == a).astype(np.int32) for a in range(len(labels))]
    # clusters that are runs of consecutive neurons in label order (as build_network lays
    # them out): the blocks of a row are merged in O(synapses); else sorted at the end
    runs = len(members) == 1 or bool(np.all(np.diff(inverse) >= 0))
    identity = len(members) == 1  # one cluster: block indices are neuron indices
    pre_parts, post_parts = [], []
    for a, rows in enumerate(members):
        blocks = []  # (row within the block, postsynaptic neuron) of each (a, b) block
        for b, cols in enumerate(members):
            same = a == b
            skip_self = same and not autapses
            width = len(cols) - (1 if skip_self else 0)
            r_parts, c_parts = [], []
            for q in _bernoulli_cells(len(rows) * width, p_of(same), rng):
                r, c = np.divmod(q, width)
                if skip_self:  # row r of the block is column r of the block: skip it
                    c += c >= r
                r_parts.append(r.astype(np.int32))
                c_parts.append(c.astype(np.int32) if identity else cols[c])
            if r_parts:
                blocks.append((_cat(r_parts), _cat(c_parts)))
                del r_parts, c_parts
        if not blocks:
            continue
        if len(blocks) == 1 or not runs:
            pre_parts += [r if identity else rows[r] for r, _ in blocks]
            post_parts += [c for _, c in blocks]
            continue
        # merge the blocks row by row: a row's block b comes after its blocks < b
        counts = [np.bincount(r, minlength=len(rows)) for r, _ in blocks]
        total = np.sum(counts, axis=0)
        offset = np.cumsum(total) - total  # where each row starts
        post = np.empty(int(total.sum()), np.int32)
        for (r, c), cnt in zip(blocks, counts):
            post[(offset - (np.cumsum(cnt) - cnt))[r] + np.arange(len(r))] = c
            offset += cnt
        pre_parts.append(np.repeat(rows, total))
        post_parts.append(post)
        del blocks, counts
    if not pre_parts:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    pre, post = _cat(pre_parts), _cat(post_parts)
    if not runs:
        key = pre.astype(np.int64) * n + post
        del pre, post, pre_parts, post_parts
        key.sort()
        pre, post = np.divmod(key, n)
        return pre.astype(np.int32), post.astype(np.int32)
    return pre, post


def _all_pairs(n, autapses):
    width = n if autapses else n - 1
    pre = np.repeat(np.arange(n, dtype=np.int32), width)
    post = np.tile(np.arange(width, dtype=np.int32), n)
    if not autapses:
        post += post >= pre
    return pre, post


def _watts_strogatz_sparse(n, k, beta, rng, autapses):
    """Watts-Strogatz with the rule of _watts_strogatz (same distribution), vectorised.

    Every rewired edge draws candidates until one is not excluded by the targets that are
    known in advance: the neuron itself (without autapses), the ring targets that are kept,
    its own ring target and those of its later rewired edges. This first admissible
    candidate is what the sequential rule takes too, unless it equals the new target of an
    earlier edge of the same neuron (or an earlier edge ran out of draws): the few neurons
    where that happens (about (beta k)^2 / 2n of them) are finished one by one with the
    sequential rule, going on from the draws already made. Neurons are done in blocks, so
    the temporaries stay small."""
    half, offsets = _ring(n, k)
    width = len(offsets)
    if width >= n:  # offsets wrap around the ring (tiny networks): the sequential version
        return _watts_strogatz(n, k, beta, rng, autapses)
    post = np.empty((n, width), np.int32)
    rows_per_block = max(1, _WS_BLOCK_EDGES // width)
    for first in range(0, n, rows_per_block):
        last = min(n, first + rows_per_block)
        post[first:last] = _ws_block(n, first, last, half, offsets, beta, rng, autapses)
    # nothing to drop: with width < n no ring target is the neuron itself, and a rewired
    # target is the neuron itself only with autapses
    return np.repeat(np.arange(n, dtype=np.int32), width), post.ravel()


def _ws_block(n, first, last, half, offsets, beta, rng, autapses):
    """Rows first..last-1 of _watts_strogatz_sparse: (last - first, width) sorted targets."""
    width = len(offsets)
    post = (np.arange(first, last)[:, None] + offsets[None, :]) % n
    rewire = rng.random((last - first, width)) < beta
    row, slot = np.nonzero(rewire)  # row relative to `first`, in (row, slot) order
    new = np.full(len(row), -1, np.int64)
    tries = np.zeros(len(row), np.int32)
    pending = np.arange(len(row))
    for _ in range(_MAX_TRIES):
        if pending.size == 0:
            break
        cand = rng.integers(0, n, size=pending.size)
        tries[pending] += 1
        r, s = row[pending], slot[pending]
        d = (cand - (r + first)) % n  # ring distance: d = offsets[q] mod n for ring target q
        ring = ((d >= 1) & (d <= half)) | (d >= n - half)
        q = np.where(d <= half, d - 1, half + n - d - 1)
        ok = (d != 0) | autapses
        # a ring target is free once its edge has been rewired, i.e. an earlier rewired slot
        ok &= ~ring | (rewire[r, np.where(ring, q, 0)] & (q < s))
        new[pending[ok]] = cand[ok]
        pending = pending[~ok]

    # rows where the first admissible candidates are not the answer of the sequential rule
    done = new >= 0
    key = row[done] * n + new[done]
    key.sort()
    redo = np.union1d(key[1:][key[1:] == key[:-1]] // n, row[~done])
    post[row[done], slot[done]] = new[done]
    if redo.size:
        start = np.searchsorted(row, redo)
        stop = np.searchsorted(row, redo, side="right")
        for r, a, b in zip(redo.tolist(), start.tolist(), stop.tolist()):
            i = first + r
            current = ((i + offsets) % n).tolist()
            targets = set(current)
            for s, cand, used in zip(slot[a:b].tolist(), new[a:b].tolist(), tries[a:b].tolist()):
                while not (cand >= 0 and cand not in targets and (autapses or cand != i)):
                    if used >= _MAX_TRIES:
                        cand = -1
                        break
                    cand, used = int(rng.integers(n)), used + 1
                if cand >= 0:
                    targets.discard(current[s])
                    targets.add(cand)
                    current[s] = cand
            post[r] = current
    post.sort(axis=1)
    return post


# ---------------------------------------------------------------------------------- connect
def connect(n: int, spec: dict, rng: np.random.Generator, cluster=None, method: str = "auto"):
    """Pairs for a connectivity table from a model file (``network.connectivity``).

    Parameters
    ----------
    n : int
        Number of neurons.
    spec : dict
        The connectivity table. ``kind`` is one of ``none`` (the default), ``all``,
        ``random`` (key ``p``: connection probability of every ordered pair), ``clustered``
        (``p_within``, ``p_between``: probabilities within and between clusters; needs
        ``cluster``) or ``watts_strogatz`` (``k`` ring neighbours, rewiring probability
        ``beta``); ``autapses`` (default False) allows self-connections.
    rng : numpy.random.Generator
        Source of the random draws (the only source: same generator state, same pairs).
    cluster : int array (n,), optional
        Cluster label of every neuron; required for ``clustered``.
    method : {"auto", "dense", "sparse"}
        ``"dense"`` (the original sampler, O(N^2) time), ``"sparse"`` (O(synapses) time and
        memory, same distribution, different random numbers) or ``"auto"``: dense up to
        ``DENSE_MAX_N`` (20,000) neurons, so that every network of that size stays what it
        was for a given seed, sparse above.

    Returns
    -------
    pre, post : int32 arrays (m,)
        Presynaptic and postsynaptic neuron of every synapse, sorted by (pre, post), no
        duplicates.

    Raises
    ------
    ValueError
        For an unknown ``method`` or ``kind``, or ``clustered`` without ``cluster`` labels
        for all n neurons.

    Examples
    --------
    >>> pre, post = connect(5, {"kind": "random", "p": 0.3}, np.random.default_rng(0))
    >>> pre.tolist(), post.tolist()
    ([0, 0, 0, 2, 2, 3, 4, 4], [1, 2, 3, 1, 3, 0, 0, 1])
    >>> pre, post = connect(4, {"kind": "clustered", "p_within": 1.0, "p_between": 0.0},
    ...                     np.random.default_rng(0), cluster=[0, 0, 1, 1])
    >>> pre.tolist(), post.tolist()
    ([0, 1, 2, 3], [1, 0, 3, 2])
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    sparse = method == "sparse" or (method == "auto" and n > DENSE_MAX_N)
    kind = spec.get("kind", "none")
    autapses = bool(spec.get("autapses", False))
    if kind == "none" or n == 0:
        pre = post = np.zeros(0, np.int32)
    elif kind == "all":
        if sparse:
            return _all_pairs(n, autapses)
        pre, post = _bernoulli_rows(n, lambda a, b: 1.1, rng, autapses)
    elif kind == "random":
        p = float(spec["p"])
        if sparse:
            return _bernoulli_blocks(n, np.zeros(n, np.int32), lambda same: p, rng, autapses)
        pre, post = _bernoulli_rows(n, lambda a, b: p, rng, autapses)
    elif kind == "clustered":
        if cluster is None:
            raise ValueError("clustered connectivity needs cluster labels")
        pin, pout = float(spec["p_within"]), float(spec["p_between"])
        cl = np.asarray(cluster)
        if len(cl) != n:
            raise ValueError(f"cluster labels: {len(cl)} labels for {n} neurons")
        if sparse:
            return _bernoulli_blocks(n, cl, lambda same: pin if same else pout, rng, autapses)
        pre, post = _bernoulli_rows(
            n, lambda a, b: np.where(cl[a:b, None] == cl[None, :], pin, pout), rng, autapses)
    elif kind == "watts_strogatz":
        ws = _watts_strogatz_sparse if sparse else _watts_strogatz
        pre, post = ws(n, int(spec["k"]), float(spec["beta"]), rng, autapses)
        if sparse:
            return pre, post
    else:
        raise ValueError(f"unknown connectivity kind {kind!r}")
    order = np.lexsort((post, pre))
    return pre[order], post[order]
