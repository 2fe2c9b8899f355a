"""Reading text inputs (transcripts, chapter lists) the way editors actually save them.

A byte-order mark is dropped, CRLF and CR line ends become LF, and a file that is not UTF-8 is
read as Windows-1252 (the usual culprit) with a warning, or refused when it is not that either.
Timestamps in these files are parsed strictly: ``1:2:3`` or ``99:99`` is an error naming the
line, never a silently wrong time.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Callable, Optional

from ..errors import InputError
from ..timefmt import check_seconds

log = logging.getLogger("podtools.formats")

Warn = Callable[[str], None]

# Something that looks like a timestamp: 1 to 3 colon-separated number groups, optional fraction.
STAMP_LIKE = r"\d+(?::\d+){1,2}(?:[.,]\d+)?"
_VALID = re.compile(r"^(?:(\d+):(\d\d)|(\d+)):(\d\d)(?:[.,](\d{1,3}))?$")


def default_warn(message: str) -> None:
    log.warning(message)


def decode_text(data: bytes, path: str | Path | None = None, warn: Optional[Warn] = None) -> str:
    """Bytes -> str with LF line ends; BOM dropped; Windows-1252 fallback with a warning."""
    warn = warn or default_warn
    if b"\x00" in data[:8192]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError:
                raise InputError("not a text file (invalid UTF-16)", path) from None
            return _lines(text)
        raise InputError("not a text file (binary data)", path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(
                f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "save it as UTF-8", path) from None
        where = f"{path}: " if path else ""
        warn(f"{where}not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); read as Windows-1252")
    return _lines(text)


def _lines(text: str) -> str:
    text = text.lstrip("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | Path, warn: Optional[Warn] = None) -> str:
    """Read a text input file; every way it can be unusable is an :class:`InputError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path) from None
    if not data.strip():
        raise InputError("file is empty", path)
    return decode_text(data, path, warn)


def parse_stamp(text: str) -> float:
    """Strict ``HH:MM:SS``, ``H:MM:SS``, ``MM:SS`` or ``M:SS`` (optional ``.mmm``) -> seconds.

    Minutes and seconds after a colon have two digits and are below 60 (a bare ``MM:SS`` may
    count minutes past 59, as some editors write ``75:30``). Raises ValueError with the reason.
    """
    m = _VALID.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a timestamp (expected HH:MM:SS or MM:SS)")
    hours, minutes_h, minutes, seconds, frac = m.groups()
    if hours is not None:
        h, mi = int(hours), int(minutes_h)
        if mi >= 60:
            raise ValueError(f"'{text}' is not a timestamp (minutes must be below 60)")
    else:
        h, mi = 0, int(minutes)
    s = int(seconds)
    if s >= 60:
        raise ValueError(f"'{text}' is not a timestamp (seconds must be below 60)")
    value = h * 3600 + mi * 60 + s
    if frac:
        value += int(frac) / 10 ** len(frac)
    return check_seconds(value, f"'{text}'")


def stamp_at(text: str, line_no: int, path: str | Path | None) -> float:
    """``parse_stamp`` with the error turned into an InputError naming the line."""
    try:
        return parse_stamp(text)
    except ValueError as exc:
        raise InputError(f"line {line_no}: {exc}", path) from None
