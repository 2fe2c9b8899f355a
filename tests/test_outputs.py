"""Every file `ingest` writes, read back by a real parser."""

import json
import re
import subprocess

import pytest
import srt
import webvtt

from podtools.formats.captions import to_srt, to_vtt
from podtools.models import Episode, Speaker
from podtools.outputs import render
from readme import INGEST_FILES, SRT_MAX_CHARS, SRT_MAX_LINES, VTT_MAX_CHARS


def test_ingest_writes_every_file(sample_ingest):
    result, out = sample_ingest
    assert {p.name for p in out.iterdir()} == INGEST_FILES  # each of them, and nothing else (no temp files left)
    assert sorted(str(p) for p in result.files) == sorted(str(out / n) for n in INGEST_FILES)
    assert all((out / n).read_bytes().strip() for n in INGEST_FILES)  # none empty (contents: the tests below and elsewhere)


@pytest.mark.parametrize("name", ["transcript.srt", "transcript.vtt"])
def test_ffmpeg_reads_captions(sample_ingest, tmp_path, name):
    _, out = sample_ingest
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(out / name)],
                           capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    assert probe.stderr == ""
    assert json.loads(probe.stdout)["streams"][0]["codec_type"] == "subtitle"
    conv = subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(out / name), str(tmp_path / "out.srt")],
                          capture_output=True, text=True)
    assert conv.returncode == 0 and conv.stderr == ""
    # ffmpeg read every cue as written: the same times, the same words (voice tags aside)
    theirs = [(round(c.start.total_seconds(), 2), round(c.end.total_seconds(), 2), c.content.split())
              for c in srt.parse((tmp_path / "out.srt").read_text())]
    if name.endswith(".srt"):
        ours = [(round(c.start.total_seconds(), 2), round(c.end.total_seconds(), 2), c.content.split())
                for c in srt.parse((out / name).read_text())]
    else:
        ours = [(round(_secs(c.start), 2), round(_secs(c.end), 2), c.text.split()) for c in webvtt.read(out / name)]
    assert len(ours) > 5 and theirs == ours


def _secs(stamp: str) -> float:
    """'00:01:02.345' -> 62.345 (webvtt-py's start_in_seconds drops the milliseconds)."""
    h, m, sec = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def _check_cues(cues, max_chars, max_lines, episode):
    last_end = 0.0
    for start, end, lines in cues:
        assert start < end and start >= last_end - 1e-3, (start, end)
        assert 1 <= len(lines) <= max_lines, lines
        assert all(len(line) <= max_chars for line in lines), lines
        last_end = end
    assert last_end <= episode.duration + 0.05


def _without_speakers(text: str, episode) -> str:
    """Caption/text content less the "Name: " speaker labels that diarization adds."""
    for sp in episode.speakers:
        text = re.sub(rf"(^|\s){re.escape(episode.speaker_name(sp.id))}: ", r"\1", text, flags=re.M)
    return text


def test_srt_rules(sample_ingest):
    result, out = sample_ingest
    subs = list(srt.parse((out / "transcript.srt").read_text(), ignore_errors=False))
    cues = [(s.start.total_seconds(), s.end.total_seconds(), s.content.split("\n")) for s in subs]
    _check_cues(cues, SRT_MAX_CHARS, SRT_MAX_LINES, result.episode)
    words = " ".join(_without_speakers(s.content, result.episode).replace("\n", " ") for s in subs).split()
    assert words == result.episode.text.split()  # nothing lost, nothing added


def test_vtt_rules(sample_ingest):
    result, out = sample_ingest
    vtt = webvtt.read(out / "transcript.vtt")
    cues = [(_secs(c.start), _secs(c.end), c.raw_text.split("\n")) for c in vtt]  # lines as written, <v> tags included
    _check_cues(cues, VTT_MAX_CHARS, 99, result.episode)
    assert " ".join(c.text.replace("\n", " ") for c in vtt).split() == result.episode.text.split()


def test_markdown_and_text(sample_ingest):
    result, out = sample_ingest
    md = (out / "transcript.md").read_text()
    stamps = re.findall(r"^\[(\d\d):(\d\d):(\d\d)\] ", md, flags=re.M)
    assert len(stamps) >= 2
    secs = [int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in stamps]
    assert secs == sorted(secs) and secs[-1] <= result.episode.duration
    txt = (out / "transcript.txt").read_text()
    titles = {c.title for c in result.episode.chapters}
    assert titles and all(f"\n{t}\n" in f"\n{txt}" for t in titles)  # chapter headings, each on its own line
    body = "\n".join(line for line in txt.splitlines() if line not in titles)
    assert _without_speakers(body, result.episode).split() == result.episode.text.split()


