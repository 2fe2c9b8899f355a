"""Text normalization shared by the catalog and the spaCy pipeline (no spaCy imports here).

A name is compared as a sequence of *atoms*: lower-case pieces split at spaces, hyphens and
letter/digit boundaries, with number words turned into digits. "GPT-4o", "gpt 4o", "GPT4o" and
"GPT four o" are all ``("gpt", "4", "o")``; "Llama 3. 1" (an ASR artifact) is ``("llama", "3.1")``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
    "eighty": "80", "ninety": "90",
    "version": "v",  # "DeepSeek Coder version 2" is how "DeepSeek-Coder-V2" is said
}
TENS = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}  # "thirty-two": 32
SEPARATORS = "-\u2010\u2011\u2012\u2013_/\u00b7"
_SEP_RE = re.compile(f"[{re.escape(SEPARATORS)}\\s]+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_]\.)(?=\d)")
_EDGE_PUNCT = re.compile(r"^[^\w+]+|[^\w+]+$")
_SPACED_DECIMAL = re.compile(r"\b(\d{1,2})\. (\d)\b")


def clean(text: str) -> str:
    """NFKC (ligatures, full-width forms) without invisible format characters (ZWSP, BOM ...)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


_DOTTED = re.compile(r"^(?:[^\W\d_]\.){2,}[^\W\d_]?$")


def clean_same_length(text: str) -> str:
    """Like :func:`clean` but keeps every character's offset: full-width forms and odd spaces become
    their ASCII equivalents one for one, anything that would change the length stays as it is."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
            continue
        n = unicodedata.normalize("NFKC", ch)
        out.append(" " if unicodedata.category(ch) == "Zs" else n if len(n) == 1 else ch)
    return "".join(out)


@lru_cache(maxsize=65536)
def norm_token(text: str) -> str:
    """The NORM of one token: cleaned, lower case, trailing separators off, number words as digits."""
    t = clean(text).lower()
    if _DOTTED.match(t):
        return t.replace(".", "")  # "M.M.L.U." -> "mmlu", "Q.A." -> "qa"
    if len(t) > 1:
        t = t.rstrip(SEPARATORS + ".") or t
    return NUMBER_WORDS.get(t, t)


def atoms(text: str) -> tuple[str, ...]:
    """Split a name into the atoms it is compared by (see the module docstring)."""
    text = _SPACED_DECIMAL.sub(r"\1.\2", clean(text))
    out: list[str] = []
    for word in _SEP_RE.split(text):
        for piece in _LETTER_DIGIT.split(word):
            piece = _EDGE_PUNCT.sub("", piece.rstrip(".")) if not re.fullmatch(r"\d+\.\d+", piece) else piece
            if not piece:
                continue
            p = norm_token(piece)
            if p == "point" and out and out[-1].isdigit():
                out[-1] += "."
                continue
            if out and out[-1].endswith(".") and p.isdigit():
                out[-1] += p
                continue
            if p == "oh" and out and out[-1][-1:].isdigit():
                p = "o"
            out.append(p)
    if out and out[-1].endswith("."):
        out[-1] = out[-1][:-1]
    return tuple(out)


def squash(parts) -> str:
    """Atoms joined without separators: the string fuzzy matching compares."""
    return "".join(parts)


def digits_of(parts) -> tuple[str, ...]:
    return tuple(p for p in parts if p[:1].isdigit())
