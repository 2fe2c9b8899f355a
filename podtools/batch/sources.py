"""Every SOURCE a batch takes (feed URL or file, folder, glob, list file, one episode) ->
the :class:`Collected` items, each episode once. Feeds are parsed by :mod:`.feeds`.
"""

from __future__ import annotations

import datetime as dt
import glob as globmod
import urllib.parse
from pathlib import Path
from typing import Callable, Sequence

import mutagen

from ..download import read_url
from ..errors import InputError
from ..fsutil import sha256_file
from ..timefmt import parse_tag_date
from .feeds import MAX_FEED_BYTES, parse_feed, read_feed_file
from .items import AUDIO_EXTENSIONS, FEED_EXTENSIONS, MAX_LIST_DEPTH, TRANSCRIPT_EXTENSIONS, Collected, Item, item_uid

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
        f = mutagen.File(str(path), easy=True)
    except Exception:  # unreadable tags are not an error here; decode reports bad files
        return None
    if not f or not f.tags:
        return None
    for key in ("date", "originaldate"):
        values = f.tags.get(key) if hasattr(f.tags, "get") else None
        if values and (date := parse_tag_date(str(values[0]))) is not None:
            return date
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


def _collect_one(source: str, out: Collected, hasher: HashLookup, timeout: float, depth: int,
                 base: Path | None, allow_private: bool = False) -> None:

    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        if _ext(urllib.parse.urlsplit(source).path) in AUDIO_EXTENSIONS | TRANSCRIPT_EXTENSIONS:
            name = Path(urllib.parse.unquote(urllib.parse.urlsplit(source).path)).stem
            out.items.append(Item(uid=item_uid("url", source), location=source, source=source, title=name or source))
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
