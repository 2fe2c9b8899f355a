"""Pipeline presets: the :class:`PipelineConfig` model, loading a preset or a user's TOML file,
validation and CLI overrides.

A preset (``pipelines/*.toml``) is a serialized :class:`PipelineConfig`: the same option models
the CLI flags fill in, so a preset and a flag mean the same thing. Flags override the preset they
are applied to. This module imports each stage's options model and nothing that runs a stage.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .asr import TranscribeOptions
from .chapters import ChaptersOptions
from .diarize import DiarizeOptions
from .errors import ConfigError, validation_problem
from .formats.captions import CaptionOptions
from .llm import LLMSettings
from .mentions import MentionsOptions
from .resources import data_dir
from .summarize import SummarizeOptions


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    description: str = ""
    transcribe: TranscribeOptions = Field(default_factory=TranscribeOptions)
    diarize: DiarizeOptions = Field(default_factory=DiarizeOptions)
    chapters: ChaptersOptions = Field(default_factory=ChaptersOptions)
    mentions: MentionsOptions = Field(default_factory=MentionsOptions)
    summarize: SummarizeOptions = Field(default_factory=SummarizeOptions)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    captions: CaptionOptions = Field(default_factory=CaptionOptions)


def available_pipelines() -> list[str]:
    return sorted(p.stem for p in data_dir("pipelines").glob("*.toml"))


def load_pipeline(name_or_file: str | Path = "default") -> PipelineConfig:
    """Load a shipped preset by name, or a user's TOML file by path."""
    path = Path(name_or_file)
    if not (path.suffix == ".toml" or path.exists()):
        path = data_dir("pipelines") / f"{name_or_file}.toml"
        if not path.is_file():
            raise ConfigError(
                f"unknown pipeline {str(name_or_file)!r}; choose one of {', '.join(available_pipelines())} "
                "or give a .toml file"
            )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("pipeline file not found", path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not a valid TOML pipeline ({exc})", path) from None
    return validate_config(raw, path)


def validate_config(raw: dict[str, Any], path: str | Path | None = None) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"invalid setting {validation_problem(exc)}", path) from None


def with_overrides(config: PipelineConfig, overrides: dict[str, dict[str, Any]]) -> PipelineConfig:
    """Apply CLI flags: ``{"transcribe": {"model": "small"}}``; None values are ignored."""
    raw = config.model_dump()
    for section, values in overrides.items():
        for key, value in values.items():
            if value is not None:
                raw.setdefault(section, {})[key] = value
    return validate_config(raw)
def parse_settings(pairs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["diarize.enabled=false", "transcribe.beam_size=1"]`` -> pipeline overrides.

    Values are read as TOML values (``true``, ``3``, ``0.5``, ``["a", "b"]``), else as text.
    """
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not section or not name:
            raise ConfigError(f"--set {pair!r}: expected SECTION.KEY=VALUE, e.g. diarize.enabled=false")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out.setdefault(section, {})[name] = value
    return out
