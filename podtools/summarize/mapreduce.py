"""The LLM summarizer: a map over each chapter's chunks, a merge of a long chapter's parts, and
a reduce to the episode summary, with answers sized and bounded to what is asked, a progress bar
per phase, and a fallback per part."""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Optional

from pydantic import BaseModel

from ..errors import ConfigError, ModelError
from ..llm import CircuitOpen, _strict_schema
from ..models import Episode
from .checks import _checks, _id_check, _language_check, _unique, match_quote
from .extractive import Extractor
from .options import CONTEXT_MARGIN, Category, SummarizeOptions
from .parts import (GRAMMAR_MAX_CHARS, MAX_CHUNK_QUOTES, MAX_KEY_POINTS, OVERSHOOT, QUOTE_WORDS, SENTENCE_WORDS,
                    TITLE_WORDS, ChunkDigest, Digest, Line, SummaryPart, _digest_text, _language, _names_in,
                    chunk_lines, episode_digest_model, render_prompt, summary_parts, transcript_line)

if TYPE_CHECKING:  # pragma: no cover
    from ..llm import LLM

log = logging.getLogger("podtools.summarize")


class _LazyExtractor:
    """An :class:`Extractor` built on first use."""

    def __init__(self, episode: Episode):
        self.episode = episode
        self._ex: Optional[Extractor] = None
        self._lock = threading.Lock()

    def _get(self) -> Extractor:
        with self._lock:
            if self._ex is None:
                self._ex = Extractor(self.episode)
            return self._ex

    def digests(self, secs: list[SummaryPart], options: SummarizeOptions) -> list[Digest]:
        ex = self._get()
        with self._lock:  # scoring writes Sentence.score: one caller at a time
            return ex.digests(secs, options)

    def episode_summary(self, *args, **kwargs) -> dict[str, Any]:
        ex = self._get()
        with self._lock:
            return ex.episode_summary(*args, **kwargs)


