"""Speech regions from Silero VAD (the ``silero-vad`` package ships its ONNX models).

The batched "sequence" ONNX model runs a whole block of 32 ms frames per call inside
GIL-releasing ONNX Runtime kernels (~300x real time on one CPU core), so it can run in a thread
beside ASR. ``import silero_vad`` calls ``torch.set_num_threads(1)`` for the whole process;
the previous setting is restored right after the import.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

log = logging.getLogger("podtools.diarize")

SAMPLE_RATE = 16_000
_MODEL = None
_LOCK = threading.Lock()


def import_silero_vad():
    """``import silero_vad`` without its side effect on torch's global thread count."""
    import torch

    threads = torch.get_num_threads()
    try:
        import silero_vad
    finally:
        torch.set_num_threads(threads)
    return silero_vad


def _model():
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            silero_vad = import_silero_vad()
            try:
                _MODEL = silero_vad.load_silero_vad(sequence=True)
            except TypeError:  # silero-vad < 6.2: the streaming ONNX model, one frame per call
                _MODEL = silero_vad.load_silero_vad(onnx=True)
        return _MODEL


def speech_regions(
    audio: np.ndarray,
    threshold: float = 0.5,
    min_speech: float = 0.25,
    min_silence: float = 0.1,
    pad: float = 0.03,
) -> list[tuple[float, float]]:
    """(start, end) seconds of speech in 16 kHz mono ``audio``, in order, not overlapping."""
    if len(audio) < 512:  # less than one 32 ms VAD frame
        return []
    silero_vad = import_silero_vad()
    model = _model()
    kwargs = dict(
        threshold=threshold,
        sampling_rate=SAMPLE_RATE,
        min_speech_duration_ms=int(min_speech * 1000),
        min_silence_duration_ms=int(min_silence * 1000),
        speech_pad_ms=int(pad * 1000),
    )
    if type(model).__name__ == "SileroVADSequence":
        stamps = silero_vad.get_speech_timestamps_sequence(audio, model, **kwargs)
    else:
        import torch

        model.reset_states()
        stamps = silero_vad.get_speech_timestamps(torch.from_numpy(audio), model, **kwargs)
    regions = [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]
    log.debug("VAD: %d speech regions, %.1f s of speech", len(regions), sum(e - s for s, e in regions))
    return regions
