"""What the model is shown and asked: the answer models (a chunk's digest, the episode's), the
sections and transcript lines a summary is made of, chunking to a token budget, and the prompt
templates (``templates/prompts/*.j2``)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, create_model

from ..errors import ConfigError
from ..models import Episode
from ..templating import environment, template_error
from .options import LANGUAGES, Category, SummarizeOptions

if TYPE_CHECKING:  # pragma: no cover
    pass

log = logging.getLogger("podtools.summarize")


# -- the answers asked of the model ---------------------------------------------------------------

# what the prompts ask for, in words (templates/prompts/summarize_*.j2), for sizing max_tokens
TITLE_WORDS = 8  # "a short title (at most 8 words)"
SENTENCE_WORDS = 30  # a key point, TL;DR bullet or takeaway: one sentence
QUOTE_WORDS = 40  # a memorable sentence, word for word
MAX_KEY_POINTS = 5  # "2 to 4 items" (chapter), "2 to 5 items" (merge)
MAX_CHUNK_QUOTES = 2  # "0 to 2 memorable sentences"
# llama-cpp-python writes maxLength N as N nested optional rules, and llama.cpp's grammar parser
# refuses (and that server then dies) somewhere above 800: longer texts are left to max_tokens
GRAMMAR_MAX_CHARS = 400
OVERSHOOT = 1.5  # models write past a target length: room for that, not for a model that never stops


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CitedPoint(_Strict):
    text: str
    segment: int


class CitedQuote(_Strict):
    segment: int
    text: str


class ChunkDigest(_Strict):
    """Map answer: one chunk (or a merged chapter) of transcript."""

    title: str
    summary: str
    key_points: list[CitedPoint]
    quotes: list[CitedQuote]


class Takeaway(_Strict):
    text: str
    segment: int


def episode_digest_model(cats: list[Category]) -> type[BaseModel]:
    """Reduce answer; the TL;DR categories are an enum of the category names."""
    names = tuple(c.name for c in cats)
    bullet = create_model("TldrBullet", __base__=_Strict, text=(str, ...), segment=(int, ...),
                          category=(Literal[names], ...))  # type: ignore[valid-type]
    return create_model("EpisodeDigest", __base__=_Strict, summary=(str, ...), tldr=(list[bullet], ...),
                        takeaways=(list[Takeaway], ...), quotes=(list[CitedQuote], ...))


# -- sections and chunks ----------------------------------------------------------------------------


@dataclass
class SummaryPart:
    """A chapter (or, without chapters, a stretch of the episode) and its segment ids."""

    index: int
    title: Optional[str]
    start: float
    end: float
    chapter: Optional[int]
    segments: list[int]


@dataclass
class Line:
    segment: int
    text: str  # "[12] Alex: ..."
    tokens: int


@dataclass
class Digest:
    """A summarized piece with resolved references (segment ids checked against the transcript)."""

    title: str
    summary: str
    key_points: list[tuple[str, int]]
    quotes: list[tuple[str, int]]
    method: str  # llm | extractive
    fallback: Optional[str] = None  # why the extractive summary stands in for the LLM's
    span: list[int] = field(default_factory=list)  # ids of the transcript segments it covers


def summary_parts(episode: Episode, untimed_seconds: float | None = None) -> list[SummaryPart]:
    """Chapters with their segments; without chapters one section, or slices of ``untimed_seconds``."""
    segs = episode.segments
    if episode.chapters:
        order = sorted(range(len(episode.chapters)), key=lambda i: episode.chapters[i].start)
        out = [SummaryPart(k, episode.chapters[i].title, episode.chapters[i].start, episode.chapters[i].end, i, [])
               for k, i in enumerate(order)]
        for sid, seg in enumerate(segs):
            k = 0
            for j, sec in enumerate(out):
                if seg.start + 1e-6 >= sec.start:
                    k = j
            out[k].segments.append(sid)
        return out
    end = episode.duration or (segs[-1].end if segs else 0.0)
    if not untimed_seconds or end <= untimed_seconds * 1.5:
        return [SummaryPart(0, None, 0.0, end, None, list(range(len(segs))))]
    n = max(1, round(end / untimed_seconds))
    width = end / n
    out = [SummaryPart(k, None, k * width, (k + 1) * width, None, []) for k in range(n)]
    for sid, seg in enumerate(segs):
        out[min(n - 1, int(seg.start // width))].segments.append(sid)
    return out


def transcript_line(episode: Episode, sid: int) -> str:
    seg = episode.segments[sid]
    name = episode.speaker_name(seg.speaker)
    text = " ".join(seg.text.split())
    return f"[{sid}] {name}: {text}" if name else f"[{sid}] {text}"


def chunk_lines(lines: list[Line], budget: int, count: Callable[[str], int]) -> list[list[Line]]:
    """Cut ``lines`` into chunks of at most ``budget`` tokens, balanced in size, never dropping text.

    A single line longer than the budget is split at word boundaries into pieces that keep
    its segment id.
    """
    pieces: list[Line] = []
    for line in lines:
        if line.tokens <= budget:
            pieces.append(line)
            continue
        words = line.text.split(" ")
        head = words[0]  # "[12]"
        cur: list[str] = []
        for w in words[1:]:
            cand = " ".join([head, *cur, w])
            if cur and count(cand) > budget:
                text = " ".join([head, *cur])
                pieces.append(Line(line.segment, text, count(text)))
                cur = [w]
            else:
                cur.append(w)
        if cur:
            text = " ".join([head, *cur])
            pieces.append(Line(line.segment, text, count(text)))
    total = sum(p.tokens + 1 for p in pieces)
    if not pieces:
        return []
    n = max(1, math.ceil(total / budget))
    target = math.ceil(total / n)
    chunks: list[list[Line]] = [[]]
    size = 0
    for p in pieces:
        if chunks[-1] and (size + p.tokens + 1 > budget or (size >= target and len(chunks) < n)):
            chunks.append([])
            size = 0
        chunks[-1].append(p)
        size += p.tokens + 1
    return chunks


# -- prompts ---------------------------------------------------------------------------------------


def render_prompt(name: str, templates_dir: str | Path | None, **variables) -> list[dict[str, str]]:
    """Render a prompt template's ``system`` and ``user`` blocks into chat messages."""
    env = environment(templates_dir)
    try:
        template = env.get_template(name)
        messages = []
        for role in ("system", "user"):
            block = template.blocks.get(role)
            if block is None:
                raise ConfigError(f"prompt template {name!r} has no {{% block {role} %}}")
            text = "".join(block(template.new_context(variables))).strip()
            if text:
                messages.append({"role": role, "content": text})
        return messages
    except ConfigError:
        raise
    except Exception:
        try:  # map the error to the template's own line numbers, as Template.render does
            env.handle_exception()
        except Exception as exc:
            raise template_error(exc, name, templates_dir) from None


def _language(options: SummarizeOptions, episode: Episode) -> str:
    code = options.language or episode.language or "en"
    return LANGUAGES.get(code.split("-")[0].lower(), code)


def _names_in(episode: Episode, start: float, end: float) -> list[str]:
    seen: dict[str, None] = {}
    for m in episode.mentions:
        if start - 1e-6 <= m.start < end + 1e-6 and m.canonical not in seen:
            seen[m.canonical] = None
    return list(seen)


def _digest_text(d: Digest, episode: Episode, heading: str) -> str:
    """A digest as the merge/reduce prompts show it: ids kept, times left out."""
    out = [heading, f"Summary: {d.summary}"]
    if d.key_points:
        out.append("Key points:")
        out += [f"- [{sid}] {text}" for text, sid in d.key_points]
    if d.quotes:
        out.append("Quotes:")
        for text, sid in d.quotes:
            name = episode.speaker_name(episode.segments[sid].speaker) if sid < len(episode.segments) else None
            out.append(f'- [{sid}] {name}: "{text}"' if name else f'- [{sid}] "{text}"')
    return "\n".join(out)
