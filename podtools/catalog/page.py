"""The catalogue's static ``index.html``: one line per episode, linking each finished one's page,
rendered from ``catalog_index.html.j2`` and rewritten only when what it shows changed.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from pathlib import Path
from typing import Any

import jinja2

from .. import __version__
from ..errors import ConfigError
from ..fsutil import atomic_write_text
from ..templating import environment
from ..timefmt import hms
from .store import Catalog

# -- the static index page --------------------------------------------------------------------

INDEX_TEMPLATE = "catalog_index.html.j2"
EPISODE_PAGES = ("episode.html", "transcript.md", "transcript.txt")  # the first that exists is linked


def index_entries(catalog: Catalog, root: Path) -> list[dict[str, Any]]:
    """One dict per episode for the index page, newest first; ``href`` relative to ``root``."""
    counts = dict(catalog.conn.execute(
        "SELECT e.uid, COUNT(m.id) FROM episodes e LEFT JOIN mentions m ON m.episode_id = e.id GROUP BY e.id"))
    out = []
    for row in catalog.episodes():
        href = None
        if row.status == "done":
            folder = root / "episodes" / row.folder
            page = next((name for name in EPISODE_PAGES if (folder / name).is_file()), None)
            href = "episodes/" + urllib.parse.quote(row.folder) + "/" + (urllib.parse.quote(page) if page else "")
        published = row.published_dt
        out.append({
            "title": row.title or row.uid,
            "published": published.strftime("%Y-%m-%d") if published else "",
            "duration": hms(row.duration) if row.duration else "",
            "status": row.status,
            "error": row.error if row.status in ("failed", "duplicate") else None,
            "href": href,
            "mentions": counts.get(row.uid, 0),
        })
    return out


def write_index(catalog: Catalog, root: str | Path, templates_dir: str | Path | None = None) -> Path:
    """Write ``<root>/index.html`` linking every finished episode's page (only when it changed).

    The page ends with a fingerprint of what it shows (the entries, counts and podtools version),
    so a re-run over an unchanged catalogue skips rendering; a user template directory is always
    rendered (its files may have changed) and the result compared instead.
    """
    root = Path(root)
    path = root / "index.html"
    entries, counts, title = index_entries(catalog, root), catalog.counts(), _index_title(catalog)
    stamp = hashlib.sha256(json.dumps([__version__, entries, counts, title], sort_keys=True,
                                      default=str).encode()).hexdigest()[:16]
    marker = f"<!-- podtools-index {stamp} -->"
    if templates_dir is None and _index_stamp(path) == marker:
        return path
    env = environment(templates_dir)
    try:
        template = env.get_template(INDEX_TEMPLATE)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"template {INDEX_TEMPLATE!r} not found", templates_dir) from None
    html = template.render(episodes=entries, counts=counts, title=title).rstrip("\n") + f"\n{marker}\n"
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == html:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    return atomic_write_text(path, html)


def _index_stamp(path: Path) -> str | None:
    """The fingerprint comment that ends an index page podtools wrote, if any."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 80))
            tail = f.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return None
    return tail[-1] if tail and tail[-1].startswith("<!-- podtools-index ") else None


def _index_title(catalog: Catalog) -> str:
    sources = [r[0] for r in catalog.conn.execute("SELECT DISTINCT source FROM episodes ORDER BY source LIMIT 4")]
    return "Podcast catalogue" + (f": {', '.join(sources[:3])}" if sources else "")
