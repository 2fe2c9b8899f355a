"""Publishing: the Podcasting 2.0 tags that point a feed's ``<item>`` at an episode's files.

``feed_tags.xml`` (written by :func:`podtools.outputs.render`) holds, for one episode:

- ``<podcast:transcript>`` for ``transcript.vtt`` and ``transcript.srt`` (``rel="captions"``)
  and ``transcript.json`` (the Podcasting 2.0 JSON transcript), with their ``type`` and
  ``language``;
- ``<podcast:chapters>`` for ``chapters.json`` when the episode has chapters;
- ``<podcast:person>`` for each named speaker, with a role when it is known;
- ``<podcast:soundbite>`` for one to three moments around the summary's quotes, each 15 to 120
  seconds long as the namespace recommends.

URLs are ``--publish-base-url`` plus the file name, or the bare file name without one. The
elements are children of an ``<item>`` that declares the namespace, so the file is a
well-formed XML document; ``podtools feed`` adds the same elements to every processed item of
a show's RSS feed (:mod:`podtools.feedwrite`).

Everything in the tags (speaker names, quote text) comes from transcripts and LLM answers and is
untrusted: it is written only as XML text or attribute values (escaped by ElementTree), with
control characters, which XML 1.0 cannot hold, removed.
"""

from __future__ import annotations

import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Optional

from .errors import ConfigError
from .models import Episode
from .textsafe import one_line

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# the namespace's recommended length of a soundbite, in seconds
SOUNDBITE_MIN = 15.0
SOUNDBITE_MAX = 120.0
MAX_SOUNDBITES = 3
SOUNDBITE_TITLE_CHARS = 128  # the namespace: "a free form string ... no more than 128 characters"

# file name -> (MIME type, rel) of each transcript podtools writes, in the order they are listed
TRANSCRIPTS = (
    ("transcript.vtt", "text/vtt", "captions"),
    ("transcript.srt", "application/x-subrip", "captions"),
    ("transcript.json", "application/json", None),
)
CHAPTERS_FILE = "chapters.json"
CHAPTERS_TYPE = "application/json+chapters"
# roles of the namespace's person taxonomy that a speaker can have (the "cast" group)
ROLES = ("host", "co-host", "guest", "guest host", "announcer", "voice actor", "narrator", "cover art designer",
         "producer")

# XML 1.0 cannot hold these at all (not even as references)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

ET.register_namespace("podcast", PODCAST_NS)


def check_base_url(url: Optional[str]) -> Optional[str]:
    """``url`` with one trailing slash, if it is an absolute http(s) URL; else a ConfigError."""
    if url is None:
        return None
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or parts.query or parts.fragment \
            or re.search(r"[\s<>\"]", url.strip()):
        raise ConfigError(f"--publish-base-url must be an http(s) URL of a folder, such as "
                          f"https://example.com/episodes/12/, not {one_line(url)!r}")
    return url.strip().rstrip("/") + "/"


def file_url(base_url: Optional[str], name: str) -> str:
    """Where file ``name`` of the episode will be: under ``base_url``, or ``name`` itself."""
    quoted = urllib.parse.quote(name)
    return base_url + quoted if base_url else quoted


def _text(value: object) -> str:
    return _NOT_XML.sub("", " ".join(one_line(value).split()))


@dataclass(frozen=True)
class Soundbite:
    start: float
    duration: float
    title: str


def soundbites(episode: Episode, limit: int = MAX_SOUNDBITES) -> list[Soundbite]:
    """One to ``limit`` moments around the quotes of the episode's summary (none without quotes).

    A quote shorter than 15 s is widened around its middle to 15 s, a longer one cut to 120 s;
    a moment never leaves the audio and never overlaps an earlier one.
    """
    summary = episode.summaries.get("episode")
    if summary is None or not summary.quotes:
        return []
    end_of_audio = episode.duration or max((q.end for q in summary.quotes), default=0.0)
    if end_of_audio < SOUNDBITE_MIN:
        return []
    chosen: list[Soundbite] = []
    for q in summary.quotes:
        length = min(max(q.end - q.start, SOUNDBITE_MIN), SOUNDBITE_MAX)
        start = q.start if q.end - q.start >= SOUNDBITE_MIN else (q.start + q.end) / 2 - length / 2
        start = min(max(0.0, start), end_of_audio - length)
        if any(start < b.start + b.duration and b.start < start + length for b in chosen):
            continue
        title = _text(q.text)
        if len(title) > SOUNDBITE_TITLE_CHARS:
            title = title[: SOUNDBITE_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
        chosen.append(Soundbite(round(start, 3), round(length, 3), title))
        if len(chosen) == limit:
            break
    return sorted(chosen, key=lambda b: b.start)


def person_roles(episode: Episode) -> list[tuple[str, Optional[str]]]:
    """(name, role) of every named speaker, most talk time first.

    The role is the one set with ``podtools speakers --role``; without one, a speaker named from
    the voice library (a recurring voice) is a host, and when some speaker is a host the other
    named ones are guests. Otherwise the role is left out (unknown, not a guess).
    """
    named = sorted((s for s in episode.speakers if s.name), key=lambda s: -s.talk_time)
    roles = {s.id: s.role or ("host" if s.name_source == "matched" else None) for s in named}
    if any(r in ("host", "co-host") for r in roles.values()):
        roles = {k: r or "guest" for k, r in roles.items()}
    seen: set[str] = set()
    out = []
    for s in named:
        name = _text(s.name)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append((name, roles[s.id]))
    return out


def feed_tags(episode: Episode, base_url: Optional[str] = None) -> list[ET.Element]:
    """The ``podcast:*`` elements for the episode's ``<item>``, in the namespace's order of
    description (transcripts, chapters, persons, soundbites)."""
    base_url = check_base_url(base_url)
    tag = f"{{{PODCAST_NS}}}"
    out = []
    for name, mime, rel in TRANSCRIPTS:
        attrs = {"url": file_url(base_url, name), "type": mime}
        if episode.language:
            attrs["language"] = _text(episode.language)
        if rel:
            attrs["rel"] = rel
        out.append(ET.Element(tag + "transcript", attrs))
    if episode.chapters:
        out.append(ET.Element(tag + "chapters", {"url": file_url(base_url, CHAPTERS_FILE), "type": CHAPTERS_TYPE}))
    for name, role in person_roles(episode):
        el = ET.Element(tag + "person", {"role": role} if role else {})
        el.text = name
        out.append(el)
    for bite in soundbites(episode):
        el = ET.Element(tag + "soundbite", {"startTime": f"{bite.start:.3f}", "duration": f"{bite.duration:.3f}"})
        el.text = bite.title
        out.append(el)
    return out


def element_text(el: ET.Element) -> str:
    """One element as XML with the ``podcast:`` prefix and no namespace declaration (for an
    item in a feed that declares it on its root)."""
    text = ET.tostring(el, encoding="unicode", short_empty_elements=True)
    return re.sub(r'\s+xmlns:podcast="[^"]*"', "", text, count=1)


def feed_tags_xml(episode: Episode, base_url: Optional[str] = None) -> str:
    """``feed_tags.xml``: the elements of :func:`feed_tags` inside an ``<item>`` that declares
    the namespace; copy the children into the episode's ``<item>`` (``podtools feed`` does)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             "<!-- Podcasting 2.0 tags for this episode's <item> in the show's RSS feed (podtools) -->",
             f'<item xmlns:podcast="{PODCAST_NS}">']
    lines += [f"  {element_text(el)}" for el in feed_tags(episode, base_url)]
    lines.append("</item>")
    return "\n".join(lines) + "\n"
