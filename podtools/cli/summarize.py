"""``podtools summarize`` (the summarize stage alone, on an episode.json) and ``podtools render``
(re-render outputs from an episode.json without re-running anything). Also the ``--llm-*``
flags that ``ingest`` shares."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import click

from .group import cli
from .progress import RichProgress, echo

SUMMARY_OUTPUTS = ("summary.md", "show_notes.md", "newsletter.md", "youtube_description.txt", "episode.html")
LLM_FLAGS = ("llm_provider", "llm_model", "llm_base_url", "llm_key_env", "max_cost", "no_llm")


def llm_options(fn):
    """The LLM flags; each overrides the user config file, PODTOOLS_LLM_* and the preset's [llm]."""
    from ..llm import PROVIDERS

    options = [
        click.option("--llm-provider", type=click.Choice(sorted(PROVIDERS)),
                     help="Provider preset: base URL and key variable of a known server (e.g. ollama)."),
        click.option("--llm-model", help="LLM for summaries, e.g. gpt-4o-mini or llama3.1 (default: none, extractive)."),
        click.option("--llm-base-url", help="OpenAI-compatible base URL, e.g. http://localhost:11434/v1."),
        click.option("--llm-key-env", metavar="VAR", help="Environment variable holding the API key (default OPENAI_API_KEY)."),
        click.option("--max-cost", type=float, metavar="USD", help="Refuse to start if the estimated LLM cost is higher."),
        click.option("--no-llm", is_flag=True, help="Extractive summaries even if an LLM is configured."),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), fn)


def pop_llm_flags(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in LLM_FLAGS if k in kwargs}


def apply_llm_flags(config, flags: dict[str, Any]):
    """``config`` with its [llm] settings resolved (preset < config file < PODTOOLS_LLM_* < flags)."""
    from ..llm import resolve_settings

    llm = resolve_settings(config.llm, {
        "provider": flags.get("llm_provider"),
        "model": flags.get("llm_model"),
        "base_url": flags.get("llm_base_url"),
        "key_env": flags.get("llm_key_env"),
        "max_cost": flags.get("max_cost"),
    })
    update: dict[str, Any] = {"llm": llm}
    if flags.get("no_llm"):
        update["summarize"] = config.summarize.model_copy(update={"method": "extractive"})
    return config.model_copy(update=update)


