"""Speaker embeddings of sliding windows of speech, with any encoder of :mod:`.encoders`.

Features are computed once per speech region and windows are slices of them, embedded a batch
at a time (or, with an encoder that has ``embed_stretches``, all the windows of a stretch of
speech in one pass of the network), so memory stays flat on long episodes (only the (n, dim)
float32 embeddings grow).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .encoders import SAMPLE_RATE, Encoder

log = logging.getLogger("podtools.diarize")

MIN_FEATURE_SAMPLES = 400  # one 25 ms analysis window
STRETCH_POOL_FRAMES = 30_000  # features (5 minutes of speech) gathered before their windows are embedded


@dataclass
class Windows:
    """Embedded windows: ``starts``/``ends`` in seconds, ``embeddings`` (n, dim) L2-normed float32."""

    starts: np.ndarray
    ends: np.ndarray
    embeddings: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def embed_windows(
    audio: np.ndarray,
    regions: list[tuple[float, float]],
    encoder: Encoder,
    window: float = 1.5,
    step: float = 0.5,
    min_window: float = 0.5,
    batch_size: int = 16,
) -> Windows:
    """Embed windows of ``window`` seconds every ``step`` seconds inside each speech region
    (16 kHz mono ``audio``; regions in seconds).

    A region shorter than ``window`` (but at least ``min_window``) gets one window covering it;
    the last window of a region is aligned to its end so no speech is left out.
    """
    fps = encoder.frames_per_second
    win_f = int(round(window * fps))
    step_f = max(1, int(round(step * fps)))
    min_f = int(round(min_window * fps))
    items: list[tuple[float, float]] = []
    embeddings: list[np.ndarray] = []
    pending: list[np.ndarray] = []  # full windows waiting for a batch
    short: dict[int, list[tuple[int, np.ndarray]]] = {}  # frames -> (item index, features) of short regions

    def flush() -> None:
        if pending:  # full batches, the bulk of the work, share one shape: a traced graph serves them
            embeddings.append(encoder.embed(np.stack(pending), graph=len(pending) == batch_size))
            pending.clear()

    short_items: list[int] = []
    # an encoder that can embed every window of a stretch of speech in one pass (CAM++) does;
    # stretches wait in a pool (a few minutes of speech) so that those of similar length share a batch
    by_region = hasattr(encoder, "embed_stretches")
    stretches: list[tuple[np.ndarray, list[int], int]] = []  # (features, window offsets, first item)
    stretch_frames = 0
    by_item: dict[int, np.ndarray] = {}

    def flush_stretches() -> None:
        nonlocal stretch_frames
        if stretches:
            embs = encoder.embed_stretches([(f, o) for f, o, _ in stretches], win_f)
            for (_, _, first), e in zip(stretches, embs, strict=True):
                for k, row in enumerate(e):
                    by_item[first + k] = row
            stretches.clear()
            stretch_frames = 0
    for start, end in regions:
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        if b - a < MIN_FEATURE_SAMPLES:
            continue
        feats = encoder.features(audio[a:b])
        n = len(feats)
        if n < min_f:
            continue
        if n <= win_f and by_region:
            stretches.append((feats, [0], len(items)))
            items.append((start, start + n / fps))
            stretch_frames += n
            continue
        if n <= win_f:
            short.setdefault(n, []).append((len(items), feats))
            short_items.append(len(items))
            items.append((start, start + n / fps))
            continue
        offsets = list(range(0, n - win_f + 1, step_f))
        if offsets[-1] + win_f < n:
            offsets.append(n - win_f)
        for o in offsets:
            items.append((start + o / fps, start + (o + win_f) / fps))
        if by_region:
            first = len(items) - len(offsets)
            for feats_part, offs in encoder.stretches(feats, offsets, win_f):
                stretches.append((feats_part, offs, first))
                first += len(offs)
                stretch_frames += len(feats_part)
            if stretch_frames >= STRETCH_POOL_FRAMES:
                flush_stretches()
            continue
        for o in offsets:
            pending.append(feats[o : o + win_f])
            if len(pending) >= batch_size:
                flush()
    flush()
    flush_stretches()
    out = np.zeros((len(items), encoder.dim), np.float32)
    is_short = np.zeros(len(items), bool)
    is_short[short_items] = True
    if embeddings:
        out[~is_short] = np.concatenate(embeddings)
    for i, row in by_item.items():
        out[i] = row
    for group in short.values():  # short regions: those of one length run as one batch
        for b in range(0, len(group), batch_size):
            part = group[b : b + batch_size]
            for (i, _), e in zip(part, encoder.embed(np.stack([f for _, f in part])), strict=True):
                out[i] = e
    starts = np.array([s for s, _ in items], np.float64)
    ends = np.array([e for _, e in items], np.float64)
    order = np.argsort(starts, kind="stable")
    return Windows(starts[order], ends[order], out[order])
