"""Decode stage: any audio or video file ffmpeg can read -> 16 kHz mono float32 (PyAV).

``probe`` reads container headers only; ``decode`` reads the whole stream. Both turn every
way a file can be unusable into one :class:`~podtools.errors.InputError` naming the file.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError

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
        )
    finally:
        container.close()


def decode(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode the first audio stream to mono float32 in [-1, 1] at ``sample_rate`` Hz."""
    import av

    path = Path(path)
    info = probe(path)
    container = _open(path)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    chunks: list[np.ndarray] = []
    error: str | None = None
    try:
        stream = container.streams.audio[0]
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler keep its own clock
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            error = str(exc)
    finally:
        container.close()
    audio = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
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
