"""Transcript import: every format read by the real parsers, sniffed by extension and content,
round-tripped through podtools' own writers, and bad inputs via the CLI."""

import json

import pytest
from click.testing import CliRunner

from podtools.cli import cli
from podtools.formats.imports import detect_format, import_transcript
from podtools.models import Chapter, Episode, Segment, Speaker
from podtools.outputs import render

MARKDOWN = """---
title: "AI News &amp; Views #12"
date: 2024-10-11
---
# Ignored when front matter has a title

Show notes before the transcript are not transcript text.

## [00:00:00] Intro &amp; welcome

[00:00:02] **Alex:** Welcome to the show. [00:00:09] Today: Llama &amp; GPT-4o.
[00:00:15] **Priya Raman:** Thanks, Alex.
It is good to be here.

## [00:00:30] Llama 3.1 405B

[00:00:31] **Alex:** First up, Meta released Llama 3.1.
**Sam:** And it is big.
[00:01:10] **Priya Raman:** Indeed &lt;huge&gt;.
"""


def _imp(tmp_path, name, content, **kw):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    notes = []
    result = import_transcript(path, warn=notes.append, **kw)
    return result, notes


def test_markdown_ai_news_format(tmp_path):
    result, notes = _imp(tmp_path, "ep.md", MARKDOWN)
    ep = result.episode
    assert result.format == "markdown" and notes == []
    assert ep.title == "AI News & Views #12" and ep.published.year == 2024
    texts = [s.text for s in ep.segments]
    assert texts == ["Welcome to the show.", "Today: Llama & GPT-4o.", "Thanks, Alex. It is good to be here.",
                     "First up, Meta released Llama 3.1.", "And it is big.", "Indeed <huge>."]
    starts = [s.start for s in ep.segments]
    assert starts[:4] == [2.0, 9.0, 15.0, 31.0] and starts[5] == 70.0
    assert 31.0 < starts[4] < 70.0  # no stamp: interpolated between its neighbours
    assert [s.end for s in ep.segments[:-1]] == starts[1:]  # end = next start
    assert [sp.name for sp in ep.speakers] == ["Alex", "Priya Raman", "Sam"]
    assert [ep.speaker_name(s.speaker) for s in ep.segments] == ["Alex", "Alex", "Priya Raman", "Alex", "Sam",
                                                                  "Priya Raman"]
    assert [(c.start, c.title, c.source) for c in ep.chapters] == [
        (0.0, "Intro & welcome", "transcript"), (30.0, "Llama 3.1 405B", "transcript")]
    assert ep.provenance["import"].settings["format"] == "markdown"


def test_plain_text_with_stamps_and_labels(tmp_path):
    text = "Episode 12 notes\n\n00:05 Alex: Hello and welcome.\n01:10 Priya: Thanks.\nMore from Priya.\n" \
           "1:02:03 Alex: Goodbye.\n"
    result, _ = _imp(tmp_path, "ep.txt", text)
    ep = result.episode
    assert result.format == "text"
    assert [(s.start, ep.speaker_name(s.speaker), s.text) for s in ep.segments] == [
        (5.0, "Alex", "Hello and welcome."), (70.0, "Priya", "Thanks. More from Priya."),
        (3723.0, "Alex", "Goodbye.")]


def test_otter_style_and_speaker_after_name(tmp_path):
    text = "Alex Smith  0:03\nHello there.\n\nPriya  0:09\nHi Alex.\n\n**Sam** [00:15]: Hey both.\n"
    ep = _imp(tmp_path, "otter.txt", text)[0].episode
    assert [(s.start, ep.speaker_name(s.speaker), s.text) for s in ep.segments] == [
        (3.0, "Alex Smith", "Hello there."), (9.0, "Priya", "Hi Alex."), (15.0, "Sam", "Hey both.")]


SRT = """1
00:00:01,000 --> 00:00:03,000
Alex: Welcome back to the show,

2
00:00:03,000 --> 00:00:05,500
everyone. Today is about <i>Llama</i>.

3
00:00:06,000 --> 00:00:08,000
Priya: Thanks &amp; hello.
"""


def test_srt_speakers_carry_and_sentences_merge(tmp_path):
    result, notes = _imp(tmp_path, "ep.srt", SRT)
    ep = result.episode
    assert notes == []
    # cues 1 and 2 are one sentence of one speaker: one segment; word times stay inside each cue
    assert [s.text for s in ep.segments] == ["Welcome back to the show, everyone. Today is about Llama.",
                                             "Thanks & hello."]
    first = ep.segments[0]
    assert (first.start, first.end) == (1.0, 5.5)
    assert [w.text for w in first.words][:2] == ["Welcome", "back"]
    assert all(1.0 <= w.start < w.end <= 3.0 for w in first.words[:5])
    assert ep.duration == 8.0


