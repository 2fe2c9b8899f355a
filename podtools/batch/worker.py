"""The batch's unit of work, the same on every engine (worker processes or Ray actors): the
models a worker loads once, and one episode (:class:`Task`) run through ``ingest`` into its
staging folder.

Both :mod:`.runner` and :mod:`.engines` import this; it imports neither, so the two have no
circle between them.
"""

from __future__ import annotations

import datetime as dt
import inspect
import time
from dataclasses import dataclass
from typing import Any, Optional

from .. import asr
from ..outputs import render
from ..pipeline import ingest


@dataclass
class Task:
    """One episode handed to a worker."""

    run_id: int
    uid: str
    source: str  # URL (already in the download cache) or local path
    staging: str  # folder the worker writes into
    title: Optional[str] = None  # the episode's title, when the source knows better than the file
    published: Optional[str] = None  # ISO
    use_cache: bool = True  # reuse stage results of the same audio and settings
    chapters: Optional[str] = None  # a chapter list (text) from the feed


def load_worker_models(config) -> dict[str, Any]:
    """Models a worker loads once and passes to every ``ingest`` call."""
    return {"model": asr.load_model(config.transcribe)}


def process_task(task: Task, config, templates_dir: str | None, models: dict[str, Any], progress) -> dict[str, float]:
    """Run ``ingest`` for one task into ``task.staging``; returns seconds per stage.

    The feed's title and publish date are the episode's (a file's tags often say less).
    """
    timings: dict[str, float] = {}
    accepted = _ingest_parameters()
    extra: dict[str, Any] = {"use_cache": task.use_cache} if "use_cache" in accepted else {}
    if task.chapters and "chapters" in accepted:
        extra["chapters"] = task.chapters
    if task.published and "published" in accepted:  # before the stages: mentions read the date
        extra["published"] = dt.datetime.fromisoformat(task.published)
    result = ingest(task.source, task.staging, config, templates_dir, progress, **models, **extra)
    episode = result.episode
    update: dict[str, Any] = {}
    if task.title and episode.title != task.title:
        update["title"] = task.title
    if task.published and episode.published is None:
        update["published"] = dt.datetime.fromisoformat(task.published)
    if update:
        t0 = time.perf_counter()
        episode = episode.model_copy(update=update)
        render(episode, task.staging, templates_dir)
        timings["render"] = round(time.perf_counter() - t0, 3)
    for name, run in episode.provenance.items():
        timings.setdefault(name, run.seconds)
    return timings


def _ingest_parameters() -> set[str]:
    return set(inspect.signature(ingest).parameters)
