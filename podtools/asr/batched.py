"""Batched decoding over an in-memory episode, one batch of audio at a time.

faster-whisper's BatchedInferencePipeline.transcribe holds several copies of the whole episode at
once: its VAD pads the audio and frames it with context (two copies: 1.4 GB for 3 hours), the VAD
chunks are joined into new arrays (most of a third), and the log-mel features of every chunk are
computed before the first batch, then stacked (twice 0.35 GB). batched_transcribe is the same
computation with only the chunk plan made up front: the audio and features of one batch at a time,
so memory stays flat in the episode's length (benchmarks/memory.py). tests/test_asr.py checks that
its segments are faster-whisper's own, word for word and time for time.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from faster_whisper import WhisperModel


VAD_FRAME = 512  # samples per Silero frame (faster_whisper.vad.SileroVADModel)
VAD_CONTEXT = 64  # samples of the previous frame given with each frame
VAD_BLOCK = 10_000  # frames per ONNX call, as SileroVADModel runs them (its LSTM state carries across)


def vad_probabilities(audio: np.ndarray) -> np.ndarray:
    """``faster_whisper.vad.get_vad_model()(np.pad(audio, ...))`` without the padded and framed
    copies of the whole audio: the same blocks, built one at a time."""
    from faster_whisper.vad import get_vad_model

    session = get_vad_model().session
    frames = len(audio) // VAD_FRAME + 1  # faster-whisper pads 1..512 zeros: a whole frame when none is needed
    h = np.zeros((1, 1, 128), np.float32)
    c = np.zeros((1, 1, 128), np.float32)
    previous = np.zeros(VAD_CONTEXT, np.float32)
    out = []
    for first in range(0, frames, VAD_BLOCK):
        n = min(VAD_BLOCK, frames - first)
        block = np.zeros((n, VAD_CONTEXT + VAD_FRAME), np.float32)  # rows: 64 samples of context, then a frame
        samples = audio[first * VAD_FRAME : (first + n) * VAD_FRAME]
        whole = len(samples) // VAD_FRAME
        block[:whole, VAD_CONTEXT:] = samples[: whole * VAD_FRAME].reshape(whole, VAD_FRAME)
        if whole < n:  # the last frame, partly padding
            block[whole, VAD_CONTEXT : VAD_CONTEXT + len(samples) - whole * VAD_FRAME] = samples[whole * VAD_FRAME :]
        if first + n == frames:
            block[-1, -VAD_CONTEXT:] = 0  # SileroVADModel zeroes the tail of the last frame (its context trick)
        block[0, :VAD_CONTEXT] = previous
        block[1:, :VAD_CONTEXT] = block[:-1, -VAD_CONTEXT:]
        previous = block[-1, -VAD_CONTEXT:].copy()
        probs, h, c = session.run(None, {"input": block, "h": h, "c": c})
        out.append(probs)
    return np.concatenate(out, axis=0)


def speech_timestamps(audio: np.ndarray, vad_options) -> list[dict]:
    """``faster_whisper.vad.get_speech_timestamps(audio, vad_options)`` over
    :func:`vad_probabilities`: its state machine, line for line, on the same probabilities."""
    o = vad_options
    sampling_rate, window_size_samples = 16000, VAD_FRAME
    threshold, neg_threshold = o.threshold, o.neg_threshold
    min_speech_samples = sampling_rate * o.min_speech_duration_ms / 1000
    speech_pad_samples = sampling_rate * o.speech_pad_ms / 1000
    max_speech_samples = sampling_rate * o.max_speech_duration_s - window_size_samples - 2 * speech_pad_samples
    min_silence_samples = sampling_rate * o.min_silence_duration_ms / 1000
    min_silence_samples_at_max_speech = sampling_rate * 98 / 1000
    audio_length_samples = len(audio)
    speech_probs = vad_probabilities(audio)

    triggered = False
    speeches: list[dict] = []
    current_speech: dict = {}
    if neg_threshold is None:
        neg_threshold = max(threshold - 0.15, 0.01)
    temp_end = 0  # a potential segment end (some silence is tolerated)
    prev_end = next_start = 0  # potential segment limits when the maximum segment size is reached
    for i, speech_prob in enumerate(speech_probs):
        if (speech_prob >= threshold) and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = window_size_samples * i
        if (speech_prob >= threshold) and not triggered:
            triggered = True
            current_speech["start"] = window_size_samples * i
            continue
        if triggered and (window_size_samples * i) - current_speech["start"] > max_speech_samples:
            if prev_end:
                current_speech["end"] = prev_end
                speeches.append(current_speech)
                current_speech = {}
                if next_start < prev_end:  # silence reached before (< neg_threshold), still not speech
                    triggered = False
                else:
                    current_speech["start"] = next_start
                prev_end = next_start = temp_end = 0
            else:
                current_speech["end"] = window_size_samples * i
                speeches.append(current_speech)
                current_speech = {}
                prev_end = next_start = temp_end = 0
                triggered = False
                continue
        if (speech_prob < neg_threshold) and triggered:
            if not temp_end:
                temp_end = window_size_samples * i
            if (window_size_samples * i) - temp_end > min_silence_samples_at_max_speech:
                prev_end = temp_end
            if (window_size_samples * i) - temp_end < min_silence_samples:
                continue
            current_speech["end"] = temp_end
            if (current_speech["end"] - current_speech["start"]) > min_speech_samples:
                speeches.append(current_speech)
            current_speech = {}
            prev_end = next_start = temp_end = 0
            triggered = False
            continue
    if current_speech and (audio_length_samples - current_speech["start"]) > min_speech_samples:
        current_speech["end"] = audio_length_samples
        speeches.append(current_speech)

    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - speech_pad_samples))
        if i != len(speeches) - 1:
            silence_duration = speeches[i + 1]["start"] - speech["end"]
            if silence_duration < 2 * speech_pad_samples:
                speech["end"] += int(silence_duration // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - silence_duration // 2))
            else:
                speech["end"] = int(min(audio_length_samples, speech["end"] + speech_pad_samples))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - speech_pad_samples))
        else:
            speech["end"] = int(min(audio_length_samples, speech["end"] + speech_pad_samples))
    return speeches


def plan_chunks(stamps: list[dict], max_duration: float, sampling_rate: int = 16000):
    """``faster_whisper.vad.collect_chunks`` without the audio: per chunk, the sample ranges it
    joins, and faster-whisper's metadata of it."""
    if not stamps:
        return [[]], [{"offset": 0, "duration": 0, "segments": []}]
    pieces: list[list[tuple[int, int]]] = []
    metadata: list[dict] = []
    current: list[tuple[int, int]] = []
    current_segments: list[dict] = []
    current_duration = total_duration = 0
    for chunk in stamps:
        if current_duration + chunk["end"] - chunk["start"] > max_duration * sampling_rate:
            pieces.append(current)
            metadata.append({"offset": total_duration / sampling_rate, "duration": current_duration / sampling_rate,
                             "segments": current_segments})
            total_duration += current_duration
            current_segments = []  # (sic: faster-whisper leaves this chunk's first range out of its metadata)
            current = [(chunk["start"], chunk["end"])]
            current_duration = chunk["end"] - chunk["start"]
        else:
            current_segments.append(chunk)
            current.append((chunk["start"], chunk["end"]))
            current_duration += chunk["end"] - chunk["start"]
    pieces.append(current)
    metadata.append({"offset": total_duration / sampling_rate, "duration": current_duration / sampling_rate,
                     "segments": current_segments})
    return pieces, metadata


