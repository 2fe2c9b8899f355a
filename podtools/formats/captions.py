"""SRT and WebVTT captions cut from word timestamps, per the Podcasting 2.0 transcript guidance.

- SRT: at most 2 lines of at most 32 characters a cue; ``Name:`` starts the cue where the
  speaker changes.
- WebVTT: lines of at most 65 characters (including the ``<v Name>`` voice tag) with the voice
  span on every cue when speakers are known.

A cue never spans two speakers, never exceeds ``max_duration`` seconds, and prefers to end at
the end of a sentence. Serialization is done by the ``srt`` and ``webvtt-py`` libraries.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..models import Episode, Segment, Word

SENTENCE_END = (".", "?", "!")


@dataclass
class Cue:
    start: float
    end: float
    speaker: str | None
    lines: list[str] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    prefix: str = ""

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass(frozen=True)
class CueRules:
    max_chars: int  # per line, including any speaker prefix on that line
    max_lines: int
    max_duration: float = 7.0  # seconds
    max_gap: float = 1.5  # a pause this long (seconds) ends a cue


SRT_RULES = CueRules(max_chars=32, max_lines=2, max_duration=6.0)
VTT_RULES = CueRules(max_chars=65, max_lines=2, max_duration=8.0)


class CaptionOptions(BaseModel):
    """``[captions]`` of a preset, ``--caption-chars`` / ``--caption-lines``: the shape of SRT and
    VTT cues (None: the Podcasting 2.0 guidance, 32 characters for SRT, 65 for VTT, 2 lines)."""

    model_config = ConfigDict(extra="forbid")

    chars: Optional[int] = Field(None, ge=16, le=200, description="characters per caption line")
    lines: Optional[int] = Field(None, ge=1, le=4, description="lines per cue")

    def rules(self, default: CueRules) -> CueRules:
        chars, lines = self.chars or default.max_chars, self.lines or default.max_lines
        # a cue that holds more text may last longer: reading speed stays the guidance's
        scale = max(1.0, chars * lines / (default.max_chars * default.max_lines))
        return CueRules(max_chars=chars, max_lines=lines, max_duration=round(default.max_duration * scale, 2),
                        max_gap=default.max_gap)


def _words(segments: Iterable[Segment]) -> Iterator[Word]:
    """Words with times; a segment without word timestamps is spread evenly over its span."""
    for seg in segments:
        if seg.words:
            for w in seg.words:
                yield w if w.speaker or not seg.speaker else w.model_copy(update={"speaker": seg.speaker})
            continue
        tokens = seg.text.split()
        if not tokens:
            continue
        step = max(seg.end - seg.start, 0.0) / len(tokens)
        for i, tok in enumerate(tokens):
            yield Word(start=seg.start + i * step, end=seg.start + (i + 1) * step, text=tok, speaker=seg.speaker)


def _wrap(tokens: list[str], width: int, first_prefix: str = "") -> list[str] | None:
    """Greedy wrap; the prefix occupies the first line. None if a token cannot fit."""
    lines: list[str] = []
    cur = first_prefix
    for tok in tokens:
        candidate = f"{cur} {tok}" if cur and cur != first_prefix else cur + tok
        if len(candidate) <= width:
            cur = candidate
            continue
        if cur and cur != first_prefix:
            lines.append(cur)
            cur = tok
        else:  # a single token longer than the line: it gets a line of its own
            lines.append(cur + tok)
            cur = ""
    if cur and cur != first_prefix:
        lines.append(cur)
    return lines


def build_cues(segments: Iterable[Segment], rules: CueRules, prefix_of=None) -> list[Cue]:
    """Group words into cues obeying ``rules``.

    ``prefix_of(speaker, changed) -> str`` gives the text that starts a cue's first line (an SRT
    ``Name: `` or a VTT ``<v Name>``); it counts against the line width.
    """
    prefix_of = prefix_of or (lambda speaker, changed: "")
    cues: list[Cue] = []
    cur: list[Word] = []
    last_speaker: object = object()

    def flush() -> None:
        nonlocal cur, last_speaker
        if not cur:
            return
        speaker = cur[0].speaker
        prefix = prefix_of(speaker, speaker != last_speaker)
        lines = _wrap([w.text for w in cur], rules.max_chars, prefix)
        cues.append(Cue(start=cur[0].start, end=cur[-1].end, speaker=speaker, lines=lines, words=cur, prefix=prefix))
        last_speaker = speaker
        cur = []

    for w in _words(segments):
        if cur:
            speaker_change = w.speaker != cur[0].speaker
            too_long = w.end - cur[0].start > rules.max_duration
            gap = w.start - cur[-1].end > rules.max_gap
            prefix = prefix_of(cur[0].speaker, cur[0].speaker != last_speaker)
            lines = _wrap([x.text for x in cur] + [w.text], rules.max_chars, prefix)
            overflow = len(lines) > rules.max_lines
            # prefer sentence ends: close a cue at a full stop once it holds a full line
            sentence = cur[-1].text.endswith(SENTENCE_END) and len(
                _wrap([x.text for x in cur], rules.max_chars, prefix)
            ) >= rules.max_lines
            if speaker_change or too_long or gap or overflow or sentence:
                flush()
        cur.append(w)
    flush()
    # times: strictly ordered, never overlapping, never empty
    for i, cue in enumerate(cues):
        if i + 1 < len(cues):
            cue.end = min(cue.end, cues[i + 1].start)
        if cue.end <= cue.start:
            cue.end = cue.start + 0.01
    return cues


def _td(seconds: float) -> dt.timedelta:
    return dt.timedelta(seconds=round(max(seconds, 0.0), 3))


def _display(episode: Episode, speaker: str | None) -> str | None:
    return episode.speaker_name(speaker)


def to_srt(episode: Episode, options: Optional[CaptionOptions] = None) -> str:
    import srt

    def prefix(speaker, changed):
        name = _display(episode, speaker)
        return f"{name}: " if name and changed else ""

    cues = build_cues(episode.segments, (options or CaptionOptions()).rules(SRT_RULES), prefix)
    subs = [
        srt.Subtitle(index=i, start=_td(c.start), end=_td(c.end), content="\n".join(c.lines))
        for i, c in enumerate(cues, 1)
    ]
    return srt.compose(subs, reindex=False)


def _vtt_escape(text: str) -> str:
    return html.escape(text, quote=False)


def _vtt_ts(seconds: float) -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def to_vtt(episode: Episode, options: Optional[CaptionOptions] = None, karaoke: bool = False) -> str:
    """WebVTT captions; with ``karaoke``, each word after a cue's first is preceded by a
    ``<HH:MM:SS.mmm>`` timestamp tag and wrapped in ``<c>``, so players highlight it as it is said."""
    import webvtt

    def prefix(speaker, changed):
        name = _display(episode, speaker)
        # the voice annotation is escaped like cue text ('<', '>' and '&' as references)
        return f"<v {_vtt_escape(name.strip())}>" if name else ""

    # escape first so the width counts what is written; the voice tag is added around it
    segments = [
        s.model_copy(update={
            "words": [w.model_copy(update={"text": _vtt_escape(w.text)}) for w in s.words],
            "text": _vtt_escape(s.text),
        })
        for s in episode.segments
    ]
    cues = build_cues(segments, (options or CaptionOptions()).rules(VTT_RULES), prefix)
    # "Language:" in the header, as YouTube's captions carry it (read back by podtools.formats.cues)
    vtt = webvtt.WebVTT(metadata=[f"Language: {_vtt_escape(' '.join(episode.language.split()))}"]
                        if episode.language else None)
    for c in cues:
        vtt.captions.append(webvtt.Caption(_vtt_ts(c.start), _vtt_ts(c.end), _karaoke(c) if karaoke else c.lines))
    return vtt.content


def _karaoke(cue: Cue) -> list[str]:
    """The cue's lines with a timestamp tag before each word (strictly inside the cue and
    increasing, as WebVTT requires; a word whose time would break that joins the one before)."""
    out: list[str] = []
    words = iter(cue.words)
    last = cue.start
    for k, line in enumerate(cue.lines):
        rest = line[len(cue.prefix):] if k == 0 and cue.prefix and line.startswith(cue.prefix) else line
        parts = []
        for _ in rest.split():
            w = next(words, None)
            if w is None:
                break
            if parts or out:
                if last < w.start < cue.end:
                    parts.append(f"<{_vtt_ts(w.start)}><c>{w.text.strip()}</c>")
                    last = w.start
                else:
                    parts.append(f"<c>{w.text.strip()}</c>")
            else:
                parts.append(f"<c>{w.text.strip()}</c>")
        out.append((cue.prefix if k == 0 else "") + " ".join(parts))
    return out
