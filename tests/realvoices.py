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


def overlapped(name: str, seed: int = 0, share: float = 0.5, lengths: tuple[float, float] = (0.6, 1.6)):
    """A conversation of ``name`` re-laid with people talking over each other: at ``share`` of
    the changes of speaker the next person starts ``lengths`` seconds before the previous one
    stops (the two voices mixed); elsewhere the original pause. Returns (16 kHz audio, the
    reference Annotation with the overlaps)."""
    import random

    import numpy as np
    from pyannote.core import Annotation, Segment

    rng = random.Random(seed)
    x = audio(name)
    ref = references()[name]
    turns = sorted((s.start, s.end, label) for s, _, label in ref.itertracks(yield_label=True))
    out = np.zeros(len(x) + 16000, np.float32)
    hyp = Annotation()
    cursor = turns[0][0]
    for i, (s, e, label) in enumerate(turns):
        if i:
            pause = s - turns[i - 1][1]
            cursor += -rng.uniform(*lengths) if rng.random() < share else pause
            cursor = max(cursor, hyp.get_timeline().extent().start if len(hyp) else 0.0)
        piece = x[int(s * 16000):int(e * 16000)]
        a = int(cursor * 16000)
        out[a:a + len(piece)] += piece
        hyp[Segment(cursor, cursor + len(piece) / 16000)] = label
        cursor += len(piece) / 16000
    out = out[: int((cursor + 0.5) * 16000)]
    peak = float(np.abs(out).max())
    return (out * (0.99 / peak) if peak > 0.99 else out), hyp  # two voices summed can clip
