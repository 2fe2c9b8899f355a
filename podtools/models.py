"""The Episode document that flows through every stage and is saved as ``episode.json``.

All times are seconds (float) from the start of the audio; formatting happens at the edges
(render, formats). Models are pydantic so that the JSON Schema shipped in
``podtools/schema/episode.schema.json`` is generated from the same definitions that validate.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, OutputError, validation_problem
from .fsutil import atomic_write_text
from .timefmt import MAX_SECONDS

SCHEMA_VERSION = 1

# seconds from the start of the audio: finite, not negative, at most 48 hours (NaN, Infinity or
# 1e309 in an edited episode.json is refused on load and never written)
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Word(_Model):
    start: Seconds
    end: Seconds
    text: str
    probability: Optional[float] = None
    speaker: Optional[str] = None


class Segment(_Model):
    start: Seconds
    end: Seconds
    text: str
    speaker: Optional[str] = None
    words: list[Word] = Field(default_factory=list)
    language: Optional[str] = Field(
        default=None, description="Language spoken here (ISO 639-1), set only when the episode has more than one")


class Speaker(_Model):
    id: str = Field(description="Stable label, e.g. SPEAKER_00")
    name: Optional[str] = None
    name_source: Optional[Literal["given", "matched", "inferred"]] = None
    match_score: Optional[float] = Field(
        default=None, description="Cosine similarity to the known voice that named this speaker (name_source matched)")
    talk_time: Seconds = 0.0
    role: Optional[str] = Field(
        default=None, max_length=40,
        description="Podcasting 2.0 person role (host, co-host, guest ...), set with `podtools speakers --role`")


class SpeakerTurn(_Model):
    """One stretch of speech by one speaker, as diarization found it (speakers.rttm)."""

    start: Seconds
    end: Seconds
    speaker: str
    overlap: bool = Field(default=False, description="Spoken over another speaker's turn (two voices at once)")


class Chapter(_Model):
    start: Seconds
    end: Seconds
    title: str
    source: Literal["given", "embedded", "transcript", "detected"] = "given"
    summary: Optional[str] = None


class Mention(_Model):
    canonical: str
    kind: str = Field(description="model | benchmark | org | person | ...")
    surface: str = Field(description="The text as it appears in the transcript")
    start: Seconds
    end: Seconds
    speaker: Optional[str] = None
    chapter: Optional[int] = Field(default=None, description="Index into Episode.chapters")
    confidence: float = 1.0
    known: bool = True
    size: Optional[str] = Field(default=None, description="Parameter count named with the model, e.g. 405B")
    org: Optional[str] = Field(default=None, description="Organization that made the model or runs the benchmark")
    method: Optional[str] = Field(
        default=None,
        description="How it was found: name | alias | cased | asr | fuzzy | sound | bare | short | discourse | size | version | unknown | ner",
    )


class Bullet(_Model):
    """A TL;DR bullet, takeaway or key point; its time comes from the transcript segment it cites."""

    text: str
    segment: Optional[int] = Field(default=None, description="Index into Episode.segments")
    start: Optional[Seconds] = None
    chapter: Optional[int] = Field(default=None, description="Index into Episode.chapters")
    category: Optional[str] = Field(default=None, description="Newsletter category, e.g. Open-source LLMs")


class Quote(_Model):
    """Words from the transcript, with the speaker and time of the segment they come from."""

    text: str
    segment: int = Field(description="Index into Episode.segments")
    start: Seconds
    end: Seconds
    speaker: Optional[str] = None
    chapter: Optional[int] = None


class Summary(_Model):
    method: Literal["llm", "extractive"]
    text: str
    bullets: list[str] = Field(default_factory=list)
    model: Optional[str] = None
    details: dict[str, Any] = Field(default_factory=dict)
    title: Optional[str] = Field(default=None, description="Title of the summarized part (chapter or section)")
    start: Optional[Seconds] = None
    end: Optional[Seconds] = None
    chapter: Optional[int] = Field(default=None, description="Index into Episode.chapters")
    tldr: list[Bullet] = Field(default_factory=list)
    takeaways: list[Bullet] = Field(default_factory=list)
    key_points: list[Bullet] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)


class StageRun(_Model):
    model: Optional[str] = None
    settings: dict[str, Any] = Field(default_factory=dict)
    version: str
    seconds: float
    finished: dt.datetime
    actions: list[dict[str, Any]] = Field(
        default_factory=list, description="What the stage did beyond its settings, e.g. a segment the ASR "
                                          "guards decoded again or dropped, with why")

    @classmethod
    def timed(cls, t0: Optional[float] = None, *, seconds: Optional[float] = None, **fields: Any) -> "StageRun":
        """A stage's record, finished now: its ``seconds`` as given, else since ``t0``
        (``time.perf_counter()``). The one way every stage records its provenance."""
        if seconds is None:
            seconds = time.perf_counter() - t0
        return cls(seconds=round(seconds, 3), finished=dt.datetime.now(dt.timezone.utc), **fields)


class Episode(_Model):
    schema_version: int = SCHEMA_VERSION
    id: str = Field(description="sha256 of the source file's bytes (hex)")
    source: str
    title: Optional[str] = None
    published: Optional[dt.datetime] = None
    duration: Seconds = 0.0
    language: Optional[str] = None
    speakers: list[Speaker] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    turns: list[SpeakerTurn] = Field(default_factory=list, description="Diarization turns (who spoke when)")
    chapters: list[Chapter] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    summaries: dict[str, Summary] = Field(default_factory=dict)
    provenance: dict[str, StageRun] = Field(default_factory=dict)

    # -- serialization -------------------------------------------------------------------

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str, path: str | Path | None = None) -> "Episode":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg} at line {exc.lineno})", path) from None
        if not isinstance(raw, dict) or "schema_version" not in raw:
            raise InputError("not a podtools episode.json (no schema_version)", path)
        version = raw["schema_version"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise InputError(f"schema_version must be the number {SCHEMA_VERSION}, not {version!r}", path)
        if raw["schema_version"] != SCHEMA_VERSION:
            raise InputError(
                f"episode.json schema version {raw['schema_version']} is not supported "
                f"(this podtools reads version {SCHEMA_VERSION})",
                path,
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise InputError(f"invalid episode.json at {validation_problem(exc)}", path) from None

    def save(self, path: str | Path) -> Path:
        """Write ``episode.json`` atomically, after validating the whole document again (an
        episode built with ``model_copy(update=...)`` skips validation): a file podtools writes
        always loads back."""
        try:
            type(self).model_validate(self.model_dump())
        except ValidationError as exc:
            raise OutputError(f"episode not written: {validation_problem(exc)}", path) from None
        return atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Episode":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("file not found", path) from None
        except IsADirectoryError:
            raise InputError("is a directory, expected an episode.json file", path) from None
        except UnicodeDecodeError:
            raise InputError("not a text file", path) from None
        return cls.from_json(text, path)

    # -- conveniences --------------------------------------------------------------------

    def recorded(self, stage: str, run: StageRun, **update: Any) -> "Episode":
        """A copy with ``update`` applied and ``run`` as ``provenance[stage]``."""
        return self.model_copy(update={**update, "provenance": {**self.provenance, stage: run}})

    def speaker_name(self, speaker_id: str | None) -> str | None:
        """Display name of a speaker id: its name when known, else the id itself."""
        if speaker_id is None:
            return None
        for sp in self.speakers:
            if sp.id == speaker_id:
                return sp.name or sp.id
        return speaker_id

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def in_english(self) -> tuple["Episode", float]:
        """(this episode with only its English segments, seconds of speech in other languages),
        for the stages whose rules are English (mentions, names from introductions). A segment
        without a language has the episode's; an episode without one counts as English."""
        def english(seg: Segment) -> bool:
            return (seg.language or self.language or "en").lower().startswith("en")

        kept = [seg for seg in self.segments if english(seg)]
        if len(kept) == len(self.segments):
            return self, 0.0
        other = sum(seg.end - seg.start for seg in self.segments if not english(seg))
        return self.model_copy(update={"segments": kept}), other


def json_schema() -> dict[str, Any]:
    """The JSON Schema of episode.json (draft 2020-12), as shipped in podtools/schema/."""
    schema = Episode.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://podtools.dev/schema/episode-v{SCHEMA_VERSION}.json"
    return schema