def test_srt_broken_numbers_and_missing_blank_lines(tmp_path):
    broken = SRT.replace("2\n00:00:03", "x\n00:00:03").replace("Llama</i>.\n\n3\n", "Llama</i>.\n3\n")
    result, notes = _imp(tmp_path, "broken.srt", broken)
    assert [s.text for s in result.episode.segments] == [
        "Welcome back to the show, x everyone. Today is about Llama.", "Thanks & hello."]
    assert any("without a valid cue number" in n for n in notes)
    assert any("not separated by a blank line" in n for n in notes)


VTT = """WEBVTT
Kind: captions
Language: en

NOTE written by hand

intro
00:00.500 --> 00:02.000
<v Alex Smith>Hello <c.loud>there</c>.</v>

00:02.500 --> 00:04.000 align:start
<v.host Priya>Hi &amp; welcome.
"""


def test_vtt_voices_header_and_notes(tmp_path):
    result, notes = _imp(tmp_path, "ep.vtt", VTT)
    ep = result.episode
    assert notes == [] and ep.language == "en"
    assert [(s.start, ep.speaker_name(s.speaker), s.text) for s in ep.segments] == [
        (0.5, "Alex Smith", "Hello there."), (2.5, "Priya", "Hi & welcome.")]


def test_vtt_without_header(tmp_path):
    result, notes = _imp(tmp_path, "nohead.vtt", VTT.split("\n", 4)[4])
    assert [s.text for s in result.episode.segments] == ["Hello there.", "Hi & welcome."]
    assert any("no WEBVTT header" in n for n in notes)


def test_podcasting2_json_word_level(tmp_path):
    words = [("Alex", 0.5, 0.9, "Hello"), ("Alex", 0.9, 1.2, "world."), ("Priya", 1.5, 1.8, "Hi"),
             ("Priya", 1.8, 2.4, "Alex.")]
    doc = {"version": "1.0.0", "segments": [
        {"speaker": sp, "startTime": a, "endTime": b, "body": t} for sp, a, b, t in words]}
    result, _ = _imp(tmp_path, "ep.json", json.dumps(doc))
    ep = result.episode
    assert result.format == "podcasting2-json"
    assert [(s.start, s.end, ep.speaker_name(s.speaker), s.text) for s in ep.segments] == [
        (0.5, 1.2, "Alex", "Hello world."), (1.5, 2.4, "Priya", "Hi Alex.")]
    assert [(w.start, w.end) for w in ep.segments[0].words] == [(0.5, 0.9), (0.9, 1.2)]


def test_podcasting2_json_without_end_times(tmp_path):
    doc = {"version": "1.0.0", "segments": [{"speaker": "Alex", "startTime": 0.5, "body": "Hello there."},
                                            {"speaker": "Priya", "startTime": 3.0, "body": "Hi Alex."},
                                            {"speaker": "Alex", "startTime": 6.25, "endTime": 7.5, "body": "Bye."}]}
    ep = _imp(tmp_path, "ep.json", json.dumps(doc))[0].episode
    assert [(s.start, s.end) for s in ep.segments] == [(0.5, 3.0), (3.0, 6.25), (6.25, 7.5)]  # end = next start


def test_whisper_json(tmp_path):
    doc = {"text": "Hi. Bye.", "language": "en", "segments": [{"id": 0, "start": 0.0, "end": 1.5, "text": " Hi."},
                                                              {"id": 1, "start": 2.0, "end": 3.0, "text": " Bye."}]}
    result, _ = _imp(tmp_path, "whisper.json", json.dumps(doc))
    assert result.format == "whisper-json"
    assert [s.text for s in result.episode.segments] == ["Hi.", "Bye."]


def _script_episode(script) -> Episode:
    names = [s["name"] for s in script["speakers"]]
    segs = [Segment(start=t["start"], end=t["end"], text=t["text"], speaker=f"SPEAKER_{names.index(t['speaker']):02d}")
            for t in script["turns"]]
    chapters = [Chapter(start=c["start"], end=(script["chapters"] + [{"start": script["duration"]}])[i + 1]["start"],
                        title=c["title"]) for i, c in enumerate(script["chapters"])]
    return Episode(id="x", source="script", title=script["title"], duration=script["duration"], segments=segs,
                   speakers=[Speaker(id=f"SPEAKER_{i:02d}", name=n) for i, n in enumerate(names)], chapters=chapters)


