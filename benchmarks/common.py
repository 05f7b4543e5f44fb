"""Shared by the benchmarks: the machine description and results.json."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def machine() -> dict:
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import lnp_brian

    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "versions": lnp_brian.versions()}


def save_section(name: str, data: dict) -> None:
    """Replace one benchmark's section of results.json, keeping the others."""
    from lnp_brian.core.files import write_json

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[name] = data
    write_json(RESULTS, results)
