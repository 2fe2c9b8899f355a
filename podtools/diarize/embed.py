"""Speaker embeddings: Resemblyzer's GE2E voice encoder over sliding windows of speech.

The weights are the ``pretrained.pt`` shipped inside the Resemblyzer wheel (no download). The
network (3-layer LSTM over 40-band mel frames, linear + ReLU, L2 norm) is rebuilt here rather
than imported from ``resemblyzer`` because:

- ``import resemblyzer`` imports ``webrtcvad``, which imports ``pkg_resources``; setuptools 81
  removed it and fresh Python 3.12 venvs have no setuptools at all, so the import fails there;
- Resemblyzer embeds one utterance per call; diarization needs thousands of windows, which run
  here as a few large batches.

The mel front end is the same ``librosa`` call Resemblyzer makes, and
``tests/test_diarize.py`` checks that embeddings match ``resemblyzer.VoiceEncoder`` exactly.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError

log = logging.getLogger("podtools.diarize")

SAMPLE_RATE = 16_000
# Resemblyzer hparams (resemblyzer/hparams.py)
MEL_WINDOW = 400  # 25 ms
MEL_HOP = 160  # 10 ms -> 100 frames per second
MEL_BANDS = 40
HIDDEN = 256
LAYERS = 3
EMBEDDING = 256
TARGET_DBFS = -30.0
FRAMES_PER_SECOND = SAMPLE_RATE // MEL_HOP


def weights_path() -> Path:
    """``pretrained.pt`` inside the installed Resemblyzer wheel, found without importing it."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the embedded diarization backend needs the Resemblyzer package "
            "(pip install Resemblyzer), or use --diarize-backend pyannote"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    if not path.is_file():
        raise ModelError("Resemblyzer's voice encoder weights are missing", path)
    return path


_MODEL = None
_MODEL_LOCK = threading.Lock()


def _build(device: str):
    import torch
    from torch import nn

    class VoiceEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(MEL_BANDS, HIDDEN, LAYERS, batch_first=True)
            self.linear = nn.Linear(HIDDEN, EMBEDDING)
            self.relu = nn.ReLU()

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = self.relu(self.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)

    model = VoiceEncoder()
    path = weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
    except Exception as exc:  # a damaged wheel
        raise ModelError(f"cannot load Resemblyzer's voice encoder ({type(exc).__name__}: {exc})", path) from None
    # the checkpoint also holds the GE2E loss's similarity_weight/bias, not part of the encoder
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity_")})
    return model.eval().to(device)


def load_encoder(device: str = "cpu"):
    """The voice encoder (cached per process; loading takes ~50 ms)."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None or str(next(_MODEL.parameters()).device) != device:
            _MODEL = _build(device)
        return _MODEL


def normalize_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Raise the level of ``wav`` to ``target_dbfs`` (never lower it), as Resemblyzer does."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0
    if rms <= 1e-9:
        return wav
    change = target_dbfs - 20 * np.log10(rms)
    return wav if change < 0 else (wav * 10 ** (change / 20)).astype(np.float32)


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(n_frames, 40) power mel spectrogram, 10 ms hop, as Resemblyzer computes it."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=wav.astype(np.float32, copy=False), sr=SAMPLE_RATE, n_fft=MEL_WINDOW, hop_length=MEL_HOP, n_mels=MEL_BANDS
    )
    return mel.astype(np.float32).T


@dataclass
class Windows:
    """Embedded windows: ``starts``/``ends`` in seconds, ``embeddings`` (n, 256) L2-normed."""

    starts: np.ndarray
    ends: np.ndarray
    embeddings: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def embed_windows(
    audio: np.ndarray,
    regions: list[tuple[float, float]],
    window: float = 1.5,
    step: float = 0.5,
    min_window: float = 0.5,
    device: str = "cpu",
    batch_size: int = 256,
) -> Windows:
    """Embed sliding windows of ``window`` seconds every ``step`` seconds inside each speech region.

    A region shorter than ``window`` (but at least ``min_window``) gets one window covering it;
    the last window of a region is aligned to its end so no speech is left out. Each region is
    volume-normalized on its own, like one Resemblyzer utterance.
    """
    import torch

    win_f = int(round(window * FRAMES_PER_SECOND))
    step_f = max(1, int(round(step * FRAMES_PER_SECOND)))
    min_f = int(round(min_window * FRAMES_PER_SECOND))
    model = load_encoder(device)
    items: list[tuple[float, float]] = []
    embeddings: list[np.ndarray] = []
    pending: list[np.ndarray] = []  # full windows waiting for a batch: memory stays flat on long episodes
    short: dict[int, list[tuple[int, np.ndarray]]] = {}  # frames -> (item index, mel) of short regions

    def run(mels: list[np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.stack(mels)).to(device)).cpu().numpy()

    def flush() -> None:
        if pending:
            embeddings.append(run(pending))
            pending.clear()

    short_items: list[int] = []
    for start, end in regions:
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        wav = normalize_volume(audio[a:b])
        if len(wav) < MEL_WINDOW:
            continue
        mel = mel_frames(wav)
        n = len(mel)
        if n < min_f:
            continue
        if n <= win_f:
            short.setdefault(n, []).append((len(items), mel))
            short_items.append(len(items))
            items.append((start, start + n / FRAMES_PER_SECOND))
            continue
        offsets = list(range(0, n - win_f + 1, step_f))
        if offsets[-1] + win_f < n:
            offsets.append(n - win_f)
        for o in offsets:
            items.append((start + o / FRAMES_PER_SECOND, start + (o + win_f) / FRAMES_PER_SECOND))
            pending.append(mel[o : o + win_f])
            if len(pending) >= batch_size:
                flush()
    flush()
    out = np.zeros((len(items), EMBEDDING), np.float32)
    is_short = np.zeros(len(items), bool)
    is_short[short_items] = True
    if embeddings:
        out[~is_short] = np.concatenate(embeddings)
    for group in short.values():  # short regions: those of one length run as one batch
        for (i, _), e in zip(group, run([m for _, m in group]), strict=True):
            out[i] = e
    starts = np.array([s for s, _ in items], np.float64)
    ends = np.array([e for _, e in items], np.float64)
    order = np.argsort(starts, kind="stable")
    return Windows(starts[order], ends[order], out[order])
