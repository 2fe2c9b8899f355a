"""Chapter outputs: the Podcasting 2.0 ``chapters.json``, ``youtube_chapters.txt`` (YouTube's
rules applied) and ID3 CHAP/CTOC frames written into a copy of an MP3."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from ..errors import ConfigError, InputError
from ..fsutil import atomic_open
from ..models import Episode
from ..textsafe import one_line, plain_text
from ..timefmt import hms
from .sources import YOUTUBE_MIN_CHAPTER, YOUTUBE_MIN_COUNT

log = logging.getLogger("podtools.chapters")


# -- outputs --------------------------------------------------------------------------------------


def to_podcasting2_json(episode: Episode) -> str:
    """Podcasting 2.0 JSON chapters (version 1.2.0): ascending ``startTime``, ``title``, ``endTime``."""
    doc: dict = {"version": "1.2.0"}
    if episode.title:
        doc["title"] = episode.title
    doc["chapters"] = [{"startTime": round(c.start, 3), "title": c.title, "endTime": round(c.end, 3)}
                       for c in sorted(episode.chapters, key=lambda c: c.start)]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def youtube_chapters(episode: Episode) -> tuple[list[tuple[float, str]], list[str]]:
    """(start, title) pairs that obey YouTube's rules, and a note for each adjustment made.

    Rules: the first chapter at 0:00, every chapter at least 10 s, at least three chapters (not
    fixable without inventing chapters: noted only).
    """
    notes: list[str] = []
    items = [(c.start, c.title) for c in sorted(episode.chapters, key=lambda c: c.start)]
    if not items:
        return [], []
    end = max(episode.duration, items[-1][0])
    if items[0][0] > 0:
        notes.append(f"first chapter '{items[0][1]}' moved from {hms(items[0][0], False)} to 0:00 (YouTube rule)")
        items[0] = (0.0, items[0][1])
    while True:
        lengths = [(b[0] if b else end) - a[0] for a, b in zip(items, items[1:] + [None])]
        short = next((i for i, n in enumerate(lengths) if n < YOUTUBE_MIN_CHAPTER), None)
        if short is None or len(items) == 1:
            break
        if short == 0:
            notes.append(f"chapter '{items[0][1]}' is shorter than 10 s; merged into '{items[1][1]}' at 0:00")
            items = [(0.0, items[1][1])] + items[2:]
        else:
            notes.append(f"chapter '{items[short][1]}' at {hms(items[short][0], False)} is shorter than 10 s; "
                         f"merged into the chapter before it")
            del items[short]
    if len(items) < YOUTUBE_MIN_COUNT:
        notes.append(f"only {len(items)} chapter{'s' if len(items) != 1 else ''}; YouTube shows chapters "
                     f"only when there are at least {YOUTUBE_MIN_COUNT}")
    return items, notes


def to_youtube(episode: Episode) -> str:
    """``0:00 Title`` lines for a YouTube description."""
    items, _ = youtube_chapters(episode)
    long = episode.duration >= 3600
    # titles are untrusted text: one line each (a newline would make a chapter of its own), no HTML
    return "".join(f"{hms(t, always_hours=long)} {' '.join(one_line(plain_text(title)).split())}\n"
                   for t, title in items)


def check_id3_source(src: str | Path | None) -> Path:
    """The MP3 that ``--write-id3`` copies; anything else is an error before any work is done."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    if src is None:
        raise ConfigError("--write-id3 needs the episode's MP3; give it with --audio FILE")
    src = Path(src)
    if not src.is_file():
        raise InputError("file not found", src)
    try:
        MP3(src)
    except MutagenError:  # HeaderNotFoundError and friends
        raise InputError("--write-id3 needs an MP3 file; this is not one", src) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", src) from None
    return src


def write_id3(src: str | Path, dst: str | Path, episode: Episode) -> Path:
    """Copy the MP3 ``src`` to ``dst`` with ID3v2.3 CHAP frames (times in ms) and a top-level,
    ordered CTOC. Existing tags are kept; existing chapters are replaced. Written atomically."""
    from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags, Encoding, ID3NoHeaderError

    src, dst = check_id3_source(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise ConfigError("--write-id3 writes a copy; the output would overwrite the source", dst)
    chapters = sorted(episode.chapters, key=lambda c: c.start)
    with atomic_open(dst, "w+b") as fh:
        with open(src, "rb") as inp:
            shutil.copyfileobj(inp, fh)
        fh.flush()
        fh.seek(0)
        try:
            tags = ID3(fh)
        except ID3NoHeaderError:
            tags = ID3()
        tags.delall("CHAP")
        tags.delall("CTOC")
        # mutagen writes frames ordered by size, then id, and ffmpeg lists CHAP frames in file order:
        # equal-sized frames (UTF-16 titles, element ids padded to match) with ids in time order
        # come out in time order
        units = [len(c.title.encode("utf-16-le")) for c in chapters]
        ids = [f"chp{i:03d}" + "_" * (max(units) - u) for i, u in enumerate(units)]
        if chapters:
            tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                          child_element_ids=ids, sub_frames=[TIT2(text=["Chapters"])]))
        for eid, c in zip(ids, chapters):
            tags.add(CHAP(element_id=eid, start_time=int(round(c.start * 1000)), end_time=int(round(c.end * 1000)),
                          start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF,
                          sub_frames=[TIT2(encoding=Encoding.UTF16, text=[c.title])]))
        fh.seek(0)
        tags.save(fh, v2_version=3)
    return dst
