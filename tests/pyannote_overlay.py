"""pyannote.audio for the tests, beside the project's CPU torch, without touching .venv.

    .venv/bin/python tests/pyannote_overlay.py     (README's test command runs it)

pyannote.audio imports torchaudio, and the torchaudio wheels on PyPI are CUDA builds whose
compiled extension does not load beside torch 2.13.0+cpu. pyannote needs only torchaudio's
Python part (resampling, Kaldi filterbanks), and torchaudio imports without its extension when
the library files are absent. So pyannote.audio and what it needs beyond .venv are installed
into a folder of their own (``.pyannote-overlay``), torchaudio's libraries are left out, and the
tests run podtools there with ``PYTHONPATH=.pyannote-overlay``: the fallback tests keep a .venv
without pyannote, and the pyannote tests run pyannote.audio's own pipeline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OVERLAY = ROOT / ".pyannote-overlay"
REQUIREMENTS = ("pyannote.audio==4.0.7", "onnx>=1.16", "onnxruntime>=1.18")
MARKER = OVERLAY / "podtools-overlay.json"


def ready() -> bool:
    try:
        return json.loads(MARKER.read_text()).get("requirements") == list(REQUIREMENTS)
    except (OSError, ValueError):
        return False


def build() -> Path:
    """Install the overlay (what pip would add to this interpreter's environment, no more)."""
    if ready():
        return OVERLAY
    report = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", *REQUIREMENTS],
        check=True, capture_output=True, text=True,
    ).stdout
    pins = [f"{p['metadata']['name']}=={p['metadata']['version']}" for p in json.loads(report)["install"]]
    torch_pins = [p for p in pins if p.lower().startswith("torch==")]
    if torch_pins:
        raise SystemExit(f"pyannote overlay: pip wants to replace torch ({torch_pins[0]}); install torch==2.13.0 first")
    shutil.rmtree(OVERLAY, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(OVERLAY), *pins],
                   check=True)
    for lib in (OVERLAY / "torchaudio" / "lib").glob("*.so"):  # CUDA-linked: torchaudio imports without them
        lib.unlink()
    MARKER.write_text(json.dumps({"requirements": list(REQUIREMENTS), "installed": pins}, indent=1))
    return OVERLAY


def env() -> dict[str, str]:
    """The environment of a podtools process that sees the overlay (offline, no telemetry)."""
    path = os.pathsep.join(p for p in (str(OVERLAY), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "false"}


if __name__ == "__main__":
    print(f"pyannote overlay: {build()}")
