"""Fetch http(s) inputs into the download cache before any stage reads them.

Only ``http`` and ``https`` are ever fetched: a ``file://`` (or any other scheme) URL is
refused, and so is a redirect to one. Downloads stream into ``NAME.part`` next to their final
place and are renamed into the cache only once their length has been verified against the
server's ``Content-Length``/``Content-Range``; an interrupted download (timeout, dropped
connection, killed process) resumes from where it stopped with an HTTP ``Range`` request,
guarded by ``If-Range`` so that a file changed on the server is fetched again from the start.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Optional

from .errors import InputError, OutputError

log = logging.getLogger("podtools.download")

USER_AGENT = "podtools (+https://github.com/podtools/podtools)"
TIMEOUT = 60.0  # seconds without data before a download is abandoned (then resumed)
RETRIES = 3  # further attempts after a timeout, a dropped connection or an HTTP 5xx
DEFAULT_MAX_BYTES = 2 * 1024**3  # an episode enclosure larger than 2 GiB is refused
CHUNK = 1 << 16
ALLOWED_SCHEMES = ("http", "https")

# (bytes received so far, total bytes or None)
ByteProgress = Callable[[int, Optional[int]], None]


def cache_dir() -> Path:
    """``$PODTOOLS_CACHE_DIR`` or the user's cache folder (XDG on Linux)."""
    env = os.environ.get("PODTOOLS_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("podtools"))


def is_url(value: str) -> bool:
    return urllib.parse.urlsplit(str(value)).scheme.lower() in ALLOWED_SCHEMES


def check_url(url: str) -> str:
    """Return ``url`` if it is http(s) with a host; raise :class:`InputError` otherwise."""
    parts = urllib.parse.urlsplit(str(url))
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        what = f"a {scheme}: URL" if scheme else "not a URL"
        raise InputError(f"{what}; only http and https URLs can be downloaded", url)
    if not parts.hostname:
        raise InputError("URL has no host name", url)
    return url


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s); urllib's default also follows ``ftp:``."""

    max_redirections = 10

    def http_error_302(self, req, fp, code, msg, headers):
        newurl = headers.get("location") or headers.get("uri")
        if newurl:
            self._check(req, newurl)
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self._check(req, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)

    @staticmethod
    def _check(req, newurl: str) -> None:
        target = urllib.parse.urljoin(req.full_url, newurl)
        scheme = urllib.parse.urlsplit(target).scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise InputError(f"redirected to a {scheme or 'non-http'}: URL ({target[:80]}), refused", req.full_url)


# -- where a download may connect -----------------------------------------------------------------

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; some clouds' metadata lives here
ALLOW_PRIVATE_HINT = "--allow-private allows private and loopback addresses"


