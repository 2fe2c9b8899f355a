"""The SQLite catalogue: migrations, transactional indexing, FTS5 search, trends, bad databases."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from plots import drawn_series
from podtools.catalog import MIGRATIONS, Catalog, CatalogError, NewEpisode, fts_query, write_index
from podtools.cli import cli
from podtools.models import Chapter, Episode, Mention, Segment, Speaker
from podtools.trends import to_csv, write_png

UTC = dt.timezone.utc

TEXTS = [
    ["Welcome back. Today Llama 3.1 beats GPT-4 on MMLU, says the paper.", "I doubt the MMLU numbers."],
    ["We tried DeepSeek Coder on HumanEval.", "Llama 3.1 was slower than expected."],
    ["No model talk today, only café culture and naïve questions."],
]
MENTIONS = [
    [("Llama 3.1", "model", "Llama 3.1"), ("GPT-4", "model", "GPT-4"), ("MMLU", "benchmark", "MMLU"),
     ("MMLU", "benchmark", "MMLU")],
    [("DeepSeek Coder", "model", "DeepSeek Coder"), ("HumanEval", "benchmark", "HumanEval"),
     ("Llama 3.1", "model", "Llama 3. 1")],
    [],
]


def make_episode(i: int) -> Episode:
    segs = [Segment(start=10.0 * j, end=10.0 * j + 9, text=t, speaker=f"SPEAKER_0{j % 2}")
            for j, t in enumerate(TEXTS[i])]
    mentions = [Mention(canonical=c, kind=k, surface=s, start=1.0 + j, end=2.0 + j, speaker="SPEAKER_00")
                for j, (c, k, s) in enumerate(MENTIONS[i])]
    return Episode(
        id=hashlib.sha256(f"audio{i}".encode()).hexdigest(), source=f"https://example.test/{i}.mp3",
        title=f"Show {i}", duration=20.0, segments=segs, mentions=mentions,
        speakers=[Speaker(id="SPEAKER_00", name="Alice", talk_time=10), Speaker(id="SPEAKER_01", talk_time=9)],
        chapters=[Chapter(start=0, end=20, title=f"Intro {i}")],
    )


def fill(cat: Catalog, n: int = 3) -> list[int]:
    items = [NewEpisode(uid=f"uid{i}", source="feed", location=f"https://example.test/{i}.mp3", folder=f"f{i}",
                        title=f"Show {i}", published=dt.datetime(2024, 1 + i, 1, tzinfo=UTC)) for i in range(n)]
    rows = cat.sync(items)
    ids = []
    for i in range(n):
        row = rows[f"uid{i}"]
        run = cat.start_run(row.id, None)
        cat.commit_episode(run, row.id, make_episode(i), 1.5)
        ids.append(row.id)
    return ids


@pytest.fixture()
def cat(tmp_path):
    with Catalog.open(tmp_path / "catalog.db") as c:
        fill(c)
        yield c


def test_migrations_recorded_once(tmp_path):
    path = tmp_path / "catalog.db"
    Catalog.open(path).close()
    with Catalog.open(path) as c:
        assert c.migrations() == [(n, name) for n, name, _ in MIGRATIONS]
        assert c.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.conn.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == len(MIGRATIONS)


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "catalog.db"
    Catalog.open(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO _migrations VALUES (999, 'future', 'x')")
    db.commit()
    db.close()
    with pytest.raises(CatalogError, match="newer podtools"):
        Catalog.open(path)


def test_commit_is_idempotent_and_indexed(cat):
    row = cat.get("uid0")
    assert row.status == "done" and row.content_hash == make_episode(0).id
    # indexing the same episode again (a retry) replaces, never duplicates
    cat.commit_episode(cat.start_run(row.id, None), row.id, make_episode(0), 1.0)
    n = cat.conn.execute("SELECT COUNT(*) FROM segments WHERE episode_id = ?", (row.id,)).fetchone()[0]
    assert n == 2
    assert cat.conn.execute("SELECT COUNT(*) FROM mentions WHERE episode_id = ?", (row.id,)).fetchone()[0] == 4
    assert len(cat.search("doubt")) == 1
    assert cat.conn.execute("INSERT INTO segments_fts(segments_fts) VALUES ('integrity-check')")


def test_failed_transaction_leaves_nothing(cat):
    row = cat.get("uid1")
    before = cat.conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    bad = make_episode(1)
    with pytest.raises(ZeroDivisionError):
        with cat.transaction() as c:
            c.execute("DELETE FROM segments WHERE episode_id = ?", (row.id,))
            1 / 0
    assert cat.conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == before
    del bad


def test_search_words_phrases_and_punctuation(cat):
    hits = cat.search("MMLU")
    assert {h.episode_title for h in hits} == {"Show 0"}
    assert len(hits) == 2
    assert hits[0].snippet.count("[MMLU]") == 1
    assert hits[0].speaker in ("Alice", "SPEAKER_01")
    assert hits[0].chapter == "Intro 0"
    # "3.1" and "GPT-4" are tokenized like the text, not read as query syntax
    assert {h.episode_title for h in cat.search('"Llama 3.1"')} == {"Show 0", "Show 1"}
    assert [h.episode_title for h in cat.search("GPT-4 MMLU")] == ["Show 0"]
    assert cat.search("cafe naive")[0].episode_title == "Show 2"  # diacritics folded
    assert cat.search("Hum*")[0].episode_title == "Show 1"
    assert cat.search("llama", speaker="Alice")[0].speaker == "Alice"
    assert cat.search("zebra") == []
    for weird in ['"', "NOT", "AND OR", "a:b", "(x", "*", "'; DROP TABLE episodes; --"]:
        if fts_query(weird):
            cat.search(weird)  # no FTS5 syntax error, whatever the user typed
    assert cat.conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 3


def test_raw_fts_syntax_error_is_clear(cat):
    from podtools.errors import InputError

    assert len(cat.search("llama OR humaneval", raw=True)) == 3
    with pytest.raises(InputError, match="invalid search query"):
        cat.search('"unterminated', raw=True)


def test_trends_table_csv_png(cat, tmp_path):
    t = cat.trends(["llama 3.1", "mmlu", "Llama 3. 1", "GTP-4", "Gemini"])
    assert t.names == ["Llama 3.1", "MMLU", "GTP-4", "Gemini"]  # surface form -> canonical, once
    assert [e["title"] for e in t.episodes] == ["Show 0", "Show 1", "Show 2"]  # oldest first
    assert t.counts == [[1, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    assert t.unknown["GTP-4"] == ["GPT-4"]
    assert t.unknown["Gemini"] == []
    top = cat.trends(top=2)
    assert top.names == ["Llama 3.1", "MMLU"]
    assert cat.trends(kind="benchmark").names == ["MMLU", "HumanEval"]
    csv = to_csv(t).splitlines()
    assert csv[0] == "published,episode,folder,Llama 3.1,MMLU,GTP-4,Gemini"
    assert csv[1].endswith(",f0,1,2,0,0")
    png = write_png(t, tmp_path / "t.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn_series(png) == 4  # one line per name asked for, no more


def test_index_links_done_episodes_and_escapes(tmp_path):
    with Catalog.open(tmp_path / "catalog.db") as c:
        rows = c.sync([NewEpisode(uid="x", source="s", location="l", folder="f-x", title="<script>alert(1)</script>"),
                       NewEpisode(uid="y", source="s", location="l2", folder="f-y", title="Pending one")])
        (tmp_path / "episodes" / "f-x").mkdir(parents=True)
        (tmp_path / "episodes" / "f-x" / "transcript.md").write_text("# t\n")
        c.commit_episode(c.start_run(rows["x"].id, None), rows["x"].id, make_episode(0), 1.0)
        path = write_index(c, tmp_path)
        html = path.read_text()
        assert "<script>alert" not in html and "&lt;script&gt;" in html
        assert 'href="episodes/f-x/transcript.md"' in html
        assert "Pending one" in html and "episodes/f-y" not in html
        mtime = path.stat().st_mtime_ns
        write_index(c, tmp_path)
        assert path.stat().st_mtime_ns == mtime  # unchanged content is not rewritten
        # a batch killed after committing an episode but before redrawing the page: the next call catches up
        (tmp_path / "episodes" / "f-y").mkdir()
        (tmp_path / "episodes" / "f-y" / "transcript.md").write_text("# t\n")
        c.commit_episode(c.start_run(rows["y"].id, None), rows["y"].id, make_episode(1), 1.0)
        assert 'href="episodes/f-y/transcript.md"' in write_index(c, tmp_path).read_text()
        # a hand-edited page (no fingerprint) is drawn again
        path.write_text("<html>edited</html>")
        assert "Pending one" in write_index(c, tmp_path).read_text()


# -- damaged or busy catalogues ----------------------------------------------------------------


def test_garbage_file_refused_untouched(tmp_path):
    path = tmp_path / "catalog.db"
    data = b"this is not a database\n" * 100
    path.write_bytes(data)
    with pytest.raises(CatalogError, match="not a podtools catalogue"):
        Catalog.open(path)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.db"]


def test_truncated_database_is_reported(tmp_path):
    path = tmp_path / "catalog.db"
    with Catalog.open(path) as c:
        fill(c)
        c.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CatalogError, match="damaged|malformed|corrupt"):
        with Catalog.open(path) as c:
            c.check_integrity()
            c.search("MMLU")


def test_second_batch_is_refused(tmp_path):
    with Catalog.open(tmp_path) as first:
        first.lock()
        with Catalog.open(tmp_path) as second:
            with pytest.raises(CatalogError, match=r"in use by another running batch \(pid \d+"):
                second.lock()
            assert second.counts()["done"] == 0  # reading still works
        first.unlock()
        with Catalog.open(tmp_path) as third:
            third.lock()


def test_lock_released_when_holder_is_killed(tmp_path):
    Catalog.open(tmp_path).close()
    code = ("import sys, time; from podtools.catalog import Catalog; c = Catalog.open(sys.argv[1]); c.lock(); "
            "print('locked', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with Catalog.open(tmp_path) as c, pytest.raises(CatalogError, match="in use"):
            c.lock()
    finally:
        proc.kill()
        proc.wait()
    with Catalog.open(tmp_path) as c:
        c.lock()  # kill -9 released it


def test_write_lock_held_elsewhere_is_clear(tmp_path):
    path = tmp_path / "catalog.db"
    Catalog.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. an sqlite3 shell in the middle of an edit
    try:
        with Catalog.open(path, timeout=0.2) as c:
            with pytest.raises(CatalogError, match="locked by another process"):
                c.sync([NewEpisode(uid="z", source="s", location="l", folder="f")])
            assert c.get("z") is None
    finally:
        other.execute("ROLLBACK")
        other.close()


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_search_trends_catalog(cat, tmp_path):
    runner = CliRunner()
    root = str(tmp_path)
    r = runner.invoke(cli, ["search", "MMLU", "-c", root])
    assert r.exit_code == 0, r.output
    assert "2024-01-01  Show 0  [00:00:00]  Alice: " in r.output and "[MMLU]" in r.output
    r = runner.invoke(cli, ["search", "--json", "-c", root, "humaneval"])
    hits = __import__("json").loads(r.output)
    assert hits[0]["episode_title"] == "Show 1" and hits[0]["start"] == 0.0
    r = runner.invoke(cli, ["trends", "-c", root, "Llama 3.1", "MMLU", "--csv", str(tmp_path / "t.csv"),
                            "--png", str(tmp_path / "t.png")])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["published", "episode", "Llama", "3.1", "MMLU"]
    assert lines[2].split() == ["2024-01-01", "Show", "0", "1", "2"]
    assert lines[-1].split() == ["total", "2", "2"]
    assert (tmp_path / "t.csv").read_text().startswith("published,episode,folder,Llama 3.1,MMLU")
    assert drawn_series(tmp_path / "t.png") == 2  # Llama 3.1 and MMLU
    r = runner.invoke(cli, ["trends", "-c", root, "Gemni"])
    assert "no mentions of 'Gemni'" in r.output
    r = runner.invoke(cli, ["catalog", "-c", root, "--stages"])
    assert r.exit_code == 0 and r.output.startswith("3 episodes: 3 done")


@pytest.mark.parametrize("cmd", [["search", "x"], ["trends"], ["catalog"]])
def test_cli_without_catalogue(tmp_path, cmd):
    r = CliRunner().invoke(cli, [*cmd, "-c", str(tmp_path / "nothing")])
    assert r.exit_code == 2
    assert "no catalogue here" in r.output and "Traceback" not in r.output


def test_cli_corrupt_catalogue(tmp_path):
    (tmp_path / "catalog.db").write_bytes(b"\x00" * 4096)
    r = CliRunner().invoke(cli, ["search", "x", "-c", str(tmp_path)])
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and "not a podtools catalogue" in r.output
