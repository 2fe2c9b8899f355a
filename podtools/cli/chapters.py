"""``podtools chapters``: the chapters stage alone, on an episode.json or a transcript."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .progress import echo
from .group import cli


@cli.command()
@click.argument("episode")
@click.option("--chapters", "chapters_arg", metavar="FILE|TEXT",
              help="Chapters: a file of '00:00 Title' lines or Podcasting 2.0 JSON, or the lines themselves.")
@click.option("--audio", metavar="FILE", help="The episode's audio: its embedded chapters, and the MP3 for --write-id3.")
@click.option("--detect", is_flag=True, help="Detect chapters from the transcript, ignoring every other source.")
@click.option("--min-length", type=float, metavar="SECONDS", help="Detection: shortest chapter.")
@click.option("--target-length", type=float, metavar="SECONDS", help="Detection: one chapter per this many seconds.")
@click.option("--max-length", type=float, metavar="SECONDS", help="Detection: longest chapter.")
@click.option("--write-id3", is_flag=True, default=None,
              help="Also write NAME.chapters.mp3: a copy of the MP3 with ID3 CHAP/CTOC chapters.")
@click.option("--pipeline", default="default", show_default=True, help="Preset whose [chapters] settings apply.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
              help="Folder of Jinja templates overriding the shipped ones.")
@click.option("-o", "--output", type=click.Path(),
              help="Output folder (default: the episode.json's folder, or ./<name> for a transcript).")
@click.option("-q", "--quiet", is_flag=True, help="No chapter list or notes.")
@click.option("--json", "as_json", is_flag=True, help="Print the chapters as JSON on stdout.")
def chapters(episode: str, chapters_arg, audio, detect, min_length, target_length, max_length, write_id3, pipeline,
             templates_dir, output, quiet, as_json) -> None:
    """Give EPISODE chapters and write chapters.json, youtube_chapters.txt and transcript.md.

    EPISODE is an episode.json (or its folder) or a transcript file. Sources, first one with
    chapters wins: --chapters, chapters embedded in --audio, the transcript's chapter headings,
    detection from the transcript's topics.
    """
    from .. import chapters as ch
    from ..errors import InputError
    from ..formats.imports import detect_format, import_transcript
    from ..models import Episode
    from ..config import load_pipeline, with_overrides
    from ..outputs import render
    from ..progress import NoteList
    from ..timefmt import hms

    collected = NoteList()
    notes = collected.notes
    config = load_pipeline(pipeline)
    flags = {"min_length": min_length, "target_length": target_length, "max_length": max_length,
             "write_id3": write_id3, "sources": ["detected"] if detect else None}
    config = with_overrides(config, {"chapters": flags})
    opts = config.chapters
    given = ch.load_chapters(chapters_arg, notes.append) if chapters_arg else None
    path = Path(episode)
    if path.is_dir():
        path = path / "episode.json"
        if not path.is_file():
            raise InputError("folder has no episode.json", episode)
    if opts.write_id3:
        ch.check_id3_source(audio)
    if path.name.endswith(".json") and path.is_file() and _is_episode_json(path):
        ep = Episode.load(path)
        out = Path(output) if output else path.parent
    else:
        if detect_format(path) is None:
            if not path.exists():
                raise InputError("file not found", path)
            raise InputError("not an episode.json or a transcript (SRT, WebVTT, JSON, Markdown or text "
                             "with timestamps)", path)
        duration = None
        if audio:
            from ..audio import probe

            duration = probe(audio).duration
        ep = import_transcript(path, audio=audio, duration=duration, warn=notes.append).episode
        out = Path(output) if output else Path(path.stem or "episode")
    ep = ch.chapters_stage(ep, opts, collected, given=given, audio=audio)
    files = render(ep, out, templates_dir, only=["chapters.json", "youtube_chapters.txt", "transcript.md"])
    if opts.write_id3:
        files.append(ch.write_id3(audio, out / f"{Path(audio).stem}.chapters.mp3", ep))
    source = ep.provenance["chapters"].settings.get("source")
    if as_json:
        echo(json.dumps({"source": source, "chapters": [c.model_dump() for c in ep.chapters],
                               "files": [str(f) for f in files]}))
    elif not quiet:
        for c in ep.chapters:
            echo(f"{hms(c.start)}  {c.title}")
    if not quiet:
        for note in notes:
            echo(f"podtools: {note}", err=True)
        echo(f"{episode}: {len(ep.chapters)} chapters ({source or 'none'}) -> {out}/", err=True)


def _is_episode_json(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return b'"schema_version"' in fh.read(4096)
    except OSError:
        return False
