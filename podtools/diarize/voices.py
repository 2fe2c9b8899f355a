"""A library of known voices: a show's hosts named on every episode by their voice.

A voice is a name and a voiceprint: the mean of the speaker encoder's embeddings of up to a
minute of that person's speech (L2-normalized). Only embeddings are stored, never audio, in
``voices.json`` inside the library folder (``--voices DIR``, ``$PODTOOLS_VOICES_DIR``, else the
user data folder). The file records the encoder that made the prints; a library made by another
encoder is refused, never compared.

After diarization each speaker's voiceprint is compared with every voice (cosine similarity);
speakers and voices are paired one to one (Hungarian assignment on the similarities), and a
pair at or above the threshold names the speaker (``name_source = "matched"``, with the score).
The threshold is calibrated on real voices (benchmarks/diarize.py prints the false-accept and
false-reject rates).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import numpy as np

from ..audio import SAMPLE_RATE
from ..errors import InputError
from ..fsutil import atomic_write_text
from .cluster import _normalize
from .embed import embed_windows
from .vad import speech_regions

if TYPE_CHECKING:  # pragma: no cover
    from .encoders import Encoder

log = logging.getLogger("podtools.diarize")

LIBRARY_FILE = "voices.json"
LIBRARY_FORMAT = 1
MIN_SPEECH = 5.0  # seconds of speech needed to enroll a voice
PRINT_SPEECH = 60.0  # at most this much speech per voiceprint (longest turns first)
# cosine similarity at or above which a speaker is a known voice, per encoder (calibrated on the
# real-voice development set; benchmarks/diarize.py prints false accepts and rejects)
MATCH_THRESHOLDS = {"campplus": 0.8, "resemblyzer": 0.9}


def default_dir() -> Path:
    env = os.environ.get("PODTOOLS_VOICES_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("podtools")) / "voices"


@dataclass
class Voice:
    name: str
    embedding: np.ndarray  # (dim,) float32, L2-normalized
    seconds: float  # speech the print was made from
    sources: list[str] = field(default_factory=list)
    added: str = ""

    def to_json(self) -> dict:
        return {"name": self.name, "seconds": round(self.seconds, 2), "sources": self.sources, "added": self.added,
                "embedding": [round(float(x), 6) for x in self.embedding]}


@dataclass
class Match:
    name: str
    score: float


class VoiceLibrary:
    """The voices in one folder. ``load`` reads it (an absent folder is an empty library);
    ``save`` writes it atomically."""

    def __init__(self, folder: Path, encoder: str | None, voices: list[Voice]):
        self.folder = folder
        self.encoder = encoder  # None until the first voice is added
        self.voices = voices

    @property
    def path(self) -> Path:
        return self.folder / LIBRARY_FILE

    @classmethod
    def load(cls, folder: str | Path | None = None) -> "VoiceLibrary":
        folder = Path(folder).expanduser() if folder else default_dir()
        if folder.exists() and not folder.is_dir():
            raise InputError("the voice library must be a folder, not a file", folder)
        path = folder / LIBRARY_FILE
        if not path.exists():
            return cls(folder, None, [])
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"voice library is unreadable or not JSON ({type(exc).__name__})", path) from None
        if not isinstance(raw, dict) or raw.get("format") != LIBRARY_FORMAT or not isinstance(raw.get("voices"), list):
            raise InputError(f"not a podtools voice library (expected format {LIBRARY_FORMAT})", path)
        encoder, dim = raw.get("encoder"), raw.get("dim")
        if raw["voices"] and encoder not in MATCH_THRESHOLDS:
            raise InputError(f"voice library made with the speaker encoder {encoder!r}, which this podtools does "
                             f"not have ({', '.join(MATCH_THRESHOLDS)}); its voiceprints cannot be compared", path)
        voices = []
        for i, v in enumerate(raw["voices"]):
            try:
                emb = np.asarray(v["embedding"], dtype=np.float32)
                name = str(v["name"]).strip()
                if emb.shape != (dim,) or not np.all(np.isfinite(emb)) or not name:
                    raise ValueError
                voices.append(Voice(name, _normalize(emb), float(v.get("seconds", 0.0)),
                                    [str(s) for s in v.get("sources", [])], str(v.get("added", ""))))
            except (KeyError, TypeError, ValueError):
                raise InputError(f"voice library entry {i + 1} is damaged (name and a {dim}-number embedding "
                                 "expected)", path) from None
        return cls(folder, encoder, voices)

    def save(self) -> Path:
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError("the voice library must be a folder, not a file", self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        dim = len(self.voices[0].embedding) if self.voices else None
        doc = {"format": LIBRARY_FORMAT, "encoder": self.encoder, "dim": dim,
               "voices": [v.to_json() for v in self.voices]}
        return atomic_write_text(self.path, json.dumps(doc, indent=1) + "\n")

    def check_encoder(self, encoder: str) -> None:
        if self.encoder and self.encoder != encoder:
            raise InputError(f"the voice library was made with the {self.encoder!r} speaker encoder, not "
                             f"{encoder!r}; voiceprints of different encoders cannot be compared "
                             f"(use --encoder {self.encoder} or another --voices folder)", self.path)

    def get(self, name: str) -> Voice | None:
        key = name.casefold()
        return next((v for v in self.voices if v.name.casefold() == key), None)

    def add(self, name: str, embedding: np.ndarray, seconds: float, encoder: str, source: str = "",
            replace: bool = False) -> Voice:
        name = " ".join(name.split())
        if not name:
            raise InputError("a voice needs a name")
        if any(ord(c) < 32 for c in name):
            raise InputError("a voice name cannot hold control characters")
        self.check_encoder(encoder)
        if seconds < MIN_SPEECH:
            raise InputError(f"too little speech to enroll {name!r}: {seconds:.1f} s "
                             f"(at least {MIN_SPEECH:.0f} s of speech needed)", source or None)
        if self.get(name) is not None:
            if not replace:
                raise InputError(f"a voice named {name!r} is already in the library (remove it first, or "
                                 "use --replace)", self.path)
            self.remove(name)
        voice = Voice(name, _normalize(np.asarray(embedding, np.float32)), seconds, [source] if source else [],
                      dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        self.encoder = encoder
        self.voices.append(voice)
        return voice

    def update(self, name: str, embedding: np.ndarray, seconds: float, source: str = "") -> Voice:
        """Fold more speech of a known voice into its print (weighted by seconds)."""
        voice = self.get(name)
        assert voice is not None
        total = voice.seconds + seconds
        voice.embedding = _normalize(voice.embedding * voice.seconds / total + _normalize(embedding) * seconds / total)
        voice.seconds = total
        if source and source not in voice.sources:
            voice.sources.append(source)
        return voice

    def remove(self, name: str) -> Voice:
        voice = self.get(name)
        if voice is None:
            raise InputError(f"no voice named {name!r} in the library", self.path)
        self.voices.remove(voice)
        return voice

    def match(self, prints: dict[str, np.ndarray], encoder: str, threshold: float | None = None) -> dict[str, Match]:
        """Speaker id -> the known voice it is (one voice per speaker, one speaker per voice)."""
        if not self.voices or not prints:
            return {}
        self.check_encoder(encoder)
        from scipy.optimize import linear_sum_assignment

        threshold = MATCH_THRESHOLDS[encoder] if threshold is None else threshold
        ids = list(prints)
        a = np.stack([_normalize(prints[i]) for i in ids])
        b = np.stack([v.embedding for v in self.voices])
        sims = a @ b.T
        rows, cols = linear_sum_assignment(-sims)
        return {ids[r]: Match(self.voices[c].name, round(float(sims[r, c]), 3))
                for r, c in zip(rows, cols) if sims[r, c] >= threshold}


@contextlib.contextmanager
def editing(folder: str | Path | None = None) -> Iterator[VoiceLibrary]:
    """Load the library, let the caller change it, save it, under an exclusive lock (batch
    workers enroll voices at the same time)."""
    import fcntl

    folder = Path(folder).expanduser() if folder else default_dir()
    if folder.exists() and not folder.is_dir():
        raise InputError("the voice library must be a folder, not a file", folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        library = VoiceLibrary.load(folder)
        yield library
        library.save()


def voiceprint(audio: np.ndarray, spans: Iterable[tuple[float, float]], encoder: "Encoder",
               max_speech: float = PRINT_SPEECH) -> tuple[np.ndarray | None, float]:
    """(voiceprint, seconds of speech used) of the speech in ``spans`` of 16 kHz ``audio``:
    the longest spans first, up to ``max_speech`` seconds, cut to speech by the VAD."""
    chosen: list[tuple[float, float]] = []
    total = 0.0
    for s, e in sorted(spans, key=lambda t: t[0] - t[1]):  # longest first
        if total >= max_speech:
            break
        e = min(e, s + max_speech - total)
        a, b = int(s * SAMPLE_RATE), int(e * SAMPLE_RATE)
        for rs, re_ in speech_regions(audio[a:b]):
            chosen.append((s + rs, s + re_))
            total += re_ - rs
    if not chosen:
        return None, 0.0
    windows = embed_windows(audio, sorted(chosen), encoder)
    if not len(windows):
        return None, 0.0
    return _normalize(windows.embeddings.mean(axis=0)), total


def speaker_prints(audio: np.ndarray, turns: Sequence[tuple[float, float, str]], encoder: "Encoder",
                   exclude: Sequence[tuple[float, float]] = ()) -> dict[str, tuple[np.ndarray, float]]:
    """Speaker id -> (voiceprint, seconds) from diarization ``turns``; stretches in
    ``exclude`` (overlapped speech) are left out."""
    by: dict[str, list[tuple[float, float]]] = {}
    for s, e, spk in turns:
        for piece in _minus((s, e), exclude):
            by.setdefault(spk, []).append(piece)
    out = {}
    for spk, spans in by.items():
        emb, seconds = voiceprint(audio, spans, encoder)
        if emb is not None:
            out[spk] = (emb, seconds)
    return out


def _minus(span: tuple[float, float], holes: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    pieces = [span]
    for hs, he in holes:
        nxt = []
        for s, e in pieces:
            if he <= s or hs >= e:
                nxt.append((s, e))
                continue
            if hs > s:
                nxt.append((s, hs))
            if he < e:
                nxt.append((he, e))
        pieces = nxt
    return [(s, e) for s, e in pieces if e - s > 0.05]
