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
