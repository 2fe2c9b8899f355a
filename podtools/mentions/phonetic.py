"""Names that speech recognition heard as other words: matched by sound, only where the talk is
about models.

Whisper writes a name it does not know as the words that sound the same: "mixed rail" for
Mixtral, "code stroll" for Codestral, "Gwen 3" or "Quinn" for Qwen, "Fy 4" for Phi-4, "big coat
bench" for BigCodeBench. No list of such garbles can be complete, so each catalog name is keyed
by how it sounds (Metaphone, jellyfish's, over the name's letters run together, with "qu" said
"kw"; a name with an acronym in it also as said letter by letter: MLE-bench as "em el ee bench",
heard "Emily bench", and a word the ASR wrote in capitals is read the same way; letters said one
by one also blur into fewer sounds: MMLU-Pro heard "Emma Lou Pro", and so does a name said with its
number: Qwen 3 heard "Cohen 3"), and a run of one
to four words that sounds the same, carries the same numbers, and stands where the context says a
model or benchmark is meant, is that name. The context (see
:meth:`PhoneticIndex.search`) is what keeps "cloud", "Amy" and "Sarah" ordinary words elsewhere:

- the words carry the name's version or size ("Fy 4", "Gwen 3"): a word and a number that
  sound like a model's name and version are that model;
- or the name's family is under discussion in the chapter and the word is written as a name
  (capitalized), or the sound is long and distinctive (five sounds or more: "mixed rail",
  "code stroll") and a model word, another name or a size is near;
- or, one sound off, a word written as a name says the number of a line under discussion ("Gamma
  3 4B" while Gemma 3 is talked about, "Sonic four" for Sonnet 4).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional

from .cues import COUNT_NOUNS, OWNERS, PERSON_TITLES, plain_english, verb_form
from .nlp import table
from .text import digits_of

MAX_WORDS = 4  # words in a garbled name ("aid her polyglot", "humanities last exam")
LONG_SOUND = 5  # sounds (Metaphone letters) for a name to be found without its version or family
NEAR_SOUND = 6  # sounds for a name to be found one sound off ("Sweet Lancer": SWTLNSR, SWE-Lancer SWLNSR)
BENCHMARK_WORDS = frozenset({"benchmark", "benchmarks", "leaderboard", "eval", "evals"})
RARE_LENGTH = 7  # letters of a word rare enough in ordinary speech to anchor a name heard in ordinary words
NEAR = 12  # tokens either side in which a model word, another name or a size makes the context
CUES = frozenset({
    "model", "models", "benchmark", "benchmarks", "leaderboard", "eval", "evals", "score", "scores", "scored",
    "weights", "quant", "quants", "quantized", "release", "released", "version", "parameters", "params",
    "checkpoint", "fine-tune", "finetune", "tokens", "api", "open", "llm", "llms", "context", "reasoning",
    "coding", "agent", "agents", "inference", "gpu", "gpus", "run", "running", "ran", "bench",
})


# where a benchmark's name stands, not a person's: "on Emma Lou", "the Emma Lou test", "run Emma Lou",
# "what Emma Lou is", "Emma Lou seventy-six"
SCORED_PREV = frozenset({"on", "the", "what", "run", "ran", "running", "said", "say", "says", "at", "in", "\"",
                         "\u201c"})
SCORE_WORDS = frozenset({"score", "scores", "test", "tests", "type", "numbers", "number", "benchmark", "questions"})
SUBJECT_PERSON = frozenset({"my", "our", "your", "his", "her", "their", "a", "an", "on", "in", "at", "here", "back",
                            "out", "away", "with", "from", "going", "gonna"})  # "Quinn is a co-host", "is back"
LINE_WORDS = frozenset({"family", "series", "line", "lineup"})  # "the Gamma three family"

# how each letter is said, for names said letter by letter ("GPQA": gee pee queue ay, heard "Jeep QA")
LETTER_NAMES = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    "ay", "bee", "see", "dee", "ee", "ef", "jee", "aych", "eye", "jay", "kay", "el", "em", "en", "oh", "pee", "kyoo",
    "ar", "ess", "tee", "you", "vee", "doubleyou", "ex", "why", "zee")))
ACRONYM = re.compile(r"\b[A-Z]{2,5}\b|(?<![A-Za-z])[A-Z]{2,5}(?=[a-z]*(?:bench|eval|Eval)\b)")


def _starts(doc, i: int) -> bool:
    """Whether ``doc[i]`` begins a sentence, where a capital says nothing of a name."""
    return i == 0 or doc[i - 1].text in (".", "!", "?")


def spelled(word: str) -> str:
    """A word said letter by letter, as letters that sound like it ("QA": kyooay)."""
    return "".join(LETTER_NAMES.get(c, c) for c in word.lower())


@lru_cache(maxsize=65536)
def sound(letters: str) -> str:
    """How a run of letters sounds, as a Metaphone key ("mixedrail" and "mixtral": MKSTRL)."""
    import jellyfish

    letters = re.sub(r"qu", "kw", unicodedata.normalize("NFKC", letters).lower())  # the "fi" ligature as "fi"
    code = jellyfish.metaphone(letters) if letters else ""
    return code[:1] + code[1:].rstrip("YW") if code else ""  # a glide at the end is a vowel: "Fye" as "Phi"


@lru_cache(maxsize=65536)
def blurred(code: str) -> str:
    """A sound key as letters said one by one run together: Y, W and H after the first sound
    gone, a sound said twice once ("em em el you": EMMLY -> EML, as "Emma Lou" is EML)."""
    out = code[:1]
    for c in code[1:]:
        if c not in "YWH" and c != out[-1]:
            out += c
    return out


def _deletions(code: str) -> set[str]:
    return {code[:k] + code[k + 1:] for k in range(len(code))}


def one_off(a: str, b: str) -> bool:
    """Whether two sound keys differ by at most one sound added, dropped or changed."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return short in _deletions(long_)


