"""The batch runner: plan (skip what is finished, recover what an interrupted run left), download
ahead of the workers, hand each episode to an engine, publish its staging folder into
``episodes/`` atomically and index it in the catalogue, exactly once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ..catalog import CATALOG_NAME, Catalog, EpisodeRow, write_index
from ..config import load_pipeline
from ..download import fetch
from ..errors import ConfigError, DeviceError, InputError, ModelError, OutputError, PodtoolsError
from ..fsutil import atomic_write_text, ensure_writable_dir, sha256_file
from ..models import Episode
from .engines import LocalEngine, RayEngine
from .interface import BatchObserver, BatchOptions, BatchSummary, Engine, NullObserver
from .items import EPISODES_DIR, MARKER, STAGING_DIR, Item, Selection, order_items
from .sources import HashLookup, collect_sources
from .worker import Task

log = logging.getLogger("podtools.batch")


# -- running ----------------------------------------------------------------------------------


# Errors that say the environment is broken, not the episode: stop the batch (episode stays pending).
FATAL_ERRORS = {"OutputError": OutputError, "ModelError": ModelError, "DeviceError": DeviceError,
                "ConfigError": ConfigError}


def config_hash(config) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def run_batch(
    sources: Sequence[str],
    out_dir: str | Path,
    config=None,
    options: BatchOptions | None = None,
    selection: Selection | None = None,
    templates_dir: str | Path | None = None,
    observer: BatchObserver | None = None,
    engine: Engine | None = None,
    dry_run: bool = False,
) -> BatchSummary:
    """Process every selected, unfinished episode of ``sources`` into ``out_dir``.

    ``config`` is a :class:`podtools.pipeline.PipelineConfig` (default preset when None).
    Raises :class:`PodtoolsError` for problems that stop the whole batch (unreadable source,
    unwritable output, catalogue locked or damaged, model cannot load); an episode's own failure
    is recorded and the batch goes on.

    The local engine starts its workers with ``multiprocessing``'s *spawn*: a script that calls
    this must do so under ``if __name__ == "__main__":``.
    """

    t0 = time.perf_counter()
    options = options or BatchOptions()
    selection = selection or Selection()
    observer = observer or NullObserver()
    root = ensure_writable_dir(out_dir)
    if templates_dir is not None and not Path(templates_dir).is_dir():
        raise ConfigError("templates directory not found", templates_dir)
    catalog = Catalog.open(root / CATALOG_NAME)
    try:
        catalog.lock()
        catalog.check_integrity()
        runner = _Runner(catalog, root, sources, config, options, selection, templates_dir, observer, engine)
        runner.dry_run = dry_run
        summary = runner.run()
    finally:
        catalog.close()
    summary.seconds = round(time.perf_counter() - t0, 3)
    return summary


def _hasher(catalog: Catalog) -> tuple[HashLookup, list[tuple[str, int, int, str]]]:
    new: list[tuple[str, int, int, str]] = []

    def lookup(path: Path) -> str:
        st = path.stat()
        cached = catalog.cached_hash(str(path), st.st_size, st.st_mtime_ns)
        if cached:
            return cached
        digest = sha256_file(path)
        new.append((str(path), st.st_size, st.st_mtime_ns, digest))
        return digest

    return lookup, new


@dataclass
class _Active:
    row: EpisodeRow
    item: Item
    run_id: int
    started: float
    stage: str = "download"
    stage_started: float = 0.0
    staging: Optional[Path] = None
    download: Optional[Future] = None
    path: Optional[str] = None  # what the worker reads
    claimed: bool = False  # passed the duplicate check: on its way to a worker


class _Runner:
    def __init__(self, catalog: Catalog, root: Path, sources, config, options: BatchOptions, selection: Selection,
                 templates_dir, observer: BatchObserver, engine: Engine | None):
        self.catalog = catalog
        self.root = root
        self.sources = [str(s) for s in sources]
        self.config = config
        self.options = options
        self.selection = selection
        self.templates_dir = str(templates_dir) if templates_dir else None
        self.observer = observer
        self.engine = engine
        self.summary = BatchSummary(root=root)
        self.batch_id: int | None = None
        self.active: dict[int, _Active] = {}  # run_id -> in flight
        self.fatal: PodtoolsError | None = None
        self._index_written = 0.0
        self._cfg_hash: str | None = None
        self.dry_run = False

    # -- plan ------------------------------------------------------------------------------

    def run(self) -> BatchSummary:
        if not self.dry_run:
            self._recover()
        hasher, new_hashes = _hasher(self.catalog)
        collected = collect_sources(self.sources, hasher, self.options.download_timeout, self.options.allow_private)
        self.catalog.store_hashes(new_hashes)
        self.summary.warnings += collected.warnings
        for w in collected.warnings:
            self.observer.note(w)
        todo = self._plan(collected.items)
        if self.dry_run:
            self.summary.planned = [row.title or item.title for row, item in todo]
            return self.summary
        self.observer.planned(len(todo), self.summary.skipped_done + self.summary.skipped_failed
                              + self.summary.skipped_selection)
        if not todo:  # the index may still be behind (a batch killed before it was redrawn): write_index checks
            self._write_index(force=False)
            return self.summary
        self.batch_id = self.catalog.begin_batch(self.sources, self.options.engine, self.options.workers)
        status = "failed"
        try:
            self._process(todo)
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            self._shutdown(status)
        return self.summary

    def _plan(self, items: list[Item]) -> list[tuple[EpisodeRow, Item]]:
        if self.dry_run:  # read-only: unseen episodes look pending
            rows = {}
            for it in items:
                row = self.catalog.get(it.uid)
                rows[it.uid] = row or EpisodeRow(id=0, uid=it.uid, guid=it.guid, source=it.source,
                                                 location=it.location, title=it.title, published=None,
                                                 declared_duration=None, duration=None, content_hash=None,
                                                 folder=it.folder(), status="pending", error=None, attempts=0,
                                                 seconds=None, config_hash=None, duplicate_of=None,
                                                 first_seen="", updated="", finished=None)
        else:
            rows = self.catalog.sync([it.new_episode() for it in items])
        sel = self.selection
        candidates = items
        if sel.since:
            candidates = [it for it in candidates if it.published and it.published >= sel.since]
        if sel.only_new:
            newest: dict[str, dt.datetime | None] = {}
            kept = []
            for it in candidates:
                if it.source not in newest:
                    newest[it.source] = self.catalog.newest_published(it.source)
                cut = newest[it.source]
                row = rows[it.uid]
                if row.status in ("done", "duplicate", "failed"):
                    continue
                if cut is None or (it.published and it.published > cut):
                    kept.append(it)
            candidates = kept
        self.summary.skipped_selection = len(items) - len(candidates)
        todo: list[tuple[EpisodeRow, Item]] = []
        for it in order_items(candidates, sel.order):
            row = rows[it.uid]
            if row.status in ("done", "duplicate"):
                if row.status == "done" and not (self.root / EPISODES_DIR / row.folder / "episode.json").is_file():
                    self.observer.note(f"{row.title}: output folder is missing; processing it again")
                    if not self.dry_run:
                        self.catalog.set_pending(row.id, "output folder was missing")
                else:
                    self.summary.skipped_done += 1
                    continue
            elif row.status == "failed" and not self.options.retry_failed:
                self.summary.skipped_failed += 1
                continue
            todo.append((row, it))
        if sel.limit is not None and len(todo) > sel.limit:
            self.summary.skipped_selection += len(todo) - sel.limit
            todo = todo[: sel.limit]
        return todo

    # -- crash recovery --------------------------------------------------------------------

    def _recover(self) -> None:
        """Finish what a killed run left: adopt complete folders, requeue the rest, clear staging."""
        for row in self.catalog.stale_running():
            run = self.catalog.latest_run(row.id)
            marker = _read_marker(self.root / EPISODES_DIR / row.folder)
            if run is not None and marker and marker.get("uid") == row.uid and marker.get("run_id") == run["id"]:
                try:
                    episode = _load_episode(self.root / EPISODES_DIR / row.folder)
                    self.catalog.commit_episode(run["id"], row.id, episode, marker.get("seconds"),
                                                marker.get("config_hash"), marker.get("stage_seconds"),
                                                title_from_episode=not marker.get("from_feed", True))
                    self.summary.adopted += 1
                    log.info("adopted %s, finished by an interrupted run", row.folder)
                    continue
                except InputError as exc:
                    log.warning("cannot adopt %s: %s", row.folder, exc)
            if run is not None:
                self.catalog.interrupt_run(run["id"], row.id, "interrupted (the batch process stopped)")
            else:
                self.catalog.set_pending(row.id)
        staging = self.root / STAGING_DIR
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)

    # -- the loop --------------------------------------------------------------------------

    def _make_engine(self) -> Engine:
        if self.engine is not None:
            return self.engine
        config = self._config()
        if self.options.engine == "ray":
            return RayEngine(config, self.templates_dir, self.options.workers, self.options.ray_address,
                             self.options.ray_temp_dir)

        return LocalEngine(config, self.templates_dir, self.options.workers)

    def _config(self):
        if self.config is None:
            self.config = load_pipeline("default")
        return self.config

    def _process(self, todo: list[tuple[EpisodeRow, Item]]) -> None:
        self._cfg_hash = config_hash(self._config())
        (self.root / STAGING_DIR).mkdir(exist_ok=True)
        self.engine = self._make_engine()
        self.engine.start()
        queue = list(todo)
        ready: list[_Active] = []
        downloads: list[_Active] = []
        deferred: list[_Active] = []  # downloaded, checked for duplicates once the twin finishes
        pool = ThreadPoolExecutor(max_workers=max(1, min(4, self.options.prefetch or 1)),
                                  thread_name_prefix="podtools-download")
        self._pool = pool
        try:
            while (queue or ready or downloads or deferred or self.active) and self.fatal is None:
                # keep downloads running ahead of the workers
                want = self.engine.free() + self.options.prefetch
                while queue and len(ready) + len(downloads) < want:
                    row, item = queue.pop(0)
                    act = self._begin(row, item)
                    if item.remote:
                        act.download = pool.submit(self._download, fetch, act)
                        downloads.append(act)
                    else:
                        act.path = item.location
                        act.claimed = True
                        self.observer.stage(item.uid, "waiting for a worker", None)
                        ready.append(act)
                for act in [a for a in downloads if a.download.done()]:
                    downloads.remove(act)
                    if self._download_finished(act):
                        deferred.append(act)
                deferred.sort(key=lambda a: a.run_id)  # the order episodes were begun: the batch's order
                for act in list(deferred):
                    # the same audio under two GUIDs: the first in the batch's order is processed,
                    # whichever download ends first; wait for the twin in flight, then decide
                    if not self._twin_in_flight(act) and not self._earlier_undecided(act, downloads, deferred):
                        deferred.remove(act)
                        if not self._is_duplicate(act):
                            act.claimed = True
                            ready.append(act)
                while ready and self.engine.free() > 0 and self.fatal is None:
                    self._dispatch(ready.pop(0))
                self.engine.poll(self, timeout=0.2)
            if self.fatal is not None:
                raise self.fatal
        finally:
            for act in ready + downloads + deferred:
                if act.download is not None:
                    act.download.cancel()
            pool.shutdown(wait=False, cancel_futures=True)

    def _begin(self, row: EpisodeRow, item: Item) -> _Active:
        run_id = self.catalog.start_run(row.id, self.batch_id, self.options.engine)
        act = _Active(row=row, item=item, run_id=run_id, started=time.perf_counter(),
                      stage_started=time.perf_counter())
        self.active[run_id] = act
        self.observer.episode_started(item.uid, row.title or item.title)
        return act

    def _download(self, fetch, act: _Active) -> Path:
        uid = act.item.uid
        last = [0.0]

        def progress(got: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] > 0.25:
                last[0] = now
                # the observer is thread-safe for these two calls (rich's Progress is)
                self.observer.advance(uid, got / 1e6)

        self.observer.stage(uid, "download", None)
        path = fetch(act.item.location, max_bytes=self.options.max_bytes, timeout=self.options.download_timeout,
                     retries=self.options.download_retries, progress=progress,
                     allow_private=self.options.allow_private)

        act.item.content_hash = sha256_file(path)
        return path

    def _download_finished(self, act: _Active) -> bool:
        """Record the download; False when the episode ended here (failed or duplicate)."""
        seconds = time.perf_counter() - act.stage_started
        try:
            act.download.result()
        except InputError as exc:
            self._fail(act, "InputError", str(exc), "download")
            return False
        except PodtoolsError as exc:
            self._fail(act, type(exc).__name__, str(exc), "download")
            return False
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the other episodes
            self._fail(act, "internal", f"{type(exc).__name__}: {exc}", "download")
            return False
        self.catalog.record_stage(act.run_id, act.row.id, "download", seconds)
        act.path = act.item.location  # ingest finds the URL in the download cache
        self.observer.stage(act.item.uid, "waiting for a worker", None)
        return True

    def _twin_in_flight(self, act: _Active) -> bool:
        return any(other is not act and other.claimed and other.item.content_hash == act.item.content_hash
                   for other in self.active.values())

    @staticmethod
    def _earlier_undecided(act: _Active, downloads: list[_Active], deferred: list[_Active]) -> bool:
        """An episode before this one in the batch's order may be its twin and is not decided yet:
        still downloading (its audio unknown), or downloaded with the same audio and waiting."""
        return any(other.run_id < act.run_id for other in downloads) or any(
            other.run_id < act.run_id and other.item.content_hash == act.item.content_hash for other in deferred)

    def _is_duplicate(self, act: _Active) -> bool:
        """Audio already processed under another GUID: recorded as a duplicate of it."""
        original = self.catalog.find_done_by_hash(act.item.content_hash, act.row.id)
        if original is None:
            return False
        self.catalog.mark_duplicate(act.run_id, act.row.id, original, act.item.content_hash)
        self.summary.duplicates.append((act.row.title or act.item.title, original.title or original.uid))
        self.observer.episode_finished(act.item.uid, "duplicate", f"same audio as {original.title}")
        del self.active[act.run_id]
        return True

    def _dispatch(self, act: _Active) -> None:
        act.staging = self.root / STAGING_DIR / f"{act.row.folder}.run{act.run_id}"
        act.stage = "decode"
        act.stage_started = time.perf_counter()
        # a feed names and dates its episodes; a file's own tags are better than its name
        feed = act.item.from_feed
        task = Task(run_id=act.run_id, uid=act.item.uid, source=act.path, staging=str(act.staging),
                    title=(act.row.title or act.item.title) if feed else None,
                    published=None if act.item.date_guessed else act.row.published,
                    use_cache=self.options.use_cache, chapters=act.item.chapters)
        self.engine.submit(task)

    # -- events from the engine (Events protocol) -------------------------------------------

    def stage(self, run_id: int, name: str, total: float | None) -> None:
        act = self.active.get(run_id)
        if act is None:
            return
        now = time.perf_counter()
        if act.stage != name and act.stage not in ("download",):
            # the previous stage finished: one small transaction per stage
            self.catalog.record_stage(run_id, act.row.id, act.stage, now - act.stage_started)
        act.stage, act.stage_started = name, now
        self.observer.stage(act.item.uid, name, total)

    def advance(self, run_id: int, done: float) -> None:
        act = self.active.get(run_id)
        if act is not None:
            self.observer.advance(act.item.uid, done)

    def note(self, run_id: int, message: str) -> None:
        # a stage's remark about one episode (e.g. "only 1 chapter"): the log, not the screen,
        # or a batch of hundreds of episodes would bury its progress under them (-v shows them)
        act = self.active.get(run_id)
        log.info("%s: %s", act.row.title if act else run_id, message)

    def done(self, run_id: int, stage_seconds: dict[str, float]) -> None:
        act = self.active.pop(run_id, None)
        if act is None:
            return
        now = time.perf_counter()
        seconds = round(now - act.started, 3)
        if act.stage != "download":  # the last stage ended with the task
            self.catalog.record_stage(run_id, act.row.id, act.stage, now - act.stage_started)
        try:
            folder = self._publish(act, seconds, stage_seconds)
            episode = _load_episode(folder)
            self.catalog.commit_episode(run_id, act.row.id, episode, seconds, self._cfg_hash, stage_seconds,
                                        title_from_episode=not act.item.from_feed)
        except OutputError as exc:
            self.active[run_id] = act
            self._fail(act, "OutputError", str(exc), "publish")
            return
        except InputError as exc:
            self.active[run_id] = act
            self._fail(act, "InputError", str(exc), "publish")
            return
        self.summary.done.append(act.row.title if act.item.from_feed else (episode.title or act.row.title))
        self.observer.episode_finished(act.item.uid, "done", None)
        self._write_index(force=False)

    def failed(self, run_id: int, kind: str, message: str, stage: str | None) -> None:
        act = self.active.get(run_id)
        if act is None:
            return
        if act.staging is not None:
            shutil.rmtree(act.staging, ignore_errors=True)
        self._fail(act, kind, message, stage or act.stage)

    def _fail(self, act: _Active, kind: str, message: str, stage: str) -> None:
        seconds = round(time.perf_counter() - act.started, 3)
        fatal = FATAL_ERRORS.get(kind)
        self.catalog.fail_run(act.run_id, act.row.id, message, seconds, stage, retry_later=fatal is not None)
        self.active.pop(act.run_id, None)
        if fatal is not None:
            # the environment is broken (disk full, model missing): stop, the episode stays pending
            if self.fatal is None:
                self.fatal = fatal(message) if not isinstance(message, PodtoolsError) else message
            self.observer.episode_finished(act.item.uid, "stopped", message)
            return
        self.summary.failed.append((act.row.title or act.item.title, message))
        self.observer.episode_finished(act.item.uid, "failed", message)

    # -- publishing ------------------------------------------------------------------------

    def _publish(self, act: _Active, seconds: float, stage_seconds: dict[str, float]) -> Path:
        """Rename the complete staging folder to its final place (replacing an older one)."""
        assert act.staging is not None
        final = self.root / EPISODES_DIR / act.row.folder
        marker = {
            "uid": act.item.uid,
            "run_id": act.run_id,
            "source": act.item.location,
            "title": act.row.title or act.item.title,
            "seconds": seconds,
            "stage_seconds": stage_seconds,
            "config_hash": self._cfg_hash,
            "from_feed": act.item.from_feed,
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }

        if not (act.staging / "episode.json").is_file():
            raise InputError("the pipeline finished without writing episode.json", act.staging)
        atomic_write_text(act.staging / MARKER, json.dumps(marker, indent=2) + "\n")
        _fsync_dir(act.staging)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            old = None
            if final.exists():
                old = self.root / STAGING_DIR / f"{act.row.folder}.old{act.run_id}"
                os.replace(final, old)
            os.replace(act.staging, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            raise OutputError(f"cannot move the finished episode into place ({exc.strerror})", final) from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def _write_index(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._index_written < 2.0 and self._index_written:
            return
        self._index_written = now

        try:
            write_index(self.catalog, self.root, self.templates_dir)
        except OutputError as exc:
            self.observer.note(str(exc))

    def _shutdown(self, status: str) -> None:
        if self.engine is not None:
            with contextlib.suppress(Exception):
                self.engine.close()
        for run_id, act in list(self.active.items()):
            if act.staging is not None:
                shutil.rmtree(act.staging, ignore_errors=True)
            with contextlib.suppress(PodtoolsError):
                self.catalog.interrupt_run(run_id, act.row.id, f"batch {status}")
        self.active.clear()
        with contextlib.suppress(PodtoolsError):
            if self.batch_id is not None:
                self.catalog.end_batch(self.batch_id, len(self.summary.done), len(self.summary.failed),
                                       self.summary.skipped_done + self.summary.skipped_failed, status)
            self._write_index(force=True)
        staging = self.root / STAGING_DIR
        with contextlib.suppress(OSError):
            staging.rmdir()  # only when empty


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read_marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _load_episode(folder: Path):
    return Episode.load(folder / "episode.json")
