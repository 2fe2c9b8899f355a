"""Guards against Whisper's failure modes, checked on every decoded segment.

Whisper's best-known failures are repetition loops ("a little bit of a little bit of ..."), text
on music, applause or silence, and runaway segments with more words than the time could hold.
podtools decodes at one temperature without conditioning on the previous window (which prevents
most loops), but a small model on music or noise, or on unusual speech, still loops. Each
segment is checked after decoding:

- ``repetition``: an n-gram (1-6 words) repeated back to back at least ``MIN_REPEATS`` times
  (``MIN_REPEATS_UNIGRAM`` for one word) and covering most of the segment, or a compression
  ratio (zlib) above Whisper's own 2.4;
- ``no speech``: the voice detector (Silero VAD) hears speech in less than a quarter of the
  segment's time;
- ``too fast``: more words per second than anyone speaks (``MAX_WORDS_PER_SECOND``), or more
  than ``RATE_FACTOR`` times the episode's median rate so far.

A flagged segment's stretch of audio is decoded once more with other settings: the
temperature fallback (0.0, 0.2 ... 1.0 when the result compresses too well or is improbable),
no prompt, the voice detector on. What comes back is checked again: a segment still heard on no
speech, or still too fast, is dropped; a repetition that survives the second decoding at a
speaking rate, over speech, is kept (people do repeat themselves) and said so. Every action is
recorded in the stage's provenance (``provenance.transcribe.actions``).
"""

from __future__ import annotations

import logging
import re
import statistics
import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from ..models import Segment

log = logging.getLogger("podtools.asr.guards")

MIN_REPEATS = 3  # an n-gram of 2-6 words said this many times in a row
MIN_REPEATS_UNIGRAM = 4  # one word ("the the the the")
MIN_LOOP_SHARE = 0.5  # ... covering at least this share of the segment's words
MAX_COMPRESSION = 2.4  # Whisper's compression_ratio_threshold
MIN_COMPRESSION_CHARS = 60  # a short text compresses badly whatever it says
MIN_SPEECH_SHARE = 0.25  # of the segment's time, heard as speech by the voice detector
MAX_WORDS_PER_SECOND = 6.5  # fast speakers reach ~5 words/s
RATE_FACTOR = 3.0  # ... or three times the episode's median
MIN_RATE_WORDS = 8  # rates are judged on segments of at least this many words
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SEED = 1234  # sampling at temperature > 0 is seeded: the same audio, the same transcript


def _tokens(text: str) -> list[str]:
    return [t for t in (re.sub(r"[^\w']", "", w.lower()) for w in text.split()) if t]


def longest_loop(tokens: Sequence[str]) -> tuple[int, int, int]:
    """(n, repeats, start) of the n-gram (1-6 tokens) repeated back to back the most words' worth."""
    best = (0, 0, 0)
    for n in range(1, 7):
        i = 0
        while i + 2 * n <= len(tokens):
            reps = 1
            while tokens[i + reps * n: i + (reps + 1) * n] == tokens[i: i + n]:
                reps += 1
            if reps > 1 and reps * n > best[0] * best[1]:
                best = (n, reps, i)
            i += max(1, (reps - 1) * n) if reps > 1 else 1
    return best


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def speech_share(seg: Segment, speech: Sequence[tuple[float, float]]) -> float:
    span = max(seg.end - seg.start, 1e-3)
    heard = sum(max(0.0, min(b, seg.end) - max(a, seg.start)) for a, b in speech)
    return heard / span


def words_per_second(seg: Segment) -> float:
    n = len(seg.words) or len(seg.text.split())
    return n / max(seg.end - seg.start, 0.05)


@dataclass
class Check:
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.reasons)


def check(seg: Segment, speech: Optional[Sequence[tuple[float, float]]], median_rate: Optional[float]) -> Check:
    """What is wrong with ``seg``, if anything (see the module docstring)."""
    out = Check()
    tokens = _tokens(seg.text)
    n, reps, at = longest_loop(tokens)
    if reps >= (MIN_REPEATS_UNIGRAM if n == 1 else MIN_REPEATS) and n * reps >= MIN_LOOP_SHARE * len(tokens):
        out.reasons.append(f"repetition ({' '.join(tokens[at:at + n])!r} x{reps})")
    elif len(seg.text) >= MIN_COMPRESSION_CHARS and compression_ratio(seg.text) > MAX_COMPRESSION:
        out.reasons.append(f"repetition (compression ratio {compression_ratio(seg.text):.1f})")
    if speech is not None and len(tokens) >= 2 and speech_share(seg, speech) < MIN_SPEECH_SHARE:
        out.reasons.append(f"no speech ({speech_share(seg, speech):.0%} of its time is speech)")
    if len(tokens) >= MIN_RATE_WORDS:
        rate = words_per_second(seg)
        limit = MAX_WORDS_PER_SECOND if median_rate is None else min(MAX_WORDS_PER_SECOND, RATE_FACTOR * median_rate)
        if rate > max(limit, 3.0):
            out.reasons.append(f"too fast ({rate:.1f} words/s)")
    return out


@dataclass
class Guard:
    """Checks segments as they are decoded and repairs the flagged ones (``redecode(start, end)``
    decodes that stretch again with the fallback settings)."""

    redecode: Callable[[float, float], list[Segment]]
    speech: Callable[[], Optional[Sequence[tuple[float, float]]]]
    # check every segment against the voice detector (no VAD before decoding, or its regions are
    # at hand); else only a segment flagged for another reason (the decoder only heard speech)
    always_speech: bool = True
    actions: list[dict] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)

    def _median(self) -> Optional[float]:
        return statistics.median(self.rates) if len(self.rates) >= 5 else None

    def __call__(self, seg: Segment) -> list[Segment]:
        speech = self.speech() if self.always_speech else None
        found = check(seg, speech, self._median())
        if found and speech is None:
            speech = self.speech()
            found = check(seg, speech, self._median())
        if not found:
            if len(seg.words) >= MIN_RATE_WORDS:
                self.rates.append(words_per_second(seg))
            return [seg]
        action = {"start": seg.start, "end": seg.end, "reasons": found.reasons, "before": _short(seg.text)}
        again = self.redecode(seg.start, seg.end)
        kept: list[Segment] = []
        dropped: list[str] = []
        for s in again:
            still = check(s, speech, self._median())
            fatal = [r for r in still.reasons if not r.startswith("repetition")]
            if fatal:
                dropped.append(f"{_short(s.text)!r}: {'; '.join(still.reasons)}")
            else:
                kept.append(s)
                if still.reasons:
                    action.setdefault("kept", []).append(f"{_short(s.text)!r}: {still.reasons[0]} at a speaking "
                                                         "rate, over speech, in both decodings")
        action["action"] = "re-decoded" if kept else "dropped"
        action["after"] = _short(" ".join(s.text for s in kept))
        if dropped:
            action["dropped"] = dropped
        self.actions.append(action)
        log.info("guard: %.1f-%.1f s (%s): %s", seg.start, seg.end, "; ".join(found.reasons), action["action"])
        return kept


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
