"""Run directories: one folder per run with its config, seeds, versions, results and log.

Writes are atomic; a folder that already holds a run (``run.json``) is never overwritten
unless asked.
"""

from __future__ import annotations

import datetime as _dt
import logging
import shutil
import sys
import time
from pathlib import Path

from .files import read_json, write_json

__all__ = ["RunDir", "RunExistsError"]


class RunExistsError(FileExistsError):
    """The output directory already holds a run."""


class RunDir:
    """An output directory for one run.

    Parameters
    ----------
    path : path
        The directory (created if missing).
    overwrite : bool
        Replace an earlier run's files there (compiled builds, ``build*`` folders, are kept for
        re-use). Otherwise a directory holding ``run.json`` raises :class:`RunExistsError` and
        nothing is touched.
    resume : bool
        Continue the run in the directory: nothing is deleted and its run.json is carried on.
    """

    MARKER = "run.json"

    def __init__(self, path, *, overwrite: bool = False, resume: bool = False, command: str = "", argv=None):
        self.path = Path(path)
        marker = self.path / self.MARKER
        previous = read_json(marker) if (resume and marker.exists()) else None
        if marker.exists() and not (overwrite or resume):
            raise RunExistsError(f"{self.path} already holds a run ({self.MARKER}); "
                                 "choose another --out, pass --overwrite, or --resume where supported")
        if marker.exists() and not resume:
            for child in self.path.iterdir():
                if child.is_dir() and not child.name.startswith("build"):
                    shutil.rmtree(child)
                elif child.is_file():
                    child.unlink()
        self.path.mkdir(parents=True, exist_ok=True)
        self.started = time.perf_counter()
        self.info = {"command": command, "argv": list(sys.argv if argv is None else argv),
                     "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                     "status": "running", "wall_seconds": {}}
        if previous is not None:
            self.info = {**previous, "status": "running", "argv": self.info["argv"],
                         "resumed": previous.get("resumed", 0) + 1}
        self.logger = logging.getLogger(f"lnp_brian.run.{id(self)}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        self._handler = logging.FileHandler(self.path / "run.log", mode="a", encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        self.logger.addHandler(self._handler)

    def file(self, name: str) -> Path:
        return self.path / name

    def log(self, message: str, *, echo: bool = True) -> None:
        """Write to run.log and (by default) to stderr: progress the user sees."""
        self.logger.info(message)
        if echo:
            print(message, file=sys.stderr, flush=True)

    def timed(self, label: str):
        """Context manager recording the wall time of a step under ``wall_seconds``."""
        run = self

        class _Timer:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                run.info["wall_seconds"][label] = round(time.perf_counter() - self.t0, 4)

        return _Timer()

    def update(self, **fields) -> None:
        self.info.update(fields)

    def write(self, status: str = "complete") -> Path:
        """Write run.json (atomically) with everything recorded so far."""
        self.info["status"] = status
        self.info["wall_seconds"]["total"] = round(time.perf_counter() - self.started, 4)
        path = write_json(self.path / self.MARKER, self.info)
        return path

    def close(self) -> None:
        self.logger.removeHandler(self._handler)
        self._handler.close()

    @staticmethod
    def read(path) -> dict:
        return read_json(Path(path) / RunDir.MARKER)
