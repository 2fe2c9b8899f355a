"""Fuzzy and phonetic matching of garbled names that no catalog spelling covers.

Every catalog name is indexed by its atoms. A token outside the exact matches that looks like
one of those atoms (same Metaphone code, or a RapidFuzz ratio >= 80) anchors a few candidate
windows around it; each window is compared with the name as a squashed string. Digits must agree
exactly (Llama 3.2 is not Llama 3.1), and a window made only of dictionary words needs a high
score and more than one word, so clean English ("human evaluation", "gamma") is left alone. A
single token that is no dictionary word is also compared with several-word names glued together
("Arcaji" for ARC-AGI), with the same near-miss-must-sound-the-same rule. An upper-case acronym
that is one letter off a catalog acronym counts when the two letters sound alike as spoken letter
names: the same rhyme (the "E-set" B, D, P, T, V, Z ...) or the same first sound ("JPQA" for GPQA).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .text import digits_of, squash

MIN_ANCHOR = 80.0  # token vs catalog atom
MIN_SCORE = 86.0  # window vs name
MIN_SCORE_DICTIONARY = 92.0  # window made only of dictionary words
MIN_MODEL_SHAPED = 80.0  # a model-shaped name (word, version, size) vs a catalog name with the same numbers
MIN_ACRONYM = 4  # letters in an acronym that may be one confusable letter off ("JPQA" for GPQA)

# letter names as (first sound, rhyme): speech recognition trades letters that share either
_LETTER_NAME = {"a": ("", "ay"), "b": ("b", "ee"), "c": ("s", "ee"), "d": ("d", "ee"), "e": ("", "ee"),
                "f": ("", "ef"), "g": ("j", "ee"), "h": ("", "aych"), "i": ("", "eye"), "j": ("j", "ay"),
                "k": ("k", "ay"), "l": ("", "el"), "m": ("", "em"), "n": ("", "en"), "o": ("", "oh"),
                "p": ("p", "ee"), "q": ("k", "you"), "r": ("", "ar"), "s": ("", "es"), "t": ("t", "ee"),
                "u": ("", "you"), "v": ("v", "ee"), "w": ("d", "you"), "x": ("", "ex"), "y": ("w", "eye"),
                "z": ("z", "ee")}


def letters_sound_alike(a: str, b: str) -> bool:
    """Whether two letters, said as letter names, are easy to mistake for each other."""
    x, y = _LETTER_NAME.get(a.lower()), _LETTER_NAME.get(b.lower())
    return bool(x and y) and a.lower() != b.lower() and (bool(x[0]) and x[0] == y[0] or x[1] == y[1])


@dataclass(frozen=True)
class Candidate:
    key: tuple[str, ...]
    squashed: str
    phonetic: str
    entry: object
    how: str


@dataclass
class FuzzyHit:
    start: int  # token index
    end: int
    entry: object
    score: float  # 0..100


def _metaphone(text: str) -> str:
    import jellyfish

    return jellyfish.metaphone(text) if text else ""


class FuzzyIndex:
    def __init__(self, by_atoms: dict, stop_words: frozenset[str], dictionary: frozenset[str]):
        self.stop = stop_words
        self.dictionary = dictionary
        self.anchors: dict[str, list[tuple[Candidate, int]]] = {}
        self.glued: dict[str, list[Candidate]] = {}
        self.phonetic_anchors: dict[str, list[str]] = {}
        self.acronyms: dict[int, list[Candidate]] = {}  # upper-case acronyms by length
        for key, (entry, how, text) in by_atoms.items():
            if getattr(entry, "kind", "") == "family" and not getattr(entry, "standalone", True):
                continue
            if getattr(entry, "exact", False):
                continue  # the long tail: a near spelling is likelier another word than a rare name
            if how == "cased":
                continue  # ordinary words in lower case: never guessed at
            alpha = "".join(a for a in key if a.isalpha())
            if len(squash(key)) < 4 or not alpha:
                continue
            cand = Candidate(key, squash(key), _metaphone(" ".join(key)), entry, how)
            if len(key) == 1 and len(key[0]) >= MIN_ACRONYM and key[0].isalpha() and text.isalpha() and text.isupper():
                self.acronyms.setdefault(len(key[0]), []).append(cand)
            atom = key[0]  # a garbled name is found from its first word: "misteral large", "deep seed coder"
            if atom.isalpha() and len(atom) >= 3 and atom not in stop_words:
                self.anchors.setdefault(atom, []).append((cand, 0))
            if len(key) >= 2 and all(a.isascii() and a.isalpha() for a in key) and len(cand.squashed) >= 6:
                # speech recognition also glues a name's words into one ("Arcaji" for ARC-AGI)
                self.glued.setdefault(cand.squashed, []).append(cand)
        for atom in self.anchors:
            self.phonetic_anchors.setdefault(_metaphone(atom), []).append(atom)
        self._glued = list(self.glued)
        # every name with a number in it, for model-shaped names ("Nanotron 4 340B") that nothing matched
        seen: set[tuple[str, ...]] = set()
        self.numbered: list[Candidate] = []
        for cands in self.anchors.values():
            for cand, _ in cands:
                if cand.key not in seen and digits_of(cand.key) and getattr(cand.entry, "mention_kind", "") == "model":
                    seen.add(cand.key)
                    self.numbered.append(cand)
        self._numbered = [c.squashed for c in self.numbered]
        self._atoms = list(self.anchors)
        self.anchor_of = lru_cache(maxsize=100_000)(self._anchor_of)

    def _anchor_of(self, norm: str) -> tuple[str, ...]:
        """Catalog atoms that ``norm`` (a token's NORM) may be a garbling of."""
        from rapidfuzz import fuzz, process

        if len(norm) < 3 or not norm.isalpha() or norm in self.stop:
            return ()
        found = {a for a, _, _ in process.extract(norm, self._atoms, scorer=fuzz.ratio, score_cutoff=MIN_ANCHOR,
                                                   limit=8)}
        found.update(self.phonetic_anchors.get(_metaphone(norm), ()))
        return tuple(found)

    def is_word(self, norm: str) -> bool:
        return english_word(norm, self.dictionary, self.stop)

    def _glued_hit(self, norm: str, i: int) -> FuzzyHit | None:
        """A one-token garbling of a several-word name: close as a string and the same sound."""
        from rapidfuzz import fuzz, process

        if len(norm) < 6 or not norm.isalpha() or self.is_word(norm):
            return None
        best: FuzzyHit | None = None
        for key, score, _ in process.extract(norm, self._glued, scorer=fuzz.ratio, score_cutoff=MIN_SCORE - 10,
                                             limit=3):
            if key[0] != norm[0] or (score < MIN_SCORE and _metaphone(norm) != _metaphone(key)):
                continue  # the first sound is the one speech recognition gets right
            for cand in self.glued[key]:
                if best is None or score > best.score:
                    best = FuzzyHit(i, i + 1, cand.entry, score)
        return best

    def _acronym_hit(self, text: str, norm: str, i: int) -> FuzzyHit | None:
        """An upper-case acronym one letter off a catalog acronym, the two letters alike as spoken."""
        text = text.strip(".,;:!?\"'()")
        if len(text) < MIN_ACRONYM or not (text.isalpha() and text.isupper()) or self.is_word(norm):
            return None
        for cand in self.acronyms.get(len(norm), ()):
            diff = [(a, b) for a, b in zip(norm, cand.squashed) if a != b]
            if len(diff) == 1 and letters_sound_alike(*diff[0]):
                return FuzzyHit(i, i + 1, cand.entry, 100.0 * (1 - 1 / len(norm)))
        return None

    def model_shaped(self, norms: list[str]) -> tuple[object, float] | None:
        """The catalog model that a model-shaped name the catalog does not know (name, version and
        size: "Nanotron 4 340B") most likely garbles: the same numbers, and close as a string.
        The numbers are the strong evidence, so the bar is lower than for free text."""
        from rapidfuzz import fuzz, process

        if not self._numbered:
            return None
        digits = digits_of(norms)
        for key, score, k in process.extract(squash(norms), self._numbered, scorer=fuzz.ratio,
                                             score_cutoff=MIN_MODEL_SHAPED, limit=5):
            cand = self.numbered[k]
            if digits_of(cand.key) == digits and cand.key[0][:1] == norms[0][:1]:
                return cand.entry, score
        return None

    def search(self, norms: list[str], covered: list[bool], texts: list[str] | None = None) -> list[FuzzyHit]:
        """Fuzzy hits in a doc given its tokens' NORMs (and texts, for acronyms) and which tokens exact
        matches cover."""
        from rapidfuzz import fuzz

        n = len(norms)
        hits: list[FuzzyHit] = []
        taken = list(covered)
        for i, norm in enumerate(norms):
            if taken[i]:
                continue
            anchors = self.anchor_of(norm)
            best: FuzzyHit | None = None
            for atom in anchors:
                for cand, j in self.anchors[atom]:
                    k = len(cand.key)
                    for s in (i - j,):
                        for e in (s + k - 1, s + k, s + k + 1):
                            if e <= i or e > n or e - s > k + 2 or any(taken[s:e]):
                                continue
                            window = norms[s:e]
                            if window[0] in self.stop or window[-1] in self.stop:
                                continue
                            if digits_of(window) != digits_of(cand.key):
                                continue
                            score = fuzz.ratio(squash(window), cand.squashed)
                            if score < MIN_SCORE - 10:
                                continue
                            if score < MIN_SCORE and (len(squash(window)) < 6 or
                                                      _metaphone(" ".join(window)) != cand.phonetic):
                                continue  # a near miss counts only if it also sounds the same
                            words = [w for w in window if w.isalpha()]
                            plain_words = words and all(self.is_word(w) for w in words) and not digits_of(window)
                            if plain_words and (score < MIN_SCORE_DICTIONARY or len(words) < 2):
                                continue
                            if best is None or score > best.score or (score == best.score and e - s > best.end - best.start):
                                best = FuzzyHit(s, e, cand.entry, score)
            if best is None and self._glued:
                best = self._glued_hit(norm, i)
            if best is None and texts is not None and self.acronyms:
                best = self._acronym_hit(texts[i], norm, i)
            if best is not None:
                hits.append(best)
                for t in range(best.start, best.end):
                    taken[t] = True
        return hits


def english_word(norm: str, dictionary, stop=frozenset()) -> bool:
    """Whether a lower-case word is English: in ``dictionary`` or ``stop``, or one of them with an
    ending ("models", "tuned", "coding")."""
    if norm in dictionary or norm in stop:
        return True
    return any(norm.endswith(end) and norm[: -len(end)] in dictionary for end in ("s", "es", "ed", "ing", "er"))
