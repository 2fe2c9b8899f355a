"""The summarize stage's settings (:class:`SummarizeOptions`), the languages it names, and the
newsletter categories of the TL;DR (``podtools/data/categories.toml``). Ground floor only."""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


if TYPE_CHECKING:  # pragma: no cover
    pass

log = logging.getLogger("podtools.summarize")


PROMPT_VERSION = "v1"
UNTIMED_SECTION_SECONDS = 600.0  # extractive sections of an episode without chapters
CONTEXT_MARGIN = 0.05  # share of the context window kept free for tokenizer differences


class SummarizeOptions(BaseModel):
    """Settings of the summarize stage; a pipeline preset's ``[summarize]`` table."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    method: Literal["auto", "llm", "extractive"] = Field(
        "auto", description="auto: the LLM when [llm] model is set, else extractive")
    chunk_prompt: str = "prompts/summarize_chunk.v1.j2"
    merge_prompt: str = "prompts/summarize_merge.v1.j2"
    episode_prompt: str = "prompts/summarize_episode.v1.j2"
    chapter_words: int = Field(90, ge=10, description="target length of a chapter summary")
    summary_words: int = Field(160, ge=20, description="target length of the episode summary")
    tldr_bullets: int = Field(6, ge=1, le=20)
    takeaways: int = Field(5, ge=0, le=20)
    quotes: int = Field(3, ge=0, le=20)
    chunk_tokens: Optional[int] = Field(None, ge=50, description="cap on transcript tokens per map call")
    language: Optional[str] = Field(None, description="write summaries in this language (default: the episode's)")


LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
             "nl": "Dutch", "pl": "Polish", "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ru": "Russian"}


# -- categories (data file) ---------------------------------------------------------------------


@dataclass
class Category:
    name: str
    keywords: list[str]


def categories() -> list[Category]:
    path = Path(__file__).resolve().parent.parent / "data" / "categories.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Category(c["name"], [k.lower() for k in c.get("keywords", [])]) for c in raw["category"]]


def categorize(text: str, names: list[str], cats: list[Category]) -> str:
    """The category whose keywords occur most in ``text`` and ``names``; the last one if none do."""
    hay = " " + re.sub(r"[^\w.+-]+", " ", (text + " " + " ".join(names)).lower()) + " "
    best, best_n = cats[-1].name, 0
    for c in cats:
        n = sum(hay.count(f" {k} ") for k in c.keywords)
        n += 2 * sum(1 for name in names for k in c.keywords if k in name.lower())
        if n > best_n:
            best, best_n = c.name, n
    return best


