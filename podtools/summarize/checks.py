"""What every answer is held to and how its parts are taken: quotes found in the transcript
(and replaced by its own words), cited ids among the lines shown, the language asked
(py3langid), and repeated items dropped."""

from __future__ import annotations

import functools
import logging
import re
import threading
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Optional


from ..models import Episode
from .options import LANGUAGES

if TYPE_CHECKING:  # pragma: no cover
    pass

log = logging.getLogger("podtools.summarize")


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


