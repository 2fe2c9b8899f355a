"""The views of an Episode that templates render: the transcript as paragraphs under chapter
headings, and :func:`render_template`, which renders any template with them.

Below both the output registry (:mod:`podtools.outputs.registry`) and the notes view
(:mod:`podtools.outputs.notes`), which import it; it imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..chapters import segment_chapters
from ..errors import ConfigError
from ..models import Episode
from ..resources import data_dir
from ..templating import environment, template_error

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
