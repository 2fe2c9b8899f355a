"""Catalogue stage: many episodes -> one SQLite store that can be searched and charted.

The catalogue (``catalog.db``, stdlib ``sqlite3`` in WAL mode so that ``search`` can read while
a batch writes) holds one row per episode with its processing status, the errors and timings of
every attempt and stage, and the segments (full-text indexed with FTS5), speakers, chapters and
mentions of every finished episode. Schema changes are small numbered migrations recorded in
the ``_migrations`` table, applied in order when a catalogue is opened.

Every state change is one transaction; a process killed at any moment leaves the catalogue
as it was before or after that change, never between.

:class:`Catalog` is the store; the schema and SQLite plumbing are in :mod:`.schema`, the rows it
returns in :mod:`.rows`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import fcntl  # POSIX: the batch lock
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import InputError, OutputError
from ..models import Episode
from .rows import EpisodeRow, NewEpisode, SearchHit, Trends
from .schema import (BUSY_TIMEOUT, CATALOG_NAME, MIGRATIONS, STATUSES, CatalogError, check_header, fts_query, iso,
                     now_iso, parse_iso, statements, translated_errors, wrapped_error)

log = logging.getLogger("podtools.catalog")


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
            check_header(path)
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise CatalogError(f"cannot open the catalogue ({exc})", path) from None
        conn.row_factory = sqlite3.Row
        cat = cls(conn, path)
        try:
            with translated_errors(path):
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
        with translated_errors(self.path):
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
                for statement in statements(sql):
                    c.execute(statement)
                c.execute("INSERT INTO _migrations (id, name, applied) VALUES (?, ?, ?)", (number, name, now_iso()))
            log.info("catalogue %s: applied migration %d (%s)", self.path, number, name)

    def migrations(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.conn.execute("SELECT id, name FROM _migrations ORDER BY id")]

    def check_integrity(self) -> None:
        """``PRAGMA quick_check``: refuse to work on a damaged catalogue."""
        with translated_errors(self.path):
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
        with translated_errors(self.path):
            return [EpisodeRow.from_row(r) for r in self.conn.execute(sql, args)]

    def sync(self, items: Sequence[NewEpisode]) -> dict[str, EpisodeRow]:
        """Insert unseen episodes as pending (one transaction); refresh what a source says
        about unfinished ones. Returns uid -> row for every item."""
        now = now_iso()
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
                      (note, now_iso(), episode_id))

    # -- batches and runs ------------------------------------------------------------------

    def begin_batch(self, sources: Sequence[str], engine: str, workers: int) -> int:
        with self.transaction() as c:
            cur = c.execute("INSERT INTO batches (started, sources, engine, workers) VALUES (?, ?, ?, ?)",
                            (now_iso(), json.dumps(list(sources)), engine, workers))
            return int(cur.lastrowid)

    def end_batch(self, batch_id: int, done: int, failed: int, skipped: int, status: str = "finished") -> None:
        with self.transaction() as c:
            c.execute("UPDATE batches SET finished = ?, done = ?, failed = ?, skipped = ?, status = ? WHERE id = ?",
                      (now_iso(), done, failed, skipped, status, batch_id))

    def start_run(self, episode_id: int, batch_id: int | None, worker: str | None = None) -> int:
        """Mark an episode running and open an attempt; returns the run id."""
        now = now_iso()
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
                (run_id, episode_id, stage, status, None if seconds is None else round(seconds, 3), model, error, now_iso()),
            )

    def fail_run(self, run_id: int, episode_id: int, error: str, seconds: float | None,
                 stage: str | None = None, retry_later: bool = False) -> None:
        """Record a failed attempt. ``retry_later``: the episode goes back to pending (the
        failure was the environment's, e.g. a full disk), else it is marked failed."""
        now = now_iso()
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
        now = now_iso()
        with self.transaction() as c:
            c.execute("UPDATE runs SET status = 'interrupted', error = ?, finished = ? WHERE id = ? AND status = 'running'",
                      (note, now, run_id))
            c.execute("UPDATE episodes SET status = 'pending', updated = ? WHERE id = ? AND status = 'running'",
                      (now, episode_id))

    def mark_duplicate(self, run_id: int, episode_id: int, original: EpisodeRow, content_hash: str) -> None:
        now = now_iso()
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
        now = now_iso()
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
            raise wrapped_error(exc, self.path) from None
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
