"""``podtools feed``: a show's RSS feed written back with Podcasting 2.0 tags on every processed item.

:func:`add_tags` reads the original feed (the one the batch catalogue was made from, or another
copy of it), finds each ``<item>``'s episode in the catalogue by its GUID and enclosure URL, and
inserts the tags of :func:`podtools.publish.feed_tags` just before its ``</item>``. Everything
else in the feed is kept byte for byte: the new elements are inserted as text, never by
re-serializing the document, and the ``podcast`` namespace is declared on ``<rss>`` when the
feed does not declare it yet.

Per item, the tags podtools makes replace the item's own ``<podcast:transcript>`` and
``<podcast:chapters>`` elements (they point at the files podtools wrote); ``<podcast:person>``
and ``<podcast:soundbite>`` elements the host wrote are kept, and podtools adds none of that
kind then. URLs are ``--publish-base-url`` + the episode's folder name + the file name: upload
the catalogue's ``episodes/`` folder there.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .batch.feeds import MAX_FEED_BYTES, check_xml, pick_enclosure, read_feed_file
from .batch.items import EPISODES_DIR
from .catalog import CATALOG_NAME, Catalog
from .download import is_url, read_url
from .errors import ConfigError, InputError
from .models import Episode
from .publish import PODCAST_NS, check_base_url, element_text, feed_tags

log = logging.getLogger("podtools.feedwrite")

# the namespace URI feeds used before https://podcastindex.org/namespace/1.0; both are read by apps
OLD_NS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
_ITEM = re.compile(rb"<item(?=[\s>/])[^>]*>(.*?)</item\s*>", re.S)
_RSS_OPEN = re.compile(rb"<rss(?=[\s>])[^>]*>", re.S)
_NS_DECL = re.compile(rb"""xmlns:podcast\s*=\s*(["'])(.*?)\1""", re.S)
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_OPAQUE = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.S)  # text that may hold "</item>" or a tag


def _masked(data: bytes) -> bytes:
    """``data`` with CDATA sections and comments blanked out (same length): element tags are
    searched for in this, and every offset found is one in ``data`` too."""
    return _OPAQUE.sub(lambda m: b" " * len(m.group(0)), data)


def _own_tags(kind: str, prefix: bytes) -> re.Pattern:
    p = re.escape(prefix)
    return re.compile(rb"[ \t]*<" + p + b":" + kind.encode() + rb"(?=[\s>/])[^>]*?(?:/>|>.*?</" + p + b":"
                      + kind.encode() + rb"\s*>)[ \t]*\r?\n?", re.S)


@dataclass
class FeedResult:
    data: bytes
    tagged: list[str] = field(default_factory=list)  # titles of items that got tags
    untouched: list[str] = field(default_factory=list)  # items not processed (or not in the catalogue)


def _items(data: bytes, origin: str):
    """feedparser's entries beside the byte spans of the ``<item>`` elements, in document order."""
    import feedparser


    check_xml(data, origin)
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if parsed.get("version", "").startswith("atom") or (not parsed.get("version") and not parsed.entries):
        raise InputError("not an RSS 2.0 feed (Podcasting 2.0 tags go in an RSS <channel>'s <item>s)", origin)
    spans = list(_ITEM.finditer(_masked(data)))
    if len(spans) != len(parsed.entries):
        raise InputError(f"cannot line up the feed's {len(spans)} <item> elements with the {len(parsed.entries)} "
                         "entries it parses to", origin)
    return parsed.entries, spans


def _find_row(rows, entry, feed_url: Optional[str]):
    enc = pick_enclosure(entry)
    href = enc["href"].strip() if enc else None
    if href and feed_url:
        href = urllib.parse.urljoin(feed_url, href)
    guid = (entry.get("id") or "").strip() or href
    both = [r for r in rows if r.guid == guid and r.location == href]
    if both:
        return both[0]
    by_guid = [r for r in rows if guid and r.guid == guid]
    if len(by_guid) == 1:
        return by_guid[0]
    by_href = [r for r in rows if href and r.location == href]
    return by_href[0] if by_href else None


