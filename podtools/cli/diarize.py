"""``podtools diarize`` (the diarize stage alone) and the diarization flags of ``ingest``."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import click

from .group import cli
from ..diarize import ENCODER_CLUSTERING
from ..diarize.backends import BACKEND_HELP, BACKENDS
from .progress import RichProgress, echo

DIARIZE_FLAGS = ("num_speakers", "min_speakers", "max_speakers", "speakers", "speakers_file", "diarize_backend",
                 "pyannote_pipeline", "infer_names", "no_diarize", "speaker_threshold", "encoder", "voices_dir",
                 "match_voices", "learn_voices")


def diarize_flags(fn=None, *, with_switch: bool = True):
    """Flags of the diarize stage; each overrides the preset's ``[diarize]`` value."""

    def decorate(f):
        options = [
            click.option("--num-speakers", type=click.IntRange(min=1), help="Exact number of speakers, when known."),
            click.option("--min-speakers", type=click.IntRange(min=1), help="At least this many speakers."),
            click.option("--max-speakers", type=click.IntRange(min=1), help="At most this many speakers."),
            click.option("--speakers", metavar="NAMES",
                         help='Speaker names in order of first appearance: "Alex Volkov,LDJ,Nisten".'),
            click.option("--speakers-file", type=click.Path(), metavar="FILE",
                         help="Speaker names: one per line, 'SPEAKER_00: Name' lines, or JSON."),
            click.option("--infer-names/--no-infer-names", "infer_names", default=None,
                         help="Name speakers from self-introductions and hand-offs (default: on)."),
            click.option("--diarize-backend", type=click.Choice(list(BACKENDS)),
                         help=" or ".join(f"{k} ({v})" for k, v in BACKEND_HELP.items()) + "."),
            click.option("--pyannote-pipeline", metavar="NAME|DIR",
                         help="pyannote pipeline: 'local' (default, offline), a Hugging Face name (token in $HF_TOKEN) "
                              "or a local directory."),
            click.option("--encoder", type=click.Choice(list(ENCODER_CLUSTERING)),
                         help="Embedded backend's speaker encoder (default campplus)."),
            click.option("--voices", "voices_dir", type=click.Path(), metavar="DIR",
                         help="Voice library folder (default: $PODTOOLS_VOICES_DIR or the user data folder)."),
            click.option("--match-voices/--no-match-voices", "match_voices", default=None,
                         help="Name speakers whose voice is in the voice library (default: on)."),
            click.option("--learn-voices", is_flag=True, default=None,
                         help="Enroll the speakers named here (given or self-introduced) into the voice library."),
            click.option("--speaker-threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True),
                         help="Embedded backend: cosine similarity below which voices differ (default: calibrated per encoder)."),
        ]
        if with_switch:
            options.append(click.option("--no-diarize", is_flag=True, default=None, help="Skip diarization."))
        return functools.reduce(lambda g, opt: opt(g), reversed(options), f)

    return decorate(fn) if fn is not None else decorate


def pop_diarize_flags(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in DIARIZE_FLAGS if k in kwargs}


def diarize_overrides(flags: dict[str, Any]) -> dict[str, Any]:
    """CLI flags -> ``[diarize]`` settings; contradictory flags are usage errors."""
    from ..diarize.names import parse_names_list

    lo, hi, n = flags.get("min_speakers"), flags.get("max_speakers"), flags.get("num_speakers")
    if lo and hi and lo > hi:
        raise click.UsageError(f"--min-speakers {lo} is more than --max-speakers {hi}")
    if n and (lo or hi):
        raise click.UsageError("give either --num-speakers or --min-speakers/--max-speakers, not both")
    if flags.get("speakers") and flags.get("speakers_file"):
        raise click.UsageError("give either --speakers or --speakers-file, not both")
    names = None
    if flags.get("speakers") is not None:
        try:
            names = parse_names_list(flags["speakers"])
        except Exception as exc:
            raise click.BadParameter(str(exc), param_hint="--speakers") from None
    out = {
        "num_speakers": n,
        "min_speakers": lo,
        "max_speakers": hi,
        "names": names,
        "names_file": flags.get("speakers_file"),
        "infer_names": flags.get("infer_names"),
        "backend": flags.get("diarize_backend"),
        "pyannote_pipeline": flags.get("pyannote_pipeline"),
        "threshold": flags.get("speaker_threshold"),
        "encoder": flags.get("encoder"),
        "voices": flags.get("voices_dir"),
        "match_voices": flags.get("match_voices"),
        "learn_voices": flags.get("learn_voices"),
    }
    if flags.get("no_diarize"):
        out["enabled"] = False
    if n or lo or hi:  # a hint replaces the preset's hints rather than mixing with them
        out = {**out, "clear_counts": True}
    return out


