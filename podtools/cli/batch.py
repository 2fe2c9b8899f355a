"""``podtools batch`` (a back catalogue into a catalogue), ``search``, ``trends``, ``catalog``."""

from __future__ import annotations

import json
import os
import threading

import click
from rich.markup import escape

from .group import cli
from ..textsafe import terminal_text
from .progress import clean_line, echo
from .summarize import apply_llm_flags, llm_options

DEFAULT_ROOT = "catalogue"


def _default_root() -> str:
    return os.environ.get("PODTOOLS_CATALOG", DEFAULT_ROOT)


def catalog_option(fn):
    return click.option(
        "-c", "--catalog", "catalog_path", default=_default_root, show_default="./catalogue or $PODTOOLS_CATALOG",
        type=click.Path(), help="Catalogue folder (as given to `batch -o`) or its catalog.db file.",
    )(fn)


# -- progress --------------------------------------------------------------------------------


class BatchProgress:
    """Implements :class:`podtools.batch.BatchObserver`: an overall bar (episodes, ETA) and one
    bar per episode in flight (audio time, or MB while downloading). Thread-safe."""

    def __init__(self, enabled: bool = True):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.quiet = not enabled
        self.live = enabled and self.console.is_terminal
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[pos]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.live,
        )
        self._overall = None
        self._tasks: dict[str, int] = {}
        self._titles: dict[str, str] = {}
        self._state: dict[str, tuple[str, float | None]] = {}  # uid -> (unit, total)
        self._done = 0
        self._todo = 0
        self._lock = threading.Lock()

    def __enter__(self):
        self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        self._bar.__exit__(*exc)

    def _print(self, text: str) -> None:
        if self.quiet:
            return
        text = terminal_text(text)
        if self.live:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            echo(text, err=True)

    def planned(self, todo: int, skipped: int) -> None:
        self._todo = todo
        if todo:
            self._overall = self._bar.add_task("[bold]episodes", total=todo, pos=f"0/{todo}")
        if skipped and not self.quiet:
            self._print(f"{skipped} episodes skipped (finished before, failed before, or not selected)")

    def episode_started(self, uid: str, title: str) -> None:
        with self._lock:
            title = clean_line(title)  # a feed's title holds no escape codes ...
            self._titles[uid] = title
            short = title if len(title) <= 40 else title[:39] + "\u2026"
            self._tasks[uid] = self._bar.add_task(f"  {escape(short)}", total=None, pos="")  # ... nor markup

    def stage(self, uid: str, name: str, total: float | None) -> None:
        with self._lock:
            task = self._tasks.get(uid)
            if task is None:
                return
            short = self._titles[uid] if len(self._titles[uid]) <= 32 else self._titles[uid][:31] + "\u2026"
            self._bar.reset(task, total=total or None, description=f"  {escape(short)} \u00b7 {name}", pos="")
            self._state[uid] = ("MB" if name == "download" else "s", total or None)

    def advance(self, uid: str, done: float) -> None:
        with self._lock:
            task = self._tasks.get(uid)
            if task is None:
                return
            unit, total = self._state.get(uid, ("s", None))
            if unit == "MB":
                pos = f"{done:.1f} MB"
            else:
                pos = f"{_mmss(done)}/{_mmss(total)}" if total else _mmss(done)
            self._bar.update(task, completed=done, pos=pos)

    def episode_finished(self, uid: str, status: str, error: str | None) -> None:
        with self._lock:
            task = self._tasks.pop(uid, None)
            if task is not None:
                self._bar.remove_task(task)
            title = self._titles.pop(uid, uid)
            self._state.pop(uid, None)
            self._done += 1
            if self._overall is not None:
                self._bar.update(self._overall, completed=self._done, pos=f"{self._done}/{self._todo}")
        mark = {"done": "done", "failed": "FAILED", "duplicate": "duplicate", "stopped": "stopped"}.get(status, status)
        self._print(f"{mark}: {title}" + (f": {error}" if error and status != "done" else ""))

    def note(self, message: str) -> None:
        self._print(f"podtools: {message}")


