"""Catalogue stage: many episodes -> one SQLite store that can be searched and charted.

The catalogue (``catalog.db``, stdlib ``sqlite3`` in WAL mode so that ``search`` can read while
a batch writes) holds one row per episode with its processing status, the errors and timings of
every attempt and stage, and the segments (full-text indexed with FTS5), speakers, chapters and
mentions of every finished episode. Schema changes are small numbered migrations recorded in
the ``_migrations`` table, applied in order when a catalogue is opened.

Every state change is one transaction; a process killed at any moment leaves the catalogue
as it was before or after that change, never between.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import json
import logging
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from .errors import InputError, OutputError
from .models import Episode

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


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def parse_iso(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


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


# -- the catalogue ----------------------------------------------------------------------------


class Catalog:
    """An open catalogue. Use :meth:`open`; close it (or use it as a context manager)."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        self._lock_fh = None

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, create: bool = True, timeout: float = BUSY_TIMEOUT) -> "Catalog":
        """Open (and migrate) the catalogue at ``path``; a directory means ``<dir>/catalog.db``.

        A file that is not a podtools catalogue is refused without being written to.
        """
        path = Path(path)
        if path.is_dir():
            path = path / CATALOG_NAME
        if not path.exists():
            if not create:
                raise InputError("no catalogue here; build one with `podtools batch SOURCE -o DIR`", path)
            if not path.parent.is_dir():
                raise OutputError("folder does not exist", path.parent)
        elif not path.is_file():
            raise CatalogError("is not a file", path)
        else:
            _check_header(path)
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise CatalogError(f"cannot open the catalogue ({exc})", path) from None
        conn.row_factory = sqlite3.Row
        cat = cls(conn, path)
        try:
            with _translate(path):
                conn.execute("PRAGMA foreign_keys = ON")
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
                cat._migrate()
        except BaseException:
            conn.close()
            raise
        return cat

    def close(self) -> None:
        self.unlock()
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any exception)."""
        with _translate(self.path):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)"
        )
        done = {r[0] for r in self.conn.execute("SELECT id FROM _migrations")}
        known = {m[0] for m in MIGRATIONS}
        if done - known:
            raise CatalogError(
                f"catalogue was written by a newer podtools (schema migration {max(done)}; this "
                f"version knows up to {max(known)}); upgrade podtools",
                self.path,
            )
        for number, name, sql in MIGRATIONS:
            if number in done:
                continue
            with self.transaction() as c:
                for statement in _statements(sql):
                    c.execute(statement)
                c.execute("INSERT INTO _migrations (id, name, applied) VALUES (?, ?, ?)", (number, name, _now()))
            log.info("catalogue %s: applied migration %d (%s)", self.path, number, name)

    def migrations(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.conn.execute("SELECT id, name FROM _migrations ORDER BY id")]

    def check_integrity(self) -> None:
        """``PRAGMA quick_check``: refuse to work on a damaged catalogue."""
        with _translate(self.path):
            result = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
        if result != ["ok"]:
            raise CatalogError(
                f"catalogue is damaged ({result[0][:100]}); move it aside and re-run the batch, "
                "finished episodes are re-indexed from their folders",
                self.path,
            )

    # -- the batch lock --------------------------------------------------------------------

    def lock(self) -> None:
        """Take the batch lock (one running batch per catalogue); released by :meth:`unlock`
        or when the process ends, however it ends."""
        import fcntl

        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fh = open(lock_path, "a+")
        except OSError as exc:
            raise OutputError(f"cannot create the lock file ({exc.strerror})", lock_path) from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            raise CatalogError(
                f"catalogue is in use by another running batch ({holder or 'unknown process'}); "
                "wait for it to finish or stop it first",
                self.path,
            ) from None
        with contextlib.suppress(OSError):  # who holds it: for the message above; best effort (full disk)
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} on {os.uname().nodename}")
            fh.flush()
        self._lock_fh = fh

    def batch_running(self) -> bool:
        """Whether a live process (this one or another) holds this catalogue's batch lock. A
        batch killed with -9 holds nothing: its episodes still marked running are interrupted."""
        if self._lock_fh is not None:
            return True
        import fcntl

        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDONLY)
        except OSError:  # no lock file: no batch ever ran here, or the folder is read-only
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # closing releases a lock we took
        return False

    def live_status(self, rows: list["EpisodeRow"], counts: dict[str, int]) -> tuple[list["EpisodeRow"], dict[str, int]]:
        """``rows`` and ``counts`` with 'running' shown as 'interrupted' when no batch runs."""
        if counts.get("running", 0) == 0 or self.batch_running():
            return rows, counts
        rows = [dataclasses.replace(r, status="interrupted") if r.status == "running" else r for r in rows]
        counts = {("interrupted" if k == "running" else k): n for k, n in counts.items()}
        return rows, counts

    def unlock(self) -> None:
        if self._lock_fh is not None:
            import fcntl

            with contextlib.suppress(OSError):
                self._lock_fh.seek(0)
                self._lock_fh.truncate()
                fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    # -- episodes --------------------------------------------------------------------------

    def get(self, uid: str) -> EpisodeRow | None:
        row = self.conn.execute("SELECT * FROM episodes WHERE uid = ?", (uid,)).fetchone()
        return EpisodeRow.from_row(row) if row else None

    def get_by_id(self, episode_id: int) -> EpisodeRow | None:
        row = self.conn.execute("SELECT * FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        return EpisodeRow.from_row(row) if row else None

    def episodes(self, status: str | Sequence[str] | None = None, source: str | None = None) -> list[EpisodeRow]:
        sql, args = "SELECT * FROM episodes", []
        where = []
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            args += statuses
        if source:
            where.append("source = ?")
            args.append(source)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY published IS NULL, published DESC, title"
        with _translate(self.path):
            return [EpisodeRow.from_row(r) for r in self.conn.execute(sql, args)]

    def sync(self, items: Sequence[NewEpisode]) -> dict[str, EpisodeRow]:
        """Insert unseen episodes as pending (one transaction); refresh what a source says
        about unfinished ones. Returns uid -> row for every item."""
        now = _now()
        with self.transaction() as c:
            for it in items:
                c.execute(
                    """INSERT INTO episodes (uid, guid, source, location, title, published, declared_duration,
                                             content_hash, folder, status, first_seen, updated)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                       ON CONFLICT(uid) DO UPDATE SET
                           location = excluded.location, source = excluded.source,
                           title = COALESCE(excluded.title, title),
                           published = COALESCE(excluded.published, published),
                           declared_duration = COALESCE(excluded.declared_duration, declared_duration),
                           updated = excluded.updated
                       WHERE status NOT IN ('done', 'duplicate')""",
                    (it.uid, it.guid, it.source, it.location, it.title, iso(it.published), it.declared_duration,
                     it.content_hash, it.folder, now, now),
                )
        out: dict[str, EpisodeRow] = {}
        uids = [it.uid for it in items]
        for i in range(0, len(uids), 500):
            chunk = uids[i : i + 500]
            for r in self.conn.execute(f"SELECT * FROM episodes WHERE uid IN ({','.join('?' * len(chunk))})", chunk):
                out[r["uid"]] = EpisodeRow.from_row(r)
        return out

    def newest_published(self, source: str) -> dt.datetime | None:
        row = self.conn.execute(
            "SELECT MAX(published) FROM episodes WHERE source = ? AND status IN ('done', 'failed', 'duplicate', 'running')",
            (source,),
        ).fetchone()
        return parse_iso(row[0]) if row and row[0] else None

    def set_pending(self, episode_id: int, note: str | None = None) -> None:
        with self.transaction() as c:
            c.execute("UPDATE episodes SET status = 'pending', error = ?, updated = ? WHERE id = ?",
                      (note, _now(), episode_id))

    # -- batches and runs ------------------------------------------------------------------

    def begin_batch(self, sources: Sequence[str], engine: str, workers: int) -> int:
        with self.transaction() as c:
            cur = c.execute("INSERT INTO batches (started, sources, engine, workers) VALUES (?, ?, ?, ?)",
                            (_now(), json.dumps(list(sources)), engine, workers))
            return int(cur.lastrowid)

    def end_batch(self, batch_id: int, done: int, failed: int, skipped: int, status: str = "finished") -> None:
        with self.transaction() as c:
            c.execute("UPDATE batches SET finished = ?, done = ?, failed = ?, skipped = ?, status = ? WHERE id = ?",
                      (_now(), done, failed, skipped, status, batch_id))

    def start_run(self, episode_id: int, batch_id: int | None, worker: str | None = None) -> int:
        """Mark an episode running and open an attempt; returns the run id."""
        now = _now()
        with self.transaction() as c:
            c.execute("UPDATE episodes SET status = 'running', error = NULL, attempts = attempts + 1, updated = ? "
                      "WHERE id = ?", (now, episode_id))
            cur = c.execute("INSERT INTO runs (episode_id, batch_id, started, status, worker) VALUES (?, ?, ?, 'running', ?)",
                            (episode_id, batch_id, now, worker))
            return int(cur.lastrowid)

    def latest_run(self, episode_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM runs WHERE episode_id = ? ORDER BY id DESC LIMIT 1",
                                 (episode_id,)).fetchone()

    def record_stage(self, run_id: int, episode_id: int, stage: str, seconds: float | None,
                     status: str = "done", error: str | None = None, model: str | None = None) -> None:
        with self.transaction() as c:
            c.execute(
                """INSERT INTO stages (run_id, episode_id, stage, status, seconds, model, error, finished)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(run_id, stage) DO UPDATE SET status = excluded.status, seconds = excluded.seconds,
                       model = COALESCE(excluded.model, model), error = excluded.error, finished = excluded.finished""",
                (run_id, episode_id, stage, status, None if seconds is None else round(seconds, 3), model, error, _now()),
            )

    def fail_run(self, run_id: int, episode_id: int, error: str, seconds: float | None,
                 stage: str | None = None, retry_later: bool = False) -> None:
        """Record a failed attempt. ``retry_later``: the episode goes back to pending (the
        failure was the environment's, e.g. a full disk), else it is marked failed."""
        now = _now()
        with self.transaction() as c:
            c.execute("UPDATE runs SET status = 'failed', error = ?, finished = ?, seconds = ? WHERE id = ?",
                      (error, now, seconds, run_id))
            if stage:
                c.execute(
                    """INSERT INTO stages (run_id, episode_id, stage, status, error, finished) VALUES (?, ?, ?, 'failed', ?, ?)
                       ON CONFLICT(run_id, stage) DO UPDATE SET status = 'failed', error = excluded.error""",
                    (run_id, episode_id, stage, error, now),
                )
            c.execute("UPDATE episodes SET status = ?, error = ?, updated = ? WHERE id = ?",
                      ("pending" if retry_later else "failed", error, now, episode_id))

    def interrupt_run(self, run_id: int, episode_id: int, note: str = "interrupted") -> None:
        now = _now()
        with self.transaction() as c:
            c.execute("UPDATE runs SET status = 'interrupted', error = ?, finished = ? WHERE id = ? AND status = 'running'",
                      (note, now, run_id))
            c.execute("UPDATE episodes SET status = 'pending', updated = ? WHERE id = ? AND status = 'running'",
                      (now, episode_id))

    def mark_duplicate(self, run_id: int, episode_id: int, original: EpisodeRow, content_hash: str) -> None:
        now = _now()
        with self.transaction() as c:
            c.execute("UPDATE runs SET status = 'duplicate', finished = ? WHERE id = ?", (now, run_id))
            c.execute(
                "UPDATE episodes SET status = 'duplicate', duplicate_of = ?, content_hash = ?, "
                "error = ?, updated = ?, finished = ? WHERE id = ?",
                (original.id, content_hash, f"same audio as {original.title or original.uid!s}", now, now, episode_id),
            )

    def find_done_by_hash(self, content_hash: str, exclude_id: int) -> EpisodeRow | None:
        row = self.conn.execute(
            "SELECT * FROM episodes WHERE content_hash = ? AND status = 'done' AND id != ? ORDER BY id LIMIT 1",
            (content_hash, exclude_id),
        ).fetchone()
        return EpisodeRow.from_row(row) if row else None

    def commit_episode(self, run_id: int | None, episode_id: int, episode: Episode, seconds: float | None,
                       config_hash: str | None = None, stage_seconds: dict[str, float] | None = None,
                       title_from_episode: bool = False) -> None:
        """Index a finished episode and mark it done, in one transaction (re-indexing replaces
        whatever an earlier run stored). ``title_from_episode``: the episode's title (e.g. from
        the file's tags) replaces the catalogue's (a file name)."""
        now = _now()
        chapters = sorted(episode.chapters, key=lambda ch: ch.start)
        starts = [ch.start for ch in chapters]

        def chapter_of(t: float) -> int | None:
            idx = None
            for i, s in enumerate(starts):
                if t + 1e-6 >= s:
                    idx = i
            return idx

        with self.transaction() as c:
            for table in ("segments", "mentions", "speakers", "chapters"):
                c.execute(f"DELETE FROM {table} WHERE episode_id = ?", (episode_id,))
            c.executemany(
                "INSERT INTO segments (episode_id, idx, start_time, end_time, speaker_id, speaker, chapter, text) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(episode_id, i, s.start, s.end, s.speaker, episode.speaker_name(s.speaker), chapter_of(s.start),
                  s.text.strip()) for i, s in enumerate(episode.segments)],
            )
            c.executemany(
                "INSERT INTO mentions (episode_id, canonical, kind, surface, start_time, end_time, speaker_id, speaker, "
                "chapter, confidence, known) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(episode_id, m.canonical, m.kind, m.surface, m.start, m.end, m.speaker, episode.speaker_name(m.speaker),
                  m.chapter, m.confidence, int(m.known)) for m in episode.mentions],
            )
            c.executemany(
                "INSERT INTO speakers (episode_id, speaker, name, talk_time) VALUES (?, ?, ?, ?)",
                [(episode_id, sp.id, sp.name, sp.talk_time) for sp in episode.speakers],
            )
            c.executemany(
                "INSERT INTO chapters (episode_id, idx, start_time, end_time, title, source) VALUES (?, ?, ?, ?, ?, ?)",
                [(episode_id, i, ch.start, ch.end, ch.title, ch.source) for i, ch in enumerate(chapters)],
            )
            if run_id is not None:
                c.execute("UPDATE runs SET status = 'done', finished = ?, seconds = ?, error = NULL WHERE id = ?",
                          (now, seconds, run_id))
                for name, run in episode.provenance.items():
                    secs = (stage_seconds or {}).get(name, run.seconds)
                    c.execute(
                        """INSERT INTO stages (run_id, episode_id, stage, status, seconds, model, finished)
                           VALUES (?, ?, ?, 'done', ?, ?, ?)
                           ON CONFLICT(run_id, stage) DO UPDATE SET status = 'done', model = excluded.model""",
                        (run_id, episode_id, name, secs, run.model, now),
                    )
            if title_from_episode and episode.title:
                c.execute("UPDATE episodes SET title = ? WHERE id = ?", (episode.title, episode_id))
            c.execute(
                """UPDATE episodes SET status = 'done', error = NULL, content_hash = ?, duration = ?,
                       title = COALESCE(title, ?), published = COALESCE(published, ?),
                       seconds = COALESCE(?, seconds), config_hash = COALESCE(?, config_hash),
                       duplicate_of = NULL, updated = ?, finished = ? WHERE id = ?""",
                (episode.id, episode.duration, episode.title, iso(episode.published), seconds, config_hash,
                 now, now, episode_id),
            )

    def stale_running(self) -> list[EpisodeRow]:
        return self.episodes("running")

    # -- local file hashes ----------------------------------------------------------------

    def cached_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        row = self.conn.execute("SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ?",
                                (path, size, mtime_ns)).fetchone()
        return row[0] if row else None

    def store_hashes(self, rows: Sequence[tuple[str, int, int, str]]) -> None:
        if not rows:
            return
        with self.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO file_hashes (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)", rows)

    # -- queries ---------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for status, n in self.conn.execute("SELECT status, COUNT(*) FROM episodes GROUP BY status"):
            out[status] = n
        return out

    def stages_of(self, episode_id: int) -> list[sqlite3.Row]:
        return list(self.conn.execute(
            "SELECT stage, status, seconds, model, error FROM stages WHERE run_id = "
            "(SELECT MAX(id) FROM runs WHERE episode_id = ?) ORDER BY finished, rowid", (episode_id,)))

    def search(self, query: str, limit: int = 20, raw: bool = False, speaker: str | None = None) -> list[SearchHit]:
        """Full-text search over the segments of finished episodes, best match first.

        ``query`` is words (all must occur) and "quoted phrases"; ``raw=True`` passes FTS5
        query syntax through (AND/OR/NOT, NEAR, prefix*).
        """
        match = query if raw else fts_query(query)
        if not match:
            raise InputError("empty search query")
        sql = """
            SELECT e.uid, e.title, e.published, e.folder, s.start_time, s.end_time, s.speaker, ch.title AS chapter,
                   s.text, snippet(segments_fts, 0, '[', ']', '...', 16) AS snip, bm25(segments_fts) AS rank
            FROM segments_fts
            JOIN segments s ON s.id = segments_fts.rowid
            JOIN episodes e ON e.id = s.episode_id
            LEFT JOIN chapters ch ON ch.episode_id = s.episode_id AND ch.idx = s.chapter
            WHERE segments_fts MATCH ? AND e.status = 'done'"""
        args: list[Any] = [match]
        if speaker:
            sql += " AND (s.speaker = ? COLLATE NOCASE OR s.speaker_id = ?)"
            args += [speaker, speaker]
        sql += " ORDER BY rank, e.published DESC, s.start_time LIMIT ?"
        args.append(limit)
        try:
            rows = list(self.conn.execute(sql, args))
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if "fts5" in msg or "syntax" in msg or "no such column" in msg or "unterminated" in msg:
                raise InputError(f"invalid search query {query!r} ({msg})") from None
            raise _wrap(exc, self.path) from None
        return [SearchHit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]) for r in rows]

    def mention_names(self, kind: str | None = None) -> list[tuple[str, int]]:
        sql = ("SELECT m.canonical, COUNT(*) FROM mentions m JOIN episodes e ON e.id = m.episode_id "
               "WHERE e.status = 'done'")
        args: list[Any] = []
        if kind:
            sql += " AND m.kind = ?"
            args.append(kind)
        sql += " GROUP BY m.canonical ORDER BY COUNT(*) DESC, m.canonical"
        return [(r[0], r[1]) for r in self.conn.execute(sql, args)]

    def trends(self, names: Sequence[str] | None = None, top: int = 5, kind: str | None = None) -> Trends:
        """Mentions of each name per finished episode, in publish order (oldest first).

        Names match canonical names case-insensitively, then surface forms; without names, the
        ``top`` most mentioned (of ``kind``, if given).
        """
        known = self.mention_names(kind)
        canon = {n.lower(): n for n, _ in known}
        columns: list[str] = []
        unknown: dict[str, list[str]] = {}
        if names:
            for name in names:
                hit = canon.get(name.lower())
                if hit is None:
                    row = self.conn.execute("SELECT canonical FROM mentions WHERE surface = ? COLLATE NOCASE "
                                            "GROUP BY canonical ORDER BY COUNT(*) DESC LIMIT 1", (name,)).fetchone()
                    hit = row[0] if row else None
                if hit is None:
                    unknown[name] = difflib.get_close_matches(name, [n for n, _ in known], n=3, cutoff=0.5)
                    columns.append(name)
                elif hit not in columns:
                    columns.append(hit)
        else:
            columns = [n for n, _ in known[:top]]
        result = Trends(names=columns, unknown=unknown)
        episodes = list(self.conn.execute(
            "SELECT id, uid, title, published, folder FROM episodes WHERE status = 'done' "
            "ORDER BY published IS NULL, published, title"))
        counts: dict[tuple[int, str], int] = {}
        if columns:
            lowered = [c.lower() for c in columns]
            q = ("SELECT episode_id, LOWER(canonical), COUNT(*) FROM mentions "
                 f"WHERE LOWER(canonical) IN ({','.join('?' * len(lowered))})")
            args: list[Any] = list(lowered)
            if kind:
                q += " AND kind = ?"
                args.append(kind)
            q += " GROUP BY episode_id, LOWER(canonical)"
            for eid, name, n in self.conn.execute(q, args):
                counts[(eid, name)] = n
        for e in episodes:
            result.episodes.append({"uid": e["uid"], "title": e["title"], "published": e["published"],
                                    "folder": e["folder"]})
            result.counts.append([counts.get((e["id"], c.lower()), 0) for c in columns])
        return result