@dataclass(frozen=True)
class _Name:
    entry: object
    digits: tuple[str, ...]
    sound: str
    words: frozenset = frozenset()  # the words of the entry's names as written ("swe", "bench", "verified")
    count: int = 0  # the words of this name
    cased: bool = False  # an English word the catalog matches only as written ("Bard"): heard only while discussed


@dataclass
class PhoneticHit:
    start: int
    end: int
    entry: object
    how: str  # "numbers" | "discussed" | "context" | "near" (one sound off)


class PhoneticIndex:
    """Catalog names keyed by their sound (letters only) and the numbers they carry."""

    def __init__(self, by_atoms: dict, stop_words: frozenset[str], is_word: Callable[[str], bool] = lambda w: False):
        self.stop = stop_words
        self.said_after = stop_words | CUES | LINE_WORDS  # words after "Gamma 3" that leave it a name
        self.is_word = is_word
        self.by_sound: dict[str, list[_Name]] = {}
        self.by_blur: dict[str, list[_Name]] = {}  # names with an acronym, said letter by letter, blurred
        self.by_short_blur: dict[str, list[_Name]] = {}  # short ones ("Emma Lou": MMLU), only as a name
        # of two words or more where benchmarks are talked about
        entry_words: dict[int, frozenset] = {}  # the words of an entry's names as written (not its garbles)
        for key, (entry, how, text) in by_atoms.items():
            if how != "asr":
                entry_words[id(entry)] = entry_words.get(id(entry), frozenset()) | {
                    a for a in key if a.isalpha() and len(a) >= 3}
        for key, (entry, how, text) in by_atoms.items():
            if getattr(entry, "kind", "") not in ("model", "benchmark", "family"):
                continue
            cased = how == "cased"
            if cased and not (text.isalpha() and text[:1].isupper() and text[1:].islower()):
                continue  # ("MATH", "ARC": acronyms written as words; only "Bard"-like names are heard)
            if getattr(entry, "kind", "") == "family" and not getattr(entry, "standalone", True):
                continue
            if getattr(entry, "exact", False):
                continue  # the long tail: a sound-alike is likelier ordinary words ("agentic") than a rare name
            letters = "".join(a for a in key if a.isalpha())
            code = sound(letters)
            if len(letters) < 2 or not code or (len(code) < 2 and not digits_of(key)):
                continue  # "Phi-4" (F and 4) is kept: its number is said with it
            if cased:  # "the old Bart" while Bard is talked about; nothing else of it
                name = _Name(entry, (), code, entry_words.get(id(entry), frozenset()), 1, cased=True)
                bucket = self.by_sound.setdefault(code, [])
                if all(n.entry is not entry for n in bucket):
                    bucket.append(name)
                continue
            codes = [(code, self.by_sound)]
            lettered = [k for k, a in enumerate(key) if len(a) == 1 and a.isalpha() and k + 1 < len(key)
                        and key[k + 1][:1].isdigit()]
            if lettered:  # "Kimi k1.5" heard "Kimmy 1.5": the version's letter lost
                bare = "".join(a for k, a in enumerate(key) if a.isalpha() and k not in lettered)
                if len(sound(bare)) >= 2:
                    codes.append((sound(bare), self.by_sound))
            if digits_of(key) and len(blurred(code)) >= 2:  # "Cohen 3", "Coin 2. 5": Qwen with its number
                codes.append((blurred(code), self.by_blur))
            if ACRONYM.search(text):  # "GPQA", "MLE-bench": also as said letter by letter
                said = re.sub(r"[^a-z]", "", ACRONYM.sub(lambda m: spelled(m.group()), text).lower())
                codes.append((sound(said), self.by_sound))
                if len(blurred(sound(said))) >= LONG_SOUND:  # "Emma Lou Pro": MMLU-Pro
                    codes.append((blurred(sound(said)), self.by_blur))
                elif len(blurred(sound(said))) >= 3 and getattr(entry, "kind", "") == "benchmark":
                    codes.append((blurred(sound(said)), self.by_short_blur))
            words = entry_words.get(id(entry), frozenset())
            for code, index in codes:
                name = _Name(entry, digits_of(key), code, words, sum(a.isalpha() for a in key))
                bucket = index.setdefault(code, [])
                if all(n.entry is not entry or n.digits != name.digits for n in bucket):
                    bucket.append(name)
        # names with their numbers, keyed by the numbers: a word one sound off said with a discussed
        # line's own version ("Gamma 3", "Sonic four")
        self.by_digits: dict[tuple, list[_Name]] = {}
        for names in self.by_sound.values():
            for name in names:
                if name.digits and len(name.sound) >= 2:
                    self.by_digits.setdefault(name.digits, []).append(name)
        # long sounds also one sound off ("Sweep bench"), keyed by the words of their names: one of
        # them must be heard right
        self.by_word: dict[str, list[_Name]] = {}
        for names in self.by_sound.values():
            for name in names:
                if len(name.sound) >= NEAR_SOUND or name.digits and len(name.sound) >= NEAR_SOUND - 1:
                    for w in name.words:  # (a name with its version may be shorter: "Germany 1. 5 Pro")
                        self.by_word.setdefault(w, []).append(name)

    def search(self, doc, covered: list[bool], discussed: Callable[[object, int], bool],
               sizes: dict[int, int], benchmark_talk: Callable[[int], bool] = lambda i: False,
               possible: Callable[[object], bool] = lambda entry: True) -> list[PhoneticHit]:
        """Hits in ``doc`` among tokens not ``covered``; ``discussed(entry, i)`` says whether the
        entry's family is under discussion at token ``i``; ``sizes`` are the doc's sizes (start ->
        end), part of the context; ``possible(entry)`` whether the name may be meant at all (not
        released after the episode)."""
        n = len(doc)
        taken = list(covered)
        hits: list[PhoneticHit] = []
        num, word, edge, apart, lower, norm, caps = [], [], [], [], [], [], []
        hyphened = []  # "Co-" in "Live Co-Bench": a word's part, joined to the next by its hyphen
        tb = table(doc)  # the tokens' attributes, read once (a Token object per access is slow)
        for text, nm, lw, ws, alpha in zip(tb.text, tb.norm, tb.lower, tb.ws, tb.alpha):
            isnum = nm[:1].isdigit()
            joins = len(lw) >= 3 and lw[-1] == "-" and lw[:-1].isalpha() and not ws
            if joins:
                lw = lw[:-1]
            hyphened.append(joins)
            isword = (alpha or joins) and not isnum
            num.append(isnum)
            word.append(isword)
            edge.append(isword and len(lw) >= 2 and lw not in self.stop)
            apart.append(ws)
            lower.append(lw)
            norm.append(nm)
            caps.append(isword and 2 <= len(lw) <= 5 and text.isupper())  # "QA" said as letters
        for i in range(n):
            if taken[i] or not edge[i] or (i > 0 and not apart[i - 1] and lower[i - 1] not in "([\"'"):
                continue  # a window starts at a word said apart ("t3gwjjmk" in a link is not one)
            best: Optional[PhoneticHit] = None
            letters, said, digits = "", "", ()
            anchors: list[str] = []  # words of the window that are words of long names
            for j in range(i + 1, min(n, i + MAX_WORDS) + 1):
                k = j - 1
                if k > i and lower[k] in ("'s", "\u2019s") and not apart[k - 1] and apart[k]:
                    continue  # "Ada's polyglot benchmark": a name heard as a possessive
                if taken[k] or not (word[k] or num[k]) or (k > i and not apart[k - 1] and not hyphened[k - 1]):
                    break
                if num[k]:
                    digits += (norm[k],)
                else:
                    letters += lower[k]
                    said += spelled(lower[k]) if caps[k] else lower[k]
                if not (edge[k] or num[k]):
                    continue  # "aid her polyglot": a window may not end on "her"
                keys = (sound(letters),) if said == letters else (sound(letters), sound(said))
                blurs = self.by_blur.get(blurred(keys[0]), ()) if self.by_blur else ()
                if digits and (not doc[i].text[:1].isupper() or (j < n and word[j] and lower[j] not in self.stop)):
                    blurs = ()  # a blurred sound with the name's number counts for a word written as a name,
                    # not when the number counts what follows ("Ken 3 people")
                found = None
                joined = any(hyphened[x] for x in range(i, k))  # "fine-grained" is one English word, not
                # "Vino Grande": a hyphened window needs a word of the name heard right ("Live Co-Bench")
                same = [x for key in keys for x in self.by_sound.get(key, ()) if x.digits == digits]
                same += [x for x in blurs if x.digits == digits]
                same = [x for x in same if possible(x.entry)]
                if len(same) > 1:  # "Fye 3": Phi-3 or Veo 3; the family talked about first
                    same.sort(key=lambda name: not discussed(name.entry, i))
                for name in same:
                    if not joined or any(lower[x] in name.words for x in range(i, j)):
                        how = self._context(doc, i, j, name, digits, discussed, covered, sizes, benchmark_talk)
                        if how is not None:
                            found = PhoneticHit(i, j, name.entry, how)
                            break
                if lower[k] in self.by_word:
                    anchors.append(lower[k])
                if found is None and anchors and j - i >= 2 and len(keys[0]) >= NEAR_SOUND - 1:
                    found = self._near(doc, i, j, keys, digits, anchors, covered, sizes, benchmark_talk, possible)
                if found is None and digits and num[k] and k == i + 1 and len(keys[0]) >= 2:
                    found = self._versioned(doc, i, j, keys[0], digits, discussed, possible)
                if found is None and not digits and j - i >= 2 and self.by_short_blur:
                    found = self._spelled_short(doc, i, j, blurred(keys[0]), benchmark_talk, possible)
                if found is not None:
                    best = found  # the longest window that fits wins
            if best is not None:
                hits.append(best)
                for t in range(best.start, best.end):
                    taken[t] = True
        return hits

    def _near(self, doc, i: int, j: int, keys, digits, anchors: list[str], covered, sizes,
              benchmark_talk: Callable[[int], bool], possible: Callable[[object], bool]) -> Optional[PhoneticHit]:
        """A name of a long sound one sound off the words at ``doc[i:j]`` (two words or more), its
        first sound kept and one of its words heard right (``anchors``: a misheard name keeps its
        onset, and a long one a word of it), where a model word, another name or a size is near:
        "Sweet Lancer" (SWE-Lancer), "Sweep bench verified"; not "fine print" or "folks added". Words
        that carry the name's version ("Germany 2. 0 flash") need no model talk near."""
        fits = [name for w in anchors for name in self.by_word[w]
                if name.digits == digits and possible(name.entry)
                and any(name.sound[0] == key[0] and one_off(name.sound, key) for key in keys)]
        fits = [name for name in fits if not self._ordinary(doc, i, j, name)]
        if not fits:
            return None
        if not digits and not self._cued(doc, i, j, covered, sizes):  # the name's own version ("Germany 2. 0
            # flash") is context enough; or, for a benchmark, one named in this chapter
            fits = [name for name in fits if getattr(name.entry, "kind", "") == "benchmark"]
            if not fits or not benchmark_talk(i):
                return None
        words = sum(doc[k].is_alpha for k in range(i, j))
        best = min(fits, key=lambda name: abs(name.count - words))  # "Lyft bench": a name of two words first
        return PhoneticHit(i, j, best.entry, "near")

    def _spelled_short(self, doc, i: int, j: int, key: str, benchmark_talk: Callable[[int], bool],
                       possible: Callable[[object], bool]) -> Optional[PhoneticHit]:
        """A short benchmark acronym said letter by letter and heard as words written as a name,
        "Emma Lou" (MMLU, EML): two words or more, each capitalized (not in capitals), not at a
        sentence start, where a benchmark was named in the chapter; not "Emily" (one word) nor "my aunt
        Emma Lou" where no benchmark was."""
        words = [doc[k] for k in range(i, j)]
        prev = doc[i - 1].lower_.rstrip(".") if i > 0 else ""
        nxt = doc[j] if j < len(doc) else None
        number = nxt is not None and (nxt.like_num or nxt.norm_[:1].isdigit())  # "eighty eight", merged: "88"
        scored = prev in SCORED_PREV or number or nxt is not None and nxt.lower_ in SCORE_WORDS
        if (_starts(doc, i) or not all(w.is_alpha and w.text[:1].isupper() and not w.text.isupper() for w in words)
                or not scored or prev in PERSON_TITLES or prev in OWNERS or not benchmark_talk(i)):
            return None  # "my aunt Emma Lou", "thanks to Emma Lou", "and Eve Hill agreed": a person
        fits = sorted((name for name in self.by_short_blur.get(key, ()) if possible(name.entry)),
                      key=lambda name: len(name.entry.name))  # MMLU before MMMLU: fewer letters said
        if not fits or len(fits) > 1 and len(fits[0].entry.name) == len(fits[1].entry.name):
            return None
        return PhoneticHit(i, j, fits[0].entry, "spelled")

    def _versioned(self, doc, i: int, j: int, key: str, digits, discussed,
                   possible: Callable[[object], bool]) -> Optional[PhoneticHit]:
        """One word one sound off a name, and that name's own number after it, while the name's
        line is under discussion: "Gamma 3" (Gemma 3), "Sonic four" (Sonnet 4). The word is written
        as a name: capitalized, not in capitals, not at a sentence start; and the number is no count
        of what follows ("Gamma 3 rays" may be a name, "Kappa 3 people" is not)."""
        first = doc[i]
        if not first.text[:1].isupper() or first.text.isupper() or _starts(doc, i):
            return None
        after = doc[j].lower_ if j < len(doc) and doc[j].is_alpha and doc[j].is_lower else ""
        if after and after not in self.said_after and (after in COUNT_NOUNS or not verb_form(after)):
            return None
        fits = [name for name in self.by_digits.get(digits, ())
                if name.sound != key and one_off(name.sound, key) and discussed(name.entry, i) and possible(name.entry)]
        if not fits:
            return None
        return PhoneticHit(i, j, fits[0].entry, "near")

    def _ordinary(self, doc, i: int, j: int, name: _Name) -> bool:
        """Whether ``doc[i:j]`` is ordinary speech more than ``name`` heard: English words in lower
        case ("the real benchmark", "text to video", "code for its size") are a name misheard only with
        a long word of it heard right ("aid her polyglot") or two ("suite bench verified"); a word of
        model talk ("benchmark", "agent") is no such word."""
        if not plain_english(doc[i:j], self.is_word) or j < len(doc) and doc[j].lower_ in BENCHMARK_WORDS:
            return False  # ("the sweet lancer benchmark": a name, whatever its words)
        heard = {doc[k].lower_ for k in range(i, j)} & name.words - CUES
        return len(heard) < 2 and not any(len(w) >= RARE_LENGTH for w in heard)

    def _cued(self, doc, i: int, j: int, covered, sizes, outside: bool = False) -> bool:
        """Whether a model word, another name or a size is within ``NEAR`` tokens of ``doc[i:j]``
        (``outside``: a model word of the window itself, "bench", does not count)."""
        lo, hi = max(0, i - NEAR), min(len(doc), j + NEAR)
        return (any(doc[t].lower_ in CUES for t in range(lo, hi) if not (outside and i <= t < j))
                or any(covered[t] for t in range(lo, hi) if not i <= t < j) or any(lo <= s < hi for s in sizes))

    def _context(self, doc, i: int, j: int, name: _Name, digits, discussed, covered, sizes,
                 benchmark_talk: Callable[[int], bool] = lambda i: False) -> Optional[str]:
        if digits:  # "Fy 4", "Gwen 3": a sound-alike word and the name's own number; but words of
            # ordinary speech in lower case ("tell you 3", "tops of two") only where models are talked about
            if (sum(doc[k].is_alpha for k in range(i, j)) >= 2 and plain_english(doc[i:j], self.is_word)
                    and not self._cued(doc, i, j, covered, sizes)):
                return None
            return "numbers"
        first = doc[i]
        if first.text.isupper():
            return None  # "LLM": an acronym written as one, not a name misheard
        starts = _starts(doc, i)
        subject = (j - i == 1 and not self.is_word(first.lower_) and j + 1 < len(doc)  # "Quinn is Apache"; not
                   and doc[j].lower_ in ("is", "was", "has", "had")  # "Cloud is expensive", "Quinn is joining us",
                   and not doc[j + 1].lower_.endswith("ing") and doc[j + 1].lower_ not in SUBJECT_PERSON)  # "... my"
        after = doc[j] if j < len(doc) else None
        modifier = (name.cased and after is not None and after.is_alpha and after.is_lower and not after.is_stop
                    and not verb_form(after.lower_))  # "the Lumière brothers": a name of something else
        if (first.text[:1].isupper() and (not starts or subject) and len(name.sound) >= 3 and not modifier
                and discussed(name.entry, i)):
            return "discussed"  # "Gwen has always been good at that", while Qwen3 is the topic; at a
            # sentence start, as the subject of a verb ("Quinn is Apache")
        if name.cased:
            return None
        if (j - i >= 2 and len(name.sound) >= 3 and any(doc[k].lower_ in name.words for k in range(i, j))
                and self._cued(doc, i, j, covered, sizes, outside=True)):
            return "context"  # "on Tao bench it's close": the sound of the whole name, a word of it heard
            # right, and model talk near
        if (len(name.sound) >= LONG_SOUND and (j - i >= 2 or not self.is_word(first.lower_.rstrip("-")))
                and (self._cued(doc, i, j, covered, sizes)
                     or getattr(name.entry, "kind", "") == "benchmark" and benchmark_talk(i))):
            return "context"  # model talk near, or (for a benchmark) another benchmark named in the chapter
        return None
