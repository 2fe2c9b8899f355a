"""``podtools mentions``: the mentions stage alone, on an episode.json or any transcript."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .progress import echo
from .group import cli


@cli.command()
@click.argument("episode")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Extra catalog (YAML, same format as the shipped one); repeatable.")
@click.option("--pipeline", default="default", show_default=True, help="Preset whose [mentions] settings apply.")
@click.option("--people-orgs/--no-people-orgs", default=None,
              help="Also find other organizations and people with spaCy's NER (slower).")
@click.option("--fuzzy/--no-fuzzy", default=None, help="Fuzzy/phonetic matching of garbled names.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), help="Drop mentions below this confidence.")
@click.option("--vocab", multiple=True, metavar="NAMES",
              help='The show\'s own names to find too, e.g. "Nisten, LDJ, Weights & Biases"; repeatable.')
@click.option("--vocab-file", type=click.Path(dir_okay=False), metavar="FILE", help="Names, one per line.")
@click.option("-o", "--output", type=click.Path(),
              help="Output folder (default: the episode.json's folder, or ./<name> for a transcript).")
@click.option("-q", "--quiet", is_flag=True, help="No table of names.")
@click.option("--json", "as_json", is_flag=True, help="Print the totals per name as JSON on stdout.")
def mentions(episode: str, catalogs, pipeline, people_orgs, fuzzy, min_confidence, vocab, vocab_file, output, quiet,
             as_json) -> None:
    """Find the AI models, benchmarks and organizations discussed in EPISODE.

    EPISODE is an episode.json (or its folder) or a transcript (SRT, WebVTT, JSON, Markdown,
    text). Writes mentions.json, mentions.csv and the updated episode.json.
    """
    from ..mentions.stage import mentions_stage
    from ..mentions.outputs import aggregate
    from ..config import load_pipeline, with_overrides
    from ..outputs import render
    from ..timefmt import hms

    notes: list[str] = []
    config = load_pipeline(pipeline)
    flags = {"people_orgs": people_orgs, "fuzzy": fuzzy, "min_confidence": min_confidence,
             "catalog": [*config.mentions.catalog, *catalogs] if catalogs else None}
    from .ingest import vocabulary

    names = vocabulary(vocab, vocab_file)
    if names:
        flags["vocabulary"] = [*config.mentions.vocabulary, *names]
    opts = with_overrides(config, {"mentions": flags}).mentions
    ep, out = _load(episode, output, notes)
    ep = mentions_stage(ep, opts)
    files = render(ep, out, only=["mentions.json", "mentions.csv"])
    names = aggregate(ep)["names"]
    if as_json:
        echo(json.dumps({"mentions": len(ep.mentions), "names": names, "files": [str(f) for f in files]}))
    elif not quiet:
        for n in names:
            flag = "" if n["known"] else "  (not in catalog)"
            echo(f"{n['count']:4d}  {n['kind']:<9}  {n['canonical']}  first at {hms(n['first'])}{flag}")
    if not quiet:
        for note in notes:
            echo(f"podtools: {note}", err=True)
        echo(f"{episode}: {len(ep.mentions)} mentions of {len(names)} names -> {out}/", err=True)


def _load(episode: str, output, notes: list[str]):
    from ..errors import InputError
    from ..models import Episode
    from .chapters import _is_episode_json  # the same sniffing as `podtools chapters`

    path = Path(episode)
    if path.is_dir():
        path = path / "episode.json"
        if not path.is_file():
            raise InputError("folder has no episode.json", episode)
    if not path.exists():
        raise InputError("file not found", path)
    if path.suffix == ".json" and _is_episode_json(path):
        return Episode.load(path), Path(output) if output else path.parent
    try:
        from ..formats.imports import detect_format, import_transcript
    except ImportError:  # pragma: no cover - the importers ship with podtools
        raise InputError("not an episode.json", path) from None
    fmt = detect_format(path)
    if fmt is None:
        raise InputError("not an episode.json or a transcript (SRT, WebVTT, JSON, Markdown or text)", path)
    out = Path(output) if output else Path(path.stem or "episode")
    try:
        return import_transcript(path, warn=notes.append).episode, out
    except InputError as exc:
        if fmt not in ("text", "markdown") or "timestamp" not in str(exc):
            raise
    notes.append(f"{path}: no timestamps: mentions are listed without times")
    return _plain_text_episode(path), out


def _plain_text_episode(path: Path):
    """A text without timestamps (an article, notes): one segment per line, all at time 0."""
    from ..formats.pieces import split_speaker_prefix
    from ..fsutil import sha256_file
    from ..mentions.text import clean
    from ..models import Episode, Segment

    segments = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = clean(line).strip()
            if not line:
                continue
            speaker, text = split_speaker_prefix(line)
            segments.append(Segment(start=0.0, end=0.0, text=text.strip() or line, speaker=speaker))
    return Episode(id=sha256_file(path), source=str(path), title=path.stem, segments=segments)
