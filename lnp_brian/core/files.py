"""Files: atomic writes (a file is either its old version or its complete new version, never
half), JSON with numpy values, a lock between processes, and the package's cache folder."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "atomic_savez", "write_json", "read_json", "json_text", "json_default", "file_lock",
           "CACHE_ENV", "cache_root"]


def atomic_write(path, write) -> Path:
    """Write a file atomically through a callback.

    ``write(fileobj)`` fills a temporary file beside ``path``; the file is flushed to disk and
    then renamed over ``path``, so a reader (or a crash) sees either the old file or the
    complete new one, never half of it. The temporary file is removed if ``write`` fails.

    Parameters
    ----------
    path : str or Path
        The file to write; missing parent directories are created.
    write : callable
        Called once with the open temporary file (binary mode); it writes the content.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.
    """
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
    """Save arrays with ``np.savez_compressed``, atomically.

    Plain (non-object) arrays keep the file readable with ``np.load(path, allow_pickle=False)``.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file to write.
    data : dict of str to array_like
        The arrays, by name.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.
    """
    return atomic_write(path, lambda fh: np.savez_compressed(fh, **data))


def json_text(obj) -> str:
    """The JSON text :func:`write_json` writes for ``obj``.

    Indented by two spaces, keys in their given order, a final newline; NumPy values become
    plain numbers and lists, paths strings (see :func:`json_default`).

    Parameters
    ----------
    obj : object
        A JSON-serialisable value, possibly holding NumPy scalars, arrays or paths.

    Returns
    -------
    str
        The JSON text, ending with a newline.

    Examples
    --------
    >>> import numpy as np
    >>> print(json_text({"rate": np.float64(2.5), "idx": np.arange(2)}))
    {
      "rate": 2.5,
      "idx": [
        0,
        1
      ]
    }
    <BLANKLINE>
    """
    return json.dumps(obj, indent=2, sort_keys=False, default=json_default) + "\n"


def write_json(path, obj) -> Path:
    """Write ``obj`` as JSON to ``path``, atomically (the text of :func:`json_text`).

    Parameters
    ----------
    path : str or Path
        The file to write; missing parent directories are created.
    obj : object
        A JSON-serialisable value, possibly holding NumPy scalars, arrays or paths.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.
    """
    text = json_text(obj)
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def read_json(path):
    """Read a JSON file (UTF-8).

    Parameters
    ----------
    path : str or Path
        The file to read.

    Returns
    -------
    object
        The decoded value (dict, list, str, number, bool or None).
    """
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def json_default(obj):
    """Convert a value the ``json`` module cannot write (its ``default`` hook).

    NumPy scalars become Python numbers, arrays nested lists, and anything else
    (paths included) its ``str``.

    Parameters
    ----------
    obj : object
        The value ``json.dumps`` could not serialise.

    Returns
    -------
    object
        A JSON-serialisable replacement.

    Examples
    --------
    >>> import numpy as np
    >>> from pathlib import Path
    >>> json_default(np.int64(3)), json_default(np.array([1.0, 2.0])), json_default(Path("runs/a"))
    (3, [1.0, 2.0], 'runs/a')
    """
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


@contextmanager
def file_lock(path: Path):
    """Hold an exclusive lock on ``path`` for the block.

    One process builds a shared build directory at a time (``fcntl.flock``, so the lock
    is released if the process dies).

    Parameters
    ----------
    path : str or Path
        The lock file (created, or truncated if it exists).
    """
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


#: environment variable naming the folder of the package's caches (default ~/.cache/lnp_brian)
CACHE_ENV = "LNP_BRIAN_CACHE"


def cache_root(environ=None) -> Path:
    """The package's cache folder for compiled artefacts.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read (default: ``os.environ``).

    Returns
    -------
    Path
        ``$LNP_BRIAN_CACHE`` if set, else ``$XDG_CACHE_HOME/lnp_brian`` (``~/.cache/lnp_brian``
        when ``XDG_CACHE_HOME`` is unset).

    Examples
    --------
    >>> cache_root({"LNP_BRIAN_CACHE": "/tmp/lnp_cache"})
    PosixPath('/tmp/lnp_cache')
    >>> cache_root({"XDG_CACHE_HOME": "/var/cache"})
    PosixPath('/var/cache/lnp_brian')
    """
    environ = os.environ if environ is None else environ
    value = environ.get(CACHE_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lnp_brian"
