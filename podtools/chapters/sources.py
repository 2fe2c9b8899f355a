"""Chapter lists: the stage's settings, parsing a list (``HH:MM:SS Title`` lines, Podcasting 2.0
JSON), chapters embedded in the audio (ID3 CHAP/CTOC, PyAV), and normalizing a list and giving
every segment its chapter."""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path
from typing import Callable, Literal, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import InputError
from ..formats.text import STAMP_LIKE, Warn, default_warn, read_text, stamp_at
from ..models import Chapter, Episode, Segment
from ..timefmt import hms

log = logging.getLogger("podtools.chapters")


Source = Literal["given", "embedded", "transcript", "detected"]
# Titler: the texts of the chapters -> one title each (the LLM layer can provide one)
Titler = Callable[[list[str]], list[str]]

ASSIGN_TOLERANCE = 2.0  # a chapter mark up to this many seconds into a segment still claims it
YOUTUBE_MIN_CHAPTER = 10.0  # YouTube: every chapter at least 10 s, the first at 0:00, 3 or more
YOUTUBE_MIN_COUNT = 3
RELATIVE_DEPTH = 0.5  # detection: extra boundaries need this share of the deepest cohesion dip


class ChaptersOptions(BaseModel):
    """Settings of the chapters stage (``[chapters]`` in a pipeline preset). Times in seconds."""

    model_config = ConfigDict(extra="forbid")

    sources: list[Source] = Field(
        default_factory=lambda: ["given", "embedded", "transcript", "detected"],
        description="Chapter sources in order of precedence; the first one that has chapters wins.")
    min_length: float = Field(120.0, gt=0, description="Detected chapters are at least this long.")
    target_length: float = Field(240.0, gt=0, description="Detection aims at one chapter per this many seconds.")
    max_length: float = Field(600.0, gt=0, description="Detection splits chapters longer than this.")
    window: float = Field(120.0, gt=0, description="Seconds of speech compared on each side of a candidate boundary.")
    semantic: float = Field(0.5, ge=0.0, le=1.0, description="Weight of meaning (sentence embeddings, wordllama) "
                            "against shared words (lexical cohesion) in finding topic changes; 0: words only.")
    write_id3: bool = Field(False, description="Write ID3 CHAP/CTOC chapters into a copy of the MP3.")

    @model_validator(mode="after")
    def _order(self):
        if not self.min_length <= self.target_length <= self.max_length:
            raise ValueError("need min_length <= target_length <= max_length")
        if len(set(self.sources)) != len(self.sources):
            raise ValueError("sources lists a source twice")
        return self


# -- parsing chapter lists ------------------------------------------------------------------------

_S = STAMP_LIKE
_BULLET = r"(?:-\s+|[*•·]\s*|\d+[.)]\s+)"  # "- 00:05 Intro" is a list item; "-00:05" a negative time
_NEGATIVE = re.compile(rf"^\s*[\[(]?(-\s?{STAMP_LIKE})")
_LEAD = re.compile(rf"^\s*{_BULLET}?(?:\[(?P<b>{_S})\]|\((?P<p>{_S})\)|(?P<n>{_S}))"
                   rf"(?=\s|$|[-–—:|])\s*[-–—:|]?\s*(?P<title>.*?)\s*$")
_TRAIL = re.compile(rf"^\s*{_BULLET}?(?P<title>.*?)\s*[-–—:|]?\s*(?:\[(?P<b>{_S})\]|\((?P<p>{_S})\)|"
                    rf"(?P<n>{_S}))\s*$")


