"""Downloads over a real HTTP server: http(s) only, safe redirects, resume, limits, verified length."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from feedserver import FeedServer, Route
from podtools.download import cache_path, fetch, read_url
from podtools.errors import InputError

BODY = os.urandom(200_000)


@pytest.fixture()
def server():
    with FeedServer() as srv:
        yield srv


def test_download_then_cache(server, tmp_path):
    url = server.add("/a.mp3", Route(BODY))
    seen = []
    path = fetch(url, tmp_path, progress=lambda got, total: seen.append((got, total)), allow_private=True)
    assert path.read_bytes() == BODY
    assert seen[-1] == (len(BODY), len(BODY))
    assert fetch(url, tmp_path, allow_private=True) == path
    assert len(server.hits("/a.mp3")) == 1  # the second call did not touch the network
    assert sorted(p.name for p in path.parent.iterdir()) == [".lock", "a.mp3"]  # no .part left


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x.mp3", "data:,hello", "/etc/passwd",
                                 "http:///nohost.mp3"])
def test_only_http_urls(url, tmp_path):
    with pytest.raises(InputError, match="only http and https|no host"):
        fetch(url, tmp_path, allow_private=True)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_redirect_to_other_scheme_refused(server, tmp_path, target):
    url = server.add("/r.mp3", Route(location=target))
    with pytest.raises(InputError, match="redirected to a (file|ftp): URL.*refused"):
        fetch(url, tmp_path, allow_private=True)
    assert not list(tmp_path.rglob("r.mp3*"))
    with pytest.raises(InputError, match="redirected"):
        read_url(url, allow_private=True)


def test_redirect_to_http_followed(server, tmp_path):
    server.add("/real.mp3", Route(BODY))
    url = server.add("/moved.mp3", Route(location="/real.mp3", status=301))
    assert fetch(url, tmp_path, allow_private=True).read_bytes() == BODY


def test_http_errors(server, tmp_path):
    with pytest.raises(InputError, match="HTTP 404"):
        fetch(server.url + "/missing.mp3", tmp_path, allow_private=True)
    url = server.add("/boom.mp3", Route(status=500))
    with pytest.raises(InputError, match="HTTP 500"):
        fetch(url, tmp_path, retries=1, allow_private=True)
    assert len(server.hits("/boom.mp3")) == 2  # a 5xx is retried, a 404 is not
    assert len(server.hits("/missing.mp3")) == 1


def test_dropped_connection_resumes_with_range(server, tmp_path):
    url = server.add("/drop.mp3", Route(BODY, drop_after=70_000))
    path = fetch(url, tmp_path, timeout=5, allow_private=True)
    assert path.read_bytes() == BODY
    ranges = server.hits("/drop.mp3")
    assert ranges[0] is None and ranges[1] == "bytes=70000-"


def test_stalled_server_times_out_and_resumes(server, tmp_path):
    url = server.add("/stall.mp3", Route(BODY, stall_after=50_000, stall_seconds=3))
    path = fetch(url, tmp_path, timeout=0.5, allow_private=True)
    assert path.read_bytes() == BODY
    assert server.hits("/stall.mp3")[1] == "bytes=50000-"


def test_resume_after_killed_process(server, tmp_path):
    """A .part file left by a killed process is continued, not restarted."""
    url = server.add("/k.mp3", Route(BODY))
    dest = cache_path(url, tmp_path)
    dest.parent.mkdir(parents=True)
    dest.with_name("k.mp3.part").write_bytes(BODY[:123_456])
    # the validators the killed attempt stored: the server's ETag
    etag = '"' + hashlib.sha1(BODY).hexdigest()[:16] + '"'
    dest.with_name("k.mp3.part.json").write_text(json.dumps({"url": url, "total": len(BODY), "etag": etag}))
    assert fetch(url, tmp_path, allow_private=True).read_bytes() == BODY
    assert server.hits("/k.mp3") == ["bytes=123456-"]


def test_changed_file_restarts_instead_of_mixing(server, tmp_path):
    url = server.add("/c.mp3", Route(BODY))
    dest = cache_path(url, tmp_path)
    dest.parent.mkdir(parents=True)
    dest.with_name("c.mp3.part").write_bytes(b"x" * 1000)
    dest.with_name("c.mp3.part.json").write_text(json.dumps({"url": url, "total": len(BODY), "etag": '"old"'}))
    assert fetch(url, tmp_path, allow_private=True).read_bytes() == BODY  # If-Range failed: whole file again


def test_size_limit(server, tmp_path):
    url = server.add("/big.mp3", Route(BODY))
    with pytest.raises(InputError, match="larger than the size limit.*--max-size"):
        fetch(url, tmp_path, max_bytes=100_000, allow_private=True)
    assert not list(tmp_path.rglob("big.mp3*"))


def test_short_body_is_never_accepted(server, tmp_path):
    """A server that always closes early: the file is never renamed into the cache."""
    url = server.add("/short.mp3", Route(BODY, drop_after=10_000))
    server.routes["/short.mp3"].drop_times = 99
    with pytest.raises(InputError, match="download failed: connection closed early after .* of 200000 bytes"):
        fetch(url, tmp_path, retries=2, timeout=2, allow_private=True)
    assert not cache_path(url, tmp_path).exists()


def test_feed_size_limit(server):
    url = server.add("/feed.xml", Route(b"<rss>" + b" " * 5000 + b"</rss>", content_type="application/rss+xml"))
    with pytest.raises(InputError, match="larger than"):
        read_url(url, max_bytes=1000, allow_private=True)
    assert read_url(url, allow_private=True)[0].startswith(b"<rss>")
