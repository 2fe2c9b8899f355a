"""Untrusted text and addresses: what hosts publish carries no live HTML, links or escape codes,
keys never reach a log line or a file, downloads never reach the cloud metadata address
(issue 14, security)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from podtools.cli import cli
from podtools.errors import InputError
from podtools.models import Chapter, Mention, Quote, Speaker
from podtools.render import render
from podtools.summarize import summarize
from summary_data import script_episode

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = "<script>document.title='PWNED'</script>"
OSC = "\x1b]0;PWNED\x07"  # sets a terminal's title
BIDI = "\u202eevil\u202c"  # right-to-left override
LINK = "[click me](javascript:alert(1))"
IMAGE = "![pixel](http://tracker.example/p.gif)"
AUTOLINK = "<javascript:alert(2)>"
REFERENCE = "[ref]: javascript:alert(3)"

MARKDOWN_OUTPUTS = ("transcript.md", "summary.md", "show_notes.md", "newsletter.md")
TEXT_OUTPUTS = ("transcript.txt", "youtube_description.txt", "youtube_chapters.txt")


@pytest.fixture(scope="module")
def hostile(sample_script):
    """An episode whose transcript, chapter titles, speaker names, mentions and 'LLM' answers
    all try to inject HTML, links, images and terminal escapes."""
    ep = summarize(script_episode(sample_script)).episode
    segs = [s.model_copy() for s in ep.segments]
    # as imported from a VTT/SRT: "&lt;script&gt;" decodes to the literal text "<script>"
    segs[1] = segs[1].model_copy(update={"text": f"{SCRIPT} then {LINK} and {IMAGE} {AUTOLINK} {OSC}{BIDI}"})
    segs[2] = segs[2].model_copy(update={"text": f"{REFERENCE}\n<img src=x onerror=alert(4)> &lt;b&gt; kept"})
    chapters = [c.model_copy() for c in ep.chapters]
    chapters[0] = chapters[0].model_copy(update={"title": f"Intro <img src=x onerror=alert(5)>{OSC}"})
    chapters[1] = chapters[1].model_copy(update={"title": "Two\n0:00 Fake chapter " + LINK,
                                                  "summary": f"LLM says {SCRIPT} {LINK}"})
    summary = ep.summaries["episode"].model_copy(update={
        "method": "llm",
        "text": f"An LLM summary with **bold** kept, {SCRIPT}, {LINK}, {IMAGE} and {AUTOLINK}.",
        "quotes": [Quote(text=SCRIPT + LINK, segment=1, start=segs[1].start, end=segs[1].end)],
    })
    mentions = [Mention(canonical="GPT-4o", kind="model", surface="GPT 4o", start=segs[1].start, end=segs[1].end)]
    return ep.model_copy(update={
        "segments": segs, "chapters": chapters, "mentions": mentions,
        "speakers": ep.speakers + [Speaker(id="SPEAKER_09", name=f"Eve <b onmouseover=alert(7)>{LINK}</b>")],
        "summaries": {**ep.summaries, "episode": summary},
    })


def _links_and_html(html: str) -> list[str]:
    """Live elements in rendered Markdown: tags other than the harmless ones Markdown makes."""
    harmless = {"p", "h1", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "blockquote", "hr", "code", "pre",
                "br", "table", "thead", "tbody", "tr", "th", "td"}
    tags = re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>", html)
    bad = [f"<{t}{a}>" for t, a in tags if t.lower() not in harmless and t.lower() != "a"]
    bad += [f"<a{a}>" for t, a in tags if t.lower() == "a" and not re.search(r'href="https?://', a)]
    return bad


def test_markdown_outputs_carry_no_live_html_links_or_images(hostile, tmp_path):
    render(hostile, tmp_path)
    md = MarkdownIt("commonmark")  # raw HTML on, as CMSs and newsletter tools render Markdown
    for name in MARKDOWN_OUTPUTS:
        text = (tmp_path / name).read_text(encoding="utf-8")
        html = md.render(text)
        assert _links_and_html(html) == [], (name, _links_and_html(html))
        assert "javascript:" not in " ".join(re.findall(r'(?:href|src)="[^"]*"', html)), name
        assert "\x1b" not in text and "\u202e" not in text, name
    transcript = md.render((tmp_path / "transcript.md").read_text(encoding="utf-8"))
    # the words are kept, shown as text
    assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in transcript.replace("&#x27;", "'")
    assert "[click me](javascript:alert(1))" in transcript
    summary = md.render((tmp_path / "summary.md").read_text(encoding="utf-8"))
    assert "<strong>bold</strong>" in summary  # the LLM's Markdown formatting survives


def test_text_outputs_carry_no_html_or_fake_lines(hostile, tmp_path):
    render(hostile, tmp_path)
    for name in TEXT_OUTPUTS:
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert not re.search(r"<\s*(script|img|b|i)\b", text, re.I), name
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, name
    chapters = (tmp_path / "youtube_chapters.txt").read_text(encoding="utf-8").splitlines()
    assert len(chapters) == len(hostile.chapters)  # a newline in a title makes no chapter of its own
    assert all(re.match(r"^\d+:\d\d ", line) for line in chapters)
    assert "Two 0:00 Fake chapter" in chapters[1]


def test_only_http_links_from_transcript_text(tmp_path, sample_script):
    from podtools.shownotes import context

    ep = script_episode(sample_script)
    segs = [s.model_copy() for s in ep.segments]
    segs[0] = segs[0].model_copy(update={"text": "see https://ok.example/a and https://x.example/a)b(c "
                                                 "javascript:alert(1) data:text/html,hi"})
    links = context(ep.model_copy(update={"segments": segs})).links
    assert "https://ok.example/a" in links
    assert not [u for u in links if not u.startswith(("http://", "https://")) or "(" in u]


def _run_cli(args, env=None, **kw):
    return subprocess.run([sys.executable, "-c", "from podtools.cli import main; main()", *args],
                          capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300, **kw)


def test_terminal_output_has_no_escape_codes(tmp_path):
    """Titles (here a file name; from feeds and tags alike) and transcript text are printed by
    batch, catalog and search: no OSC sequence, no bidi override, no rich markup."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"Evil {OSC}{BIDI} [blink]title.vtt").write_text(
        f"WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nhello {OSC} world {BIDI} said the host\n", encoding="utf-8")
    out = tmp_path / "cat"
    r = _run_cli(["batch", str(folder), "-o", str(out), "--set", "diarize.enabled=false",
                  "--set", "summarize.enabled=false"])
    assert r.returncode == 0, r.stderr
    runs = [r] + [_run_cli(args) for args in (["catalog", "-c", str(out)], ["search", "hello", "-c", str(out)])]
    for run in runs:
        for stream in (run.stdout, run.stderr):
            assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream, (run.args, stream)
    assert "Evil" in runs[1].stdout and "[blink]title" in runs[1].stdout  # the title, as text
    assert "hello" in runs[2].stdout and "said the host" in runs[2].stdout


