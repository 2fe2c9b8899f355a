"""Real human voices for diarization: the conversations of ``shared/realspeech`` with their
reference RTTM, split once into a set that settings were tuned on and a set that was never
looked at while tuning (held out), so a number on the second says something about new voices.

The folder is found at ``$PODTOOLS_REALSPEECH`` or ``../shared/realspeech`` beside the
repository (where CI has it).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Tuned on (thresholds, smoothing, count rules were chosen looking at these) ...
TUNE = ("dev2a", "dev3a", "dev4a", "dev5", "host2guests")
# ... and never looked at while choosing them.
HELD_OUT = ("dev2b", "dev3b", "dev4b", "dev6")


def folder() -> Path | None:
    path = Path(os.environ.get("PODTOOLS_REALSPEECH") or ROOT.parent / "shared" / "realspeech")
    return path if (path / "dev.rttm").is_file() else None


@functools.lru_cache(maxsize=None)
def references() -> dict:
    from pyannote.database.util import load_rttm

    return load_rttm(str(folder() / "dev.rttm"))


@functools.lru_cache(maxsize=None)
def audio(name: str):
    """16 kHz mono float32 samples of ``name`` (without extension) or a file name."""
    from podtools.audio import decode

    path = folder() / (name if "." in name else f"{name}.mp3")
    return decode(path)


@dataclass
class Score:
    name: str
    der: float  # collar 0.25 s, overlap not scored
    der_overlap: float  # collar 0.25 s, overlap scored
    speakers: int
    reference: int
    total: float  # reference speech, seconds (the weight of this file in a total DER)
    detail: dict

    @property
    def right_count(self) -> bool:
        return self.speakers == self.reference


def score(name: str, hypothesis) -> Score:
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref = references()[name]
    metric = DiarizationErrorRate(collar=0.25, skip_overlap=True)
    detail = metric(ref, hypothesis, detailed=True)
    with_overlap = DiarizationErrorRate(collar=0.25, skip_overlap=False)(ref, hypothesis)
    return Score(name, detail["diarization error rate"], with_overlap, len(hypothesis.labels()),
                 len(ref.labels()), detail["total"], detail)


def total_der(scores: list[Score]) -> float:
    """DER over a set: errors summed over files, divided by the summed reference speech."""
    errors = sum(s.detail["confusion"] + s.detail["missed detection"] + s.detail["false alarm"] for s in scores)
    return errors / max(sum(s.total for s in scores), 1e-9)
