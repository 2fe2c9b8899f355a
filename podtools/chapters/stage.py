"""The chapters stage: the sources in order, normalized, detection where none has chapters, and
chapters that follow the transcript when it is corrected."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Optional, Sequence

from .. import __version__
from ..formats.text import default_warn
from ..models import Chapter, Episode, StageRun
from ..progress import Progress
from .detect import detect_chapters, fill_titles, _speaker_names
from .outputs import youtube_chapters
from .sources import ChaptersOptions, Titler, normalize, read_embedded

log = logging.getLogger("podtools.chapters")


# -- the stage ------------------------------------------------------------------------------------


def chapters_stage(episode: Episode, options: Optional[ChaptersOptions] = None, progress: Optional[Progress] = None, *,
                   given: Optional[Sequence[Chapter]] = None, audio: str | Path | None = None,
                   titler: Optional[Titler] = None) -> Episode:
    """Give ``episode`` its chapters from the first source (in ``options.sources`` order) that has any.

    ``given`` are the user's chapters (:func:`load_chapters`), ``audio`` the audio file whose
    embedded chapters count. Chapters the episode already has from its transcript (or an earlier
    run with given or embedded chapters) are the ``transcript`` source; detected ones are redone.
    What the user should know (a chapter moved or dropped, a list YouTube refuses) goes to
    ``progress.note``.
    """
    opts = options or ChaptersOptions()
    warn = progress.note if progress is not None else default_warn
    if progress is not None:
        progress.stage("chapters")
    t0 = time.perf_counter()
    old_chapters = list(episode.chapters)
    duration = episode.duration or max((s.end for s in episode.segments), default=0.0)
    existing = [c for c in episode.chapters if c.source != "detected"]
    chosen: list[Chapter] = []
    used: Optional[str] = None
    for source in opts.sources:
        if source == "given" and given:
            chosen = [c.model_copy(update={"source": "given"}) for c in given]
        elif source == "embedded" and audio is not None:
            chosen = read_embedded(audio)
        elif source == "transcript" and existing:
            chosen = existing
        elif source == "detected" and episode.segments:
            chosen = detect_chapters(episode.segments, duration, opts, titler, _speaker_names(episode))
        if chosen:
            used = source
            chosen = normalize(chosen, duration, episode.segments, warn, what=f"{source} chapters")
            if chosen:
                break
    if given and used != "given":
        if "given" not in opts.sources:
            warn("--chapters ignored: the pipeline's [chapters] sources do not include 'given'")
        elif opts.sources.index(used or "given") < opts.sources.index("given"):
            warn(f"--chapters not used: {used} chapters come first in the pipeline's [chapters] sources")
        else:
            warn("--chapters not used: none of its chapters is inside the episode")
    episode = episode.model_copy(update={"chapters": chosen})
    episode = fill_titles(episode, warn, titler)
    if episode.chapters:  # a chapter list that breaks YouTube's rules is the user's to know about
        _, notes = youtube_chapters(episode)
        for note in notes:
            (warn if used != "detected" else log.info)(f"youtube_chapters.txt: {note}")
    episode = follow_chapters(episode, old_chapters)
    run = StageRun.timed(t0, model=None, version=__version__,
                         settings={**opts.model_dump(), "source": used, "count": len(episode.chapters)})
    log.info("%s: %d chapters (%s)", episode.source, len(episode.chapters), used or "none")
    return episode.recorded("chapters", run)


def follow_chapters(episode: Episode, old: Sequence[Chapter]) -> Episode:
    """Summaries keyed to chapters after the chapters changed: a chapter's summary follows it
    when the chapter is still there (same start and title) to its new place; a summary of a
    chapter that is gone is dropped (never shown under another chapter's title). Bullets and
    quotes of the other summaries point at the chapter they fall in now."""
    new = episode.chapters
    if [(c.start, c.title) for c in old] == [(c.start, c.title) for c in new] or not episode.summaries:
        return episode
    where = {(round(c.start, 2), c.title): i for i, c in enumerate(new)}
    chapters = list(new)
    starts = sorted((c.start, i) for i, c in enumerate(new))

    def chapter_at(t: float | None) -> Optional[int]:
        if t is None or not starts:
            return None
        inside = [i for s, i in starts if s <= t + 1e-6]
        return inside[-1] if inside else starts[0][1]

    def moved(items):
        return [x.model_copy(update={"chapter": chapter_at(x.start)}) for x in items]

    summaries: dict = {}
    dropped = 0
    for key, summary in episode.summaries.items():
        if key.startswith(("chapter-", "section-")):
            was = old[summary.chapter] if summary.chapter is not None and summary.chapter < len(old) else None
            i = where.get((round(was.start, 2), was.title)) if was is not None else None
            if i is None:
                dropped += 1
                continue
            summaries[f"chapter-{i}"] = summary.model_copy(update={
                "chapter": i, "start": new[i].start, "end": new[i].end,
                "key_points": moved(summary.key_points), "quotes": moved(summary.quotes)})
            if was.summary and not chapters[i].summary:
                chapters[i] = chapters[i].model_copy(update={"summary": was.summary})
        else:
            summaries[key] = summary.model_copy(update={
                "tldr": moved(summary.tldr), "takeaways": moved(summary.takeaways),
                "key_points": moved(summary.key_points), "quotes": moved(summary.quotes)})
    if dropped:
        log.info("%d chapter summaries dropped: their chapters changed (summarize again for new ones)", dropped)
    return episode.model_copy(update={"summaries": summaries, "chapters": chapters})
