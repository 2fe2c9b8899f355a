"""Mentions stage: which AI models, benchmarks and organizations were discussed, when, by whom.

    from podtools.mentions import MentionsOptions
    from podtools.mentions.stage import mentions_stage
    episode = mentions_stage(episode, MentionsOptions())

The transcript is read in chunks of about ``chunk_words`` words through a spaCy pipeline
(``nlp.py``) built from the catalog (``catalog.yaml`` + the user's ``--catalog`` files), and the
matches are resolved (``resolve.py``) into :class:`~podtools.models.Mention` records with the
times of their words, their speaker and their chapter. Memory stays bounded by the chunk size
however long the transcript is (``iter_mentions`` streams).

Importing this module does not import spaCy; the pipeline is loaded on first use, once per
process and catalog.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..models import Chapter, Mention, Segment
from .catalog import NameCatalog
from .catalog import load_catalog as catalog_files
from .nlp import compile_pipeline
from .resolve import Resolver
from .text import clean, clean_same_length

log = logging.getLogger("podtools.mentions")

__all__ = ["MentionsOptions", "iter_mentions", "find_in_text", "find_spans", "load_catalog",
           "asr_vocabulary", "asr_biasing"]


class MentionsOptions(BaseModel):
    """Settings of the mentions stage; a pipeline preset's ``[mentions]`` table."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    catalog: list[str] = Field(default_factory=list, description="extra catalog files (YAML), after the shipped one")
    people_orgs: bool = Field(False, description="also run en_core_web_sm's NER for other organizations and people")
    fuzzy: bool = Field(True, description="fuzzy/phonetic matching of garbled names")
    resolve_bare: bool = Field(True, description="resolve 'the 405B', 'Mini' to the model just mentioned")
    unknown: bool = Field(True, description="report model- and benchmark-shaped names the catalog does not know "
                                            "(known: false)")
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    chunk_words: int = Field(1000, ge=50, description="words per spaCy doc; memory is bounded by this")
    asr_prompt: bool = Field(True, description="give Whisper the catalog's asr_prompt names as initial prompt "
                                               "(when the transcribe stage has none): better names and WER")
    vocabulary: list[str] = Field(default_factory=list, description="the show's own names (hosts, sponsors, "
                                  "products): given to Whisper after the catalog's prompt, found as mentions of kind name")
    asr_hotwords: bool = Field(False, description="give Whisper catalog names as hotwords: more names found but a "
                                                  "worse WER (benchmarks/mentions.py), so off by default")


def load_catalog(options: MentionsOptions | None = None) -> NameCatalog:
    """The catalog these options name: the shipped one, the ``catalog`` files, the vocabulary."""
    options = options or MentionsOptions()
    return catalog_files(options.catalog, vocabulary=options.vocabulary)


# -- words with times -----------------------------------------------------------------------


@dataclass
class _W:
    text: str
    start: float
    end: float
    speaker: Optional[str]


def _words_of(seg: Segment) -> list[_W]:
    if seg.words:
        return [_W(w.text, w.start, w.end, w.speaker or seg.speaker) for w in seg.words if w.text.strip()]
    pieces = seg.text.split()
    if not pieces:
        return []
    total = sum(len(p) + 1 for p in pieces)
    out, pos = [], 0
    span = max(seg.end - seg.start, 0.0)
    for p in pieces:  # no word times: spread the segment's time over its characters
        a = seg.start + span * pos / total
        pos += len(p) + 1
        out.append(_W(p, round(a, 3), round(seg.start + span * pos / total, 3), seg.speaker))
    return out


@dataclass
class _Chunk:
    text: str
    starts: list[int]  # character offset of each word in text
    words: list[_W]
    chapter: Optional[int] = None  # the chapter all its words are in (a chunk ends where a chapter does)


def _chunks(segments: Iterable[Segment], chunk_words: int, chapters: "_Chapters | None" = None) -> Iterator[_Chunk]:
    parts: list[str] = []
    starts: list[int] = []
    words: list[_W] = []
    pos = 0
    chapter = None
    for seg in segments:
        here = chapters.at(seg.start) if chapters is not None else None
        if here != chapter:
            if words:
                yield _Chunk(" ".join(parts), starts, words, chapter)
                parts, starts, words, pos = [], [], [], 0
            chapter = here
        for w in _words_of(seg):
            text = clean(w.text).strip()  # full-width forms, ligatures, no-break and zero-width spaces
            if not text:
                continue
            starts.append(pos)
            parts.append(text)
            words.append(w)
            pos += len(text) + 1
        if len(words) >= chunk_words:
            yield _Chunk(" ".join(parts), starts, words, chapter)
            parts, starts, words, pos = [], [], [], 0
    if words:
        yield _Chunk(" ".join(parts), starts, words, chapter)


class _Chapters:
    def __init__(self, chapters: Sequence[Chapter]):
        order = sorted(range(len(chapters)), key=lambda i: chapters[i].start)
        self.starts = [chapters[i].start for i in order]
        self.index = order

    def at(self, t: float) -> Optional[int]:
        if not self.starts:
            return None
        k = bisect.bisect_right(self.starts, t + 1e-6) - 1
        return self.index[max(k, 0)]


