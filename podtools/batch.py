"""Batch stage: a show's back catalogue -> one output folder per episode + a catalogue.

``run_batch(["https://example.com/feed.xml"], "catalogue")`` reads the sources (RSS/Atom feeds,
folders, globs, list files), records every episode in ``catalogue/catalog.db``, and runs
:func:`podtools.pipeline.ingest` on each episode that is not finished yet, on a pool of worker
processes (or Ray actors) that each load their models once.

Guarantees, whatever happens to the process:

* every episode is processed and indexed exactly once: a finished episode is skipped by the
  next run, a failed one is recorded with its error (and retried with ``retry_failed``), an
  interrupted one is picked up again;
* no output file is ever half-written: an episode is written into ``.staging/`` and its folder
  is renamed into ``episodes/`` only when complete, then indexed in one transaction; a folder
  that was renamed but not yet indexed when the process died is adopted by the next run.

Layout of the output folder::

    catalog.db            SQLite catalogue (search, trends, status)
    index.html            links to every finished episode page
    episodes/<date>-<title-slug>-<hash>/   what `podtools ingest` writes, + .podtools-batch.json
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import glob as globmod
import hashlib
import io
import json
import logging
import os
import re
import shutil
import time
import unicodedata
import urllib.parse
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Optional, Protocol, Sequence

from pydantic import BaseModel, ConfigDict, Field

from .batch_worker import Task
from .catalog import CATALOG_NAME, Catalog, EpisodeRow, NewEpisode
from .errors import ConfigError, DeviceError, InputError, ModelError, OutputError, PodtoolsError

log = logging.getLogger("podtools.batch")

AUDIO_EXTENSIONS = frozenset(
    "mp3 m4a m4b aac wav flac ogg oga opus wma aif aiff amr mp4 m4v mov mkv webm avi".split()
)
# Transcripts a folder contributes by itself; a glob or list may name any file `ingest` reads.
TRANSCRIPT_EXTENSIONS = frozenset("srt vtt".split())
FEED_EXTENSIONS = frozenset("xml rss atom".split())
MAX_FEED_BYTES = 50 * 1024**2
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


def _uid(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


# -- feeds ------------------------------------------------------------------------------------


def check_xml(data: bytes, origin: str) -> None:
    """Refuse XML that declares entities (billion laughs, external entities) or is not
    well-formed, before feedparser sees it. Raises :class:`InputError`."""
    from xml.etree.ElementTree import ParseError

    import defusedxml
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


def _pick_enclosure(entry) -> dict | None:
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
    import feedparser

    check_xml(data, origin)
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise InputError("not an RSS or Atom feed (no channel or feed element found)", origin)
    channel = parsed.feed.get("link") or parsed.feed.get("title") or origin
    out = Collected()
    no_enclosure = 0
    raw: list[tuple[str, str, Any, dict]] = []
    for entry in parsed.entries:
        enc = _pick_enclosure(entry)
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
            uid = _uid("feed", channel, guid, href)
            if href == min(by_guid[guid]):
                out.warnings.append(
                    f"{origin}: {len(by_guid[guid])} entries share GUID {guid!r} with different enclosures; "
                    "each is processed as its own episode")
        else:
            uid = _uid("feed", channel, guid)
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
    import html

    if not html_text or not re.search(r"\d:\d\d", html_text):
        return None
    text = re.sub(r"(?i)<\s*(br|/p|/li|/div|/h\d)\b[^>]*>", "\n", html_text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    try:
        from .chapters import parse_chapter_list

        found = parse_chapter_list(text)
    except (PodtoolsError, ImportError, ValueError):
        return None  # a description is not a promise of a valid chapter list
    if len(found) < 2:
        return None
    return text.strip() + "\n"  # a newline: never read as a file name by load_chapters


# -- local files ------------------------------------------------------------------------------


HashLookup = Callable[[Path], str]


def _file_item(path: Path, source: str, hasher: HashLookup) -> Item:
    path = path.resolve()
    digest = hasher(path)
    tagged = _tag_date(path)
    # without a date tag the file's time orders the episodes, but is not written into episode.json
    published = tagged or dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    return Item(uid=f"sha256:{digest}", location=str(path), source=source, title=path.stem,
                published=published, content_hash=digest, date_guessed=tagged is None)


def _tag_date(path: Path) -> dt.datetime | None:
    """Recording/release date from the file's tags (ID3 TDRC, MP4 ©day ...), if any."""
    try:
        import mutagen

        f = mutagen.File(str(path), easy=True)
    except Exception:  # unreadable tags are not an error here; decode reports bad files
        return None
    if not f or not f.tags:
        return None
    for key in ("date", "originaldate"):
        values = f.tags.get(key) if hasattr(f.tags, "get") else None
        if values:
            text = str(values[0]).strip()
            for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m", "%Y"):
                try:
                    return dt.datetime.strptime(text[: len(dt.datetime(2000, 1, 1).strftime(fmt))], fmt).replace(
                        tzinfo=dt.timezone.utc)
                except ValueError:
                    continue
    return None