class _ChunkFeatures:
    """The log-mel features of the VAD chunks as the batched pipeline stacks them, made when a
    batch is taken (``features[i:i + batch_size]``) from the chunks' sample ranges."""

    def __init__(self, extractor, audio: np.ndarray, pieces: list[list[tuple[int, int]]]):
        self.extractor, self.audio, self.pieces = extractor, audio, pieces

    def chunk(self, ranges: list[tuple[int, int]]) -> np.ndarray:
        if not ranges:
            return np.array([], dtype=np.float32)
        if len(ranges) == 1:
            a, b = ranges[0]
            return self.audio[a:b]
        return np.concatenate([self.audio[a:b] for a, b in ranges])

    def features(self, ranges: list[tuple[int, int]]) -> np.ndarray:
        return self.extractor(self.chunk(ranges))[..., :-1]

    def __len__(self) -> int:
        return len(self.pieces)

    def __getitem__(self, which: slice) -> np.ndarray:
        from faster_whisper.audio import pad_or_trim

        return np.stack([pad_or_trim(self.features(r)) for r in self.pieces[which]])


# Whisper's encoder attends over 1500 frames in every head: on CPU, CTranslate2 holds the scores of
# a whole batch at once (tiny: 54 MB a chunk, 430 MB for a batch of 8). Encoding the chunks of a batch
# ENCODE_BATCH at a time gives the same encoder output (each chunk's is independent of the others';
# tests/test_asr.py compares the segments) for a fraction of the memory; decoding still runs batched.
ENCODE_BATCH = 1