def _mmss(seconds: float | None) -> str:
    s = int(seconds or 0)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# -- batch -----------------------------------------------------------------------------------


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", default=_default_root, show_default="./catalogue or $PODTOOLS_CATALOG",
              type=click.Path(file_okay=False), help="Catalogue folder: catalog.db, index.html, episodes/.")
@click.option("-w", "--workers", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Episodes processed at once (each worker loads its models once).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local worker processes, or Ray actors (pip install 'podtools[ray]').")
@click.option("--ray-address", help="Ray cluster to join (ray://host:10001 or auto); default: a local Ray.")
@click.option("--ray-temp-dir", type=click.Path(file_okay=False), hidden=True, help="Temp folder of a local Ray.")
@click.option("--since", help="Only episodes published since: 2024-05-01, a date-time, or 30d / 6w / 12h.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many episodes this run.")
@click.option("--order", type=click.Choice(["newest", "oldest"]), default="newest", show_default=True,
              help="Which episodes go first.")
@click.option("--only-new", is_flag=True,
              help="Only episodes newer than the newest one of the same source already in the catalogue.")
@click.option("--retry-failed", is_flag=True, help="Process episodes that failed in an earlier run again.")
@click.option("--max-size", type=click.FloatRange(min=0.001), default=2048.0, show_default=True,
              help="Refuse enclosures larger than this many MB.")
@click.option("--download-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds without data before a download is resumed (3 tries).")
@click.option("--allow-private", is_flag=True,
              help="Let feeds and enclosures (and their redirects) be on private and loopback addresses.")
@click.option("--pipeline", default="default", show_default=True, help="Preset name or a pipeline .toml file.")
@click.option("--model", help="Whisper model: 'auto' (default: base when installed, else tiny.en), 'base', "
                               "'embedded' (tiny.en), a faster-whisper name, or a model directory.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Compute device.")
@click.option("--compute-type", help="CTranslate2 compute type.")
@click.option("--language", help="Spoken language code, e.g. en (default: detect).")
@click.option("--voices", "voices_dir", type=click.Path(), metavar="DIR",
              help="Voice library folder: speakers whose voice is there are named (default: the user data folder).")
@click.option("--learn-voices", is_flag=True,
              help="Enroll speakers named in an episode (given or self-introduced) into the voice library, "
                   "so they are named by voice in later episodes.")
@click.option("--vocab", "vocab", multiple=True, metavar="NAMES",
              help="The show's own names (comma-separated, repeatable): given to Whisper and found as mentions "
                   "in every episode.")
@click.option("--vocab-file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Names for --vocab, one per line or comma-separated.")
@click.option("--caption-chars", type=click.IntRange(16, 200), metavar="N",
              help="Characters per caption line in transcript.srt/.vtt (default 32 for SRT, 65 for VTT).")
@click.option("--caption-lines", type=click.IntRange(1, 4), metavar="N",
              help="Lines per caption cue in transcript.srt/.vtt (default 2).")
@click.option("--set", "settings", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override a preset setting, e.g. --set diarize.enabled=false (repeatable).")
@click.option("--no-cache", is_flag=True, help="Re-run every stage even if a cached result exists.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
              help="Folder of Jinja templates overriding the shipped ones.")
@click.option("--dry-run", is_flag=True, help="List what would be processed, process nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars, only errors and the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@llm_options
def batch(sources, output, workers, engine, ray_address, ray_temp_dir, since, limit, order, only_new, retry_failed,
          max_size, download_timeout, allow_private, pipeline, model, device, compute_type, language, voices_dir, learn_voices,
          vocab, vocab_file, caption_chars, caption_lines, settings, no_cache, templates_dir, dry_run, quiet, as_json,
          **llm_flags) -> None:
    """Process a back catalogue: SOURCES are RSS/Atom feed URLs or files, folders, globs
    ("shows/*.mp3"), or text files listing any of these (one per line).

    Finished episodes are skipped, so the same command resumes a stopped batch. One folder per
    episode under OUTPUT/episodes, the catalogue OUTPUT/catalog.db (see `podtools search`,
    `trends`, `catalog`) and OUTPUT/index.html. Exit status 1 when an episode failed.
    """
    from ..batch import BatchOptions, Selection, parse_since, run_batch
    from ..config import parse_settings
    from ..config import load_pipeline, with_overrides
    from .ingest import vocabulary

    overrides = parse_settings(settings)
    overrides.setdefault("transcribe", {}).update(
        {k: v for k, v in {"model": model, "device": device, "compute_type": compute_type,
                           "language": language}.items() if v is not None})
    overrides.setdefault("diarize", {}).update(
        {k: v for k, v in {"voices": voices_dir, "learn_voices": learn_voices or None}.items() if v is not None})
    config = apply_llm_flags(with_overrides(load_pipeline(pipeline), overrides), llm_flags)
    names = vocabulary(vocab, vocab_file)
    if names:
        config = with_overrides(config, {"mentions": {"vocabulary": [*config.mentions.vocabulary, *names]}})
    config = with_overrides(config, {"captions": {"chars": caption_chars, "lines": caption_lines}})
    if not dry_run:  # a wrong key, URL or model fails once, now, not in every episode
        from ..summarize import prepare_llm

        prepare_llm(config.summarize, config.llm)
    options = BatchOptions(workers=workers, engine=engine, ray_address=ray_address, ray_temp_dir=ray_temp_dir,
                           retry_failed=retry_failed, max_bytes=int(max_size * 1024**2),
                           download_timeout=download_timeout, use_cache=not no_cache, allow_private=allow_private)
    selection = Selection(since=parse_since(since) if since else None, limit=limit, order=order, only_new=only_new)
    with BatchProgress(enabled=not quiet) as progress:
        summary = run_batch(sources, output, config, options, selection, templates_dir, progress, dry_run=dry_run)
    if as_json:
        echo(json.dumps(summary.to_dict(), indent=2))
    else:
        _print_summary(summary, dry_run)
    if summary.failed:
        raise SystemExit(1)


def _print_summary(s, dry_run: bool) -> None:
    out = lambda text: echo(text, err=True)  # noqa: E731
    if dry_run:
        out(f"would process {len(s.planned)} episodes:")
        for title in s.planned:
            echo(f"  {clean_line(title)}")
    parts = [f"{len(s.done)} done"]
    if s.adopted:
        parts.append(f"{s.adopted} recovered from an interrupted run")
    if s.skipped_done:
        parts.append(f"{s.skipped_done} already done")
    if s.skipped_failed:
        parts.append(f"{s.skipped_failed} failed before (retry with --retry-failed)")
    if s.skipped_selection:
        parts.append(f"{s.skipped_selection} not selected")
    if s.duplicates:
        parts.append(f"{len(s.duplicates)} duplicates")
    parts.append(f"{len(s.failed)} failed")
    out(f"batch: {', '.join(parts)} ({s.seconds:.1f} s)")
    for title, error in s.failed:
        out(f"  failed: {clean_line(title)}: {clean_line(error)}")
    for title, original in s.duplicates:
        out(f"  duplicate: {clean_line(title)} (same audio as {clean_line(original)})")
    out(f"catalogue: {s.root / 'catalog.db'}  index: {s.root / 'index.html'}")


# -- search ----------------------------------------------------------------------------------


def _open(catalog_path: str):
    from ..catalog import Catalog

    return Catalog.open(catalog_path, create=False)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@catalog_option
@click.option("-n", "--limit", type=click.IntRange(1, 10000), default=20, show_default=True, help="Most hits shown.")
@click.option("--speaker", help="Only segments of this speaker (name or SPEAKER_xx).")
@click.option("--fts", "raw", is_flag=True, help="QUERY is SQLite FTS5 syntax (AND, OR, NOT, NEAR, prefix*).")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
def search(query, catalog_path, limit, speaker, raw, as_json) -> None:
    """Full-text search over every transcript in the catalogue: episode, time, speaker, snippet.

    Words must all occur in a segment; put a phrase in quotes: podtools search '"Llama 3.1" MMLU'.
    """
    from ..timefmt import hms

    text = " ".join(query)
    with _open(catalog_path) as cat:
        hits = cat.search(text, limit=limit, raw=raw, speaker=speaker)
    if as_json:
        echo(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=True))
        return
    if not hits:
        echo(f"no matches for {text!r}", err=True)
        return
    for h in hits:
        date = (h.published or "")[:10]
        who = f"{h.speaker}: " if h.speaker else ""
        echo(clean_line(f"{date}  {h.episode_title}  [{hms(h.start)}]  {who}{h.snippet}"))


# -- trends ----------------------------------------------------------------------------------


@cli.command()
@click.argument("names", nargs=-1)
@catalog_option
@click.option("--kind", help="Only mentions of this kind (model, benchmark, org ...).")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True,
              help="Without NAMES: chart the most mentioned names.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write the table as CSV.")
@click.option("--png", "png_path", type=click.Path(dir_okay=False), help="Write a plot (matplotlib PNG).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def trends(names, catalog_path, kind, top, csv_path, png_path, as_json) -> None:
    """Mentions per episode over publish date of NAMES (AI models, benchmarks ...), or of the
    most mentioned ones: a table, and optionally CSV and a PNG plot."""
    from ..trends import table_rows, write_csv, write_png

    with _open(catalog_path) as cat:
        result = cat.trends(list(names) or None, top=top, kind=kind)
    for name, close in result.unknown.items():
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        echo(f"podtools: no mentions of {name!r} in the catalogue{hint}", err=True)
    if not result.names:
        echo("podtools: the catalogue has no mentions yet (is the mentions stage in the pipeline?)", err=True)
    if csv_path:
        write_csv(result, csv_path)
    if png_path:
        write_png(result, png_path)
    if as_json:
        echo(json.dumps({"names": result.names, "episodes": [
            {**ep, "counts": dict(zip(result.names, counts))} for ep, counts in zip(result.episodes, result.counts)
        ]}, indent=2, ensure_ascii=True))
        return
    header, rows = table_rows(result)
    _table(header, rows)


def _table(header: list[str], rows: list[list[str]]) -> None:
    header, rows = [clean_line(c) for c in header], [[clean_line(c) for c in row] for row in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    widths = [min(w, 50) for w in widths[:-1]] + widths[-1:]  # the last column (a reason) is never cut

    def fmt(cells):
        return "  ".join(str(c)[:w].ljust(w) if i < len(cells) - 1 else str(c)[:w]
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    echo(fmt(header))
    echo("  ".join("-" * w for w in widths))
    for row in rows:
        echo(fmt(row))


# -- catalog ---------------------------------------------------------------------------------


@cli.command("catalog")
@catalog_option
@click.option("--status", type=click.Choice(["done", "failed", "pending", "running", "interrupted", "duplicate"]),
              help="Only episodes with this status (interrupted: running when a batch was killed).")
@click.option("--stages", is_flag=True, help="Show each episode's stage timings (last run).")
@click.option("--json", "as_json", is_flag=True, help="Print the episodes as JSON.")
def catalog_cmd(catalog_path, status, stages, as_json) -> None:
    """Status of every episode in the catalogue: done, failed (with the reason), pending."""
    import dataclasses

    from ..timefmt import hms

    with _open(catalog_path) as cat:
        rows = cat.episodes("running" if status == "interrupted" else status)
        rows, counts = cat.live_status(rows, cat.counts())
        if status in ("running", "interrupted"):
            rows = [r for r in rows if r.status == status]
        stage_rows = {r.id: cat.stages_of(r.id) for r in rows} if (stages or as_json) else {}
    if as_json:
        echo(json.dumps({"counts": counts, "episodes": [
            {**dataclasses.asdict(r), "stages": [dict(s) for s in stage_rows.get(r.id, [])]} for r in rows
        ]}, indent=2, ensure_ascii=True))
        return
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    echo(f"{sum(counts.values())} episodes: {summary or 'none'}")
    table = []
    for r in rows:
        reason = r.error or ""
        table.append([r.status, (r.published or "")[:10], r.title or r.uid, hms(r.duration) if r.duration else "",
                      f"{r.seconds:.1f}" if r.seconds is not None else "", reason])
        if stages:
            for s in stage_rows.get(r.id, []):
                secs = f"{s['seconds']:.2f}" if s["seconds"] is not None else ""
                table.append(["", "", f"  {s['stage']}", "", secs, s["error"] or s["status"]])
    if table:
        _table(["status", "published", "title", "length", "seconds", "reason"], table)
