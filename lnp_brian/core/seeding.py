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
    """A NumPy generator for ``purpose`` derived from ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(_key(purpose),)))


def derive_seed(seed: int, purpose: str) -> int:
    """A 31-bit integer seed for ``purpose`` (for engines that take an int, e.g. Brian2)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(_key(purpose),))
    return int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)
