"""RSS/Atom feeds as batch sources: XML checked before feedparser sees it (no entities), each
entry's enclosure, date, duration and the chapter list in its description -> :class:`Item`.
Also read by :mod:`podtools.feedwrite`, which adds tags to a show's own feed.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import urllib.parse
from pathlib import Path
from typing import Any

import defusedxml
import feedparser

from ..chapters import parse_chapter_list
from ..errors import InputError, PodtoolsError
from .items import AUDIO_EXTENSIONS, Collected, Item, item_uid

MAX_FEED_BYTES = 50 * 1024**2  # a feed file or response larger than this is refused, unread


# -- feeds ------------------------------------------------------------------------------------


def check_xml(data: bytes, origin: str) -> None:
    """Refuse XML that declares entities (billion laughs, external entities) or is not
    well-formed, before feedparser sees it. Raises :class:`InputError`."""
    from xml.etree.ElementTree import ParseError

    from defusedxml.ElementTree import fromstring

    try:
        fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.EntitiesForbidden:
        raise InputError("feed refused: it declares XML entities (an XML bomb or external-entity "
                         "attack); podtools does not expand them", origin) from None
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden):
        raise InputError("feed refused: it references external XML resources", origin) from None
    except ParseError as exc:
        raise InputError(f"not a valid RSS/Atom feed: malformed XML ({exc})", origin) from None
    except (ValueError, defusedxml.DefusedXmlException) as exc:
        raise InputError(f"feed refused: {exc}", origin) from None


def _parse_duration(value: Any) -> float | None:
    """itunes:duration: ``3723``, ``62:03``, ``1:02:03`` (seconds)."""
    if not value:
        return None
    try:
        parts = [float(p) for p in str(value).strip().split(":")]
    except ValueError:
        return None
    if not parts or len(parts) > 3 or any(p < 0 for p in parts):
        return None
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def _struct_to_dt(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime(*value[:6], tzinfo=dt.timezone.utc)
    except (TypeError, ValueError):
        return None


def pick_enclosure(entry) -> dict | None:
    enclosures = [e for e in entry.get("enclosures", []) if e.get("href")]
    if not enclosures:
        return None

    def score(e) -> int:
        kind = (e.get("type") or "").lower()
        ext = Path(urllib.parse.urlsplit(e["href"]).path).suffix.lower().lstrip(".")
        return 2 if kind.startswith(("audio/", "video/")) else 1 if ext in AUDIO_EXTENSIONS else 0

    return max(enclosures, key=score)


def parse_feed(data: bytes, origin: str, base_url: str | None = None) -> Collected:
    """RSS/Atom bytes -> one :class:`Item` per entry with an enclosure.

    Entries are returned in document order. Relative enclosure URLs are resolved against
    ``base_url`` (the feed's URL). Duplicate GUIDs: the same GUID with the same enclosure is
    one episode (later copies dropped); the same GUID with different enclosures are distinct
    episodes (told apart by their enclosure URL). Both are reported in ``warnings``.
    """
    check_xml(data, origin)
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise InputError("not an RSS or Atom feed (no channel or feed element found)", origin)
    channel = parsed.feed.get("link") or parsed.feed.get("title") or origin
    out = Collected()
    no_enclosure = 0
    raw: list[tuple[str, str, Any, dict]] = []
    for entry in parsed.entries:
        enc = pick_enclosure(entry)
        if enc is None:
            no_enclosure += 1
            continue
        href = enc["href"].strip()
        if base_url:
            href = urllib.parse.urljoin(base_url, href)
        guid = (entry.get("id") or "").strip() or href
        raw.append((guid, href, entry, enc))
    if not raw:
        n = len(parsed.entries)
        raise InputError(
            f"feed has no episodes with an audio enclosure ({n} entr{'y' if n == 1 else 'ies'}, none with <enclosure>)",
            origin,
        )
    if no_enclosure:
        out.warnings.append(f"{origin}: {no_enclosure} entries without an enclosure were skipped")
    by_guid: dict[str, set[str]] = {}
    for guid, href, _, _ in raw:
        by_guid.setdefault(guid, set()).add(href)
    seen: set[tuple[str, str]] = set()
    for guid, href, entry, _enc in raw:
        title = (entry.get("title") or "").strip() or Path(urllib.parse.urlsplit(href).path).stem or guid
        if (guid, href) in seen:
            out.warnings.append(f"{origin}: duplicate entry for GUID {guid!r} ({title!r}) skipped")
            continue
        seen.add((guid, href))
        if len(by_guid[guid]) > 1:
            uid = item_uid("feed", channel, guid, href)
            if href == min(by_guid[guid]):
                out.warnings.append(
                    f"{origin}: {len(by_guid[guid])} entries share GUID {guid!r} with different enclosures; "
                    "each is processed as its own episode")
        else:
            uid = item_uid("feed", channel, guid)
        out.items.append(Item(
            uid=uid,
            location=href,
            source=origin,
            title=title[:500],
            guid=guid,
            published=_struct_to_dt(entry.get("published_parsed") or entry.get("updated_parsed")),
            declared_duration=_parse_duration(entry.get("itunes_duration")),
            from_feed=True,
            chapters=description_chapters(_entry_description(entry)),
        ))
    return out


def _entry_description(entry) -> str:
    content = entry.get("content") or []
    values = [c.get("value", "") for c in content if isinstance(c, dict)]
    return max([entry.get("summary") or "", *values], key=len)


def description_chapters(html_text: str) -> str | None:
    """The chapter list of a show-notes description ("00:00 Intro" lines, as hosts publish
    them), as text for ``ingest(chapters=...)``; None when it has fewer than two."""
    if not html_text or not re.search(r"\d:\d\d", html_text):
        return None
    text = re.sub(r"(?i)<\s*(br|/p|/li|/div|/h\d)\b[^>]*>", "\n", html_text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    try:
        found = parse_chapter_list(text)
    except (PodtoolsError, ImportError, ValueError):
        return None  # a description is not a promise of a valid chapter list
    if len(found) < 2:
        return None
    return text.strip() + "\n"  # a newline: never read as a file name by load_chapters


def read_feed_file(path: Path) -> bytes:
    """The bytes of a local feed file, at most ``MAX_FEED_BYTES`` (more is refused, unread)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FEED_BYTES + 1)
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", path) from None
    if len(data) > MAX_FEED_BYTES:
        raise InputError(f"feed file is larger than {MAX_FEED_BYTES // 1024**2} MB", path)
    return data
