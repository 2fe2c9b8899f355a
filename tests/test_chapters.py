"""Chapters: lists, embedded chapters (ID3 via mutagen, MP4 via PyAV), detection, segmentation,
outputs read back by real parsers (ffprobe, json), and the CLI's bad inputs."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from podtools import chapters as ch
from podtools.cli import cli
from podtools.errors import ConfigError, InputError
from podtools.formats.imports import import_transcript
from podtools.progress import NoteList
from podtools.models import Chapter, Episode, Segment

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "data" / "chapters"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def starts_titles(chapters):
    return [(round(c.start, 3), c.title) for c in chapters]


# -- chapter lists ----------------------------------------------------------------------------------------

DESCRIPTION = """In this episode we talk about open models.

Chapters:
0:00 Intro
- 02:15 - Llama 3.1 405B &amp; open weights
(12:30) GPT-4o mini
1:02:03 | Wrap-up

Links: https://example.com/12:30
"""


def test_youtube_description():
    assert starts_titles(ch.parse_chapter_list(DESCRIPTION)) == [
        (0.0, "Intro"), (135.0, "Llama 3.1 405B & open weights"), (750.0, "GPT-4o mini"), (3723.0, "Wrap-up")]


def test_trailing_stamps_only_without_leading_ones():
    assert starts_titles(ch.parse_chapter_list("Intro 0:00\nNews (05:10)\nOutro - 1:00:00\n")) == [
        (0.0, "Intro"), (310.0, "News"), (3600.0, "Outro")]


def test_podcasting2_chapters_json():
    doc = {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro"},
                                            {"startTime": 30.5, "title": "Art", "toc": False},
                                            {"startTime": 61, "title": "News", "img": "x.png"}]}
    assert starts_titles(ch.parse_chapter_list(json.dumps(doc))) == [(0.0, "Intro"), (61.0, "News")]


@pytest.mark.parametrize("text, message", [
    ("00:00 Intro\n1:2:3 Bad\n", "line 2: '1:2:3' is not a timestamp"),
    ("00:00 Intro\n99:99 Bad\n", "line 2: '99:99' is not a timestamp (seconds must be below 60)"),
    ("1:75:00 Bad\n", "line 1: '1:75:00' is not a timestamp (minutes must be below 60)"),
    ("just words\n", "no chapter timestamps found"),
    ('{"version": "1.2.0", "chapters": [{"startTime": -1, "title": "x"}]}', "chapters[0].startTime must be"),
    ('{"version": "1.2.0"}', "not a Podcasting 2.0 chapters file"),
])
def test_bad_chapter_lists(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        ch.parse_chapter_list(text)


def _episode(duration=300.0, n=30, chapters=()):
    segs = [Segment(start=i * duration / n, end=(i + 1) * duration / n, text=f"words of segment {i}.",
                    speaker=f"SPEAKER_0{i % 2}") for i in range(n)]
    return Episode(id="x", source="x", duration=duration, segments=segs, chapters=list(chapters))


def test_normalize_sorts_dedupes_drops_and_fills():
    given = [Chapter(start=100, end=100, title="B"), Chapter(start=0, end=0, title="A"),
             Chapter(start=100, end=100, title="B again"), Chapter(start=400, end=400, title="Past the end"),
             Chapter(start=200, end=200, title="")]
    progress = NoteList()
    ep = ch.chapters_stage(_episode(), progress=progress, given=given)
    notes = progress.notes
    assert [(c.start, c.end, c.source) for c in ep.chapters] == [(0, 100, "given"), (100, 200, "given"),
                                                                 (200, 300, "given")]
    assert [c.title for c in ep.chapters][:2] == ["A", "B"] and ep.chapters[2].title  # filled from the text
    text = "\n".join(notes)
    assert "not in time order; sorted" in text
    assert "two chapters at 00:01:40 ('B' and 'B again'); kept the first" in text
    assert "chapter 'Past the end' at 00:06:40 starts after the end of the audio (00:05:00); dropped" in text
    assert "chapter at 00:03:20 has no title; titled" in text
    assert ep.provenance["chapters"].settings["source"] == "given"


def test_intro_added_when_speech_comes_first():
    progress = NoteList()
    ep = ch.chapters_stage(_episode(), progress=progress, given=[Chapter(start=60, end=60, title="News")])
    notes = progress.notes
    assert starts_titles(ep.chapters) == [(0.0, "Intro"), (60.0, "News")]
    assert any("added 'Intro'" in n for n in notes)


def test_every_segment_in_exactly_one_chapter():
    ep = _episode(chapters=[Chapter(start=0, end=95, title="A"), Chapter(start=95, end=201.5, title="B"),
                            Chapter(start=201.5, end=300, title="C")])
    idx = ch.segment_chapters(ep)
    # segment 9 starts at 90 s; B starts 5 s in: not within 2 s, so it stays in A. Segment 20 starts
    # at 200 s and C 1.5 s later: C claims it (a chapter mark a little into a segment).
    assert idx == [0] * 10 + [1] * 10 + [2] * 10


def test_youtube_rules():
    ep = _episode(chapters=[Chapter(start=3, end=8, title="Cold open"), Chapter(start=8, end=100, title="Intro"),
                            Chapter(start=100, end=105, title="Blip"), Chapter(start=105, end=300, title="News")])
    items, notes = ch.youtube_chapters(ep)
    assert items == [(0.0, "Intro"), (105.0, "News")]
    assert len(notes) == 4 and "at least 3" in notes[-1]
    assert ch.to_youtube(ep) == "0:00 Intro\n1:45 News\n"


# -- detection --------------------------------------------------------------------------------------------


def test_detection_on_a_multi_topic_transcript():
    ep = import_transcript(BENCH / "mixed-a.md", warn=pytest.fail).episode
    truth = [c.start for c in ep.chapters]
    found = ch.detect_chapters(ep.segments, ep.duration)
    assert found[0].start == 0.0 and all(c.source == "detected" and c.title for c in found)
    segment_starts = {s.start for s in ep.segments}
    assert all(c.start in segment_starts or c.start == 0.0 for c in found)  # real transcript times
    assert all(b.start - a.start >= 120 for a, b in zip(found, found[1:]))  # min_length
    hits = sum(any(abs(c.start - t) <= 60 for c in found[1:]) for t in truth[1:])
    assert hits >= 3 and len(found) <= len(truth) + 1
    assert "dough" in found[0].title.lower() or "flour" in found[0].title.lower()


def test_detection_short_and_empty():
    assert ch.detect_chapters([], 0.0) == []
    short = ch.detect_chapters(_episode(duration=90.0).segments, 90.0)
    assert [(c.start, c.end) for c in short] == [(0.0, 90.0)]


def test_options_are_checked():
    from podtools.pipeline import validate_config

    with pytest.raises(ConfigError, match="min_length <= target_length <= max_length"):
        validate_config({"chapters": {"min_length": 900}})


# -- embedded chapters and ID3 output ---------------------------------------------------------------------


def _ffprobe_chapters(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return [(round(float(c["start_time"]), 3), round(float(c["end_time"]), 3), c["tags"]["title"])
            for c in json.loads(out.stdout)["chapters"]]


def test_write_id3_and_read_back(sample_mp3, sample_script, tmp_path):
    chapters = ch.normalize([Chapter(start=c["start"], end=0, title=c["title"]) for c in sample_script["chapters"]],
                            sample_script["duration"])
    ep = Episode(id="x", source=str(sample_mp3), duration=sample_script["duration"], chapters=chapters)
    dst = ch.write_id3(sample_mp3, tmp_path / "copy.mp3", ep)
    assert _ffprobe_chapters(dst) == [(c.start, c.end, c.title) for c in chapters]
    assert starts_titles(ch.read_embedded(dst)) == starts_titles(chapters)
    assert ch.read_embedded(sample_mp3) == []
    # the original tags survive; the audio is untouched
    from mutagen.id3 import ID3
    assert str(ID3(dst)["TIT2"]) == str(ID3(sample_mp3)["TIT2"])
    assert ch.write_id3(dst, tmp_path / "again.mp3", ep.model_copy(update={"chapters": chapters[:2]}))
    assert len(_ffprobe_chapters(tmp_path / "again.mp3")) == 2  # chapters replaced, not added


def test_mp4_chapters_via_pyav(sample_mp3, tmp_path):
    meta = tmp_path / "meta.txt"
    meta.write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=30000\ntitle=Intro\n"
                    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=30000\nEND=60000\ntitle=News & views\n")
    m4a = tmp_path / "ep.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(sample_mp3), "-i", str(meta), "-map_metadata", "1",
                    "-map_chapters", "1", "-t", "60", "-c:a", "aac", "-b:a", "32k", str(m4a)], check=True)
    assert starts_titles(ch.read_embedded(m4a)) == [(0.0, "Intro"), (30.0, "News & views")]


# -- the pipeline -----------------------------------------------------------------------------------------


def _script_markdown(script) -> str:
    """The sample episode's script as an AI-news Markdown transcript with chapter headings."""
    lines = ["---", f"title: {script['title']}", "---", ""]
    chapters = list(script["chapters"])
    for turn in script["turns"]:
        while chapters and chapters[0]["start"] <= turn["start"] + 1:
            c = chapters.pop(0)
            lines += [f"## [{_hms(c['start'])}] {c['title']}", ""]
        lines += [f"[{_hms(turn['start'])}] **{turn['speaker']}:** {turn['text'].replace('&', '&amp;')}", ""]
    return "\n".join(lines)