def parse_chapter_list(text: str, path: str | Path | None = None) -> list[Chapter]:
    """YouTube-description style lines (``00:00 Intro``, ``1:02:03 - Title``, ``Title (12:30)``) or a
    Podcasting 2.0 chapters JSON -> chapters in file order (not yet normalized).

    Lines without a timestamp are ignored (a description's other text); a timestamp-like token
    that is not a valid time (``1:2:3``, ``99:99``) is an error naming its line.
    """
    where = path if path is not None else "--chapters"
    if text.lstrip().startswith("{"):
        return parse_podcasting2_chapters(text, where)
    html_unescape = __import__("html").unescape
    lead, trail = [], []
    for no, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        negative = _NEGATIVE.match(line)
        if negative and not re.match(r"^\s*-\s", line):
            raise InputError(f"line {no}: '{negative.group(1)}' is a negative time", where)
        m = _LEAD.match(line)
        if m:
            start = stamp_at(m.group("b") or m.group("p") or m.group("n"), no, where)
            lead.append(Chapter(start=start, end=start, title=html_unescape(m.group("title")).strip(), source="given"))
            continue
        bad = re.match(rf"^\s*{_BULLET}?[\[(]?({_S})", line)
        if bad:
            stamp_at(bad.group(1), no, where)
        m = _TRAIL.match(line)
        if m:
            start = stamp_at(m.group("b") or m.group("p") or m.group("n"), no, where)
            trail.append(Chapter(start=start, end=start, title=html_unescape(m.group("title")).strip(), source="given"))
    chapters = lead or trail
    if not chapters:
        raise InputError("no chapter timestamps found (expected lines like '00:00 Intro' or '1:02:03 Title')",
                         where)
    return chapters


