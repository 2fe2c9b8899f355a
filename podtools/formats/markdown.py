"""Markdown and plain-text transcripts with timestamps, as shows publish them.

Recognised, line by line (``>`` quotes and ``-``/``*`` list markers are ignored):

- ``[HH:MM:SS] **Speaker Name:** text``, ``[MM:SS] Speaker: text``, ``00:01:02 text``,
  ``(01:02) text``; a line may hold further inline ``[HH:MM:SS]`` stamps, each starting a
  new piece of the same speaker;
- ``**Speaker** [00:01:02]: text`` and ``Speaker  0:03`` on a line of its own (Otter style),
  the text following on the next lines;
- ``## [HH:MM:SS] Chapter title`` (or the stamp after the title) as chapter headings; headings
  without a stamp are chapters only when no heading has one and there are at least two;
- ``**Speaker:** text`` without a stamp: a new piece whose time is interpolated;
- HTML entities (``&amp;``), inline Markdown and HTML tags, YAML front matter (``title``,
  ``date``), and a leading ``# Title``.

Any other line continues the piece above it. A stamp-like token that is not a valid time
(``1:2:3``, ``99:99``) is an error naming its line.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Optional

from ..errors import InputError
from .pieces import Heading, Parsed, Piece, apply_plain_speakers, clean_inline
from .text import STAMP_LIKE, Warn, default_warn, stamp_at

_S = STAMP_LIKE
LEAD_STAMP = re.compile(rf"^(?:\[(?P<b>{_S})\]|\((?P<p>{_S})\)|(?P<n>{_S})(?=\s|$|[-–—:|]))\s*[-–—:|]?\s*")
INLINE_STAMP = re.compile(rf"\[(?P<s>{_S})\]")
# a name may hold "_" (SPEAKER_01, as podtools writes an unnamed speaker), not "*" or a line break
BOLD_SPEAKER = re.compile(r"^(?:\*\*|__)(?P<name>[^*\n]{1,60}?)\s*:\s*(?:\*\*|__)\s*:?\s*|"
                          r"^(?:\*\*|__)(?P<name2>[^*\n]{1,60}?)(?:\*\*|__)\s*:\s*")
_NAME = r"[A-Z][\w.'’&-]*(?: [A-Z0-9][\w.'’&-]*){0,3}"
SPEAKER_STAMP = re.compile(  # **Name** [00:01:02]: / **Name (00:01:02):** / Name (00:01:02): text
    rf"^(?:(?:\*\*|__)(?P<name>[^*_\[\]()\n:]{{1,60}}?)\s*(?:(?:\*\*|__)\s*[\[(](?P<s>{_S})[\])]"
    rf"|[\[(](?P<s2>{_S})[\])]\s*:?\s*(?:\*\*|__))\s*:?\s*"
    rf"|(?P<name3>{_NAME})\s*[\[(](?P<s3>{_S})[\])]\s*:\s*)")
OTTER_LINE = re.compile(rf"^(?P<name>[A-Z][\w.'’ -]{{0,40}}?)\s{{2,}}(?P<s>{_S})\s*$")
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
HEADING_STAMP = re.compile(rf"^(?:\[(?P<b>{_S})\]|\((?P<p>{_S})\)|(?P<n>{_S}))\s*[-–—:|]?\s*(?P<title>.*)$")
HEADING_STAMP_END = re.compile(rf"^(?P<title>.*?)\s*[-–—:|]?\s*(?:\[(?P<b>{_S})\]|\((?P<p>{_S})\)|(?P<n>{_S}))$")
MARKERS = re.compile(r"^(?:>\s?)*(?:[-*+]\s+)?")


def _front_matter(text: str, path, warn: Warn) -> tuple[dict[str, Any], list[str], int]:
    """YAML front matter (between '---' lines at the top) -> (data, remaining lines, line offset)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, lines, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return {}, lines, 0
    import yaml

    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        warn(f"{path}: front matter is not valid YAML{where}; ignored")
        data = {}
    if not isinstance(data, dict):
        data = {}
    return data, lines[end + 1:], end + 1


def _date(value: Any) -> Optional[dt.datetime]:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _stamp(m: re.Match, line_no: int, path) -> float:
    return stamp_at(m.group("b") or m.group("p") or m.group("n"), line_no, path)


def _split_speaker(rest: str) -> tuple[Optional[str], str, bool]:
    """Leading '**Name:**' -> (name, text, explicit=True); else (None, rest, False)."""
    m = BOLD_SPEAKER.match(rest)
    if m:
        name = clean_inline(m.group("name") or m.group("name2"))
        if name:
            return name, rest[m.end():], True
    return None, rest, False


