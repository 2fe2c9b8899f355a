"""Time formatting at the edges: the data model keeps float seconds."""

from __future__ import annotations

import datetime as dt
import math

MAX_SECONDS = 48 * 3600.0  # no episode is longer: a time past this is a broken file, not a long show


def check_seconds(value: float, what: str = "time") -> float:
    """``value`` as float if it is a finite number of seconds in [0, 48 h]; ValueError otherwise."""
    try:
        v = float(value)
    except (OverflowError, TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a number of seconds") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{what} {value!r} is not a finite number of seconds >= 0")
    if v > MAX_SECONDS:
        raise ValueError(f"{what} {hms_or_raw(v)} is past 48 hours, longer than any episode")
    return v


def hms_or_raw(v: float) -> str:
    return hms(v) if v < 1e7 else f"{v:.3g} s"


def hms(seconds: float, always_hours: bool = True) -> str:
    """12.7 -> '00:00:12' (or '0:12' with always_hours=False, as YouTube chapters want)."""
    total = int(max(0.0, seconds))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    if always_hours or h:
        return f"{h:02d}:{m:02d}:{s:02d}" if always_hours else f"{h}:{m:02d}:{s:02d}"
    return f"{m}:{s:02d}"


def parse_hms(text: str) -> float:
    """'1:02:03', '02:03', '02:03.5' or '123.5' -> seconds. Raises ValueError."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or any(p == "" for p in parts):
        raise ValueError(f"not a timestamp: {text!r}")
    total = 0.0
    for i, p in enumerate(parts):
        v = float(p)
        if v < 0 or (i > 0 and v >= 60):
            raise ValueError(f"not a timestamp: {text!r}")
        total = total * 60 + v
    return total


def parse_tag_date(text: str, year_alone: bool = True) -> dt.datetime | None:
    """A date as audio tags write it (ID3 TDRC, MP4 \u00a9day: "2024-09-20", "2024-09-20T10:00:00",
    "2024-09", "2024"), in UTC; None for anything else. ``year_alone=False``: a year alone (ID3v2.3
    TYER) or a date not written so ("20240920", "2024-13") is None too, where a day must not be made
    up (the episode's date, which bounds what models it can talk about)."""
    text = (text or "").strip()
    formats = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m") + (("%Y",) if year_alone else ())
    for fmt in formats:
        try:
            return dt.datetime.strptime(text[: len(dt.datetime(2000, 1, 1).strftime(fmt))], fmt).replace(
                tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None
