"""The ``ingest`` run that chains the stages over one Episode (transcribe or import, diarize,
chapters, mentions, summarize, render).

Presets and their loading live in :mod:`podtools.config`, the Progress protocol in
:mod:`podtools.progress`; both names stay importable from here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import chapters as chapters_mod
from .asr import LoadedModel, TranscribeOptions, load_model
from .asr.stage import transcribe_stage
from .chapters.stage import chapters_stage
from .config import (PipelineConfig, available_pipelines, load_pipeline,  # noqa: F401  (importable from here)
                     validate_config, with_overrides)
from .diarize.backends import check_options
from .diarize.stage import check_voice_library, diarize_stage, start_in_background
from .download import fetch, is_url
from .edits import apply_edits, load_edits, save_edits
from .errors import ConfigError, InputError, PodtoolsError
from .formats.imports import detect_format, import_transcript
from .fsutil import ensure_writable_dir, sha256_file
from .mentions import asr_biasing
from .mentions.stage import mentions_stage
from .models import Episode
from .outputs import OUTPUTS, render
from .progress import NullProgress, Progress
from .publish import check_base_url
from .summarize.stage import prepare_llm, summarize_stage

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np  # numpy is imported where audio is handled: `batch` on a finished catalogue never needs it

log = logging.getLogger("podtools.pipeline")


# -- stage: import -------------------------------------------------------------------------------


def import_episode(path: Path, source: str, audio_path: Path | None = None,
                   progress: Progress | None = None) -> tuple[Episode, np.ndarray | None]:
    """A transcript file in place of decode + ASR; with ``audio_path``, that audio is decoded too
    (16 kHz mono, for the stages that listen) and gives the episode its id and duration, and its
    title and date tags where the transcript has none."""
    from . import audio as audio_mod  # numpy: `batch` on a finished catalogue never needs it

    progress = progress or NullProgress()
    samples = None
    duration = None
    title = recorded = None
    if audio_path is not None:
        progress.stage("decode")
        info = audio_mod.probe(audio_path)
        samples = audio_mod.decode(audio_path)
        duration, title, recorded = len(samples) / audio_mod.SAMPLE_RATE, info.title, info.recorded
    progress.stage("import")
    episode = import_transcript(path, source, audio_path, duration, progress.note).episode
    if title and episode.title == Path(path).stem:
        episode = episode.model_copy(update={"title": title})
    if recorded and episode.published is None:  # the mentions stage reads it
        episode = episode.model_copy(update={"published": recorded})
    return episode, samples


def biased_transcribe_options(config: PipelineConfig) -> TranscribeOptions:
    """The transcribe options with the mentions catalog's vocabulary biasing applied (where the
    preset or flags set no prompt/hotwords of their own): see benchmarks/mentions.py."""
    extra = {k: v for k, v in asr_biasing(config.mentions).items() if getattr(config.transcribe, k) is None}
    return config.transcribe.model_copy(update=extra) if extra else config.transcribe


# -- ingest -----------------------------------------------------------------------------------


@dataclass
class IngestResult:
    episode: Episode
    files: list[Path] = field(default_factory=list)


def prepare_source(source: str, allow_private: bool = False) -> Path:
    """A local path as is; an http(s) URL downloaded to the cache first (from a private or
    loopback address only with ``allow_private``)."""
    if is_url(source):
        return fetch(source, allow_private=allow_private)
    return readable_file(Path(source))


@contextlib.contextmanager
def _named_by_url(source: str, path: Path):
    """An error about a downloaded file names the URL the user gave, not the cache path (and
    says so when the server sent a web page)."""
    try:
        yield
    except InputError as exc:
        if not is_url(source) or exc.path != str(path):
            raise
        message = str(exc)[len(exc.path) + 2:]
        try:
            with open(path, "rb") as fh:
                head = fh.read(512).lstrip().lower()
        except OSError:
            head = b""
        if head.startswith((b"<!doctype html", b"<html")):
            message = "the server sent a web page (HTML), not audio or a transcript"
        raise InputError(message, source) from None


def readable_file(path: Path) -> Path:
    """``path`` if it is a file this process can read; else an InputError that says why (not
    found, a directory, permission denied, a name too long ...) instead of a later "not audio"."""
    try:
        if path.is_dir():
            raise InputError("is a directory, expected an episode file", path)
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", path) from None
    return path


def _later_stages(out: Path) -> str:
    """What the episode.json in ``out`` has beyond a transcript ('' when nothing, or unreadable)."""
    try:
        ep = Episode.load(out / "episode.json")
    except PodtoolsError:
        return ""
    parts = [name for name, present in (("speakers", ep.speakers), ("chapters", ep.chapters),
                                        ("mentions", ep.mentions), ("summaries", ep.summaries)) if present]
    return ", ".join(parts)


def _later_stage_outputs(out: Path) -> list[Path]:
    """The files of stages after transcription in ``out``, when its episode.json has such stages."""
    if not (out / "episode.json").is_file() or not _later_stages(out):
        return []
    return [out / n for n in OUTPUTS if not n.startswith("transcript.") and (out / n).exists()]


def new_episode(path: Path, source: str, duration: float, title: str | None = None,
                published: dt.datetime | None = None) -> Episode:
    return Episode(id=sha256_file(path), source=source, title=title or path.stem, duration=round(duration, 3),
                   published=published)


def ingest(
    source: str,
    out_dir: str | Path,
    config: PipelineConfig | None = None,
    templates_dir: str | Path | None = None,
    progress: Progress | None = None,
    model: LoadedModel | None = None,
    only_transcribe: bool = False,
    use_cache: bool = True,
    audio: str | None = None,
    chapters: str | None = None,
    allow_private: bool = False,
    force: bool = False,
    publish_base_url: str | None = None,
    published: dt.datetime | None = None,
) -> IngestResult:
    """Run the whole pipeline on one episode (file path or URL) and write its files into out_dir.

    ``source`` may also be a transcript (SRT, WebVTT, JSON, Markdown, text): it is imported
    instead of decoded and transcribed, with ``audio`` (path or URL) as the episode's audio if
    given. ``chapters`` is a chapter list, as a file path or as text (``--chapters``).

    Corrections kept in ``out_dir/episode.toml`` (``podtools fix``, ``podtools speakers``) are
    applied again after transcription and diarization; ``publish_base_url`` is kept there too.
    ``published`` (a feed's date for the episode) replaces the file's date tag: the mentions stage
    reads it (a model released later is no guess for what the show says).
    """
    from . import audio as audio_mod  # numpy: `batch` on a finished catalogue never needs it

    config = config or load_pipeline("default")
    progress = progress or NullProgress()
    out = ensure_writable_dir(out_dir)  # fail before minutes of work, not after

    edits = load_edits(out)  # a damaged episode.toml, or a bad URL: fail now too
    if publish_base_url is not None:
        edits.base_url = check_base_url(publish_base_url)
    captions_given = config.captions.chars is not None or config.captions.lines is not None
    if captions_given:  # kept with the episode, so that later re-renders cut the captions the same way
        edits.captions = config.captions.model_dump(exclude_none=True)
    stale = _later_stage_outputs(out) if only_transcribe else []
    if stale and not force:
        raise ConfigError(f"holds an episode with {_later_stages(out)} (from `ingest`); `transcribe` would replace "
                          "it without them: choose another -o, run `ingest`, or give --force", out / "episode.json")

    llm = None if only_transcribe else prepare_llm(config.summarize, config.llm)  # bad key/URL/model: fail now

    path = prepare_source(source, allow_private)
    transcript_format = detect_format(path)
    audio_path = prepare_source(audio, allow_private) if audio else (None if transcript_format else path)
    given = chapters_mod.load_chapters(chapters, progress.note) if chapters else None  # bad list: fail now
    if not only_transcribe:
        check_options(config.diarize)  # a missing pyannote pipeline: fail now, not after ASR

        check_voice_library(config.diarize)  # a damaged or misplaced voice library too
    id3 = config.chapters.write_id3 and not only_transcribe
    if id3:
        chapters_mod.check_id3_source(audio_path)
    if transcript_format:
        with _named_by_url(source, path):
            episode, samples = import_episode(path, source, audio_path, progress)
    else:
        options = biased_transcribe_options(config)
        with _named_by_url(source, path):
            info = audio_mod.probe(path)  # not audio: fail before loading a model
        # an unknown model or a missing GPU fails here, before decoding and before diarization starts
        model = model or load_model(options)
        progress.stage("decode")
        samples = audio_mod.decode(path)
        episode = new_episode(path, source, len(samples) / audio_mod.SAMPLE_RATE, info.title, info.recorded)
        # with [diarize] concurrent (the gpu preset) diarization, which needs only the audio, runs in a
        # thread while ASR runs; otherwise it starts after ASR, in diarize_stage
        diarizing = None if only_transcribe else start_in_background(
            samples, config.diarize, episode.id, use_cache)
        episode = transcribe_stage(episode, options, progress, audio=samples, model=model, use_cache=use_cache)
        model = None  # Whisper's weights and work buffers (150 MB for base) go before diarization runs; a
        # model the caller passed in (batch) stays loaded for its next episode
    if published is not None:
        episode = episode.model_copy(update={"published": published})
    if not only_transcribe:
        episode = diarize_stage(episode, config.diarize, progress, audio=samples,
                                pending=None if transcript_format else diarizing, use_cache=use_cache)
    if edits.has_corrections():  # a host's fixes from an earlier run: a re-run never undoes them
        episode = apply_edits(episode, edits, progress.note, speakers=not only_transcribe)
    samples = None  # the listening stages are done: the text stages do not hold the audio (0.7 GB for 3 hours)
    if not only_transcribe:
        episode = chapters_stage(episode, config.chapters, progress, given=given, audio=audio_path)
    if not only_transcribe and config.mentions.enabled:
        episode = mentions_stage(episode, config.mentions, progress)
    if not only_transcribe:  # last stage before render: uses chapters and mentions when present
        episode = summarize_stage(episode, config.summarize, progress, llm_settings=config.llm,
                                  templates_dir=templates_dir, llm=llm)
    progress.stage("render")
    only = [n for n in OUTPUTS if n.startswith("transcript.")] if only_transcribe else None
    files = render(episode, out, templates_dir, only=only, publish_base_url=edits.base_url,
                   captions=edits.caption_options())
    if publish_base_url is not None or captions_given:
        files.append(save_edits(out, edits))
    for path in stale:  # --force: nothing left that disagrees with the new episode.json
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            progress.note(f"removed {path.name}: it described the replaced episode")
    if id3:
        files.append(chapters_mod.write_id3(audio_path, out / f"{audio_path.stem}.chapters.mp3", episode))
    return IngestResult(episode, files)
