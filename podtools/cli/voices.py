"""``podtools voices add|list|remove``: the library of known voices (see podtools.diarize.voices)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .group import cli
from ..diarize import ENCODER_CLUSTERING
from ..errors import InputError
from .progress import clean_line

VOICES_OPTION = click.option("--voices", "voices_dir", type=click.Path(), metavar="DIR",
                             help="Voice library folder (default: $PODTOOLS_VOICES_DIR or the user data folder).")


@cli.group()
def voices() -> None:
    """A library of known voices: speakers whose voice is in it are named in every episode
    (ingest, diarize, batch). Only voiceprints (speaker embeddings) are stored, never audio."""


def _episode_speaker(episode, speaker: str | None, name: str) -> str:
    """The speaker id to enroll from an episode: --speaker (an id or a name), the speaker
    already called NAME, or the only speaker."""
    ids = [sp.id for sp in episode.speakers]
    if speaker:
        for sp in episode.speakers:
            if speaker in (sp.id, sp.name):
                return sp.id
        raise InputError(f"no speaker {speaker!r} in this episode (speakers: {', '.join(ids) or 'none'})",
                         episode.source)
    named = [sp.id for sp in episode.speakers if sp.name and sp.name.casefold() == name.casefold()]
    if len(named) == 1:
        return named[0]
    if len(ids) == 1:
        return ids[0]
    raise InputError(f"this episode has {len(ids)} speakers ({', '.join(ids) or 'none'}); say which with --speaker",
                     episode.source)


@voices.command("add")
@click.argument("name")
@click.argument("source")
@click.option("--speaker", help="With an episode.json: the speaker to enroll (SPEAKER_01 or its name).")
@click.option("--audio", "audio_path", type=click.Path(), metavar="FILE",
              help="With an episode.json: its audio, when it is no longer where the episode says.")
@click.option("--replace", is_flag=True, help="Replace a voice of the same name.")
@click.option("--encoder", type=click.Choice(list(ENCODER_CLUSTERING)),
              help="Speaker encoder of a new library (default campplus; an existing library keeps its own).")
@VOICES_OPTION
def add(name: str, source: str, speaker, audio_path, replace: bool, encoder, voices_dir) -> None:
    """Enroll NAME's voice from SOURCE: an audio clip of that person alone, or an episode.json
    (or its folder) made by ingest/diarize, with --speaker saying who."""
    from .. import audio as audio_mod
    from ..diarize.encoders import DEFAULT_ENCODER, load_encoder
    from ..diarize.voices import VoiceLibrary, editing, voiceprint
    from ..models import Episode
    from ..pipeline import prepare_source

    VoiceLibrary.load(voices_dir)  # a damaged library or a file in its place fails before decoding
    path = Path(source)
    if path.is_dir() and (path / "episode.json").is_file():
        path = path / "episode.json"
    if path.suffix.lower() == ".json":
        episode = Episode.load(path)
        library_path, seconds = enroll_speaker(path, episode, _episode_speaker(episode, speaker, name), name,
                                               voices_dir, audio_path, encoder, replace)
    else:
        if speaker:
            raise click.UsageError("--speaker goes with an episode.json; an audio clip is one person's voice")
        samples = audio_mod.decode(prepare_source(source))
        with editing(voices_dir) as library:
            library.check_encoder(encoder or library.encoder or DEFAULT_ENCODER)
            enc = load_encoder(library.encoder or encoder or DEFAULT_ENCODER, "cpu")
            emb, seconds = voiceprint(samples, [(0.0, len(samples) / audio_mod.SAMPLE_RATE)], enc)
            _add(library, name, emb, seconds, enc.name, source, replace)
        library_path = library.path
    click.echo(f"enrolled {clean_line(name)} ({seconds:.0f} s of speech) in {library_path}", err=True)


def enroll_speaker(path: Path, episode, spk: str, name: str, voices_dir, audio_path=None, encoder=None,
                   replace: bool = False) -> tuple[Path, float]:
    """Add speaker ``spk`` of an episode to the voice library as ``name``, from its turns in the
    episode's audio (overlapped speech left out); (library folder, seconds of speech used)."""
    from .. import audio as audio_mod
    from ..diarize.encoders import DEFAULT_ENCODER, load_encoder
    from ..diarize.stage import overlapped
    from ..diarize.voices import editing, speaker_prints
    from ..pipeline import prepare_source

    media = audio_path or episode.source
    if not Path(media).is_file():
        raise InputError("the episode's audio is not there any more; give it with --audio FILE", media)
    samples = audio_mod.decode(prepare_source(media))
    turns = [(t.start, t.end, t.speaker) for t in episode.turns] or \
            [(s.start, s.end, s.speaker) for s in episode.segments if s.speaker]
    mine = [t for t in turns if t[2] == spk]
    with editing(voices_dir) as library:
        library.check_encoder(encoder or library.encoder or DEFAULT_ENCODER)
        enc = load_encoder(library.encoder or encoder or DEFAULT_ENCODER, "cpu")
        emb, seconds = speaker_prints(samples, mine, enc, exclude=overlapped(turns)).get(spk, (None, 0.0))
        _add(library, name, emb, seconds, enc.name, str(path), replace)
    return library.path, seconds


def _add(library, name, emb, seconds, encoder, source, replace) -> None:
    if emb is None:
        raise InputError(f"no speech found to enroll {name!r}", source)
    library.add(name, emb, seconds, encoder, source, replace=replace)


@voices.command("list")
@VOICES_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the voices as JSON.")
def list_(voices_dir, as_json: bool) -> None:
    """The voices in the library."""
    from ..diarize.voices import VoiceLibrary

    library = VoiceLibrary.load(voices_dir)
    rows = [{"name": v.name, "seconds": round(v.seconds, 1), "sources": v.sources, "added": v.added}
            for v in library.voices]
    if as_json:
        click.echo(json.dumps({"library": str(library.path), "encoder": library.encoder, "voices": rows}, indent=2))
        return
    if not rows:
        click.echo(f"no voices in {library.path}", err=True)
        return
    for r in rows:
        click.echo(f"{clean_line(r['name'])}\t{r['seconds']:.0f} s\t{len(r['sources'])} source(s)\t{r['added']}")


@voices.command("remove")
@click.argument("name")
@VOICES_OPTION
def remove(name: str, voices_dir) -> None:
    """Remove NAME's voice from the library."""
    from ..diarize.voices import editing

    with editing(voices_dir) as library:
        library.remove(name)
    click.echo(f"removed {clean_line(name)} from {library.path}", err=True)
