"""What a conversation is about at each point: the models under discussion, per chapter.

Hosts name a model once ("Llama 3.1 405B") and then talk about it for minutes with pieces of its
name: a size ("70B is the sweet spot", "the eight billion one", "a 405 on my laptop"), a version
("3.1 is out") or a variant ("Opus is still better", "Mini is cheap").
A listener resolves those against the topic of the chapter, not against the last few sentences,
and so does :class:`Discourse`: it keeps the models named so far in the current chapter (or, in
a transcript without chapters, in the last ``SPAN`` tokens), and those of the whole episode as a
weaker fallback, and answers "which model under discussion has size 70B / version 3.1 / a variant
called Opus", nearest first.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Iterator, Optional

from .catalog import Entry

SPAN = 1500  # tokens (about 10 minutes of talk): the discussion, where a transcript has no chapters
EPISODE_MEMORY = 512  # models kept for the episode-wide fallback (the most recent ones)
IN_DISCUSSION, EARLIER = "chapter", "episode"
PREVIOUS = "previous"  # the last chapter's, for a chapter that has named none yet


@dataclass(frozen=True, order=True)
class Named:
    pos: int  # token position in the whole transcript
    entry: Entry = field(compare=False)
    size: Optional[str] = field(default=None, compare=False)


class Discourse:
    """The models named so far, for the references that follow (see the module's docstring)."""

    def __init__(self) -> None:
        self.scope: object = None  # the current chapter (None: no chapters, a window of SPAN tokens)
        self.current: list[Named] = []  # in order of position (names may be noted out of order)
        self.previous: list[Named] = []  # the last chapter's, for the start of the next one
        self.episode: list[Named] = []
        self.rejected: dict[tuple[str, str], str] = {}  # (name, word) that is something else in this chapter,
        # and why ("Raspberry Pi": "Pi", a compound; "my uncle Claude": "Claude", a person; "the Dalai Lama"
        # makes "Lama", not "Llama", a word)

    def enter(self, scope: object) -> None:
        """A new chapter begins (``scope`` is its index); the discussion starts afresh."""
        if scope != self.scope:
            self.scope = scope
            self.previous = self.current[-EPISODE_MEMORY:]  # (a chapter that named none ends the topic)
            self.current = []
            self.rejected.clear()

    def note(self, pos: int, entry: Entry, size: Optional[str] = None) -> None:
        """``entry`` (a model, or a family) was named at token ``pos``, with ``size`` if one was said."""
        if entry.kind not in ("model", "family"):
            return
        named = Named(pos, entry, size)
        bisect.insort(self.current, named)
        bisect.insort(self.episode, named)
        if self.scope is None:  # no chapters: the discussion is the last SPAN tokens
            cut = bisect.bisect_left(self.current, Named(pos - SPAN, entry))
            if cut > EPISODE_MEMORY:
                del self.current[:cut]
        elif len(self.current) > 2 * EPISODE_MEMORY:  # a chapter of hours: memory stays bounded
            del self.current[:EPISODE_MEMORY]
        if len(self.episode) > 2 * EPISODE_MEMORY:
            del self.episode[:EPISODE_MEMORY]

    def reject(self, name: str, word: str, why: str) -> None:
        """``name``, said as ``word``, was something else here (``why``: part of another name, "Raspberry
        Pi", or a person, "my uncle Claude"): that word alone means that thing for the rest of the
        chapter ("on the Pi", "Claude also says"); the name said otherwise is still the name ("the Dalai
        Lama", then "the Llama weights")."""
        self.rejected.setdefault((name, word.lower()), why)

    def candidates(self, pos: int) -> Iterator[tuple[Named, str]]:
        """Models named before token ``pos``: those of the current discussion first (nearest first),
        then the rest of the episode (nearest first), each entry once, with where it was found. Where
        the chapter has named none yet, the last chapter's come first, the most named first: the talk
        goes on about its topic ("preview is scary good" as a chapter on using o1 opens), not about
        the model named last in passing (GPT-4o, as what o1 beat)."""
        seen: set[str] = set()
        for named in reversed(self.current):
            if named.pos >= pos or named.entry.name in seen:
                continue
            if self.scope is None and pos - named.pos > SPAN:
                break
            seen.add(named.entry.name)
            yield named, IN_DISCUSSION
        if not seen and self.previous:
            counts: dict[str, int] = {}
            last: dict[str, Named] = {}
            for named in self.previous:
                if named.pos < pos:
                    counts[named.entry.name] = counts.get(named.entry.name, 0) + 1
                    last[named.entry.name] = named
            for name in sorted(last, key=lambda x: (-counts[x], -last[x].pos)):
                seen.add(name)
                yield last[name], PREVIOUS
        for named in reversed(self.episode):
            if named.pos < pos and named.entry.name not in seen:
                seen.add(named.entry.name)
                yield named, EARLIER


def family_of(entry: Entry) -> Optional[str]:
    return entry.name if entry.kind == "family" else entry.family
