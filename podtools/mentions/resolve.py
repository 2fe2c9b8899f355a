"""From spaCy docs to mentions: catalog matches, sizes, references said alone, names found by sound
or spelling, and unknown names.

A :class:`Resolver` reads the docs of one transcript in order. It keeps the recent mentions, so
that "the 405B" or "Mini" a few sentences after "Llama 3.1" / "GPT-4o" resolves to that model even
across chunk boundaries, and the models under discussion in the current chapter
(:mod:`.discourse`), so that "70B is the sweet spot" or "3.1 is out" minutes later still does.
"""

from __future__ import annotations

import bisect
import re
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Optional

from .catalog import Entry
from .cues import (ACRONYM_WORD, ACTIVE_SIZE, AI_TALK, ARENA_BEFORE, ARENA_SAID, BE_FORMS, BENCHMARK_TAILS, CAMEL,
                   CHECKPOINT_WORDS, CHIP, CHOICE_WORDS, CLAUSE_LEADS, CONTRASTS, COUNT_NOUNS, COUNTING_THAN, CURRENCY,
                   DETERMINERS, ENTER_LEAVE, GENERIC_ACRONYMS, GREETINGS, IRREGULAR_PAST, LETTER_DOT, LIST_GLUE,
                   MODEL_CUES, NOT_OBJECT_OF, OBJECT_PRONOUNS, OBJECT_VERBS, ONE_DIGIT_SIZES, OWNERS, PERSON_BEFORE,
                   PERSON_TITLES, PLACE_PREPOSITIONS, PLURAL_VERBS, QUALITY_COMPARATIVES, RANKING_WORDS, RESULT_NOUNS,
                   SAID_BY_PERSON, SET_AGAINST_ENDS, SINGULAR_LEADS, SIZE_JOINERS, SIZE_LIST_WORDS, SIZE_NOUNS,
                   SMALL_NUMBER, SPACED_TAILS, SPELLED_LETTERS, SUBJECT_LEADS, TOPIC_ADJECTIVES, TOPIC_NOUNS,
                   TWO_DIGITS, UNITLESS, USE_VERB_FORMS, VERB_LEADS, VERSION_TOKEN, adverb, benchmark_shaped, built_on,
                   clause_subject, clean_surface, compared_to_model, corrected_before, introduced_names, month_of,
                   months_apart, not_this_name, past_verb, plain_english, product_name, said_of_previous,
                   sentence_start, size_text, used_as_tool, verb_form, version_alone, whole_version_alone, word_before,
                   word_said)
from .discourse import EPISODE_MEMORY, IN_DISCUSSION, PREVIOUS, SPAN, Discourse, family_of
from .fuzzy import FuzzyIndex, english_word
from .nlp import (CLOCK_WORDS, SIZE_UNITS, SPELLED_UNITS, Compiled, date_code, dictionary_words, irregular_verb_forms,
                  letter_heard, size_spans, table, variant_words)
from .phonetic import CUES, NEAR, SCORE_WORDS, PhoneticIndex, sound
from .text import NUMBER_WORDS, atoms, digits_of

SHORT_NEAR_MISS = 5  # letters: a one-word near miss this short ("Emma" for Gemma) counts only in context
CONFIDENCE = {"name": 1.0, "alias": 1.0, "cased": 0.95, "asr": 0.9, "version": 0.7, "bare": 0.75,
              "short": 0.7, "discourse": 0.65, "sound": 0.6, "size": 0.6, "unknown": 0.5, "ner": 0.6}
EARLIER_CONFIDENCE = 0.55  # a reference resolved against a model of an earlier chapter
BARE_WINDOW = 120  # tokens back that "the 405B" may refer to
ONE_DIGIT_WINDOW = 300  # tokens back (two minutes of talk) that a model said in a size makes "the eight" it
VERSION_WORDS = frozenset({"version", "release", "v", "build", "update"})  # "version 2.0 Pro": of something else
SHORT_WINDOW = 60  # tokens back that "Mini" may refer to
ANNOUNCED = 1  # months: a model released this long after an episode was recorded may be talked about in
# it by its coming name (o3-mini, announced in December 2024, out at the end of January)
# words near a context length said as a model ("the 32K is double that, six cents per thousand tokens"); not
# "the 8K TV", "I ran the 8K on Saturday"
CONTEXT_WORDS = {"context", "model", "models", "version", "versions", "token", "tokens", "cents", "window", "api",
                 "pages", "price", "pricing", "prompt", "completion", "access", "waitlist", "expensive", "cheaper"}
ORG_NEAR = 10  # tokens either side where a model's maker, named, makes a word of its name that model
VERSION_WINDOW = 15  # tokens back that "3.1" may refer to ("the Llama 3 family, 3.1 in July")


# verbs said of a model, never of a person ("you ran Kimi?", "we quantized Gemma")
MACHINE_VERBS = frozenset({"ran", "run", "runs", "running", "benchmarked", "benchmark", "quantized", "quantize",
                           "deployed", "deploy", "self-hosted", "downloaded", "download", "fine-tuned", "finetuned"})
# words that label a number said after them ("my PIN is 0125", "flight 0125", "born in oh five oh six")
NUMBER_LABELS = frozenset({"pin", "code", "number", "no", "flight", "room", "exit", "gate", "route", "bus", "apartment",
                           "suite", "invoice", "order", "ticket", "seat", "platform", "extension", "zip", "birthday",
                           "born", "in", "on", "since", "year"})
PLAN_WORDS = frozenset({"pro", "plus", "max", "ultra", "team", "enterprise", "premium", "free"})  # "Pro users"
PLAN_NOUNS = frozenset({"subscriber", "subscribers", "subscription", "subscriptions", "plan", "plans", "tier",
                        "tiers", "user", "users", "member", "members", "account", "accounts", "customers"})
ASKED = frozenset({"ask", "asks", "asked", "asking", "tell", "told", "prompt", "prompted"})
LIST_JOINERS = frozenset({",", "or", "and", "versus", "vs", "vs.", "now", "not", "maybe", "even", "also", "then"})
CLOCK_UNITS = frozenset({"hours", "hrs", "am", "pm", "a.m.", "p.m.", "o'clock", "hundred", "zulu"})  # "0930 hours"
_SAID_NUMBER = re.compile(r"^\d{1,2}(\.\d{1,2})?$")  # a version as the normalizer reads it ("one point three")
NAMED_SIZE = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?[BM])\b")  # "Yi-34B", "Nemotron-4 340B": a size in the name


def _version_number(entry: Entry) -> str:
    """The number of a model's version, without its variant word ("Sonnet 4.5", "3.7 Sonnet": 4.5, 3.7)."""
    words = (entry.version or "").split()
    return next((w for w in words if w[:1].isdigit()), "") if len(words) == 2 else ""


@lru_cache(maxsize=4096)
def _named_sizes(name: str) -> tuple[str, ...]:
    return tuple(NAMED_SIZE.findall(name))


def _model_of_size(entry: Entry, size: Optional[str]) -> bool:
    """Whether ``entry`` is a model that comes in ``size`` (a reference by size may mean it): one
    of its sizes, or the size its name says ("the 34B" after Yi-34B)."""
    return entry.kind == "model" and (size in entry.sizes or not entry.sizes and size in _named_sizes(entry.name))


def _size_after(doc, e: int, sizes: dict[int, int], covered: list[bool]) -> tuple[Optional[str], int]:
    """The size said right after a model's name ending at ``e`` ("Gemma 3 27B", "Qwen3 at 8B"),
    as (size, new end) with its words covered; (None, e) when none follows."""
    at = e + 1 if e + 1 < len(doc) and doc[e].lower_ == "at" and e + 1 in sizes else e
    if at not in sizes:
        return None, e
    for t in range(e, sizes[at]):
        covered[t] = True
    return size_text(doc[at:sizes[at]]), sizes[at]


@lru_cache(maxsize=4)
def _sentence_of(doc, s: int, e: int) -> tuple[int, int]:
    """The token span of the sentence that holds ``doc[s:e]`` (as ``sentence_start`` draws them)."""
    a, b = s, e
    while a > 0 and not sentence_start(doc, a):
        a -= 1
    while b < len(doc) and not sentence_start(doc, b):
        b += 1
    return a, b


def _indexes(compiled: Compiled) -> tuple[FuzzyIndex, PhoneticIndex]:
    """The catalog's names by spelling and by sound: built once per compiled catalog, not per
    transcript (with the catalog's 700 entries, building them took a sixth of a 90-minute run)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    stop = frozenset(STOP_WORDS)
    fuzzy = FuzzyIndex(compiled.by_atoms, stop, dictionary_words())
    return fuzzy, PhoneticIndex(compiled.by_atoms, stop, fuzzy.is_word)


@dataclass
class Raw:
    """One mention in a doc: character offsets into the doc's text."""

    start_char: int
    end_char: int
    canonical: str
    kind: str
    method: str
    confidence: float
    known: bool = True
    size: Optional[str] = None
    org: Optional[str] = None
    entry: Optional[Entry] = field(default=None, repr=False)
    surface: str = ""


@dataclass
class _Prim:
    s: int
    e: int
    entry: Optional[Entry]
    method: str
    confidence: float
    size: Optional[str] = None
    canonical: Optional[str] = None  # unknown names
    kind: Optional[str] = None
    known: bool = True
    base: bool = False  # named as what another model is built on ("four on Qwen 2.5"): not the topic