def _ext(path: str | Path) -> str:
    return Path(str(path)).suffix.lower().lstrip(".")


def _folder_files(folder: Path) -> list[Path]:
    files = [p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    audio_stems = {p.with_suffix("") for p in files if _ext(p) in AUDIO_EXTENSIONS}
    out = []
    for p in files:
        ext = _ext(p)
        if ext in AUDIO_EXTENSIONS:
            out.append(p)
        elif ext in TRANSCRIPT_EXTENSIONS and p.with_suffix("") not in audio_stems:
            out.append(p)  # a transcript with no audio of the same name is an episode itself
    return sorted(out)


def _looks_like_feed(path: Path) -> bool:
    if _ext(path) in FEED_EXTENSIONS:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head.startswith(b"<")


def collect_sources(
    sources: Sequence[str],
    hasher: HashLookup | None = None,
    feed_timeout: float = 60.0,
    allow_private: bool = False,
) -> Collected:
    """Read every SOURCE: feed URL or file, folder, glob, list file, or a single episode.

    Items named twice (the same uid) are kept once. Raises :class:`InputError` for a source
    that cannot be read at all (missing, not a feed, malformed XML ...).
    """
    from .fsutil import sha256_file

    hasher = hasher or (lambda p: sha256_file(p))
    out = Collected()
    for source in sources:
        _collect_one(str(source), out, hasher, feed_timeout, depth=0, base=None, allow_private=allow_private)
    unique: dict[str, Item] = {}
    for it in out.items:
        if it.uid in unique:
            if unique[it.uid].location != it.location:
                out.warnings.append(f"{it.location}: same episode as {unique[it.uid].location}; processed once")
            continue
        unique[it.uid] = it
    out.items = list(unique.values())
    return out


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


def _collect_one(source: str, out: Collected, hasher: HashLookup, timeout: float, depth: int,
                 base: Path | None, allow_private: bool = False) -> None:
    from .download import read_url

    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        if _ext(urllib.parse.urlsplit(source).path) in AUDIO_EXTENSIONS | TRANSCRIPT_EXTENSIONS:
            name = Path(urllib.parse.unquote(urllib.parse.urlsplit(source).path)).stem
            out.items.append(Item(uid=_uid("url", source), location=source, source=source, title=name or source))
            return
        data, final = read_url(source, MAX_FEED_BYTES, timeout, allow_private=allow_private)
        got = parse_feed(data, source, final)
        out.items += got.items
        out.warnings += got.warnings
        return
    if len(scheme) > 1:  # not a Windows drive letter
        raise InputError(f"a {scheme}: URL; only http and https URLs can be read", source)
    path = Path(source).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    if path.is_dir():
        files = _folder_files(path)
        if not files:
            raise InputError("folder has no audio files (" + ", ".join(sorted(AUDIO_EXTENSIONS)[:6]) + " ...)", path)
        out.items += [_file_item(p, str(path), hasher) for p in files]
        return
    if not path.exists() and globmod.has_magic(str(path)):
        files = sorted(Path(p) for p in globmod.glob(str(path), recursive=True) if Path(p).is_file())
        if not files:
            raise InputError("no files match this pattern", source)
        out.items += [_file_item(p, source, hasher) for p in files]
        return
    if not path.exists():
        raise InputError("not found (expected a feed URL or file, a folder, a glob or a list file)", path)
    if _ext(path) in AUDIO_EXTENSIONS | TRANSCRIPT_EXTENSIONS:
        out.items.append(_file_item(path, str(path), hasher))
        return
    if _looks_like_feed(path):
        got = parse_feed(read_feed_file(path), str(path))
        out.items += got.items
        out.warnings += got.warnings
        return
    if depth >= MAX_LIST_DEPTH:
        raise InputError("list files nested too deeply", path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError("not a feed, an audio file or a UTF-8 list of paths/URLs", path) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path) from None
    entries = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    if not entries:
        raise InputError("list file names no episodes", path)
    for n, line in enumerate(entries, 1):
        try:
            _collect_one(line, out, hasher, timeout, depth + 1, path.parent, allow_private)
        except InputError as exc:
            raise InputError(f"line {n}: {exc}", path) from None


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


# -- engines' interface ----------------------------------------------------------------------


class Events(Protocol):
    """What workers report; engines call these from the batch's main thread (in ``poll``)."""

    def stage(self, run_id: int, name: str, total: float | None) -> None: ...
    def advance(self, run_id: int, done: float) -> None: ...
    def note(self, run_id: int, message: str) -> None: ...
    def done(self, run_id: int, stage_seconds: dict[str, float]) -> None: ...
    def failed(self, run_id: int, kind: str, message: str, stage: str | None) -> None: ...


class Engine(Protocol):
    name: str

    def start(self) -> None: ...
    def free(self) -> int: ...
    def submit(self, task: Task) -> None: ...
    def poll(self, events: Events, timeout: float) -> None: ...
    def close(self) -> None: ...


class BatchOptions(BaseModel):
    """How a batch runs (not what it selects)."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(1, ge=1, le=256, description="worker processes (or Ray actors)")
    engine: Literal["local", "ray"] = "local"
    ray_address: Optional[str] = Field(None, description="Ray cluster address; none: start a local Ray")
    ray_temp_dir: Optional[str] = None
    retry_failed: bool = False
    max_bytes: Optional[int] = Field(2 * 1024**3, ge=1, description="enclosure size limit (bytes)")
    download_timeout: float = Field(60.0, gt=0, description="seconds without data before a download resumes")
    download_retries: int = Field(3, ge=0)
    prefetch: int = Field(2, ge=0, description="downloads kept ready ahead of the workers")
    use_cache: bool = Field(True, description="reuse cached stage results (same audio and settings)")
    allow_private: bool = Field(False, description="feeds and enclosures may be on private/loopback addresses")


# -- observer (progress) ---------------------------------------------------------------------


class BatchObserver(Protocol):
    def planned(self, todo: int, skipped: int) -> None: ...
    def episode_started(self, uid: str, title: str) -> None: ...
    def stage(self, uid: str, name: str, total: float | None) -> None: ...
    def advance(self, uid: str, done: float) -> None: ...
    def episode_finished(self, uid: str, status: str, error: str | None) -> None: ...
    def note(self, message: str) -> None: ...


class NullObserver:
    def planned(self, todo: int, skipped: int) -> None:
        log.info("%d episodes to process, %d skipped", todo, skipped)

    def episode_started(self, uid: str, title: str) -> None:
        log.info("start %s", title)

    def stage(self, uid: str, name: str, total: float | None) -> None:
        pass

    def advance(self, uid: str, done: float) -> None:
        pass

    def episode_finished(self, uid: str, status: str, error: str | None) -> None:
        log.info("%s %s %s", uid[:12], status, error or "")

    def note(self, message: str) -> None:
        log.warning(message)


@dataclass
class BatchSummary:
    root: Path
    done: list[str] = field(default_factory=list)  # titles
    failed: list[tuple[str, str]] = field(default_factory=list)  # (title, error)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (title, original title)
    skipped_done: int = 0
    skipped_failed: int = 0
    skipped_selection: int = 0
    adopted: int = 0  # finished by an interrupted run, indexed by this one
    planned: list[str] = field(default_factory=list)  # dry run: titles that would be processed
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["root"] = str(self.root)
        d["failed"] = [{"title": t, "error": e} for t, e in self.failed]
        d["duplicates"] = [{"title": t, "original": o} for t, o in self.duplicates]
        return d


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
    from .fsutil import ensure_writable_dir

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
    from .fsutil import sha256_file

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
            from .batch_engines import RayEngine

            return RayEngine(config, self.templates_dir, self.options.workers, self.options.ray_address,
                             self.options.ray_temp_dir)
        from .batch_engines import LocalEngine

        return LocalEngine(config, self.templates_dir, self.options.workers)

    def _config(self):
        if self.config is None:
            from .config import load_pipeline

            self.config = load_pipeline("default")
        return self.config

    def _process(self, todo: list[tuple[EpisodeRow, Item]]) -> None:
        from .download import fetch

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
        from .fsutil import sha256_file

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
        from .fsutil import atomic_write_text

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
        from .catalog import write_index

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
    from .models import Episode

    return Episode.load(folder / "episode.json")


def parse_settings(pairs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["diarize.enabled=false", "transcribe.beam_size=1"]`` -> pipeline overrides.

    Values are read as TOML values (``true``, ``3``, ``0.5``, ``["a", "b"]``), else as text.
    """
    import tomllib

    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not section or not name:
            raise ConfigError(f"--set {pair!r}: expected SECTION.KEY=VALUE, e.g. diarize.enabled=false")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out.setdefault(section, {})[name] = value
    return out
