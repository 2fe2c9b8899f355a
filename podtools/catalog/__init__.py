"""Catalogue stage: many episodes -> one SQLite store (``catalog.db``) that can be searched and
charted, with every episode's status, attempts, segments, speakers, chapters and mentions.

The package: :mod:`.schema` (migrations, SQLite plumbing), :mod:`.rows` (what queries return),
:mod:`.store` (the :class:`Catalog`: WAL mode, one transaction per state change), :mod:`.page`
(the ``index.html`` page). This module re-exports the public names.
"""

from .page import EPISODE_PAGES, INDEX_TEMPLATE, index_entries, write_index
from .rows import EpisodeRow, NewEpisode, SearchHit, Trends
from .schema import BUSY_TIMEOUT, CATALOG_NAME, MIGRATIONS, STATUSES, CatalogError, fts_query, iso, parse_iso
from .store import Catalog

__all__ = [
    "BUSY_TIMEOUT", "CATALOG_NAME", "EPISODE_PAGES", "INDEX_TEMPLATE", "MIGRATIONS", "STATUSES", "Catalog",
    "CatalogError", "EpisodeRow", "NewEpisode", "SearchHit", "Trends", "fts_query", "index_entries", "iso",
    "parse_iso", "write_index",
]
