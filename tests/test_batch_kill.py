"""kill -9 a real batch at random moments, then run the same command again: every episode ends
processed exactly once, nothing is half-written, and no worker outlives the killed batch."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from batchdata import (alive, check_catalogue, descendants, light, run_cli, served_show, transcribing,
                       transcripts_made)

# PODTOOLS_KILL_SEEDS=100 runs seeds 0..99 (a stress run); CI runs these three
SEEDS = list(range(int(os.environ["PODTOOLS_KILL_SEEDS"]))) if os.environ.get("PODTOOLS_KILL_SEEDS") else [11, 22, 33]
KILLS_PER_SEED = 3


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    with served_show(tmp_path_factory) as s:
        yield s


def _args(show, out) -> list[str]:
    return ["batch", show.feed_url, "--allow-private", "-o", str(out), "--workers", "2", "-q", *light()]


@pytest.fixture(scope="module")
def reference(show, tmp_path_factory, own_cache):
    """An uninterrupted batch of the show (with a cache of its own): its output folder."""
    out = tmp_path_factory.mktemp("reference") / "catalogue"
    with own_cache("kill-reference"):
        proc = run_cli(_args(show, out))
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    return out


def finished(out) -> int:
    """Episodes the catalogue says are over (done, failed, duplicate), read while a batch writes."""
    try:
        db = sqlite3.connect(f"file:{out / 'catalog.db'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM episodes WHERE status IN ('done', 'failed', 'duplicate')").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def kill_during(args: list[str], out, total: int, rng: random.Random, in_whisper: bool = False) -> bool:
    """Run, and kill -9 at a random point: after a random number of the episodes still to do
    have finished, plus a random fraction of a second (startup, download, ASR, publishing,
    indexing all get hit); with ``in_whisper``, the moment a worker is transcribing an episode
    instead. True if it was still running when killed."""
    base = finished(out)
    if base >= total:
        return False
    target, extra = base + rng.randrange(total - base), rng.uniform(0.0, 1.0)
    proc = run_cli(args)
    deadline = time.monotonic() + 300
    if in_whisper:
        while proc.poll() is None and not transcribing(out) and time.monotonic() < deadline:
            time.sleep(0.005)
    else:
        while proc.poll() is None and finished(out) < target and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(extra)
    family = descendants(proc.pid)
    running = proc.poll() is None
    if running:
        os.kill(proc.pid, signal.SIGKILL)
    # workers notice their parent's death and stop at once: none keeps writing
    gone_by = time.monotonic() + 5
    family += [p for p in descendants(proc.pid) if p not in family]
    while any(alive(p) for p in family) and time.monotonic() < gone_by:
        time.sleep(0.05)
    survivors = [p for p in family if alive(p)]
    for pid in survivors:  # ours: end them so the test run does not hang on their pipes
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert not survivors, "a worker outlived the killed batch"
    return running


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_then_resume(show, tmp_path, seed):
    """The test's stage cache starts empty (conftest), so every episode is really transcribed
    here, and the first kill lands while Whisper is at work on one."""
    rng = random.Random(seed)
    out = tmp_path / "catalogue"
    cache = Path(os.environ["PODTOOLS_CACHE_DIR"])
    total = len(show.done) + len(show.failed) + len(show.duplicates)
    assert transcripts_made(cache) == 0
    first = kill_during(_args(show, out), out, total, rng, in_whisper=True)
    assert first and transcribing(out), "the first kill did not land during a transcription"
    for _ in range(KILLS_PER_SEED - 1):  # then at random moments
        kill_during(_args(show, out), out, total, rng)
    final = run_cli(_args(show, out))
    _, stderr = final.communicate(timeout=300)
    assert final.returncode in (0, 1), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    rows = check_catalogue(out, show.done, show.failed)
    assert rows["Episode 2 (rerun)"]["status"] == "duplicate"
    assert transcripts_made(cache) == len(show.episodes)  # each audio through Whisper in this test


def test_folder_renamed_but_not_indexed_is_adopted(show, reference):
    """The narrowest window: killed after an episode's folder was moved into place, before the
    catalogue said so. The next run indexes that folder instead of processing the episode again."""
    out = reference
    db = sqlite3.connect(out / "catalog.db", isolation_level=None)
    eid, title = db.execute("SELECT id, title FROM episodes WHERE status = 'done' ORDER BY id LIMIT 1").fetchone()
    n_segments = db.execute("SELECT COUNT(*) FROM segments WHERE episode_id = ?", (eid,)).fetchone()[0]
    runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    db.execute("BEGIN")
    db.execute("UPDATE episodes SET status = 'running' WHERE id = ?", (eid,))
    db.execute("UPDATE runs SET status = 'running' WHERE episode_id = ? AND status = 'done'", (eid,))
    db.execute("DELETE FROM segments WHERE episode_id = ?", (eid,))
    db.execute("COMMIT")
    leftover = out / ".staging" / "half-written.run999"
    leftover.mkdir(parents=True)
    (leftover / "episode.json").write_text('{"schema_version": 1, "id": "tru')
    proc = run_cli(_args(show, out))
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "0 done, 1 recovered from an interrupted run" in stderr
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == runs
    assert db.execute("SELECT COUNT(*) FROM segments WHERE episode_id = ?", (eid,)).fetchone()[0] == n_segments
    check_catalogue(out, show.done, show.failed)
