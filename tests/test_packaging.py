"""`pip install .` (not only editable) ships the presets, templates and schema."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("podtools-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("podtools/pipelines/default.toml", "podtools/pipelines/gpu.toml",
                     "podtools/templates/transcript.md.j2", "podtools/schema/episode.schema.json",
                     "podtools/cli/__init__.py"):
        assert required in names, required
    shipped = {n.split("/", 2)[2] for n in names if n.startswith("podtools/templates/") and not n.endswith(".py")}
    in_repo = {str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*")
               if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    assert in_repo <= shipped, in_repo - shipped
    entry = [n for n in names if n.endswith("entry_points.txt")]
    assert "podtools = podtools.cli:main" in zipfile.ZipFile(wheel).read(entry[0]).decode()