def address_problem(ip: str, allow_private: bool = False) -> str | None:
    """Why podtools must not connect to ``ip`` (None: it may). Link-local addresses
    (169.254.169.254, the cloud metadata service, and fe80::/10) are always refused; private,
    loopback and other non-public addresses unless ``allow_private``."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return f"{ip} is not an IP address"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr.is_link_local:
        return f"{addr} is a link-local address (where cloud metadata services answer), always refused"
    if allow_private:
        return None
    if addr.is_loopback:
        return f"{addr} is a loopback address ({ALLOW_PRIVATE_HINT})"
    if addr.is_private or addr.is_reserved or addr.is_unspecified or addr.is_multicast or addr in _SHARED:
        return f"{addr} is a private address ({ALLOW_PRIVATE_HINT})"
    return None


def _check_host(host: str, port: int | None, allow_private: bool, url: str) -> None:
    """Every address ``host`` resolves to must be allowed (for requests through a proxy, where
    the connection itself goes to the proxy)."""
    try:
        infos = socket.getaddrinfo(host, port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return  # the request fails with its own clear error
    for info in infos:
        problem = address_problem(str(info[4][0]), allow_private)
        if problem:
            raise InputError(f"refused to connect to {host}: {problem}", url)


def _guarded(base: type, allow_private: bool, url: str) -> type:
    """``base`` (HTTPConnection or HTTPSConnection) checking the address it actually connected
    to before a byte is sent: every redirect, every DNS answer (no rebinding around the check)."""

    class Guarded(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            connect = self._create_connection

            def create_connection(address, *a, **kw):
                _check_host(address[0], address[1], allow_private, url)  # before: never even a SYN
                sock = connect(address, *a, **kw)  # after: the address really connected to
                problem = address_problem(str(sock.getpeername()[0]), allow_private)
                if problem:
                    sock.close()
                    raise InputError(f"refused to connect to {address[0]}: {problem}", url)
                return sock

            self._create_connection = create_connection

    return Guarded


def _proxied(req: urllib.request.Request) -> bool:
    return req.has_proxy() or bool(getattr(req, "_tunnel_host", None))


class _GuardedHTTP(urllib.request.HTTPHandler):
    def __init__(self, allow_private: bool):
        super().__init__()
        self.allow_private = allow_private

    def http_open(self, req):
        if _proxied(req):
            parts = urllib.parse.urlsplit(req.full_url)
            _check_host(parts.hostname or "", parts.port, self.allow_private, req.full_url)
            return self.do_open(http.client.HTTPConnection, req)
        return self.do_open(_guarded(http.client.HTTPConnection, self.allow_private, req.full_url), req)


class _GuardedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, allow_private: bool):
        super().__init__()
        self.allow_private = allow_private

    def https_open(self, req):
        if _proxied(req):
            parts = urllib.parse.urlsplit(req.full_url)
            _check_host(parts.hostname or "", parts.port or 443, self.allow_private, req.full_url)
            return self.do_open(http.client.HTTPSConnection, req, context=self._context)
        return self.do_open(_guarded(http.client.HTTPSConnection, self.allow_private, req.full_url), req,
                            context=self._context)


def _opener(allow_private: bool = False) -> urllib.request.OpenerDirector:
    # build_opener would add FileHandler/FTPHandler/DataHandler: an explicit handler list keeps
    # every other scheme out even if a check above were bypassed.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        _GuardedHTTP(allow_private),
        _GuardedHTTPS(allow_private),
        urllib.request.HTTPDefaultErrorHandler(),
        _SafeRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _http_error(exc: urllib.error.HTTPError, url: str) -> InputError:
    return InputError(f"download failed: {_reason(exc)}", url)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code in (408, 429)
    return isinstance(
        exc, (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException)
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        if 300 <= exc.code < 400 and "infinite loop" in str(exc.reason):
            return f"redirect loop (HTTP {exc.code}, more than {_SafeRedirects.max_redirections} redirects)"
        return " ".join(f"HTTP {exc.code} {exc.reason}".split())  # one line, whatever the server wrote
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    return " ".join((str(reason) or type(reason).__name__).split())


def read_url(url: str, max_bytes: int = 50 * 1024**2, timeout: float = TIMEOUT,
             allow_private: bool = False) -> tuple[bytes, str]:
    """GET a small document (a feed) into memory; return (body, final URL after redirects).
    Private and loopback addresses are refused unless ``allow_private``; link-local always."""
    check_url(url)
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with _opener(allow_private).open(req, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise InputError(f"larger than the {_mb(max_bytes)} limit ({_mb(int(length))})", url)
            body = resp.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise InputError(f"larger than the {_mb(max_bytes)} limit", url)
            if length and length.isdigit() and len(body) != int(length):
                raise InputError(f"download incomplete: {len(body)} of {int(length)} bytes", url)
            return body, resp.geturl()
    except urllib.error.HTTPError as exc:
        raise _http_error(exc, url) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        raise InputError(f"download failed: {_reason(exc)}", url) from None


def _mb(n: int) -> str:
    return f"{n / 1024**2:.1f} MB" if n < 1024**3 else f"{n / 1024**3:.1f} GB"


def _safe_name(url: str) -> str:
    name = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    name = re.sub(r"[^\w.\-]+", "_", name, flags=re.ASCII).strip("._")[:100]
    return name or "download"


def cache_path(url: str, dest_dir: Path | None = None) -> Path:
    """Where :func:`fetch` puts ``url``: ``<cache>/downloads/<sha256(url)[:16]>/<name>``."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    return (dest_dir or cache_dir() / "downloads") / key / _safe_name(url)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive lock so two processes never append to the same ``.part`` file."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no cross-process lock
        yield
        return
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fetch(
    url: str,
    dest_dir: Path | None = None,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    progress: ByteProgress | None = None,
    allow_private: bool = False,
) -> Path:
    """Download ``url`` (http/https only) into the cache; return the local path.

    A finished download is reused: the cache key is the URL, and the file is only renamed
    into place once complete and of the length the server declared. ``max_bytes`` (None: no
    limit) refuses larger files; ``timeout`` is seconds without data; after a timeout or a
    dropped connection the download resumes up to ``retries`` more times. The connection (and
    that of every redirect) may not go to a link-local address, nor to a private or loopback
    one unless ``allow_private``.
    """
    check_url(url)
    dest = cache_path(url, dest_dir)
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the download cache ({exc.strerror})", dest.parent) from None
    with _locked(dest.parent / ".lock"):
        if dest.is_file() and dest.stat().st_size > 0:  # another process finished it meanwhile
            return dest
        _Download(url, dest, max_bytes, timeout, progress, allow_private).run(retries)
    log.info("downloaded %s to %s", url, dest)
    return dest