def apply_diarize_flags(config, flags: dict[str, Any]):
    """``config`` with the diarize flags applied over its ``[diarize]`` section."""
    from ..config import validate_config

    over = diarize_overrides(flags)
    raw = config.model_dump()
    section = raw.setdefault("diarize", {})
    if over.pop("clear_counts", False):
        section.update(num_speakers=None, min_speakers=None, max_speakers=None)
    for key, value in over.items():
        if value is not None:
            section[key] = value
    return validate_config(raw)


@cli.command()
@click.argument("audio")
@click.option("--episode", "episode_json", type=click.Path(), metavar="EPISODE_JSON",
              help="An episode.json (from ingest or transcribe) whose transcript gets the speakers.")
@diarize_flags(with_switch=False)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Compute device.")
@click.option("--pipeline", "pipeline", default="default", show_default=True,
              help="Preset name (default, gpu) or a pipeline .toml file; its [diarize] section is used.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
              help="Folder of Jinja templates overriding the shipped ones.")
@click.option("-o", "--output", "output", type=click.Path(),
              help="Output folder (default: the episode.json's folder, else ./<audio name>).")
@click.option("--no-cache", "no_cache", is_flag=True, help="Diarize again even if a cached result exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary of the result on stdout.")
def diarize(audio: str, episode_json: str | None, device, pipeline, templates_dir, output, no_cache, quiet, as_json,
            **flags) -> None:
    """Who spoke when in AUDIO (file or http(s) URL): speakers.rttm and episode.json.

    With --episode, the transcript in that episode.json gets speakers on every word and its
    transcript files (md, txt, srt, vtt) are written again with speaker names.
    """
    from .. import audio as audio_mod
    from ..diarize.stage import diarize_episode
    from ..models import Episode
    from ..config import load_pipeline
    from ..pipeline import new_episode, prepare_source
    from ..outputs import OUTPUTS, render

    config = apply_diarize_flags(load_pipeline(pipeline), pop_diarize_flags(flags))
    options = config.diarize.model_copy(update={"enabled": True, **({"device": device} if device else {})})
    base = Episode.load(episode_json) if episode_json else None  # a bad episode.json fails first
    if options.names_file:
        from ..diarize.names import load_names_file

        load_names_file(options.names_file)
    from ..diarize.stage import check_voice_library

    check_voice_library(options)  # a damaged or misplaced voice library fails before decoding
    out = Path(output) if output else (Path(episode_json).parent if episode_json else
                                       Path(Path(audio.rstrip("/")).stem or "episode"))
    with RichProgress(Path(audio).name, enabled=not quiet) as progress:
        path = prepare_source(audio)
        progress.stage("decode")
        info = audio_mod.probe(path)
        samples = audio_mod.decode(path)
        fresh = new_episode(path, audio, len(samples) / audio_mod.SAMPLE_RATE, info.title)
        if base is None:
            episode = fresh
        else:
            episode = base
            if base.id != fresh.id:
                progress.note(f"{episode_json}: made from other audio than {audio} (content differs); "
                              "speakers are matched to its words by time")
        episode = diarize_episode(episode, samples, options, progress, use_cache=not no_cache)
        only = ["speakers.rttm"]
        if episode.segments:
            only += [n for n in OUTPUTS if n.startswith("transcript.")]
        files = render(episode, out, templates_dir, only=only)
    if as_json:
        echo(json.dumps({
            "episode": episode.id,
            "source": episode.source,
            "duration": episode.duration,
            "speakers": [sp.model_dump() for sp in episode.speakers],
            "turns": len(episode.turns),
            "files": [str(p) for p in files],
        }))
    elif not quiet:
        who = ", ".join(f"{episode.speaker_name(sp.id)} ({sp.talk_time:.0f} s)" for sp in episode.speakers)
        echo(f"{audio}: {len(episode.speakers)} speakers{': ' + who if who else ''} -> {out}/", err=True)
