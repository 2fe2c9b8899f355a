"""The transcribe stage: Whisper over the decoded audio -> the Episode's segments (with the loop
guards' actions, languages per stretch), reused from the stage cache when the same audio was
transcribed with the same settings."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from .. import __version__, cache
from ..memory import trimming
from ..models import Episode, Segment, StageRun
from ..progress import NullProgress, Progress
from ..timefmt import hms
from . import LoadedModel, TranscribeOptions, load_model, model_version, settle_languages, transcribe

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

log = logging.getLogger("podtools.asr")


def transcribe_stage(
    episode: Episode,
    options: TranscribeOptions,
    progress: Progress | None = None,
    *,
    audio: np.ndarray,
    model: LoadedModel | None = None,
    use_cache: bool = False,
) -> Episode:
    """Run ASR over ``audio`` (16 kHz mono) and return ``episode`` with its segments.

    With ``use_cache``, a transcript made earlier from the same audio bytes with the same
    settings and versions is reused instead of running the model again.
    """
    progress = progress or NullProgress()
    t0 = time.perf_counter()
    model = model or load_model(options)
    settings = {**options.model_dump(), "device": model.device, "compute_type": model.compute_type}
    key = cache.stage_key("transcribe", episode.id, {**settings, "model_path": model.path},
                          {"podtools": __version__, "asr": model_version(),
                           "languages": "per chunk"}) if use_cache else None
    hit = cache.get("transcribe", key) if key else None
    if hit is not None:
        log.info("%s: transcript reused from the cache (same audio and settings)", episode.source)
        return episode.recorded("transcribe", StageRun.model_validate(hit["run"]),
                                segments=[Segment.model_validate(s) for s in hit["segments"]],
                                language=hit["language"])
    segments: list[Segment] = []
    with trimming():  # batch after batch, the heaps' free pages go back (3-hour episodes)
        result = transcribe(audio, options, model)
        progress.stage("transcribe", result.duration)
        for seg in result.segments:
            segments.append(seg)
            progress.advance(seg.end)
    progress.advance(result.duration)
    segments, language, spoken = settle_languages(segments, result.language)
    if len(spoken) > 1:
        shares = ", ".join(f"{code} {hms(sec)}" for code, sec in sorted(spoken.items(), key=lambda kv: -kv[1]))
        progress.note(f"{episode.source}: more than one language: {shares}; each stretch is written in its own")
    run = StageRun.timed(t0, model=model.name, settings=settings, version=model_version(),
                         actions=result.actions)
    for action in result.actions:
        progress.note(f"{episode.source}: {hms(action['start'])}-{hms(action['end'])}: "
                      f"{'; '.join(action['reasons'])}: {action['action']}")
    if not segments:
        progress.note(f"{episode.source}: no speech detected; the transcript is empty")
    if key:
        cache.put("transcribe", key, {"segments": [s.model_dump(mode="json") for s in segments],
                                      "language": language, "run": run.model_dump(mode="json")})
    return episode.recorded("transcribe", run, segments=segments, language=language,
                            duration=episode.duration or result.duration)
