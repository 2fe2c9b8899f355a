"""What every transcript importer produces, and how that becomes an Episode.

Importers turn a file into :class:`Parsed`: timed :class:`Piece` s of text (a caption cue, a
transcript line, a part of a line between two inline stamps) and chapter :class:`Heading` s.
:func:`build_episode` then does what is common to all formats: speaker ids, missing start times
(interpolated between known stamps), end times (the next start), caption cues merged into
sentence-sized segments, and chapters from the headings.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import InputError
from ..models import Chapter, Episode, Segment, Speaker, Word
from ..timefmt import hms
from .text import Warn, default_warn

WORDS_PER_SECOND = 2.5  # conversational speech, for the end of a line whose next start is unknown
MERGE_MAX_SECONDS = 30.0  # caption cues are merged into segments no longer than this
MERGE_MAX_GAP = 1.5  # a pause this long (seconds) between cues ends a segment
SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")

# "Name:" at the start of a caption or plain-text line. Counted first, then accepted only if
# the file uses such labels more than once (so a lone "Note:" does not become a speaker).
SPEAKER_PREFIX = re.compile(
    r"^(?:>>\s*)?(?P<name>(?:[A-Z][\w.'’&-]*|SPEAKER_\d+)(?: [A-Z0-9][\w.'’&-]*){0,3}):\s+(?=\S)"
)
NOT_SPEAKERS = {"Note", "Notes", "Warning", "Update", "Edit", "Source", "Sources", "Link", "Links",
                "Http", "Https", "Tip", "Example", "Chapter", "Chapters", "Transcript", "Title", "Date"}


@dataclass
class Piece:
    start: Optional[float]  # seconds; None: unknown, interpolated from the neighbours
    end: Optional[float]  # seconds; None: the next piece's start
    text: str
    speaker: Optional[str] = None  # the name as written in the file
    line: int = 0  # 1-based line in the file, for messages


@dataclass
class Heading:
    start: Optional[float]  # None: the start of the next piece
    title: str
    line: int = 0


@dataclass
class Parsed:
    format: str  # srt | vtt | podcasting2-json | whisper-json | markdown | text
    pieces: list[Piece] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    title: Optional[str] = None
    published: Optional[dt.datetime] = None
    language: Optional[str] = None
    cues: bool = False  # pieces are caption cues with their own end times: merge into sentences


def clean_inline(text: str) -> str:
    """HTML entities decoded, tags and Markdown emphasis/links removed, spaces collapsed."""
    text = re.sub(r"<(?:br|/?p|/?div|/?li)\b[^>\n]{0,200}>", " ", text, flags=re.I)  # block tags: a space
    text = re.sub(r"</?[A-Za-z.][^>\n]{0,200}>|<\d[\d:.]*>", "", text)  # inline tags, VTT timestamps: nothing
    text = html.unescape(text)
    text = re.sub(r"!?\[([^\]\n]*)\]\([^)\n]*\)", r"\1", text)  # [text](url) -> text
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def split_speaker_prefix(text: str) -> tuple[Optional[str], str]:
    """'Alex: hello' -> ('Alex', 'hello'); no label -> (None, text). Unfiltered candidate."""
    m = SPEAKER_PREFIX.match(text)
    if not m or m.group("name") in NOT_SPEAKERS:
        return None, text
    return m.group("name").strip(), text[m.end():]


def apply_plain_speakers(pieces: list[Piece], carry: bool) -> None:
    """Turn "Name:" prefixes into speakers when the file uses them as labels (2+ times).

    With ``carry`` (captions), a cue without a label continues the previous cue's speaker, as
    SRT files written with labels only at speaker changes expect.
    """
    found = [split_speaker_prefix(p.text) if p.speaker is None else (None, p.text) for p in pieces]
    if sum(1 for name, _ in found if name) < 2:
        return
    current = None
    for piece, (name, rest) in zip(pieces, found):
        if piece.speaker is not None:
            current = piece.speaker
            continue
        if name:
            piece.text, piece.speaker, current = rest, name, name
        elif carry:
            piece.speaker = current


def _word_count(text: str) -> int:
    return max(1, len(text.split()))


def _fill_times(pieces: list[Piece], duration: Optional[float], path, warn: Warn) -> None:
    """Keep starts monotonic, interpolate missing starts, end = next start."""
    if not any(p.start is not None for p in pieces):
        raise InputError("no timestamps found", path)
    last = 0.0
    for p in pieces:
        if p.start is None:
            continue
        if p.start < last:
            warn(f"{path}: line {p.line}: timestamp {hms(p.start)} is earlier than the line before it "
                 f"({hms(last)}); moved to {hms(last)}")
            p.start = last
        last = p.start
    # a run of lines without a stamp is spread by text length between the known neighbours
    # (the episode start before the first stamp; speaking rate after the last one)
    n, i = len(pieces), 0
    while i < n:
        if pieces[i].start is not None:
            i += 1
            continue
        j = i
        while j < n and pieces[j].start is None:
            j += 1
        lo_t = pieces[i - 1].start if i else 0.0
        weights = [_word_count(pieces[i - 1].text) if i else 0] + [_word_count(p.text) for p in pieces[i:j]]
        if j < n:
            rate = sum(weights) / max(pieces[j].start - lo_t, 1e-3)
        else:
            rate = WORDS_PER_SECOND
        acc = weights[0]
        for p, w in zip(pieces[i:j], weights[1:]):
            p.start = round(lo_t + acc / rate, 3)
            acc += w
        i = j
    for k, p in enumerate(pieces):
        if p.end is not None and p.end > p.start:
            continue
        nxt = pieces[k + 1].start if k + 1 < n else None
        if nxt is not None and nxt > p.start:
            p.end = nxt
        else:
            p.end = p.start + max(1.0, _word_count(p.text) / WORDS_PER_SECOND)
            if duration is not None and p.start < duration:
                p.end = min(p.end, duration)
        p.end = round(p.end, 3)


def _spread_words(piece: Piece, speaker: Optional[str]) -> list[Word]:
    tokens = piece.text.split()
    step = max(piece.end - piece.start, 0.0) / max(len(tokens), 1)
    return [Word(start=round(piece.start + i * step, 3), end=round(piece.start + (i + 1) * step, 3),
                 text=t, speaker=speaker) for i, t in enumerate(tokens)]


def _segments(pieces: list[Piece], ids: dict[str, str], merge: bool) -> list[Segment]:
    out: list[Segment] = []
    group: list[Piece] = []

    def flush():
        if not group:
            return
        speaker = ids.get(group[0].speaker) if group[0].speaker else None
        text = " ".join(p.text for p in group)
        words = [w for p in group for w in _spread_words(p, speaker)] if merge else []
        out.append(Segment(start=group[0].start, end=group[-1].end, text=text, speaker=speaker, words=words))
        group.clear()

    for p in pieces:
        if not p.text:
            continue
        if group and (not merge or p.speaker != group[0].speaker
                      or p.start - group[-1].end > MERGE_MAX_GAP
                      or p.end - group[0].start > MERGE_MAX_SECONDS
                      or SENTENCE_END.search(group[-1].text)):
            flush()
        group.append(p)
    flush()
    return out


def build_episode(parsed: Parsed, path: str | Path, episode_id: str, source: str,
                  duration: Optional[float] = None, warn: Optional[Warn] = None) -> Episode:
    """An Episode from parsed pieces: speakers, times, segments and heading chapters.

    ``duration`` (seconds) is the audio's when one was given; otherwise the last segment's end.
    """
    warn = warn or default_warn
    pieces = [p for p in parsed.pieces if p.text.strip() or p.start is not None]
    for p in pieces:
        p.text = p.text.strip()
    if not any(p.text for p in pieces):
        raise InputError(f"no transcript text found in this {parsed.format} file", path)
    _fill_times(pieces, duration, path, warn)
    pieces = [p for p in pieces if p.text]
    names: list[str] = []
    for p in pieces:
        if p.speaker and p.speaker not in names:
            names.append(p.speaker)
    ids = {name: f"SPEAKER_{i:02d}" for i, name in enumerate(names)}
    segments = _segments(pieces, ids, parsed.cues)
    end = max((s.end for s in segments), default=0.0)
    total = duration if duration is not None else end
    talk = {sid: 0.0 for sid in ids.values()}
    for s in segments:
        if s.speaker:
            talk[s.speaker] += s.end - s.start
    speakers = [Speaker(id=ids[n], name=n, name_source="given", talk_time=round(talk[ids[n]], 3)) for n in names]
    chapters: list[Chapter] = []
    for h in parsed.headings:  # a heading without a time starts at the next line's time
        start = h.start
        if start is None:
            nxt = next((p.start for p in pieces if p.line > h.line), None)
            if nxt is None:
                warn(f"{path}: line {h.line}: heading '{h.title}' has no timestamp and no text after it; ignored")
                continue
            start = nxt
        chapters.append(Chapter(start=round(start, 3), end=round(start, 3), title=h.title, source="transcript"))
    return Episode(
        id=episode_id,
        source=source,
        title=parsed.title or Path(path).stem,
        published=parsed.published,
        duration=round(total, 3),
        language=parsed.language,
        speakers=speakers,
        segments=segments,
        chapters=chapters,
    )
