"""Synthesized episodes, feeds and catalogue checks shared by the batch tests and benchmark."""

from __future__ import annotations

import contextlib
import datetime as dt
import html.parser
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from speech import encode, say, write_wav

# Short (3-6 s) distinct episodes: a word from each is searched for afterwards; two name AI models
# (for `trends`).
SCRIPTS = [
    ("slt", "Welcome to episode one. Today we test Llama 3 and GPT-4 on reasoning."),
    ("rms", "Episode two is about quantum computers and their error correction."),
    ("awb", "In episode three we review a new translation system for French, and Llama 3 again."),
    ("kal16", "Episode four covers robots that learn to cook pasta."),
    ("slt", "This is episode five, a short chat about weather forecasts."),
    ("rms", "Episode six explains how speech recognition handles noisy audio."),
    ("awb", "Episode seven looks at electric cars and their batteries."),
    ("kal16", "In episode eight we discuss chess engines and opening theory."),
    ("slt", "Episode nine is about telescopes that watch distant galaxies."),
    ("rms", "Episode ten ends the season with a look at open source software."),
    ("awb", "Episode eleven talks about coffee, sleep and memory."),
    ("kal16", "Episode twelve asks how bridges survive strong earthquakes."),
]
KEYWORDS = ["reasoning", "quantum", "translation", "robots", "weather", "speech",
            "electric", "chess", "telescopes", "software", "coffee", "bridges"]


@dataclass
class SynthEpisode:
    title: str
    path: Path  # mp3
    keyword: str
    published: dt.datetime


def make_episodes(folder: Path, n: int) -> list[SynthEpisode]:
    """``n`` mp3 episodes (flite voices), one per day from 2024-01-01."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        voice, text = SCRIPTS[i % len(SCRIPTS)]
        wav = write_wav(folder / f"ep{i + 1:02d}.wav", say(text, voice, folder / "tmp"))
        mp3 = encode(wav, folder / f"ep{i + 1:02d}.mp3", "-b:a", "32k")
        wav.unlink()
        out.append(SynthEpisode(f"Episode {i + 1}: {KEYWORDS[i % len(KEYWORDS)]}", mp3,
                                KEYWORDS[i % len(KEYWORDS)], dt.datetime(2024, 1, 1 + i, 9, tzinfo=dt.timezone.utc)))
    return out


def light() -> list[str]:
    """``--set`` flags that switch off the slow optional stages (diarization, mentions), for
    tests about the batch's own guarantees, which do not depend on them."""
    from podtools.pipeline import PipelineConfig

    args = []
    for section in ("diarize", "mentions"):
        field = PipelineConfig.model_fields.get(section)
        if field is not None and "enabled" in getattr(field.annotation, "model_fields", {}):
            args += ["--set", f"{section}.enabled=false"]
    return args


