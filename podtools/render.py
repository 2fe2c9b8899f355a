"""Render stage: Episode -> the files a host publishes, from Jinja templates and writers.

Templates are looked up first in the user's ``--templates DIR``, then in the shipped
``templates/``. Anything meant for a browser (``*.html.j2``) is autoescaped; in Markdown and
text templates every value is neutralized instead (no raw HTML, no links or images that
podtools did not write, no control characters: :mod:`podtools.textsafe`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from .errors import ConfigError
from .fsutil import atomic_write_text, ensure_writable_dir
from .models import Episode
from .resources import data_dir
from .templating import environment, template_error  # noqa: F401  (template_error: kept importable from here)

if TYPE_CHECKING:  # pragma: no cover
    from .formats.captions import CaptionOptions

log = logging.getLogger("podtools.render")

PARAGRAPH_MAX_SECONDS = 60.0  # a speaker's monologue is broken into paragraphs this long


@dataclass
class Paragraph:
    start: float
    end: float
    speaker: Optional[str]  # display name
    text: str
    chapter: Optional[int] = None  # index into episode.chapters
    segments: list[int] = field(default_factory=list)  # indexes into episode.segments


@dataclass
class Section:
    """A chapter heading (or none) and the paragraphs under it."""

    title: Optional[str]
    start: float
    paragraphs: list[Paragraph]


def paragraphs(episode: Episode) -> list[Paragraph]:
    """Consecutive segments of one speaker in one chapter, split at ``PARAGRAPH_MAX_SECONDS``."""
    from .chapters import segment_chapters

    out: list[Paragraph] = []
    for i, (seg, chapter) in enumerate(zip(episode.segments, segment_chapters(episode))):
        name = episode.speaker_name(seg.speaker)
        last = out[-1] if out else None
        if (last and last.speaker == name and last.chapter == chapter
                and seg.start - last.start < PARAGRAPH_MAX_SECONDS):
            last.text = f"{last.text} {seg.text.strip()}"
            last.end = seg.end
            last.segments.append(i)
        else:
            out.append(Paragraph(seg.start, seg.end, name, seg.text.strip(), chapter, [i]))
    return out


def sections(episode: Episode) -> list[Section]:
    """Paragraphs grouped under chapter headings (one untitled section when no chapters)."""
    paras = paragraphs(episode)
    if not episode.chapters:
        return [Section(None, 0.0, paras)]
    order = sorted(range(len(episode.chapters)), key=lambda i: episode.chapters[i].start)
    out = {i: Section(episode.chapters[i].title, episode.chapters[i].start, []) for i in order}
    for p in paras:  # the chapter of a paragraph is that of its segments (chapters.segment_chapters)
        out[p.chapter if p.chapter is not None else order[0]].paragraphs.append(p)
    return [out[i] for i in order]


def render_template(name: str, episode: Episode, templates_dir: str | Path | None = None, **extra) -> str:
    import jinja2

    env = environment(templates_dir)
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"template {name!r} not found", templates_dir or data_dir("templates")) from None
    except jinja2.TemplateError as exc:
        raise template_error(exc, name, templates_dir) from None
    except UnicodeDecodeError:  # a binary file, or another encoding, where a template was expected
        where = Path(templates_dir) / name if templates_dir and (Path(templates_dir) / name).is_file() else name
        raise ConfigError("template is not UTF-8 text", where) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the template ({exc.strerror or exc})", name) from None
    try:
        return template.render(episode=episode, sections=sections(episode), paragraphs=paragraphs(episode), **extra)
    except ConfigError:
        raise
    except Exception as exc:
        raise template_error(exc, name, templates_dir) from None


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
    from .formats.captions import to_srt

    return to_srt(episode, ctx.captions)


def _vtt(episode: Episode, ctx: RenderContext) -> str:
    from .formats.captions import to_vtt

    return to_vtt(episode, ctx.captions)


def _karaoke_vtt(episode: Episode, ctx: RenderContext) -> str:
    from .formats.captions import to_vtt

    return to_vtt(episode, ctx.captions, karaoke=True)


def _rttm(episode: Episode, ctx: RenderContext) -> str:
    from .diarize.assign import to_rttm

    return to_rttm(episode)


def _chapters_json(episode: Episode, ctx: RenderContext) -> str:
    from .chapters import to_podcasting2_json

    return to_podcasting2_json(episode)


def _youtube_chapters(episode: Episode, ctx: RenderContext) -> str:
    from .chapters import to_youtube

    return to_youtube(episode)


# file name -> writer. Later stages register their outputs here.
def _podcasting2_json(episode: Episode, ctx: RenderContext) -> str:
    from .formats.jsontranscript import to_podcasting2

    return to_podcasting2(episode)


def _feed_tags(episode: Episode, ctx: RenderContext) -> str:
    from .publish import feed_tags_xml

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
        from .shownotes import write_output

        audio = local_audio(episode, ctx.out_dir) if name.endswith(".html") else None
        return write_output(name, episode, ctx.templates_dir, audio)

    return render


# summaries, show notes, newsletter draft and the episode page (podtools.shownotes)
def _mentions_output(name: str) -> Writer:
    def render(episode: Episode, ctx: RenderContext) -> str:
        from .mentions import outputs

        return outputs.to_json(episode) if name.endswith(".json") else outputs.to_csv(episode)

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
    from .edits import load_edits

    out = ensure_writable_dir(out_dir)
    if publish_base_url is None or captions is None:  # as given before (`ingest --publish-base-url`), in episode.toml
        from .formats.captions import CaptionOptions

        kept = load_edits(out)
        publish_base_url = kept.base_url if publish_base_url is None else publish_base_url
        captions = CaptionOptions.model_validate(kept.captions) if captions is None else captions
    ctx = RenderContext(Path(templates_dir) if templates_dir else None, publish_base_url, captions, out)
    written = [episode.save(out / "episode.json")]
    names = list(only) if only is not None else list(OUTPUTS)
    for name in names:
        if name not in OUTPUTS:
            raise ConfigError(f"unknown output {name!r}; choose from: {', '.join(OUTPUTS)}")
        written.append(atomic_write_text(out / name, OUTPUTS[name](episode, ctx)))
    log.info("wrote %d files to %s", len(written), out)
    return written
