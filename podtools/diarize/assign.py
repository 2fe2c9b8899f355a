"""Speakers onto the transcript: every word gets a speaker, segments are re-cut where the
speaker changes, and each speaker's talk time is summed. Also the RTTM writer.

Pure Python over sorted turns (no torch, no pyannote), so it is cheap to call from render.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Iterable, Sequence

from ..models import Episode, Segment, Speaker, SpeakerTurn, Word

Turn = tuple[float, float, str]  # start, end (seconds), speaker id


def turns_of(annotation) -> list[Turn]:
    """(start, end, label) of a ``pyannote.core.Annotation``, sorted by start."""
    return sorted(
        ((round(float(seg.start), 3), round(float(seg.end), 3), str(label))
         for seg, _, label in annotation.itertracks(yield_label=True)),
        key=lambda t: (t[0], t[1]),
    )


class _Index:
    """Find the turns overlapping an interval, or the nearest one, in O(log n + overlaps)."""

    def __init__(self, turns: Sequence[Turn]):
        self.turns = sorted(turns, key=lambda t: (t[0], t[1]))
        self.starts = [t[0] for t in self.turns]
        # running max of ends (and the turn holding it): lets a query skip turns that end
        # before it starts, and gives the nearest earlier turn at once
        self.max_end: list[float] = []
        self.max_end_turn: list[int] = []
        for i, t in enumerate(self.turns):
            if not self.max_end or t[1] > self.max_end[-1]:
                self.max_end.append(t[1])
                self.max_end_turn.append(i)
            else:
                self.max_end.append(self.max_end[-1])
                self.max_end_turn.append(self.max_end_turn[-1])

    def covered(self, start: float, end: float, speaker: str) -> float:
        """Seconds of [start, end] inside turns of speakers other than ``speaker``."""
        total = 0.0
        i = bisect_right(self.starts, end) - 1
        while i >= 0 and self.max_end[i] > start:
            s, e, spk = self.turns[i]
            if spk != speaker and e > start and s < end:
                total += min(e, end) - max(s, start)
            i -= 1
        return total

    def speaker(self, start: float, end: float) -> str | None:
        """Speaker with the largest overlap of [start, end] (where two people speak at once, the
        one whose turn is longer: the voice the other interrupts); else the nearest turn's."""
        if not self.turns:
            return None
        if end - start < 0.02:  # a zero-length word: look at a sliver around it
            start, end = start - 0.01, end + 0.01
        hi = bisect_right(self.starts, end)  # turns starting before the interval ends
        overlap: dict[str, float] = {}
        longest: dict[str, float] = {}
        i = hi - 1
        while i >= 0 and self.max_end[i] > start:
            s, e, spk = self.turns[i]
            o = min(e, end) - max(s, start)
            if o > 0:
                overlap[spk] = overlap.get(spk, 0.0) + o
                longest[spk] = max(longest.get(spk, 0.0), e - s)
            i -= 1
        if overlap:
            return max(overlap, key=lambda k: (round(overlap[k], 3), longest[k]))
        # no overlap: the turn ending last before the interval, or the first starting after it
        before = self.turns[self.max_end_turn[hi - 1]] if hi > 0 else None
        after = self.turns[hi] if hi < len(self.turns) else None
        if before is None:
            return after[2]
        if after is None or start - before[1] <= after[0] - end:
            return before[2]
        return after[2]


def _recut(seg: Segment, index: _Index) -> list[Segment]:
    if not seg.words:
        return [seg.model_copy(update={"speaker": index.speaker(seg.start, seg.end)})]
    words = [w.model_copy(update={"speaker": index.speaker(w.start, w.end)}) for w in seg.words]
    groups: list[list[Word]] = []
    for w in words:
        if groups and groups[-1][-1].speaker == w.speaker:
            groups[-1].append(w)
        else:
            groups.append([w])
    if len(groups) == 1:
        return [seg.model_copy(update={"speaker": words[0].speaker, "words": words})]
    out = []
    for i, g in enumerate(groups):
        out.append(Segment(
            start=seg.start if i == 0 else g[0].start,
            end=seg.end if i == len(groups) - 1 else g[-1].end,
            text=" ".join(w.text.strip() for w in g if w.text.strip()),
            speaker=g[0].speaker,
            words=g,
        ))
    return out