def run_cli(args: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
    """``podtools ARGS`` in a child process (what a user runs, and what a test can kill -9)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.Popen([sys.executable, "-c", "from podtools.cli import main; main()", *args],
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def transcribing(out: Path) -> int:
    """Episodes that a running batch has in Whisper right now, as its catalogue shows them: a
    running attempt whose decode stage has ended (the worker reported the start of
    transcription) and whose transcribe stage has not. With an empty stage cache, that is
    Whisper at work, not a transcript read back from the cache (which reports no transcribe
    stage at all)."""
    try:
        db = sqlite3.connect(f"file:{out / 'catalog.db'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute(
                "SELECT COUNT(*) FROM runs r WHERE r.status = 'running'"
                " AND EXISTS (SELECT 1 FROM stages s WHERE s.run_id = r.id AND s.stage = 'decode')"
                " AND NOT EXISTS (SELECT 1 FROM stages s WHERE s.run_id = r.id AND s.stage = 'transcribe')"
            ).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def transcripts_made(cache: Path) -> int:
    """Transcripts Whisper made with ``cache`` as the stage cache (one entry per audio and
    settings, written only after a real transcription)."""
    folder = cache / "stages" / "transcribe"
    return len(list(folder.glob("*.json"))) if folder.exists() else 0


HEAVY_MODULES = ("numpy", "faster_whisper", "ctranslate2", "torch", "spacy", "ray")


def run_cli_modules(args: list[str], env: dict | None = None, timeout: float = 300) -> tuple[int, str, list[str]]:
    """``podtools ARGS`` in a child process: (exit code, stderr, which of :data:`HEAVY_MODULES`
    it had imported when it exited). What a run loaded says what it did: a run that transcribed
    anything imported Whisper, one that started Ray imported ray."""
    code = ("import atexit, sys\n"
            f"heavy = {HEAVY_MODULES!r}\n"
            "atexit.register(lambda: sys.stderr.write('\\nloaded-modules: ' + ','.join(m for m in heavy if m in sys.modules) + '\\n'))\n"
            "from podtools.cli import main\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
    stderr, _, loaded = proc.stderr.rpartition("\nloaded-modules: ")
    assert loaded, proc.stderr  # the interpreter exited normally and ran the hook
    return proc.returncode, stderr, [m for m in loaded.strip().split(",") if m]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop())
        out += kids
        todo += kids
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]


def check_catalogue(out: Path, done_titles: set[str], failed: dict[str, str] | None = None) -> dict[str, dict]:
    """Assert that every episode ended exactly once and that no file is half-written.

    ``done_titles``: episodes that must be done; ``failed``: title -> text its error contains.
    Returns title -> catalogue row (as dict).
    """
    from podtools.models import Episode

    failed = failed or {}
    db = sqlite3.connect(out / "catalog.db")
    db.row_factory = sqlite3.Row
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = {r["title"]: dict(r) for r in db.execute("SELECT * FROM episodes")}
    uids = [r["uid"] for r in rows.values()]
    assert len(uids) == len(set(uids))
    assert set(rows) >= done_titles | set(failed), set(rows)
    for title in done_titles:
        row = rows[title]
        assert row["status"] == "done", (title, row["status"], row["error"])
        folder = out / "episodes" / row["folder"]
        episode = Episode.load(folder / "episode.json")  # complete, valid JSON
        marker = json.loads((folder / ".podtools-batch.json").read_text())
        assert marker["uid"] == row["uid"]
        done_run = db.execute("SELECT id FROM runs WHERE episode_id = ? AND status = 'done'", (row["id"],)).fetchone()
        assert done_run is not None and marker["run_id"] == done_run[0]  # the folder is that run's
        n_db = db.execute("SELECT COUNT(*) FROM segments WHERE episode_id = ?", (row["id"],)).fetchone()[0]
        assert n_db == len(episode.segments) > 0, (title, n_db, len(episode.segments))
        n_fts = db.execute("SELECT COUNT(*) FROM segments_fts WHERE rowid IN (SELECT id FROM segments WHERE episode_id = ?)",
                           (row["id"],)).fetchone()[0]
        assert n_fts == n_db
        n_m = db.execute("SELECT COUNT(*) FROM mentions WHERE episode_id = ?", (row["id"],)).fetchone()[0]
        assert n_m == len(episode.mentions)
        done_runs = db.execute("SELECT COUNT(*) FROM runs WHERE episode_id = ? AND status = 'done'",
                               (row["id"],)).fetchone()[0]
        assert done_runs == 1, (title, done_runs)  # processed (and indexed) exactly once
        assert row["content_hash"] == episode.id
    for title, text in failed.items():
        row = rows[title]
        assert row["status"] == "failed", (title, row["status"])
        assert text in (row["error"] or ""), (title, row["error"])
    assert db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0] == 0
    db.close()
    # no half-written or stray files
    assert not (out / ".staging").exists() or not any((out / ".staging").iterdir())
    strays = [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".part" in p.name]
    assert not strays, strays
    folders = {p.name for p in (out / "episodes").iterdir()} if (out / "episodes").exists() else set()
    assert folders == {rows[t]["folder"] for t in done_titles}, folders
    # index.html links every finished episode, and the links resolve
    parser = _Links()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    linked = {link.split("/")[1] for link in parser.links if link.startswith("episodes/")}
    assert linked == folders
    for link in parser.links:
        assert (out / link).is_file(), link
    return rows


# -- a show served over HTTP ---------------------------------------------------------------------


@dataclass
class Show:
    feed_url: str
    done: set[str]  # titles that must end done
    failed: dict[str, str]  # title -> text its error contains
    duplicates: set[str]
    episodes: list[SynthEpisode]
    server: object
    slow: object


TRAVERSAL_TITLE = "../../etc/x"


def shared_episodes(tmp_path_factory, n: int = 6) -> list[SynthEpisode]:
    """Synthesize once per test session, whichever module asks first."""
    folder = tmp_path_factory.getbasetemp() / f"batch-episodes-{n}"
    marker = folder / "done"
    if not marker.exists():
        make_episodes(folder, n)
        marker.write_text("ok")
    return [SynthEpisode(f"Episode {i + 1}: {KEYWORDS[i]}", folder / f"ep{i + 1:02d}.mp3", KEYWORDS[i],
                         dt.datetime(2024, 1, 1 + i, 9, tzinfo=dt.timezone.utc)) for i in range(n)]


def show_feed(episodes: list[SynthEpisode], server, slow) -> Show:
    """A feed of the synthesized episodes plus every kind of bad enclosure.

    The last episode gets a path-traversal title and comes from a slow server; the feed also
    holds a corrupt file, a 404, a file:// enclosure, a redirect to file://, a repeated entry
    (same GUID and URL) and a re-publication of episode 2 under a new GUID (same audio).
    """
    from feedserver import Route, rss

    items = []
    done = set()
    for i, ep in enumerate(episodes):
        last = i == len(episodes) - 1
        srv = slow if last else server
        url = srv.add(f"/audio/{ep.path.name}", Route(ep.path.read_bytes(), chunk_delay=0.3 if last else 0.0))
        title = TRAVERSAL_TITLE if last else ep.title
        items.append({"title": title, "guid": f"guid-{i + 1}", "url": url, "date": ep.published, "duration": "0:05"})
        done.add(title)
    # show notes with a chapter list, as hosts publish them: the episode gets these chapters
    items[0]["description"] = "<p>In this episode:</p><p>0:00 Welcome<br>0:02 Reasoning tests</p>"
    corrupt = server.add("/audio/corrupt.mp3", Route(bytes(range(256)) * 200))
    server.add("/audio/redirect.mp3", Route(location="file:///etc/passwd"))
    bad = [
        {"title": "Corrupt", "guid": "bad-1", "url": corrupt},
        {"title": "Missing", "guid": "bad-2", "url": server.url + "/audio/missing.mp3"},
        {"title": "Local file", "guid": "bad-3", "url": "file:///etc/passwd"},
        {"title": "Redirected", "guid": "bad-4", "url": server.url + "/audio/redirect.mp3"},
    ]
    for j, it in enumerate(bad):
        it.update(date=dt.datetime(2023, 6, 1 + j, tzinfo=dt.timezone.utc))
    failed = {"Corrupt": "not an audio or video file", "Missing": "HTTP 404",
              "Local file": "a file: URL; only http and https", "Redirected": "redirected to a file: URL"}
    repeat = dict(items[0])  # the same entry twice: one episode
    republished = {**items[1], "title": "Episode 2 (rerun)", "guid": "guid-2-rerun",
                   "date": dt.datetime(2023, 12, 1, tzinfo=dt.timezone.utc)}
    feed = rss("Synth Show", items + bad + [repeat, republished])
    feed_url = server.add("/feed.xml", Route(feed, content_type="application/rss+xml"))
    return Show(feed_url, done, failed, {"Episode 2 (rerun)"}, episodes, server, slow)


@contextlib.contextmanager
def served_show(tmp_path_factory):
    """:func:`show_feed` on a normal and a slow server, both on 127.0.0.1, for a test module."""
    from feedserver import FeedServer

    episodes = shared_episodes(tmp_path_factory)
    with FeedServer() as server, FeedServer() as slow:
        yield show_feed(episodes, server, slow)
