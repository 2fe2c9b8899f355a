"""Untrusted text and addresses: what hosts publish carries no live HTML, links or escape codes,
keys never reach a log line or a file, downloads never reach the cloud metadata address
(issue 14, security)."""

from __future__ import annotations

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
from podtools.models import Mention, Quote, Speaker
from podtools.outputs import render
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
    from podtools.outputs.notes import notes_of

    ep = script_episode(sample_script)
    segs = [s.model_copy() for s in ep.segments]
    segs[0] = segs[0].model_copy(update={"text": "see https://ok.example/a and https://x.example/a)b(c "
                                                 "javascript:alert(1) data:text/html,hi"})
    links = notes_of(ep.model_copy(update={"segments": segs})).links
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


# -- data loss and silent wrong output (issue 14, 5-9) -------------------------------------------------


def test_transcribe_over_an_ingest_folder_is_refused_then_forced(sample_ingest, tmp_path, sample_mp3):
    import shutil

    from podtools.models import Episode

    folder = tmp_path / "ep"
    shutil.copytree(sample_ingest[1], folder)
    before = (folder / "episode.json").read_text()
    r = CliRunner().invoke(cli, ["transcribe", str(sample_mp3), "-o", str(folder), "-q"])
    assert r.exit_code != 0 and "--force" in r.output and "speakers" in r.output
    assert (folder / "episode.json").read_text() == before  # nothing lost
    r = CliRunner().invoke(cli, ["transcribe", str(sample_mp3), "-o", str(folder), "-q", "--force"])
    assert r.exit_code == 0, r.output
    ep = Episode.load(folder / "episode.json")
    assert ep.segments and not ep.speakers and not ep.summaries
    for name in ("summary.md", "show_notes.md", "episode.html", "speakers.rttm", "chapters.json", "mentions.json"):
        assert not (folder / name).exists(), name  # nothing left that disagrees with episode.json
    assert (folder / "transcript.md").is_file()


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e309", "-1.5", "172801"])
def test_episode_json_times_must_be_finite_and_sane(sample_script, tmp_path, bad):
    from podtools.errors import OutputError
    from podtools.models import Episode

    ep = script_episode(sample_script)
    doc = ep.to_json().replace('"start": 0.0', f'"start": {bad}', 1)
    assert doc != ep.to_json()
    path = tmp_path / "episode.json"
    path.write_text(doc)
    with pytest.raises(InputError, match="invalid episode.json at (chapters|segments)"):
        Episode.load(path)
    broken = ep.model_copy(update={"segments": [ep.segments[0].model_copy(update={"start": float(bad)})] + ep.segments[1:]})
    with pytest.raises(OutputError, match="not written"):
        broken.save(tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_schema_version_as_text_says_so(sample_script, tmp_path):
    from podtools.models import Episode

    path = tmp_path / "episode.json"
    path.write_text(script_episode(sample_script).to_json().replace('"schema_version": 1', '"schema_version": "1"'))
    with pytest.raises(InputError, match="schema_version must be the number 1, not '1'"):
        Episode.load(path)


def test_broken_srt_cues_are_named_not_merged():
    from podtools.formats.cues import parse_cues

    text = ("1\n00:00:01,000 --> 00:00:03,000\nHello there.\n\n2\n-00:00:01,000 --> 00:00:04,000\nNegative cue.\n\n"
            "3\n00:00:05 --> 00:00:07\nNo millis.\n\n4\n00:00:08,000 --> 00:00:10,000\nLast one.\n")
    warnings: list[str] = []
    parsed = parse_cues(text, "x.srt", "srt", warnings.append)
    assert [(p.start, p.text) for p in parsed.pieces] == [(1.0, "Hello there."), (8.0, "Last one.")]
    skipped = [w for w in warnings if "cue skipped" in w]
    assert len(skipped) == 2 and "line 6" in skipped[0] and "line 10" in skipped[1]


def test_negative_chapter_time_and_duplicate_speaker_names(tmp_path):
    from podtools.chapters import parse_chapter_list
    from podtools.diarize.names import load_names_file

    with pytest.raises(InputError, match="line 2: '-00:05' is a negative time"):
        parse_chapter_list("00:00 Intro\n-00:05 Before the start\n01:00 Next")
    assert [c.start for c in parse_chapter_list("- 00:00 Intro\n- 01:00 Next")] == [0.0, 60.0]  # list items
    names = tmp_path / "names.txt"
    names.write_text("SPEAKER_00: Alex\nSPEAKER_01: Sam\nSPEAKER_00: Bob\n")
    with pytest.raises(InputError, match="line 3: SPEAKER_00 is named twice"):
        load_names_file(names)
    names.write_text('{"SPEAKER_00": "Alex", "1": "Bob"}')
    with pytest.raises(InputError, match="SPEAKER_00 is named twice"):
        load_names_file(names)


def test_new_chapters_drop_the_old_chapters_summaries(sample_script, tmp_path):
    from podtools.chapters import chapters_stage, parse_chapter_list

    ep = summarize(script_episode(sample_script)).episode
    old = {k: v for k, v in ep.summaries.items() if k.startswith("chapter-")}
    assert old and ep.chapters[1].summary
    kept = ep.chapters[0]
    given = [kept.model_copy(update={"source": "given"})] + parse_chapter_list(
        f"{int(ep.chapters[1].start // 60):02d}:{int(ep.chapters[1].start % 60):02d} A brand new title")
    new = chapters_stage(ep, given=given)
    assert [c.title for c in new.chapters][:2] == [kept.title, "A brand new title"]
    chapter_keys = sorted(k for k in new.summaries if k.startswith("chapter-"))
    assert chapter_keys == ["chapter-0"]  # the unchanged chapter keeps its summary, the new one has none
    assert new.summaries["chapter-0"].text == old["chapter-0"].text
    assert not new.chapters[1].summary
    render(new, tmp_path, only=["summary.md"])
    text = (tmp_path / "summary.md").read_text()
    section = text.split("A brand new title", 1)[1]
    assert old["chapter-1"].text[:40] not in section


def test_catalog_shows_a_killed_batch_as_interrupted(tmp_path):
    import fcntl
    import sqlite3

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "one.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nhello from the host\n")
    out = tmp_path / "cat"
    r = CliRunner().invoke(cli, ["batch", str(folder), "-o", str(out), "-q", "--set", "summarize.enabled=false"])
    assert r.exit_code == 0, r.output
    with sqlite3.connect(out / "catalog.db") as db:  # what a batch killed with -9 mid-episode leaves
        db.execute("UPDATE episodes SET status = 'running'")
    r = CliRunner().invoke(cli, ["catalog", "-c", str(out)])
    assert "1 interrupted" in r.output and "running" not in r.output, r.output
    with open(out / "catalog.db.lock", "a+") as fh:  # a live batch holds the lock: running it is
        fcntl.flock(fh, fcntl.LOCK_EX)
        r = CliRunner().invoke(cli, ["catalog", "-c", str(out)])
        assert "1 running" in r.output, r.output