def test_error_line_is_one_line_without_escapes(tmp_path):
    bad = tmp_path / f"evil{OSC}\nname.mp3"
    bad.write_bytes(b"not audio at all")
    r = _run_cli(["transcribe", str(bad), "-o", str(tmp_path / "o")])
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("podtools: error:"), r.stderr
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr


# -- keys ------------------------------------------------------------------------------------------


def test_key_in_base_url_never_logged_or_written(tmp_path, sample_script):
    """-vv with the key in the base URL's userinfo and in the environment; a server that echoes
    the key back in its answers: the key is in no log line and no file."""
    from openai_server import ScriptedServer

    key = "s3cret-KEY-0123456789abcdef"
    env_key = "Zq9-envkey-9876543210"
    ep = script_episode(sample_script)
    src = tmp_path / "in.json"
    src.write_text(ep.to_json())
    with ScriptedServer() as srv:
        srv.echo_key = True
        base = srv.url.replace("http://", f"http://user:{key}@")
        r = _run_cli(["-vv", "summarize", str(src), "-o", str(tmp_path / "out"), "--llm-base-url", base,
                      "--llm-model", "test-model", "--llm-key-env", "HARDEN_KEY"],
                     env={"HARDEN_KEY": env_key, "PODTOOLS_CACHE_DIR": str(tmp_path / "cache")})
        assert srv.requests, r.stderr  # the server was really called
    assert r.returncode == 0, r.stderr
    for secret in (key, env_key):
        assert secret not in r.stderr and secret not in r.stdout
        for f in (tmp_path / "out").rglob("*"):
            if f.is_file():
                assert secret not in f.read_text(encoding="utf-8", errors="replace"), f
        for f in (tmp_path / "cache").rglob("*"):
            if f.is_file():
                assert secret not in f.read_text(encoding="utf-8", errors="replace"), f
    assert "[redacted]" in r.stderr  # the base URL was logged, without its password


