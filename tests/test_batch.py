"""`podtools batch` end to end: a real feed over HTTP, real Whisper, failures isolated, re-runs free."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from batchdata import TRAVERSAL_TITLE, check_catalogue, children_of, light, run_cli, run_cli_modules, served_show
from feedserver import Route, rss
from plots import drawn_series
from podtools.cli import cli
from podtools.models import Episode


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    with served_show(tmp_path_factory) as s:
        yield s


@pytest.fixture(scope="module")
def first_run(show, tmp_path_factory, own_cache):
    """The whole feed with 2 workers, through the CLI, with a cache of its own (every episode is
    really downloaded and transcribed): (output folder, result)."""
    out = tmp_path_factory.mktemp("batch") / "catalogue"
    with own_cache("batch-first-run"):
        result = CliRunner().invoke(cli, ["batch", show.feed_url, "--allow-private", "-o", str(out), "--workers", "2"])
    return out, result


def test_feed_end_to_end(show, first_run):
    out, result = first_run
    assert result.exit_code == 1, result.output  # some episodes failed; the rest are done
    assert "batch: 6 done, 1 duplicates, 4 failed" in result.output
    assert "duplicate entry for GUID 'guid-1'" in result.output
    rows = check_catalogue(out, show.done, show.failed)
    # the re-published episode was recognised by its audio
    assert rows["Episode 2 (rerun)"]["status"] == "duplicate"
    assert rows["Episode 2 (rerun)"]["duplicate_of"] == rows[show.episodes[1].title]["id"]
    # feed metadata is the episode's, and the hostile title stayed inside episodes/
    trav = rows[TRAVERSAL_TITLE]
    assert (out / "episodes" / trav["folder"]).resolve().parent == (out / "episodes").resolve()
    ep = Episode.load(out / "episodes" / trav["folder"] / "episode.json")
    assert ep.title == TRAVERSAL_TITLE and ep.source.startswith(show.slow.url)
    assert ep.published.isoformat().startswith("2024-01-06")
    assert "../../etc/x" in (out / "episodes" / trav["folder"] / "transcript.md").read_text()
    # chapters from the show notes in the feed
    first = Episode.load(out / "episodes" / rows[show.episodes[0].title]["folder"] / "episode.json")
    if first.chapters:  # with a chapters stage in the pipeline
        assert [(c.start, c.title, c.source) for c in first.chapters] == [
            (0.0, "Welcome", "given"), (2.0, "Reasoning tests", "given")]
    # every stage of every finished episode is timed
    db = sqlite3.connect(out / "catalog.db")
    stages = db.execute("SELECT e.title, s.stage, s.seconds FROM stages s JOIN episodes e ON e.id = s.episode_id "
                        "WHERE s.status = 'done'").fetchall()
    for title in show.done:
        names = {s for t, s, _ in stages if t == title}
        assert {"download", "decode", "transcribe"} <= names, (title, names)
    assert all(sec is not None and sec >= 0 for _, _, sec in stages)
    failed_stage = dict(db.execute("SELECT e.title, s.stage FROM stages s JOIN episodes e ON e.id = s.episode_id "
                                   "WHERE s.status = 'failed'").fetchall())
    assert failed_stage == {"Corrupt": "decode", "Missing": "download", "Local file": "download",
                            "Redirected": "download"}


def test_search_finds_each_episode(show, first_run):
    """Each episode is found by a word only its transcript has (whatever ASR made of it)."""
    import re

    out = first_run[0]
    db = sqlite3.connect(out / "catalog.db")
    texts = {t: Episode.load(out / "episodes" / f / "episode.json").text.lower()
             for t, f in db.execute("SELECT title, folder FROM episodes WHERE status = 'done'")}
    words = {t: set(re.findall(r"[a-z]{5,}", text)) for t, text in texts.items()}
    for title, own in words.items():
        unique = sorted(own - set().union(*(w for t, w in words.items() if t != title)), key=len)
        assert unique, title
        r = CliRunner().invoke(cli, ["search", unique[-1], "-c", str(out), "--json"])
        hits = json.loads(r.output)
        assert hits and hits[0]["episode_title"] == title, (unique[-1], r.output)
        assert hits[0]["start"] < 8
    r = CliRunner().invoke(cli, ["search", "quantum computers", "-c", str(out)])
    assert show.episodes[1].title in r.output
    r = CliRunner().invoke(cli, ["catalog", "-c", str(out)])
    assert r.output.startswith("11 episodes: 6 done, 4 failed, 1 duplicate")
    assert "HTTP 404" in r.output


def test_trends_over_the_batch_catalogue(first_run, tmp_path):
    """trends counts what the mentions stage found in each processed episode, oldest first."""
    out = first_run[0]
    db = sqlite3.connect(out / "catalog.db")
    expect: dict[str, dict[str, int]] = {}
    for title, folder in db.execute("SELECT title, folder FROM episodes WHERE status = 'done'"):
        for m in Episode.load(out / "episodes" / folder / "episode.json").mentions:
            expect.setdefault(m.canonical, {}).setdefault(title, 0)
            expect[m.canonical][title] += 1
    assert expect, "the batch found no mentions at all"
    r = CliRunner().invoke(cli, ["trends", "-c", str(out), "--json", "--top", "3", "--csv", str(tmp_path / "t.csv"),
                                 "--png", str(tmp_path / "t.png")])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["names"] and set(got["names"]) <= set(expect)
    for name in got["names"]:
        counts = {e["title"]: e["counts"][name] for e in got["episodes"]}
        assert {t: c for t, c in counts.items() if c} == expect[name], name
    dates = [e["published"] for e in got["episodes"] if e["published"]]
    assert dates == sorted(dates)
    import csv

    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert [r["episode"] for r in rows] == [e["title"] for e in got["episodes"]]
    for name in got["names"]:
        assert {r["episode"]: int(r[name]) for r in rows if int(r[name])} == expect[name], name
    assert drawn_series(tmp_path / "t.png") == len(got["names"])


def test_feed_written_back_with_podcasting2_tags(show, first_run, tmp_path):
    """`podtools feed`: the show's feed with Podcasting 2.0 tags on each finished episode (the
    re-published one gets its original's), everything else byte for byte, read back by
    feedparser and checked element by element in the namespace."""
    import re
    import urllib.request

    import feedparser
    from defusedxml import ElementTree as ET

    out, _ = first_run
    original = urllib.request.urlopen(show.feed_url).read()
    target = tmp_path / "feed.xml"
    base = "https://cdn.example.com/show/episodes"
    result = CliRunner().invoke(cli, ["feed", str(out), "--allow-private", "-o", str(target),
                                      "--publish-base-url", base])
    assert result.exit_code == 0, result.output
    assert "4 items left as they were" in result.output  # the four that failed
    new = target.read_bytes()
    # nothing else changed: without the inserted elements and the namespace declaration, the
    # bytes are the original's
    ns = b' xmlns:podcast="https://podcastindex.org/namespace/1.0"'
    stripped = re.sub(rb"\n[ \t]*<podcast:[a-z]+\b[^>]*?(?:/>|>[^<]*</podcast:[a-z]+>)", b"", new)
    assert stripped.replace(b"\n</item>", b"</item>").replace(ns, b"", 1) == original
    parsed, before = feedparser.parse(new), feedparser.parse(original)
    assert not parsed.bozo and parsed.namespaces.get("podcast") == "https://podcastindex.org/namespace/1.0"
    assert [(e.title, e.id, e.enclosures) for e in parsed.entries] == [(e.title, e.id, e.enclosures)
                                                                       for e in before.entries]
    rows = {r["title"]: r for r in check_catalogue(out, show.done, show.failed).values()}
    P = "{https://podcastindex.org/namespace/1.0}"
    items = ET.fromstring(new).find("channel").findall("item")
    assert len(items) == len(before.entries)
    for item in items:
        title = item.findtext("title")
        tags = [el for el in item if el.tag.startswith(P)]
        row = rows.get(title)
        if title == "Episode 2 (rerun)":
            row = next(r for r in rows.values() if r["id"] == rows[title]["duplicate_of"])
        if row is None or row["status"] not in ("done", "duplicate"):
            assert tags == [], title  # failed episodes are left as they were
            continue
        folder = out / "episodes" / row["folder"]
        ep = Episode.load(folder / "episode.json")
        transcripts = item.findall(P + "transcript")
        assert {t.get("type") for t in transcripts} == {"text/vtt", "application/x-subrip", "application/json"}
        for el in transcripts + item.findall(P + "chapters"):
            url = el.get("url")
            assert url.startswith(f"{base}/{row['folder']}/"), url
            assert (folder / url.rsplit("/", 1)[1]).is_file()  # the file the URL names was written
        assert [t.get("rel") for t in transcripts if t.get("type") != "application/json"] == ["captions", "captions"]
        assert bool(item.findall(P + "chapters")) == bool(ep.chapters)


def test_feed_refuses_what_does_not_fit(show, first_run, tmp_path):
    out, _ = first_run
    other = tmp_path / "other.xml"
    other.write_bytes(rss("Other Show", [{"title": "Elsewhere", "guid": "x-1", "url": "https://elsewhere.test/a.mp3"}]))
    atom = tmp_path / "atom.xml"
    atom.write_text('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
                    '<entry><title>E</title><id>e1</id></entry></feed>', encoding="utf-8")
    target = tmp_path / "feed.xml"
    base = ["--publish-base-url", "https://cdn.example.com/e/"]
    for args, message in [
        (["--rss", str(other), *base], "none of the feed's 1 items"),
        (["--rss", str(atom), *base], "not an RSS 2.0 feed"),
        (["--rss", str(tmp_path / "missing.xml"), *base], "file not found"),
        (["--rss", str(other), "--publish-base-url", "file:///srv/x"], "--publish-base-url"),
    ]:
        result = CliRunner().invoke(cli, ["feed", str(out), "-o", str(target), *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1 and not target.exists()
    result = CliRunner().invoke(cli, ["feed", str(tmp_path), "--rss", str(other), "-o", str(target), *base])
    assert result.exit_code != 0 and "not a batch catalogue" in result.output
    # a feed's URLs must be absolute: without a base URL, nothing is written
    result = CliRunner().invoke(cli, ["feed", str(out), "--rss", str(other), "-o", str(target)])
    assert result.exit_code != 0 and "--publish-base-url" in result.output and not target.exists()


def test_feed_keeps_cdata_and_comments_that_look_like_items(show, first_run, tmp_path):
    """A show note in CDATA (or a comment) that holds "</item>" or a podcast tag is text: the tags
    go after it, into the item, and the text is kept as it was."""
    import urllib.request

    import feedparser
    from defusedxml import ElementTree as ET

    out, _ = first_run
    original = urllib.request.urlopen(show.feed_url).read()
    note = (b'<description><![CDATA[<p>see </item> and <podcast:transcript url="x.vtt" type="text/vtt"/> '
            b'here</p>]]></description><!-- not an </item> -->')
    first = original.index(b"<item>") + len(b"<item>")
    edited = original[:first] + note + original[first:]
    src = tmp_path / "show.xml"
    src.write_bytes(edited)
    target = tmp_path / "feed.xml"
    result = CliRunner().invoke(cli, ["feed", str(out), "--rss", str(src), "-o", str(target),
                                      "--publish-base-url", "https://cdn.example.com/e"])
    assert result.exit_code == 0, result.output
    new = target.read_bytes()
    assert note in new  # untouched
    item = ET.fromstring(new).find("channel").findall("item")[0]
    P = "{https://podcastindex.org/namespace/1.0}"
    urls = [el.get("url") for el in item.findall(P + "transcript")]
    assert len(urls) == 3 and all(u.startswith("https://cdn.example.com/e/") for u in urls)
    assert feedparser.parse(new).entries[0].description == feedparser.parse(edited).entries[0].description


def test_rerun_skips_everything_cheaply(show, first_run):
    """A finished catalogue's re-run downloads, decodes and transcribes nothing and loads no
    model (what it costs in time: benchmarks/batch.py)."""
    import os

    out = first_run[0]
    db = sqlite3.connect(out / "catalog.db")
    runs_before = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and "catalog.db" not in p.name}
    code, stderr, heavy = run_cli_modules(["batch", show.feed_url, "--allow-private", "-o", str(out), "--workers", "2"])
    assert code == 0, stderr  # earlier failures are skipped, not repeated
    assert "0 done, 7 already done, 4 failed before (retry with --retry-failed)" in stderr
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == runs_before
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # not one file rewritten
    assert heavy == []  # no Whisper, no numpy: no episode reached a worker
    cache = Path(os.environ["PODTOOLS_CACHE_DIR"])  # this test's own: empty unless something ran
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file() and p.name != ".lock"]


def test_retry_failed(show, first_run):
    out = first_run[0]
    r = CliRunner().invoke(cli, ["batch", show.feed_url, "--allow-private", "-o", str(out), "--retry-failed", "--json"])
    assert r.exit_code == 1
    summary = json.loads(r.output[r.output.index("{"):])
    assert sorted(f["title"] for f in summary["failed"]) == sorted(show.failed)
    assert summary["skipped_done"] == 7 and summary["done"] == []
    db = sqlite3.connect(out / "catalog.db")
    attempts = dict(db.execute("SELECT title, attempts FROM episodes WHERE status = 'failed'").fetchall())
    assert attempts == {t: 2 for t in show.failed}
    check_catalogue(out, show.done, show.failed)


def test_only_new_and_missing_folder(show, first_run, tmp_path):
    """New episodes in the feed with --only-new; a deleted episode folder is made again."""
    out = first_run[0]
    ep = show.episodes[0]
    from speech import encode

    new_audio = encode(show.episodes[2].path, tmp_path / "new.mp3", "-b:a", "48k")  # other bytes, same speech
    new_url = show.server.add("/audio/new.mp3", Route(new_audio.read_bytes()))
    old_audio = encode(show.episodes[3].path, tmp_path / "old.mp3", "-b:a", "48k")
    old_url = show.server.add("/audio/old.mp3", Route(old_audio.read_bytes()))
    old_feed = show.server.routes["/feed.xml"].body
    newer = rss("Synth Show", [
        {"title": "Brand new", "guid": "guid-new", "url": new_url, "date": "Mon, 01 Apr 2024 09:00:00 +0000"},
        {"title": "Old but unseen", "guid": "guid-old", "url": old_url, "date": "Mon, 01 Jan 2018 09:00:00 +0000"},
    ])
    show.server.routes["/feed.xml"] = Route(old_feed.replace(b"<item>", newer[newer.index(b"<item>"):newer.rindex(b"</channel>")] + b"<item>", 1),
                                            content_type="application/rss+xml")
    try:
        r = CliRunner().invoke(cli, ["batch", show.feed_url, "--allow-private", "-o", str(out), "--only-new", "--json", *light()])
        summary = json.loads(r.output[r.output.index("{"):])
        assert summary["done"] == ["Brand new"], r.output
        db = sqlite3.connect(out / "catalog.db")
        folder = db.execute("SELECT folder FROM episodes WHERE title = ?", (ep.title,)).fetchone()[0]
        import shutil

        shutil.rmtree(out / "episodes" / folder)
        r = CliRunner().invoke(cli, ["batch", show.feed_url, "--allow-private", "-o", str(out), "--json", *light()])
        summary = json.loads(r.output[r.output.index("{"):])
        assert summary["done"] == [ep.title, "Old but unseen"], r.output  # the missing output is made again
    finally:
        show.server.routes["/feed.xml"] = Route(old_feed, content_type="application/rss+xml")


def test_the_same_audio_twice_keeps_the_batch_order(show, tmp_path):
    """Two entries with the same audio: the first in the batch's order (newest first) is the one
    processed, even when the other one's download ends first (a kill and resume must not swap them)."""
    from feedserver import FeedServer

    audio = show.episodes[2].path.read_bytes()
    with FeedServer() as srv:
        slow = srv.add("/audio/new.mp3", Route(audio, chunk_delay=0.25))
        fast = srv.add("/audio/old.mp3", Route(audio))
        items = [{"title": "Older upload", "guid": "old", "url": fast, "date": show.episodes[0].published},
                 {"title": "Newer upload", "guid": "new", "url": slow, "date": show.episodes[1].published}]
        feed = srv.add("/feed.xml", Route(rss("Twins", items), content_type="application/rss+xml"))
        out = tmp_path / "cat"
        r = CliRunner().invoke(cli, ["batch", feed, "--allow-private", "-o", str(out), "--workers", "2", *light()])
    assert r.exit_code == 0, r.output
    db = sqlite3.connect(out / "catalog.db")
    rows = dict(db.execute("SELECT title, status FROM episodes").fetchall())
    assert rows == {"Newer upload": "done", "Older upload": "duplicate"}, rows
    assert "duplicate: Older upload (same audio as Newer upload)" in r.output


