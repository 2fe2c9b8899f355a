"""Publishing and the correction loop on the real sample episode: transcript.json against a JSON
Schema of the Podcasting 2.0 transcript format, feed_tags.xml read back by an XML parser and by
feedparser, `podtools fix` and `podtools speakers` read back from every file they re-render, and
the corrections surviving a re-run of `ingest`."""

from __future__ import annotations

import json
import re
import shutil

import jsonschema
import pytest
import srt
import webvtt
from click.testing import CliRunner
from defusedxml import ElementTree as ET

from podtools.models import Episode
from podtools.progress import NoteList
from readme import (INGEST_FILES, SOUNDBITE_MAX_S, SOUNDBITE_MIN_S, SOUNDBITES_MAX, SOUNDBITES_MIN)

NS = "https://podcastindex.org/namespace/1.0"
P = f"{{{NS}}}"

# The Podcasting 2.0 JSON transcript, as the namespace's transcripts.md describes it: a version
# and segments with startTime, endTime (seconds), body and an optional speaker.
PODCASTING2_TRANSCRIPT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "segments"],
    "properties": {
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        "segments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["startTime", "endTime", "body"],
                "additionalProperties": False,
                "properties": {
                    "speaker": {"type": "string", "minLength": 1},
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "body": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}
CAPTION_TYPES = {"text/vtt", "application/x-subrip"}  # the namespace's types for VTT and SRT


def run(*args):
    from podtools.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def words(text: str) -> list[str]:
    return re.findall(r"[\w.%'-]+", text.lower())


@pytest.fixture()
def folder(sample_ingest, tmp_path):
    """A copy of the sample's ingest folder, for a test to change."""
    _, out = sample_ingest
    return shutil.copytree(out, tmp_path / "episode")


def snapshot(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


# -- transcript.json ---------------------------------------------------------------------------


def test_transcript_json_is_a_podcasting2_transcript(sample_ingest):
    result, out = sample_ingest
    doc = json.loads((out / "transcript.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, PODCASTING2_TRANSCRIPT_SCHEMA)
    ep = result.episode
    segs = doc["segments"]
    # every word of the transcript, in order, and nothing else
    assert words(" ".join(s["body"] for s in segs)) == words(ep.text)
    starts = [s["startTime"] for s in segs]
    assert starts == sorted(starts) and all(s["endTime"] >= s["startTime"] for s in segs)
    assert segs[-1]["endTime"] <= ep.duration + 0.05
    # speakers by the names the episode gives them (the sample's three introduce themselves)
    assert {s["speaker"] for s in segs} == {sp.name for sp in ep.speakers} == {"Alex", "Priya", "Sam"}
    for seg in segs:  # each segment is one speaker's: the diarization of its time says so
        turns = [t for t in ep.segments if t.start <= seg["startTime"] + 0.01 and seg["startTime"] < t.end]
        assert any(ep.speaker_name(t.speaker) == seg["speaker"] for t in turns), seg
    # podtools reads it back: the same words and speakers
    from podtools.formats.imports import import_transcript

    back = import_transcript(out / "transcript.json").episode
    assert words(back.text) == words(ep.text)
    assert {sp.name for sp in back.speakers} == {"Alex", "Priya", "Sam"}


# -- feed_tags.xml -----------------------------------------------------------------------------


def _tags(path):
    root = ET.parse(path).getroot()
    assert root.tag == "item"
    for el in root:  # every element is in the Podcasting 2.0 namespace, of a kind it defines
        assert el.tag.startswith(P) and el.tag[len(P):] in {"transcript", "chapters", "person", "soundbite"}, el.tag
    return root


def test_feed_tags_point_at_the_files_and_parse(sample_ingest):
    result, out = sample_ingest
    ep = result.episode
    root = _tags(out / "feed_tags.xml")
    transcripts = root.findall(P + "transcript")
    by_type = {t.get("type"): t for t in transcripts}
    assert set(by_type) == {"text/vtt", "application/x-subrip", "application/json"}
    for t in transcripts:
        assert (out / t.get("url")).is_file(), t.get("url")  # bare names: files in the folder
        assert t.get("language") == ep.language == "en"
        assert t.get("rel") == ("captions" if t.get("type") in CAPTION_TYPES else None)
    assert webvtt.read(out / by_type["text/vtt"].get("url"))  # each is the file its type says
    assert list(srt.parse((out / by_type["application/x-subrip"].get("url")).read_text()))
    assert json.loads((out / by_type["application/json"].get("url")).read_text())["segments"]
    (chapters,) = root.findall(P + "chapters")
    assert chapters.get("type") == "application/json+chapters"
    assert [c["title"] for c in json.loads((out / chapters.get("url")).read_text())["chapters"]] == \
        [c.title for c in ep.chapters]
    persons = {p.text: p.get("role") for p in root.findall(P + "person")}
    # "Hi, I'm Alex, your host": the host by his own words; the others are then guests
    assert persons == {"Alex": "host", "Priya": "guest", "Sam": "guest"}
    bites = root.findall(P + "soundbite")
    assert SOUNDBITES_MIN <= len(bites) <= SOUNDBITES_MAX
    quotes = ep.summaries["episode"].quotes
    for b in bites:
        start, duration = float(b.get("startTime")), float(b.get("duration"))
        assert SOUNDBITE_MIN_S <= duration <= SOUNDBITE_MAX_S
        assert 0 <= start and start + duration <= ep.duration + 0.01
        # around one of the summary's quotes, titled with it
        assert any(q.text == b.text and start <= q.start + 0.01 and q.end <= start + duration + 0.01 for q in quotes)
    # inside an RSS item, feedparser reads the namespace and the elements
    import feedparser

    item = (out / "feed_tags.xml").read_text(encoding="utf-8").split("?>", 1)[1]
    item = re.sub(r"<!--.*?-->", "", item).replace(f' xmlns:podcast="{NS}"', "")
    feed = feedparser.parse(f'<?xml version="1.0"?><rss version="2.0" xmlns:podcast="{NS}"><channel><title>S</title>'
                            f"{item}</channel></rss>")
    assert not feed.bozo and feed.namespaces["podcast"] == NS
    assert feed.entries[0]["podcast_transcript"]["url"] in {t.get("url") for t in transcripts}


def test_publish_base_url_and_its_bad_values(folder):
    before = snapshot(folder)
    for bad in ("ftp://cdn.example.com/x/", "cdn.example.com/x", "javascript:alert(1)", "https://",
                "https://cdn.example.com/a b/", 'https://cdn.example.com/"><x/>'):
        res = run("render", folder / "episode.json", "--publish-base-url", bad)
        assert res.exit_code != 0 and "--publish-base-url" in res.output and len(res.output.splitlines()) == 1
        assert snapshot(folder) == before
    res = run("render", folder / "episode.json", "-t", "feed_tags.xml", "--publish-base-url",
              "https://cdn.example.com/show/ep%2012")
    assert res.exit_code == 0, res.output
    urls = [el.get("url") for el in _tags(folder / "feed_tags.xml") if el.get("url")]
    assert urls and all(u.startswith("https://cdn.example.com/show/ep%2012/") for u in urls)
    # kept for the next render, which is given no URL
    assert run("render", folder / "episode.json", "-t", "feed_tags.xml").exit_code == 0
    assert [el.get("url") for el in _tags(folder / "feed_tags.xml") if el.get("url")] == urls


def test_hostile_names_stay_text_in_the_tags(folder):
    ep = Episode.load(folder / "episode.json")
    evil = 'Eve"/><podcast:person role="host">Mallory</podcast:person><x a="\x1b[2J'
    ep = ep.model_copy(update={"speakers": [ep.speakers[0].model_copy(update={"name": evil}), *ep.speakers[1:]]})
    ep.save(folder / "episode.json")
    assert run("render", folder / "episode.json", "-t", "feed_tags.xml").exit_code == 0
    persons = [p.text for p in _tags(folder / "feed_tags.xml").findall(P + "person")]
    assert evil.replace("\x1b", "") in persons and "Mallory" not in persons


# -- podtools fix ------------------------------------------------------------------------------


def test_fix_corrects_every_file_and_keeps_word_times(folder):
    ep = Episode.load(folder / "episode.json")
    # a two-word phrase of the real transcript (whatever the ASR heard), replaced by a name the
    # mentions catalog knows
    seg_i, seg = next((i, s) for i, s in enumerate(ep.segments) if len(s.words) >= 6 and i > 2)
    w1, w2 = seg.words[2], seg.words[3]
    phrase = f"{w1.text.strip(' ,.?!')} {w2.text.strip(' ,.?!')}"
    assert not any("anthropic" in s.text.lower() for s in ep.segments)
    res = run("fix", folder, "--replace", f"{phrase.upper()}=Anthropic")  # any case matches
    assert res.exit_code == 0, res.output
    fixed = Episode.load(folder / "episode.json")
    new = fixed.segments[seg_i]
    assert "Anthropic" in new.text and phrase.lower() not in new.text.lower()
    (word,) = [w for w in new.words if w.text.strip(" ,.?!") == "Anthropic"]
    assert (word.start, word.end) == (w1.start, w2.end)  # the times of the words it replaced
    assert [(w.start, w.end) for w in new.words if w is not word] == \
        [(w.start, w.end) for w in seg.words if w not in (w1, w2)]
    assert [s.text for i, s in enumerate(fixed.segments) if i != seg_i] == \
        [s.text for i, s in enumerate(ep.segments) if i != seg_i]
    # every file says it: the mentions found again, captions, the Podcasting 2.0 transcript
    mentions = json.loads((folder / "mentions.json").read_text())
    found = [m for m in mentions["mentions"] if m["canonical"] == "Anthropic"]
    assert found and abs(found[0]["start"] - w1.start) < 1.0
    assert "Anthropic" in " ".join(c.content for c in srt.parse((folder / "transcript.srt").read_text()))
    assert "Anthropic" in " ".join(c.text for c in webvtt.read(folder / "transcript.vtt"))
    assert "Anthropic" in " ".join(s["body"] for s in json.loads((folder / "transcript.json").read_text())["segments"])
    assert "Anthropic" in (folder / "transcript.md").read_text()
    assert "Anthropic" in (folder / "episode.html").read_text()
    # kept in the folder, for re-runs
    import tomllib

    kept = tomllib.loads((folder / "episode.toml").read_text())
    assert kept["replace"] == {phrase.upper(): "Anthropic"}


def test_fix_corrections_file_and_summaries(folder, tmp_path):
    ep = Episode.load(folder / "episode.json")
    quote = ep.summaries["episode"].quotes[0].text
    target = next(w.strip(",.?!") for w in quote.split() if len(w.strip(",.?!")) > 5)
    corrections = tmp_path / "fixes.txt"
    corrections.write_text(f"# hosts' list\n{target} -> Zyzzyva\n\n", encoding="utf-8")
    res = run("fix", folder, "--corrections", corrections)
    assert res.exit_code == 0, res.output
    fixed = Episode.load(folder / "episode.json")
    assert "Zyzzyva" in fixed.summaries["episode"].quotes[0].text
    assert "Zyzzyva" in (folder / "summary.md").read_text() and "Zyzzyva" in (folder / "show_notes.md").read_text()
    assert not re.search(rf"\b{re.escape(target)}\b", (folder / "transcript.txt").read_text(), re.IGNORECASE)


@pytest.mark.parametrize("args, message", [
    (["--replace", "Alex=Alex"], "changes nothing"),
    (["--replace", "Ale=Alexa"], "only found inside words"),
    (["--replace", "Quetzalcoatl=Anthropic"], "not in the transcript"),
    (["--replace", "no equals sign"], "WRONG=RIGHT"),
    (["--replace", "=Anthropic"], "WRONG=RIGHT"),
    ([], "no corrections given"),
])
def test_fix_refuses_bad_corrections(folder, args, message):
    before = snapshot(folder)
    res = run("fix", folder, *args)
    assert res.exit_code != 0 and message in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert snapshot(folder) == before  # nothing written


def test_fix_bad_files(folder, tmp_path):
    bad = tmp_path / "fixes.txt"
    bad.write_text("Alex=Alexander\njust words\n", encoding="utf-8")
    res = run("fix", folder, "--corrections", bad)
    assert res.exit_code != 0 and "line 2" in res.output and "fixes.txt" in res.output
    res = run("fix", tmp_path / "nowhere", "--replace", "a=b")
    assert res.exit_code != 0 and "episode.json" in res.output
    (folder / "episode.toml").write_text("[replace\n", encoding="utf-8")
    res = run("fix", folder, "--replace", "Alex=Alexander")
    assert res.exit_code != 0 and "episode.toml" in res.output and "TOML" in res.output


# -- podtools speakers -------------------------------------------------------------------------


def test_speakers_rename_merge_role(folder):
    ep = Episode.load(folder / "episode.json")
    ids = {sp.name: sp.id for sp in ep.speakers}
    res = run("speakers", folder, "--merge", f"{ids['Sam']}={ids['Priya']}", "--rename", "Priya=Priya Natarajan",
              "--role", "Alex=host")
    assert res.exit_code == 0, res.output
    fixed = Episode.load(folder / "episode.json")
    assert {sp.id: sp.name for sp in fixed.speakers} == {ids["Alex"]: "Alex", ids["Priya"]: "Priya Natarajan"}
    gone = ids["Sam"]
    assert all(s.speaker != gone and all(w.speaker != gone for w in s.words) for s in fixed.segments)
    assert all(t.speaker != gone for t in fixed.turns)
    merged = next(sp for sp in fixed.speakers if sp.id == ids["Priya"])
    assert merged.talk_time == pytest.approx(sum(sp.talk_time for sp in ep.speakers if sp.name in ("Sam", "Priya")),
                                             abs=0.01)
    # the files: RTTM, VTT voices, Podcasting 2.0 transcript and persons with roles
    rttm = {line.split()[7] for line in (folder / "speakers.rttm").read_text().splitlines() if line.strip()}
    assert rttm == {"Alex", "Priya_Natarajan"}  # README: names where known, spaces as _
    voices = set(re.findall(r"<v ([^>]+)>", (folder / "transcript.vtt").read_text()))
    assert voices == {"Alex", "Priya Natarajan"}
    speakers = {s["speaker"] for s in json.loads((folder / "transcript.json").read_text())["segments"]}
    assert speakers == {"Alex", "Priya Natarajan"}
    persons = {p.text: p.get("role") for p in _tags(folder / "feed_tags.xml").findall(P + "person")}
    assert persons == {"Alex": "host", "Priya Natarajan": "guest"}


@pytest.mark.parametrize("args, message", [
    (["--rename", "SPEAKER_00=Priya"], "--merge"),
    (["--merge", "SPEAKER_01=SPEAKER_01"], "into itself"),
    (["--rename", "SPEAKER_09=Zed"], "no speaker 'SPEAKER_09'"),
    (["--role", "SPEAKER_00=emperor"], "unknown role"),
    (["--rename", "SPEAKER_00"], "SPEAKER=VALUE"),
    ([], "nothing to do"),
])
def test_speakers_refuses(folder, args, message):
    before = snapshot(folder)
    res = run("speakers", folder, *args)
    assert res.exit_code != 0 and message in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1
    assert snapshot(folder) == before


def test_rename_enrolls_the_voice(folder, tmp_path, sample_mp3):
    voices = tmp_path / "voices"
    res = run("speakers", folder, "--rename", "Sam=Samuel Okafor", "--enroll", "--voices", voices)
    assert res.exit_code == 0, res.output
    listed = json.loads(run("voices", "list", "--voices", voices, "--json").output)
    assert [v["name"] for v in listed["voices"]] == ["Samuel Okafor"]
    # the next diarization of the show's audio names him from his voice
    out = tmp_path / "again"
    res = run("diarize", sample_mp3, "-o", out, "--voices", voices, "--json")
    assert res.exit_code == 0, res.output
    named = {sp["name"]: sp.get("name_source") for sp in Episode.load(out / "episode.json").model_dump()["speakers"]}
    assert named.get("Samuel Okafor") == "matched"


# -- a re-run keeps the fixes ------------------------------------------------------------------


def test_reingest_reapplies_the_corrections(folder, sample_mp3, embedded_model):
    from podtools.pipeline import ingest

    ep = Episode.load(folder / "episode.json")
    ids = {sp.name: sp.id for sp in ep.speakers}
    assert run("fix", folder, "--replace", "Alex=Alexei").exit_code == 0
    assert run("speakers", folder, "--rename", f"{ids['Sam']}=Samuel", "--role", "Alexei=host").exit_code == 0
    result = ingest(str(sample_mp3), folder, model=embedded_model, progress=NoteList())
    again = result.episode
    assert "Alexei" in again.text and not re.search(r"\bAlex\b", again.text)
    assert {sp.name for sp in again.speakers} >= {"Samuel"}
    assert "Alexei" in (folder / "transcript.md").read_text() and "Samuel" in (folder / "transcript.md").read_text()
    persons = {p.text: p.get("role") for p in _tags(folder / "feed_tags.xml").findall(P + "person")}
    assert persons.get("Samuel") == "guest" and "host" in persons.values()
    assert {p.name for p in folder.iterdir()} == INGEST_FILES | {"episode.toml"}


@pytest.mark.parametrize("lines, roles", [
    ([("A", "Hi, I'm Alex, your host, and welcome."), ("B", "Thanks Alex, I'm Priya.")], {"A": "host"}),
    ([("A", "Welcome back. This is your co-host Priya and with me is Sam."), ("B", "Hello!")], {"A": "co-host"}),
    ([("A", "I am your host today."), ("B", "And I'm your host too, Sam.")], {}),  # claimed twice: unknown
    ([("A", "Our host is away, so Sam and I will talk."), ("B", "Yes, your host said hi.")], {}),  # not self
    ([("A", "Hello."), ("B", "I'm really glad to be here with your host.")], {}),  # a guest, about the host
])
def test_host_role_from_the_speakers_own_words(lines, roles):
    from podtools.diarize.names import infer_roles
    from podtools.models import Segment, Speaker

    segs = [Segment(start=i * 5.0, end=i * 5.0 + 4, text=t, speaker=s) for i, (s, t) in enumerate(lines)]
    ep = Episode(id="x", source="x", duration=20, segments=segs, speakers=[Speaker(id="A"), Speaker(id="B")])
    assert infer_roles(ep) == roles


# -- an edited transcript.md read back ---------------------------------------------------------


def test_render_from_an_edited_transcript(folder):
    ep = Episode.load(folder / "episode.json")
    md = (folder / "transcript.md").read_text(encoding="utf-8")
    lines = md.splitlines()
    stamped = [i for i, line in enumerate(lines) if re.match(r"\[\d\d:\d\d:\d\d\] \*\*", line)]
    # 1. a word replaced and a word inserted in the fourth paragraph
    k = stamped[3]
    head, text = lines[k].split(":** ", 1)
    toks = text.split()
    old_word = toks[1]
    lines[k] = f"{head}:** {toks[0]} Anthropic {' '.join(toks[2:])} indeed"
    # 2. one speaker renamed in every paragraph; 3. a chapter title changed
    sam = next(sp for sp in ep.speakers if sp.name == "Sam")
    lines = [line.replace("**Sam:**", "**Samuel Okafor:**") for line in lines]
    heading = next(i for i, line in enumerate(lines) if line.startswith("## ["))
    lines[heading] = re.sub(r"\] .*", "] Cold open", lines[heading])
    # 4. a line removed, and one whose time no paragraph has
    removed = stamped[-1]
    bogus = "[01:59:00] **Alex:** This was never said."
    lines = [line for i, line in enumerate(lines) if i != removed] + [bogus]
    edited = folder / "transcript.md"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept_copy = edited.read_bytes()
    res = run("render", folder / "episode.json", "--from", edited)
    assert res.exit_code == 0, res.output
    assert "01:59:00" in res.output and "1 paragraph not in the edited file kept" in res.output
    assert (folder / "transcript.edited.md").read_bytes() == kept_copy  # what could not be used is not lost
    after = Episode.load(folder / "episode.json")
    # the edited paragraph: new words, and the times of the words around them kept
    from podtools.outputs.views import paragraphs

    para = paragraphs(ep)[3]
    old_words = [w for i in para.segments for w in ep.segments[i].words]
    new_words = [w for s in after.segments if para.start - 0.01 <= s.start <= para.end for w in s.words]
    assert [w.text.strip() for w in new_words][:3] == [toks[0], "Anthropic", toks[2]]
    assert new_words[-1].text.strip() == "indeed"
    assert (new_words[1].start, new_words[1].end) == (old_words[1].start, old_words[1].end)  # took old_word's time
    assert [(w.start, w.end) for w in new_words[2:-1]] == [(w.start, w.end) for w in old_words[2:]]
    assert old_word not in [w.text.strip() for w in new_words[1:2]]
    # the other paragraphs are as they were, word for word and time for time
    untouched = [s for s in ep.segments if s.start < para.start - 0.01 or s.start > para.end]
    assert [(s.text, [(w.start, w.end) for w in s.words]) for s in after.segments
            if s.start < para.start - 0.01 or s.start > para.end] == \
        [(s.text, [(w.start, w.end) for w in s.words]) for s in untouched]
    assert next(sp.name for sp in after.speakers if sp.id == sam.id) == "Samuel Okafor"
    assert after.chapters[0].title == "Cold open"
    # every file follows
    assert any(m.canonical == "Anthropic" for m in after.mentions)
    assert "Cold open" in (folder / "chapters.json").read_text()
    assert "Samuel Okafor" in {p.text for p in _tags(folder / "feed_tags.xml").findall(P + "person")}
    assert "Anthropic" in " ".join(c.text for c in webvtt.read(folder / "transcript.vtt"))
    assert "This was never said" not in (folder / "transcript.md").read_text()


def test_render_from_a_reordered_or_foreign_transcript(folder, tmp_path):
    md = (folder / "transcript.md").read_text(encoding="utf-8").splitlines()
    stamped = [i for i, line in enumerate(md) if re.match(r"\[\d\d:\d\d:\d\d\] ", line)]
    a, b = stamped[1], stamped[2]
    md[a], md[b] = md[b], md[a]
    swapped = tmp_path / "swapped.md"
    swapped.write_text("\n".join(md) + "\n", encoding="utf-8")
    res = run("render", folder / "episode.json", "--from", swapped)
    assert res.exit_code == 0, res.output
    assert "out of order" in res.output
    before = snapshot(folder)
    foreign = tmp_path / "other.md"
    foreign.write_text("# Other show\n\n[02:00:00] **Zed:** Nothing of this episode.\n", encoding="utf-8")
    res = run("render", folder / "episode.json", "--from", foreign)
    assert res.exit_code != 0 and "matches the episode" in res.output and len(res.output.strip().splitlines()) == 1
    assert snapshot(folder) == before
    res = run("render", folder / "episode.json", "--from", tmp_path / "missing.md")
    assert res.exit_code != 0 and "missing.md" in res.output


# -- captions flags, word-highlight WebVTT, vocabulary -----------------------------------------


def _vtt_secs(stamp: str) -> float:
    h, m, sec = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def test_karaoke_vtt_highlights_each_word(sample_ingest, tmp_path):
    import subprocess

    result, out = sample_ingest
    ep = result.episode
    plain = list(webvtt.read(out / "transcript.vtt"))
    karaoke = list(webvtt.read(out / "transcript.karaoke.vtt"))
    assert [(c.start, c.end) for c in karaoke] == [(c.start, c.end) for c in plain]
    starts = {round(w.start, 3) for s in ep.segments for w in s.words}
    tagged = 0
    for k, p in zip(karaoke, plain):
        raw = k.raw_text if hasattr(k, "raw_text") else k.text
        stamps = [_vtt_secs(t) for t in re.findall(r"<(\d\d:\d\d:\d\d\.\d\d\d)>", raw)]
        # WebVTT: each timestamp inside the cue, after the cue start and the previous timestamp
        assert all(_vtt_secs(k.start) < t < _vtt_secs(k.end) for t in stamps)
        assert stamps == sorted(set(stamps))
        assert all(round(t, 3) in starts for t in stamps)  # a word's own start time
        tagged += len(stamps)
        # the same words as the plain captions once the tags are gone
        assert re.sub(r"<[^>]+>", "", raw).split() == re.sub(r"<[^>]+>", "", p.raw_text if hasattr(p, "raw_text")
                                                              else p.text).split()
        assert all(re.fullmatch(r"(<v [^>]+>)?(<\d[\d:.]+>)?<c>[^<]+</c>", tok) or re.fullmatch(r"<v", tok) or
                   tok.endswith(">") for tok in raw.split())
    n_words = sum(len(s.words) for s in ep.segments)
    assert tagged >= 0.9 * (n_words - len(karaoke))  # every word after a cue's first, but for equal times
    probe = subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(out / "transcript.karaoke.vtt"),
                            str(tmp_path / "k.srt")], capture_output=True, text=True)
    assert probe.returncode == 0 and probe.stderr == ""  # ffmpeg reads it as WebVTT


def test_caption_flags_shape_the_cues_and_are_kept(sample_mp3, tmp_path):
    out = tmp_path / "ep"
    res = run("transcribe", sample_mp3, "-o", out, "--caption-chars", "42", "--caption-lines", "1", "-q")
    assert res.exit_code == 0, res.output
    cues = list(srt.parse((out / "transcript.srt").read_text()))
    lines = [line for c in cues for line in c.content.splitlines()]
    assert all(len(c.content.splitlines()) == 1 for c in cues)
    assert all(len(line) <= 42 for line in lines) and max(len(line) for line in lines) > 32  # not the default 32
    vtt = list(webvtt.read(out / "transcript.vtt"))
    assert all(len(c.text.splitlines()) == 1 and len(c.text) <= 42 for c in vtt)
    ep = Episode.load(out / "episode.json")
    assert words(" ".join(c.content for c in cues).replace("Alex:", "").replace("Priya:", "").replace(
        "Sam:", "")) == words(ep.text)
    # a later render keeps the shape the episode was made with
    before = (out / "transcript.srt").read_text()
    (out / "transcript.srt").unlink()
    assert run("render", out / "episode.json", "-t", "transcript.srt").exit_code == 0
    assert (out / "transcript.srt").read_text() == before
    bad = run("transcribe", sample_mp3, "-o", tmp_path / "bad", "--caption-chars", "5")
    assert bad.exit_code != 0 and "--caption-chars" in bad.output


def test_vocabulary_reaches_whisper_and_mentions(sample_mp3, sample_script, tmp_path):
    spoken = " ".join(t["spoken"] for t in sample_script["turns"])
    out = tmp_path / "ep"
    res = run("transcribe", sample_mp3, "-o", out, "--vocab", "Priya, Weights & Biases", "-q")
    assert res.exit_code == 0, res.output
    ep = Episode.load(out / "episode.json")
    prompt = ep.provenance["transcribe"].settings["initial_prompt"]
    assert prompt.endswith("Names: Priya, Weights & Biases.")  # after the catalog's names: it weighs most
    # every "Priya" said is written so (tiny.en alone heard one of them as "Preya")
    assert ep.text.count("Priya") == spoken.count("Priya")
    # mentions: the vocabulary's names, as written only ("weights and biases" are words)
    text = tmp_path / "t.md"
    text.write_text("[00:00:01] **Alex:** Priya joined Weights & Biases, and the weights and biases moved.\n",
                    encoding="utf-8")
    res = run("mentions", text, "--vocab", "Priya, Weights & Biases", "-o", tmp_path / "m", "--json")
    assert res.exit_code == 0, res.output
    found = json.loads((tmp_path / "m" / "mentions.json").read_text())["mentions"]
    assert sorted((m["canonical"], m["kind"]) for m in found) == [("Priya", "name"), ("Weights & Biases", "name")]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    res = run("transcribe", sample_mp3, "-o", tmp_path / "x", "--vocab-file", empty)
    assert res.exit_code != 0 and "no names" in res.output and "empty.txt" in res.output


# -- the episode page plays the episode --------------------------------------------------------


@pytest.mark.skipif(__import__("cdp").CHROMIUM is None, reason="needs chromium (README's test command installs it)")
def test_episode_page_plays_and_seeks(folder, tmp_path):
    from cdp import Browser

    from conftest import SAMPLES

    res = run("chapters", folder / "episode.json", "--chapters", SAMPLES / "chapters.txt", "-q")
    assert res.exit_code == 0, res.output
    ep = Episode.load(folder / "episode.json")
    # a transcript line that tries to run a script of its own
    segs = list(ep.segments)
    segs[2] = segs[2].model_copy(update={"text": segs[2].text + " <script>document.title='PWNED'</script>"})
    ep = ep.model_copy(update={"segments": segs})
    ep.save(folder / "episode.json")
    assert run("render", folder / "episode.json", "-t", "episode.html").exit_code == 0
    browser = Browser(tmp_path / "profile")
    try:
        browser.open((folder / "episode.html").as_uri())
        # the real audio loaded through the page's relative link
        duration = browser.wait_for("(function(){var a=document.getElementById('player');"
                                    "if(a.readyState<1){a.load();return 0}return a.duration})()")
        assert duration == pytest.approx(ep.duration, abs=0.5)
        assert browser.evaluate("document.title") == ep.title  # the transcript's script did not run
        assert browser.evaluate("document.scripts.length") == 1
        # click the last chapter in the navigation: the player seeks to its start and plays
        chapters = sorted(ep.chapters, key=lambda c: c.start)
        assert len(chapters) >= 2
        chapter = chapters[-1]
        browser.evaluate(f"document.querySelectorAll('#chapter-nav a')[{len(chapters) - 1}].click()")
        t = browser.wait_for(f"(function(){{var a=document.getElementById('player');"
                             f"return a.currentTime >= {chapter.start - 0.05} && a.currentTime;}})()", timeout=20)
        assert chapter.start - 0.05 <= t < chapter.start + 3.0
        browser.wait_for("!document.getElementById('player').paused", timeout=10)
        # the paragraph being played is highlighted: the last one starting at or before the time
        now = browser.wait_for("(function(){var p=document.querySelector('.para.now');"
                               "return p && [parseFloat(p.dataset.t), document.getElementById('player').currentTime,"
                               " document.querySelectorAll('.para.now').length]})()")
        starts = sorted(float(x) for x in browser.evaluate(
            "Array.prototype.map.call(document.querySelectorAll('.para'), function(p){return p.dataset.t})"))
        start, current, count = now
        assert count == 1 and start <= current + 0.1
        assert start == max(s for s in starts if s <= current + 0.1)
        # a model's "first at" time in the mentions table seeks back there
        firsts = {}
        for m in ep.mentions:
            if m.known:
                firsts[m.canonical] = min(firsts.get(m.canonical, m.start), m.start)
        first = min(firsts.values())
        assert first < chapter.start
        clicked = browser.evaluate(
            f"(function(){{var e=Array.prototype.filter.call(document.querySelectorAll('.mentions .seek'),"
            f"function(e){{return Math.abs(parseFloat(e.dataset.t)-{first})<0.01}})[0];"
            f"if(!e) return false; e.click(); return true}})()")
        assert clicked
        t = browser.wait_for(f"(function(){{var a=document.getElementById('player');"
                             f"return a.currentTime < {chapter.start} && a.currentTime}})()", timeout=20)
        assert first - 0.05 <= t < first + 3.0
        assert "PWNED" not in browser.evaluate("document.title")
    finally:
        browser.close()


def test_an_unedited_transcript_reads_back_unchanged(folder):
    """Unnamed speakers (SPEAKER_01) and names with brackets survive transcript.md and back."""
    ep = Episode.load(folder / "episode.json")
    speakers = [ep.speakers[0].model_copy(update={"name": None, "name_source": None}),
                ep.speakers[1].model_copy(update={"name": "Priya [guest]"}), *ep.speakers[2:]]
    ep = ep.model_copy(update={"speakers": speakers})
    ep.save(folder / "episode.json")
    assert run("render", folder / "episode.json", "-t", "transcript.md").exit_code == 0
    assert "**SPEAKER_00:**" in (folder / "transcript.md").read_text()
    res = run("render", folder / "episode.json", "--from", folder / "transcript.md")
    assert res.exit_code == 0, res.output
    assert "left out" not in res.output and "kept as they were" not in res.output
    back = Episode.load(folder / "episode.json")
    assert [(s.text, s.speaker, [(w.text, w.start, w.end) for w in s.words]) for s in back.segments] == \
        [(s.text, s.speaker, [(w.text, w.start, w.end) for w in s.words]) for s in ep.segments]
    assert [(s.id, s.name) for s in back.speakers] == [(s.id, s.name) for s in ep.speakers]
    assert not (folder / "transcript.edited.md").exists()


def test_two_matches_in_one_word_keep_text_and_words_together():
    from podtools.edits import apply_replacements
    from podtools.models import Segment, Word

    seg = Segment(start=0, end=2, text="foo-foo bar foo", words=[
        Word(start=0, end=1, text=" foo-foo"), Word(start=1, end=1.5, text=" bar"), Word(start=1.5, end=2, text=" foo")])
    ep = Episode(id="x", source="x", duration=2, segments=[seg])
    fixed, counts = apply_replacements(ep, [("foo", "baz")])
    new = fixed.segments[0]
    assert new.text == "baz-baz bar baz" and counts == {"foo": 3}
    assert "".join(w.text for w in new.words) == " baz-baz bar baz"
    assert [(w.start, w.end) for w in new.words] == [(0, 1), (1, 1.5), (1.5, 2)]


def test_corrections_order_and_conflicts(folder):
    ep = Episode.load(folder / "episode.json")
    seg = next(s for s in ep.segments if len(s.words) > 6)
    a, b = seg.words[1].text.strip(" ,.?!"), seg.words[4].text.strip(" ,.?!")
    res = run("fix", folder, "--replace", f"{a}=Zeta", "--replace", f"{a}=Eta")
    assert res.exit_code != 0 and "given twice" in res.output
    assert run("fix", folder, "--replace", f"{a}=Zeta").exit_code == 0
    assert run("fix", folder, "--replace", f"{b}=Theta").exit_code == 0
    assert run("fix", folder, "--replace", "Zeta=Iota").exit_code == 0
    import tomllib

    kept = tomllib.loads((folder / "episode.toml").read_text())["replace"]
    assert list(kept.items()) == [(a, "Zeta"), (b, "Theta"), ("Zeta", "Iota")]  # the order they apply in


@pytest.mark.parametrize("toml, message", [
    ('[replace]\n"" = "Anthropic"\n', "both sides"),
    ('[speakers.role]\nSPEAKER_00 = "presenter"\n', "unknown role"),
    ('[publish]\nbase_url = "ftp://x/"\n', "--publish-base-url"),
    ('[captions]\nchars = 3\n', "[captions] chars"),
])
def test_a_hand_edited_episode_toml_is_checked_first(folder, toml, message):
    (folder / "episode.toml").write_text(toml, encoding="utf-8")
    before = snapshot(folder)
    res = run("fix", folder, "--replace", "Alex=Alexander")
    assert res.exit_code != 0 and message in res.output and "episode.toml" in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1 and snapshot(folder) == before
