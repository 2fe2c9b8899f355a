"""The Progress protocol that stages report through, and its silent implementation.

Ground floor: imports nothing of podtools. Stages take a ``Progress`` (the CLI passes a rich
progress bar, batch workers a queue, library users nothing: :class:`NullProgress`).
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("podtools.pipeline")


class Progress(Protocol):
    def stage(self, name: str, total: float | None = None) -> None:
        """A stage starts; ``total`` is its amount of work in seconds of audio, if known."""

    def advance(self, done: float) -> None:
        """The current stage has processed ``done`` seconds of audio so far."""

    def note(self, message: str) -> None:
        """Something the user should read (e.g. no speech found)."""

    def status(self, text: str) -> None:
        """A short live figure for the current stage (calls done, the LLM's tokens per second)."""


class NullProgress:
    def stage(self, name: str, total: float | None = None) -> None:
        log.info("stage %s", name)

    def advance(self, done: float) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def note(self, message: str) -> None:
        log.warning(message)


class NoteList(NullProgress):
    """A silent progress that keeps the notes (``.notes``) for its caller to show or check."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)