def test_worker_crash_fails_one_episode_only(show, tmp_path, embedded_model):
    """A worker killed mid-episode: that episode is failed with the reason, the rest finish."""
    out = tmp_path / "cat"
    folder = tmp_path / "files"
    folder.mkdir()
    for ep in show.episodes[:3]:
        (folder / ep.path.name).write_bytes(ep.path.read_bytes())
    proc = run_cli(["batch", str(folder), "-o", str(out), "-q", "--no-cache", *light()])
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        staging = out / ".staging"
        if staging.exists() and any(staging.iterdir()):
            for pid in children_of(proc.pid):
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
                    victim = pid
        time.sleep(0.02)
    assert victim is not None, "no worker seen at work"
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    db = sqlite3.connect(out / "catalog.db")
    rows = db.execute("SELECT status, error FROM episodes").fetchall()
    assert sorted(s for s, _ in rows) == ["done", "done", "failed"], rows
    assert [e for s, e in rows if s == "failed"] == ["worker process died (killed by SIGKILL)"]
    assert "failed: " in stderr and "worker process died" in stderr


def test_model_that_cannot_load_stops_the_batch(show, tmp_path):
    """A worker that cannot load its model: one clear line, nothing marked failed, resumable."""
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "a.mp3").write_bytes(show.episodes[0].path.read_bytes())
    out = tmp_path / "cat"
    r = CliRunner().invoke(cli, ["batch", str(folder), "-o", str(out), "--model", "no-such-model", *light()])
    assert r.exit_code == 4, r.output
    assert "podtools: error: unknown model 'no-such-model'" in r.output and "Traceback" not in r.output
    db = sqlite3.connect(out / "catalog.db")
    assert db.execute("SELECT status FROM episodes").fetchall() == [("pending",)]