# Languages per chunk (multilingual episodes): Whisper names the language of each ~30 s chunk from
# its encoder output. A chunk keeps the episode's language unless another one is named with at least
# this probability: a noisy or accented English chunk must not be written in Welsh. Calibrated on
# real speech (tests/test_asr.py: the English chunks of the real-voice set never reach it; the German
# half of multilingual.mp3 does).
SWITCH_LANGUAGE_PROBABILITY = 0.7


class _ChunkLanguages:
    """The CTranslate2 model as the batched pipeline sees it when it detects each chunk's language
    (``multilingual``): the detection held to SWITCH_LANGUAGE_PROBABILITY around the episode's
    language, and recorded, in chunk order, as (code, probability): ``named`` what Whisper named
    first, ``detected`` what the chunk is decoded in."""

    def __init__(self, model, episode_language: str):
        self._model, self._language = model, episode_language
        self.named: list[tuple[str, float]] = []
        self.detected: list[tuple[str, float]] = []

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def detect_language(self, encoder_output):
        out = []
        for ranked in self._model.detect_language(encoder_output):
            token, prob = ranked[0]
            code = token[2:-2]
            self.named.append((code, prob))
            if code != self._language and prob < SWITCH_LANGUAGE_PROBABILITY:
                own = next((q for t, q in ranked if t[2:-2] == self._language), 0.0)
                token, prob, code = f"<|{self._language}|>", own, self._language
            self.detected.append((code, prob))
            out.append([(token, prob)] + [r for r in ranked if r[0] != token])
        return out


class _EncodeInParts:
    """The WhisperModel as the batched pipeline sees it, with its encoder run ``size`` chunks at a
    time (None: the whole batch) and, for a multilingual episode, the language of each chunk held
    and recorded by ``languages``; everything else is the model's own."""

    def __init__(self, whisper: "WhisperModel", size: int | None, languages: _ChunkLanguages | None = None):
        self._whisper, self._size = whisper, size
        if languages is not None:
            self.model = languages

    def __getattr__(self, name: str):
        return getattr(self._whisper, name)

    def encode(self, features: np.ndarray):
        import ctranslate2

        if self._size is None or features.ndim == 2 or len(features) <= self._size:
            return self._whisper.encode(features)
        parts = [np.asarray(self._whisper.encode(features[i : i + self._size]))
                 for i in range(0, len(features), self._size)]
        return ctranslate2.StorageView.from_array(np.concatenate(parts))  # the view keeps the array alive


@dataclass
class Chunks:
    """The VAD chunks of a batched pass: their spans (seconds) and, for a multilingual episode, the
    language of each, filled in chunk order as the segments are consumed."""

    spans: list[tuple[float, float]]
    languages: Optional[_ChunkLanguages] = None

    def __post_init__(self) -> None:
        self._starts = [a for a, _ in self.spans]  # looked up once per segment

    def language_at(self, t: float) -> Optional[tuple[str, float]]:
        """(code, probability) of the chunk that holds time ``t``; None where not known (yet)."""
        if self.languages is None or not self.spans:
            return None
        i = max(0, bisect.bisect_right(self._starts, t + 0.01) - 1)
        return self.languages.detected[i] if i < len(self.languages.detected) else None


