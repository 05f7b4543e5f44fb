"""docs/tutorial.py runs as a user would run it (``python docs/tutorial.py``), writes every
figure it promises, and ends by reporting the dense and the pruned network's counts; and it is
a jupytext percent script that opens as a notebook (checked only where jupytext is installed:
the test suite does not depend on it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.py"
FIGURES = ("tau_m.png", "raster.png", "dynamics.png", "lyapunov.png", "diagnostics.png", "counts.png",
           "eigenvalues.png", "lyapunov_spectra.png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FINAL = re.compile(r"^dense: (\d+) neurons, (\d+) synapses; LNP-pruned: (\d+) neurons, (\d+) synapses$")
TIMEOUT_S = 300  # the run takes about 45 s on 2 busy cores


def test_tutorial_runs_as_a_script_and_writes_its_figures(tmp_path):
    out = tmp_path / "figures"
    env = dict(os.environ, LNP_TUTORIAL_OUT=str(out), MPLBACKEND="Agg")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.pop("LNP_TUTORIAL_DEVICE", None)  # the default backend, as a newcomer runs it
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(TUTORIAL)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    for name in FIGURES:
        path = out / name
        assert path.is_file(), f"{name} missing; written: {sorted(p.name for p in out.glob('*.png'))}"
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_SIGNATURE), f"{name} is not a non-empty PNG"
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    match = FINAL.match(lines[-1])
    assert match, f"last line does not report both networks' counts: {lines[-1]!r}"
    n_dense, m_dense, n_pruned, m_pruned = map(int, match.groups())
    assert n_dense == 150 and 0 < n_pruned < n_dense and 0 < m_pruned < m_dense
    # the schedule removes 30 % of the neurons and 60 % of the synapses, and meets it exactly
    assert n_pruned == round(n_dense * 0.7) and m_pruned == round(m_dense * 0.4)
    print(f"tutorial ran in {wall:.1f} s")


def test_tutorial_is_a_jupytext_notebook():
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(TUTORIAL)
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds.count("markdown") >= 10 and kinds.count("code") >= 10
    assert kinds[0] == "markdown" and nb.cells[0].source.startswith("# Tutorial")
    # no cell still holds a cell marker: the percent format was parsed, not read as one cell
    assert not any("# %%" in cell.source for cell in nb.cells)
