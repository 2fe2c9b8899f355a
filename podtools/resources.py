"""Locate the data shipped with podtools: pipeline presets and Jinja templates.

Installed (``pip install .``) they are the data packages ``podtools.pipelines`` and
``podtools.templates``; in a source checkout they are the top-level ``pipelines/`` and
``templates/`` folders next to ``podtools/``.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def data_dir(kind: str) -> Path:
    """Folder of the shipped ``pipelines`` or ``templates``."""
    try:
        root = importlib.resources.files(f"podtools.{kind}")
        path = Path(str(root))
        if path.is_dir():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / kind


def schema_path() -> Path:
    return Path(__file__).resolve().parent / "schema" / "episode.schema.json"
