"""The LLM answer cache: raw answers on disk by content (model, base URL, messages, schema,
generation settings), valid or not, so that a re-run replays the same answers and repairs and
sends nothing. Keys never hold the API key (a key in the base URL is dropped from it)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Optional

from ..download import cache_dir
from ..errors import OutputError
from ..fsutil import atomic_write_text
from ..redact import redact
from .settings import LLMSettings, _safe_url

log = logging.getLogger("podtools.llm")

CACHE_VERSION = 1


class AnswerCache:
    """Answers of one model at one server under ``root`` (None: podtools' cache folder, llm/)."""

    def __init__(self, settings: LLMSettings, base_url: Optional[str], root: Optional[Path] = None):
        self.settings, self.base_url, self.given_root = settings, base_url, root

    @property
    def root(self) -> Path:
        if self.given_root is not None:
            return self.given_root

        return cache_dir() / "llm"

    def key(self, messages: list[dict[str, str]], schema: dict | None, max_tokens: int) -> str:
        payload = {
            "v": CACHE_VERSION,
            "base_url": _safe_url(self.base_url) or "openai",
            "model": self.settings.model,
            "messages": messages,
            "schema": schema,
            "temperature": self.settings.temperature,
            "max_tokens": max_tokens,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Optional[dict]:
        if not self.settings.cache:
            return None
        try:
            entry = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and isinstance(entry.get("text"), str) else None

    def put(self, key: str, name: str, text: str, prompt_tokens: int, completion_tokens: int,
            estimated: bool) -> None:
        if not self.settings.cache:
            return
        entry = {
            "v": CACHE_VERSION,
            "model": self.settings.model,
            "name": name,
            "text": redact(text),
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "estimated": estimated,
            "created": time.time(),
        }
        try:
            atomic_write_text(self.path(key), json.dumps(entry, ensure_ascii=False))
        except OutputError as exc:  # a read-only cache costs money on the next run, not this one
            log.warning("LLM cache not written: %s", exc)
