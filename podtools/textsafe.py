"""Untrusted text made safe for where it goes: Markdown, plain text and the terminal.

Transcripts, feed titles, ID3 tags and LLM answers are untrusted. What podtools writes is
pasted by hosts into web CMSs and newsletter tools that render Markdown *with* HTML, and is
printed on terminals that act on escape sequences, so every value from those sources passes
through one of the functions here on its way out (the HTML page is autoescaped by Jinja).

- :func:`markdown_text`: no raw HTML (``<`` becomes ``&lt;``, which every Markdown renderer
  shows as a literal ``<``), no link, image or reference syntax (``[`` and ``]`` are
  backslash-escaped, so ``[x](javascript:...)`` and ``![x](...)`` stay text), no control
  characters. Bold, italics and lists that an LLM writes are kept.
- :func:`plain_text`: HTML tags removed, no control characters (for ``*.txt`` outputs such as
  the YouTube description, which hosts paste into other sites).
- :func:`csv_cell`: no spreadsheet formula (a leading ``=``, ``+``, ``-``, ``@`` is quoted).
- :func:`terminal_text`: control characters (escape sequences such as OSC titles) and bidi
  overrides removed; newlines and tabs kept.
"""

from __future__ import annotations

import re

# C0 and C1 control characters (ESC, BEL, CR ...) and the Unicode bidi controls that reorder text
_CONTROL = [*range(0x00, 0x20), *range(0x7F, 0xA0)]
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_TERMINAL = dict.fromkeys(c for c in _CONTROL + _BIDI if c not in (0x09, 0x0A))
_TERMINAL_RE = re.compile("[%s]" % "".join(re.escape(chr(c)) for c in _CONTROL + _BIDI))
_ONE_LINE = {**dict.fromkeys(_CONTROL + _BIDI), 0x09: " ", 0x0A: " ", 0x0D: " "}
_MARKDOWN = {**_TERMINAL, ord("<"): "&lt;", ord("["): "\\[", ord("]"): "\\]", ord("\\"): "\\\\"}

# an HTML start/end tag, comment or declaration
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z!?][^<>]*>", re.S)


_URL_UNSAFE = re.compile(r"[\s<>\"'()\[\]\\`]")


def safe_url(url: object) -> str | None:
    """``url`` if it is an http(s) URL that can stand in a Markdown link or autolink as it is;
    ``None`` for any other scheme (``javascript:``, ``data:`` ...) or characters that would
    end the link early."""
    text = str(url or "")
    if not re.match(r"(?i)https?://[^/?#\s]", text) or _URL_UNSAFE.search(text) or _TERMINAL_RE.search(text):
        return None
    return text


def csv_cell(text: object) -> str:
    """A text cell for CSV opened in a spreadsheet: a leading ``=``, ``+``, ``-``, ``@``, tab or
    CR would start a formula (``=HYPERLINK(...)``, ``=cmd|...``), so such a cell gets a ``'``."""
    text = str(text).translate(_TERMINAL)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def terminal_text(text: object) -> str:
    """``text`` safe to print: no escape sequences or bidi overrides; lines and tabs kept."""
    return str(text).translate(_TERMINAL)


def one_line(text: object) -> str:
    """``text`` safe to print as (part of) one line: newlines and tabs become spaces."""
    return str(text).translate(_ONE_LINE)


def markdown_text(text: object) -> str:
    """``text`` to put into a Markdown document as text: see the module docstring."""
    return str(text).translate(_MARKDOWN)


def plain_text(text: object) -> str:
    """``text`` for a plain-text output: HTML tags removed, no control characters."""
    text, before = str(text), None
    while text != before:  # "<scr<b>ipt>" is a tag again once the inner one is gone
        before, text = text, _TAG.sub("", text)
    return text.translate(_TERMINAL)
