"""``podtools ingest`` (whole pipeline) and ``podtools transcribe`` (ASR stage alone)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from .group import cli
from .progress import RichProgress, clean_line, echo
from .diarize import apply_diarize_flags, diarize_flags, pop_diarize_flags
from .summarize import llm_options


def transcribe_options(fn):
    """Flags of the transcribe stage; each overrides the preset's ``[transcribe]`` value."""
    options = [
        click.option("--pipeline", "pipeline", default="default", show_default=True,
                     help="Preset name (default, fast, gpu) or a pipeline .toml file."),
        click.option("--model", help="'auto' (default: the best model at hand offline, base when installed), "
                                     "'base', 'embedded' (tiny.en), a faster-whisper name, or a model directory."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Compute device."),
        click.option("--compute-type", help="CTranslate2 compute type (auto: int8 on CPU, float16 on CUDA)."),
        click.option("--language", help="Spoken language code, e.g. en (default: detect)."),
        click.option("--batched/--sequential", default=None, help="Batched inference over VAD chunks, or sequential."),
        click.option("--batch-size", type=int, help="Batch size of the batched pipeline."),
        click.option("--beam-size", type=int, help="Beam size."),
        click.option("--vocab", "vocab", multiple=True, metavar="NAMES",
                     help='The show\'s own names, e.g. "Nisten, LDJ, Weights & Biases": given to Whisper after the '
                          "catalog's names, and found as mentions; repeatable."),
        click.option("--vocab-file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Names for --vocab, one per line or comma-separated."),
        click.option("--caption-chars", type=click.IntRange(16, 200), metavar="N",
                     help="Characters per caption line in transcript.srt/.vtt (default 32 for SRT, 65 for VTT)."),
        click.option("--caption-lines", type=click.IntRange(1, 4), metavar="N",
                     help="Lines per caption cue in transcript.srt/.vtt (default 2)."),
        click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
                     help="Folder of Jinja templates overriding the shipped ones."),
        click.option("-o", "--output", "output", type=click.Path(), help="Output folder (default: ./<episode name>)."),
        click.option("--no-cache", "no_cache", is_flag=True, help="Re-run every stage even if a cached result exists."),
        click.option("--allow-private", is_flag=True,
                     help="Let URLs (and their redirects) reach private and loopback addresses."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes."),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON summary of the result on stdout."),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), fn)


def vocabulary(vocab: tuple[str, ...], vocab_file: str | None) -> list[str]:
    """The names of --vocab (comma-separated, repeatable) and --vocab-file, in order, once each."""
    from ..formats.text import read_text
    from ..mentions.catalog import parse_vocabulary

    text = "\n".join(vocab)
    if vocab_file:
        text += "\n" + read_text(vocab_file)
    names = parse_vocabulary(text)
    if vocab_file and not parse_vocabulary(read_text(vocab_file)):
        from ..errors import InputError

        raise InputError("no names in the vocabulary file (one per line, or comma-separated)", vocab_file)
    return names


def _config(pipeline: str, **flags):
    from ..config import load_pipeline, with_overrides

    return with_overrides(load_pipeline(pipeline), {"transcribe": flags})


def _run(episode_arg: str, only_transcribe: bool, pipeline, templates_dir, output, quiet, as_json, no_cache,
         audio=None, chapters=None, write_id3=False, catalogs=(), allow_private=False, force=False,
         publish_base_url=None, vocab=(), vocab_file=None, caption_chars=None, caption_lines=None, **flags):
    from ..config import with_overrides
    from ..pipeline import ingest
    from .summarize import apply_llm_flags, pop_llm_flags

    llm_flags = pop_llm_flags(flags)
    diarize_flags_given = pop_diarize_flags(flags)
    config = _config(pipeline, **flags)
    if not only_transcribe:
        config = apply_diarize_flags(config, diarize_flags_given)
    if not only_transcribe:
        config = apply_llm_flags(config, llm_flags)
    if write_id3:
        config = with_overrides(config, {"chapters": {"write_id3": True}})
    if catalogs:
        config = with_overrides(config, {"mentions": {"catalog": [*config.mentions.catalog, *catalogs]}})
    names = vocabulary(vocab, vocab_file)
    if names:
        config = with_overrides(config, {"mentions": {"vocabulary": [*config.mentions.vocabulary, *names]}})
    config = with_overrides(config, {"captions": {"chars": caption_chars, "lines": caption_lines}})
    out = Path(output) if output else Path(Path(episode_arg.rstrip("/")).stem or "episode")
    with RichProgress(Path(episode_arg).name, enabled=not quiet) as progress:
        result = ingest(episode_arg, out, config, templates_dir, progress, only_transcribe=only_transcribe,
                        use_cache=not no_cache, audio=audio, chapters=chapters, allow_private=allow_private,
                        force=force, publish_base_url=publish_base_url)
    ep = result.episode
    if as_json:
        echo(json.dumps({
            "episode": ep.id,
            "source": ep.source,
            "duration": ep.duration,
            "segments": len(ep.segments),
            "model": _model_of(ep),
            "chapters": len(ep.chapters),
            "files": [str(p) for p in result.files],
        }))
    elif not quiet:
        model = _model_of(ep)
        echo(f"{episode_arg}: {len(ep.segments)} segments, {ep.duration:.1f} s"
             f"{f', model {model}' if model else ''} -> {out}/", err=True)


def _model_of(episode) -> str | None:
    """The Whisper model the transcript was made with, as recorded (``auto: base``), or None for
    an imported transcript."""
    run = episode.provenance.get("transcribe")
    return clean_line(run.model) if run is not None and run.model else None  # an episode.json is untrusted


@cli.command()
@click.argument("episode")
@transcribe_options
@diarize_flags
@llm_options
@click.option("--audio", metavar="FILE|URL",
              help="The episode's audio when EPISODE is a transcript (for diarization and --write-id3).")
@click.option("--chapters", metavar="FILE|TEXT",
              help="Chapters: a file of '00:00 Title' lines or Podcasting 2.0 JSON, or the lines themselves.")
@click.option("--write-id3", is_flag=True, default=None,
              help="Also write NAME.chapters.mp3: a copy of the MP3 with ID3 CHAP/CTOC chapters.")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Extra catalog of AI models and benchmarks (YAML, same format as the shipped one); repeatable.")
@click.option("--publish-base-url", metavar="URL",
              help="Where the episode's files will be online (https://.../); feed_tags.xml points there. "
                   "Kept in the folder's episode.toml for later runs.")
def ingest(episode: str, **kwargs) -> None:
    """Run the whole pipeline on EPISODE: an audio/video file or http(s) URL, or a transcript
    (SRT, WebVTT, Podcasting 2.0 JSON, episode.json, Markdown or text with timestamps)."""
    _run(episode, False, **kwargs)


@cli.command()
@click.argument("episode")
@transcribe_options
@click.option("--force", is_flag=True,
              help="Replace an episode made by `ingest` in the output folder (its speakers, chapters, "
                   "mentions and summaries, and their files, are removed).")
def transcribe(episode: str, force: bool, **kwargs) -> None:
    """Transcribe EPISODE only: episode.json and transcript.{md,txt,srt,vtt,json}."""
    _run(episode, True, force=force, **kwargs)