# -- the stage --------------------------------------------------------------------------------


def iter_mentions(segments: Iterable[Segment], options: MentionsOptions | None = None,
                  chapters: Sequence[Chapter] = (), catalog=None,
                  recorded: dt.date | dt.datetime | str | None = None) -> Iterator[Mention]:
    """Mentions in ``segments``, in order, as they are found (segments may be a generator).
    ``recorded``: when the episode was recorded (or published), if known; a name said in part
    ("Mini", "the 70B") or misheard is then never a model released after it."""
    options = options or MentionsOptions()
    catalog = catalog or load_catalog(options)
    compiled = compile_pipeline(catalog, ner=options.people_orgs)
    resolver = Resolver(compiled, fuzzy=options.fuzzy, resolve_bare=options.resolve_bare,
                        unknown=options.unknown, people_orgs=options.people_orgs, recorded=_date_text(recorded))
    chap = _Chapters(chapters)
    stream = ((c.text, c) for c in _chunks(segments, options.chunk_words, chap if chapters else None))
    for doc, chunk in compiled.nlp.pipe(stream, as_tuples=True, batch_size=8):
        resolver.enter(chunk.chapter)  # "70B", "Opus", "3.1" refer to the models of this chapter's discussion
        for raw in resolver.resolve(doc):
            if raw.confidence < options.min_confidence:
                continue
            i = max(bisect.bisect_right(chunk.starts, raw.start_char) - 1, 0)
            j = max(bisect.bisect_right(chunk.starts, max(raw.end_char - 1, raw.start_char)) - 1, i)
            first, last = chunk.words[i], chunk.words[j]
            yield Mention(canonical=raw.canonical, kind=raw.kind, surface=raw.surface, start=first.start,
                          end=max(last.end, first.start), speaker=first.speaker, chapter=chap.at(first.start),
                          confidence=round(raw.confidence, 3), known=raw.known, size=raw.size, org=raw.org,
                          method=raw.method)


def find_spans(text: str, options: MentionsOptions | None = None, catalog=None,
               recorded: dt.date | dt.datetime | str | None = None):
    """Mentions in plain text as :class:`~podtools.mentions.resolve.Raw` records whose
    ``start_char``/``end_char`` index ``text`` (lines are read in chunks of ``chunk_words``);
    ``recorded`` as for :func:`iter_mentions`."""
    options = options or MentionsOptions()
    catalog = catalog or load_catalog(options)
    compiled = compile_pipeline(catalog, ner=options.people_orgs)
    resolver = Resolver(compiled, fuzzy=options.fuzzy, resolve_bare=options.resolve_bare,
                        unknown=options.unknown, people_orgs=options.people_orgs, recorded=_date_text(recorded))

    def chunks():
        pos, start, words, parts = 0, 0, 0, []
        for line in clean_same_length(text).splitlines(keepends=True):
            parts.append(line)
            words += len(line.split())
            pos += len(line)
            if words >= options.chunk_words:
                yield "".join(parts), start
                parts, start, words = [], pos, 0
        if parts:
            yield "".join(parts), start

    out = []
    for doc, offset in compiled.nlp.pipe(chunks(), as_tuples=True, batch_size=8):
        for raw in resolver.resolve(doc):
            if raw.confidence >= options.min_confidence:
                raw.start_char += offset
                raw.end_char += offset
                out.append(raw)
    return out


def find_in_text(text: str, options: MentionsOptions | None = None, catalog=None,
                 recorded: dt.date | dt.datetime | str | None = None) -> list[Mention]:
    """Mentions in plain text (no times: every start/end is 0). Paragraphs become segments."""
    segments = [Segment(start=0.0, end=0.0, text=p) for p in text.split("\n") if p.strip()]
    return list(iter_mentions(segments, options, catalog=catalog, recorded=recorded))


def _date_text(recorded: dt.date | dt.datetime | str | None) -> str | None:
    return recorded.isoformat() if isinstance(recorded, (dt.date, dt.datetime)) else recorded


def asr_vocabulary(options: MentionsOptions | None = None, limit: int = 40) -> str:
    """Catalog names for faster-whisper's ``hotwords`` (most recent releases first)."""
    return ", ".join(load_catalog(options).hotwords(limit=limit))


def asr_biasing(options: MentionsOptions | None = None) -> dict:
    """TranscribeOptions fields that bias Whisper towards the catalog's names, per the options,
    and towards the user's vocabulary (always: it is what the user asked for)."""
    options = options or MentionsOptions()
    out = {}
    if options.enabled and options.asr_prompt:
        prompt = load_catalog(options).prompt()
        if prompt:
            out["initial_prompt"] = prompt
    elif options.vocabulary:
        out["initial_prompt"] = "Names: " + ", ".join(options.vocabulary) + "."
    if options.enabled and options.asr_hotwords:
        out["hotwords"] = ", ".join([*options.vocabulary, asr_vocabulary(options)])
    return out
