"""Decode stage: any audio or video file ffmpeg can read -> 16 kHz mono float32 (PyAV).

``probe`` reads container headers only; ``decode`` reads the whole stream. Both turn every
way a file can be unusable into one :class:`~podtools.errors.InputError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .timefmt import parse_tag_date

log = logging.getLogger("podtools.audio")

SAMPLE_RATE = 16_000
# A file whose decodable audio is shorter than this share of the duration its header
# declares has been cut off (interrupted download or copy).
TRUNCATION_TOLERANCE = 0.95


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    duration: float  # seconds, from the container header (estimated for raw streams)
    sample_rate: int
    channels: int
    codec: str
    title: str | None = None
    recorded: dt.datetime | None = None  # the date tag (ID3 TDRC, MP4 \u00a9day), if any


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", path)
    if path.is_dir():
        raise InputError("is a directory, expected an audio or video file", path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path) from None
    if size == 0:
        raise InputError("file is empty (0 bytes)", path)


def _open(path: Path):
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError:
        raise InputError("not an audio or video file that ffmpeg can read", path) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path) from None
    if not container.streams.audio:
        container.close()
        raise InputError("has no audio stream", path)
    return container


def probe(path: str | Path) -> AudioInfo:
    """Read duration (seconds), sample rate, channels and codec from the headers, no decoding."""
    path = Path(path)
    _check_file(path)
    container = _open(path)
    try:
        stream = container.streams.audio[0]
        # the audio stream's own duration first: a video's container duration covers the
        # video track too
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000  # av.time_base is microseconds
        else:
            duration = math.nan
        meta = {k.lower(): v for k, v in (container.metadata or {}).items()}
        return AudioInfo(
            path=path,
            duration=duration,
            sample_rate=stream.codec_context.sample_rate or 0,
            channels=stream.codec_context.channels or 0,
            codec=stream.codec_context.name or "unknown",
            title=meta.get("title") or None,
            recorded=parse_tag_date(meta.get("date") or "", year_alone=False),
        )
    finally:
        container.close()


def decode(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode the first audio stream to mono float32 in [-1, 1] at ``sample_rate`` Hz.

    The samples are written into one array sized from the header's duration as they are decoded
    (grown if the header said less), so a long episode is held once: 3 hours are 0.7 GB, not the
    2-3 times that collecting the frames and joining them costs (benchmarks/memory.py).
    """
    import av

    path = Path(path)
    info = probe(path)
    container = _open(path)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    buf = _Buffer(info.duration, sample_rate)
    error: str | None = None
    try:
        stream = container.streams.audio[0]
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler keep its own clock
                for out in resampler.resample(frame):
                    buf.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                buf.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            error = str(exc)
    finally:
        container.close()
    audio = buf.finish()
    decoded = len(audio) / sample_rate
    if error and not decoded:
        raise InputError(f"cannot decode audio ({error})", path)
    if not decoded:
        raise InputError("contains no decodable audio", path)
    declared = info.duration
    if error or (math.isfinite(declared) and declared > 1.0 and decoded < declared * TRUNCATION_TOLERANCE):
        raise InputError(
            f"file is truncated or damaged: header declares {declared:.1f} s, "
            f"only {decoded:.1f} s could be decoded",
            path,
        )
    return audio


# what the first allocation may cover: a header declaring days (damaged, or hostile) costs
# nothing until samples arrive, and the array grows past this when they do
_MAX_FIRST_SECONDS = 6 * 3600.0


class _Buffer:
    """A float32 array filled in place: capacity from the declared duration (pages that are never
    written take no memory), grown by half when the header said less, trimmed in place at the end."""

    def __init__(self, declared: float, sample_rate: int):
        seconds = declared * 1.02 + 1.0 if math.isfinite(declared) and declared > 0 else 600.0
        self.data = np.empty(int(min(seconds, _MAX_FIRST_SECONDS) * sample_rate), np.float32)
        self.n = 0

    def append(self, samples: np.ndarray) -> None:
        end = self.n + len(samples)
        if end > len(self.data):
            grown = np.empty(max(end, len(self.data) * 3 // 2), np.float32)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : end] = samples
        self.n = end

    def finish(self) -> np.ndarray:
        data, self.data = self.data, np.zeros(0, np.float32)
        if self.n < len(data):
            data.resize(self.n, refcheck=False)  # realloc: shrinks in place, nothing else refers to it
        return data
