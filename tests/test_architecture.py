"""The layout's rules, checked on the source: data flows one way through the layers (each
folder of lnp_brian is one layer and imports only from its own folder and lower layers), the
module import graph has no cycle, no module imports another's private names, and importing the
package or its command-line parser loads neither Brian2 nor scikit-learn."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1] / "lnp_brian"
#: lowest first; a layer may import from its own folder and from layers before it
LAYERS = ["core", "brian", "model", "network", "simulation", ("lyapunov", "graph", "tasks"), "pruning", "report",
          "experiment", "cli"]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in ((layer,) if isinstance(layer, str) else layer)}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _type_checking_lines(tree) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, child.end_lineno + 1))
    return lines


def _imports(module: str, path: Path, modules: dict) -> list[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every import of lnp_brian code in the
    file, at any depth (functions included), except those only for type checkers."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("lnp_brian"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub, "", node.lineno) if sub in modules else (target, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names if a.name.startswith("lnp_brian")]
    return out


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else None


MODULES = _modules()
EDGES = [(src, dst, name, line) for src, path in MODULES.items() for dst, name, line in _imports(src, path, MODULES)]


def test_every_folder_is_a_known_layer():
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(RANK), folders ^ set(RANK)
    assert not [m for m in MODULES if m.count(".") == 1 and m.split(".")[1] not in RANK]  # no flat modules


def test_imports_go_to_the_same_or_a_lower_layer():
    bad = []
    for src, dst, name, line in EDGES:
        if src == "lnp_brian":  # the lazy public API may name anything
            continue
        a, b = _layer(src), _layer(dst)
        if b is None or (a != b and RANK[b] >= RANK[a]):
            bad.append(f"{src}:{line} imports {dst}{'.' + name if name else ''}")
    assert not bad, "\n".join(bad)


def test_no_private_names_across_modules():
    bad = [f"{src}:{line} imports {dst}.{name}" for src, dst, name, line in EDGES
           if name.startswith("_") and not name.startswith("__") and src != dst]
    assert not bad, "\n".join(bad)


def test_the_module_graph_has_no_cycle():
    graph = nx.DiGraph((src, dst) for src, dst, _, _ in EDGES if src != "lnp_brian" and dst in MODULES and src != dst)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, cycles[:5]


def test_rules_catch_a_violation(tmp_path):
    """The checks above are not vacuous: an upward and a private import are both seen."""
    src = tmp_path / "x.py"
    src.write_text("from ..pruning.pruner import Pruner\nfrom .spectrum import _random\n")
    found = _imports("lnp_brian.lyapunov.x", src, MODULES)
    assert ("lnp_brian.pruning.pruner", "Pruner", 1) in found and ("lnp_brian.lyapunov.spectrum", "_random", 2) in found
    assert RANK[_layer("lnp_brian.pruning.pruner")] > RANK[_layer("lnp_brian.lyapunov.x")]


@pytest.mark.parametrize("code", ["import lnp_brian", "from lnp_brian.cli.main import build_parser; build_parser()",
                                  "import lnp_brian.pruning.config"])
def test_light_imports_do_not_load_brian2_or_sklearn(code):
    check = f"{code}; import sys; print(sorted(m for m in ('brian2', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
