"""The catalogue's SQLite schema as numbered migrations, and the SQLite plumbing the store uses:
the file-header check, errors translated into one clear :class:`CatalogError`, FTS5 queries
from what a user types. Imports only the ground floor.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import sqlite3
from pathlib import Path
from typing import Iterator

from ..errors import InputError, OutputError

log = logging.getLogger("podtools.catalog")


CATALOG_NAME = "catalog.db"
BUSY_TIMEOUT = 10.0  # seconds to wait for another writer before reporting the catalogue as locked

STATUSES = ("pending", "running", "done", "failed", "duplicate")


class CatalogError(InputError):
    """The catalogue cannot be used: corrupt, from a newer podtools, or locked by another batch."""


# -- schema -----------------------------------------------------------------------------------

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial",
        """
        CREATE TABLE episodes (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,          -- feed+GUID hash, or sha256 of a local file
            guid TEXT,
            source TEXT NOT NULL,              -- the SOURCE argument it came from
            location TEXT NOT NULL,            -- enclosure URL or file path
            title TEXT,
            published TEXT,                    -- ISO 8601, UTC
            declared_duration REAL,            -- seconds, as the feed declares it
            duration REAL,                     -- seconds of audio, once processed
            content_hash TEXT,                 -- sha256 of the audio (Episode.id)
            folder TEXT NOT NULL,              -- output folder, relative to <root>/episodes
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'failed', 'duplicate')),
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            seconds REAL,                      -- wall time of the run that finished it
            config_hash TEXT,                  -- pipeline settings it was processed with
            duplicate_of INTEGER REFERENCES episodes(id),
            first_seen TEXT NOT NULL,
            updated TEXT NOT NULL,
            finished TEXT
        );
        CREATE INDEX episodes_status ON episodes(status);
        CREATE INDEX episodes_published ON episodes(published);
        CREATE INDEX episodes_hash ON episodes(content_hash);

        CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            started TEXT NOT NULL,
            finished TEXT,
            sources TEXT NOT NULL,             -- JSON list
            engine TEXT,
            workers INTEGER,
            done INTEGER, failed INTEGER, skipped INTEGER,
            status TEXT NOT NULL DEFAULT 'running'
        );

        CREATE TABLE runs (                    -- one attempt at one episode
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            batch_id INTEGER REFERENCES batches(id),
            started TEXT NOT NULL,
            finished TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted', 'duplicate')),
            error TEXT,
            seconds REAL,
            worker TEXT
        );
        CREATE INDEX runs_episode ON runs(episode_id);

        CREATE TABLE stages (                  -- one stage of one attempt
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
            seconds REAL,
            model TEXT,
            error TEXT,
            finished TEXT NOT NULL,
            PRIMARY KEY (run_id, stage)
        );

        CREATE TABLE speakers (
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            speaker TEXT NOT NULL,
            name TEXT,
            talk_time REAL,
            PRIMARY KEY (episode_id, speaker)
        );

        CREATE TABLE chapters (
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            start_time REAL NOT NULL,
            end_time REAL NOT NULL,
            title TEXT NOT NULL,
            source TEXT,
            PRIMARY KEY (episode_id, idx)
        );

        CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            start_time REAL NOT NULL,
            end_time REAL NOT NULL,
            speaker_id TEXT,
            speaker TEXT,                      -- display name at the time of indexing
            chapter INTEGER,
            text TEXT NOT NULL,
            UNIQUE (episode_id, idx)
        );
        CREATE VIRTUAL TABLE segments_fts USING fts5(
            text, content='segments', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER segments_ai AFTER INSERT ON segments BEGIN
            INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER segments_ad AFTER DELETE ON segments BEGIN
            INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER segments_au AFTER UPDATE ON segments BEGIN
            INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
        END;

        CREATE TABLE mentions (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            canonical TEXT NOT NULL,
            kind TEXT NOT NULL,
            surface TEXT NOT NULL,
            start_time REAL NOT NULL,
            end_time REAL NOT NULL,
            speaker_id TEXT,
            speaker TEXT,
            chapter INTEGER,
            confidence REAL,
            known INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX mentions_episode ON mentions(episode_id);
        CREATE INDEX mentions_canonical ON mentions(canonical COLLATE NOCASE);

        CREATE TABLE file_hashes (             -- sha256 of local files, so a re-run need not re-read them
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL
        );
        """,
    ),
]


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def parse_iso(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


# -- helpers ----------------------------------------------------------------------------------


_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_header(path: Path) -> None:
    """Refuse a file that is not an SQLite database before sqlite3 touches it."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise CatalogError(f"cannot read the catalogue ({exc.strerror})", path) from None
    if head and head != _SQLITE_MAGIC:
        raise CatalogError(
            "not a podtools catalogue: the file is not an SQLite database (or is corrupt); "
            "move it aside or choose another output folder",
            path,
        )


def statements(sql: str) -> list[str]:
    """Split a migration script on ';' at statement ends (trigger bodies kept whole)."""
    out, buf = [], []
    for line in sql.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            out.append(text)
            buf = []
    if "\n".join(buf).strip():
        out.append("\n".join(buf))
    return out


def wrapped_error(exc: sqlite3.Error, path: Path) -> Exception:
    msg = str(exc)
    if "locked" in msg or "busy" in msg:
        return CatalogError(
            "catalogue is locked by another process (a running batch or an open sqlite shell); "
            "try again when it has finished",
            path,
        )
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return CatalogError(
            f"catalogue is damaged ({msg}); move it aside and re-run the batch", path)
    if "disk is full" in msg:
        return OutputError("cannot write the catalogue: the disk is full", path)
    if "disk I/O" in msg:
        return OutputError(f"cannot write the catalogue ({msg}: is the disk full or failing?)", path)
    if "readonly" in msg or "read-only" in msg:
        return OutputError(f"cannot write the catalogue ({msg})", path)
    if "unable to open" in msg:
        return OutputError(f"cannot open the catalogue ({msg})", path)
    return CatalogError(f"catalogue error: {msg}", path)


@contextlib.contextmanager
def translated_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise wrapped_error(exc, path) from None


_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


def fts_query(text: str) -> str:
    """User words and "quoted phrases" -> an FTS5 query matching all of them.

    Each word becomes a quoted FTS5 string, so punctuation ("GPT-4", "3.1") is matched as the
    tokenizer splits it instead of being read as query syntax; ``word*`` keeps prefix search.
    """
    parts = []
    for phrase, word in _TOKEN.findall(text):
        term = phrase if phrase else word
        prefix = False
        if not phrase and term.endswith("*") and len(term) > 1:
            term, prefix = term[:-1], True
        if not re.search(r"\w", term):
            continue
        parts.append('"' + term.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(parts)
