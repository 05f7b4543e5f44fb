"""A non-editable install (pip install .) still finds the shipped models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_installed_copy_finds_shipped_models(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(ROOT)], check=True, capture_output=True, cwd=tmp_path)
    assert (target / "lnp_brian" / "models" / "hrsnn.toml").exists()
    code = ("import lnp_brian, sys; assert lnp_brian.__file__.startswith(sys.argv[1]), lnp_brian.__file__; "
            "names = lnp_brian.shipped_models(); print(' '.join(names)); "
            "lnp_brian.build_network('hrsnn', n=50, seed=0)")
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", code, str(target)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    assert {"hrsnn", "mrsnn", "chrsnn", "lorenz63"} <= set(out.split())