class _Download:
    def __init__(self, url: str, dest: Path, max_bytes: int | None, timeout: float, progress: ByteProgress | None,
                 allow_private: bool = False):
        self.url = url
        self.allow_private = allow_private
        self.dest = dest
        self.part = dest.with_name(dest.name + ".part")
        self.meta_path = dest.with_name(dest.name + ".part.json")
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.progress = progress

    # validators of the partial file, so a resumed request can ask "only if unchanged"
    def _meta(self) -> dict:
        try:
            meta = json.loads(self.meta_path.read_text())
            return meta if isinstance(meta, dict) and meta.get("url") == self.url else {}
        except (OSError, ValueError):
            return {}

    def _save_meta(self, meta: dict) -> None:
        try:
            self.meta_path.write_text(json.dumps(meta))
        except OSError as exc:
            raise OutputError(f"cannot write to the download cache ({exc.strerror})", self.meta_path) from None

    def _reset(self) -> None:
        for p in (self.part, self.meta_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def run(self, retries: int) -> None:
        attempt = 0
        while True:
            try:
                if self._attempt():
                    return
                problem: BaseException | str = "connection closed early"
            except InputError:
                raise
            except OSError as exc:
                if not _retryable(exc):
                    if isinstance(exc, urllib.error.HTTPError):
                        raise _http_error(exc, self.url) from None
                    raise OutputError(f"cannot write the download ({exc.strerror or exc})", self.part) from None
                problem = exc
            except http.client.HTTPException as exc:
                problem = exc
            attempt += 1
            have = self.part.stat().st_size if self.part.exists() else 0
            reason = problem if isinstance(problem, str) else _reason(problem)
            if attempt > retries:
                meta = self._meta()
                total = meta.get("total")
                got = f" after {have} of {total} bytes" if total else (f" after {have} bytes" if have else "")
                if isinstance(problem, urllib.error.HTTPError):
                    raise InputError(f"download failed: {reason}", self.url)
                raise InputError(f"download failed: {reason}{got} ({attempt} attempts)", self.url)
            log.info("%s: %s at %d bytes; resuming (attempt %d)", self.url, reason, have, attempt + 1)
            time.sleep(min(0.5 * 2 ** (attempt - 1), 5.0))

    def _attempt(self) -> bool:
        """One request; True when the file is complete and renamed into place."""
        meta = self._meta()
        offset = self.part.stat().st_size if self.part.exists() and meta else 0
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if validator:
                headers["If-Range"] = validator
        req = urllib.request.Request(self.url, headers=headers)
        try:
            resp = _opener(self.allow_private).open(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset and meta.get("total") == offset:
                return self._finish(offset, meta)  # we already had every byte
            if exc.code == 416:
                self._reset()
            raise
        with resp:
            total = self._total(resp, offset)
            if resp.status == 206:
                mode = "ab"
            else:  # 200: the server ignored Range, or the file changed (If-Range failed)
                offset, mode = 0, "wb"
                total = self._total(resp, 0)
            if meta.get("total") not in (None, total) and mode == "ab":
                self._reset()  # the length changed under us: start again
                return False
            if self.max_bytes is not None and total is not None and total > self.max_bytes:
                self._reset()
                raise InputError(
                    f"enclosure is {_mb(total)}, larger than the size limit of {_mb(self.max_bytes)} "
                    "(raise it with --max-size)",
                    self.url,
                )
            self._save_meta(
                {
                    "url": self.url,
                    "total": total,
                    "etag": resp.headers.get("ETag"),
                    "last_modified": resp.headers.get("Last-Modified"),
                }
            )
            got = offset
            with open(self.part, mode) as fh:
                if self.progress:
                    self.progress(got, total)
                while True:
                    block = resp.read1(CHUNK)  # what has arrived: a stall keeps the bytes before it
                    if not block:
                        break
                    got += len(block)
                    if self.max_bytes is not None and got > self.max_bytes:
                        fh.close()
                        self._reset()
                        raise InputError(
                            f"enclosure is larger than the size limit of {_mb(self.max_bytes)} "
                            "(raise it with --max-size)",
                            self.url,
                        )
                    if total is not None and got > total:
                        fh.close()
                        self._reset()
                        raise InputError(f"server sent more than the {total} bytes it declared", self.url)
                    fh.write(block)
                    if self.progress:
                        self.progress(got, total)
                fh.flush()
                os.fsync(fh.fileno())
        if total is not None and got < total:
            return False  # dropped connection: resume
        if got == 0:
            self._reset()
            raise InputError("download failed: the server sent an empty file", self.url)
        return self._finish(got, meta)

    @staticmethod
    def _total(resp, offset: int) -> int | None:
        if resp.status == 206:
            rng = resp.headers.get("Content-Range", "")
            m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", rng)
            if not m or int(m.group(1)) != offset:
                raise http.client.HTTPException(f"bad Content-Range {rng!r} for a request from byte {offset}")
            return int(m.group(3)) if m.group(3) != "*" else None
        length = resp.headers.get("Content-Length")
        return int(length) if length and length.strip().isdigit() else None

    def _finish(self, size: int, meta: dict) -> bool:
        try:
            os.replace(self.part, self.dest)
        except OSError as exc:
            raise OutputError(f"cannot write the download ({exc.strerror})", self.dest) from None
        with contextlib.suppress(FileNotFoundError):
            self.meta_path.unlink()
        return True