# -- crashes (issue 14, 10-13) --------------------------------------------------------------------


def test_llm_body_that_is_not_json_is_a_failed_call(tmp_path, monkeypatch):
    from openai_server import ScriptedServer
    from podtools.errors import ModelError
    from podtools.llm import LLM, LLMSettings

    monkeypatch.setenv("PODTOOLS_CACHE_DIR", str(tmp_path / "cache"))
    with ScriptedServer() as srv:
        srv.push(*[{"body": '{"id": "x", "choices": [{"message": ', "content_type": "application/json"}] * 3)
        with pytest.raises(ModelError, match="not valid JSON .3 attempts"):
            LLM(LLMSettings(model="test-model", base_url=srv.url, backoff=0.01, max_retries=2, stream=False)).complete(
                [{"role": "user", "content": "hi"}], "t")
        srv.push({"body": '{"id": "x", "choices": [', "content_type": "application/json"})
        with pytest.raises(ModelError, match="not an event stream"):  # streamed (a local server's default)
            LLM(LLMSettings(model="test-model", base_url=srv.url, backoff=0.01, cache=False)).complete(
                [{"role": "user", "content": "hi"}], "t")
        srv.push({"body": "{broken", "content_type": "application/json"})  # then a good answer: retried
        answer = LLM(LLMSettings(model="test-model", base_url=srv.url, backoff=0.01, cache=False, stream=False)).complete(
            [{"role": "user", "content": "hi"}], "t")
        assert answer.text


