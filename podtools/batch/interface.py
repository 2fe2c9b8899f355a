"""What the batch runner, its engines and its observer say to each other: the ``Events`` workers
report, the ``Engine`` protocol (worker processes or Ray actors), :class:`BatchOptions`, the
progress observer and the :class:`BatchSummary` a run returns. Imports nothing of the batch but
its unit of work.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Protocol

from pydantic import BaseModel, ConfigDict, Field

from .worker import Task

log = logging.getLogger("podtools.batch")


# -- engines' interface ----------------------------------------------------------------------


class Events(Protocol):
    """What workers report; engines call these from the batch's main thread (in ``poll``)."""

    def stage(self, run_id: int, name: str, total: float | None) -> None: ...
    def advance(self, run_id: int, done: float) -> None: ...
    def note(self, run_id: int, message: str) -> None: ...
    def done(self, run_id: int, stage_seconds: dict[str, float]) -> None: ...
    def failed(self, run_id: int, kind: str, message: str, stage: str | None) -> None: ...


class Engine(Protocol):
    name: str

    def start(self) -> None: ...
    def free(self) -> int: ...
    def submit(self, task: Task) -> None: ...
    def poll(self, events: Events, timeout: float) -> None: ...
    def close(self) -> None: ...


class BatchOptions(BaseModel):
    """How a batch runs (not what it selects)."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(1, ge=1, le=256, description="worker processes (or Ray actors)")
    engine: Literal["local", "ray"] = "local"
    ray_address: Optional[str] = Field(None, description="Ray cluster address; none: start a local Ray")
    ray_temp_dir: Optional[str] = None
    retry_failed: bool = False
    max_bytes: Optional[int] = Field(2 * 1024**3, ge=1, description="enclosure size limit (bytes)")
    download_timeout: float = Field(60.0, gt=0, description="seconds without data before a download resumes")
    download_retries: int = Field(3, ge=0)
    prefetch: int = Field(2, ge=0, description="downloads kept ready ahead of the workers")
    use_cache: bool = Field(True, description="reuse cached stage results (same audio and settings)")
    allow_private: bool = Field(False, description="feeds and enclosures may be on private/loopback addresses")


# -- observer (progress) ---------------------------------------------------------------------


class BatchObserver(Protocol):
    def planned(self, todo: int, skipped: int) -> None: ...
    def episode_started(self, uid: str, title: str) -> None: ...
    def stage(self, uid: str, name: str, total: float | None) -> None: ...
    def advance(self, uid: str, done: float) -> None: ...
    def episode_finished(self, uid: str, status: str, error: str | None) -> None: ...
    def note(self, message: str) -> None: ...


class NullObserver:
    def planned(self, todo: int, skipped: int) -> None:
        log.info("%d episodes to process, %d skipped", todo, skipped)

    def episode_started(self, uid: str, title: str) -> None:
        log.info("start %s", title)

    def stage(self, uid: str, name: str, total: float | None) -> None:
        pass

    def advance(self, uid: str, done: float) -> None:
        pass

    def episode_finished(self, uid: str, status: str, error: str | None) -> None:
        log.info("%s %s %s", uid[:12], status, error or "")

    def note(self, message: str) -> None:
        log.warning(message)


@dataclass
class BatchSummary:
    root: Path
    done: list[str] = field(default_factory=list)  # titles
    failed: list[tuple[str, str]] = field(default_factory=list)  # (title, error)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (title, original title)
    skipped_done: int = 0
    skipped_failed: int = 0
    skipped_selection: int = 0
    adopted: int = 0  # finished by an interrupted run, indexed by this one
    planned: list[str] = field(default_factory=list)  # dry run: titles that would be processed
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["root"] = str(self.root)
        d["failed"] = [{"title": t, "error": e} for t, e in self.failed]
        d["duplicates"] = [{"title": t, "original": o} for t, o in self.duplicates]
        return d
