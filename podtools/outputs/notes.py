"""The documents a host publishes: summary, show notes, newsletter draft, YouTube description and
the self-contained episode page, rendered from templates over a view of the Episode.

The view (:func:`notes_of`) gives templates plain values with times already formatted; the
episode page adds two matplotlib plots (who spoke when; which models and benchmarks were
mentioned when) embedded as PNG data URIs, so the page is one file with no script at all.
Registered in :data:`podtools.outputs.OUTPUTS`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import markupsafe

from .. import __version__
from ..models import Episode, Summary
from ..resources import data_dir
from ..summarize import categories
from ..textsafe import safe_url
from ..timefmt import hms
from .views import render_template
from .views import sections as transcript_sections

log = logging.getLogger("podtools.outputs")

YOUTUBE_DESCRIPTION_LIMIT = 5000  # characters YouTube accepts
MENTION_PLOT_ROWS = 15  # most-mentioned names shown in the mentions timeline
KIND_LABELS = {"model": "Models", "benchmark": "Benchmarks", "org": "Organizations", "person": "People", "name": "Names",
               "dataset": "Datasets", "product": "Products", "tool": "Tools"}
_URL = re.compile(r"\bhttps?://[^\s<>\"')\]]+", re.I)


@dataclass
class NoteItem:
    """A line of a list: text with the time, speaker and chapter it comes from (when known)."""

    text: str
    start: Optional[float] = None
    time: Optional[str] = None  # formatted start
    link: Optional[str] = None  # the audio at that time, when the episode has a public URL
    speaker: Optional[str] = None  # display name
    category: Optional[str] = None
    chapter: Optional[str] = None  # chapter title


@dataclass
class ChapterView:
    number: int
    anchor: str
    title: str
    start: float
    end: float
    time: str
    youtube_time: str
    link: Optional[str]
    summary: Optional[str]
    method: Optional[str]
    key_points: list[NoteItem] = field(default_factory=list)
    quotes: list[NoteItem] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


@dataclass
class SpeakerView:
    id: str
    name: str
    talk_time: float
    talk: str  # formatted
    share: float  # of all talk time, 0..1
    percent: int


@dataclass
class MentionView:
    canonical: str
    kind: str
    count: int
    first: float
    time: str
    link: Optional[str]
    speakers: list[str]
    url: Optional[str] = None


@dataclass
class Group:
    name: str
    items: list


@dataclass
class TranscriptSection:
    anchor: Optional[str]
    title: Optional[str]
    time: Optional[str]
    paragraphs: list[NoteItem]


@dataclass
class Notes:
    title: str
    source: str
    media_url: Optional[str]
    published: Optional[str]
    duration: str
    language: Optional[str]
    has_summary: bool
    method: Optional[str]  # llm | extractive | None (not summarized)
    model: Optional[str]
    extractive: bool
    notice: Optional[str]
    summary: Optional[str]
    tldr: list[NoteItem]
    tldr_groups: list[Group]
    takeaways: list[NoteItem]
    quotes: list[NoteItem]
    chapters: list[ChapterView]  # the episode's chapters or, without any, the summarized parts (if several)
    has_chapters: bool
    youtube_chapters: list[tuple[str, str]]
    speakers: list[SpeakerView]
    mentions: list[MentionView]
    mention_groups: list[Group]
    links: list[str]
    transcript: list[TranscriptSection]
    generator: str


def _media_url(episode: Episode) -> Optional[str]:
    parts = urllib.parse.urlsplit(episode.source)
    return episode.source if parts.scheme in ("http", "https") else None


def notes_of(episode: Episode) -> Notes:
    """The view of ``episode`` that the output templates render."""
    long = episode.duration >= 3600

    def fmt(t: Optional[float]) -> Optional[str]:
        return None if t is None else hms(t, always_hours=long)

    media = _media_url(episode)

    def link(t: Optional[float]) -> Optional[str]:
        return f"{media}#t={int(t)}" if media and t is not None else None

    chapters_sorted = sorted(range(len(episode.chapters)), key=lambda i: episode.chapters[i].start)
    chapter_title = {i: episode.chapters[i].title for i in range(len(episode.chapters))}

    def item(text: str, start: Optional[float], speaker_id: Optional[str] = None, category=None,
             chapter: Optional[int] = None) -> NoteItem:
        return NoteItem(text=text, start=start, time=fmt(start), link=link(start),
                    speaker=episode.speaker_name(speaker_id) if speaker_id else None, category=category,
                    chapter=chapter_title.get(chapter) if chapter is not None else None)

    ep_sum: Optional[Summary] = episode.summaries.get("episode")
    tldr = [item(b.text, b.start, category=b.category, chapter=b.chapter) for b in (ep_sum.tldr if ep_sum else [])]
    order = [c.name for c in categories()]
    grouped: dict[str, list[NoteItem]] = defaultdict(list)
    for b in tldr:
        grouped[b.category or order[-1]].append(b)
    tldr_groups = [Group(name, grouped[name]) for name in order if grouped.get(name)]
    tldr_groups += [Group(name, items) for name, items in grouped.items() if name not in order]
    takeaways = [item(b.text, b.start, chapter=b.chapter) for b in (ep_sum.takeaways if ep_sum else [])]
    quotes = [item(q.text, q.start, q.speaker, chapter=q.chapter) for q in (ep_sum.quotes if ep_sum else [])]

    # chapters (or, without chapters, the summarized sections)
    chapters: list[ChapterView] = []
    if episode.chapters:
        for n, i in enumerate(chapters_sorted):
            c = episode.chapters[i]
            s = episode.summaries.get(f"chapter-{i}")
            chapters.append(_chapter_view(n, c.title, c.start, c.end, s, c.summary, fmt, link, item, episode))
    else:
        keys = sorted((k for k in episode.summaries if k.startswith("section-")), key=lambda k: int(k.split("-")[1]))
        for n, k in enumerate(keys if len(keys) > 1 else []):
            s = episode.summaries[k]
            chapters.append(_chapter_view(n, s.title or f"Part {n + 1}", s.start or 0.0, s.end or 0.0, s, None,
                                          fmt, link, item, episode))
    youtube = [(c.youtube_time, c.title) for c in chapters if episode.chapters]
    if youtube and chapters[0].start >= 1.0:
        youtube.insert(0, ("0:00", "Intro"))

    # speakers: talk time from the model, else from the segments
    talk: Counter = Counter()
    for seg in episode.segments:
        if seg.speaker:
            talk[seg.speaker] += max(0.0, seg.end - seg.start)
    ids = [sp.id for sp in episode.speakers] + [s for s in talk if s not in {sp.id for sp in episode.speakers}]
    times = {sid: next((sp.talk_time for sp in episode.speakers if sp.id == sid and sp.talk_time), talk[sid])
             for sid in ids}
    total = sum(times.values()) or 1.0
    speakers = [SpeakerView(sid, episode.speaker_name(sid) or sid, t, fmt(t) or "", t / total, round(100 * t / total))
                for sid, t in sorted(times.items(), key=lambda kv: -kv[1]) if t > 0]

    # mentions: one row per canonical name, grouped by kind
    by_name: dict[tuple[str, str], list] = defaultdict(list)
    for m in episode.mentions:
        if getattr(m, "known", True):
            by_name[(m.kind, m.canonical)].append(m)
    mentions = []
    for (kind, name), ms in by_name.items():
        first = min(x.start for x in ms)
        spk = sorted({episode.speaker_name(x.speaker) for x in ms if x.speaker} - {None})
        url = next((safe_url(x.url) for x in ms if safe_url(getattr(x, "url", None))), None)
        mentions.append(MentionView(name, kind, len(ms), first, fmt(first) or "", link(first), spk, url))
    mentions.sort(key=lambda m: (-m.count, m.first))
    kinds = sorted({m.kind for m in mentions}, key=lambda k: (list(KIND_LABELS).index(k) if k in KIND_LABELS else 99, k))
    mention_groups = [Group(KIND_LABELS.get(k, k.title() + "s"), [m for m in mentions if m.kind == k]) for k in kinds]

    links = list(dict.fromkeys(
        [u for seg in episode.segments for u in map(safe_url, (v.rstrip(".,;:") for v in _URL.findall(seg.text))) if u]
        + [m.url for m in mentions if m.url]))

    transcript = []
    for n, sec in enumerate(transcript_sections(episode)):
        paras = [NoteItem(text=p.text, start=p.start, time=fmt(p.start), link=link(p.start), speaker=p.speaker)
                 for p in sec.paragraphs]
        anchor = f"ch-{n + 1}" if sec.title is not None else None
        transcript.append(TranscriptSection(anchor, sec.title, fmt(sec.start) if sec.title is not None else None, paras))

    method = ep_sum.method if ep_sum else None
    notice = None
    if method == "extractive":
        notice = ("Extractive summary: sentences selected from the transcript by podtools, no LLM was used; "
                  "read it as a draft.")
    published = episode.published.date().isoformat() if episode.published else None
    return Notes(
        title=episode.title or Path(episode.source).stem or "Episode",
        source=episode.source, media_url=media, published=published, duration=fmt(episode.duration) or "",
        language=episode.language, has_summary=ep_sum is not None, method=method,
        model=ep_sum.model if ep_sum else None, extractive=method == "extractive", notice=notice,
        summary=ep_sum.text if ep_sum else None, tldr=tldr, tldr_groups=tldr_groups, takeaways=takeaways,
        quotes=quotes, chapters=chapters, has_chapters=bool(episode.chapters), youtube_chapters=youtube, speakers=speakers, mentions=mentions,
        mention_groups=mention_groups, links=links, transcript=transcript,
        generator=f"podtools {__version__}",
    )


def _chapter_view(n, title, start, end, s: Optional[Summary], fallback_summary, fmt, link, item, episode) -> ChapterView:
    names = list(dict.fromkeys(m.canonical for m in episode.mentions
                               if start - 1e-6 <= m.start < (end if end > start else float("inf")) and getattr(m, "known", True)))
    return ChapterView(
        number=n + 1, anchor=f"ch-{n + 1}", title=title, start=start, end=end, time=fmt(start) or "",
        youtube_time=hms(start, always_hours=False), link=link(start),
        summary=(s.text if s and s.text else fallback_summary), method=s.method if s else None,
        key_points=[item(b.text, b.start) for b in (s.key_points if s else [])],
        quotes=[item(q.text, q.start, q.speaker) for q in (s.quotes if s else [])],
        mentions=names,
    )


# -- plots -----------------------------------------------------------------------------------------


def _png_data_uri(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _minutes_axis(ax, duration: float) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_xlim(0, max(duration, 1.0))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 3, 5, 6, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: hms(x, always_hours=duration >= 3600)))
    ax.set_xlabel("time")


def speaker_plot(episode: Episode, notes: Notes) -> Optional[str]:
    """Who spoke when: a bar per speaker turn, chapter starts as dashed lines (PNG data URI)."""
    if not episode.segments:
        return None
    from matplotlib.figure import Figure

    names = [s.name for s in notes.speakers] or ["(unknown)"]
    idx = {s.id: i for i, s in enumerate(notes.speakers)}
    duration = episode.duration or episode.segments[-1].end
    fig = Figure(figsize=(10, 0.45 * len(names) + 1.3))
    ax = fig.add_subplot()
    colors = [f"C{i % 10}" for i in range(len(names))]
    spans: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for seg in episode.segments:
        row = idx.get(seg.speaker, 0) if seg.speaker else 0
        spans[row].append((seg.start, max(0.1, seg.end - seg.start)))
    for row, bars in spans.items():
        ax.broken_barh(bars, (row - 0.38, 0.76), facecolors=colors[row])
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    for c in notes.chapters:
        ax.axvline(c.start, color="0.55", linestyle="--", linewidth=0.8)
        ax.text(c.start, -0.5, f" {c.number}", va="bottom", ha="left", fontsize=8, color="0.35")
    _minutes_axis(ax, duration)
    ax.set_title("Speaker timeline", loc="left", fontsize=10)
    return _png_data_uri(fig)


def mentions_plot(episode: Episode, notes: Notes) -> Optional[str]:
    """When each of the most-mentioned models and benchmarks came up (PNG data URI)."""
    rows = notes.mentions[:MENTION_PLOT_ROWS]
    if not rows:
        return None
    from matplotlib.figure import Figure

    names = [m.canonical for m in rows]
    kinds = sorted({m.kind for m in rows})
    markers = dict(zip(kinds, "o^sDvP*X"))
    duration = episode.duration or (episode.segments[-1].end if episode.segments else 1.0)
    fig = Figure(figsize=(10, 0.35 * len(names) + 1.4))
    ax = fig.add_subplot()
    for kind in kinds:
        xs, ys = [], []
        for m in episode.mentions:
            if m.kind == kind and m.canonical in names and getattr(m, "known", True):
                xs.append(m.start)
                ys.append(names.index(m.canonical))
        ax.scatter(xs, ys, marker=markers[kind], s=36, label=KIND_LABELS.get(kind, kind), alpha=0.85)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    for c in notes.chapters:
        ax.axvline(c.start, color="0.8", linestyle="--", linewidth=0.8)
    _minutes_axis(ax, duration)
    ax.grid(axis="y", color="0.92")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_title("Mentions timeline", loc="left", fontsize=10)
    return _png_data_uri(fig)


# -- writing ---------------------------------------------------------------------------------------


@dataclass
class Player:
    """The episode page's audio player: its source (the episode's http(s) URL, or a relative path
    to the local audio file) and the page's one script, allowed by the page's Content Security
    Policy through its hash (so no other script, such as one hidden in a transcript, can run)."""

    src: Optional[str]
    script: str
    script_hash: str


def player(src: Optional[str]) -> Player:
    script = (data_dir("templates") / "player.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return Player(src, markupsafe.Markup(script), f"sha256-{digest}")


def render_document(template: str, episode: Episode, templates_dir: str | Path | None = None,
                    audio_src: Optional[str] = None) -> str:
    """Render any template (shipped or the user's) with the full view; plots and the audio
    player (``audio_src``, else the episode's URL) for ``*.html*`` templates."""
    notes = notes_of(episode)
    plots = {"speakers": None, "mentions": None}
    page = None
    if ".htm" in template.lower():
        plots = {"speakers": speaker_plot(episode, notes), "mentions": mentions_plot(episode, notes)}
        page = player(audio_src or notes.media_url)
    return render_template(template, episode, templates_dir, notes=notes, plots=plots, player=page)


def document_text(name: str, episode: Episode, templates_dir: str | Path | None = None,
                 audio_src: Optional[str] = None) -> str:
    """The text of output ``name`` (e.g. ``show_notes.md``) from template ``<name>.j2``."""
    text = render_document(f"{name}.j2", episode, templates_dir, audio_src)
    if name == "youtube_description.txt" and len(text) > YOUTUBE_DESCRIPTION_LIMIT:
        room = YOUTUBE_DESCRIPTION_LIMIT - 3  # for "\n…\n"
        cut = text.rfind("\n", 0, room)
        if cut < room // 2:  # no line break late enough: cut between words
            cut = text.rfind(" ", 0, room)
        text = text[: cut if cut > 0 else room].rstrip() + "\n…\n"
        log.info("youtube_description.txt cut to YouTube's %d characters", YOUTUBE_DESCRIPTION_LIMIT)
    return text
