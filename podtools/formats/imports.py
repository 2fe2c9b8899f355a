"""Transcript import: which format a file is (by extension, then by content), and its Episode.

``detect_format(path)`` answers None for anything that is not a transcript (audio, video,
binary data), so ``ingest`` sends those to decoding and ASR. ``import_transcript`` parses a
transcript into an Episode with speakers, segments (end times inferred from the next start)
and the chapters its headings give (``source="transcript"``).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import __version__
from ..errors import InputError
from ..fsutil import sha256_file
from ..models import Episode, StageRun
from .cues import looks_like_cues, parse_cues
from .jsontranscript import parse_json
from .markdown import parse_stamped
from .pieces import build_episode
from .text import STAMP_LIKE, Warn, decode_text, default_warn, read_text

log = logging.getLogger("podtools.formats")

EXTENSIONS = {".srt": "srt", ".vtt": "vtt", ".webvtt": "vtt", ".json": "json", ".md": "markdown",
              ".markdown": "markdown", ".txt": "text"}
FORMATS = ("srt", "vtt", "json", "markdown", "text")
SNIFF_BYTES = 1 << 16
_MD_SIGNS = re.compile(rf"^(?:#{{1,6}}\s|\s*\[{STAMP_LIKE}\]\s*(?:\*\*|__)|(?:\*\*|__)[^*\n]{{1,60}}:(?:\*\*|__))", re.M)
_TEXT_STAMP = re.compile(rf"^\s*[\[(]?{STAMP_LIKE}[\])]?(?:\s|$)", re.M)


def sniff(text: str) -> Optional[str]:
    """The transcript format a text's content looks like, or None."""
    cues = looks_like_cues(text)
    if cues:
        return cues
    if re.match(r"\s*(?:\{|\[\s*[\[{\"\]])", text):
        return "json"
    if _MD_SIGNS.search(text):
        return "markdown"
    if _TEXT_STAMP.search(text):
        return "text"
    return None


def detect_format(path: str | Path) -> Optional[str]:
    """'srt', 'vtt', 'json', 'markdown' or 'text' for a transcript file, None for anything else.

    A transcript extension decides (a ``.txt`` or ``.md`` holding SRT/WebVTT cues is read as
    such); any other file is a transcript only if its first 64 KiB are text that looks like one.
    """
    path = Path(path)
    ext = EXTENSIONS.get(path.suffix.lower())
    if ext in ("srt", "vtt", "json"):
        return ext
    if not path.is_file():
        return ext
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return ext
    if ext is None and (b"\x00" in head or not head.strip()):
        return None
    try:
        text = decode_text(head, path, warn=lambda _m: None)
    except InputError:
        return ext
    found = sniff(text)
    if ext is None:
        return found
    return found if found in ("srt", "vtt") else ext


@dataclass
class ImportedTranscript:
    episode: Episode
    format: str  # srt | vtt | podcasting2-json | whisper-json | episode-json | markdown | text


def import_transcript(path: str | Path, source: Optional[str] = None, audio: str | Path | None = None,
                      duration: Optional[float] = None, warn: Optional[Warn] = None,
                      fmt: Optional[str] = None) -> ImportedTranscript:
    """Parse a transcript file into an Episode (ASR skipped).

    ``audio`` (a path) and its ``duration`` (seconds) are those of the episode's audio when the
    user gave one: the episode id is then the audio's content hash, as for an ingested audio.
    """
    t0 = time.perf_counter()
    warn = warn or default_warn
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt is None:
        raise InputError("not a transcript this version can read (SRT, WebVTT, JSON, Markdown or text "
                         "with timestamps)", path)
    text = read_text(path, warn)
    if fmt in ("markdown", "text"):
        sniffed = sniff(text)
        if sniffed in ("srt", "vtt"):
            fmt = sniffed
    episode_id = sha256_file(audio) if audio else sha256_file(path)
    src = str(audio) if audio else (source or str(path))
    if fmt in ("srt", "vtt"):
        parsed = parse_cues(text, path, fmt, warn)
    elif fmt == "json":
        parsed = parse_json(text, path)
    else:
        parsed = parse_stamped(text, path, fmt, warn)
    if isinstance(parsed, Episode):  # podtools' own episode.json: taken as is
        fmt_name = "episode-json"
        episode = parsed.model_copy(update={"id": episode_id if audio else parsed.id,
                                            "source": src if audio else parsed.source,
                                            "duration": round(duration, 3) if duration else parsed.duration})
    else:
        fmt_name = parsed.format
        episode = build_episode(parsed, path, episode_id, src, duration, warn)
    if duration is not None and episode.segments and episode.segments[-1].start > duration + 1.0:
        warn(f"{path}: the transcript runs past the end of the audio ({episode.segments[-1].start:.0f} s "
             f"> {duration:.0f} s); is it the right audio file?")
    run = StageRun.timed(t0, model=None, version=__version__,
                         settings={"file": str(path), "format": fmt_name, "audio": str(audio) if audio else None})
    episode = episode.recorded("import", run)
    log.info("%s: imported %d segments (%s)", path, len(episode.segments), fmt_name)
    return ImportedTranscript(episode, fmt_name)
