"""The mentions stage over one Episode: its mentions (replacing earlier ones) found in the English
stretches of the transcript by :func:`podtools.mentions.iter_mentions`, and the stage's provenance
(spaCy package, catalog version and fingerprint)."""

from __future__ import annotations

import logging
import time

from .. import __version__
from ..models import Episode, Mention, StageRun
from ..progress import NullProgress, Progress
from . import MentionsOptions, iter_mentions, load_catalog
from .nlp import compile_pipeline

log = logging.getLogger("podtools.mentions")


def mentions_stage(episode: Episode, options: MentionsOptions | None = None,
                   progress: Progress | None = None) -> Episode:
    """Return ``episode`` with its mentions (replacing earlier ones) and the stage's provenance."""
    options = options or MentionsOptions()
    t0 = time.perf_counter()
    catalog = load_catalog(options)
    if progress is not None:
        progress.stage("mentions", episode.duration or None)
    english, other = episode.in_english()
    if other:
        note = (f"{episode.source}: mentions: {other:.0f} s of speech not in English not searched "
                "(the mention rules are English)")
        (progress or NullProgress()).note(note)
    found: list[Mention] = []
    for m in iter_mentions(english.segments, options, episode.chapters, catalog, recorded=episode.published):
        found.append(m)
        if progress is not None:
            progress.advance(m.end)
    package = compile_pipeline(catalog, ner=options.people_orgs).package
    run = StageRun.timed(
        t0,
        model=f"spaCy {package} + podtools catalog {catalog.version} ({len(catalog)} entries)",
        settings={**options.model_dump(), "catalog_files": catalog.files, "catalog_fingerprint": catalog.fingerprint()},
        version=__version__,
    )
    log.info("%s: %d mentions (%d names)", episode.source, len(found), len({m.canonical for m in found}))
    return episode.recorded("mentions", run, mentions=found)
