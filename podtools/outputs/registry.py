"""The output registry: :data:`OUTPUTS` (file name -> writer) and :func:`render`, which writes
them. A writer is ``(episode, RenderContext) -> str``; adding an output is one entry here (and a
template in ``templates/`` when it is made from one).

The Jinja environment is :mod:`podtools.templating` (user templates first, HTML autoescaped,
every value in Markdown and text neutralized: :mod:`podtools.textsafe`); the transcript's
paragraphs and sections and :func:`~podtools.outputs.views.render_template` are in
:mod:`.views`, the documents made from summaries in :mod:`.notes`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from ..chapters import to_podcasting2_json, to_youtube
from ..diarize.assign import to_rttm
from ..edits import load_edits
from ..errors import ConfigError
from ..formats.captions import to_srt, to_vtt
from ..formats.jsontranscript import to_podcasting2
from ..fsutil import atomic_write_text, ensure_writable_dir
from ..mentions import outputs as mention_files
from ..models import Episode
from ..publish import feed_tags_xml
from .notes import document_text
from .views import render_template

if TYPE_CHECKING:  # pragma: no cover
    from ..formats.captions import CaptionOptions

log = logging.getLogger("podtools.outputs")

@dataclass(frozen=True)
class RenderContext:
    """What a writer needs besides the episode: the user's templates and where the files will be
    published (``--publish-base-url``; feed_tags.xml names files relative to it, or bare)."""

    templates_dir: Optional[Path] = None
    publish_base_url: Optional[str] = None
    captions: Optional["CaptionOptions"] = None  # --caption-chars/--caption-lines; None: the guidance
    out_dir: Optional[Path] = None  # where the files go: the page links the local audio relative to it


Writer = Callable[[Episode, RenderContext], str]


def _template_output(template: str) -> Writer:
    def render(episode: Episode, ctx: RenderContext) -> str:
        return render_template(template, episode, ctx.templates_dir)

    return render


def _srt(episode: Episode, ctx: RenderContext) -> str:
    return to_srt(episode, ctx.captions)


def _vtt(episode: Episode, ctx: RenderContext) -> str:
    return to_vtt(episode, ctx.captions)


def _karaoke_vtt(episode: Episode, ctx: RenderContext) -> str:
    return to_vtt(episode, ctx.captions, karaoke=True)


def _rttm(episode: Episode, ctx: RenderContext) -> str:
    return to_rttm(episode)


def _chapters_json(episode: Episode, ctx: RenderContext) -> str:
    return to_podcasting2_json(episode)


def _youtube_chapters(episode: Episode, ctx: RenderContext) -> str:
    return to_youtube(episode)


# file name -> writer. Later stages register their outputs here.
def _podcasting2_json(episode: Episode, ctx: RenderContext) -> str:
    return to_podcasting2(episode)


def _feed_tags(episode: Episode, ctx: RenderContext) -> str:
    return feed_tags_xml(episode, ctx.publish_base_url)


OUTPUTS: dict[str, Writer] = {
    "transcript.md": _template_output("transcript.md.j2"),
    "transcript.txt": _template_output("transcript.txt.j2"),
    "transcript.srt": _srt,
    "transcript.vtt": _vtt,
    "transcript.karaoke.vtt": _karaoke_vtt,
    "transcript.json": _podcasting2_json,
    "speakers.rttm": _rttm,
    "chapters.json": _chapters_json,
    "youtube_chapters.txt": _youtube_chapters,
}


def local_audio(episode: Episode, out_dir: Optional[Path]) -> Optional[str]:
    """The episode's local audio or video file as a URL relative to ``out_dir`` (for the page's
    player), or None when the source is not a local media file."""
    import mimetypes
    import os
    import urllib.parse

    if out_dir is None or "://" in episode.source:
        return None
    path = Path(episode.source)
    kind = (mimetypes.guess_type(path.name)[0] or "").split("/")[0]
    if kind not in ("audio", "video") or not path.is_file():
        return None
    try:
        rel = os.path.relpath(path.resolve(), Path(out_dir).resolve())
    except ValueError:  # another drive (Windows)
        return path.resolve().as_uri()
    return urllib.parse.quote(Path(rel).as_posix())


def _notes_output(name: str) -> Writer:
    def render(episode: Episode, ctx: RenderContext) -> str:
        audio = local_audio(episode, ctx.out_dir) if name.endswith(".html") else None
        return document_text(name, episode, ctx.templates_dir, audio)

    return render


# summaries, show notes, newsletter draft and the episode page (podtools.outputs.notes)
def _mentions_output(name: str) -> Writer:
    def render(episode: Episode, ctx: RenderContext) -> str:
        return mention_files.to_json(episode) if name.endswith(".json") else mention_files.to_csv(episode)

    return render


OUTPUTS.update({name: _mentions_output(name) for name in ("mentions.json", "mentions.csv")})
OUTPUTS.update({name: _notes_output(name) for name in (
    "summary.md", "show_notes.md", "newsletter.md", "youtube_description.txt", "episode.html")})
OUTPUTS["feed_tags.xml"] = _feed_tags  # last: the Podcasting 2.0 tags that point at the files above


def render(
    episode: Episode,
    out_dir: str | Path,
    templates_dir: str | Path | None = None,
    only: Iterable[str] | None = None,
    publish_base_url: str | None = None,
    captions: "CaptionOptions | None" = None,
) -> list[Path]:
    """Write ``episode.json`` and every output in ``OUTPUTS`` (or ``only`` those) into ``out_dir``.

    Each file is written atomically; a failure in one output leaves the others in place.
    """
    out = ensure_writable_dir(out_dir)
    if publish_base_url is None or captions is None:  # as given before (`ingest --publish-base-url`), in episode.toml
        kept = load_edits(out)
        publish_base_url = kept.base_url if publish_base_url is None else publish_base_url
        captions = kept.caption_options() if captions is None else captions
    ctx = RenderContext(Path(templates_dir) if templates_dir else None, publish_base_url, captions, out)
    written = [episode.save(out / "episode.json")]
    names = list(only) if only is not None else list(OUTPUTS)
    for name in names:
        if name not in OUTPUTS:
            raise ConfigError(f"unknown output {name!r}; choose from: {', '.join(OUTPUTS)}")
        written.append(atomic_write_text(out / name, OUTPUTS[name](episode, ctx)))
    log.info("wrote %d files to %s", len(written), out)
    return written
