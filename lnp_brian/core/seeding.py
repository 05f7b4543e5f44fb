"""Named, independent random streams derived from one integer seed.

Every random choice in the package draws from ``rng(seed, "purpose")``: the same seed and
purpose always give the same stream, different purposes give independent streams, and adding
a new purpose never shifts an existing one.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["rng", "derive_seed"]


def _key(purpose: str) -> int:
    return zlib.crc32(purpose.encode("utf-8"))


def rng(seed: int, purpose: str) -> np.random.Generator:
    """A NumPy generator for ``purpose`` derived from ``seed``.

    The same seed and purpose always give the same stream; different purposes give
    independent streams (the purpose's CRC-32 is the spawn key of a
    :class:`numpy.random.SeedSequence`).

    Parameters
    ----------
    seed : int
        The run's master seed.
    purpose : str
        What the stream is for, e.g. ``"weights"`` or ``"connectivity"``.

    Returns
    -------
    numpy.random.Generator
        A fresh generator at the start of the stream.

    Examples
    --------
    >>> g = rng(42, "weights")
    >>> g.integers(0, 10, 5)
    array([4, 1, 9, 8, 7])
    >>> bool((rng(42, "weights").random(3) == rng(42, "weights").random(3)).all())
    True
    """
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(_key(purpose),)))


def derive_seed(seed: int, purpose: str) -> int:
    """A 31-bit integer seed for ``purpose`` (for engines that take an int, e.g. Brian2).

    Parameters
    ----------
    seed : int
        The run's master seed.
    purpose : str
        What the seed is for, e.g. ``"noise"``.

    Returns
    -------
    int
        A seed in ``[0, 2**31)``, the same for the same ``seed`` and ``purpose``.

    Examples
    --------
    >>> derive_seed(42, "noise")
    1638589708
    >>> derive_seed(42, "noise") == derive_seed(42, "delays")
    False
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=(_key(purpose),))
    return int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)
