"""Random connectivity: which (pre, post) pairs exist.

Generated in row chunks so memory stays proportional to the number of synapses, never to
N x N. Every function returns ``(pre, post)`` int32 arrays sorted by (pre, post) with no
duplicates and, unless ``autapses`` is set, no self-connections.
"""

from __future__ import annotations

import numpy as np

__all__ = ["connect"]

_CHUNK_CELLS = 4_000_000  # Bernoulli draws held at once


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


def _watts_strogatz(n, k, beta, rng, autapses):
    """Directed Watts-Strogatz: each neuron projects to its k nearest ring neighbours
    (k/2 on each side, k rounded up to even), then each target is rewired with probability
    beta to a uniformly chosen neuron (no duplicates, no self-connections)."""
    half = max(1, (k + 1) // 2)
    offsets = np.concatenate([np.arange(1, half + 1), -np.arange(1, half + 1)])
    pre = np.repeat(np.arange(n), len(offsets))
    post = (pre + np.tile(offsets, n)) % n
    rewire = rng.random(len(pre)) < beta
    targets = [set(post[pre == i]) for i in range(n)] if rewire.any() else None
    for e in np.flatnonzero(rewire):
        i = pre[e]
        for _ in range(100):
            new = int(rng.integers(n))
            if new not in targets[i] and (autapses or new != i):
                targets[i].discard(post[e])
                targets[i].add(new)
                post[e] = new
                break
    keep = (pre != post) | autapses
    return pre[keep].astype(np.int32), post[keep].astype(np.int32)


def connect(n: int, spec: dict, rng: np.random.Generator, cluster=None):
    """Pairs for a connectivity table from a model file (``network.connectivity``).

    Kinds: ``none``, ``all``, ``random`` (p), ``clustered`` (p_within, p_between; needs
    ``cluster`` labels), ``watts_strogatz`` (k, beta).
    """
    kind = spec.get("kind", "none")
    autapses = bool(spec.get("autapses", False))
    if kind == "none" or n == 0:
        pre = post = np.zeros(0, np.int32)
    elif kind == "all":
        pre, post = _bernoulli_rows(n, lambda a, b: 1.1, rng, autapses)
    elif kind == "random":
        p = float(spec["p"])
        pre, post = _bernoulli_rows(n, lambda a, b: p, rng, autapses)
    elif kind == "clustered":
        if cluster is None:
            raise ValueError("clustered connectivity needs cluster labels")
        pin, pout = float(spec["p_within"]), float(spec["p_between"])
        cl = np.asarray(cluster)
        pre, post = _bernoulli_rows(
            n, lambda a, b: np.where(cl[a:b, None] == cl[None, :], pin, pout), rng, autapses)
    elif kind == "watts_strogatz":
        pre, post = _watts_strogatz(n, int(spec["k"]), float(spec["beta"]), rng, autapses)
    else:
        raise ValueError(f"unknown connectivity kind {kind!r}")
    order = np.lexsort((post, pre))
    return pre[order], post[order]
