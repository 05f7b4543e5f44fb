"""Atomic writes: a file is either its old version or its complete new version, never half."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "atomic_savez", "write_json", "read_json", "json_text", "json_default"]


def atomic_write(path, write) -> Path:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it over."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def atomic_savez(path, data: dict) -> Path:
    """``np.savez_compressed`` of plain arrays (readable with ``allow_pickle=False``)."""
    return atomic_write(path, lambda fh: np.savez_compressed(fh, **data))


def json_text(obj) -> str:
    """The text write_json writes (NumPy values as plain numbers and lists, paths as strings)."""
    return json.dumps(obj, indent=2, sort_keys=False, default=json_default) + "\n"


def write_json(path, obj) -> Path:
    text = json_text(obj)
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)
