"""What a batch works on: one :class:`Item` per episode a source names, where its output
folder goes (``episodes/<date>-<title-slug>-<hash>``), and the :class:`Selection` of items a run
considers. Imports nothing of the batch; the sources and the runner build on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from typing import Literal, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..catalog import NewEpisode
from ..errors import ConfigError

AUDIO_EXTENSIONS = frozenset(
    "mp3 m4a m4b aac wav flac ogg oga opus wma aif aiff amr mp4 m4v mov mkv webm avi".split()
)
# Transcripts a folder contributes by itself; a glob or list may name any file `ingest` reads.
TRANSCRIPT_EXTENSIONS = frozenset("srt vtt".split())
FEED_EXTENSIONS = frozenset("xml rss atom".split())
EPISODES_DIR = "episodes"
STAGING_DIR = ".staging"
MARKER = ".podtools-batch.json"  # written last into a finished episode folder
MAX_LIST_DEPTH = 3


# -- items ------------------------------------------------------------------------------------


@dataclass
class Item:
    """One episode a source names, before processing."""

    uid: str  # stable identity: hash of feed + GUID, or sha256 of a local file
    location: str  # enclosure URL or local path
    source: str  # the SOURCE it came from
    title: str
    guid: Optional[str] = None
    published: Optional[dt.datetime] = None
    declared_duration: Optional[float] = None  # seconds
    content_hash: Optional[str] = None
    from_feed: bool = False  # an enclosure: only ever downloaded over http(s), never opened as a path
    date_guessed: bool = False  # published is a file's modification time
    chapters: Optional[str] = None  # chapter lines found in the feed entry's description

    @property
    def remote(self) -> bool:
        return self.from_feed or urllib.parse.urlsplit(self.location).scheme.lower() in ("http", "https")

    def folder(self) -> str:
        return folder_name(self.title, self.uid, self.published)

    def new_episode(self) -> NewEpisode:
        return NewEpisode(uid=self.uid, source=self.source, location=self.location, folder=self.folder(),
                          guid=self.guid, title=self.title, published=self.published,
                          declared_duration=self.declared_duration, content_hash=self.content_hash)


@dataclass
class Collected:
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII, lowercase, ``a-z0-9`` and single dashes only: safe as a file name anywhere."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return text[:max_len].strip("-") or "episode"


def folder_name(title: str, uid: str, published: dt.datetime | None = None) -> str:
    """``<date>-<title-slug>-<uid hash>``: unique per episode, no path traversal possible."""
    digest = hashlib.sha256(uid.encode()).hexdigest()[:10]
    date = f"{published:%Y-%m-%d}-" if published else ""
    return f"{date}{slugify(title)}-{digest}"


def item_uid(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


# -- selection --------------------------------------------------------------------------------


class Selection(BaseModel):
    """Which of the collected episodes a run considers."""
    model_config = ConfigDict(extra="forbid")

    since: Optional[dt.datetime] = Field(None, description="only episodes published on/after this time")
    limit: Optional[int] = Field(None, ge=1, description="at most this many episodes (after ordering)")
    order: Literal["newest", "oldest"] = "newest"
    only_new: bool = Field(False, description="only episodes newer than the newest already in the catalogue")


def parse_since(text: str) -> dt.datetime:
    """``2024-05-01``, an ISO date-time, or a relative ``30d`` / ``6w`` / ``12h``."""
    text = text.strip()
    m = re.fullmatch(r"(\d+)\s*([hdw])", text)
    if m:
        unit = {"h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return dt.datetime.now(dt.timezone.utc) - dt.timedelta(**{unit: int(m.group(1))})
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r}: expected a date (2024-05-01), a date-time, or 30d / 6w / 12h") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def order_items(items: Sequence[Item], order: str) -> list[Item]:
    """Newest or oldest first; undated episodes last, in source order."""
    dated = [it for it in items if it.published]
    undated = [it for it in items if not it.published]
    dated.sort(key=lambda it: it.published, reverse=(order == "newest"))
    return dated + undated