def parse_podcasting2_chapters(text: str, path: str | Path = "--chapters") -> list[Chapter]:
    """A Podcasting 2.0 chapters JSON (``{version, chapters: [{startTime, title, ...}]}``)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg} at line {exc.lineno})", path) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("chapters"), list):
        raise InputError("JSON is not a Podcasting 2.0 chapters file (no \"chapters\" list)", path)
    out = []
    for i, ch in enumerate(raw["chapters"]):
        if not isinstance(ch, dict):
            raise InputError(f"chapters[{i}] is not an object", path)
        start = ch.get("startTime")
        if isinstance(start, bool) or not isinstance(start, (int, float)) or start < 0 or not math.isfinite(start):
            raise InputError(f"chapters[{i}].startTime must be a number of seconds >= 0, not {start!r}", path)
        if ch.get("toc") is False:  # a "silent" chapter (artwork change): not in the table of contents
            continue
        title = ch.get("title", "")
        if not isinstance(title, str):
            raise InputError(f"chapters[{i}].title must be a string", path)
        out.append(Chapter(start=float(start), end=float(start), title=title.strip(), source="given"))
    if not out:
        raise InputError("the chapters file lists no chapters", path)
    return out


def load_chapters(arg: str, warn: Optional[Warn] = None) -> list[Chapter]:
    """``--chapters`` value: a file (text list or JSON) or the list itself as text."""
    if "\n" not in arg and len(arg) < 1024:
        path = Path(arg).expanduser()
        try:
            exists = path.is_file() or path.is_dir()
        except OSError:  # a name too long for a file: the list itself
            exists = False
        if exists:
            return parse_chapter_list(read_text(path, warn), path)
        if not re.search(_S, arg):
            raise InputError("file not found (and not a chapter list such as '00:00 Intro')", arg)
    return parse_chapter_list(arg.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))


def read_embedded(path: str | Path) -> list[Chapter]:
    """Chapters stored in an audio file: ID3 CHAP/CTOC (mutagen) or container chapters (PyAV)."""
    path = Path(path)
    chapters = _id3_chapters(path)
    if chapters is None:
        chapters = _av_chapters(path)
    return chapters


def _id3_chapters(path: Path) -> Optional[list[Chapter]]:
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        return None
    except Exception:  # not ID3-tagged or unreadable tags: let the container reader try
        return None
    chaps = {f.element_id: f for f in tags.getall("CHAP")}
    if not chaps:
        return None
    order: list[str] = []
    tocs = tags.getall("CTOC")
    top = next((t for t in tocs if t.flags & 0x02), tocs[0] if tocs else None)  # CTOCFlags.TOP_LEVEL
    if top is not None:
        order = [e for e in top.child_element_ids if e in chaps]
    order += sorted((e for e in chaps if e not in order), key=lambda e: chaps[e].start_time)
    out = []
    for eid in order:
        f = chaps[eid]
        tit = f.sub_frames.get("TIT2")
        title = str(tit.text[0]) if tit is not None and tit.text else ""
        out.append(Chapter(start=f.start_time / 1000, end=f.end_time / 1000, title=title.strip(), source="embedded"))
    return out


def _av_chapters(path: Path) -> list[Chapter]:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            raw = container.chapters()
    except Exception:  # the decode stage reports unreadable audio; chapters are optional
        log.debug("cannot read chapters from %s", path, exc_info=True)
        return []
    out = []
    for ch in raw:
        tb = ch.get("time_base")
        scale = float(tb) if tb is not None else 1.0
        meta = {str(k).lower(): v for k, v in (ch.get("metadata") or {}).items()}
        start = float(ch["start"]) * scale
        end = float(ch["end"]) * scale
        out.append(Chapter(start=max(start, 0.0), end=max(end, 0.0), title=str(meta.get("title", "")).strip(),
                           source="embedded"))
    return out


# -- normalization and assignment -----------------------------------------------------------------


def normalize(chapters: Sequence[Chapter], duration: float, segments: Sequence[Segment] = (),
              warn: Optional[Warn] = None, what: str = "chapters") -> list[Chapter]:
    """Sorted, one chapter per time, none past the end, ends = next start (last: ``duration``).

    A chapter at 0:00 is added (titled "Intro") when speech comes before the first chapter.
    Empty titles stay empty here (:func:`fill_titles` names them from the transcript).
    """
    warn = warn or default_warn
    if not chapters:
        return []
    chs = list(chapters)
    if any(b.start < a.start for a, b in zip(chs, chs[1:])):
        warn(f"{what}: not in time order; sorted")
        chs = sorted(chs, key=lambda c: c.start)
    kept: list[Chapter] = []
    for c in chs:
        if kept and abs(c.start - kept[-1].start) < 0.5:
            warn(f"{what}: two chapters at {hms(c.start)} ('{kept[-1].title}' and '{c.title}'); kept the first")
            continue
        if duration > 0 and c.start >= duration:
            warn(f"{what}: chapter '{c.title}' at {hms(c.start)} starts after the end of the audio "
                 f"({hms(duration)}); dropped")
            continue
        kept.append(c)
    if not kept:
        return []
    first_speech = min((s.start for s in segments if s.text.strip()), default=None)
    if kept[0].start > 0 and first_speech is not None and first_speech < kept[0].start - ASSIGN_TOLERANCE:
        warn(f"{what}: speech starts before the first chapter ({hms(kept[0].start)}); added 'Intro' at 00:00:00")
        kept.insert(0, Chapter(start=0.0, end=0.0, title="Intro", source=kept[0].source))
    end_of_all = max(duration, kept[-1].start)
    out = []
    for i, c in enumerate(kept):
        end = kept[i + 1].start if i + 1 < len(kept) else end_of_all
        out.append(c.model_copy(update={"start": round(c.start, 3), "end": round(end, 3)}))
    return out


def chapter_index(chapters: Sequence[Chapter], segment: Segment) -> int:
    """Index of the chapter a segment belongs to: the one its start (give or take
    ``ASSIGN_TOLERANCE`` seconds, at most half the segment) falls in; before the first chapter: 0."""
    t = segment.start + min(ASSIGN_TOLERANCE, max(segment.end - segment.start, 0.0) / 2)
    idx = 0
    for i, c in enumerate(chapters):
        if c.start <= t + 1e-6:
            idx = i
        else:
            break
    return idx


def segment_chapters(episode: Episode) -> list[Optional[int]]:
    """For each segment, the index into ``episode.chapters`` it belongs to (None without chapters)."""
    if not episode.chapters:
        return [None] * len(episode.segments)
    order = sorted(range(len(episode.chapters)), key=lambda i: episode.chapters[i].start)
    ordered = [episode.chapters[i] for i in order]
    return [order[chapter_index(ordered, s)] for s in episode.segments]


def chapter_texts(episode: Episode) -> list[str]:
    """The transcript text of each chapter."""
    texts: list[list[str]] = [[] for _ in episode.chapters]
    for seg, idx in zip(episode.segments, segment_chapters(episode)):
        if idx is not None:
            texts[idx].append(seg.text.strip())
    return [" ".join(t) for t in texts]


