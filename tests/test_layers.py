"""The floors of the code (DESIGN.md, issue 12): import contracts in setup.cfg, checked by
import-linter on the installed source, so that a stage importing the pipeline (or the ground floor
importing a stage) fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), str(ROOT / "setup.cfg")], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    contracts = (ROOT / "setup.cfg").read_text().count("[importlinter:contract:")
    assert contracts >= 4 and f"Contracts: {contracts} kept, 0 broken." in result.stdout


def test_a_broken_contract_is_caught(tmp_path):
    """The checker sees function-local imports too: a ground-floor module that imported the
    pipeline inside a function would break the contract."""
    pkg = tmp_path / "podtools_probe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text("def f():\n    from . import pipeline  # a ground floor reaching up\n")
    (pkg / "pipeline.py").write_text("")
    cfg = tmp_path / "contracts.cfg"
    cfg.write_text("[importlinter]\nroot_package = podtools_probe\n\n[importlinter:contract:x]\nname = ground\n"
                   "type = forbidden\nsource_modules =\n    podtools_probe.models\nforbidden_modules =\n"
                   "    podtools_probe.pipeline\n")
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), str(cfg)], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0 and "BROKEN" in result.stdout


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_between_podtools_modules():
    """No circle between podtools' top-level modules and packages (function-local imports
    counted). Inside a package, the package's __init__ may still import its own parts."""
    import grimp

    graph = grimp.build_graph("podtools")

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if top(module) != top(imported):
                edges.setdefault(top(module), set()).add(top(imported))
    assert _cycles(edges) == []
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]  # the check can fail