def test_bad_paths_templates_and_times_are_one_line_errors(tmp_path, sample_script):
    long_name = "a" * 300
    ep = script_episode(sample_script)
    src = tmp_path / "episode.json"
    src.write_text(ep.to_json())
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "show_notes.md.j2").write_bytes(b"\x00\xff\xfe\x89PNG\r\n")
    md = tmp_path / "t.md"
    md.write_text("[99999999999999999999:00:00] **Host:** hello\n")
    srt = tmp_path / "t.srt"
    srt.write_text("1\n999999999:00:00,000 --> 999999999:00:01,000\nhello\n")
    p2 = tmp_path / "t.json"
    p2.write_text('{"version": "1.0.0", "segments": [{"startTime": 1e309, "endTime": 2, "body": "hi"}]}')
    cases = [
        (["render", str(src), "-o", str(tmp_path / long_name / "x")], "File name too long"),
        (["render", str(src), "-o", str(tmp_path / "o"), "--templates", str(tpl)], "not UTF-8 text"),
        (["transcribe", str(tmp_path / (long_name + ".mp3")), "-o", str(tmp_path / "o2")], "File name too long"),
        (["transcribe", str(md), "-o", str(tmp_path / "o3")], "past 48 hours"),
        (["transcribe", str(srt), "-o", str(tmp_path / "o4")], "past 48 hours"),
        (["transcribe", str(p2), "-o", str(tmp_path / "o5")], "not a finite number"),
    ]
    for args, message in cases:
        r = _run_cli(args)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode not in (0, 70), (args, r.stderr)
        assert len(lines) == 1 and message in lines[0] and "internal error" not in lines[0], (args, r.stderr)


# -- messages that name the right cause ------------------------------------------------------------


def test_messages_name_the_url_and_one_line(tmp_path):
    from feedserver import FeedServer, Route

    page = b"<!DOCTYPE html><html><body><h1>Welcome</h1><p>Not a podcast</p></body></html>"
    with FeedServer() as srv:
        srv.add("/episode", Route(page, content_type="text/html"))
        srv.add("/loop.mp3", Route(location="/loop.mp3"))
        r = _run_cli(["transcribe", srv.url + "/episode", "-o", str(tmp_path / "o"), "--allow-private"],
                     env={"PODTOOLS_CACHE_DIR": str(tmp_path / "cache")})
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1, r.stderr
        assert f"{srv.url}/episode: the server sent a web page" in lines[0] and "cache" not in lines[0]
        r = _run_cli(["transcribe", srv.url + "/loop.mp3", "-o", str(tmp_path / "o"), "--allow-private"],
                     env={"PODTOOLS_CACHE_DIR": str(tmp_path / "cache")})
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "redirect loop" in lines[0], r.stderr


def test_summary_made_from_failed_answers_says_extractive(sample_script, tmp_path, monkeypatch):
    from openai_server import ScriptedServer

    monkeypatch.setenv("PODTOOLS_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "in.json"
    src.write_text(script_episode(sample_script).to_json())
    with ScriptedServer() as srv:
        srv.push(*[{"content": "this is not the JSON that was asked for"}] * 200)
        r = CliRunner().invoke(cli, ["summarize", str(src), "-o", str(tmp_path / "out"), "--llm-base-url", srv.url,
                                     "--llm-model", "test-model"])
    assert r.exit_code == 0, r.output
    assert "extractive summary" in r.output and "llm summary" not in r.output
    assert "Draft from an extractive summary" in (tmp_path / "out" / "newsletter.md").read_text()