def add_tags(data: bytes, catalogue: str | Path, base_url: Optional[str] = None, origin: str = "feed",
             feed_url: Optional[str] = None) -> FeedResult:
    """``data`` (an RSS feed) with Podcasting 2.0 tags added to every item the catalogue has done."""
    if not base_url:
        raise ConfigError("a feed needs absolute URLs: give --publish-base-url, where the catalogue's episodes/ "
                          "folder is online")
    base_url = check_base_url(base_url)
    root = Path(catalogue)
    if not (root / CATALOG_NAME).is_file():
        raise InputError(f"not a batch catalogue (no {CATALOG_NAME}): give the folder `podtools batch -o` wrote", root)
    m = _ENCODING.match(data)
    encoding = m.group(1).decode("ascii") if m else "utf-8"
    try:
        "".encode(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r} in the XML declaration", origin) from None
    entries, spans = _items(data, origin)
    with Catalog.open(root / CATALOG_NAME, create=False) as catalog:
        rows = catalog.episodes()
        by_id = {r.id: r for r in rows}
    prefix = b"podcast"
    rss = _RSS_OPEN.search(_masked(data))
    if rss is None:
        raise InputError("no <rss> element", origin)
    declared = {m.group(2).decode("utf-8", "replace"): m for m in _NS_DECL.finditer(rss.group(0))}
    if declared and not ({PODCAST_NS, OLD_NS} & set(declared)):
        raise InputError(f"the feed binds the prefix podcast: to {next(iter(declared))!r}, not the Podcasting "
                         "2.0 namespace", origin)
    result = FeedResult(b"")
    pieces: list[bytes] = []
    last = 0
    for entry, span in zip(entries, spans):
        title = (entry.get("title") or entry.get("id") or "untitled").strip()
        row = _find_row(rows, entry, feed_url)
        if row is not None and row.status == "duplicate" and row.duplicate_of in by_id:
            row = by_id[row.duplicate_of]
        folder = root / EPISODES_DIR / row.folder if row is not None else None
        if row is None or row.status != "done" or not (folder / "episode.json").is_file():
            result.untouched.append(title)
            continue
        episode = Episode.load(folder / "episode.json")
        tags = feed_tags(episode, base_url + urllib.parse.quote(row.folder) + "/")
        inner = data[span.start(1):span.end(1)]  # the original bytes; searched through their masked copy
        for kind in ("transcript", "chapters"):
            inner = _cut(inner, _own_tags(kind, prefix))
        keep = {kind for kind in ("person", "soundbite") if _own_tags(kind, prefix).search(_masked(inner))}
        tags = [t for t in tags if t.tag.split("}")[1] not in keep]
        indent = re.search(rb"\n([ \t]*)<", _masked(inner))  # as the item's first child is indented
        pad = indent.group(1) if indent else b"  "
        tail = re.search(rb"\s*$", inner)
        body, trailing = inner[: tail.start()], inner[tail.start():]
        text = b"".join(b"\n" + pad + element_text(t).encode(encoding, "xmlcharrefreplace") for t in tags)
        start = span.start(1)
        pieces += [data[last:start], body, text, trailing or b"\n"]
        last = span.end(1)
        result.tagged.append(title)
    pieces.append(data[last:])
    out = b"".join(pieces)
    if not result.tagged:
        raise InputError(f"none of the feed's {len(entries)} items is a finished episode of the catalogue {root}: "
                         "is it the feed the catalogue was made from?", origin)
    if not declared:
        rss = _RSS_OPEN.search(_masked(out))
        tag = rss.group(0)
        end = len(tag) - (2 if tag.endswith(b"/>") else 1)
        out = out[: rss.start()] + tag[:end] + f' xmlns:podcast="{PODCAST_NS}"'.encode() + tag[end:] + out[rss.end():]
    result.data = out
    return result


def _cut(data: bytes, pattern: re.Pattern) -> bytes:
    """``data`` without the matches of ``pattern`` found outside CDATA sections and comments."""
    out, last = [], 0
    for m in pattern.finditer(_masked(data)):
        out.append(data[last:m.start()])
        last = m.end()
    return b"".join(out) + data[last:]


def read_feed(source: str | Path, catalogue: str | Path | None = None, allow_private: bool = False
              ) -> tuple[bytes, str, Optional[str]]:
    """(bytes, origin, feed URL) of a feed file or http(s) URL; without one, the single feed the
    catalogue was made from."""
    if source is None:
        with Catalog.open(Path(catalogue) / CATALOG_NAME, create=False) as catalog:
            sources = sorted({r.source for r in catalog.episodes()})
        feeds = [s for s in sources if is_url(s) or Path(s).suffix.lower() in (".xml", ".rss")]
        if len(feeds) != 1:
            raise InputError(f"the catalogue was made from {len(feeds)} feeds; say which with --rss FILE|URL",
                             catalogue)
        source = feeds[0]
    source = str(source)
    if is_url(source):
        data, final = read_url(source, MAX_FEED_BYTES, allow_private=allow_private)
        return data, source, final
    path = Path(source)
    return read_feed_file(path), str(path), None
