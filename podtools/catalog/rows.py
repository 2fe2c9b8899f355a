"""What the catalogue returns: an episode's row, a new episode to record, a search hit, trends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Optional

from .schema import parse_iso

# -- rows -------------------------------------------------------------------------------------


@dataclass
class EpisodeRow:
    id: int
    uid: str
    guid: Optional[str]
    source: str
    location: str
    title: Optional[str]
    published: Optional[str]
    declared_duration: Optional[float]
    duration: Optional[float]
    content_hash: Optional[str]
    folder: str
    status: str
    error: Optional[str]
    attempts: int
    seconds: Optional[float]
    config_hash: Optional[str]
    duplicate_of: Optional[int]
    first_seen: str
    updated: str
    finished: Optional[str]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "EpisodeRow":
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})

    @property
    def published_dt(self) -> dt.datetime | None:
        return parse_iso(self.published)


@dataclass
class NewEpisode:
    """What the batch knows of an episode before processing it."""

    uid: str
    source: str
    location: str
    folder: str
    guid: Optional[str] = None
    title: Optional[str] = None
    published: Optional[dt.datetime] = None
    declared_duration: Optional[float] = None
    content_hash: Optional[str] = None


@dataclass
class SearchHit:
    episode_uid: str
    episode_title: Optional[str]
    published: Optional[str]
    folder: str
    start: float
    end: float
    speaker: Optional[str]
    chapter: Optional[str]
    text: str
    snippet: str
    rank: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Trends:
    """Mentions per episode (rows, in publish order) of each name (columns)."""

    names: list[str]
    episodes: list[dict[str, Any]] = field(default_factory=list)  # uid, title, published, folder
    counts: list[list[int]] = field(default_factory=list)  # counts[row][column]
    unknown: dict[str, list[str]] = field(default_factory=dict)  # asked-for name -> close matches