def assign_speakers(episode: Episode, turns: Iterable[Turn]) -> Episode:
    """Return ``episode`` with speakers on words and segments, segments re-cut at speaker
    changes, ``speakers`` with talk time (seconds of speech in ``turns``) and ``turns`` saved.

    A word takes the speaker whose turns overlap it most; a word no turn overlaps (ASR and
    diarization disagree on where speech is) takes the nearest turn's speaker.
    """
    turns = sorted(turns, key=lambda t: (t[0], t[1]))
    index = _Index(turns)
    segments: list[Segment] = []
    for seg in episode.segments:
        segments.extend(_recut(seg, index))
    talk: dict[str, float] = {}
    for s, e, spk in _flatten(turns):
        talk[spk] = talk.get(spk, 0.0) + (e - s)
    for seg in segments:  # a speaker only the transcript knows (no turns) still gets listed
        if seg.speaker and seg.speaker not in talk:
            talk[seg.speaker] = 0.0
    old = {sp.id: sp for sp in episode.speakers}
    speakers = [
        Speaker(id=spk, name=old[spk].name if spk in old else None,
                name_source=old[spk].name_source if spk in old else None,
                talk_time=round(t, 3))
        for spk, t in sorted(talk.items(), key=lambda kv: _speaker_order(kv[0]))
    ]
    return episode.model_copy(update={
        "segments": segments,
        "speakers": speakers,
        "turns": [SpeakerTurn(start=s, end=e, speaker=spk, overlap=over)
                  for (s, e, spk), over in zip(turns, _over_others(turns))],
    })


def _over_others(turns: Sequence[Turn], share: float = 0.9) -> list[bool]:
    """For each turn, whether it is (almost) all spoken over another speaker's turns: a second
    voice, not a turn of its own."""
    index = _Index(turns)
    return [e > s and index.covered(s, e, spk) >= share * (e - s) for s, e, spk in turns]


def _speaker_order(speaker_id: str):
    m = re.search(r"(\d+)$", speaker_id)
    return (0, int(m.group(1)), speaker_id) if m else (1, 0, speaker_id)


def _flatten(turns: Sequence[Turn]) -> list[Turn]:
    """Per speaker, the union of its turns (overlapping turns of one speaker count once)."""
    by: dict[str, list[tuple[float, float]]] = {}
    for s, e, spk in turns:
        by.setdefault(spk, []).append((s, e))
    out: list[Turn] = []
    for spk, spans in by.items():
        spans.sort()
        cs, ce = spans[0]
        for s, e in spans[1:]:
            if s <= ce:
                ce = max(ce, e)
            else:
                out.append((cs, ce, spk))
                cs, ce = s, e
        out.append((cs, ce, spk))
    return out


# -- RTTM -------------------------------------------------------------------------------------


def _rttm_token(text: str) -> str:
    """RTTM fields are whitespace separated: no spaces inside one."""
    return re.sub(r"\s+", "_", text.strip()) or "<NA>"


def to_rttm(episode: Episode) -> str:
    """``speakers.rttm``: one ``SPEAKER`` line per diarization turn (NIST RTTM), speaker names
    where known (spaces become ``_``). Without saved turns, segments with speakers are used."""
    uri = _rttm_token(episode.title or episode.id[:16])
    if episode.turns:
        rows = [(t.start, t.end, t.speaker) for t in episode.turns]
    else:
        rows = [(s.start, s.end, s.speaker) for s in episode.segments if s.speaker]
    lines = []
    for start, end, spk in sorted(rows, key=lambda r: (r[0], r[1])):
        name = _rttm_token(episode.speaker_name(spk) or spk)
        lines.append(f"SPEAKER {uri} 1 {start:.3f} {max(end - start, 0.0):.3f} <NA> <NA> {name} <NA> <NA>")
    return "\n".join(lines) + ("\n" if lines else "")
