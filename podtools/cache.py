"""Stage cache: a stage whose input (content hash) and settings are unchanged is not re-run.

Entries are JSON files under ``<cache dir>/stages/<stage>/<key>.json``, written atomically; the
key is a hash of the episode's content hash, the stage's settings and the versions involved.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from .download import cache_dir
from .fsutil import atomic_write_text

log = logging.getLogger("podtools.cache")


def stage_key(stage: str, content_id: str, settings: dict[str, Any], versions: dict[str, str]) -> str:
    blob = json.dumps({"stage": stage, "id": content_id, "settings": settings, "versions": versions},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _path(stage: str, key: str) -> Path:
    return cache_dir() / "stages" / stage / f"{key}.json"


def get(stage: str, key: str) -> Any | None:
    path = _path(stage, key)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):  # a damaged entry is a miss, and is replaced
        log.warning("ignoring unreadable cache entry %s", path)
        return None


def put(stage: str, key: str, value: Any) -> None:
    try:
        atomic_write_text(_path(stage, key), json.dumps(value))
    except Exception as exc:  # a cache that cannot be written must never fail a run
        log.warning("cannot write cache entry for %s: %s", stage, exc)
