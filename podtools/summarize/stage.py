"""The summarize stage: :func:`summarize` (an Episode in, the Episode with its summaries out),
:func:`prepare_llm`, the cost check, and assembling the summaries into the Episode."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from .. import __version__
from ..errors import ConfigError, ModelError
from ..llm import LLM
from ..models import Bullet, Episode, Quote, StageRun, Summary
from ..progress import NullProgress
from .mapreduce import _LazyExtractor, _MapReduce
from .options import PROMPT_VERSION, UNTIMED_SECTION_SECONDS, Category, SummarizeOptions, categories
from .parts import Digest, SummaryPart, summary_parts

if TYPE_CHECKING:  # pragma: no cover
    from ..llm import LLMSettings, Usage
    from ..progress import Progress

log = logging.getLogger("podtools.summarize")


# -- the stage --------------------------------------------------------------------------------------


@dataclass
class SummarizeResult:
    episode: Episode
    method: str  # llm | extractive | none
    usage: Optional["Usage"] = None
    notes: list[str] = field(default_factory=list)


def prepare_llm(options: SummarizeOptions, settings: "LLMSettings | None", dry_run: bool = False) -> "LLM | None":
    """The LLM the stage will use, checked against the server now (key, URL, model), or None.

    Call it before long work (ingest does, before decoding) so that a wrong key fails in
    seconds rather than after the transcript.
    """
    if not options.enabled or options.method == "extractive" or settings is None or not settings.enabled:
        if options.enabled and options.method == "llm":
            raise ConfigError("summarize method 'llm' needs a model: --llm-model, PODTOOLS_LLM_MODEL or [llm] model")
        return None

    llm = LLM(settings, dry_run=dry_run)
    llm.preflight()
    return llm


def summarize(
    episode: Episode,
    options: SummarizeOptions | None = None,
    llm_settings: "LLMSettings | None" = None,
    templates_dir: str | Path | None = None,
    progress=None,
    dry_run: bool = False,
    llm: "LLM | None" = None,
) -> SummarizeResult:
    """Summarize ``episode``; return it with ``summaries`` (and chapter summaries) filled in.

    ``dry_run`` sends nothing: the result's ``usage`` lists the calls that would be sent with
    their token counts (``usage.table()``) and the episode is returned unchanged.
    """
    options = options or SummarizeOptions()
    progress = progress or NullProgress()
    t0 = time.perf_counter()
    if not options.enabled:
        return SummarizeResult(episode, "none")
    use_llm = llm is not None or options.method == "llm" or (
        options.method == "auto" and llm_settings is not None and llm_settings.enabled)
    if options.method == "llm" and not (llm or (llm_settings and llm_settings.enabled)):
        raise ConfigError("summarize method 'llm' needs a model: --llm-model, PODTOOLS_LLM_MODEL or [llm] model")
    notes: list[str] = []
    if not use_llm and options.method == "auto":
        notes.append("no LLM configured (--llm-model, PODTOOLS_LLM_MODEL or [llm] model): "
                     "summaries are extractive (sentences chosen from the transcript)")
    progress.stage("summarize", episode.duration or None)
    if not episode.segments:
        notes = ["the transcript is empty: nothing to summarize"]
        for n in notes:
            progress.note(n)
        return SummarizeResult(episode, "none", notes=notes)

    cats = categories()
    extractor = _LazyExtractor(episode)  # the LLM path needs it only for stand-ins: a re-run from the cache skips spaCy
    if not use_llm:
        secs = summary_parts(episode, UNTIMED_SECTION_SECONDS)
        digests = extractor.digests(secs, options)
        reduced = extractor.episode_summary(secs, digests, options, cats)
        ep = _assemble(episode, secs, digests, reduced, "extractive", None, options, cats)
        ep = _provenance(ep, options, None, None, t0, "extractive")
        progress.advance(episode.duration)
        for n in notes:
            progress.note(n)
        return SummarizeResult(ep, "extractive", notes=notes)

    if llm is None:
        llm = LLM(llm_settings, dry_run=dry_run)
    if not dry_run and llm.settings.max_cost is not None:
        _check_cost(episode, options, llm, templates_dir, extractor, cats)
    runner = _MapReduce(episode, options, llm, templates_dir, extractor, cats, progress)
    try:
        secs, digests, reduced, method = runner.run()
    except ModelError as exc:  # the server failed mid-way (after retries): keep the run, say so
        if dry_run:
            raise
        notes.append(f"LLM failed ({exc}); summaries are extractive instead")
        secs = summary_parts(episode, UNTIMED_SECTION_SECONDS)
        digests = extractor.digests(secs, options)
        reduced = extractor.episode_summary(secs, digests, options, cats)
        ep = _assemble(episode, secs, digests, reduced, "extractive", None, options, cats)
        ep = _provenance(ep, options, llm, None, t0, "extractive", error=str(exc))
        for n in notes:
            progress.note(n)
        return SummarizeResult(ep, "extractive", llm.usage, notes)
    notes += runner.notes
    if dry_run:
        return SummarizeResult(episode, "dry-run", llm.usage, notes)
    ep = _assemble(episode, secs, digests, reduced, method, llm.settings.model, options, cats)
    # what was written, not what was tried: when every answer failed, the text is extractive
    made = "extractive" if ep.summaries["episode"].method == "extractive" and all(
        s.method == "extractive" for k, s in ep.summaries.items() if k != "episode") else "llm"
    ep = _provenance(ep, options, llm, llm.usage, t0, made)
    if made == "extractive":
        notes.append("no LLM answer could be used (every one failed or was invalid): summaries are extractive")
    notes.append(llm.usage.summary_line())
    for n in notes:
        progress.note(n)
    return SummarizeResult(ep, made, llm.usage, notes)


def summarize_stage(
    episode: Episode,
    options: SummarizeOptions | None = None,
    progress: "Progress | None" = None,
    *,
    llm_settings: "LLMSettings | None" = None,
    templates_dir: str | Path | None = None,
    llm: "LLM | None" = None,
) -> Episode:
    """The summarize stage of ``ingest``: ``episode`` with its summaries (by the LLM, else
    extractive). :func:`summarize` is the same run with what it cost and its notes, and the dry
    run that sends nothing."""
    return summarize(episode, options, llm_settings, templates_dir, progress, llm=llm).episode


def _check_cost(episode, options, llm: "LLM", templates_dir, extractor, cats) -> None:
    planner = LLM(llm.settings, cache_dir=llm._cache_root, dry_run=True)
    _MapReduce(episode, options, planner, templates_dir, extractor, cats, None).run()
    usage = planner.usage
    limit = llm.settings.max_cost
    if usage.price is None:
        where = ", ".join(str(p) for p in planner.price_files)
        raise ConfigError(f"--max-cost needs a price for model {llm.settings.model!r}: add it to a price table "
                          f"([llm] prices or ~/.config/podtools/prices.toml; shipped: {where})")
    planned = usage.planned_cost or 0.0
    if planned > limit:
        n = sum(1 for r in usage.records if r.dry_run and not r.cached)
        raise ConfigError(f"estimated LLM cost ${planned:.4f} ({n} calls, {usage.table().splitlines()[-1]}) is above "
                          f"--max-cost ${limit:.4f}; raise the budget or pick a cheaper model (run with --dry-run to see the calls)")


# -- assembling the Episode -------------------------------------------------------------------------


def _assemble(episode: Episode, secs: list[SummaryPart], digests: list[Digest], reduced: dict[str, Any], method: str,
              model: Optional[str], options: SummarizeOptions, cats: list[Category]) -> Episode:
    segs = episode.segments

    def chapter_of(sid: int) -> Optional[int]:
        for sec in secs:
            if sid in sec.segments:
                return sec.chapter
        return None

    def bullet(text: str, sid: Optional[int], category: Optional[str] = None) -> Bullet:
        ok = sid is not None and 0 <= sid < len(segs)
        return Bullet(text=text, segment=sid if ok else None, start=segs[sid].start if ok else None,
                      chapter=chapter_of(sid) if ok else None, category=category)

    def quote(text: str, sid: int) -> Quote:
        s = segs[sid]
        return Quote(text=text, segment=sid, start=s.start, end=s.end, speaker=s.speaker, chapter=chapter_of(sid))

    summaries: dict[str, Summary] = {k: v for k, v in episode.summaries.items()
                                     if not (k == "episode" or k.startswith(("chapter-", "section-")))}
    chapters = [c.model_copy() for c in episode.chapters]
    for sec, d in zip(secs, digests):
        key = f"chapter-{sec.chapter}" if sec.chapter is not None else f"section-{sec.index}"
        dmethod = "extractive" if d.method == "extractive" else "llm"
        details: dict[str, Any] = {"fallback": d.fallback} if d.fallback else {}
        summaries[key] = Summary(
            method=dmethod, text=d.summary, bullets=[t for t, _ in d.key_points],
            model=model if dmethod == "llm" else None, details=details,
            title=sec.title or d.title or None, start=sec.start, end=sec.end, chapter=sec.chapter,
            key_points=[bullet(t, sid) for t, sid in d.key_points if 0 <= sid < len(segs)],
            quotes=[quote(t, sid) for t, sid in d.quotes if 0 <= sid < len(segs)],
        )
        if sec.chapter is not None:
            update: dict[str, Any] = {"summary": d.summary} if d.summary else {}
            # detected chapters carry key-phrase titles; the LLM's title, from the same map call, reads better
            if dmethod == "llm" and d.title.strip() and chapters[sec.chapter].source == "detected":
                update["title"] = d.title.strip()
                summaries[key] = summaries[key].model_copy(update={"title": update["title"]})
            if update:
                chapters[sec.chapter] = chapters[sec.chapter].model_copy(update=update)
    fallback = reduced.get("fallback")
    names = {c.name for c in cats}
    tldr = [bullet(t, sid, cat if cat in names else cats[-1].name) for t, sid, cat in reduced["tldr"]]
    emethod = "extractive" if (method == "extractive" or "fallback" in reduced) else "llm"
    summaries["episode"] = Summary(
        method=emethod, text=reduced["summary"], bullets=[b.text for b in tldr],
        model=model if emethod == "llm" else None,
        details={"fallback": fallback} if fallback else {},
        title=episode.title, start=0.0, end=episode.duration,
        tldr=tldr,
        takeaways=[bullet(t, sid) for t, sid in reduced["takeaways"]],
        quotes=[quote(t, sid) for t, sid in reduced["quotes"] if 0 <= sid < len(segs)],
    )
    return episode.model_copy(update={"summaries": summaries, "chapters": chapters})


def _provenance(episode: Episode, options: SummarizeOptions, llm: "LLM | None", usage: "Usage | None", t0: float,
                method: str, error: str | None = None) -> Episode:
    settings: dict[str, Any] = {"method": method, "options": options.model_dump(), "prompt_version": PROMPT_VERSION}
    if llm is not None:
        settings["llm"] = llm.settings.public()
    if usage is not None:
        settings["usage"] = usage.as_dict()
    if error:
        settings["error"] = error
    run = StageRun.timed(t0, model=llm.settings.model if llm is not None and method == "llm" else "extractive",
                         settings=settings, version=f"podtools {__version__}")
    return episode.recorded("summarize", run)