def _hms(t):
    t = int(t)
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def _md_sections(md: str) -> list[tuple[str, list[int]]]:
    """(heading title, [line stamps in seconds]) for each '## [..] Title' of a transcript.md."""
    out = []
    for line in md.splitlines():
        if m := re.match(r"^## \[(\d\d):(\d\d):(\d\d)\] (.*)$", line):
            out.append((m.group(4), []))
        elif m := re.match(r"^\[(\d\d):(\d\d):(\d\d)\] ", line):
            out[-1][1].append(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)))
    return out


def _check_outputs(out: Path, script, source: str):
    doc = json.loads((out / "chapters.json").read_text())
    want = [(c["title"], c["start"]) for c in script["chapters"]]
    assert doc["version"] == "1.2.0"
    assert [(c["title"], c["startTime"]) for c in doc["chapters"]] == [(t, pytest.approx(s, abs=1)) for t, s in want]
    assert [c["endTime"] for c in doc["chapters"]][:-1] == [c["startTime"] for c in doc["chapters"]][1:]
    yt = (out / "youtube_chapters.txt").read_text().splitlines()
    assert yt == ["0:00 Intro", "0:18 Llama 3.1 405B and open models", "0:55 GPT-4o mini and coding benchmarks",
                  "1:24 Wrap-up"]
    sections = _md_sections((out / "transcript.md").read_text())
    assert [t for t, _ in sections] == [t for t, _ in want]
    bounds = [s for _, s in want] + [1e9]
    for k, (title, stamps) in enumerate(sections):
        assert stamps, title
        assert all(bounds[k] - 1.5 <= t < bounds[k + 1] for t in stamps), (title, stamps)
    ep = Episode.load(out / "episode.json")
    assert {c.source for c in ep.chapters} == {source}


