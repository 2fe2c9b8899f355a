"""Batch sources (feeds, folders, globs, lists), selection and hostile input; no models needed."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from feedserver import FeedServer, Route, rss
from podtools.batch import (
    Selection,
    check_xml,
    collect_sources,
    folder_name,
    order_items,
    parse_feed,
    parse_since,
    run_batch,
    slugify,
)
from podtools.cli import cli
from podtools.errors import InputError

UTC = dt.timezone.utc
ITEMS = [
    {"title": "Newest", "guid": "g3", "url": "https://cdn.example/ep3.mp3", "date": dt.datetime(2024, 3, 1, tzinfo=UTC),
     "duration": "1:02:03"},
    {"title": "Middle", "guid": "g2", "url": "/media/ep2.mp3", "date": "Thu, 01 Feb 2024 10:00:00 +0000",
     "duration": "62:03"},
    {"title": "Oldest", "guid": "g1", "url": "ep1.mp3", "date": dt.datetime(2024, 1, 1, tzinfo=UTC), "duration": "95"},
]

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<rss version="2.0"><channel><title>&f;</title>
<item><title>x</title><enclosure url="http://h/x.mp3" type="audio/mpeg"/></item></channel></rss>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&xxe;</title><enclosure url="http://h/x.mp3" type="audio/mpeg"/></item></channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom show</title><id>urn:show</id>
<entry><title>Atom episode</title><id>urn:ep:1</id><updated>2024-05-06T07:08:09Z</updated>
<link rel="enclosure" type="audio/mpeg" href="https://a.example/1.mp3" length="10"/></entry></feed>"""


def test_rss_items():
    got = parse_feed(rss("My Show", ITEMS), "feed.xml", "https://host.example/feeds/show.xml")
    assert [i.title for i in got.items] == ["Newest", "Middle", "Oldest"]
    assert [i.location for i in got.items] == ["https://cdn.example/ep3.mp3", "https://host.example/media/ep2.mp3",
                                               "https://host.example/feeds/ep1.mp3"]
    assert [i.guid for i in got.items] == ["g3", "g2", "g1"]
    assert [i.declared_duration for i in got.items] == [3723.0, 3723.0, 95.0]
    assert got.items[1].published == dt.datetime(2024, 2, 1, 10, tzinfo=UTC)
    assert len({i.uid for i in got.items}) == 3
    # the identity is the feed + GUID: not where the feed was read from
    again = parse_feed(rss("My Show", ITEMS), "elsewhere.xml", "https://mirror.example/x.xml")
    assert [i.uid for i in again.items] == [i.uid for i in got.items]


def test_atom_enclosure():
    (item,) = parse_feed(ATOM, "atom.xml").items
    assert (item.title, item.location, item.guid) == ("Atom episode", "https://a.example/1.mp3", "urn:ep:1")
    assert item.published == dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.mark.parametrize("data,message", [
    (BOMB, "declares XML entities"),
    (XXE, "declares XML entities"),
    (b"<rss><channel><title>broken</channel></rss>", "malformed XML"),
    (b"<html><body>Not a feed</body></html>", "not an RSS or Atom feed|no episodes"),
    (rss("Empty", [{"title": "no audio", "guid": "a"}]), "no episodes with an audio enclosure"),
    (rss("Nothing", []), "no episodes with an audio enclosure"),
])
def test_hostile_or_broken_feeds(data, message):
    with pytest.raises(InputError, match=message):
        parse_feed(data, "feed.xml")