def test_redacting_formatter_covers_every_logger():
    from podtools.redact import RedactingFormatter, remember

    remember("tok-ABCDEFGH12345")
    record = logging.LogRecord("httpx2", logging.DEBUG, __file__, 1, "GET %s Authorization: Bearer %s",
                               ("http://u:pw-12345678@host/v1", "tok-ABCDEFGH12345"), None)
    line = RedactingFormatter("%(name)s: %(message)s").format(record)
    assert "tok-ABCDEFGH12345" not in line and "pw-12345678" not in line
    assert line.startswith("httpx2: GET http://u:[redacted]@host/v1")


# -- downloads -------------------------------------------------------------------------------------


def test_redirect_to_link_local_refused_even_with_allow_private(tmp_path):
    from feedserver import FeedServer, Route
    from podtools.download import fetch, read_url

    with FeedServer() as srv:
        srv.add("/meta.mp3", Route(location="http://169.254.169.254/latest/meta-data/"))
        srv.add("/meta6.mp3", Route(location="http://[fe80::1]/x"))
        for path in ("/meta.mp3", "/meta6.mp3"):
            with pytest.raises(InputError, match="link-local"):
                fetch(srv.url + path, tmp_path, allow_private=True, retries=0)
        with pytest.raises(InputError, match="link-local"):
            read_url(srv.url + "/meta.mp3", allow_private=True)


def test_loopback_and_private_refused_without_the_flag(tmp_path):
    from feedserver import FeedServer, Route
    from podtools.download import address_problem, fetch

    with FeedServer() as srv:
        srv.add("/a.mp3", Route(b"ID3" + b"\0" * 100, content_type="audio/mpeg"))
        with pytest.raises(InputError, match="loopback.*--allow-private"):
            fetch(srv.url + "/a.mp3", tmp_path, retries=0)
        assert fetch(srv.url + "/a.mp3", tmp_path, allow_private=True).read_bytes().startswith(b"ID3")
    for ip in ("10.0.0.1", "192.168.1.5", "172.16.0.1", "100.100.100.200", "::1", "fd00:ec2::254", "0.0.0.0",
               "::ffff:127.0.0.1"):
        assert address_problem(ip) is not None, ip
        assert address_problem(ip, allow_private=True) is None, ip
    for ip in ("169.254.169.254", "fe80::1", "::ffff:169.254.169.254"):
        assert "link-local" in address_problem(ip, allow_private=True), ip
    for ip in ("93.184.216.34", "2606:2800:220:1::1"):
        assert address_problem(ip) is None, ip


def test_cli_ingest_url_to_loopback_needs_the_flag(tmp_path):
    from feedserver import FeedServer, Route

    with FeedServer() as srv:
        srv.add("/ep.mp3", Route(b"ID3" + b"\0" * 100, content_type="audio/mpeg"))
        r = CliRunner().invoke(cli, ["transcribe", srv.url + "/ep.mp3", "-o", str(tmp_path / "o")])
    assert r.exit_code != 0
    assert "loopback" in r.output and "--allow-private" in r.output and "Traceback" not in r.output
    assert len([ln for ln in r.output.splitlines() if ln.strip()]) == 1


def test_csv_outputs_start_no_formula(hostile, tmp_path):
    import csv

    ep = hostile.model_copy(update={
        "speakers": [Speaker(id="SPEAKER_00", name="=HYPERLINK(\"http://evil\",\"x\")")],
        "mentions": [Mention(canonical="GPT-4o", kind="model", surface="+cmd|' /C calc'!A0", start=1.0, end=2.0,
                             speaker="SPEAKER_00")],
    })
    render(ep, tmp_path, only=["mentions.csv"])
    rows = list(csv.DictReader((tmp_path / "mentions.csv").open(encoding="utf-8")))
    assert rows[0]["surface"] == "'+cmd|' /C calc'!A0"
    assert rows[0]["speaker_name"].startswith("'=HYPERLINK")
    assert rows[0]["canonical"] == "GPT-4o"  # ordinary text untouched