def test_markdown_transcript_through_ingest(sample_script, tmp_path):
    """Done-when 1: Markdown with chapter headings -> chapters.json, youtube_chapters.txt, transcript.md."""
    md = tmp_path / "episode.md"
    md.write_text(_script_markdown(sample_script))
    r = run("ingest", md, "-o", tmp_path / "out", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["chapters"] == 4
    _check_outputs(tmp_path / "out", sample_script, "transcript")
    text = (tmp_path / "out" / "transcript.txt").read_text()
    assert "Llama 3.1 405B" in text and "&amp;" not in text


def test_audio_with_chapters_through_ingest(sample_mp3, sample_script, embedded_model, tmp_path):
    """Done-when 2: an audio file with --chapters gets the same, and --write-id3 a tagged copy."""
    from podtools.pipeline import load_pipeline, with_overrides
    from podtools.pipeline import ingest

    config = with_overrides(load_pipeline("default"), {"chapters": {"write_id3": True}})
    result = ingest(str(sample_mp3), tmp_path / "out", config, model=embedded_model,
                    chapters=str(ROOT / "samples" / "chapters.txt"))
    _check_outputs(tmp_path / "out", sample_script, "given")
    tagged = tmp_path / "out" / "episode.chapters.mp3"
    assert tagged in result.files
    assert [t for _, _, t in _ffprobe_chapters(tagged)] == [c["title"] for c in sample_script["chapters"]]


def test_transcript_with_audio_prefers_embedded_chapters(sample_mp3, sample_script, tmp_path):
    chapters = [Chapter(start=0, end=50, title="Embedded one"), Chapter(start=50, end=107, title="Embedded two")]
    tagged = ch.write_id3(sample_mp3, tmp_path / "tagged.mp3",
                          Episode(id="x", source="x", duration=107, chapters=chapters))
    md = tmp_path / "episode.md"
    md.write_text(_script_markdown(sample_script))
    r = run("ingest", md, "--audio", tagged, "-o", tmp_path / "out", "-q")
    assert r.exit_code == 0, r.output
    ep = Episode.load(tmp_path / "out" / "episode.json")
    assert starts_titles(ep.chapters) == [(0.0, "Embedded one"), (50.0, "Embedded two")]
    assert ep.duration == pytest.approx(sample_script["duration"], abs=0.1)
    assert ep.source == str(tagged)
    # --chapters beats both
    r = run("ingest", md, "--audio", tagged, "-o", tmp_path / "out2", "-q", "--chapters", "0:00 A\n0:40 B\n1:00 C")
    assert r.exit_code == 0, r.output
    assert [c.title for c in Episode.load(tmp_path / "out2" / "episode.json").chapters] == ["A", "B", "C"]


def test_chapters_command(sample_script, tmp_path):
    md = tmp_path / "episode.md"
    md.write_text(_script_markdown(sample_script))
    assert run("ingest", md, "-o", tmp_path / "out", "-q").exit_code == 0
    r = run("chapters", tmp_path / "out", "--chapters", ROOT / "samples" / "chapters.txt")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1] == "00:00:18  Llama 3.1 405B and open models"
    assert "4 chapters (given)" in r.stderr
    r = run("chapters", BENCH / "mixed-b.md", "--detect", "-o", tmp_path / "det", "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["source"] == "detected" and len(info["chapters"]) >= 3
    assert (tmp_path / "det" / "youtube_chapters.txt").read_text().startswith("0:00 ")


def test_chapters_file_with_bom_crlf_and_warnings(sample_script, tmp_path):
    md = tmp_path / "episode.md"
    md.write_text(_script_markdown(sample_script))
    lst = tmp_path / "chapters.txt"
    lst.write_bytes("\ufeff00:55 GPT-4o mini\r\n00:00 Intro\r\n00:55 Duplicate\r\n05:00 Too late\r\n00:18 \r\n"
                    .encode("utf-8"))
    r = run("ingest", md, "--chapters", lst, "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "not in time order; sorted" in r.stderr
    assert "kept the first" in r.stderr
    assert "'Too late' at 00:05:00 starts after the end of the audio" in r.stderr
    assert "chapter at 00:00:18 has no title" in r.stderr
    ep = Episode.load(tmp_path / "out" / "episode.json")
    assert [c.start for c in ep.chapters] == [0.0, 18.0, 55.0]
    assert ep.chapters[1].title and ep.chapters[0].title == "Intro"


@pytest.mark.parametrize("args, message", [
    (["--chapters", "missing-chapters.txt"], "missing-chapters.txt: file not found"),
    (["--chapters", "0:00 Intro\n1:2:3 Oops"], "--chapters: line 2: '1:2:3' is not a timestamp"),
    (["--chapters", "{BAD_JSON}"], "not valid JSON"),
    (["--chapters", "{EMPTY}"], "no chapter timestamps found"),
    (["--write-id3"], "--write-id3 needs the episode's MP3; give it with --audio FILE"),
    (["--write-id3", "--audio", "{WAV}"], "--write-id3 needs an MP3 file; this is not one"),
    (["--audio", "{MISSING}"], "file not found"),
])
def test_bad_chapter_inputs_on_the_cli(sample_script, tmp_path, args, message):
    md = tmp_path / "episode.md"
    md.write_text(_script_markdown(sample_script))
    (tmp_path / "bad.json").write_text('{"chapters": [')
    (tmp_path / "empty.txt").write_text("no stamps here\n")
    (tmp_path / "a.wav").write_bytes(b"RIFF" + bytes(100))
    subs = {"{BAD_JSON}": tmp_path / "bad.json", "{EMPTY}": tmp_path / "empty.txt", "{WAV}": tmp_path / "a.wav",
            "{MISSING}": tmp_path / "nope.mp3"}
    args = [str(subs.get(a, a)) for a in args]
    for cmd in (["ingest", md], ["chapters", md]):
        r = run(*cmd, *args, "-o", tmp_path / "out")
        assert r.exit_code != 0, r.output
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (cmd, r.stderr)
        assert "Traceback" not in r.output


def test_transcript_without_speakers_is_diarized_from_its_audio(sample_script, sample_mp3, tmp_path):
    """A timestamped plain-text transcript (no speakers) with --audio: ASR is skipped, the audio is
    diarized and every line gets the speaker who says it."""
    from podtools.timefmt import hms

    txt = tmp_path / "plain.txt"
    txt.write_text("".join(f"[{hms(t['start'])}] {t['text']}\n" for t in sample_script["turns"]))
    r = run("ingest", txt, "--audio", sample_mp3, "-o", tmp_path / "out", "-q")
    assert r.exit_code == 0, r.output
    ep = Episode.load(tmp_path / "out" / "episode.json")
    assert "transcribe" not in ep.provenance and ep.provenance["diarize"].model
    assert len(ep.speakers) == 3
    truth = {t["text"]: t["speaker"] for t in sample_script["turns"]}
    pairs = [(s.speaker, truth[s.text]) for s in ep.segments if s.text in truth]
    assert len(pairs) >= 0.9 * len(truth)
    label = {}  # each diarized speaker is one true speaker
    for got, want in pairs:
        label.setdefault(got, {}).setdefault(want, 0)
        label[got][want] += 1
    right = sum(max(c.values()) for c in label.values())
    assert right >= 0.9 * len(pairs) and len(label) == 3, label
    assert (tmp_path / "out" / "speakers.rttm").read_text().count("SPEAKER ") >= 3


# -- topic changes found by meaning, not only by shared words (issue 13) --------------------------

_BAKING = ["We baked bread this morning with flour and yeast.", "The oven was hot and the crust turned golden.",
           "Next time I will add rosemary to the dough.", "Kneading takes patience, but the loaf was worth it.",
           "A pinch of salt makes sourdough sing.", "My grandmother always proofed rolls overnight.",
           "Butter melted into the warm slices at breakfast.", "Rye needs a longer rise than wheat does.",
           "Cinnamon buns are the weekend treat in our kitchen.", "Let the baguette cool before cutting it.",
           "Steam in the first minutes gives a crackly shell.", "Store the leftovers in a linen cloth."]
_FOOTBALL = ["The striker scored twice in the second half.", "Our goalkeeper saved a penalty in stoppage time.",
             "The referee showed a red card to the defender.", "Fans sang in the stadium until midnight.",
             "A corner kick led to the equaliser.", "The coach switched to three at the back.",
             "Midfielders pressed high and won the ball often.", "The winger crossed from the left touchline.",
             "Offside flags cancelled an early header.", "The captain lifted the trophy after extra time.",
             "Supporters travelled by train to the away match.", "Injuries kept two forwards on the bench."]


def _two_topics():
    segs, t = [], 0.0
    for text in _BAKING + _FOOTBALL:
        segs.append(Segment(start=t, end=t + 4.5, text=text))
        t += 5.0
    return segs, t


def test_meaning_finds_a_topic_change_that_shares_no_words():
    """Two topics told without repeating a content word: lexical cohesion has nothing to compare,
    sentence embeddings see baking on one side and football on the other."""
    from podtools.chapters import semantic_curve, topic_curve

    segs, duration = _two_topics()
    change = 60.0
    grid, meaning = semantic_curve(segs, duration, window=30.0, step=5.0)
    assert abs(float(grid[meaning.argmin()]) - change) <= 10.0
    inside = [v for t, v in zip(grid, meaning) if abs(t - change) >= 25 and 30 <= t <= duration - 30]
    assert float(meaning.min()) < min(inside) - 0.1  # a clear dip, not noise
    options = ch.ChaptersOptions(min_length=40, target_length=60, max_length=120, window=30)
    starts = ch.detect_boundaries(segs, duration, options)
    assert len(starts) == 2 and abs(starts[1] - change) <= 10.0, starts
    # semantic = 0: the words alone, exactly the lexical curve
    _, words = topic_curve(segs, duration, 30.0, 5.0, semantic=0.0)
    assert (words == ch.cohesion_curve(segs, duration, 30.0, 5.0)[1]).all()