class _MapReduce:
    def __init__(self, episode: Episode, options: SummarizeOptions, llm: "LLM", templates_dir, extractor: Extractor,
                 cats: list[Category], progress):
        self.episode = episode
        self.options = options
        self.llm = llm
        self.templates_dir = templates_dir
        self.extractor = extractor
        self.cats = cats
        self.progress = progress
        self.notes: list[str] = []
        self._circuit_noted = False
        self.count = llm.counter.count
        self.language = _language(options, episode)
        self.context = llm.settings.context_window()
        self.max_out = llm.settings.max_output_tokens
        self._fallbacks: Optional[list[Digest]] = None
        self._secs: list[SummaryPart] = []
        self._per_word: Optional[float] = None
        self._chars_per_word: Optional[float] = None

    # -- answers sized to what the prompt asks for
    @functools.cached_property
    def _sample(self) -> str:
        """The episode's own words (its first 400 segments) that the per-word measures read."""
        return " ".join(seg.text for seg in self.episode.segments[:400])

    def tokens_per_word(self) -> float:
        """The model's tokens per word on this episode's own words (its tokenizer, its language)."""
        if self._per_word is None:
            words = len(self._sample.split())
            self._per_word = max(1.0, self.count(self._sample) / words) if words else 1.5
        return self._per_word

    def answer_tokens(self, schema: type[BaseModel]) -> int:
        """``max_tokens`` for one answer: the words the prompt asks for (a chapter summary of
        ``chapter_words``, a title, key points and quotes; or the episode's summary, TL;DR,
        takeaways and quotes) with room for a model that writes past its target, in this
        model's tokens per word, plus the JSON around them; never more than [llm]
        max_output_tokens. A model that does not stop is cut here instead of at the ceiling."""
        o = self.options
        point = {"text": "", "segment": 99999}
        if schema is ChunkDigest:
            skeleton: dict[str, Any] = {"title": "", "summary": "", "key_points": [point] * MAX_KEY_POINTS,
                                        "quotes": [point] * MAX_CHUNK_QUOTES}
            words = TITLE_WORDS + o.chapter_words + MAX_KEY_POINTS * SENTENCE_WORDS + MAX_CHUNK_QUOTES * QUOTE_WORDS
        else:
            longest = max((c.name for c in self.cats), key=len, default="")
            skeleton = {"summary": "", "tldr": [{**point, "category": longest}] * o.tldr_bullets,
                        "takeaways": [point] * o.takeaways, "quotes": [point] * o.quotes}
            words = o.summary_words + (o.tldr_bullets + o.takeaways) * SENTENCE_WORDS + o.quotes * QUOTE_WORDS
        tokens = self.count(json.dumps(skeleton)) + OVERSHOOT * words * self.tokens_per_word()
        return min(self.max_out, math.ceil(tokens) + 16)

    def chars_per_word(self) -> float:
        """Characters per word (the space included) in this episode's own words."""
        if self._chars_per_word is None:
            words = self._sample.split()
            self._chars_per_word = (sum(map(len, words)) / len(words) + 1) if words else 6.0
        return self._chars_per_word

    def check(self, ids: set[int]):
        """What every answer is held to: cited lines among those shown, the language asked."""
        return _checks(_id_check(ids), _language_check(self.options.language or self.episode.language or "en"))

    def grammar_limit(self, words: int) -> Optional[int]:
        """The maxLength of a text of ``words`` words (with the room OVERSHOOT gives) where a
        grammar can hold one: None above GRAMMAR_MAX_CHARS."""
        limit = math.ceil(OVERSHOOT * words * self.chars_per_word())
        return limit if limit <= GRAMMAR_MAX_CHARS else None

    def tidy(self, text: str, words: int) -> str:
        """A short text as shown: stripped, and where a local server's grammar cut it at its
        maxLength (see ``bounds``), taken back to its last full sentence or whole word."""
        text = text.strip()
        limit = self.grammar_limit(words)
        if not self.llm.settings.is_local() or limit is None or len(text) < limit - 1:
            return text
        ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", text)]
        if ends and ends[-1] >= len(text) // 2:
            return text[:ends[-1]]
        head = text.rsplit(" ", 1)[0].rstrip(",;:- ")
        return head + "…" if head else text

    def bounds(self, schema: type[BaseModel], ids: set[int]) -> dict[str, dict[str, Any]]:
        """What a local server's grammar holds one answer to (see ``LLM.complete_json``): the
        lines it may cite are those the prompt showed; each text runs to at most OVERSHOOT x
        the words the prompt asks for; each list has at most the items asked for and, where the
        prompt asks for some, at least one."""
        o = self.options
        out: dict[str, dict[str, Any]] = {}  # the summary itself is held by max_tokens only (see GRAMMAR_MAX_CHARS)
        if schema is ChunkDigest:
            if title := self.grammar_limit(TITLE_WORDS):
                out["title"] = {"maxLength": title}
            lists = {"key_points": (SENTENCE_WORDS, MAX_KEY_POINTS, 1), "quotes": (QUOTE_WORDS, MAX_CHUNK_QUOTES, 0)}
        else:
            lists = {"tldr": (SENTENCE_WORDS, o.tldr_bullets, 1), "takeaways": (SENTENCE_WORDS, o.takeaways, 0),
                     "quotes": (QUOTE_WORDS, o.quotes, 0)}
        for name, (words, most, least) in lists.items():
            if not ids:  # nothing to cite: no item can be valid
                out[name] = {"maxItems": 0}
                continue
            out[name] = {"minItems": min(least, most), "maxItems": most}
            if limit := self.grammar_limit(words):
                out[f"{name}[].text"] = {"maxLength": limit}
            out[f"{name}[].segment"] = {"enum": sorted(ids)}
        return out

    # budget of the variable part of a prompt, given its rendering with that part empty
    def _budget(self, messages: list[dict[str, str]], schema: type[BaseModel]) -> int:
        overhead = self.llm.counter.count_messages(messages) + self.count(json.dumps(_strict_schema(schema))) + 40
        margin = int(self.context * CONTEXT_MARGIN) + 32
        answer = self.answer_tokens(schema)
        budget = self.context - overhead - answer - margin
        if budget < 100:
            raise ConfigError(
                f"the LLM context of {self.context} tokens is too small: the prompt takes {overhead} and the answer "
                f"{answer} (raise [llm] context_tokens or lower [llm] max_output_tokens)")
        return budget

    def _prompt(self, name: str, **variables) -> list[dict[str, str]]:
        base = dict(episode=self.episode, language=self.language, options=self.options,
                    categories=[c.name for c in self.cats])
        return render_prompt(name, self.templates_dir, **base, **variables)

    def _fallback(self, index: int) -> Digest:
        if self._fallbacks is None:
            self._fallbacks = self.extractor.digests(self._secs, self.options)
        return self._fallbacks[index]

    def run(self):
        ep = self.episode
        secs = summary_parts(ep)
        self._secs = secs
        # map: every section's lines, chunked to the budget
        jobs: list[tuple[int, int, int, list[Line]]] = []  # section, part, parts, lines
        for sec in secs:
            if not sec.segments:
                continue
            names = _names_in(ep, sec.start, sec.end)
            empty = self._prompt(self.options.chunk_prompt, section_title=sec.title, part=1, parts=1, lines="",
                                 names=names)
            budget = self._budget(empty, ChunkDigest)
            if self.options.chunk_tokens:
                budget = min(budget, self.options.chunk_tokens)
            lines = [Line(sid, t, self.count(t)) for sid in sec.segments for t in [transcript_line(ep, sid)]]
            chunks = chunk_lines(lines, budget, self.count)
            for k, chunk in enumerate(chunks):
                jobs.append((sec.index, k + 1, len(chunks), chunk))
        parts: dict[int, list[Optional[Digest]]] = {}
        for si, part, nparts, _ in jobs:
            parts.setdefault(si, [None] * nparts)

        def do(job):
            si, part, nparts, chunk = job
            sec = secs[si]
            label = self._label(sec, part, nparts)
            ids = {ln.segment for ln in chunk}
            messages = self._prompt(self.options.chunk_prompt, section_title=sec.title, part=part, parts=nparts,
                                    lines="\n".join(ln.text for ln in chunk),
                                    names=_names_in(ep, ep.segments[chunk[0].segment].start,
                                                    ep.segments[chunk[-1].segment].end))
            d = self._ask(messages, ChunkDigest, label, ids, lambda: self._fallback_part(si, chunk))
            return si, part, d, ep.segments[chunk[-1].segment].end

        workers = min(self.llm.concurrency(), max(1, len(jobs)))
        self._phase("summarize chapters", ep.duration or None, 0, len(jobs))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for n, (si, part, d, end) in enumerate(pool.map(do, jobs), 1):
                parts[si][part - 1] = d
                if self.progress:
                    self.progress.advance(end)
                    self._status(n, len(jobs))

        # merge the parts of long sections
        digests: list[Digest] = []
        for sec in secs:
            got = parts.get(sec.index)
            if not got:
                digests.append(Digest(sec.title or "", "", [], [], "llm"))
                continue
            if len(got) == 1:
                digests.append(got[0])
                continue
            digests.append(self._merge(got, sec.title, self._label(sec), sec.index))

        self._phase("summarize episode", None, 0, 1)
        reduced, method = self._reduce(secs, digests)
        return secs, digests, reduced, method

    # -- progress: a bar per phase (chapters, episode) with calls done and the LLM's tokens per second
    def _phase(self, name: str, total: Optional[float], done: int, calls: int) -> None:
        if self.progress and not self.llm.dry_run:
            self.progress.stage(name, total)
            self._status(done, calls)

    def _status(self, done: int, calls: int) -> None:
        if not self.progress or self.llm.dry_run:
            return
        rate = self.llm.usage.tokens_per_second()
        text = f"{done}/{calls} call{'s' if calls != 1 else ''}"
        self.progress.status(text + (f", {rate:.1f} tok/s" if rate else ""))

    def _label(self, sec: SummaryPart, part: int = 1, parts: int = 1) -> str:
        name = f"chapter {sec.index + 1}" if sec.chapter is not None else "transcript"
        return f"{name} part {part}/{parts}" if parts > 1 else name

    def _fallback_part(self, si: int, chunk: list[Line]) -> Digest:
        return self._extractive_over({ln.segment for ln in chunk}, self._secs[si].title)

    def _extractive_over(self, ids: set[int], title: Optional[str]) -> Digest:
        """The extractive digest of these transcript segments (stand-in for an unusable answer)."""
        sub = SummaryPart(0, title, 0, 0, None, sorted(ids))
        return self.extractor.digests([sub], self.options)[0]

    def _ask(self, messages, schema, label, ids: set[int], fallback: Callable[[], Digest],
             ids_span: Optional[set[int]] = None) -> Digest:
        try:
            ans = self.llm.complete_json(messages, schema, label, max_tokens=self.answer_tokens(schema),
                                         check=self.check(ids), bounds=self.bounds(schema, ids))
        except ModelError as exc:  # invalid, refused, timed out, server gone: this part falls back
            d = fallback()
            d.fallback = str(exc)
            self._note_failure(label, exc)
            return d
        if ans.data is None:  # dry run: stand in with the extractive digest (realistic prompt sizes)
            return fallback()
        d = self._resolve(ans.data, ids)
        d.span = sorted(ids_span if ids_span is not None else ids)
        return d

    def _note_failure(self, label: str, exc: Exception) -> None:
        """One note per failed part; once the breaker is open, one note for all that follow."""
        if isinstance(exc, CircuitOpen):
            if not self._circuit_noted:
                self._circuit_noted = True
                self.notes.append(f"{exc}: the remaining parts use extractive sentences")
            return
        self.notes.append(f"{label}: {exc}; used extractive sentences for it")

    def _resolve(self, data: ChunkDigest, ids: set[int]) -> Digest:
        quotes = []
        for q in data.quotes:
            m = match_quote(self.episode, q.segment, q.text)
            if m is None:
                log.info("dropped a quote not found in segment %d: %r", q.segment, q.text[:60])
                continue
            quotes.append(m)
        points = [(t, p.segment) for p in data.key_points if (t := self.tidy(p.text, SENTENCE_WORDS))]
        return Digest(self.tidy(data.title, TITLE_WORDS), data.summary.strip(), _unique(points), _unique(quotes),
                      "llm")

    def _merge(self, parts: list[Digest], title, label: str, index: int) -> Digest:
        """Merge digests (parts of a chapter, or groups for the reduce) into one, in rounds that fit."""
        level = 0
        while len(parts) > 1:
            level += 1
            groups = self._groups(parts, lambda texts: self._prompt(self.options.merge_prompt, section_title=title,
                                                                    digests="\n\n".join(texts)), ChunkDigest)
            merged = []
            for g, group in enumerate(groups):
                if len(group) == 1:
                    merged.append(group[0])
                    continue
                texts = [_digest_text(d, self.episode, f"Part {i + 1} of {len(group)}:") for i, d in enumerate(group)]
                messages = self._prompt(self.options.merge_prompt, section_title=title, digests="\n\n".join(texts))
                ids = {sid for d in group for _, sid in d.key_points + d.quotes}
                name = f"{label} merge" + (f" {level}.{g + 1}" if len(groups) > 1 or level > 1 else "")
                span = {sid for d in group for sid in d.span}
                merged.append(self._ask(messages, ChunkDigest, name, ids,
                                        lambda span=span: self._extractive_over(span, title), span))
            parts = merged
        return parts[0]

    def _groups(self, digests: list[Digest], render, schema) -> list[list[Digest]]:
        budget = self._budget(render([]), schema)
        groups: list[list[Digest]] = [[]]
        size = 0
        for i, d in enumerate(digests):
            t = self.count(_digest_text(d, self.episode, f"Part {i + 1} of {len(digests)}:")) + 2
            if groups[-1] and size + t > budget:
                groups.append([])
                size = 0
            groups[-1].append(d)
            size += t
        if len(groups) > 1 and len(groups) == len(digests):
            raise ConfigError(f"the LLM context of {self.context} tokens cannot hold two summaries at once "
                              "(raise [llm] context_tokens or lower [summarize] chapter_words)")
        return groups

    def _section_heading(self, sec: SummaryPart, d: Digest) -> str:
        title = sec.title or d.title or "Untitled"
        return f"Chapter {sec.index + 1}: {title}" if sec.chapter is not None else f"Part {sec.index + 1}: {title}"

    def _reduce(self, secs: list[SummaryPart], digests: list[Digest]):
        schema = episode_digest_model(self.cats)

        def render(texts):
            return self._prompt(self.options.episode_prompt, digests="\n\n".join(texts),
                                chapters=len(secs), names=_names_in(self.episode, 0, math.inf))

        items = [(s, d) for s, d in zip(secs, digests) if d.summary or d.key_points]
        texts = [_digest_text(d, self.episode, self._section_heading(s, d)) for s, d in items]
        budget = self._budget(render([]), schema)
        current = [d for _, d in items]
        level = 0
        while sum(self.count(t) + 2 for t in texts) > budget:
            # too many chapters for one call: merge neighbours, level by level (nothing is left out)
            level += 1
            groups = self._groups(current, lambda ts: self._prompt(
                self.options.merge_prompt, section_title=None, digests="\n\n".join(ts)), ChunkDigest)
            current = [self._merge(g, None, f"episode group {level}.{i + 1}", i) if len(g) > 1 else g[0]
                       for i, g in enumerate(groups)]
            texts = [_digest_text(d, self.episode, f"Part {i + 1}: {d.title}") for i, d in enumerate(current)]
        ids = {sid for d in current for _, sid in d.key_points + d.quotes}
        messages = render(texts)
        try:
            ans = self.llm.complete_json(messages, schema, "episode summary", max_tokens=self.answer_tokens(schema),
                                         check=self.check(ids), bounds=self.bounds(schema, ids))
        except ModelError as exc:
            self._note_failure("episode summary", exc)
            return self._extractive_reduce(secs, digests, str(exc)), "llm"
        if ans.data is None:
            return self._extractive_reduce(secs, digests, None), "llm"
        data = ans.data
        quotes = [m for q in data.quotes if (m := match_quote(self.episode, q.segment, q.text))]
        return {
            "summary": data.summary.strip(),
            "tldr": _unique([(t, b.segment, b.category) for b in data.tldr
                             if (t := self.tidy(b.text, SENTENCE_WORDS))]),
            "takeaways": _unique([(t, w.segment) for w in data.takeaways if (t := self.tidy(w.text, SENTENCE_WORDS))]),
            "quotes": _unique(quotes),
        }, "llm"

    def _extractive_reduce(self, secs, digests, reason):
        # episode_summary ranks sentences by the scores that digests() sets; on the LLM path nothing, or only
        # a fallen-back part (scored on its own), was scored, so score every section again here (not from the
        # _fallbacks cache: a part fallback after it rescored some sentences) - else the summary is empty
        self.extractor.digests(secs, self.options)
        out = self.extractor.episode_summary(secs, digests, self.options, self.cats)
        out["fallback"] = reason
        return out