def test_batch_with_the_llm_of_your_choice(show, tmp_path, monkeypatch):
    """--llm-model/--llm-base-url reach every episode's summaries; a wrong key stops the batch once, first."""
    from openai_server import ScriptedServer

    folder = tmp_path / "files"
    folder.mkdir()
    for ep in show.episodes[:2]:
        (folder / ep.path.name).write_bytes(ep.path.read_bytes())
    monkeypatch.setenv("PODTOOLS_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PODTOOLS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "none.toml").write_text("")
    with ScriptedServer() as srv:
        out = tmp_path / "cat"
        srv.key = "sk-right-0000"
        monkeypatch.setenv("BATCH_KEY", "sk-wrong-1111")
        args = ["batch", str(folder), "-o", str(out), "-q", *light(), "--llm-model", "test-model",
                "--llm-base-url", srv.url, "--llm-key-env", "BATCH_KEY"]
        r = CliRunner().invoke(cli, args)
        assert r.exit_code != 0 and "rejected the API key (HTTP 401)" in r.output and "sk-wrong" not in r.output
        assert not (out / "catalog.db").exists() or not sqlite3.connect(out / "catalog.db").execute(
            "SELECT COUNT(*) FROM episodes WHERE status != 'pending'").fetchone()[0]
        monkeypatch.setenv("BATCH_KEY", "sk-right-0000")
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 0, r.output
        assert len(srv.chat_requests) >= 2
    db = sqlite3.connect(out / "catalog.db")
    folders = [f for (f,) in db.execute("SELECT folder FROM episodes WHERE status = 'done'")]
    assert len(folders) == 2
    for f in folders:
        s = Episode.load(out / "episodes" / f / "episode.json").summaries["episode"]
        assert s.method == "llm" and s.model == "test-model"



def test_batch_takes_vocabulary_and_caption_flags(tmp_path):
    """`batch --vocab/--caption-chars/--caption-lines` reach every episode, as they do in `ingest`:
    the show's own name is found as a mention, captions are cut to the given size, and the
    sizes are kept in the episode's episode.toml for later re-renders."""
    import srt
    import tomllib

    shows = tmp_path / "shows"
    shows.mkdir()
    (shows / "ep1.srt").write_text(
        "1\n00:00:01,000 --> 00:00:09,000\nWelcome back. Today Zorblax Nine joins us to talk about "
        "small language models and how they run on a laptop.\n\n"
        "2\n00:00:09,500 --> 00:00:15,000\nZorblax Nine has been building evaluation tools for years.\n",
        encoding="utf-8")
    out = tmp_path / "catalogue"
    r = CliRunner().invoke(cli, ["batch", str(shows), "-o", str(out), "--vocab", "Zorblax Nine",
                                 "--caption-chars", "20", "--caption-lines", "1", "--json"])
    assert r.exit_code == 0, r.output
    folder = next((out / "episodes").iterdir())
    episode = Episode.load(folder / "episode.json")
    assert any(m.canonical == "Zorblax Nine" and m.kind == "name" for m in episode.mentions), episode.mentions
    cues = list(srt.parse((folder / "transcript.srt").read_text(encoding="utf-8")))
    assert len(cues) >= 6 and all("\n" not in c.content and len(c.content) <= 20 for c in cues)
    assert tomllib.loads((folder / "episode.toml").read_text(encoding="utf-8"))["captions"] == {"chars": 20, "lines": 1}
