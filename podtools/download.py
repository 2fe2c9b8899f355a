"""Fetch http(s) inputs into the download cache before any stage reads them."""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .errors import InputError
from .fsutil import atomic_open

log = logging.getLogger("podtools.download")

USER_AGENT = "podtools (+https://github.com/podtools/podtools)"
TIMEOUT = 60.0  # seconds without data before a download is abandoned


def cache_dir() -> Path:
    """``$PODTOOLS_CACHE_DIR`` or the user's cache folder (XDG on Linux)."""
    env = os.environ.get("PODTOOLS_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("podtools"))


def is_url(value: str) -> bool:
    return urllib.parse.urlsplit(str(value)).scheme.lower() in ("http", "https")


def fetch(url: str, dest_dir: Path | None = None) -> Path:
    """Download ``url`` (http/https only) into the cache; return the local path.

    A finished download is reused: the cache key is the URL, and the file is only renamed
    into place once complete.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError("only http and https URLs can be downloaded", url)
    name = Path(urllib.parse.unquote(parts.path)).name or "download"
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    dest = (dest_dir or cache_dir() / "downloads") / key / name
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            final = urllib.parse.urlsplit(resp.geturl()).scheme.lower()
            if final not in ("http", "https"):
                raise InputError(f"redirected to a {final}: URL, refused", url)
            with atomic_open(dest, "wb") as fh:
                while block := resp.read(1 << 16):
                    fh.write(block)
    except urllib.error.HTTPError as exc:
        raise InputError(f"download failed: HTTP {exc.code} {exc.reason}", url) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"download failed: {reason}", url) from None
    log.info("downloaded %s to %s", url, dest)
    return dest