@pytest.mark.parametrize("name", ["transcript.md", "transcript.srt", "transcript.vtt", "episode.json"])
def test_round_trip_of_own_outputs(tmp_path, sample_script, name):
    """What podtools writes, podtools reads back: same words, speakers, times and chapters."""
    ep = _script_episode(sample_script)
    render(ep, tmp_path / "out", only=["transcript.md", "transcript.srt", "transcript.vtt"])
    back = import_transcript(tmp_path / "out" / name, warn=pytest.fail).episode
    assert back.text.split() == ep.text.split()

    def who(e):  # the speaker of every word
        return [e.speaker_name(s.speaker) for s in e.segments for _ in s.text.split()]

    assert who(back) == who(ep)
    turn_starts = [s.start for s in ep.segments]
    assert all(min(abs(s.start - t) for t in turn_starts) < 1.0 for s in back.segments[:1] + [
        b for a, b in zip(back.segments, back.segments[1:]) if a.speaker != b.speaker])
    if name in ("transcript.md", "episode.json"):
        assert [(int(c.start), c.title) for c in back.chapters] == [(int(c.start), c.title) for c in ep.chapters]


@pytest.mark.parametrize("name, content, fmt", [
    ("captions", SRT, "srt"),
    ("captions.txt", VTT, "vtt"),
    ("notes.md", "00:01 Hello\n", "markdown"),
    ("transcript", "[00:00:01] **A:** hi\n", "markdown"),
    ("episode.dat", "00:01 Alex: hi\n", "text"),
    ("data", json.dumps({"version": "1.0.0", "segments": []}), "json"),
    ("shopping", "milk\neggs\n", None),
    ("song.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(100), None),
])
def test_sniffing(tmp_path, name, content, fmt):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert detect_format(path) == fmt


def test_bom_crlf_and_windows_1252(tmp_path):
    md = MARKDOWN.replace("Thanks, Alex.", "Thanks, Alex \u2013 caf\u00e9.")
    result, notes = _imp(tmp_path, "bom.md", "\ufeff" + md.replace("\n", "\r\n"))
    assert notes == [] and result.episode.segments[2].text.startswith("Thanks, Alex \u2013 caf\u00e9.")
    result, notes = _imp(tmp_path, "cp1252.md", md.encode("cp1252"))
    assert result.episode.segments[2].text.startswith("Thanks, Alex \u2013 caf\u00e9.")
    assert len(notes) == 1 and "not valid UTF-8" in notes[0] and "Windows-1252" in notes[0]


# -- the CLI: bad inputs are one clear line, a non-zero exit, no traceback -------------------------------


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("name, content, message", [
    ("nostamps.md", "# My show\n\n**Alex:** Hello.\n**Priya:** Hi.\n", "no timestamps found in this Markdown"),
    ("nostamps.txt", "Just some text.\nMore text.\n", "no timestamps found in this text transcript"),
    ("config.json", json.dumps({"name": "x", "values": [1, 2]}), "JSON file is not a transcript"),
    ("list.json", json.dumps([1, 2, 3]), "JSON file is not a transcript"),
    ("chapters.json", json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}]}),
     "this is a chapters file, not a transcript; give it with --chapters"),
    ("bad.json", '{"version": "1.0.0", "segments": [{"startTime": "zero", "endTime": 1, "body": "x"}]}',
     "segments[0].startTime must be a number of seconds"),
    ("broken.json", '{"segments": [', "not valid JSON"),
    ("badstamp.md", "[00:00:01] **A:** hi\n[1:2:3] **B:** there\n", "line 2: '1:2:3' is not a timestamp"),
    ("badstamp2.md", "[00:00:01] **A:** hi\n[99:99] **B:** there\n", "line 2: '99:99' is not a timestamp"),
    ("badinline.md", "[00:00:01] **A:** hi [00:61] there\n", "line 1: '00:61' is not a timestamp"),
    ("badheading.md", "## [1:2:3] Intro\n[00:00:01] **A:** hi\n", "line 1: '1:2:3' is not a timestamp"),
    ("badcue.srt", "1\n00:00:01,000 --> 00:00:99,000\nhi\n", "line 2: '00:00:99,000' is not a valid cue time"),
    ("nocues.srt", "1\nhello\n", "no caption cues found"),
    ("empty.srt", "", "file is empty"),
    ("binary.txt", b"\x00\x01\x02" * 100, "not a text file"),
    ("latin.md", b"[00:00:01] **A:** caf\x81\x8d\n", "not UTF-8 text (invalid byte 0x81"),
])
def test_bad_transcripts(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    r = run("ingest", path, "-o", tmp_path / "out")
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(path) in lines[0], r.stderr
    assert "Traceback" not in r.output


def test_ingest_srt_with_warnings(tmp_path):
    path = tmp_path / "broken.srt"
    path.write_text(SRT.replace("2\n00:00:03", "00:00:03").replace("\n\n3\n", "\n3\n"))
    r = run("ingest", path, "-o", tmp_path / "out", "--json")
    assert r.exit_code == 0, r.output
    assert "without a valid cue number" in r.stderr and "not separated by a blank line" in r.stderr
    info = json.loads(r.stdout)
    assert info["segments"] == 2
    assert (tmp_path / "out" / "transcript.srt").exists()