# -- helpers ----------------------------------------------------------------------------------


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_header(path: Path) -> None:
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


def _statements(sql: str) -> list[str]:
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


def _wrap(exc: sqlite3.Error, path: Path) -> Exception:
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
def _translate(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise _wrap(exc, path) from None


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


# -- the static index page --------------------------------------------------------------------

INDEX_TEMPLATE = "catalog_index.html.j2"
EPISODE_PAGES = ("episode.html", "transcript.md", "transcript.txt")  # the first that exists is linked


def index_entries(catalog: Catalog, root: Path) -> list[dict[str, Any]]:
    """One dict per episode for the index page, newest first; ``href`` relative to ``root``."""
    import urllib.parse

    from .timefmt import hms

    counts = dict(catalog.conn.execute(
        "SELECT e.uid, COUNT(m.id) FROM episodes e LEFT JOIN mentions m ON m.episode_id = e.id GROUP BY e.id"))
    out = []
    for row in catalog.episodes():
        href = None
        if row.status == "done":
            folder = root / "episodes" / row.folder
            page = next((name for name in EPISODE_PAGES if (folder / name).is_file()), None)
            href = "episodes/" + urllib.parse.quote(row.folder) + "/" + (urllib.parse.quote(page) if page else "")
        published = row.published_dt
        out.append({
            "title": row.title or row.uid,
            "published": published.strftime("%Y-%m-%d") if published else "",
            "duration": hms(row.duration) if row.duration else "",
            "status": row.status,
            "error": row.error if row.status in ("failed", "duplicate") else None,
            "href": href,
            "mentions": counts.get(row.uid, 0),
        })
    return out


def write_index(catalog: Catalog, root: str | Path, templates_dir: str | Path | None = None) -> Path:
    """Write ``<root>/index.html`` linking every finished episode's page (only when it changed).

    The page ends with a fingerprint of what it shows (the entries, counts and podtools version),
    so a re-run over an unchanged catalogue skips rendering; a user template directory is always
    rendered (its files may have changed) and the result compared instead.
    """
    import hashlib
    import json

    from . import __version__
    from .fsutil import atomic_write_text

    root = Path(root)
    path = root / "index.html"
    entries, counts, title = index_entries(catalog, root), catalog.counts(), _index_title(catalog)
    stamp = hashlib.sha256(json.dumps([__version__, entries, counts, title], sort_keys=True,
                                      default=str).encode()).hexdigest()[:16]
    marker = f"<!-- podtools-index {stamp} -->"
    if templates_dir is None and _index_stamp(path) == marker:
        return path

    import jinja2

    from .errors import ConfigError
    from .templating import environment

    env = environment(templates_dir)
    try:
        template = env.get_template(INDEX_TEMPLATE)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"template {INDEX_TEMPLATE!r} not found", templates_dir) from None
    html = template.render(episodes=entries, counts=counts, title=title).rstrip("\n") + f"\n{marker}\n"
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == html:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    return atomic_write_text(path, html)


def _index_stamp(path: Path) -> str | None:
    """The fingerprint comment that ends an index page podtools wrote, if any."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 80))
            tail = f.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return None
    return tail[-1] if tail and tail[-1].startswith("<!-- podtools-index ") else None


def _index_title(catalog: Catalog) -> str:
    sources = [r[0] for r in catalog.conn.execute("SELECT DISTINCT source FROM episodes ORDER BY source LIMIT 4")]
    return "Podcast catalogue" + (f": {', '.join(sources[:3])}" if sources else "")