@cli.command()
@click.argument("episode_json", type=click.Path(dir_okay=False))
@llm_options
@click.option("--pipeline", default="default", show_default=True, help="Preset name or a pipeline .toml file.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
              help="Folder of Jinja templates (prompts and outputs) overriding the shipped ones.")
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Output folder (default: the episode.json's).")
@click.option("--dry-run", is_flag=True, help="Print the LLM calls and their token counts, write nothing; on a local server, send one "
                   "short probe and estimate the run's wall time.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary (usage, files) on stdout.")
def summarize(episode_json: str, pipeline: str, templates_dir, output, dry_run: bool, quiet: bool, as_json: bool,
              **kwargs) -> None:
    """Summarize EPISODE_JSON: chapter and episode summaries, TL;DR, takeaways, quotes; then write
    summary.md, show_notes.md, newsletter.md, youtube_description.txt and episode.html."""
    from ..models import Episode
    from ..config import load_pipeline
    from ..outputs import render
    from ..templating import environment
    from ..summarize import prepare_llm
    from ..summarize import summarize as run_summarize

    flags = pop_llm_flags(kwargs)
    episode = Episode.load(episode_json)
    config = apply_llm_flags(load_pipeline(pipeline), flags)
    environment(templates_dir)  # a missing --templates folder fails before any LLM call
    llm = prepare_llm(config.summarize, config.llm, dry_run=dry_run)
    with RichProgress(Path(episode_json).name, enabled=not quiet and not dry_run) as progress:
        result = run_summarize(episode, config.summarize, config.llm, templates_dir, progress, dry_run=dry_run, llm=llm)
        if dry_run:
            progress.notes.clear()
    if dry_run:
        if result.usage is None:
            echo("no LLM configured: the extractive summarizer makes no calls")
        else:
            local = llm is not None and llm.settings.is_local()
            echo(f"LLM {result.usage.model} at {result.usage.base_url} (dry run, "
                 + ("one short probe sent)" if local else "nothing sent)"))
            echo(result.usage.table())
            if local:
                echo(_estimate(llm, result.usage))
        if as_json and result.usage is not None:
            echo(json.dumps({"dry_run": True, "calls": [r.__dict__ for r in result.usage.records]}))
        return
    out = Path(output) if output else Path(episode_json).resolve().parent
    files = render(result.episode, out, templates_dir, only=SUMMARY_OUTPUTS)
    if as_json:
        echo(json.dumps({
            "episode": result.episode.id,
            "method": result.method,
            "usage": result.usage.as_dict() if result.usage else None,
            "files": [str(p) for p in files],
        }))
    elif not quiet:
        echo(f"{episode_json}: {result.method} summary -> {out}/", err=True)


@cli.command("render")
@click.argument("episode_json", type=click.Path(dir_okay=False))
@click.option("-t", "--template", "names", multiple=True, metavar="NAME",
              help="Output to write (show_notes.md, episode.html ...) or a template file name such as "
                   "my_notes.md.j2 in --templates; repeatable. Default: every output.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
              help="Folder of Jinja templates overriding the shipped ones.")
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Output folder (default: the episode.json's).")
@click.option("--publish-base-url", metavar="URL",
              help="Where the files will be online (https://.../), for feed_tags.xml; kept in episode.toml.")
@click.option("--from", "edited", type=click.Path(dir_okay=False), metavar="TRANSCRIPT_MD",
              help="Read a transcript.md edited by hand back into the episode first (text, speaker names, "
                   "chapter titles; word times kept outside edited words), then re-render every file.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing.")
def render_command(episode_json: str, names: tuple[str, ...], templates_dir, output, publish_base_url, edited,
                   quiet: bool) -> None:
    """Re-render outputs of EPISODE_JSON from templates, without re-running any stage."""
    if edited:
        if names or output:
            raise click.UsageError("--from re-renders every file of the episode's folder: no -t or -o with it")
        _render_from(episode_json, edited, templates_dir, publish_base_url, quiet)
        return
    from ..edits import load_edits, save_edits
    from ..errors import ConfigError
    from ..fsutil import atomic_write_text, ensure_writable_dir
    from ..models import Episode
    from ..publish import check_base_url
    from ..outputs import OUTPUTS, RenderContext
    from ..templating import environment
    from ..outputs.notes import render_document

    episode = Episode.load(episode_json)
    env = environment(templates_dir)
    out = ensure_writable_dir(Path(output) if output else Path(episode_json).resolve().parent)
    edits = load_edits(out)
    if publish_base_url is not None:
        edits.base_url = check_base_url(publish_base_url)
    ctx = RenderContext(Path(templates_dir) if templates_dir else None, edits.base_url, edits.caption_options(), out)
    written = []
    for name in names or tuple(OUTPUTS):
        if name in OUTPUTS:
            text = OUTPUTS[name](episode, ctx)
            target = name
        else:
            template = name if name.endswith((".j2", ".jinja")) else f"{name}.j2"
            if template not in env.list_templates():
                raise ConfigError(f"unknown template {name!r}; outputs: {', '.join(OUTPUTS)}, or a .j2 file in "
                                  "--templates")
            text = render_document(template, episode, templates_dir)
            target = Path(template).name.removesuffix(".j2").removesuffix(".jinja")
        written.append(atomic_write_text(out / target, text))
    if publish_base_url is not None:
        written.append(save_edits(out, edits))
    if not quiet:
        for path in written:
            echo(str(path))


def _render_from(episode_json: str, edited: str, templates_dir, publish_base_url, quiet: bool) -> None:
    from ..correct import edit_transcript, episode_folder
    from ..edits import load_edits, save_edits
    from ..publish import check_base_url
    from ..textsafe import terminal_text

    folder = episode_folder(episode_json)
    if publish_base_url is not None:
        edits = load_edits(folder)
        edits.base_url = check_base_url(publish_base_url)
        save_edits(folder, edits)
    result = edit_transcript(folder, edited, templates_dir)
    if not quiet:
        for note in result.changes:
            echo(terminal_text(f"podtools: {edited}: {note}"), err=True)
        if any(f.name == "transcript.edited.md" for f in result.files):
            echo(f"podtools: your edited file is kept as {folder / 'transcript.edited.md'}", err=True)
        echo(f"{folder}: {len(result.files)} files written from {edited}", err=True)


def _estimate(llm, usage) -> str:
    """The run's wall time on this local server, from one short probe of its speed."""
    from ..errors import ModelError

    planned = [r for r in usage.records if r.dry_run and not r.cached]
    if not planned:
        return "estimated wall time: nothing to send (every answer is cached)"
    try:
        speed = llm.probe_speed()
    except ModelError as exc:
        return f"no wall-time estimate: {exc}"
    n = llm.concurrency()
    low, high = speed.seconds(planned, n, 0.5), speed.seconds(planned, n, 1.0)
    answers = f"{speed.answer_rate:.1f} answer tokens/s" if speed.answer_rate else "answer speed unknown"
    return (f"estimated wall time: {_minutes(low)} to {_minutes(high)} (answers at half their cap to the full cap; "
            f"probe: {speed.prompt_rate:.0f} prompt tokens/s, {answers}; {n} request{'s' if n > 1 else ''} at once)")


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
