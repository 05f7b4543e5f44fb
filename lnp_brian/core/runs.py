"""Run directories: one folder per run with its config, seeds, versions, results and log.

Rules that keep the user's files safe:

- A new run goes into a missing or empty directory, or into one that holds only an earlier
  run of this tool. A directory holding anything else is refused before anything is written.
- Every file or folder a run writes is named through :meth:`RunDir.file` and recorded in the
  manifest of ``run.json`` (with the process id and host while it runs). ``--overwrite``
  removes exactly those entries (compiled ``build*`` folders are kept for re-use) and refuses
  when the directory holds anything the manifest does not name.
- A *failed* earlier run is replaced without ``--overwrite``; a complete, incomplete or
  interrupted one is kept unless asked (an interrupted one can be continued with ``--resume``).
- Used as a context manager, a run that ends in an exception is recorded as ``failed``, one
  ended by Ctrl-C (``KeyboardInterrupt``) as ``interrupted``; only :meth:`RunDir.write` with
  ``"complete"`` marks it complete. Writes are atomic.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import shutil
import socket
import sys
import time
from pathlib import Path

from .files import read_json, write_json

__all__ = ["RunDir", "RunExistsError", "RunDirError", "check_out_dir"]

_OWN_TEMP = re.compile(r"^\..+\.tmp$")  # atomic_write's temporary files
_KEEP_ON_OVERWRITE = re.compile(r"^build")  # compiled projects are re-used
_ALWAYS_OURS = ("run.json", "run.log")


class RunExistsError(FileExistsError):
    """The output directory already holds a run (or files this tool did not write)."""


class RunDirError(ValueError):
    """The output directory cannot be used (a file, unwritable, not ours)."""


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


def _listing(names, limit: int = 5) -> str:
    names = sorted(names)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_out_dir(path, *, option: str = "--out") -> Path:
    """Check that ``path`` can hold a run directory, without creating anything.

    The path must be given (not empty), must not be a file or lie under a file, and its
    nearest existing folder must be writable. Whether the directory already holds a run is
    checked later, by :class:`RunDir`.

    Parameters
    ----------
    path : str or Path
        The run directory (it need not exist yet).
    option : str, optional
        How the directory was given, for messages (default ``"--out"``).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    RunDirError
        The path is empty, is a file, lies under a file, or cannot be written.
    """
    if path is None or str(path).strip() == "":
        raise RunDirError(f"{option}: expected a directory path, got {str(path)!r}")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{option} {path}: is a file, not a directory")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise RunDirError(f"{option} {path}: {parent} is a file, so no directory can be made under it")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunDirError(f"{option} {path}: {parent} is not writable")
    return path


class RunDir:
    """An output directory for one run.

    Parameters
    ----------
    path : str or Path
        The directory (created if missing).
    overwrite : bool
        Replace an earlier run's files there (compiled builds, ``build*`` folders, are kept for
        re-use). Refused, with nothing removed, when the directory holds files the earlier
        run's manifest does not name.
    resume : bool
        Continue the run in the directory: nothing is deleted and its run.json is carried on.
    command : str
        The subcommand, recorded in run.json.
    argv : list of str, optional
        The command line, recorded in run.json (default ``sys.argv``).
    option : str
        How the directory was given, for messages (default ``"--out"``).

    Raises
    ------
    RunExistsError
        The directory holds a run that may not be replaced, or files this tool did not write.
    RunDirError
        The path is a file, lies under a file, or cannot be written.
    """

    MARKER = "run.json"

    def __init__(self, path, *, overwrite: bool = False, resume: bool = False, command: str = "",
                 argv=None, option: str = "--out"):
        self.path = check_out_dir(path, option=option)
        self.option = option
        previous, kept = self._prepare(overwrite, resume)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(f"{option} {self.path}: cannot create the directory: {exc.strerror}") from None
        self.started = time.perf_counter()
        self.manifest: list[str] = []
        self.info = {"command": command, "argv": list(sys.argv if argv is None else argv),
                     "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                     "status": "running", "wall_seconds": {}}
        if previous is not None:
            self.manifest = list(previous.get("manifest", []))
            self.info = {**previous, "status": "running", "argv": self.info["argv"],
                         "resumed": previous.get("resumed", 0) + 1}
        self.info.update(pid=os.getpid(), host=socket.gethostname())
        for name in (*_ALWAYS_OURS, *kept):
            self._register(name)
        self.logger = logging.getLogger(f"lnp_brian.run.{id(self)}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        self._handler = logging.FileHandler(self.path / "run.log", mode="a", encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        self.logger.addHandler(self._handler)
        self._closed = False

    # ------------------------------------------------------------------ safety
    def _prepare(self, overwrite: bool, resume: bool):
        """Check the directory; remove an earlier run's files where allowed. Returns the
        earlier run.json to carry on (resume) or None, and the names kept from an earlier run."""
        if not self.path.exists():
            return None, []
        entries = {p.name for p in self.path.iterdir()}
        marker = self.path / self.MARKER
        where = f"{self.option} {self.path}"
        if self.MARKER not in entries:
            foreign = {e for e in entries if not _OWN_TEMP.match(e)}
            if foreign:
                raise RunExistsError(f"{where}: holds files lnp-brian did not write ({_listing(foreign)}); "
                                     "nothing was changed. Choose a new or empty directory")
            return None, []
        try:
            previous = read_json(marker)
            if not isinstance(previous, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise RunExistsError(f"{marker}: cannot be read as a run record ({exc}); nothing was changed. "
                                 "Choose another directory") from None
        status = previous.get("status")
        if status == "running" and previous.get("host") == socket.gethostname() \
                and previous.get("pid") != os.getpid() and _pid_alive(previous.get("pid")):
            raise RunExistsError(f"{where}: a run is in progress there (process {previous['pid']}); "
                                 "wait for it or choose another directory")
        if resume:
            return previous, []
        if status not in ("failed",) and not overwrite:
            hint = "--resume to continue it, --overwrite to replace it" if status in ("interrupted", "running") \
                else "--overwrite to replace it"
            raise RunExistsError(f"{where}: already holds a run ({self.MARKER}, status {status!r}); "
                                 f"choose another {self.option}, or pass {hint}")
        ours = set(previous.get("manifest", [])) | set(_ALWAYS_OURS)
        if "manifest" not in previous:  # written before manifests: its file list and builds
            ours |= {str(f).rstrip("/") for f in previous.get("files", [])}
            ours |= {e for e in entries if _KEEP_ON_OVERWRITE.match(e) or e == "checkpoints"}
        foreign = {e for e in entries if e not in ours and not _OWN_TEMP.match(e)}
        if foreign:
            raise RunExistsError(f"{where}: holds files the earlier run did not write ({_listing(foreign)}); "
                                 "nothing was removed. Move them or choose another directory")
        kept = []
        for name in sorted(entries):
            if _KEEP_ON_OVERWRITE.match(name) or name == self.MARKER:
                kept.append(name)
                continue
            child = self.path / name
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        return None, kept

    def _register(self, name: str) -> None:
        top = Path(name).parts[0]
        if top not in self.manifest:
            self.manifest.append(top)

    # ------------------------------------------------------------------ use
    def file(self, name: str) -> Path:
        """The path of ``name`` in the run directory, recorded in the manifest.

        Every file or folder a run writes is named through this method, so that
        ``--overwrite`` may remove it later (the top-level entry of ``name`` is recorded).

        Parameters
        ----------
        name : str
            File or folder name relative to the run directory, e.g. ``"spikes.npz"``.

        Returns
        -------
        Path
            The path inside the run directory (nothing is created).
        """
        self._register(name)
        return self.path / name

    def log(self, message: str, *, echo: bool = True) -> None:
        """Write a progress message to run.log and, by default, to stderr.

        Parameters
        ----------
        message : str
            The line to log.
        echo : bool, optional
            Also print it to stderr, where the user sees it (default True).
        """
        self.logger.info(message)
        if echo:
            print(message, file=sys.stderr, flush=True)

    def timed(self, label: str):
        """Context manager recording the wall time of a step under ``wall_seconds``.

        Parameters
        ----------
        label : str
            Name of the step, the key in run.json's ``wall_seconds``.

        Returns
        -------
        context manager
            Use as ``with run.timed("build"): ...``; on exit the elapsed time in seconds is
            stored (written with the next :meth:`write`).
        """
        run = self

        class _Timer:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                run.info["wall_seconds"][label] = round(time.perf_counter() - self.t0, 4)

        return _Timer()

    def update(self, **fields) -> None:
        """Record extra fields in run.json (written with the next :meth:`write`).

        Parameters
        ----------
        **fields
            JSON-serialisable values by key, e.g. ``seed=1``; existing keys are replaced.
        """
        self.info.update(fields)

    def write(self, status: str = "running") -> Path:
        """Write run.json (atomically) with everything recorded so far and ``status``.

        Parameters
        ----------
        status : str, optional
            The run's status: ``"running"`` (default), ``"complete"``, ``"failed"`` or
            ``"interrupted"``. Only ``"complete"`` marks the run complete.

        Returns
        -------
        Path
            The path of run.json.
        """
        self.info["status"] = status
        self.info["manifest"] = list(self.manifest)
        self.info["wall_seconds"]["total"] = round(time.perf_counter() - self.started, 4)
        return write_json(self.path / self.MARKER, self.info)

    def close(self) -> None:
        """Close run.log (called on leaving the ``with`` block; safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self.logger.removeHandler(self._handler)
        self._handler.close()

    def __enter__(self):
        self.write("running")
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None:
                status = "interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed"
                if status == "interrupted":
                    self.log("interrupted: partial results are not marked complete", echo=False)
                try:
                    self.write(status)
                except OSError:  # e.g. disk full: the earlier run.json stays intact
                    pass
        finally:
            self.close()
        return False

    @staticmethod
    def read(path) -> dict:
        """Read the run.json of a run directory.

        Parameters
        ----------
        path : str or Path
            The run directory.

        Returns
        -------
        dict
            The run record: command, argv, status, manifest, ``wall_seconds`` and the fields
            added with :meth:`update`.
        """
        return read_json(Path(path) / RunDir.MARKER)