def parse_stamped(text: str, path: str | Path, fmt: str = "markdown", warn: Optional[Warn] = None) -> Parsed:
    """Markdown (``fmt='markdown'``) or plain text (``'text'``) transcript -> Parsed."""
    warn = warn or default_warn
    meta, lines, offset = _front_matter(text, path, warn)
    parsed = Parsed(format=fmt)
    if isinstance(meta.get("title"), str):
        parsed.title = clean_inline(meta["title"])
    parsed.published = _date(meta.get("date") or meta.get("published"))
    if isinstance(meta.get("language"), str):
        parsed.language = meta["language"]
    headings: list[Heading] = []
    plain_headings: list[Heading] = []
    current: Optional[Piece] = None
    any_stamp = False
    for idx, raw in enumerate(lines):
        line_no = idx + 1 + offset
        line = raw.strip()
        if not line or line in ("---", "***", "___"):
            continue
        h = HEADING.match(line)
        if h:
            title, start = _heading(h.group("text"), line_no, path)
            level = len(h.group("level"))
            if level == 1 and start is None:
                if parsed.title is None and not parsed.pieces:
                    parsed.title = title
                continue
            if start is not None:
                any_stamp = True
                headings.append(Heading(start, title, line_no))
            elif level == 2 and title:
                plain_headings.append(Heading(None, title, line_no))
            current = None
            continue
        line = MARKERS.sub("", line)
        speaker, start, rest, explicit = None, None, line, False
        m = LEAD_STAMP.match(line)
        if m:
            start, rest = _stamp(m, line_no, path), line[m.end():]
            speaker, rest, explicit = _split_speaker(rest)
        else:
            m = SPEAKER_STAMP.match(line)
            o = None if m else OTTER_LINE.match(line)
            if m or o:
                if m:
                    name = m.group("name") or m.group("name3")
                    stamp = m.group("s") or m.group("s2") or m.group("s3")
                else:
                    m, name, stamp = o, o.group("name"), o.group("s")
                start = stamp_at(stamp, line_no, path)
                speaker, rest, explicit = clean_inline(name), line[m.end():], True
            else:
                speaker, rest, explicit = _split_speaker(line)
                if not explicit:
                    bad = re.match(rf"^\[?\(?({_S})\b", line)
                    if bad:  # stamp-like but not taken above: report it rather than keep it as text
                        stamp_at(bad.group(1), line_no, path)
                    if current is not None:
                        current = _continue(parsed, current, rest, line_no, path)
                    continue
        any_stamp = any_stamp or start is not None
        current = _add_line(parsed, start, speaker, rest, line_no, path)
    if not any_stamp:
        what = "Markdown transcript" if fmt == "markdown" else "text transcript"
        raise InputError(f"no timestamps found in this {what}: expected lines like "
                         "'[00:01:23] **Name:** text' or '00:01:23 text'", path)
    parsed.headings = headings or (plain_headings if len(plain_headings) >= 2 else [])
    apply_plain_speakers([p for p in parsed.pieces if p.speaker is None], carry=False)
    return parsed


def _heading(text: str, line_no: int, path) -> tuple[str, Optional[float]]:
    m = HEADING_STAMP.match(text) or HEADING_STAMP_END.match(text)
    if m and (m.group("b") or m.group("p") or m.group("n")):
        return clean_inline(m.group("title")), _stamp(m, line_no, path)
    bad = re.search(rf"^\[?\(?({_S})\b|\b({_S})\]?\)?$", text)
    if bad:
        stamp_at(bad.group(1) or bad.group(2), line_no, path)
    return clean_inline(text), None


def _add_line(parsed: Parsed, start: Optional[float], speaker: Optional[str], rest: str, line_no: int,
              path) -> Piece:
    """A transcript line, split at inline [HH:MM:SS] stamps into pieces of one speaker."""
    piece = Piece(start=start, end=None, text="", speaker=speaker, line=line_no)
    parsed.pieces.append(piece)
    return _continue(parsed, piece, rest, line_no, path)


def _continue(parsed: Parsed, piece: Piece, rest: str, line_no: int, path) -> Piece:
    """Text that continues ``piece``; each inline stamp starts a new piece of the same speaker."""
    parts = INLINE_STAMP.split(rest)  # text, stamp, text, stamp, ...
    text = clean_inline(parts[0])
    piece.text = f"{piece.text} {text}".strip()
    for k in range(1, len(parts), 2):
        piece = Piece(start=stamp_at(parts[k], line_no, path), end=None, text=clean_inline(parts[k + 1]),
                      speaker=piece.speaker, line=line_no)
        parsed.pieces.append(piece)
    return piece