def batched_transcribe(whisper: "WhisperModel", audio: np.ndarray, batch_size: int = 8, **kwargs):
    """``BatchedInferencePipeline(whisper).transcribe(audio, batch_size=..., vad_filter=True, **kwargs)``
    (faster-whisper 1.1-1.2, default VAD parameters and chunk length) with the audio and features of
    one batch in memory at a time. Returns (segments, info, VAD speech timestamps in samples,
    :class:`Chunks`). With ``multilingual`` each chunk is decoded in its own language where Whisper
    names another one with confidence (SWITCH_LANGUAGE_PROBABILITY)."""
    import inspect

    from faster_whisper import BatchedInferencePipeline
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import (TranscriptionInfo, TranscriptionOptions, get_suppressed_tokens,
                                           restore_speech_timestamps)
    from faster_whisper.vad import VadOptions

    pipe = BatchedInferencePipeline(whisper)
    defaults = {k: v.default for k, v in inspect.signature(pipe.transcribe).parameters.items()
                if v.default is not inspect.Parameter.empty}
    unknown = set(kwargs) - set(defaults)
    if unknown or not kwargs.get("vad_filter", True) or kwargs.get("clip_timestamps") \
            or kwargs.get("vad_parameters") or kwargs.get("chunk_length"):
        raise ValueError(f"batched_transcribe: unsupported settings {sorted(unknown) or 'vad/clips/chunk length'}")
    p = {**defaults, **kwargs}
    extractor = whisper.feature_extractor
    sampling_rate = extractor.sampling_rate
    multilingual = p["multilingual"] and whisper.model.is_multilingual
    duration = audio.shape[0] / sampling_rate
    chunk_length = extractor.chunk_length
    vad_parameters = VadOptions(max_speech_duration_s=chunk_length, min_silence_duration_ms=160)
    clip_timestamps = speech_timestamps(audio, vad_parameters)
    pieces, chunks_metadata = plan_chunks(clip_timestamps, chunk_length, sampling_rate)
    duration_after_vad = sum(s["end"] - s["start"] for s in clip_timestamps) / sampling_rate
    features = _ChunkFeatures(extractor, audio, pieces if duration_after_vad else [])

    language, language_probability, all_language_probs = p["language"], 1, None
    if language is None:
        if not whisper.model.is_multilingual:
            language = "en"
        else:  # detect_language reads the first language_detection_segments x 30 s of features
            need = p["language_detection_segments"] * extractor.nb_max_frames
            first, frames = [], 0
            for ranges in features.pieces:
                first.append(features.features(ranges))
                frames += first[-1].shape[-1]
                if frames >= need:
                    break
            language, language_probability, all_language_probs = whisper.detect_language(
                features=np.concatenate(first + [np.full((whisper.model.n_mels, 1), -1.5, dtype="float32")], axis=1),
                language_detection_segments=p["language_detection_segments"],
                language_detection_threshold=p["language_detection_threshold"],
            )
    elif not whisper.model.is_multilingual and language != "en":
        whisper.logger.warning("The current model is English-only but the language parameter is set to '%s'; "
                               "using 'en' instead." % language)
        language = "en"
    languages = _ChunkLanguages(whisper.model, language) if multilingual else None
    # host memory: on a CPU the batch is encoded ENCODE_BATCH chunks at a time, on a GPU at once
    pipe.model = _EncodeInParts(whisper, ENCODE_BATCH if whisper.model.device == "cpu" else None, languages)
    chunks = Chunks([(r[0][0] / sampling_rate, r[-1][1] / sampling_rate) for r in pieces if r], languages)
    tokenizer = Tokenizer(whisper.hf_tokenizer, whisper.model.is_multilingual, task=p["task"], language=language)
    temperature = p["temperature"]
    options = TranscriptionOptions(
        beam_size=p["beam_size"], best_of=p["best_of"], patience=p["patience"], length_penalty=p["length_penalty"],
        repetition_penalty=p["repetition_penalty"], no_repeat_ngram_size=p["no_repeat_ngram_size"],
        log_prob_threshold=p["log_prob_threshold"], no_speech_threshold=p["no_speech_threshold"],
        compression_ratio_threshold=p["compression_ratio_threshold"],
        temperatures=temperature[:1] if isinstance(temperature, (list, tuple)) else [temperature],
        initial_prompt=p["initial_prompt"], prefix=p["prefix"], suppress_blank=p["suppress_blank"],
        suppress_tokens=(get_suppressed_tokens(tokenizer, p["suppress_tokens"]) if p["suppress_tokens"]
                         else p["suppress_tokens"]),
        prepend_punctuations=p["prepend_punctuations"], append_punctuations=p["append_punctuations"],
        max_new_tokens=p["max_new_tokens"], hotwords=p["hotwords"], word_timestamps=p["word_timestamps"],
        hallucination_silence_threshold=None, condition_on_previous_text=False, clip_timestamps=clip_timestamps,
        prompt_reset_on_temperature=0.5, multilingual=multilingual, without_timestamps=p["without_timestamps"],
        max_initial_timestamp=0.0,
    )
    info = TranscriptionInfo(language=language, language_probability=language_probability, duration=duration,
                             duration_after_vad=duration_after_vad, transcription_options=options,
                             vad_options=vad_parameters, all_language_probs=all_language_probs)
    segments = pipe._batched_segments_generator(features, tokenizer, chunks_metadata, batch_size, options,
                                                p["log_progress"])
    return restore_speech_timestamps(segments, clip_timestamps, sampling_rate), info, clip_timestamps, chunks
