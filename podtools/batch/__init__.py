"""Batch stage: a show's back catalogue -> one output folder per episode + a catalogue.

``run_batch(["https://example.com/feed.xml"], "catalogue")`` reads the sources (RSS/Atom feeds,
folders, globs, list files), records every episode in ``catalogue/catalog.db``, and runs
:func:`podtools.pipeline.ingest` on each episode that is not finished yet, on a pool of worker
processes (or Ray actors) that each load their models once.

Guarantees, whatever happens to the process:

* every episode is processed and indexed exactly once: a finished episode is skipped by the
  next run, a failed one is recorded with its error (and retried with ``retry_failed``), an
  interrupted one is picked up again;
* no output file is ever half-written: an episode is written into ``.staging/`` and its folder
  is renamed into ``episodes/`` only when complete, then indexed in one transaction; a folder
  that was renamed but not yet indexed when the process died is adopted by the next run.

Layout of the output folder::

    catalog.db            SQLite catalogue (search, trends, status)
    index.html            links to every finished episode page
    episodes/<date>-<title-slug>-<hash>/   what `podtools ingest` writes, + .podtools-batch.json

The package, one floor per module: :mod:`.items` (what an episode is before processing, and the
selection), :mod:`.feeds` and :mod:`.sources` (reading SOURCEs), :mod:`.worker` (one episode on
any engine), :mod:`.engines` (worker processes, Ray actors), :mod:`.interface` (what these say to
each other), :mod:`.runner` (the run itself). This module re-exports the public names.
"""

from .feeds import MAX_FEED_BYTES, check_xml, description_chapters, parse_feed, read_feed_file
from .interface import BatchObserver, BatchOptions, BatchSummary, Engine, Events, NullObserver
from .items import (AUDIO_EXTENSIONS, EPISODES_DIR, FEED_EXTENSIONS, MARKER, STAGING_DIR, Collected, Item, Selection,
                    folder_name, order_items, parse_since, slugify)
from .runner import config_hash, run_batch
from .sources import collect_sources
from .worker import Task

__all__ = [
    "AUDIO_EXTENSIONS", "EPISODES_DIR", "FEED_EXTENSIONS", "MARKER", "MAX_FEED_BYTES", "STAGING_DIR",
    "BatchObserver", "BatchOptions", "BatchSummary", "Collected", "Engine", "Events", "Item", "NullObserver",
    "Selection", "Task", "check_xml", "collect_sources", "config_hash", "description_chapters", "folder_name",
    "order_items", "parse_feed", "parse_since", "read_feed_file", "run_batch", "slugify",
]