class Resolver:
    def __init__(self, compiled: Compiled, fuzzy: bool = True, resolve_bare: bool = True, unknown: bool = True,
                 people_orgs: bool = False, recorded: Optional[str] = None):
        from spacy.lang.en.stop_words import STOP_WORDS

        self.c = compiled
        self.until = month_of(recorded) if recorded else None  # the episode's month: no guess is a model
        # released after it (a name said in full still is: "GPT-5 is coming" in 2024)
        self._said: set[str] = set()  # the models named in the episode so far (by their names)
        self.fuzzy_on = fuzzy
        self.bare_on = resolve_bare
        self.unknown_on = unknown
        self.ner_on = people_orgs
        self.stop = frozenset(STOP_WORDS)
        self.fuzzy, self.phonetic = _indexes(compiled) if fuzzy else (None, None)
        self._is_word = partial(english_word, dictionary=dictionary_words(), stop=self.stop)  # (fuzzy on or off)
        orgs = {e.name for e in compiled.catalog.entries if e.kind == "org"}
        # families no name of which is matched alone ("Yi": a surname; "Nova", "Command": words), but their lab's
        self._unnamed_families = {e.name: e for e in compiled.catalog.entries
                                  if e.kind == "family" and not e.standalone and e.name not in orgs}
        self.discourse = Discourse()
        self.history: deque[tuple[int, Entry, Optional[str]]] = deque(maxlen=64)  # earlier docs
        self._doc_hist: list[tuple[int, Entry, Optional[str]]] = []  # the current doc, in order
        self._doc_pos: list[int] = []
        self._sized_ends: dict[int, Entry] = {}  # the current doc: token ends of names said with a size
        self._dated: dict[str, Entry] = {}  # models whose checkpoints were said by their dates ("R1 0528")
        self.base = 0  # token offset of the current doc within the whole transcript
        self._chapter_start = 0  # token position where the current chapter began
        self._benchmarks: list[int] = []  # token positions of the benchmarks named (the latest ones), sorted
        self._named_orgs: set[str] = set()  # the labs named in the episode ("LMSYS": its benchmarks' names)
        self._named_benchmarks: dict[str, Entry] = {}  # every benchmark named in the episode, latest last
        # (bounded by the catalog: "best on Verified" an hour after SWE-bench Verified was named)

    def enter(self, chapter: object) -> None:
        """The docs that follow belong to ``chapter`` (an index; None where there are no chapters)."""
        if chapter != self.discourse.scope:
            self._chapter_start = self.base
        self.discourse.enter(chapter)

    def _benchmark_talk(self, i: int) -> bool:
        """Whether a benchmark was named in this chapter before token ``i`` of the doc (without
        chapters: in the last ``SPAN`` tokens)."""
        pos = self.base + i
        start = self._chapter_start if self.discourse.scope is not None else pos - SPAN
        k = bisect.bisect_left(self._benchmarks, pos)
        return k > 0 and self._benchmarks[k - 1] >= start

    # -- helpers -----------------------------------------------------------------------------

    def _sizes(self, doc) -> dict[int, int]:
        out: dict[int, int] = {}
        for s, e in size_spans(doc):
            # the number and its unit are written together ("405B", "8x7B"); ASR also writes "405 B",
            # which counts only as "the 405 B" / "405 B model" / "Qwen 2.5 32 B" with a capital B
            if e - s == 2 and doc[e - 1].lower_ in SPELLED_UNITS:  # "70 billion", as said
                if not self._free_standing(doc, s, e):
                    continue  # "8 billion people", "$70 billion"
            elif any(doc[t].whitespace_ for t in range(s, e - 1)):
                spaced = (e - s == 2 and doc[e - 1].text.rstrip("-.") == "B"  # "the eight B.", "LLaMA seven B"
                          and ((s > 0 and (doc[s - 1].lower_ in DETERMINERS or VERSION_TOKEN.match(doc[s - 1].norm_)
                                           or doc[s - 1].ent_id_ and doc[s - 1].ent_type_ != "PT_NOT"))
                               or (e < len(doc) and doc[e].lower_ in MODEL_CUES)  # "Qwen 2. 5 32 B"
                               or self._in_size_list(doc, s, e, out)))
                if not spaced:
                    continue
            if e < len(doc) and doc[e].is_alpha and not doc[e - 1].whitespace_ and not doc[e - 1].text.endswith("-"):
                continue  # "405Bx": not a size ("405B-model" is)
            if s > 0 and not doc[s - 1].whitespace_ and doc[s - 1].is_alpha and len(doc[s - 1]) == 1:
                continue  # "b1.58", "V2": part of a name, not a size
            if e - s <= out.get(s, s) - s:
                continue
            out[s] = e
        return out

    @staticmethod
    def _in_size_list(doc, s: int, e: int, earlier: dict[int, int]) -> bool:
        """Whether the size said apart at ``doc[s:e]`` ("seven B") is one of a list of sizes: after the
        word "sizes" ("Three sizes, seven B, thirteen B"), after another size of the list (``earlier``:
        start -> end of the sizes before it; "a one B, a four B and a twelve B"), or first before one
        ("eight B and seventy B")."""
        n = len(doc)
        if s == 0 or doc[s - 1].lower_ not in LIST_GLUE | {"a", "an"}:
            return False
        glued = doc[s - 1].lower_ in LIST_GLUE or s > 1 and doc[s - 2].lower_ in LIST_GLUE  # ", a four B"
        return (any(doc[t].lower_ in SIZE_LIST_WORDS for t in range(max(0, s - 3), s))
                or glued and any(s - 5 <= end <= s for end in earlier.values())
                or e < n and doc[e].lower_ in (",", "and", "or")
                and any(doc[t].text.rstrip(".,") == "B" for t in range(e + 1, min(n, e + 5))))

    def _free_standing(self, doc, s: int, e: int) -> bool:
        """Whether the number at ``doc[s:e]`` can be a model's size said alone: no currency before
        it, and after it the end, punctuation, a function word or a model noun ("the eight billion
        one", "70 billion is the sweet spot", "a 405 on my laptop"), not another noun ("8 billion
        people", "a 405 area code")."""
        if s > 0 and doc[s - 1].lower_ in CURRENCY:
            return False
        if e >= len(doc):
            return True
        nxt = doc[e]
        if nxt.lower_ in CURRENCY or nxt.text == "%" or nxt.lower_ in ("percent", "percentage"):
            return False
        return not nxt.is_alpha or nxt.lower_ in SIZE_NOUNS or (nxt.lower_ in self.stop and nxt.lower_ != "of")

    def _noun_follows(self, tok) -> bool:
        """Whether ``tok``, after a one-word name, makes that word part of a noun phrase ("scout
        troop", "Pro tip", "mini fridge") rather than the subject of a verb ("Mini costs", "Opus
        writes", "Haiku got smarter"): a lower-case content word that does not look like a verb in -s
        or -ed, no past tense of another form and no adverb before a verb ("Zero literally wrote")."""
        w = tok.lower_
        return (tok.is_alpha and tok.is_lower and w not in self.stop and w not in SIZE_NOUNS
                and not verb_form(w) and w not in IRREGULAR_PAST and not self._adverb_of_verb(tok))

    def _verb_follows(self, tok) -> bool:
        """Whether ``tok``, after a one-word name written in lower case, makes that word the subject
        of a verb: a form of be, have or do, a modal, an adverb that comes before a verb, or a
        lower-case word in -s or -ed ("mini is cheap", "preview still beats", "haiku costs")."""
        w = tok.lower_
        return (w in BE_FORMS or w in VERB_LEADS or self._adverb_of_verb(tok)
                or (tok.is_alpha and tok.is_lower and w not in self.stop and verb_form(w) and not w.endswith("ss")))

    def _adverb_of_verb(self, tok) -> bool:
        """Whether ``tok`` is an adverb in -ly before a verb ("literally wrote", "honestly is"), not an
        adjective in -ly before a noun ("the mini monthly plan", "the mini daily limits": a verb in -s
        is left out, as a plural noun reads as one)."""
        if not (tok.is_lower and adverb(tok.lower_, dictionary_words())) or tok.i + 1 >= len(tok.doc):
            return False
        nxt = tok.nbor(1).lower_
        return nxt in BE_FORMS or nxt in VERB_LEADS or past_verb(nxt)

    def _recent(self, pos: int, window: int):
        """Names (models, benchmarks) mentioned before token ``pos`` (global), nearest first, at most
        ``window`` back."""
        k = bisect.bisect_left(self._doc_pos, pos)
        for i in range(k - 1, -1, -1):
            hpos, entry, size = self._doc_hist[i]
            if pos - hpos > window:
                return
            yield entry, size
        for hpos, entry, size in reversed(self.history):
            if hpos >= pos:
                continue
            if pos - hpos > window:
                return
            yield entry, size

    def _glued_version(self, family: str, size: str) -> Optional[tuple[Entry, str]]:
        """The model of ``family`` whose version and size run together in ``size`` ("34B" -> the
        version 3 with size 4B, "3.23B" -> 3.2 at 3B, "327B" -> 3 at 27B), or None."""
        digits, unit = size[:-1], size[-1:]
        for k in range(1, len(digits)):
            version, rest = digits[:k], digits[k:]
            if version.endswith(".") or rest.startswith(".") or rest.startswith("0"):
                continue
            entry = self.c.by_version.get((family, version))
            if entry is not None and f"{rest}{unit}" in entry.sizes:
                return entry, f"{rest}{unit}"
        return None

    def _family_member_with(self, entry: Entry, size: str, earlier: list = ()) -> Optional[Entry]:
        """The most recently mentioned model of ``entry``'s family that comes in ``size``."""
        fam = family_of(entry)
        recent = [p.entry for p in reversed(earlier) if p.entry is not None]
        said = [named.entry for named, _ in self.discourse.candidates(10**12)]
        for hist in recent + [h for h, _ in self._recent(10**12, BARE_WINDOW * 4)] + said:
            if hist.kind == "model" and (hist.family == fam or hist.name == entry.name) and size in hist.sizes:
                return hist
        return None

    # -- the resolution of one doc -----------------------------------------------------------

    def resolve(self, doc) -> list[Raw]:
        c = self.c
        n = len(doc)
        covered = [False] * n
        prims: list[_Prim] = []
        sizes = self._sizes(doc)

        for ent in doc.ents:
            pid = ent.ent_id_
            if not pid or pid not in c.ids:
                continue
            entry, how, text = c.ids[pid]
            s, e = ent.start, ent.end
            cut = next((t for t in range(s, e - 1) if doc[t].text[-1:] in ".,;:!?" and doc[t].whitespace_
                        and not SPELLED_LETTERS.match(doc[t].text)
                        and not (LETTER_DOT.match(doc[t].text) and doc[t + 1].text[:1].isdigit())), None)
            # ("L. M. Arena", "O. 1 mini": a letter said alone, as ASR writes it, is no sentence end)
            if cut is not None:  # a match across a sentence end ("GPT-4o. Mini is ..."): keep the first part
                shorter = c.by_atoms.get(tuple(t.norm_ for t in doc[s:cut + 1]))
                if shorter is None:
                    continue
                entry, how, _ = shorter
                e = cut + 1
            if s > 1 and doc[s - 1].text == "/" and not doc[s - 2].whitespace_ and len(doc[s - 2]) == 1:
                covered[s:e] = [True] * (e - s)
                continue  # "the I/O one", "an A/B test": the end of a word with a slash, not "O one" (o1)
            if (how == "not" and e - s >= 2 and doc[s].lower_ == "the" and e < n and self._noun_follows(doc[e])
                    and doc[e].lower_ not in irregular_verb_forms()
                    and (self._ai_talk_near(doc, s + 1, e, entry, sizes) or self._discussed(entry, s + 1))
                    and c.by_atoms.get(tuple(t.norm_ for t in doc[s + 1:e]), (None,))[0] is entry):
                s, how = s + 1, "cased"  # "the Bard entry on the arena", "the Bard web app": the name before a
                # noun, as a modifier (not "the Bard wrote", "the Bard of Avon", "The Big Sleep.")
            if (how != "not" and s > 0 and doc[s].lower_ in ("oh", "o") and doc[s - 1].lower_ in NUMBER_WORDS
                    and doc[s - 1].whitespace_ and not covered[s - 1]):  # (not "oh one oh three mini")
                covered[s:e] = [True] * (e - s)
                continue  # "fifteen oh one" (an Elo of 1501), "one oh one": a number said, not o1
            if how != "not" and e - s > 1 and entry.not_ and self._idiom(doc, s, e, entry):
                covered[s:e] = [True] * (e - s)
                continue  # 'a challenging "needle-in-a-haystack" task': the idiom, with words between
            if how == "cased" and e - s == 1 and entry.kind == "benchmark":
                entry = self._longer_benchmark(entry, doc[s].lower_, [p.entry for p in prims if p.entry is not None])
                # ("ARC is solved" after ARC-AGI was named)
            if how == "cased" and e - s == 1 and entry.kind == "model" and self._cased_guess(doc, s, e, entry):
                continue  # left to the sound search: "Pi 4" is Phi-4, "Dolly 3" DALL-E 3, "Cosmos one" in 2023 Kosmos-1
            if how != "not" and self._alone_in_the_tail(doc, s, e, entry, sizes, prims):
                covered[s:e] = [True] * (e - s)  # (and no other name is guessed there: "Koala tops" is no Opus)
                continue  # "Kandinsky painted it", "Flamingo was pink.", "passed the bar exam": a long-tail
                # name written as any name or phrase is, far from AI talk
            for t in range(s, e):
                covered[t] = True
            if how == "not":
                continue
            if entry.kind != "org" and e - s == 1:
                why = not_this_name(doc, s, e, self.fuzzy.is_word if self.fuzzy is not None else None)
                if why:
                    if why == "person" or why == "compound" and how != "name":  # "Claude Bergeron", "Raspberry
                        self.discourse.reject(entry.name, doc[s].text, why)  # Pi": and "Claude, can you ...",
                    continue  # "the Pi" after it, in this chapter; a model's own name stays one after a fine-tune
                    # of it ("Stable Vicuna, which is Vicuna with RLHF")
                why = self.discourse.rejected.get((entry.name, doc[s].lower_), "")
                if why and not (why == "person" and self._model_again(doc, s, e, entry, sizes)):
                    continue  # "on the Pi", after "Raspberry Pi"; "Poor Claude.", after "my uncle Claude"
            size = None
            if (e < n and e - s >= 2 and doc[e - 1].norm_.replace(".", "").isdigit() and doc[e].norm_ in SIZE_UNITS
                    and not doc[e - 1].whitespace_):
                shorter = c.by_atoms.get(tuple(t.norm_ for t in doc[s:e - 1]))
                if shorter is not None:  # "Gemma 2B" is Gemma at 2B, not Gemma 2
                    entry, how = shorter[0], shorter[1]
                    size = size_text(doc[e - 1:e + 1])
                    covered[e] = True
                    e += 1
            if size is None and entry.mention_kind == "model":
                size, e = _size_after(doc, e, sizes, covered)
            method = how if how in CONFIDENCE else "alias"
            conf = CONFIDENCE[method]
            if method == "alias" and entry.kind == "model" and not self._possible(entry):
                entry = self._line_out_then(entry, doc[s:e].text) or entry
            if entry.kind == "family" and size:
                member = self._family_member_with(entry, size, prims)
                if member is not None:
                    entry, conf = member, 0.85
                else:  # "Gemma 34B", "Llama 3.23B": a version and a size run together ("Gemma 3 4B")
                    glued = self._glued_version(entry.name, size)
                    if glued is not None:
                        (entry, size), conf = glued, CONFIDENCE["asr"]
            prims.append(_Prim(s, e, entry, method, conf, size))

        merged: list[_Prim] = []
        for p in prims:  # "Falcon's Mamba 7B": a name said with a possessive inside it ("Falcon Mamba")
            if (p.entry is not None and p.s >= 2 and doc[p.s - 1].lower_ in ("'s", "\u2019s")
                    and not doc[p.s - 2].whitespace_):
                # the word before may be a name itself, the family of the whole ("Falcon"): then it is part
                # of this one; a lab's stays the lab's ("Meta's Llama 3", "OpenAI's o1")
                owner = next((q for q in prims if q.s == p.s - 2 and q.e == p.s - 1), None)
                if covered[p.s - 2] and (owner is None or owner.entry is None or owner.entry.kind != "family"):
                    continue
                whole = self.c.by_atoms.get((doc[p.s - 2].norm_, *(t.norm_ for t in doc[p.s:p.e])))
                if owner is not None and (whole is None or whole[0].family != owner.entry.name):
                    continue
                if whole is not None and whole[0].kind == "model" and whole[1] != "cased":
                    p.entry, p.s = whole[0], p.s - 2
                    covered[p.s] = covered[p.s + 1] = True
                    if owner is not None:
                        merged.append(owner)
        prims = [p for p in prims if all(p is not q for q in merged)]
        for p in prims:
            if (p.entry is not None and p.entry.kind == "org"
                    and (p.entry.name, doc[p.s:p.e].text.lower().replace(" ", "")) in self.c.named_products):
                tool = used_as_tool(doc, p.s, p.e)
                listed = not tool and self._listed_with_models(doc, p, prims)
                tool = tool or ("weights" if listed else "")
                made = (self._made_by(p.entry, self.base + p.s, [q for q in prims if q.s < p.s], doc[p.s].norm_,
                                      talked_of=not tool, weights=tool == "weights")
                        if tool or compared_to_model(doc, p.s, p.e) else None)
                if listed and made is not None and (made.kind != "model" or not self._possible(made)):
                    made = None  # (not Amazon Nova, out in December 2024, for "Claude or Amazon" in 2023)
                if made is not None:  # "she asked DeepSeek for a recipe": its model, not the lab
                    p.entry, p.method, p.confidence = made, "discourse", CONFIDENCE["discourse"]
        if self.unknown_on:
            self._family_versions(doc, covered, prims, sizes)
        noted: set[int] = set()
        self._note(doc, prims, noted)
        if self.phonetic is not None:  # "mixed rail", "Gwen 3", "Fy 4": heard as other words
            for hit in self.phonetic.search(doc, covered, self._discussed, sizes, self._benchmark_talk,
                                            self._possible):
                if self._pronoun_one(doc, hit.start, hit.end) or doc[hit.start].lower_ in MODEL_CUES:
                    continue  # "the pro one", "the fully open one", "the Sal Khan one": "one" is a pronoun
                    # there, no o1; "a Tesla Model 3": a model word, no name heard
                prims.append(self._guessed(doc, hit.start, hit.end, hit.entry, "sound", CONFIDENCE["sound"], covered, sizes))
            prims += self._benchmarks_heard_as_names(doc, covered, prims)
            self._note(doc, prims, noted)
        if self.fuzzy is not None:
            norms = table(doc).norm
            for hit in self.fuzzy.search(norms, covered, table(doc).text):
                if not self._possible(hit.entry) or self._pronoun_one(doc, hit.start, hit.end):
                    continue  # "large V2" in 2023 is no Mistral Large 2; "the fully open one" no Open-R1
                if hit.end - hit.start == 1 and not_this_name(doc, hit.start, hit.end, self.fuzzy.is_word):
                    continue  # "my aunt Emma Lou", "Hi Emma.": a person, not Gemma misheard
                one = norms[hit.start]
                if ((hit.end - hit.start == 1 and len(one) <= SHORT_NEAR_MISS and not digits_of(one)
                     or plain_english(doc[hit.start:hit.end], self.fuzzy.is_word)) and not self._in_context(doc, hit)):
                    continue  # "Emma" (Gemma): a short word a letter off a name; "error code 1", "lemma 1.1":
                    # English words in lower case; said of nothing about models
                if (hit.end - hit.start == 1 and doc[hit.start].is_lower and self._english(doc[hit.start].lower_)
                        and not self._discussed(hit.entry, hit.start)):
                    continue  # "a real screenshot" (ScreenSpot) in talk of computer use: an English word (or
                    # two run together) alone is a name misheard only while that name is talked about
                conf = round(0.9 * hit.score / 100, 3)
                prims.append(self._guessed(doc, hit.start, hit.end, hit.entry, "fuzzy", conf, covered, sizes))
            self._note(doc, prims, noted)
        prims += self._lower_case_names(doc, covered)
        prims += self._corrected(doc, prims, covered)

        prims.sort(key=lambda p: p.s)
        self._sized_ends = {p.e: p.entry for p in prims if p.size and p.entry is not None and p.entry.kind == "model"}
        self._doc_hist = [(self.base + p.s, p.entry, p.size) for p in prims
                          if p.entry is not None and p.known and not p.base]
        self._doc_pos = [h[0] for h in self._doc_hist]
        refs = self._references(doc, covered, sizes) if self.bare_on else []
        self.history.extend(self._doc_hist)
        for _, entry, _ in self._doc_hist:
            if entry.kind == "benchmark":
                self._named_benchmarks.pop(entry.name, None)
                self._named_benchmarks[entry.name] = entry
            elif entry.kind == "org":
                self._named_orgs.add(entry.name)
        self._doc_hist, self._doc_pos = [], []
        if self.unknown_on:
            refs += self._unknown_shaped(doc, covered, sizes)
        out = [self._raw(doc, p) for p in prims + refs]
        if self.ner_on:
            out += self._ner(doc, covered)
        out.sort(key=lambda r: r.start_char)
        self.base += n + 1
        return out

    @staticmethod
    def _corrected(doc, prims: list[_Prim], covered) -> list[_Prim]:
        """Words the speaker corrects to a name right after ("So Sarah, sorry, Sora", "Vail, sorry,
        Veo"): what was heard first is that name misheard (``corrected_before``)."""
        out = []
        for p in prims:
            if p.entry is None or p.entry.mention_kind not in ("model", "benchmark"):
                continue
            a = corrected_before(doc, p.s, covered)
            if a >= 0:
                for t in range(a, p.s - 3):
                    covered[t] = True
                out.append(_Prim(a, p.s - 3, p.entry, "sound", CONFIDENCE["sound"], None))
        return out

    def _family_versions(self, doc, covered, prims: list[_Prim], sizes) -> None:
        """"Llama 5", "DeepSeek V4": a family name and a version the catalog does not know."""
        n = len(doc)
        for fam, s, e in self.c.family_versions(doc):
            if e < n and doc[e].norm_ in SIZE_UNITS and (not doc[e - 1].whitespace_ or doc[e].lower_ in SPELLED_UNITS
                                                          or doc[e - 1].is_alpha or doc[e].text.rstrip(".") == "B"):
                continue  # "Llama 70B", "the Llama 65 billion", "Llama seven B", "LLaMA 65 B": a size, not a version
            whole = [t.norm_.split(".")[0] for t in doc[s + 1:e] if any(ch.isalpha() for ch in t.text)]
            if any(w.isdigit() and int(w) >= 13 for w in whole):
                continue  # "Kimi sixty nine, DeepSeek sixty six": scores said in words, not versions
            if whole and e < n and doc[e].lower_ in ("hundred", "thousand", "million", "k"):
                continue  # "Yi two hundred K": a number said in words (a context length), no "Yi-2"
            clash = [p for p in prims if p.s < e and s < p.e]
            if any(p.entry is not None and p.entry.kind not in ("family", "org") for p in clash):
                continue
            if any(covered[t] for t in range(s, e)) and not clash:
                continue  # covered by a negative phrase
            for p in clash:
                prims.remove(p)
            vs = e - 1
            if vs - 1 > s and doc[vs - 1].norm_ in ("v", "r", "k") and not doc[vs - 1].whitespace_:
                vs -= 1
            # "1. 1" (a version the ASR split, one token) is 1.1 in the name, as in a known name's; a
            # number said in words is written in digits ("Quen three" is Qwen3, "Llama five" Llama 5)
            version = "".join("V" if t.norm_ == "v" else t.norm_ if _SAID_NUMBER.match(t.norm_)
                              else t.text.rstrip("-").replace(". ", ".") for t in doc[vs:e])
            size = None
            if e in sizes:
                size = size_text(doc[e:sizes[e]])
                end = sizes[e]
            else:
                end = e
            for t in range(s, end):
                covered[t] = True
            canonical = f"{fam.name}{fam.sep}{version}"
            known = self.c.by_atoms.get(atoms(canonical))
            if known is None and version.endswith(".0"):  # "Claude 3. 0" is Claude 3 (not "Gemini 2.0": known)
                known = self.c.by_atoms.get(atoms(f"{fam.name}{fam.sep}{version[:-2]}"))
            if known is None and version[:1] in ("V", "v") and version[1:].isdigit():  # "Claude v1" is Claude 1
                known = self.c.by_atoms.get(atoms(f"{fam.name}{fam.sep}{version[1:]}"))
            if known is None and version[:1].isdigit():  # "DeepSeek 2.5" is DeepSeek-V2.5 (the letter unsaid)
                known = self.c.by_atoms.get(atoms(f"{fam.name}{fam.sep}V{version}"))
            if (known is None and len(version) == 2 and version.isdigit() and version[0] != "0"
                    and not (end < n and doc[end].norm_ in SIZE_UNITS)):
                # "Gemini 25 Pro", "Llama 31": the point of a known version lost (not "Llama 70": 7.0 is
                # none; not "Llama 33 billion": a size)
                dotted = f"{fam.name}{fam.sep}{version[0]}.{version[1]}"
                longer = (self.c.by_atoms.get(atoms(f"{dotted} {doc[end].text}"))
                          if end < n and doc[end].is_alpha and not covered[end] else None)
                if longer is not None and longer[0].mention_kind == "model":  # with its variant word: "Gemini 25 Pro"
                    known, covered[end], end = longer, True, end + 1
                else:
                    known = self.c.by_atoms.get(atoms(dotted))
            if known is not None and known[0].mention_kind == "model":  # "GPT version 5" is GPT-5
                prims.append(_Prim(s, end, known[0], "alias", CONFIDENCE["asr"], size))
                continue
            prims.append(_Prim(s, end, None, "version", CONFIDENCE["version"], size, canonical, "model", False))
        for p in [p for p in prims if p.entry is not None and p.entry.kind == "org" and p.e < n - 0]:
            last = doc[p.e - 1]
            if p.e < n and last.text.endswith("-") and doc[p.e].is_digit:  # "Inflection-3": an org's model
                name = doc[p.s:p.e + 1].text
                prims.remove(p)
                covered[p.e] = True
                prims.append(_Prim(p.s, p.e + 1, None, "version", CONFIDENCE["version"], None, name, "model", False))

    def _references(self, doc, covered, sizes) -> list[_Prim]:
        out: list[_Prim] = []
        n = len(doc)

        def take(s: int, e: int, prim: _Prim) -> None:
            out.append(prim)
            for t in range(s, e):
                covered[t] = True
            if prim.entry is not None:  # the reference just resolved is now the nearest of its line
                self.discourse.note(self.base + s, prim.entry, prim.size)

        shorts = sorted(self.c.short_matcher(doc), key=lambda m: (m[1], m[1] - m[2]))  # "Flash-Lite" before "Flash"
        short_at = {s: (key, e) for key, s, e in reversed(shorts)}  # the longest one at each start

        named_sizes = self._sized_ends  # the ends of names said with a size ("Vicuna 7B")
        sized_ends = dict(named_sizes)

        def listed(s: int) -> Optional[Entry]:
            """The model whose sizes are being listed, where the size at ``s`` is one of the list: after
            another size of it ("Aya Expanse 8B and 32B", "the three B, the seven B"), or first after
            "sizes" ("Two sizes, nine B and eighty B": the model named last)."""
            i = s - 1
            while i >= 0 and doc[i].lower_ in LIST_GLUE | {"a", "an"}:
                i -= 1
            if i < 0 or i == s - 1:
                return None  # nothing between: "8B 32B" is no list
            if i + 1 in sized_ends and (i + 1 not in named_sizes or all(t.lower_ != "the" for t in doc[i + 1:s])):
                return sized_ends[i + 1]
            if doc[i].lower_ in SIZE_LIST_WORDS and doc[i + 1].is_punct:
                return next((entry for entry, _ in self._recent(self.base + s, BARE_WINDOW)
                             if entry.kind == "model"), None)
            return None

        def sized_refs() -> None:  # "the 405B", "70B is the sweet spot": sizes of the models talked about
            for s, e in sizes.items():
                if any(covered[t] for t in range(s, e)) or (s > 0 and VERSION_TOKEN.match(doc[s - 1].norm_)):
                    continue  # "3.1 70B": the version's size (below)
                if e in short_at:  # "the 1.5B distill", "a 32B Coder": the variant of that size
                    hit = self._sized_variant(doc, s, e, short_at[e], size_text(doc[s:e]))
                    if hit is not None:
                        take(s, hit.e, hit)
                        continue
                if said_of_previous(doc, s, e):
                    continue  # "it's 24 billion", "with 405 billion parameters": what the model just named is
                prev = word_before(doc, s)  # "the new 32B": as "the 32B"
                size = size_text(doc[s:e])
                word_end = e  # "A3B" is three tokens
                while (word_end < n and doc[word_end].text.rstrip(".").isalnum()
                       and (word_end == e or not doc[word_end - 1].whitespace_)):
                    word_end += 1
                if word_end > e and ACTIVE_SIZE.match(doc[e:word_end].text.rstrip(".")):
                    e = word_end  # "the 30B A3B": the total is the size, the active part goes with it
                nxt = doc[e].lower_ if e < n else ""
                if (e < n and doc[e].is_title and not doc[e].is_sent_start and not doc[e - 1].text.endswith(".")
                        and nxt not in MODEL_CUES and nxt != "version"):
                    continue  # "the 8B Transformer": a size of something else
                cued = prev in DETERMINERS or nxt in MODEL_CUES or nxt in ("version", "variant", "one")
                hit = None
                of = listed(s)
                if of is not None and self._possible(of) and (not of.sizes or size in of.sizes):  # (not "Llama 3
                    # 8B and 405B": no Llama 3 of 405B)
                    hit = _Prim(s, e, of, "bare", CONFIDENCE["bare"], size)
                if hit is None and cued:  # "the 405B" right after "Llama 3.1 405B": a model named in that size first
                    fits = [(entry, said) for entry, said in self._recent(self.base + s, BARE_WINDOW)
                            if _model_of_size(entry, size)]
                    pick = next((entry for entry, said in fits if said == size), fits[0][0] if fits else None)
                    hit = _Prim(s, e, pick, "bare", CONFIDENCE["bare"], size) if pick is not None else None
                if hit is None and (cued or self._free_standing(doc, s, e)):  # "70B is the sweet spot"
                    # "the 405B" may be an earlier chapter's
                    hit = self._from_discourse(s, e, partial(_model_of_size, size=size), size,
                                               earlier=prev in DETERMINERS, sized=True, definite=prev == "the",
                                               indefinite=prev in ("a", "an"))
                if hit is not None:
                    take(s, e, hit)
                    if hit.entry is not None and hit.entry.kind == "model":
                        sized_ends[e] = hit.entry

        sized_refs()
        tb = table(doc)
        for t in range(n):  # a size without its unit: "a 405 on my laptop", "four oh five", "the 72 is"
            one_digit = tb.norm[t] in ONE_DIGIT_SIZES
            if covered[t] or not (UNITLESS.match(tb.norm[t]) or TWO_DIGITS.match(tb.norm[t]) or one_digit):
                continue
            tok = doc[t]
            nxt = doc[t + 1] if t + 1 < n else None
            verb = nxt is not None and self._verb_follows(nxt) and nxt.lower_ not in COUNT_NOUNS
            if not (verb or self._free_standing(doc, t, t + 1)):
                continue  # "the 120 fits", "the seventy generates"; not "the 72 hours"
            prev = word_before(doc, t)  # "the old 32": as "the 32"
            joined = nxt is not None and nxt.lower_ in SIZE_JOINERS  # "serving the seventy at like stupid
            # speed", "the seventy for code", "the seventy and the eight": a model's place in the sentence
            if UNITLESS.match(tok.norm_):
                if " " not in tok.text and prev not in DETERMINERS | {"a", "an"}:
                    continue  # "a 405", "the 405"; "four oh five" (said digit by digit) stands alone
            elif one_digit:
                if prev != "the" or not (nxt is None or nxt.is_punct and nxt.text != "-" or joined
                                         or verb and nxt.lower_ not in PLURAL_VERBS):
                    continue  # "the eight is really nice", "the seventy and the eight." (not "the eight are",
                    # "the eight of us", "the eight-hour day"): sizes said as one digit, while a model of that
                    # size is talked about
            elif not (prev in DETERMINERS and (nxt is None or nxt.is_punct or verb or nxt.lower_ in SIZE_NOUNS
                                               or joined)):
                continue  # two digits ("72", "seventy") are a size only as "the 72 is", "over the 70.",
                # "we tried the seventy, no", "the seventy at four bit", "the 70 instruct": not "the 72 hours"
            size = f"{tok.norm_}B"
            loose = one_digit or joined and not (UNITLESS.match(tok.norm_) or nxt.is_punct or verb)
            counted = (t >= 2 and tb.lower[t - 1] == "the" and tb.lower[t - 2] == "of"  # "of the eight, only two"
                       or t + 2 < n and (tb.lower[t + 1] in ("or", "to") and doc[t + 2].like_num  # "the seven or
                                         or tb.lower[t + 1] in ("and", "or")  # eight people", "the 70 and over
                                         and tb.lower[t + 2] in ("over", "under", "up", "older", "younger")))
            if loose and counted:
                continue  # age group": counts and ages, not sizes
            if loose and not any(
                    where in (IN_DISCUSSION, PREVIOUS) and (
                        _model_of_size(named.entry, size) or named.entry.kind == "family" and any(
                            m.family == named.entry.name and self._possible(m)
                            for m in self.c.models_with_size.get(size, ())))  # (a family of a member in that size)
                    for named, where in self.discourse.candidates(self.base + t)):
                continue  # (a model of that size talked about in this chapter: not "the ninety for the year" in
                # a mailbag where listeners' tools were named, after a chapter on Llama 3.2)
            if one_digit and not any(named.size == size and 0 < self.base + t - named.pos <= ONE_DIGIT_WINDOW
                                     for named in self.discourse.current):
                continue  # one digit, only soon after a model was said in that size ("the seventy B and the 8B.
                # Yeah, and the eight is really nice"; not "I bogeyed the nine" a while after Gemma 2 9B)
            # "the four oh five", said digit by digit, may be an earlier chapter's
            hit = self._from_discourse(t, t + 1, partial(_model_of_size, size=size), size, earlier=" " in tok.text,
                                       sized=True, definite=prev == "the", indefinite=prev in ("a", "an"))
            if hit is not None:
                take(t, t + 1, hit)
        for t in range(n - 2):  # experts by size as said: "the 8 by 22", "eight by seven at three bit"
            if (covered[t] or tb.lower[t + 1] not in ("by", "x")
                    or not (tb.norm[t].isdigit() and tb.norm[t + 2].isdigit())):
                continue  # (numbers as said: "eight by twenty two" is 8 by 22)
            end = t + 4 if t + 3 < n and SPELLED_UNITS.get(tb.lower[t + 3], tb.lower[t + 3]) == "b" else t + 3
            verb = end < n and self._verb_follows(doc[end]) and tb.lower[end] not in COUNT_NOUNS
            if any(covered[k] for k in range(t, end)) or not (verb or self._free_standing(doc, t, end)):
                continue  # "8 by 7 feet", "a 2 by 4 board"; "the 8x22 needs more memory" is the model
            size = f"{doc[t].norm_}x{doc[t + 2].norm_}B"
            hit = self._from_discourse(t, end, partial(_model_of_size, size=size), size, sized=True)
            owners = [c for c in self.c.models_with_size.get(size, ()) if self._possible(c)]
            if hit is None and len(owners) == 1:
                hit = _Prim(t, end, owners[0], "size", CONFIDENCE["size"], size)  # a size only one model has
            if hit is not None:
                take(t, end, hit)
        short_ends = {e - 1 for _, s, e in shorts}
        short_starts = {s for _, s, e in shorts}
        for t in range(n):  # a version said alone: "3.1 is out", "the 3.5 one", "V3"
            nm = tb.norm[t]
            if covered[t] or not ("." in nm or nm in ("v", "r", "k") or nm.isdigit() and len(nm) <= 2):
                continue  # (each branch below starts with one of these)
            tok = doc[t]
            version, end = None, t + 1
            if "." in tok.norm_ and VERSION_TOKEN.match(tok.norm_):
                version = tok.norm_
            elif (tok.norm_ in ("v", "r", "k") and t + 1 < n and SMALL_NUMBER.match(doc[t + 1].norm_)
                  and (not tok.whitespace_ or tok.text in ("V", "R", "K") or letter_heard(tok)) and not covered[t + 1]):
                # "V3", "R1", "V2. 5"; and as the ASR splits or spells them: "V 3", "R one", "the our one"
                version, end = tok.norm_ + doc[t + 1].norm_, t + 2
            elif (tok.norm_.isdigit() and len(tok.norm_) <= 2 and tok.whitespace_ and t + 1 < n
                  and doc[t + 1].is_alpha and not covered[t + 1] and t + 1 in short_starts
                  and not (t > 0 and (product_name(doc[t - 1]) or covered[t - 1]))):
                # "now it's five mini", "three Opus": a whole version and a variant word, of a family
                # talked about in this chapter
                hit = self._from_discourse(t, t + 2, lambda entry: False, None,
                                           version=tok.norm_ + doc[t + 1].norm_, earlier=False)
                if hit is not None:
                    take(t, t + 2, hit)
                continue
            elif len(tok.norm_) == 1 and tok.norm_ != "0" and whole_version_alone(doc, t, covered):
                # "four is smart", "way below four.", "Not four?", "between ChatGPT and four": a
                # model named in this chapter by its whole version, as hosts say "four" for GPT-4
                v = tok.norm_
                hit = self._from_discourse(t, t + 1, lambda entry: (entry.kind == "model" and entry.version == v
                                                                    and entry.family is not None), None, earlier=False)
                if hit is not None:
                    take(t, t + 1, hit)
                continue
            if version is None or (t > 0 and (product_name(doc[t - 1]) or covered[t - 1] or t - 1 in short_ends)):
                continue  # "Python 3.12"; "Small 3.1": the version of the name just said
            if end < n and doc[end].lower_ == "of":
                continue  # "V3 of the jingle", "3.1 of the spec": the version of what follows
            than = t > 1 and tb.lower[t - 1] == "than" and tb.lower[t - 2] not in COUNTING_THAN
            judged = than and (any(tb.lower[k] in QUALITY_COMPARATIVES for k in range(max(0, t - 5), t - 1))
                               or t > 2 and tb.lower[t - 3] in ("more", "less"))  # "better at text than one five"
            chosen = (t > 0 and tb.lower[t - 1] in ("over", "versus", "vs")
                      and any(tb.lower[k] in CHOICE_WORDS for k in range(max(0, t - 4), t - 1)))
            set_against = " " in tb.text[t] and version.endswith(".0") and than or not version.endswith(".0") and (
                (judged or chosen) and (end == n or tb.punct[end] or tb.lower[end] in SET_AGAINST_ENDS))
            # "way better than three point five, which", "more expensive than three point five now", "worth it
            # over three point five?": a model judged against another (not "more than 3.5", "over 3.5 million",
            # "higher than 3.5, which", "a rating over 2.5")
            if version[0].isdigit() and end not in sizes and not version_alone(doc, t, end) and not set_against:
                continue  # "$1.5B", "2.1e25", "around 3.3", "3.5 percent" (but "less chatty than 4. 0": 4o)
            said = [(version, end)]
            if version.endswith(".0") and version[:-2].isdigit():
                said.append((version[:-2] + "o", end))  # "much less chatty than 4. 0": 4o, as the ASR hears it
            if end < n and doc[end].is_alpha and not covered[end]:  # "2.0 Flash", "3.7 Sonnet": that model first
                said.insert(0, (version + doc[end].norm_, end + 1))
            hit = None
            for v, stop in said:
                for entry, _ in self._recent(self.base + t, VERSION_WINDOW):
                    fam = family_of(entry)
                    found = self.c.by_version.get((fam, v)) if fam else None
                    if found is not None and self._possible(found):
                        hit = _Prim(t, stop, self._discussed_child(found, self.base + t), "short", CONFIDENCE["short"])
                    break
                hit = hit or self._from_discourse(t, stop, lambda entry: False, None, version=v)
                variant_said = stop > end and (doc[end].text[:1].isupper() or doc[end].lower_ in self.c.listed_short)
                if (hit is None and variant_said and not (t > 0 and tb.lower[t - 1] in VERSION_WORDS)
                        and not (stop < n and tb.lower[stop] == "of")):
                    # "2. 0 Flash", "1. 5 Pro" with no family near: the one line of the catalog with that
                    # version and that variant word
                    only = [c for c in self.c.version_words.get(v, ()) if self._possible(c)]
                    if len(only) == 1:
                        hit = _Prim(t, stop, only[0], "version", CONFIDENCE["version"])  # (not "version 2.0 Pro of")
                if hit is not None and stop == end and end in short_at:
                    owners = self.c.short_of[self.c.nlp.vocab.strings[short_at[end][0]]]
                    if hit.entry is not None and family_of(hit.entry) not in {family_of(c) for c in owners}:
                        hit = None  # "2. 5 Flash-Lite" is no DeepSeek V2.5: the variant word is another line's
                if hit is not None:
                    break
            if (hit is None and version[0].isalpha() and version[1:].isdigit()
                    and (t == 0 or tb.ws[t - 1] or doc[t - 1].is_punct)
                    and (end == n or tb.ws[end - 1] or doc[end].is_punct)
                    and not (end < n and (tb.text[end][:1].isupper() or tb.digit[end] or self._noun_follows(doc[end])))
                    and not (t > 0 and tb.lower[t - 1] in OWNERS | {"a", "an"})):
                # "And R2?" while DeepSeek-R1 is talked about (not "R2 D2", "the R2 score", "my R2", "a V8", "6r7a1")
                hit = self._unlisted_code(t, end, version)
                owners = [c for c in self.c.by_code.get(version, ()) if self._possible(c)]
                if hit is None and len(owners) == 1 and tb.text[t].isupper() and not tb.ws[t]:
                    # "since R1 came out", before DeepSeek-R1 is named: a code one model has, written as
                    # one word (not "V2", "V3": any product's versions)
                    hit = _Prim(t, end, owners[0], "short", CONFIDENCE["short"])
            if hit is not None:
                said_size = size_text(doc[hit.e:sizes[hit.e]]) if hit.e in sizes else None
                if said_size is not None and hit.entry is not None and said_size in hit.entry.sizes:
                    hit.size, hit.e = said_size, sizes[hit.e]  # "the 3. 18 billion": 3.1 at 8B, one mention
                take(hit.s, hit.e, hit)
        sized_refs()  # again, with the versions said alone known: "still 3. 2, the 11B and the 90B"
        for t in range(n):  # a checkpoint said by its date: "the 2507 version", "the 0528 checkpoint", "1206"
            if covered[t] or not date_code(tb.norm[t]):
                continue
            named = self.c.date_codes.get(tb.norm[t])
            if t > 0 and covered[t - 1] and tb.ws[t - 1]:
                covered[t] = True  # "R1 0528", "Grok 2 1212": the checkpoint of the name just said, part of it
                said = next((p.entry for p in out if p.e == t and p.entry is not None), None) or next(
                    (entry for pos, entry, _ in reversed(self._doc_hist) if pos < self.base + t), None)
                if said is not None:
                    self._dated[said.name] = said
                continue
            nxt = tb.lower[t + 1] if t + 1 < n else ""
            counts = (t + 1 < n and tb.alpha[t + 1] and nxt not in self.stop
                      and nxt not in CHECKPOINT_WORDS | BE_FORMS | VERB_LEADS and not past_verb(nxt))
            # (a noun after it: "the 1206 rooms", what the number counts; "1206 with a new name" is the model)
            if named is not None:  # a model named by that date, while its family is talked about
                if counts:
                    continue
                family = named.family
                hit = self._from_discourse(t, t + 1, lambda entry: bool(family) and family_of(entry) == family, None)
                if hit is not None:
                    hit.entry = named
            else:
                ends = nxt in CHECKPOINT_WORDS or t + 1 == n or tb.punct[t + 1]
                det = t > 0 and tb.lower[t - 1] in DETERMINERS
                alone = (sentence_start(doc, t) and t + 1 < n and tb.punct[t + 1]  # "0605. Third preview of" (not
                         and tb.norm[t][0] == "0")  # "Its arena Elo? 1215.": a number)
                # a date written with its zero first ("0125", "05 06") or said digit by digit ("oh one two
                # five"), not a number ("1215", "eleven oh two": a price), reads as a checkpoint wherever it
                # stands: "to oh one two five", "using oh one two five in the API" (not "0930 hours")
                zero_said = ((tb.text[t][0] == "0" or len(tb.text[t].split()) > 3) and nxt not in CLOCK_UNITS
                             and not (t > 0 and tb.lower[t - 1] in CLOCK_WORDS - {"to"})
                             and not (t > 0 and tb.lower[t - 1] in NUMBER_LABELS)
                             and not (t > 1 and tb.lower[t - 1] in BE_FORMS and tb.lower[t - 2] in NUMBER_LABELS)
                             and not counts)
                if not (word_before(doc, t) in DETERMINERS and ends or alone or clause_subject(doc, t - det, t + 1)
                        or zero_said):
                    continue  # "the 0528 checkpoint", "The 0324."; "The zero one two five was lazy", "and
                    # oh six oh five was supposed to fix it"; not "in 1206 rooms"
                # the line whose checkpoints are talked about by their dates, if one is ("Gemini 2.5 Pro ...
                # 0605 ... Oh three two five was beloved"), else the model under discussion; one out by
                # that date ("eleven oh six" in January 2024 is GPT-4 Turbo of November 2023, not a model
                # of December)
                month = self._code_month(tb.norm[t])
                older = lambda entry: month is None or (month_of(entry.released) or 0) <= month  # noqa: E731
                hit = (self._from_discourse(t, t + 1, lambda entry: entry.name in self._dated and older(entry), None,
                                            earlier=False)
                       or self._from_discourse(t, t + 1, lambda entry: entry.kind == "model" and older(entry), None,
                                               earlier=False))
            if hit is not None:
                if hit.entry is not None:
                    self._dated[hit.entry.name] = hit.entry
                take(t, t + 1, hit)
        for t in range(n):  # "We'll get to Yi", "the Yi license" while Yi-34B is talked about: a family said
            fam = self._unnamed_families.get(tb.text[t])  # alone, as it is written, that the catalog does not
            if fam is None or covered[t]:  # match alone
                continue
            if t + 1 < n and tb.alpha[t + 1] and tb.text[t + 1][:1].isupper() and not sentence_start(doc, t + 1):
                self.discourse.reject(fam.name, tb.text[t], "person")  # "Yi Tay ... Yi also said": a first name,
                continue  # for the chapter; "Nova Scotia"
            prev_word = tb.lower[t - 1] if t > 0 else ""
            if prev_word in PERSON_BEFORE | OWNERS | GREETINGS:
                self.discourse.reject(fam.name, tb.text[t], "person")  # "my friend Yi works there and Yi loves it"
                continue
            if (not_this_name(doc, t, t + 1, self._is_word) or (fam.name, tb.lower[t]) in self.discourse.rejected
                    or any(tb.lower[k] in SAID_BY_PERSON for k in range(t + 1, min(n, t + 3)))
                    or sentence_start(doc, t) and (self._is_word(tb.lower[t]) or t + 1 < n and tb.text[t + 1] == ",")):
                continue  # "Yi, welcome", "Yi says", "Command line tools are"
            if len(fam.name) > 3 and self._is_word(tb.lower[t]) and not (
                    t + 1 < n and tb.lower[t + 1] in MODEL_CUES | {"api", "family", "line", "lineup"}):
                continue  # a word ("Nova", "Command") only with a model word after it: "Amazon's own Nova models"
                # (not "I watched Nova on PBS")
            hit = self._from_discourse(t, t + 1, lambda entry: family_of(entry) == fam.name, None, earlier=False)
            if hit is not None:
                take(t, t + 1, hit)
        for key, s, e in shorts:
            if any(covered[t] for t in range(s, e)) or (s > 0 and VERSION_TOKEN.match(doc[s - 1].norm_)):
                continue  # "2.0 Flash": the version's (below)
            name = self.c.nlp.vocab.strings[key]
            unit_short = name[:1].isdigit() and " " in name  # "8 k", "32 k": a number and its unit ("0": "Zero")
            if not doc[s].text[:1].isalpha() and not unit_short:
                continue  # "0" is no "Zero": a variant word is said as a word
            if unit_short and (s == 0 or doc[s - 1].lower_ not in DETERMINERS or not (
                    e < n and covered[e] or any(tb.lower[t] in CONTEXT_WORDS
                                                for t in range(max(0, s - 10), min(n, e + 10))))):
                continue  # a context length said as a model ("the 32K" of GPT-4) has its determiner and
                # talk of context or price near it: not "costs 8K a year", "has 32K context", "the 8K TV"
            if (s > 0 and covered[s - 1] and doc[s - 1].whitespace_ and not doc[s - 1].is_punct
                    and getattr(self.c.ids.get(doc[s - 1].ent_id_, (None,))[0], "kind", "") != "benchmark"):
                continue  # "Grok mini": a variant of the name just said, one the catalog does not list (not
                # "on GPQA Sonnet is 59": a benchmark's name, then the model scored on it)
            device = s > 1 and tb.digit[s - 1] and not covered[s - 2] and CAMEL.match(tb.text[s - 2])
            if s > 0 and doc[s - 1].whitespace_ and (product_name(doc[s - 1]) or CHIP.match(word_said(doc, s - 1))
                                                     or device):
                continue  # "the Mac mini", "the M4 Pro", "an iPhone 15 Pro": the variant of another product
            prev = doc[s - 1].lower_ if s > 0 else ""
            if e < n and doc[e].is_title and not doc[e].is_sent_start:
                continue  # "Mini Cooper", "Flash Attention": a name of something else
            if e < n and tb.lower[e] in PLAN_NOUNS and tb.lower[e - 1] in PLAN_WORDS:
                continue  # "for Ultra subscribers", "Pro users", "the Max plan": a subscription, not the model
            cands = self.c.short_of[name]
            benchmarks = all(c.kind == "benchmark" for c in cands)
            the_at = s - 1  # where "the" is, past one adjective
            if benchmarks and prev in TOPIC_ADJECTIVES and s >= 2 and doc[s - 2].lower_ == "the":
                prev, the_at = "the", s - 2  # "the whole arena mess", "the main arena": as "the arena"
            before_the = doc[the_at - 1].lower_ if the_at >= 1 else ""
            at_place = prev == "the" and before_the in PLACE_PREPOSITIONS | ENTER_LEAVE
            written = doc[s].text[:1].isupper() or letter_heard(doc[s])  # "R one", or "our one" after a name
            marked = written or prev in DETERMINERS
            if not_this_name(doc, s, e) or prev in ("a", "an"):
                continue  # "a Brahms opus", "a haiku": common nouns
            inside = doc[s].text[:1].isupper() and not sentence_start(doc, s)  # written as a name, mid-sentence
            the_only = (cands[0] if benchmarks and len(cands) == 1 and prev == "the" and not inside and not at_place
                        and not name.endswith("ed") and not (e < n and doc[e].lower_ == "of")
                        and self._possible(cands[0]) and self._ranking_said(doc, s, e) else None)
            # ("the arena", with models or benchmarks talked about in its sentence: the one benchmark of that
            # word, named or not; not "the arena of public opinion", "at the new arena", "the verified data")
            if e < n and self._noun_follows(doc[e]):  # "his scout troop", "Pro tip", "mini fridge": common nouns;
                # but a name written as one inside a sentence, of the line under discussion, is a name used
                # as a modifier: "exactly Sonnet pricing", "the Flash pricing", "at the Opus level" (not
                # someone's: "Mr. Holland's Opus")
                topic = doc[e].lower_ in RESULT_NOUNS | TOPIC_NOUNS or adverb(doc[e].lower_, dictionary_words())
                if ((inside and prev not in ("'s", "\u2019s"))
                        or (benchmarks and prev == "the" and not written and topic and not at_place)):
                    # ("the arena score", "the arena problem", "the arena thing", "top the arena officially":
                    # what a benchmark has, or the benchmark talked about; not "the arena floor", "the verified
                    # checkmark")
                    if benchmarks:  # "people in the Arena vote", "the Arena update", after Chatbot Arena
                        pick = self._benchmark_said(cands, self.base + s) or (the_only if topic else None)
                        hit = _Prim(s, e, pick, "short", CONFIDENCE["short"]) if pick is not None else None
                    else:
                        hit = self._from_discourse(s, e, lambda entry: False, None, variants=cands, earlier=False)
                    if hit is not None:
                        take(s, e, hit)
                continue
            said_on = prev == "on" or prev == "the" and s >= 2 and doc[s - 2].lower_ == "on"
            if e < n and doc[e].lower_ in OBJECT_PRONOUNS and not (benchmarks and said_on):
                continue  # "Distill it, sell it": a verb; "inside the arena it was hot" (not "on the arena it took
                # back number one": a benchmark said where scores are)
            if name not in self.c.listed_short and name.split(" ")[0] not in self.c.listed_short \
                    and not written:
                continue  # a word of a version ("Coder", "Math") is a name only when written as one;
                # a listed variant word is one in lower case too, and so with the rest of a name ("mini high")
            verb = e < n and self._verb_follows(doc[e])
            bare = (doc[s].is_lower and prev not in DETERMINERS and prev not in ("'s", "\u2019s")
                    and not (s > 0 and doc[s - 1].like_num))  # "O. 1 mini": a version's variant
            if bare and not verb and e < n and doc[e].lower_ in IRREGULAR_PAST:
                verb = True  # "preview got 21 percent": a variant word with no determiner, said of (not
                # "the flash went off", a common noun)
            phrase_ends = e == n or doc[e].is_punct or doc[e].lower_ in self.stop  # nothing of its own phrase follows
            compared = bare and prev in CONTRASTS and phrase_ends
            # "fewer errors than preview on hard tasks", "the real o1, not preview,": set against the
            # model, as only a model is
            if benchmarks:  # "best on Verified", after SWE-bench Verified
                scored_on = (prev in ("on", "at") or prev == "the" and s >= 2 and doc[s - 2].lower_ in ("on", "at")) \
                    and (e == n or doc[e].is_punct or doc[e].like_num)  # "40 percent on verified,", "on the arena."
                placed = (prev == "the" and not inside and (  # "at the arena", "enters the arena", "the arena
                    at_place  # was packed" (not "models
                    or e < n and doc[e].lower_ in ("was", "were")))  # in the Arena")
                said = not placed and (inside or scored_on or prev == "the"  # "filter the arena to English", "on
                                       or (doc[s].text[:1].isupper() and e < n  # the arena it", "Verified is the
                                           and doc[e].lower_ in BE_FORMS | VERB_LEADS))  # 500 problems" (not
                pick = self._benchmark_said(cands, self.base + s) if said else None  # "Verified accounts")
                nxt = doc[e].lower_ if e < n else ""
                ranked = said_on and nxt != "of" and any(  # "is Gemma on the arena yet?": where models are ranked,
                    entry.kind in ("model", "family") for entry in self._said_here(self.base + s))  # one named in
                # the turn; "the arena is what I look at", "And the arena?" where benchmarks are talked about (not
                # "enters the arena", "the arena was packed", "left the arena", "the arena of public opinion")
                judged = (prev == "the" and self._benchmark_talk(s) and not placed
                          and (nxt in ARENA_SAID or s >= 2 and doc[s - 2].lower_ in ARENA_BEFORE
                               and (e == n or doc[e].is_punct)))
                if pick is None and len(cands) == 1 and self._possible(cands[0]) and (ranked or judged):
                    pick = cands[0]
                if pick is None and not placed:  # "the arena is a vibes benchmark", "and the arena stuff" with
                    pick = the_only  # SWE-bench Verified just named: models ranked there
                if pick is not None:
                    take(s, e, _Prim(s, e, pick, "short", CONFIDENCE["short"]))
                continue
            if (bare and not (verb or compared) and name in self.c.lower_short and prev not in NOT_OBJECT_OF
                    and (prev in self.stop or verb_form(prev) or prev in IRREGULAR_PAST or prev in OBJECT_VERBS)
                    and phrase_ends):
                # "thirty a week for preview.", "I asked preview to", "moved anything to mini?": a variant
                # word the catalog writes in lower case, the object of a verb or a preposition with no
                # determiner, is the variant the chapter named itself (not "research preview", "magnum opus")
                named = self._named_variant(cands, self.base + s)
                if named is not None:
                    take(s, e, _Prim(s, e, named, "discourse", CONFIDENCE["discourse"]))
                continue
            if doc[s].is_lower and not written and not unit_short and not (verb or compared):
                continue  # "turn off the flash", "for the haiku", "called mini now": a common word is a
                # model said alone as the subject of what follows ("the mini is honestly the best value");
                # a number and its unit said in words is no common word ("the eight K model")
            pick = self._pick_short(cands, self.base + s) if marked else None
            if pick is not None:
                take(s, e, _Prim(s, e, pick, "short", CONFIDENCE["short"]))
                continue
            said_of = bare and verb and not (verb_form(doc[e].lower_) and doc[e].lower_.endswith("s"))
            # "preview burned", "preview got"; a word in -s may be a plural noun ("reflection tags") as well
            # as a verb ("is", "has" and the like count, as function words, below)
            subject = (s == 0 or doc[s - 1].is_punct or doc[s - 1].is_space or prev in CLAUSE_LEADS | SUBJECT_LEADS
                       or adverb(prev, dictionary_words()))  # ", mini wins", "Honestly mini handles"
            if (bare and subject and not marked and doc[s].is_lower and name in self.c.lower_short and e + 1 < n
                    and verb_form(doc[e].lower_) and tb.lower[e + 1] not in BE_FORMS | VERB_LEADS
                    and not tb.text[e + 1][:1].isupper()):
                named = self._named_variant(cands, self.base + s)
                if named is not None:  # "sure, mini wins on price", "Honestly mini handles like 90 percent of it":
                    take(s, e, _Prim(s, e, named, "discourse", CONFIDENCE["discourse"]))  # the variant the
                    continue  # chapter named, said in lower case as the subject of a verb in -s (not "we love
                    # mini games", "Print preview shows", "mini muffins are the move")
            if not (marked or said_of or compared or self._free_standing(doc, s, e)):
                continue  # "a mini fridge"; "mini is cheap" counts while GPT-4o mini's line is discussed
            # a name written as one inside a sentence ("with style control on, Sonnet goes up") may be
            # an earlier chapter's model
            hit = self._from_discourse(s, e, lambda entry: False, None, variants=cands,
                                       earlier=inside and prev not in DETERMINERS)
            if hit is not None:
                take(s, e, hit)
        return out

    def _unlisted_code(self, s: int, e: int, code: str) -> Optional[_Prim]:
        """A letter-digit code said alone that no model has ("R2", "K3"), one past the highest code of
        that letter in the family of a model under discussion (DeepSeek-R1, Kimi K2): that line's
        next (or rumoured) model, a version of its family the catalog does not list."""
        for named, where in self.discourse.candidates(self.base + s):
            if where != IN_DISCUSSION:
                break
            fam = family_of(named.entry)
            family = self.c.catalog.families.get(fam) if fam else None
            known = [int(c[1:]) for c in self.c.family_codes.get(fam, ()) if c[0] == code[0]]
            if family is not None and known and int(code[1:]) == max(known) + 1:  # the next one (not "V1", "V8")
                name = f"{family.name}{family.sep or ' '}{code.upper()}"
                return _Prim(s, e, None, "version", CONFIDENCE["version"], None, name, "model", False)
        return None

    def _sized_variant(self, doc, s: int, e: int, short: tuple, size: str) -> Optional[_Prim]:
        """A size said with a variant's bare name ("the 1.5B distill"): the variant of that name that
        comes in that size, one of the line under discussion where several do."""
        key, end = short
        if any(doc[t].is_punct for t in range(e, end)) or (end < len(doc) and doc[end].is_title
                                                              and not doc[end].is_sent_start):
            return None
        fits = [c for c in self.c.short_of[self.c.nlp.vocab.strings[key]] if size in c.sizes and self._possible(c)]
        if not fits:
            return None
        hit = self._from_discourse(s, end, lambda entry: False, size, variants=fits, earlier=False)
        if hit is None and len(fits) == 1:
            hit = _Prim(s, end, fits[0], "short", CONFIDENCE["short"], size)
        return hit

    def _from_discourse(self, s: int, e: int, fits, size: Optional[str], version: Optional[str] = None,
                        variants: list[Entry] = (), earlier: bool = True, sized: bool = False,
                        definite: bool = False, indefinite: bool = False) -> Optional[_Prim]:
        """A reference resolved against the models under discussion (the chapter's, nearest first;
        then, when ``earlier``, those of earlier chapters): the first model that ``fits``, the
        model of a discussed family that has ``version``, the one model of a discussed family
        that comes in ``size`` (``sized``: "LLaMA ... the sixty five" is Llama 1, the one Llama of
        65B; with several, the family itself in that size, at the low confidence of a guess, when no
        model under discussion comes in it; ``definite``: said with "the", so past families that do
        not come in it), or the one of ``variants`` that belongs to a discussed model's line (its
        family, or a sibling of it)."""
        family, sized_family = None, False
        variants = [c for c in variants if self._possible(c)]
        pos = self.base + s
        if sized and size and not indefinite and not any(pos - 4 <= named.pos < pos
                                                         for named in self.discourse.current):
            # the model the chapter named in that size ("Mistral 7B ... Llama 2 ... the seven B": Mistral
            # 7B, not the nearest line that also comes in 7B), if one; not a size said right after a name
            # ("Hermes three four oh five") nor one a new model comes in ("a one B and a three B")
            said = {named.entry.name for named in self.discourse.current
                    if named.pos < pos and (named.size == size or list(named.entry.sizes) == [size])}
            for named, where in self.discourse.candidates(pos):
                if where != IN_DISCUSSION:
                    break
                if named.entry.name in said and named.entry.kind == "model" and fits(named.entry):
                    return _Prim(s, e, named.entry, "discourse", CONFIDENCE["discourse"], size)
        for k, (named, where) in enumerate(self.discourse.candidates(pos)):
            # with no model named yet in this chapter, the last chapter's topic goes on ("preview is
            # scary good" as a chapter on day-to-day use opens); no further back
            if where != IN_DISCUSSION and (family is not None or not (earlier or where == PREVIOUS)):
                break
            entry = named.entry
            pick = entry if fits(entry) else None
            fam = family_of(entry)
            if pick is None and sized and not sized_family and entry.kind == "family" and (k == 0 or definite):
                # the family just named; or, said with "the", the family named last of those that come
                # in that size ("Jemma, two sizes ... same research as Gemini ... The 7B": Gemma, as no
                # Gemini is 7B; not "open-sourced a 7B")
                members = [m for m in self.c.models_with_size.get(size, ())
                           if m.family == entry.name and self._possible(m)]
                sized_family = bool(members)
                pick = members[0] if len(members) == 1 else None
                if len(members) > 1:  # "Llama ... the 70B", several Llamas of 70B: the family, unless a
                    family = entry  # model the chapter talks about comes in that size
            if pick is None and version is not None and fam:
                pick = self.c.by_version.get((fam, version))
                if pick is not None and self._possible(pick):
                    pick = self._discussed_child(pick, self.base + s)
                elif (entry.kind == "model" and entry.family == fam and not entry.exact
                      and _version_number(entry) == version):
                    pick = entry  # "4.5 is way better" while Claude Sonnet 4.5 is talked about (the family has
                    # several 4.5s: Sonnet, Haiku, Opus), not another family's 4.5 named earlier
                else:
                    pick = None
            if pick is None and version is not None and not fam and entry.kind == "model":
                pick = self._line_version(entry, version)  # "Small 3. 2 ... a minor update on 3. 1": a line
                # of no family (Mistral Small), its models told apart by the end of their versions
            if pick is None and variants:
                pick = next((c for c in variants if c.name == entry.name
                             or (c.parent and c.parent in (entry.name, entry.parent))), None)
                if pick is not None and pick.name != entry.name:  # a sibling: one named here comes first
                    pick = self._named_variant(variants, self.base + s) or pick
                same = [c for c in variants if fam and c.family == fam]
                if pick is None and same:  # "Opus" while Claude 3.5 Sonnet is discussed: the nearest release
                    pick = min(same, key=lambda c: months_apart(c.released, entry.released))
            if pick is not None:
                conf = CONFIDENCE["discourse"] if where == IN_DISCUSSION else EARLIER_CONFIDENCE
                return _Prim(s, e, pick, "discourse", conf, size)
        return _Prim(s, e, family, "discourse", EARLIER_CONFIDENCE, size) if family is not None else None

    def _line_version(self, entry: Entry, version: str) -> Optional[Entry]:
        """The model of ``entry``'s line (its parent and the parent's children, or its own children)
        whose version ends in ``version`` ("Small 3.1" for "3.1" while Mistral Small 3.2 is talked
        about), if exactly one may be meant."""
        cat = self.c.catalog
        line = entry.parent or entry.name
        members = [m for m in (cat.by_name.get(line), *cat.children.get(line, ())) if m is not None]
        fits = [m for m in members if m.version and m.version.split()[-1] == version and self._possible(m)]
        return fits[0] if len(fits) == 1 else None

    @staticmethod
    def _guessed(doc, s: int, e: int, entry: Entry, method: str, conf: float, covered, sizes) -> _Prim:
        """A name found by sound or by spelling, with the size said right after it ("Fy 4 at 14 billion")."""
        size = None
        if entry.mention_kind == "model":
            size, e = _size_after(doc, e, sizes, covered)
        for t in range(s, e):
            covered[t] = True
        return _Prim(s, e, entry, method, conf, size)

    def _note(self, doc, prims: list[_Prim], noted: set[int]) -> None:
        """Tell the discourse the names found in this doc so far (once each); a lab's name makes its
        model families the topic ("DeepSeek ... V3 ... R1"); a base ("fine-tuned on Qwen 2.5") is not
        what "the 1.5B" that follows is about."""
        for p in prims:
            if id(p) in noted or p.entry is None or not p.known:
                continue
            noted.add(id(p))
            p.base = built_on(doc, p.s)
            if p.base:
                continue
            if p.entry.kind == "benchmark":
                bisect.insort(self._benchmarks, self.base + p.s)
                if len(self._benchmarks) > 2 * EPISODE_MEMORY:  # a talk of hours: memory stays bounded
                    del self._benchmarks[:EPISODE_MEMORY]
            if p.entry.kind == "org":
                for fam in self.c.families_of_org.get(p.entry.name, ()):
                    self.discourse.note(self.base + p.s, fam)
            else:
                self.discourse.note(self.base + p.s, p.entry, p.size)
                self._said.add(p.entry.name)

    @staticmethod
    def _listed_with_models(doc, p: _Prim, prims: list[_Prim]) -> bool:
        """Whether the lab's name at ``p`` is listed with models, as one of them: "Llama 2 13B or
        Mistral", "Claude Instant, or now Mistral", "runs Mistral or Llama 2", "are Mistral and not
        Llama"; not with labs ("OpenAI and Mistral"), nor as an owner ("Mistral's")."""
        n = len(doc)
        if p.e < n and doc[p.e].lower_ in ("'s", "’s"):
            return False
        if p.e < n and doc[p.e].lower_ in ("both", "are", "were", "have", "signed", "raised"):
            return False  # "GPT-4 and Mistral both raised money": the companies
        named = [q for q in prims if q is not p and q.entry is not None]
        models = [q for q in named if q.entry.kind in ("model", "family")]

        def joins(a: int, b: int) -> bool:  # the words between a name and the lab's: a conjunction
            if not 0 < b - a <= 3:
                return False
            words = [doc[k].lower_ for k in range(a, b)]
            return all(w in LIST_JOINERS for w in words) and any(w in ("or", "and", "versus", "vs", "vs.")
                                                                 for w in words)
        if any(q.entry.kind == "org" and (q.e <= p.s and joins(q.e, p.s) or q.s >= p.e and joins(p.e, q.s))
               for q in named):
            return False  # "Llama 2 and Mistral and Anthropic": listed with labs
        return (any(q.e <= p.s and joins(q.e, p.s) for q in models)
                or any(q.s >= p.e and joins(p.e, q.s) for q in models))

    def _made_by(self, org: Entry, pos: int, before: list[_Prim], word: str = "",
                 talked_of: bool = False, weights: bool = False) -> Optional[Entry]:
        """The model of ``org`` talked about last before ``pos`` (in this doc ``before`` it, then in
        the chapter), one of its model families where it has any (its chat models, not "Janus"),
        one named by ``word`` (the lab's name as said: "Mistral 7B" of "Mistral") first; else, unless
        ``talked_of`` asks for one talked about, its only family, or, where what is made of its
        ``weights`` is said, the only model it had out when the episode was recorded ("the Mistral
        fine-tune zoo" in 2023: Mistral 7B; not "we use Apple for everything")."""
        families = self.c.families_of_org.get(org.name, ())
        family_names = {f.name for f in families}

        def made(entry: Entry) -> bool:
            return entry.org == org.name and (not families or family_of(entry) in family_names
                                              or bool(word) and atoms(entry.name)[:1] == (word,))

        said = [q.entry for q in reversed(before) if q.entry is not None and q.entry.kind in ("model", "family")]
        said += [named.entry for named, where in self.discourse.candidates(pos) if where == IN_DISCUSSION]
        ours = [e for e in said if made(e)]
        # a model named by the lab's word first ("running Mistral": Mistral 7B, not the Mixtral said since)
        named = next((e for e in ours if atoms(e.name)[:1] == (word,)), ours[0] if ours else None)
        if named is not None or talked_of:
            return named
        if len(families) == 1:
            return families[0]
        if self.until is None or not weights:
            return None
        out = [e for e in self.c.catalog.entries if e.kind == "model" and made(e) and e.released
               and (month_of(e.released) or 0) <= self.until]
        return out[0] if len(out) == 1 else None

    def _longer_benchmark(self, entry: Entry, word: str, here: list[Entry]) -> Entry:
        """A benchmark named by an English word in capitals ("ARC"), said alone, is the one named in
        the episode (or ``here``, earlier in this doc) whose name it begins (ARC-AGI), unless itself
        was named (AI2's ARC Challenge)."""
        named = [*self._named_benchmarks.values(), *(h for h in here if h.kind == "benchmark")]
        if not self._is_word(word) or entry in named:
            return entry
        head = atoms(entry.name)
        return next((b for b in reversed(named) if b is not entry and atoms(b.name)[:len(head)] == head), entry)

    def _benchmarks_heard_as_names(self, doc, covered, prims: list[_Prim]) -> list[_Prim]:
        """A benchmark named in the episode, heard later as a first name of the same sound ("Amy" for
        AIME), where a benchmark's name stands: "on Amy,", "the Amy number", "per Amy question";
        not "Amy from accounting", "my sister Amy", "on Amy's podcast", "what Amy told me"."""
        named = {*self._named_benchmarks.values(), *(p.entry for p in prims if p.entry is not None)}
        out = []
        tb = table(doc)  # (a Token read per word of the doc would be most of this pass)
        for i, (text, low) in enumerate(zip(tb.text, tb.lower)):
            if covered[i] or not (text.istitle() and tb.alpha[i]) or len(text) < 3 or self._english(low):
                continue  # (not "Human votes", "Math problems": English words)
            prev = tb.lower[i - 1] if i > 0 else ""
            nxt = tb.lower[i + 1] if i + 1 < len(doc) else ""
            scored = nxt in SCORE_WORDS | RESULT_NOUNS | {"problems"}
            if not (scored or prev == "per" or prev == "on" and nxt in (",", "is", "was")):
                continue  # (not "what Amy told me", "says Amy", "counting on Amy to fix it", "a crush on Amy.")
            if (prev in PERSON_TITLES or prev in OWNERS or nxt in ("'s", "\u2019s")
                    or i + 1 < len(doc) and doc[i + 1].is_title):
                continue  # "my sister Amy", "on Amy's podcast", "on Amy Smith's blog"
            heard = list({x.entry.name: x.entry for x in self.phonetic.by_sound.get(sound(low), ())
                          if x.entry in named and x.entry.kind == "benchmark"}.values())
            if len(heard) == 1:
                out.append(_Prim(i, i + 1, heard[0], "sound", CONFIDENCE["sound"]))
                covered[i] = True
        return out

    def _lower_case_names(self, doc, covered) -> list[_Prim]:
        """A name that is an English word, written in lower case ("whisper"), while that model is talked
        about, where a model is said: the object of a verb of use ("I use whisper for our transcripts",
        "I'd pick whisper over Deepgram"; not "use pi to compute circles") or the subject of a verb in the
        past opening a sentence or after a comma ("whisper wrote my name as Cake"); not "I'll whisper this
        part", "a whisper"."""
        out = []
        n = len(doc)
        tb = table(doc)
        common = {tb.text[k] for k in range(1, n) if tb.text[k] in self.c.word_names
                  and (tb.lower[k - 1] in DETERMINERS | {"a", "an", "in", "phone"} or k + 1 < n
                       and self._noun_follows(doc[k + 1]))}  # words written in lower case as common nouns here
        for i, text in enumerate(tb.text):
            entry = self.c.word_names.get(text) if not covered[i] else None  # (written in lower case)
            if entry is None or not self._discussed(entry, i):
                continue
            prev = doc[i - 1].lower_ if i > 0 else ""
            nxt = doc[i + 1].lower_ if i + 1 < n else ""
            ends = i + 1 == n or doc[i + 1].is_punct
            used = prev in USE_VERB_FORMS and (ends or nxt in ("for", "on", "over"))
            asked = prev in ASKED and nxt == "to"  # "I asked operator to book": an agent asked to do something
            # (not "we use pi to compute")
            said_of = (i == 0 or sentence_start(doc, i) or prev == ",") and (  # (not "and pi turned out to be")
                nxt in IRREGULAR_PAST or nxt.endswith("ed") and len(nxt) > 4)
            # the subject of a clause ("so flux is kind of everywhere", "images, flux is great", "if operator
            # could read"), or set against a model ("above ideogram.", "doing with flux.")
            subject = ((i == 0 or sentence_start(doc, i) or prev == "," or prev in CLAUSE_LEADS | SUBJECT_LEADS)
                       and nxt in SINGULAR_LEADS and not (i + 2 < n and doc[i + 2].lower_ in ("a", "an")))
            against = prev in ("above", "below", "than", "versus", "vs") and ends
            number_after = i + 2 < n and (doc[i + 2].like_num or doc[i + 2].lower_ in ("about", "around"))
            if ((used or said_of or (asked or subject and not number_after or against) and text not in common)
                    and not not_this_name(doc, i, i + 1)):  # (not "phi is also the golden ratio", "phi is about
                # 1.618": a symbol; not "a llama ... llama was spitting", "in flux ... flux is": the word, as said
                # in this doc)
                out.append(_Prim(i, i + 1, entry, "discourse", CONFIDENCE["discourse"]))
                covered[i] = True
        return out

    @staticmethod
    def _pronoun_one(doc, s: int, e: int) -> bool:
        """Whether ``doc[s:e]`` ends in "one" said as a pronoun: after a determiner and the words
        that describe it ("the pro one", "a fully open one", "the Sal Khan one")."""
        if doc[e - 1].lower_ != "one":
            return False
        k = s - 1
        while k >= 0 and s - k <= 4 and doc[k].is_alpha and doc[k].lower_ not in DETERMINERS | {"a", "an"}:
            k -= 1
        return k >= 0 and doc[k].lower_ in DETERMINERS | {"a", "an"}

    def _english(self, word: str) -> bool:
        """Whether a lower-case word is English: a dictionary word, or two run together ("screenshot")."""
        is_word = self._is_word
        return is_word(word) or any(is_word(word[:k]) and is_word(word[k:]) for k in range(3, len(word) - 2))

    @staticmethod
    def _idiom(doc, s: int, e: int, entry: Entry) -> bool:
        """Whether a name said in words is the idiom of one of the entry's ``not`` phrases that starts
        with an article ("a needle in a haystack"), with up to three words, commas or quotes between the
        article and the rest: 'a challenging "needle-in-a-haystack" task', "a real, real needle in a haystack"."""
        said = tuple(t.norm_ for t in doc[s:e])
        if not any(p.split(" ", 1)[0] in ("a", "an") and atoms(p.split(" ", 1)[1]) == said
                   for p in entry.not_ if " " in p):
            return False
        i = s - 1
        while i >= 0 and s - i <= 4 and (doc[i].is_quote or doc[i].text == "," or doc[i].is_lower and doc[i].is_alpha
                                         and doc[i].lower_ not in ("a", "an") and not doc[i].is_stop):
            i -= 1
        return i >= 0 and doc[i].lower_ in ("a", "an")

    def _in_context(self, doc, hit) -> bool:
        """Whether a near miss of a name stands where models are talked about: its family
        (or the name) under discussion, or a model word ("benchmark", "weights" ...) or a size
        within a few words (another model's name near it is not enough: "Llama 3 is out. I met Emma")."""
        if self._discussed(hit.entry, hit.start):
            return True
        lo, hi = max(0, hit.start - NEAR), min(len(doc), hit.end + NEAR)
        return any(doc[t].lower_ in CUES or doc[t].norm_ in SIZE_UNITS for t in range(lo, hi))

    def _discussed(self, entry: Entry, i: int) -> bool:
        """Whether ``entry``'s family (or the entry itself) is under discussion at token ``i`` of the doc."""
        fam = family_of(entry)
        for named, where in self.discourse.candidates(self.base + i):
            if where != IN_DISCUSSION:
                return False
            if named.entry is entry or (fam and family_of(named.entry) == fam):
                return True
        return False

    def _discussed_child(self, entry: Entry, pos: int) -> Entry:
        """"3.5" while Claude 3.5 Sonnet is discussed is that model, not Claude 3.5 in general."""
        return next((d.entry for d, where in self.discourse.candidates(pos)
                     if where == IN_DISCUSSION and d.entry.parent == entry.name), entry)

    def _alone_in_the_tail(self, doc, s: int, e: int, entry: Entry, sizes: dict[int, int], before: list) -> bool:
        """Whether a name of the long tail (``exact``) written as anything else may be ("Koala",
        "Meena", "Kandinsky": one word, a capital, then lower-case letters; "bar exam", "voice engine":
        English words in lower case) stands away from talk of AI: no AI word, size or other model or
        benchmark name within ``NEAR`` words, no version after it, its maker not named near, and the
        name not talked about already. A name of the long tail is said where AI is talked about
        ("Berkeley did Koala, and EleutherAI put out Llemma"); elsewhere such a word is a painter, a
        friend, an animal, a band."""
        if not entry.exact or not self._plain_tail_words(doc, s, e, entry):
            return False
        if e - s == 1 and e < len(doc) and self._noun_follows(doc[e]):
            return True  # "Strawberry ice cream", "Garlic bread", "the Orion prototype": a word before a noun
        return not (self._ai_talk_near(doc, s, e, entry, sizes) or self._discussed(entry, s)
                    or any(p.entry is entry for p in before))  # named already ("... Koala was underrated")

    def _ai_talk_near(self, doc, s: int, e: int, entry: Entry, sizes: dict[int, int]) -> bool:
        """Whether AI is talked about right at ``doc[s:e]``: a version after it, a size or an AI word
        within ``NEAR`` words, talk of benchmarks (for a benchmark), another model or benchmark name
        near (not one more word like it: "a Kandinsky, and Sana came"), or its maker named near."""
        n = len(doc)
        if e < n and (VERSION_TOKEN.match(doc[e].norm_) or doc[e].norm_.isdigit() and doc[e].lower_ != "one"
                      and not (e + 1 < n and doc[e + 1].lower_ in COUNT_NOUNS)):
            return True  # "Koala 13", "Llemma 2" (not "Aria two questions", "Sana one more time")
        before = [doc[t].lower_ for t in range(max(0, s - 4), s)]
        if entry.parent and (any(w in ("codename", "codenamed") for w in before) or any(
                a == "code" and b in ("name", "named") for a, b in zip(before, before[1:]))):
            return True  # "Code name Orion.", "a project code named Strawberry": said to be a product's name
        lo, hi = max(0, s - NEAR), min(n, e + NEAR)
        if any(lo <= a < hi for a in sizes) or any(doc[t].lower_ in AI_TALK for t in range(lo, hi)):
            return True  # "Koala 13B", "Flamingo scored well on the benchmark", "vending bench two"
        if entry.kind == "benchmark" and self._benchmark_talk(s):
            return True  # "and math arena apex, twenty three point four": where benchmarks are talked about
        for ent in doc.ents:
            if lo <= ent.start < hi and not s <= ent.start < e:
                other, how, _ = self.c.ids.get(ent.ent_id_, (None, "not", ""))
                if (how != "not" and other.kind in ("model", "benchmark", "family")
                        and not self._plain_tail_words(doc, ent.start, ent.end, other)
                        and (other.name, doc[ent.start].lower_) not in self.discourse.rejected
                        and other is not entry):
                    return True
        return self._maker_near(doc, s, e, entry)

    def _ranking_said(self, doc, s: int, e: int) -> bool:
        """Whether the sentence of ``doc[s:e]`` names a model or a benchmark, or says "benchmark",
        "leaderboard", "Elo", "score", "rank"; or, where the benchmark's word is the topic ("the arena
        thing"), whether a model or a benchmark is named within ``NEAR`` words: a benchmark's word there
        is that benchmark ("the whole arena mess with Llama 4", "the arena is a vibes benchmark", "Same
        day as Llama. Okay, now the arena thing."), not a building ("the arena lights went out")."""
        n = len(doc)
        a, b = _sentence_of(doc, s, e)
        if any(doc[t].lower_ in RANKING_WORDS for t in range(a, b) if not s <= t < e):
            return True
        if e < n and doc[e].lower_ in TOPIC_NOUNS:
            a, b = max(0, s - NEAR), min(n, e + NEAR)
        names = [p for p, entry, _ in self._doc_hist if entry.kind in ("model", "benchmark", "family")]
        return any(self.base + a <= p < self.base + b and not self.base + s <= p < self.base + e for p in names)

    def _model_again(self, doc, s: int, e: int, entry: Entry, sizes: dict[int, int]) -> bool:
        """Whether a name that was a person's earlier in the chapter ("a llama named Gemma", "my uncle
        Claude") is the model here, by what is said of the name itself: a version or a size after it
        ("Gemma 7B"), a model word after it ("the Claude models", "the Claude API"), or a leaderboard or
        benchmark said in its sentence ("is Gemma on the arena yet?"); not AI words or other models near
        it alone ("Claude thinks AI will take his job", "Claude uses ChatGPT for everything"); nor where
        the person is spoken to ("Claude, can you ...") or said to say something ("Claude also says"), nor
        in a sentence of a few words on them ("Poor Claude.")."""
        n = len(doc)
        if e < n and doc[e].text == "," and (s == 0 or doc[s - 1].is_punct or doc[s - 1].is_space):
            return False
        if s > 0 and doc[s - 1].lower_ in PERSON_BEFORE:
            return False  # "from Claude, a human Claude, in Lyon"
        if any(doc[t].lower_ in SAID_BY_PERSON for t in range(e, min(n, e + 2))):
            return False  # "Claude also says", "Tell Aya she's been expanded"
        a, b = _sentence_of(doc, s, e)
        if sum(1 for t in range(a, b) if doc[t].is_alpha) <= 3:
            return False
        if e < n and (e in sizes or VERSION_TOKEN.match(doc[e].norm_) or doc[e].lower_ in MODEL_CUES | {"api"}):
            return True  # "Gemma 7B", "Claude 3", "the Claude models", "the Claude API"
        if s > 0 and doc[s - 1].lower_ in MACHINE_VERBS and not (
                e < n and doc[e].lower_ in ("'s", "\u2019s", "to", "over", "home", "back", "around", "by")):
            return True  # "Theo, you ran Kimi?", "I benchmarked Gemma": what is run, not who
        return any(doc[t].lower_ in ("arena", "leaderboard", "leaderboards", "benchmark", "benchmarks")
                   for t in range(a, b))  # "is Gemma on the arena yet?" (not "Claude uses ChatGPT for everything")

    def _plain_tail_words(self, doc, s: int, e: int, entry: Entry) -> bool:
        """Whether a long-tail name at ``doc[s:e]`` is written as other words are: one word with a
        capital and then lower case ("Sana"), or English words in lower case ("bar exam")."""
        if not entry.exact:
            return False
        if e - s == 1:
            word = doc[s].text
            return word.isalpha() and word[:1].isupper() and word[1:].islower()
        return plain_english(doc[s:e], self._is_word)

    def _maker_near(self, doc, s: int, e: int, entry: Entry) -> bool:
        """Whether the maker of ``entry`` is named within ``ORG_NEAR`` words of ``doc[s:e]`` (not in
        it): the lab by a name of its catalog entry ("DeepMind" for Google DeepMind), or the first word
        of its name written with its capital, where that word is no English word ("Berkeley" for UC
        Berkeley, not "World" for World Labs)."""
        if not entry.org:
            return False
        lo, hi = max(0, s - ORG_NEAR), min(len(doc), e + ORG_NEAR)
        for ent in doc.ents:
            if lo <= ent.start < hi and not s <= ent.start < e:
                org = self.c.ids.get(ent.ent_id_, (None, "not", ""))[0]
                if org is not None and org.kind == "org" and org.name == entry.org:
                    return True
        words = [w for w in entry.org.split() if w[:1].isupper() and w.isalpha() and not self._is_word(w.lower())]
        return any(doc[t].text in words for t in range(lo, hi) if not s <= t < e)

    def _cased_guess(self, doc, s: int, e: int, entry: Entry) -> bool:
        """Whether a one-word name the catalog matches only as written, an English word ("Pi",
        "Dolly", "Cosmos"), is not that model: a version follows that it has not ("Pi 4", "Dolly 3":
        Phi-4 and DALL-E 3 misheard), or the model came out after the episode ("Cosmos one" in 2023)."""
        if self.fuzzy is None or not self.fuzzy.is_word(doc[s].lower_):
            return False
        org = entry.org.lower().split()[0] if entry.org else ""
        if org and any(doc[t].lower_ == org for t in range(max(0, s - ORG_NEAR), min(len(doc), e + ORG_NEAR))):
            return False  # "Databricks open sourced Dolly 2", "Cosmos 1 is NVIDIA's world model": its maker is named
        if not self._possible(entry):
            return True
        nxt = doc[e] if e < len(doc) else None
        if nxt is None or not (nxt.norm_.isdigit() and len(nxt.norm_) <= 2 or VERSION_TOKEN.match(nxt.norm_)):
            return False
        after = doc[e + 1].lower_ if e + 1 < len(doc) else ""
        if nxt.lower_ == "one" or after in COUNT_NOUNS or SPELLED_UNITS.get(after, after) in SIZE_UNITS:
            return False  # "the old CLIP one", "Chameleon two weeks ago", "Chinchilla seventy B": no version
        fam = family_of(entry)
        return nxt.norm_ != entry.version and not (fam and (fam, nxt.norm_) in self.c.by_version)

    def _line_out_then(self, entry: Entry, said: str) -> Optional[Entry]:
        """For a name said without a version that the catalog gives a later model ("Claude Sonnet":
        Claude 3.5 Sonnet), the model of that family and variant out when the episode was recorded
        ("Claude Sonnet" in March 2024: Claude 3 Sonnet), the latest if several."""
        words = said.split()
        if not entry.family or len(words) < 2 or any(ch.isdigit() for ch in said):
            return None
        word = words[-1].lower()
        out = [m for m in self.c.catalog.entries if m.kind == "model" and m.family == entry.family and not m.exact
               and m.released and self._possible(m) and word in (w.lower() for w in variant_words(m))]
        return max(out, key=lambda m: m.released) if out else None

    def _code_month(self, code: str) -> Optional[int]:
        """The month a checkpoint's date names (as ``month_of`` counts): "2507" July 2025; "0125" the
        last January 25 on or before the episode's date; None where the episode has no date."""
        if self.until is None:
            return None
        a, b = int(code[:2]), int(code[2:])
        if not 1 <= a <= 12 or not 1 <= b <= 31:
            return (2000 + a) * 12 + b
        year, month = divmod(self.until - 1, 12)
        return (year if month + 1 >= a else year - 1) * 12 + a

    def _possible(self, entry: Optional[Entry]) -> bool:
        """Whether ``entry`` may be meant by a reference or a guess: not released after the
        episode was recorded ("Mini" in a 2024 show is no GPT-5 mini; "Gamma 2" in June 2024 no Kimi K2),
        unless it was named in the episode ("o3-mini ... Mini", said before its release)."""
        return (entry is None or self.until is None or not entry.released or entry.name in self._said
                or (month_of(entry.released) or 0) <= self.until + ANNOUNCED)

    def _pick_short(self, cands: list[Entry], pos: int) -> Optional[Entry]:
        cands = [c for c in cands if self._possible(c)]
        for recent, _ in self._recent(pos, SHORT_WINDOW):
            if recent.mention_kind != "model":
                continue  # "... on SWE-bench. And Opus?": benchmarks and orgs in between do not count
            for c in cands:  # a variant of the model just named, or a sibling of it
                if c.name == recent.name:
                    return c  # "Mini" right after "GPT-4o mini": the same model, named again
                if c.parent and (c.parent == recent.name or c.parent == recent.parent):
                    # "o3-mini ... above o1. And mini is great": a variant the chapter talks about
                    # (named in it) before one only its parent's name suggests
                    return self._named_variant(cands, pos) or c
            if recent.kind in ("model", "family"):
                fam = family_of(recent)
                same = [c for c in cands if fam and c.family == fam]
                if len(same) == 1 or (same and recent.released):
                    # "Opus" after "Claude 3.5 Sonnet": the Opus released nearest to that model
                    return min(same, key=lambda c: months_apart(c.released, recent.released))
            return None  # only the most recent model counts
        return None

    def _said_here(self, pos: int) -> list[Entry]:
        """The names said in the current doc before ``pos`` (global), nearest first."""
        k = bisect.bisect_left(self._doc_pos, pos)
        return [entry for _, entry, _ in reversed(self._doc_hist[:k])]

    def _benchmark_said(self, cands: list[Entry], pos: int) -> Optional[Entry]:
        """The one of ``cands`` (benchmarks said by a word of their name, "Verified", "Arena") whose
        line was named earlier in the episode: itself, its parent or a sibling (SWE-bench)."""
        said = self._said_here(pos)  # this doc's, nearest first
        for entry in (*said, *reversed(self._named_benchmarks.values())):  # then the episode's, latest first
            if entry.kind != "benchmark":
                continue
            for c in cands:
                if entry is c or (c.parent and c.parent in (entry.name, entry.parent)):
                    return c
        # or the lab that runs it ("LMSYS ... the arena"), named in this doc or the episode
        return next((c for c in cands if c.org and (c.org in self._named_orgs or any(
            entry.name == c.org for entry in said))), None)

    def _named_variant(self, cands: list[Entry], pos: int) -> Optional[Entry]:
        """The one of ``cands`` named last in the current discussion, if any is."""
        names = {c.name: c for c in cands}
        return next((names[d.entry.name] for d, where in self.discourse.candidates(pos)
                     if where == IN_DISCUSSION and d.entry.name in names), None)

    def _unknown_shaped(self, doc, covered, sizes) -> list[_Prim]:
        """Model-shaped names the catalog does not know: "Foo-2 70B", or "Foo-2" next to "model"."""
        out: list[_Prim] = []
        n = len(doc)
        fz = self.fuzzy

        def namelike(tok) -> bool:
            if covered[tok.i] or not tok.text[:1].isalpha() or tok.is_stop or len(tok.norm_) < 2:
                return False
            word = tok.text.rstrip("-")
            if not word.isalpha() or word.islower():
                return False
            internal_caps = any(ch.isupper() for ch in word[1:])
            return internal_caps or fz is None or not fz.is_word(tok.norm_) or tok.text.endswith("-")

        for s, e in sizes.items():
            if any(covered[t] for t in range(s, e)):
                continue
            i = s - 1
            if i >= 1 and doc[i].norm_.replace(".", "").isdigit() and not covered[i]:
                i -= 1  # a version between name and size: "Foo-2 70B"
            if i < 0 or not namelike(doc[i]):
                continue
            name = doc[i:s].text.strip().rstrip("-")
            size = size_text(doc[s:e])
            guess = fz.model_shaped([t.norm_ for t in doc[i:e]]) if fz is not None else None
            if guess is not None and not self._possible(guess[0]):
                guess = None
            if guess is not None:  # a garbled known model: "Nanotron 4 340B" -> Nemotron-4 340B
                entry, score = guess
                out.append(_Prim(i, e, entry, "fuzzy", round(0.85 * score / 100, 3), size))
            else:
                out.append(_Prim(i, e, None, "unknown", CONFIDENCE["unknown"], size, name, "model", False))
            for t in range(i, e):
                covered[t] = True
        tb = table(doc)
        for i in range(n - 1):
            if covered[i] or covered[i + 1] or tb.ws[i] or not tb.digit[i + 1]:
                continue
            tok = doc[i]
            if not namelike(tok):
                continue
            near = {t.lower_ for t in doc[max(0, i - 3):min(n, i + 6)]}
            if not near & MODEL_CUES:
                continue
            name = doc[i:i + 2].text
            out.append(_Prim(i, i + 2, None, "unknown", CONFIDENCE["unknown"], None, name, "model", False))
            covered[i] = covered[i + 1] = True
        out += self._benchmark_shaped(doc, covered)
        words = dictionary_words()
        ids = self.c.ids
        labs = [ent for ent in doc.ents if ent.ent_id_ in ids and ids[ent.ent_id_][0].kind == "org"]
        for s, e, kind in introduced_names(doc, tb.lower, covered, words.__contains__,  # "a new benchmark called X"
                                           (frozenset(x.start for x in labs), frozenset(x.end for x in labs))):
            if any(covered[t] for t in range(s, e)):
                continue
            whole = self.c.by_atoms.get(atoms(f"{doc[s:e].text} {kind}"))  # "a bias benchmark, BBQ": "BBQ benchmark"
            if whole is not None and whole[0].mention_kind == kind:
                out.append(_Prim(s, e, whole[0], "short", CONFIDENCE["short"]))
            else:
                out.append(_Prim(s, e, None, "unknown", CONFIDENCE["unknown"], None, doc[s:e].text, kind, False))
            for t in range(s, e):
                covered[t] = True
        return out

    def _benchmark_shaped(self, doc, covered) -> list[_Prim]:
        """Benchmarks the catalog does not know, by the shape benchmark names have: a name ending in
        Bench, Eval or QA ("KontextBench", "CRUXEval", "RealWorldQA", "Multi-SWE-bench", "NCEN-QA"),
        or such a word after an acronym ("EQ bench", "AGI Eval"); not words ("retrieval")."""
        out: list[_Prim] = []
        tb = table(doc)
        words = dictionary_words()
        for i, tx in enumerate(tb.text):
            if covered[i]:
                continue
            if benchmark_shaped(tx):  # one word: the tail after a capitalized part
                if tb.norm[i] in words:
                    continue
                s = i
            elif tx in BENCHMARK_TAILS and i > 0:
                s = i - 1
                if tb.ws[s] and not (tx in SPACED_TAILS and ACRONYM_WORD.match(tb.text[s])
                                     and tb.lower[s] not in GENERIC_ACRONYMS):
                    continue  # "EQ bench" yes; "the bench", "LLM eval", "IT QA" no
            else:
                continue
            while s > 0 and tb.text[s - 1].endswith("-") and not tb.ws[s - 1]:
                s -= 1  # "Multi-SWE-bench": the hyphened words before it
            if any(covered[t] for t in range(s, i + 1)) or not tb.text[s][:1].isupper():
                continue
            name = doc[s:i + 1].text
            out.append(_Prim(s, i + 1, None, "unknown", CONFIDENCE["unknown"], None, name, "benchmark", False))
            for t in range(s, i + 1):
                covered[t] = True
        return out

    def _ner(self, doc, covered) -> list[Raw]:
        out = []
        for ent in doc.ents:
            if ent.ent_id_ or ent.label_ not in ("ORG", "PERSON"):
                continue
            if any(covered[t] for t in range(ent.start, ent.end)):
                continue
            name = clean_surface(ent.text)
            if len(name) < 2 or not any(ch.isalpha() for ch in name):
                continue
            kind = "org" if ent.label_ == "ORG" else "person"
            out.append(Raw(ent.start_char, ent.end_char, name, kind, "ner", CONFIDENCE["ner"], known=False,
                           surface=name))
        return out

    def _raw(self, doc, p: _Prim) -> Raw:
        span = doc[p.s:p.e]
        surface = clean_surface(span.text)
        start = span.start_char + (len(span.text) - len(span.text.lstrip()))
        if p.entry is not None:
            e = p.entry
            return Raw(start, start + len(surface), e.name, e.mention_kind, p.method, p.confidence, True, p.size,
                       e.org, e, surface)
        return Raw(start, start + len(surface), clean_surface(p.canonical or surface), p.kind or "model",
                   p.method, p.confidence, p.known, p.size, None, None, surface)
