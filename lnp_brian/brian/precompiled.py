"""A precompiled header of the C++ standard library for ``cpp_standalone`` builds.

Each of the 20-30 translation units of a Brian2 standalone project includes ``objects.h``,
which pulls in ``<iostream>``, ``<random>``, ``<vector>`` and a few more standard headers.
Parsing them is most of the work of compiling a code object: 0.38 s of CPU time for the
state updater of the HRSNN, against 0.13 s when the same headers come precompiled. The code
objects, ``main.o`` and ``network.o`` are byte-identical either way; only ``objects.o`` (array
allocation and file input/output) differs, in register allocation.

:func:`standard_header` compiles those headers once per compiler, flag set and CPU into a
cache, and :func:`~lnp_brian.brian.state.cpp_prefs` adds ``-include <header>`` to the
compiler flags of the build. The header holds only headers that ``objects.h`` already
includes, so no translation unit sees a declaration it would not see anyway. GCC uses the
``.gch`` file only when it was made with compatible options, and otherwise reads the header
as text, so a stale cache costs time and never changes a result.

The cache is ``$LNP_BRIAN_CACHE/pch``, else ``$XDG_CACHE_HOME/lnp_brian/pch``
(``~/.cache/lnp_brian/pch``). Setting ``LNP_BRIAN_PCH=off`` builds without it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ..core.files import cache_root, file_lock

__all__ = ["SWITCH_ENV", "STANDARD_HEADERS", "compiler_version", "standard_header"]

SWITCH_ENV = "LNP_BRIAN_PCH"
#: what Brian2's objects.h and network.h include (every code object includes objects.h)
STANDARD_HEADERS = ("chrono", "climits", "cmath", "ctime", "fstream", "iostream", "random", "set", "utility",
                    "vector")


@functools.lru_cache(maxsize=None)
def compiler_version(compiler: str) -> tuple[str, bytes] | None:
    """Where a compiler is and what ``--version`` prints, asked once per process.

    Parameters
    ----------
    compiler : str
        Command name or path, e.g. ``"g++"``.

    Returns
    -------
    tuple of (str, bytes) or None
        The resolved path and the ``--version`` output; None if the compiler is not found,
        does not start or exits with an error.
    """
    path = shutil.which(compiler)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return (path, out.stdout) if out.returncode == 0 else None


def _cpu_flags() -> bytes:
    try:
        with open("/proc/cpuinfo", "rb") as fh:
            return next((line for line in fh if line.startswith(b"flags")), b"")
    except OSError:
        return b""


def standard_header(flags: list[str], compiler: str | None = None) -> Path | None:
    """The standard-library header, precompiled for ``flags``, made on first use.

    Parameters
    ----------
    flags : list of str
        The code-generation flags of the build (optimisation, ``-march``, ``-std``, ...).
    compiler : str, optional
        The C++ compiler; default ``$CXX``, else ``g++`` (what Brian2's makefile runs).

    Returns
    -------
    Path or None
        The header to pass to ``-include`` (its ``.gch`` lies beside it), or None when
        ``LNP_BRIAN_PCH`` is ``off``, the compiler is not GCC or cannot make the header, or
        the cache path holds a space (the makefile could not quote it).
    """
    if os.environ.get(SWITCH_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return None
    found = compiler_version(compiler or os.environ.get("CXX") or "g++")
    if found is None or b"Free Software Foundation" not in found[1]:
        return None  # clang reads .gch files differently: leave other compilers alone
    path, version = found
    text = "".join(f"#include <{name}>\n" for name in STANDARD_HEADERS)
    key = hashlib.sha256(b"\0".join([path.encode(), version, _cpu_flags(), text.encode(),
                                     "\0".join(flags).encode()])).hexdigest()[:20]
    folder = cache_root() / "pch" / key
    header, gch = folder / "lnp_brian_std.h", folder / "lnp_brian_std.h.gch"
    if " " in str(folder):
        return None
    if gch.exists():
        return header
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / ".lock"):
        if not gch.exists():
            header.write_text(text)
            tmp = folder / f".{gch.name}.{os.getpid()}"
            made = subprocess.run([path, *flags, "-x", "c++-header", str(header), "-o", str(tmp)],
                                  capture_output=True)
            if made.returncode != 0:
                tmp.unlink(missing_ok=True)
                return None
            os.replace(tmp, gch)  # other processes see a whole .gch or none
    return header
