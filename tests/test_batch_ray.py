"""`--engine ray`: the same batch on Ray actors in local mode (temp dir inside the test's tmp,
dashboard off), with the same guarantees as the local worker pool."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from batchdata import check_catalogue, light, run_cli, run_cli_modules, served_show, transcribing, transcripts_made
from podtools.cli import cli

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    with served_show(tmp_path_factory) as s:
        yield s


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    # a short path: Ray's unix sockets live under it (107-byte limit)
    temp = tmp_path_factory.mktemp("ray")
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=str(temp), log_to_driver=False)
    yield temp
    ray.shutdown()


def test_ray_feed_end_to_end(show, local_ray, tmp_path):
    out = tmp_path / "catalogue"
    args = ["batch", show.feed_url, "--allow-private", "-o", str(out), "--engine", "ray", "--workers", "2", *light()]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 1, r.output
    assert "batch: 6 done, 1 duplicates, 4 failed" in r.output
    rows = check_catalogue(out, show.done, show.failed)
    assert rows["Episode 2 (rerun)"]["status"] == "duplicate"
    assert ray.is_initialized()  # the engine used the caller's Ray and left it running
    # the test's own empty cache: Whisper ran in the actors, once per audio (the duplicate is not transcribed)
    cache = Path(os.environ["PODTOOLS_CACHE_DIR"])
    assert transcripts_made(cache) == len(show.episodes)
    db = sqlite3.connect(out / "catalog.db")
    timed = {t for (t,) in db.execute("SELECT e.title FROM stages s JOIN episodes e ON e.id = s.episode_id "
                                      "WHERE s.stage = 'transcribe' AND s.status = 'done'")}
    assert timed == show.done  # every episode reported a transcription of its own (none came from a cache)
    # the re-run needs no Ray at all (and no model): what it costs in time is in benchmarks/batch.py
    code, stderr, heavy = run_cli_modules(args)
    assert code == 0 and "0 done, 7 already done" in stderr, stderr
    assert "ray" not in heavy and "faster_whisper" not in heavy, heavy
    r = CliRunner().invoke(cli, ["search", show.episodes[1].keyword, "-c", str(out)])
    assert show.episodes[1].title in r.output


def _ray_processes(temp: Path) -> list[int]:
    """Processes of the Ray instance whose session lives under ``temp`` (ours)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(temp).encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def test_ray_kill_9_then_resume(show, tmp_path_factory, tmp_path):
    """kill -9 a batch driving its own local Ray; the same command again finishes the work."""
    temp = tmp_path_factory.mktemp("rk")
    out = tmp_path / "catalogue"
    args = ["batch", show.feed_url, "--allow-private", "-o", str(out), "--engine", "ray", "--workers", "2", "-q",
            "--ray-temp-dir", str(temp), *light()]
    cache = Path(os.environ["PODTOOLS_CACHE_DIR"])
    assert transcripts_made(cache) == 0  # this test's own cache: the actors must run Whisper
    proc = run_cli(args)
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if transcribing(out):
                break  # an actor is running Whisper on an episode
            time.sleep(0.005)
        assert proc.poll() is None, proc.communicate()[1]
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert transcribing(out), "the kill did not land during a transcription"
    finally:
        # a local Ray's own processes may outlive a killed driver: end those we started
        time.sleep(1)
        for pid in _ray_processes(temp):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    final = run_cli(args)
    _, stderr = final.communicate(timeout=300)
    for pid in _ray_processes(temp):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert final.returncode in (0, 1), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    check_catalogue(out, show.done, show.failed)
    assert transcripts_made(cache) == len(show.episodes)
