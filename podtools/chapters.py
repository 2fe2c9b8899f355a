"""Chapters stage: chapter lists from the user, the audio or the transcript; detection otherwise.

Sources, in the order of ``ChaptersOptions.sources`` (default: the first that has chapters wins):

- ``given``: ``--chapters FILE|TEXT``, a list of ``HH:MM:SS Title`` / ``MM:SS Title`` lines as
  in a YouTube description, or a Podcasting 2.0 chapters JSON;
- ``embedded``: chapters inside the audio (ID3 CHAP/CTOC via mutagen; MP4/M4A, Matroska and
  anything else ffmpeg reads via PyAV);
- ``transcript``: chapter headings of an imported transcript (``## [00:12:00] Title``);
- ``detected``: topic segmentation of the transcript (:func:`detect_chapters`).

Every chapter list is normalized the same way (sorted, duplicates and chapters past the end of
the audio dropped, empty titles filled, a chapter end is the next start), each fix reported
through ``warn``. Every segment belongs to exactly one chapter (:func:`segment_chapters`).

Outputs: Podcasting 2.0 ``chapters.json``, ``youtube_chapters.txt`` (YouTube's rules applied)
and ID3 CHAP/CTOC frames written into a copy of an MP3 (:func:`write_id3`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import __version__
from .errors import ConfigError, InputError
from .formats.text import STAMP_LIKE, Warn, default_warn, read_text, stamp_at
from .models import Chapter, Episode, Segment, StageRun
from .textsafe import one_line, plain_text
from .timefmt import hms

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
    target_length: float = Field(360.0, gt=0, description="Detection aims at one chapter per this many seconds.")
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


# -- detection ------------------------------------------------------------------------------------

STOPWORDS = frozenset("""
a about above across actually after again against ago ah ahead all almost along already also although always am
among an and another any anybody anyone anything anyway are aren't around as ask asked at away back basically be
became because become been before behind being believe below best better between big bit both but by call called
came can can't cannot certainly come comes coming could couldn't day days did didn't different do does doesn't
doing don't done down during each easy either else end enough especially even ever every everybody everyone
everything exactly example far feel felt few find first five for four from front fun further gave get gets getting
give given go goes going gone gonna good got gotta great guess guy guys had hadn't happen happened has hasn't have
haven't having he he's hear heard hello help her here here's hers herself hey hi him himself his hmm honestly how
however huh i i'd i'll i'm i've idea if important in indeed instead interesting into is isn't it it's its itself
just keep kind kinda know known last later least less let let's like likely little look looking looks lot lots made
make makes making many may maybe me mean means meant might mine minute minutes more most mostly mr mrs ms much must
my myself need needs never new next nice nine no nobody none nor not nothing now obviously of off oh ok okay old on
once one ones only onto or other others otherwise our ours ourselves out over own part particular people perhaps
place point points pretty probably put quite rather re really reason right said same saw say saying says second
see seeing seem seems seen seven several shall she she's should shouldn't show side since six so some somebody
someone something sometimes somewhat soon sort start started still stuff such sure take taken talk talked talking
tell ten than thank thanks that that's the their theirs them themselves then there there's these they they'd
they'll they're they've thing things think thinking third this those though thought three through thus time times
to today together told too took toward towards tried true try trying turn two uh um under unless until up upon us
use used uses using usually very via wait want wanted wants was wasn't way ways we we'd we'll we're we've week weeks
welcome well went were weren't what what's whatever when where whether which while who who's whole whom whose why
will with within without won't wonder word words work would wouldn't wow yeah year years yes yet you you'd you'll
you're you've your yours yourself yourselves
""".split())
_WORD = re.compile(r"[A-Za-z0-9](?:[\w'’+-]|\.(?=\w))*")


def _stemmer():
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english").stem


def _content_tokens(text: str, stem) -> list[str]:
    out = []
    for w in _WORD.findall(text):
        low = w.lower().replace("’", "'")
        if low in STOPWORDS or (len(low) < 3 and not any(ch.isdigit() for ch in low)) or low.replace(".", "").isdigit():
            continue
        out.append(stem(low))
    return out


@dataclass
class _Stream:
    """Content tokens with times (seconds), spread evenly over their segment."""

    times: Any  # numpy float array, seconds
    ids: Any  # numpy int array, token ids
    vocab: dict[str, int]


def _stream(segments: Sequence[Segment], stem) -> _Stream:
    import numpy as np

    vocab: dict[str, int] = {}
    times, ids = [], []
    for seg in segments:
        toks = _content_tokens(seg.text, stem)
        if not toks:
            continue
        step = max(seg.end - seg.start, 0.0) / len(toks)
        for i, tok in enumerate(toks):
            times.append(seg.start + (i + 0.5) * step)
            ids.append(vocab.setdefault(tok, len(vocab)))
    order = np.argsort(np.asarray(times, dtype=float), kind="stable")
    return _Stream(np.asarray(times, dtype=float)[order], np.asarray(ids, dtype=np.int64)[order], vocab)


def _grid(duration: float, step: float):
    """The times a cohesion curve is measured at: every ``step`` seconds inside the episode."""
    import numpy as np

    return np.arange(step, max(duration - step, step) + 1e-9, step)


def _smooth(values):
    """A 1-2-3-2-1 moving average, the ends held: the smoothing of every cohesion curve."""
    import numpy as np

    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    kernel /= kernel.sum()
    return np.convolve(np.pad(values, 2, mode="edge"), kernel, mode="valid")


def cohesion_curve(segments: Sequence[Segment], duration: float, window: float = 90.0, step: float = 10.0,
                   stem=None):
    """Lexical cohesion across each grid time: cosine similarity of TF-IDF vectors of the ``window``
    seconds before and after it. Returns (grid times, smoothed similarities), both numpy arrays."""
    import numpy as np

    stem = stem or _stemmer()
    st = _stream(segments, stem)
    grid = _grid(duration, step)
    if not len(st.ids) or len(grid) < 3:
        return grid, np.ones_like(grid)
    V = len(st.vocab)
    # IDF over one-minute pseudo-documents: words used all through the episode weigh little
    chunk = np.floor(st.times / 60.0).astype(int)
    n_docs = chunk.max() + 1
    df = np.zeros(V)
    for c in np.unique(chunk):
        df[np.unique(st.ids[chunk == c])] += 1
    idf = np.log((1 + n_docs) / (1 + df)) + 1.0
    sims = np.empty(len(grid))
    lo = np.searchsorted(st.times, grid - window)
    mid = np.searchsorted(st.times, grid)
    hi = np.searchsorted(st.times, grid + window)
    for k in range(len(grid)):
        a = np.bincount(st.ids[lo[k]:mid[k]], minlength=V) * idf
        b = np.bincount(st.ids[mid[k]:hi[k]], minlength=V) * idf
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        sims[k] = float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0
    return grid, _smooth(sims)


@functools.lru_cache(maxsize=1)
def _embedder():
    """wordllama's static sentence embeddings (its weights and tokenizer ship in its wheel; loaded
    from there, never downloaded)."""
    import wordllama
    from wordllama import WordLlama

    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def semantic_curve(segments: Sequence[Segment], duration: float, window: float = 90.0, step: float = 10.0):
    """Cohesion of meaning across each grid time: cosine similarity of the mean sentence embedding
    (wordllama, weighted by words) of the segments in the ``window`` seconds before and after it.
    Talk that stays on a topic in other words ("the GPU bill" ... "what the accelerators cost")
    stays similar here where lexical cohesion sees nothing shared. Same grid and smoothing as
    :func:`cohesion_curve`."""
    import numpy as np

    grid = _grid(duration, step)
    texts = [s.text for s in segments]
    if not texts or len(grid) < 3:
        return grid, np.ones_like(grid)
    emb = np.asarray(_embedder().embed(texts, norm=True), dtype=np.float64)
    weight = np.array([max(len(t.split()), 1) for t in texts], dtype=np.float64)[:, None]
    mids = np.array([(s.start + s.end) / 2 for s in segments])
    order = np.argsort(mids, kind="stable")
    mids, cum = mids[order], np.vstack([np.zeros(emb.shape[1]), np.cumsum(emb[order] * weight[order], axis=0)])
    lo = np.searchsorted(mids, grid - window)
    mid = np.searchsorted(mids, grid)
    hi = np.searchsorted(mids, grid + window)
    a, b = cum[mid] - cum[lo], cum[hi] - cum[mid]
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na > 0) & (nb > 0)
    sims = np.ones(len(grid))
    sims[ok] = (a[ok] * b[ok]).sum(axis=1) / (na[ok] * nb[ok])
    return grid, _smooth(sims)


def topic_curve(segments: Sequence[Segment], duration: float, window: float = 90.0, step: float = 10.0,
                semantic: float = 0.5):
    """Lexical and semantic cohesion, each standardized over the episode, mixed ``semantic`` to
    ``1 - semantic`` (benchmarks/chapters.py: 0.5 finds more true boundaries than either alone)."""
    import numpy as np

    grid, lexical = cohesion_curve(segments, duration, window, step)
    if semantic <= 0:
        return grid, lexical
    _, meaning = semantic_curve(segments, duration, window, step)

    def z(x):
        sd = float(np.std(x))
        return (x - np.mean(x)) / sd if sd > 1e-9 else np.zeros_like(x)

    return grid, semantic * z(meaning) + (1 - semantic) * z(lexical)


def _depths(values) -> list[tuple[int, float]]:
    """TextTiling depth of every local minimum: climb to the highest point on each side."""
    out = []
    n = len(values)
    for i in range(1, n - 1):
        if not (values[i] <= values[i - 1] and values[i] <= values[i + 1]) or values[i] == values[i - 1] == values[i + 1]:
            continue
        left = i
        while left > 0 and values[left - 1] >= values[left]:
            left -= 1
        right = i
        while right < n - 1 and values[right + 1] >= values[right]:
            right += 1
        out.append((i, float(values[left] - values[i] + values[right] - values[i])))
    return out


def _boundary_starts(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """Candidate chapter starts: (segment start, preference bonus in seconds)."""
    out = []
    prev = None
    for seg in segments:
        if not seg.text.strip():
            continue
        bonus = 0.0
        if prev is not None:
            if seg.speaker is not None and seg.speaker != prev.speaker:
                bonus += 10.0  # a new topic usually starts with a new speaker turn
            if seg.start - prev.end >= 1.0:
                bonus += 5.0  # ... or after a pause
        out.append((seg.start, bonus))
        prev = seg
    return out


def detect_boundaries(segments: Sequence[Segment], duration: float,
                      options: Optional[ChaptersOptions] = None) -> list[float]:
    """Chapter start times (seconds, the first is 0.0) found where the talk changes topic: dips of
    TextTiling-style cohesion, of the words shared and of the meaning (:func:`topic_curve`).

    The number of chapters follows ``target_length`` (one per that many seconds) when the
    cohesion dips are comparable, and stays between ``duration / max_length`` and
    ``duration / min_length``; every start is the start of a segment, preferring a speaker turn.
    """
    opts = options or ChaptersOptions()
    speech = [s for s in segments if s.text.strip()]
    if not speech:
        return []
    starts = _boundary_starts(speech)
    first = 0.0  # the episode start: chapter one covers any intro before the first words
    if duration < 2 * opts.min_length:
        return [0.0]
    step = 10.0
    grid, curve = topic_curve(speech, duration, opts.window, step, opts.semantic)
    cands = [(float(grid[i]), d) for i, d in _depths(curve)]
    cands = [(t, d) for t, d in cands if opts.min_length <= t <= duration - opts.min_length]
    most = max(0, int(duration // opts.min_length) - 1)
    least = max(0, math.ceil(duration / opts.max_length) - 1)
    wanted = max(least, min(most, round(duration / opts.target_length) - 1))
    # beyond the target count, a dip must be at least half as deep as the episode's clearest topic
    # change (benchmarks/chapters.py: steadier across window sizes and targets than TextTiling's
    # mean - std / 2 cutoff)
    cutoff = RELATIVE_DEPTH * max((d for _, d in cands), default=0.0)
    chosen: list[float] = []
    for t, d in sorted(cands, key=lambda x: -x[1]):
        if len(chosen) >= most:
            break
        if len(chosen) >= wanted and d < cutoff:
            break
        if all(abs(t - c) >= opts.min_length for c in chosen):
            chosen.append(t)
    chosen.sort()
    # chapters still longer than max_length get their deepest admissible dip
    changed = True
    while changed and len(chosen) < most:
        changed = False
        edges = [0.0] + chosen + [duration]
        for a, b in zip(edges, edges[1:]):
            if b - a <= opts.max_length:
                continue
            inside = [(t, d) for t, d in cands if a + opts.min_length <= t <= b - opts.min_length]
            if inside:
                chosen.append(max(inside, key=lambda x: x[1])[0])
                chosen.sort()
                changed = True
                break
    # snap to real segment starts, preferring speaker turns and pauses
    snapped: list[float] = []
    radius = max(3 * step, opts.window / 3)
    for t in chosen:
        near = [(abs(s - t) - bonus, s) for s, bonus in starts if abs(s - t) <= radius]
        s = min(near)[1] if near else min(starts, key=lambda x: abs(x[0] - t))[0]
        if s > first and all(abs(s - o) >= opts.min_length / 2 for o in snapped):
            snapped.append(s)
    return [first] + sorted(snapped)


def keyphrase_titles(texts: Sequence[str], max_words: int = 8, exclude: Sequence[str] = ()) -> list[str]:
    """A title for each text from its key phrases: runs of content words (case kept), scored by
    how often they occur in this text and how rarely in the others (class TF-IDF). Words in
    ``exclude`` (speaker names: who talks is not what a chapter is about) are never used."""
    stem = _stemmer()
    banned = {w.lower() for name in exclude for w in _WORD.findall(name or "")}
    per_text: list[Counter] = []
    surfaces: dict[str, Counter] = {}
    for text in texts:
        counts: Counter = Counter()
        for sentence in re.split(r"[.?!;:,()\[\]\"“”—–]+|\s-\s", text):
            run: list[str] = []
            for w in _WORD.findall(sentence) + [""]:
                low = w.lower().replace("’", "'")
                if w and low not in STOPWORDS and low not in banned and not (len(low) < 2):
                    run.append(w)
                    continue
                for n in range(1, 4):
                    for i in range(len(run) - n + 1):
                        words = run[i:i + n]
                        if not any(len(x) >= 3 and x[0].isalpha() for x in words) or words[0][0].isdigit():
                            continue
                        key = " ".join(stem(x.lower()) for x in words)
                        counts[key] += 1
                        surfaces.setdefault(key, Counter())[" ".join(words)] += 1
                run = []
        per_text.append(counts)
    n = len(texts)
    df: Counter = Counter()
    for counts in per_text:
        df.update(counts.keys())
    titles = []
    for counts in per_text:
        if not counts:
            titles.append("")
            continue
        def score(key: str) -> float:
            nwords = key.count(" ") + 1
            surface = surfaces[key].most_common(1)[0][0]
            proper = 1.3 if any(ch.isupper() or ch.isdigit() for ch in surface) else 1.0
            return counts[key] * math.log(1 + n / df[key]) * (1 + 0.5 * (nwords - 1)) * proper
        ranked = sorted(counts, key=lambda k: (-score(k), k))
        picked: list[str] = []
        for key in ranked:
            if counts[key] < 2 and picked:
                break
            if any(set(key.split()) & set(p.split()) or key in p or p in key for p in picked):
                continue  # "Inflection-2 and Inflection" says one thing twice
            picked.append(key)
            if len(picked) == 2:
                break
        words = [surfaces[k].most_common(1)[0][0] for k in picked]
        title = " and ".join(words)
        if len(title.split()) > max_words:
            title = words[0]
        titles.append(title[:1].upper() + title[1:])
    return titles


def detect_chapters(segments: Sequence[Segment], duration: float, options: Optional[ChaptersOptions] = None,
                    titler: Optional[Titler] = None, names: Sequence[str] = ()) -> list[Chapter]:
    """Detected chapters (``source="detected"``), titled from key phrases or by ``titler``."""
    starts = detect_boundaries(segments, duration, options)
    if not starts:
        return []
    chapters = [Chapter(start=s, end=e, title="", source="detected")
                for s, e in zip(starts, starts[1:] + [max(duration, starts[-1])])]
    ep = Episode(id="-", source="-", duration=duration, segments=list(segments), chapters=chapters)
    texts = chapter_texts(ep)
    titles = _titles(texts, titler, names)
    return [c.model_copy(update={"title": t or f"Chapter {i + 1}"}) for i, (c, t) in enumerate(zip(chapters, titles))]


def _titles(texts: list[str], titler: Optional[Titler], names: Sequence[str] = ()) -> list[str]:
    if titler is not None:
        try:
            got = list(titler(texts))
            if len(got) == len(texts):
                return [str(t).strip() for t in got]
            log.warning("the chapter titler returned %d titles for %d chapters; using key phrases",
                        len(got), len(texts))
        except Exception as exc:  # an LLM outage must not fail the stage: key phrases are the fallback
            log.warning("chapter titles from the LLM failed (%s); using key phrases", exc)
    return keyphrase_titles(texts, exclude=names)


def _speaker_names(episode: Episode) -> list[str]:
    return [sp.name for sp in episode.speakers if sp.name]


def fill_titles(episode: Episode, warn: Optional[Warn] = None, titler: Optional[Titler] = None) -> Episode:
    """Chapters with an empty title get one from their text (or "Chapter N"), with a warning."""
    warn = warn or default_warn
    empty = [i for i, c in enumerate(episode.chapters) if not c.title.strip()]
    if not empty:
        return episode
    texts = chapter_texts(episode)
    titles = _titles(texts, titler, _speaker_names(episode))
    chapters = list(episode.chapters)
    for i in empty:
        title = titles[i] or f"Chapter {i + 1}"
        warn(f"chapter at {hms(chapters[i].start)} has no title; titled '{title}' from its transcript")
        chapters[i] = chapters[i].model_copy(update={"title": title})
    return episode.model_copy(update={"chapters": chapters})


# -- the stage ------------------------------------------------------------------------------------


def chapters_stage(episode: Episode, options: Optional[ChaptersOptions] = None,
                   given: Optional[Sequence[Chapter]] = None, audio: str | Path | None = None,
                   warn: Optional[Warn] = None, titler: Optional[Titler] = None) -> Episode:
    """Give ``episode`` its chapters from the first source (in ``options.sources`` order) that has any.

    ``given`` are the user's chapters (:func:`load_chapters`), ``audio`` the audio file whose
    embedded chapters count. Chapters the episode already has from its transcript (or an earlier
    run with given or embedded chapters) are the ``transcript`` source; detected ones are redone.
    """
    opts = options or ChaptersOptions()
    warn = warn or default_warn
    t0 = time.perf_counter()
    old_chapters = list(episode.chapters)
    duration = episode.duration or max((s.end for s in episode.segments), default=0.0)
    existing = [c for c in episode.chapters if c.source != "detected"]
    chosen: list[Chapter] = []
    used: Optional[str] = None
    for source in opts.sources:
        if source == "given" and given:
            chosen = [c.model_copy(update={"source": "given"}) for c in given]
        elif source == "embedded" and audio is not None:
            chosen = read_embedded(audio)
        elif source == "transcript" and existing:
            chosen = existing
        elif source == "detected" and episode.segments:
            chosen = detect_chapters(episode.segments, duration, opts, titler, _speaker_names(episode))
        if chosen:
            used = source
            chosen = normalize(chosen, duration, episode.segments, warn, what=f"{source} chapters")
            if chosen:
                break
    if given and used != "given":
        if "given" not in opts.sources:
            warn("--chapters ignored: the pipeline's [chapters] sources do not include 'given'")
        elif opts.sources.index(used or "given") < opts.sources.index("given"):
            warn(f"--chapters not used: {used} chapters come first in the pipeline's [chapters] sources")
        else:
            warn("--chapters not used: none of its chapters is inside the episode")
    episode = episode.model_copy(update={"chapters": chosen})
    episode = fill_titles(episode, warn, titler)
    if episode.chapters:  # a chapter list that breaks YouTube's rules is the user's to know about
        _, notes = youtube_chapters(episode)
        for note in notes:
            (warn if used != "detected" else log.info)(f"youtube_chapters.txt: {note}")
    episode = follow_chapters(episode, old_chapters)
    run = StageRun(model=None, settings={**opts.model_dump(), "source": used, "count": len(episode.chapters)},
                   version=__version__, seconds=round(time.perf_counter() - t0, 3),
                   finished=dt.datetime.now(dt.timezone.utc))
    log.info("%s: %d chapters (%s)", episode.source, len(episode.chapters), used or "none")
    return episode.model_copy(update={"provenance": {**episode.provenance, "chapters": run}})


def follow_chapters(episode: Episode, old: Sequence[Chapter]) -> Episode:
    """Summaries keyed to chapters after the chapters changed: a chapter's summary follows it
    when the chapter is still there (same start and title) to its new place; a summary of a
    chapter that is gone is dropped (never shown under another chapter's title). Bullets and
    quotes of the other summaries point at the chapter they fall in now."""
    new = episode.chapters
    if [(c.start, c.title) for c in old] == [(c.start, c.title) for c in new] or not episode.summaries:
        return episode
    where = {(round(c.start, 2), c.title): i for i, c in enumerate(new)}
    chapters = list(new)
    starts = sorted((c.start, i) for i, c in enumerate(new))

    def chapter_at(t: float | None) -> Optional[int]:
        if t is None or not starts:
            return None
        inside = [i for s, i in starts if s <= t + 1e-6]
        return inside[-1] if inside else starts[0][1]

    def moved(items):
        return [x.model_copy(update={"chapter": chapter_at(x.start)}) for x in items]

    summaries: dict = {}
    dropped = 0
    for key, summary in episode.summaries.items():
        if key.startswith(("chapter-", "section-")):
            was = old[summary.chapter] if summary.chapter is not None and summary.chapter < len(old) else None
            i = where.get((round(was.start, 2), was.title)) if was is not None else None
            if i is None:
                dropped += 1
                continue
            summaries[f"chapter-{i}"] = summary.model_copy(update={
                "chapter": i, "start": new[i].start, "end": new[i].end,
                "key_points": moved(summary.key_points), "quotes": moved(summary.quotes)})
            if was.summary and not chapters[i].summary:
                chapters[i] = chapters[i].model_copy(update={"summary": was.summary})
        else:
            summaries[key] = summary.model_copy(update={
                "tldr": moved(summary.tldr), "takeaways": moved(summary.takeaways),
                "key_points": moved(summary.key_points), "quotes": moved(summary.quotes)})
    if dropped:
        log.info("%d chapter summaries dropped: their chapters changed (summarize again for new ones)", dropped)
    return episode.model_copy(update={"summaries": summaries, "chapters": chapters})


# -- outputs --------------------------------------------------------------------------------------


def to_podcasting2_json(episode: Episode) -> str:
    """Podcasting 2.0 JSON chapters (version 1.2.0): ascending ``startTime``, ``title``, ``endTime``."""
    doc: dict = {"version": "1.2.0"}
    if episode.title:
        doc["title"] = episode.title
    doc["chapters"] = [{"startTime": round(c.start, 3), "title": c.title, "endTime": round(c.end, 3)}
                       for c in sorted(episode.chapters, key=lambda c: c.start)]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def youtube_chapters(episode: Episode) -> tuple[list[tuple[float, str]], list[str]]:
    """(start, title) pairs that obey YouTube's rules, and a note for each adjustment made.

    Rules: the first chapter at 0:00, every chapter at least 10 s, at least three chapters (not
    fixable without inventing chapters: noted only).
    """
    notes: list[str] = []
    items = [(c.start, c.title) for c in sorted(episode.chapters, key=lambda c: c.start)]
    if not items:
        return [], []
    end = max(episode.duration, items[-1][0])
    if items[0][0] > 0:
        notes.append(f"first chapter '{items[0][1]}' moved from {hms(items[0][0], False)} to 0:00 (YouTube rule)")
        items[0] = (0.0, items[0][1])
    while True:
        lengths = [(b[0] if b else end) - a[0] for a, b in zip(items, items[1:] + [None])]
        short = next((i for i, n in enumerate(lengths) if n < YOUTUBE_MIN_CHAPTER), None)
        if short is None or len(items) == 1:
            break
        if short == 0:
            notes.append(f"chapter '{items[0][1]}' is shorter than 10 s; merged into '{items[1][1]}' at 0:00")
            items = [(0.0, items[1][1])] + items[2:]
        else:
            notes.append(f"chapter '{items[short][1]}' at {hms(items[short][0], False)} is shorter than 10 s; "
                         f"merged into the chapter before it")
            del items[short]
    if len(items) < YOUTUBE_MIN_COUNT:
        notes.append(f"only {len(items)} chapter{'s' if len(items) != 1 else ''}; YouTube shows chapters "
                     f"only when there are at least {YOUTUBE_MIN_COUNT}")
    return items, notes


def to_youtube(episode: Episode) -> str:
    """``0:00 Title`` lines for a YouTube description."""
    items, _ = youtube_chapters(episode)
    long = episode.duration >= 3600
    # titles are untrusted text: one line each (a newline would make a chapter of its own), no HTML
    return "".join(f"{hms(t, always_hours=long)} {' '.join(one_line(plain_text(title)).split())}\n"
                   for t, title in items)


def check_id3_source(src: str | Path | None) -> Path:
    """The MP3 that ``--write-id3`` copies; anything else is an error before any work is done."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    if src is None:
        raise ConfigError("--write-id3 needs the episode's MP3; give it with --audio FILE")
    src = Path(src)
    if not src.is_file():
        raise InputError("file not found", src)
    try:
        MP3(src)
    except MutagenError:  # HeaderNotFoundError and friends
        raise InputError("--write-id3 needs an MP3 file; this is not one", src) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", src) from None
    return src


def write_id3(src: str | Path, dst: str | Path, episode: Episode) -> Path:
    """Copy the MP3 ``src`` to ``dst`` with ID3v2.3 CHAP frames (times in ms) and a top-level,
    ordered CTOC. Existing tags are kept; existing chapters are replaced. Written atomically."""
    import shutil

    from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags, Encoding, ID3NoHeaderError

    from .fsutil import atomic_open

    src, dst = check_id3_source(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise ConfigError("--write-id3 writes a copy; the output would overwrite the source", dst)
    chapters = sorted(episode.chapters, key=lambda c: c.start)
    with atomic_open(dst, "w+b") as fh:
        with open(src, "rb") as inp:
            shutil.copyfileobj(inp, fh)
        fh.flush()
        fh.seek(0)
        try:
            tags = ID3(fh)
        except ID3NoHeaderError:
            tags = ID3()
        tags.delall("CHAP")
        tags.delall("CTOC")
        # mutagen writes frames ordered by size, then id, and ffmpeg lists CHAP frames in file order:
        # equal-sized frames (UTF-16 titles, element ids padded to match) with ids in time order
        # come out in time order
        units = [len(c.title.encode("utf-16-le")) for c in chapters]
        ids = [f"chp{i:03d}" + "_" * (max(units) - u) for i, u in enumerate(units)]
        if chapters:
            tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                          child_element_ids=ids, sub_frames=[TIT2(text=["Chapters"])]))
        for eid, c in zip(ids, chapters):
            tags.add(CHAP(element_id=eid, start_time=int(round(c.start * 1000)), end_time=int(round(c.end * 1000)),
                          start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF,
                          sub_frames=[TIT2(encoding=Encoding.UTF16, text=[c.title])]))
        fh.seek(0)
        tags.save(fh, v2_version=3)
    return dst