def test_xml_bomb_is_refused_before_expansion():
    """Refused from its declarations: the entities are never expanded (that would be 56 bytes
    x 20**5 = 179 MB of text, built by the parser through Python's allocator)."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="bomb.xml: .*declares XML entities"):
            check_xml(BOMB, "bomb.xml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_duplicate_guids():
    items = [
        {"title": "A", "guid": "same", "url": "https://h/a.mp3"},
        {"title": "A again", "guid": "same", "url": "https://h/a.mp3"},  # the same episode twice
        {"title": "B1", "guid": "dup", "url": "https://h/b1.mp3"},  # sloppy GUID, two episodes
        {"title": "B2", "guid": "dup", "url": "https://h/b2.mp3"},
        {"title": "No GUID", "url": "https://h/c.mp3"},
    ]
    got = parse_feed(rss("Dups", items), "dups.xml")
    assert [i.title for i in got.items] == ["A", "B1", "B2", "No GUID"]
    assert len({i.uid for i in got.items}) == 4
    assert any("duplicate entry for GUID 'same'" in w for w in got.warnings)
    assert any("2 entries share GUID 'dup'" in w for w in got.warnings)
    assert got.items[3].guid == "https://h/c.mp3"


@pytest.mark.parametrize("title", ["../../etc/x", "/abs/path", "..", "a/../../b", "CON", "nul.txt", "\x00evil",
                                   "\U0001F600" * 300, "", "   ", "é" * 400])
def test_folder_names_are_safe(title):
    name = folder_name(title, "uid-1", dt.datetime(2024, 1, 2, tzinfo=UTC))
    assert name.startswith("2024-01-02-")
    assert len(name) <= 11 + 60 + 11
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in name)
    assert ".." not in name and "/" not in name
    assert folder_name(title, "uid-2") != folder_name(title, "uid-1")  # same title, no collision


def test_slugify():
    assert slugify("Llama 3.1 vs. GPT-4o: Who Wins?") == "llama-3-1-vs-gpt-4o-who-wins"
    assert slugify("Ça va très bien") == "ca-va-tres-bien"
    assert slugify("\U0001F600\U0001F600") == "episode"


def test_folder_glob_and_list(tmp_path, sample_mp3):
    shows = tmp_path / "shows"
    (shows / "season1").mkdir(parents=True)
    shutil.copy(sample_mp3, shows / "season1" / "a.mp3")
    shutil.copy(sample_mp3, shows / "b.mp3")  # same audio: one episode
    (shows / "b.mp3").write_bytes((shows / "b.mp3").read_bytes() + b"\x00")  # now different bytes
    (shows / "notes.txt").write_text("not audio")
    (shows / "c.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n")
    (shows / "b.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nsidecar\n")  # sidecar of b.mp3
    (shows / ".hidden").mkdir()
    shutil.copy(sample_mp3, shows / ".hidden" / "x.mp3")
    got = collect_sources([str(shows)])
    assert sorted(os.path.basename(i.location) for i in got.items) == ["a.mp3", "b.mp3", "c.srt"]
    assert all(i.uid.startswith("sha256:") for i in got.items)
    got = collect_sources([str(shows / "**" / "*.mp3")])
    assert sorted(os.path.basename(i.location) for i in got.items) == ["a.mp3", "b.mp3"]
    listing = tmp_path / "list.txt"
    listing.write_text("# my episodes\nshows/b.mp3\n\n" + str(shows / "season1" / "a.mp3") + "\nshows/b.mp3\n")
    got = collect_sources([str(listing)])
    assert [os.path.basename(i.location) for i in got.items] == ["b.mp3", "a.mp3"]
    listing.write_text("shows/missing.mp3\n")
    with pytest.raises(InputError, match="list.txt: line 1: .*missing.mp3: not found"):
        collect_sources([str(listing)])


def test_same_file_twice_is_one_episode(tmp_path, sample_mp3):
    shutil.copy(sample_mp3, tmp_path / "a.mp3")
    shutil.copy(sample_mp3, tmp_path / "copy-of-a.mp3")
    got = collect_sources([str(tmp_path)])
    assert len(got.items) == 1
    assert "same episode as" in got.warnings[0]


def test_selection_since_order(tmp_path):
    items = parse_feed(rss("S", ITEMS), "f.xml", "https://h/").items
    assert [i.title for i in order_items(items, "oldest")] == ["Oldest", "Middle", "Newest"]
    assert parse_since("2024-02-01") == dt.datetime(2024, 2, 1, tzinfo=UTC)
    assert dt.datetime.now(UTC) - parse_since("2d") > dt.timedelta(days=1, hours=23)
    from podtools.errors import ConfigError

    with pytest.raises(ConfigError, match="--since 'yesterday'"):
        parse_since("yesterday")


def test_dry_run_with_selection(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss("S", [{**it, "url": f"https://h/{i}.mp3"} for i, it in enumerate(ITEMS)]))
    out = tmp_path / "out"
    s = run_batch([str(feed)], out, selection=Selection(order="oldest", limit=2), dry_run=True)
    assert s.planned == ["Oldest", "Middle"] and s.skipped_selection == 1
    s = run_batch([str(feed)], out, selection=Selection(since=dt.datetime(2024, 2, 1, tzinfo=UTC)), dry_run=True)
    assert s.planned == ["Newest", "Middle"]
    r = CliRunner().invoke(cli, ["batch", str(feed), "-o", str(out), "--dry-run", "--order", "oldest", "--limit", "1"])
    assert r.exit_code == 0, r.output
    assert "would process 1 episodes" in r.output and "  Oldest" in r.output
    assert not (out / "episodes").exists()


# -- the CLI with bad input ---------------------------------------------------------------------


def _bad(args, code=2):
    r = CliRunner().invoke(cli, ["batch", *args])
    assert r.exit_code == code, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("podtools: error: "), r.output
    assert "Traceback" not in r.output
    return lines[0]


def test_cli_bad_sources(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(BOMB)
    out = str(tmp_path / "out")
    assert "bomb.xml: feed refused: it declares XML entities" in _bad([str(bomb), "-o", out])
    xxe = tmp_path / "xxe.rss"
    xxe.write_bytes(XXE)
    assert "declares XML entities" in _bad([str(xxe), "-o", out])
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<?xml version='1.0'?><rss><channel><item></channel>")
    assert "malformed XML (mismatched tag: line 1" in _bad([str(broken), "-o", out])
    empty = tmp_path / "empty.xml"
    empty.write_bytes(rss("Empty", [{"title": "text only", "guid": "t"}]))
    assert "no episodes with an audio enclosure" in _bad([str(empty), "-o", out])
    assert "a file: URL; only http and https" in _bad(["file:///etc/passwd", "-o", out])
    assert "not found" in _bad([str(tmp_path / "nope.xml"), "-o", out])
    assert "no files match" in _bad([str(tmp_path / "*.mp3"), "-o", out])
    assert "--since 'soon'" in _bad([str(empty), "--since", "soon", "-o", out], code=6)


def test_cli_feed_url_errors(tmp_path):
    with FeedServer() as srv:
        srv.add("/bomb.xml", Route(BOMB, content_type="application/rss+xml"))
        srv.add("/moved.xml", Route(location="file:///etc/passwd"))
        out = str(tmp_path / "out")
        private = ["--allow-private", "-o", out]  # the test server is on loopback
        assert "HTTP 404" in _bad([srv.url + "/missing.xml", *private])
        assert "declares XML entities" in _bad([srv.url + "/bomb.xml", *private])
        assert "redirected to a file: URL" in _bad([srv.url + "/moved.xml", *private])
        assert "loopback address" in _bad([srv.url + "/bomb.xml", "-o", out])  # without the flag


def test_cli_unwritable_output(tmp_path, sample_mp3):
    shutil.copy(sample_mp3, tmp_path / "a.mp3")
    target = tmp_path / "ro"
    target.mkdir()
    if os.geteuid() == 0:  # root ignores permissions: a read-only file system instead
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(target)],
                          capture_output=True).returncode != 0:
            pytest.skip("needs a read-only mount (root without mount permission)")
    else:
        target.chmod(0o555)
    try:
        line = _bad([str(tmp_path / "a.mp3"), "-o", str(target / "cat")], code=3)
        assert "cat" in line and ("not writable" in line or "Read-only" in line or "read-only" in line)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(target)], check=False)
        else:
            target.chmod(0o755)


def test_cli_full_disk_leaves_catalogue_intact(tmp_path, sample_mp3):
    """The disk fills up: one clear line, exit 3, and the catalogue still opens afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        feed = tmp_path / "feed.xml"
        feed.write_bytes(rss("S", [{"title": f"E{i}", "guid": f"g{i}", "url": f"https://h/{i}.mp3"}
                                   for i in range(200)]))
        out = disk / "cat"
        from podtools.catalog import Catalog

        Catalog.open(out.mkdir() or out).close()
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as fh:  # fill every free byte
            try:
                while True:
                    fh.write(b"\0" * 4096)
                    fh.flush()
            except OSError:
                pass
        line = _bad([str(feed), "-o", str(out)], code=3)
        assert "full" in line or "No space" in line, line
        filler.unlink()
        with Catalog.open(out) as c:
            c.check_integrity()
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_cli_corrupt_or_locked_catalogue(tmp_path, sample_mp3):
    shutil.copy(sample_mp3, tmp_path / "a.mp3")
    out = tmp_path / "out"
    out.mkdir()
    db = out / "catalog.db"
    db.write_bytes(b"garbage" * 1000)
    assert "not a podtools catalogue" in _bad([str(tmp_path / "a.mp3"), "-o", str(out)])
    assert db.read_bytes() == b"garbage" * 1000
    db.unlink()
    from podtools.catalog import Catalog

    with Catalog.open(out) as other:
        other.lock()
        assert "in use by another running batch" in _bad([str(tmp_path / "a.mp3"), "-o", str(out)])