def test_episode_json_reads_back(sample_ingest):
    result, out = sample_ingest
    assert Episode.load(out / "episode.json") == result.episode


def test_episode_json_matches_the_shipped_schema(sample_ingest):
    """The whole pipeline's episode.json (speakers, chapters, mentions, summaries) against the JSON Schema."""
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("podtools").joinpath("schema/episode.schema.json").read_text())
    doc = json.loads((sample_ingest[1] / "episode.json").read_text())
    assert doc["speakers"] and doc["chapters"] and doc["mentions"] and doc["summaries"]
    jsonschema.validate(doc, schema)


def test_speakers_in_captions(sample_ingest, tmp_path):
    """With speakers known, VTT cues carry <v Name> and SRT cues start with "Name:" on a change."""
    ep = sample_ingest[0].episode
    segs = [s.model_copy(update={"speaker": f"SPEAKER_0{i % 2}",  # words follow their segment here
                                 "words": [w.model_copy(update={"speaker": None}) for w in s.words]})
            for i, s in enumerate(ep.segments)]
    ep = ep.model_copy(update={"segments": segs, "speakers": [
        Speaker(id="SPEAKER_00", name="Alex <Host> & Co"), Speaker(id="SPEAKER_01")]})
    render(ep, tmp_path)
    vtt = webvtt.read(tmp_path / "transcript.vtt")
    voices = {c.voice for c in vtt}
    assert voices == {"Alex &lt;Host&gt; &amp; Co", "SPEAKER_01"}
    assert all(c.raw_text.startswith("<v ") for c in vtt)
    _check_cues([(_secs(c.start), _secs(c.end), c.raw_text.split("\n")) for c in vtt], VTT_MAX_CHARS, 99, ep)
    subs = list(srt.parse((tmp_path / "transcript.srt").read_text()))
    assert subs[0].content.startswith("Alex <Host> & Co:")
    assert sum(s.content.startswith("SPEAKER_01:") for s in subs) >= 1
    subprocess.run(["ffprobe", "-v", "error", str(tmp_path / "transcript.vtt")], check=True)
    md = (tmp_path / "transcript.md").read_text()
    assert "**SPEAKER_01:**" in md


def test_escaping_in_vtt():
    ep = Episode(id="x", source="x", duration=3, segments=[])
    from podtools.models import Segment, Word
    ep = ep.model_copy(update={"segments": [Segment(start=0, end=2, text="a <b> & c", words=[
        Word(start=0, end=0.5, text="a"), Word(start=0.5, end=1, text="<b>"), Word(start=1, end=2, text="&"),
    ])]})
    out = to_vtt(ep)
    assert "&lt;b&gt;" in out and "&amp;" in out
    assert to_srt(ep).count("-->") == 1


def test_render_under_a_write_fault_keeps_whole_files(sample_script, tmp_path):
    """The README: every file is written atomically, so an interrupted run leaves the previous
    file or the new one, never half of one. The fault is real: `podtools render` runs with a
    file-size limit (RLIMIT_FSIZE, as on a full quota) that episode.html cannot fit in."""
    import resource
    import signal
    import sys

    from podtools.summarize import summarize
    from summary_data import script_episode

    folder = tmp_path / "ep"
    old = summarize(script_episode(sample_script)).episode
    old.save(folder / "episode.json")
    render(old, folder)  # the previous run's files
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    new = old.model_copy(update={"title": "A new title for every file"})
    render(new, tmp_path / "whole")  # what a complete render of the new episode writes
    after = {p.name: p.read_bytes() for p in (tmp_path / "whole").iterdir()}
    new.save(folder / "episode.json")
    before["episode.json"] = after["episode.json"] = (folder / "episode.json").read_bytes()
    limit = 64 * 1024
    assert len(after["episode.html"]) > limit > max(len(after[n]) for n in ("transcript.md", "show_notes.md"))

    def small_files_only():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([sys.executable, "-c", "from podtools.cli import main; main()", "render",
                           str(folder / "episode.json")], preexec_fn=small_files_only, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode not in (0, 70), proc.stderr  # a clean failure, not an internal error
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "episode.html" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    now = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert set(now) == set(before)  # no temp file left behind
    assert now["episode.html"] == before["episode.html"]  # the previous page, whole
    for name, data in now.items():
        assert data in (before[name], after[name]), name  # each file old or new, never a mix or a part
    assert any(now[n] == after[n] != before[n] for n in now)  # the run did write what fitted
