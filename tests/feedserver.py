"""A real HTTP server on 127.0.0.1 for batch and download tests: feeds, audio, and misbehaviour.

Routes map a path to a :class:`Route`: a body (with ``Range``/``If-Range`` support, ETag and
Last-Modified), an HTTP status, a redirect, a server that trickles bytes, or one that drops
or stalls the connection part-way the first time a path is requested.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "audio/mpeg"
    status: int = 200
    location: Optional[str] = None  # redirect target (status 302 unless given)
    chunk_delay: float = 0.0  # seconds between 16 KiB chunks: a slow server
    drop_after: Optional[int] = None  # close the connection after this many bytes ...
    drop_times: int = 1  # ... on this many first requests
    stall_after: Optional[int] = None  # first request only: send this many bytes, then go silent
    stall_seconds: float = 5.0
    declared_length: Optional[int] = None  # lie about Content-Length
    ranges: bool = True  # honour Range requests
    _hits: int = field(default=0, repr=False)


class FeedServer:
    def __init__(self, routes: dict[str, Route] | None = None):
        self.routes: dict[str, Route] = dict(routes or {})
        self.log: list[tuple[str, Optional[str]]] = []  # (path, Range header)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                self._serve(head=True)

            def do_GET(self):
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.log.append((path, self.headers.get("Range")))
                    route = server.routes.get(path)
                    if route is not None:
                        route._hits += 1
                        first = route._hits == 1
                        drop = route._hits <= route.drop_times
                if route is None:
                    return self._plain(404, b"not found")
                if route.location:
                    self.send_response(route.status if route.status in (301, 302, 303, 307, 308) else 302)
                    self.send_header("Location", route.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.status != 200:
                    return self._plain(route.status, b"error")
                body = route.body
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                start, status = 0, 200
                rng = self.headers.get("Range")
                if rng and route.ranges:
                    m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
                    if_range = self.headers.get("If-Range")
                    if m and (not if_range or if_range == etag):
                        start = int(m.group(1))
                        if start >= len(body):
                            self.send_response(416)
                            self.send_header("Content-Range", f"bytes */{len(body)}")
                            self.send_header("Content-Length", "0")
                            self.end_headers()
                            return
                        status = 206
                part = body[start:]
                self.send_response(status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", email.utils.formatdate(1_700_000_000, usegmt=True))
                self.send_header("Accept-Ranges", "bytes" if route.ranges else "none")
                length = route.declared_length if route.declared_length is not None else len(part)
                self.send_header("Content-Length", str(length))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                if head:
                    return
                sent = 0
                try:
                    for i in range(0, len(part), 16384):
                        chunk = part[i : i + 16384]
                        if drop and route.drop_after is not None and sent + len(chunk) > route.drop_after:
                            self.wfile.write(chunk[: route.drop_after - sent])
                            self.wfile.flush()
                            self.close_connection = True
                            return
                        if first and route.stall_after is not None and sent + len(chunk) > route.stall_after:
                            self.wfile.write(chunk[: route.stall_after - sent])
                            self.wfile.flush()
                            time.sleep(route.stall_seconds)
                            self.close_connection = True
                            return
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        if route.chunk_delay:
                            self.wfile.flush()
                            time.sleep(route.chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _plain(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "FeedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url + path

    def hits(self, path: str) -> list[Optional[str]]:
        with self._lock:
            return [r for p, r in self.log if p == path]


def rss(title: str, items: list[dict], extra_head: str = "") -> bytes:
    """An RSS 2.0 podcast feed; each item: title, guid, url, date (RFC 822 or datetime), duration,
    type, description (HTML)."""
    import datetime as dt
    from xml.sax.saxutils import escape, quoteattr

    parts = [f'<?xml version="1.0" encoding="utf-8"?>{extra_head}',
             '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>',
             f"<title>{escape(title)}</title><link>https://example.test/{escape(title.lower().replace(' ', '-'))}</link>"]
    for it in items:
        date = it.get("date")
        if isinstance(date, dt.datetime):
            date = email.utils.format_datetime(date)
        parts.append("<item>")
        parts.append(f"<title>{escape(it['title'])}</title>")
        if it.get("guid") is not None:
            parts.append(f'<guid isPermaLink="false">{escape(it["guid"])}</guid>')
        if date:
            parts.append(f"<pubDate>{escape(date)}</pubDate>")
        if it.get("description"):
            parts.append(f"<description>{escape(it['description'])}</description>")
        if it.get("duration"):
            parts.append(f"<itunes:duration>{escape(str(it['duration']))}</itunes:duration>")
        if it.get("url"):
            parts.append(f'<enclosure url={quoteattr(it["url"])} type="{it.get("type", "audio/mpeg")}" '
                         f'length="{it.get("length", 0)}"/>')
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")
