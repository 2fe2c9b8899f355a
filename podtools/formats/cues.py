"""SRT and WebVTT import, tolerant of the mistakes real caption files contain.

Cues are found by their timing lines (``00:00:01,000 --> 00:00:02,500``), not by blank lines
or cue numbers, so a broken or missing cue number, a missing blank line or a WebVTT file without
its ``WEBVTT`` header is read correctly, with one warning. (The ``srt`` and ``webvtt-py``
parsers refuse such files, which is why this reader does not use them.)

Speakers come from WebVTT voice spans (``<v Alex>``) or a leading ``Name:`` label; a cue
without a label continues the previous speaker.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Optional

from ..errors import InputError
from ..timefmt import check_seconds
from .pieces import Parsed, Piece, apply_plain_speakers, clean_inline
from .text import Warn, default_warn

_TS = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
TIMING = re.compile(rf"^\s*(?P<a>{_TS})\s*-->\s*(?P<b>{_TS})(?P<settings>.*)$")
_TS_PARTS = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})$")
VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
ASS_TAG = re.compile(r"\{\\[^}]*\}")


def cue_time(text: str, line_no: int, path) -> float:
    m = _TS_PARTS.match(text.strip())
    h, mi, s, frac = m.groups()  # the TIMING pattern only admits this shape
    if int(mi) >= 60 or int(s) >= 60:
        raise InputError(f"line {line_no}: '{text}' is not a valid cue time (minutes and seconds must be below 60)",
                         path)
    try:
        return check_seconds(int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(frac) / 10 ** len(frac), f"'{text}'")
    except ValueError as exc:
        raise InputError(f"line {line_no}: {exc}", path) from None


def looks_like_cues(text: str) -> Optional[str]:
    """'vtt' or 'srt' if the text has caption timing lines, else None."""
    head = text.lstrip()[:64]
    if head.startswith("WEBVTT"):
        return "vtt"
    for line in text.split("\n")[:200]:
        m = TIMING.match(line)
        if m:
            return "srt" if "," in m.group("a") else "vtt"
    return None


def parse_cues(text: str, path: str | Path, fmt: str, warn: Optional[Warn] = None) -> Parsed:
    """SRT (``fmt='srt'``) or WebVTT (``'vtt'``) text -> Parsed cues."""
    warn = warn or default_warn
    lines = text.split("\n")
    parsed = Parsed(format=fmt, cues=True)
    start_at = 0
    if fmt == "vtt":
        first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
        if first is None or not lines[first].startswith("WEBVTT"):
            warn(f"{path}: no WEBVTT header on the first line; read as WebVTT anyway")
        else:
            # header block: "WEBVTT" then metadata lines up to the first blank line
            j = first + 1
            while j < len(lines) and lines[j].strip():
                key, _, value = lines[j].partition(":")
                if key.strip().lower() == "language" and value.strip():
                    parsed.language = value.strip()
                j += 1
            start_at = j
    timings = [i for i in range(start_at, len(lines)) if TIMING.match(lines[i])]
    # a line with "-->" that is not a valid timing (a negative time, no milliseconds ...) still
    # ends the cue before it; the cue it starts is skipped, and said so
    broken = {i for i in range(start_at, len(lines)) if "-->" in lines[i] and not TIMING.match(lines[i])}
    if not timings:
        raise InputError(f"no caption cues found (expected timing lines like "
                         f"'00:00:01{',' if fmt == 'srt' else '.'}000 --> 00:00:04{',' if fmt == 'srt' else '.'}000')",
                         path)
    bad_numbers = missing_blank = 0
    if fmt == "srt":
        before = next((lines[j].strip() for j in range(timings[0] - 1, start_at - 1, -1) if lines[j].strip()), "")
        bad_numbers += not before.isdigit()
    timings = sorted(set(timings) | broken)
    for k, i in enumerate(timings):
        stop = timings[k + 1] if k + 1 < len(timings) else len(lines)
        body = [ln.rstrip() for ln in lines[i + 1:stop]]
        while body and not body[-1].strip():
            body.pop()
        if k + 1 < len(timings):
            # the last line before the next timing line is the next cue's number or identifier
            last = body[-1].strip() if body else ""
            blank_before = len(body) < 2 or not body[-2].strip()
            if last.isdigit() or (fmt == "vtt" and last and blank_before and len(body) > 1):
                body.pop()
                missing_blank += not blank_before
            elif fmt == "srt":
                bad_numbers += 1  # not a number: it stays text of this cue
        if "" in body:  # text after a blank line: SRT keeps it, WebVTT has NOTE/STYLE blocks there
            cut = body.index("")
            body = body[:cut] if fmt == "vtt" else [ln for ln in body if ln.strip()]
        if i in broken:
            warn(f"{path}: line {i + 1}: {lines[i].strip()[:60]!r} is not a valid cue timing "
                 f"(HH:MM:SS{',' if fmt == 'srt' else '.'}mmm --> HH:MM:SS{',' if fmt == 'srt' else '.'}mmm, "
                 f"not negative); cue skipped")
            continue
        m = TIMING.match(lines[i])
        a, b = cue_time(m.group("a"), i + 1, path), cue_time(m.group("b"), i + 1, path)
        if b < a:
            warn(f"{path}: line {i + 1}: cue ends before it starts; end set to its start")
            b = a
        speaker, content = _cue_text("\n".join(body))
        parsed.pieces.append(Piece(start=a, end=b, text=content, speaker=speaker, line=i + 1))
    if bad_numbers:
        warn(f"{path}: {bad_numbers} cue(s) without a valid cue number; read by their timing lines")
    if missing_blank:
        warn(f"{path}: {missing_blank} cue(s) not separated by a blank line; read by their timing lines")
    apply_plain_speakers(parsed.pieces, carry=True)
    return parsed


def _cue_text(raw: str) -> tuple[Optional[str], str]:
    """Voice span -> speaker; tags, ASS overrides and entities removed; lines joined."""
    voice = VOICE.search(raw)
    speaker = html.unescape(voice.group(1)).strip() if voice else None
    text = ASS_TAG.sub("", raw)
    text = clean_inline(text.replace("\n", " "))
    return speaker, text
