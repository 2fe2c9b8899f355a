"""The floors of the code (DESIGN.md, issue 12): import contracts in setup.cfg, checked by
import-linter on the installed source, so that a stage importing the pipeline (or the ground floor
importing a stage) fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import podtools
from podtools.models import Episode

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


def test_no_import_circle_between_any_two_modules():
    """Not even inside a package: no module imports, directly or through others, a module that
    imports it back (function-local imports counted; imports only for type checkers are not)."""
    import grimp

    graph = grimp.build_graph("podtools", exclude_type_checking_imports=True)
    edges = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    assert _cycles(edges) == []


def test_every_stage_has_one_shape():
    """Each stage package's ``stage.py`` has one entry point, ``<stage>_stage(episode, options,
    progress, *, inputs...) -> Episode``, whose provenance is the stage's name."""
    import importlib
    import inspect

    found = {}
    for path in sorted(Path(podtools.__file__).parent.glob("*/stage.py")):
        module = importlib.import_module(f"podtools.{path.parent.name}.stage")
        entry = [name for name, fn in vars(module).items()
                 if name.endswith("_stage") and inspect.isfunction(fn) and fn.__module__ == module.__name__]
        assert len(entry) == 1, (path, entry)
        found[entry[0]] = getattr(module, entry[0])
    assert set(found) == {"transcribe_stage", "diarize_stage", "chapters_stage", "mentions_stage", "summarize_stage"}
    for name, fn in found.items():
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        assert [p.name for p in params[:3]] == ["episode", "options", "progress"], name
        assert params[2].default is None, name
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[3:]), name
        assert sig.return_annotation in ("Episode", Episode), name
