"""The summarize stage: extractive and LLM map-reduce (real HTTP to tests/openai_server.py), CLI."""

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from openai_server import ScriptedServer, transcript_lines
from podtools import __version__
from podtools.cli import cli
from podtools.errors import ConfigError
from podtools.llm import LLMSettings
from podtools.models import Episode, Segment
from podtools.summarize import (
    Line,
    SummarizeOptions,
    categories,
    chunk_lines,
    match_quote,
    render_prompt,
    summarize,
)
from summary_data import long_episode, script_episode

CATEGORY_NAMES = {c.name for c in categories()}


@pytest.fixture(scope="module")
def episode(sample_script) -> Episode:
    return script_episode(sample_script)


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def srv(server, monkeypatch, tmp_path):
    server.reset()
    server.key = None
    server.reject_json_schema = False
    server.html_everything = False
    monkeypatch.setenv("PODTOOLS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PODTOOLS_CONFIG", str(tmp_path / "config.toml"))
    (tmp_path / "config.toml").write_text("")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PODTOOLS_LLM_MODEL", "PODTOOLS_LLM_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return server


def llm(srv, **kw) -> LLMSettings:
    base = dict(model="test-model", base_url=srv.url, backoff=0.01, timeout=5.0, context_tokens=4000,
                max_output_tokens=300)
    base.update(kw)
    return LLMSettings(**base)


def map_requests(srv) -> list[dict]:
    return [r for r in srv.chat_requests if "Transcript:" in r["body"]["messages"][-1]["content"]]


# -- extractive ---------------------------------------------------------------------------------------


def test_extractive_structure_and_references(episode):
    r = summarize(episode)
    ep = r.episode
    s = ep.summaries["episode"]
    assert r.method == "extractive" and s.method == "extractive" and s.model is None
    assert len(r.notes) == 1 and "no LLM configured" in r.notes[0]
    assert s.text and 1 <= len(s.tldr) <= 6 and s.takeaways and s.quotes
    assert s.bullets == [b.text for b in s.tldr]
    for b in s.tldr + s.takeaways:
        seg = ep.segments[b.segment]
        assert b.start == seg.start and b.text in seg.text  # sentences from the transcript, times from it
    assert all(b.category in CATEGORY_NAMES for b in s.tldr)
    assert any(b.category == "Open-source LLMs" for b in s.tldr if "Llama" in b.text or "open model" in b.text)
    for q in s.quotes:
        seg = ep.segments[q.segment]
        assert q.text in seg.text and q.speaker == seg.speaker and q.start == seg.start
    assert not any(t.text.endswith("?") or t.text.startswith(("Hi,", "Thanks for having")) for t in s.tldr)
    for i, ch in enumerate(ep.chapters):
        cs = ep.summaries[f"chapter-{i}"]
        assert ch.summary and cs.text == ch.summary and cs.method == "extractive"
        assert cs.title == ch.title and cs.start == ch.start
        for b in cs.key_points:
            assert ch.start - 1e-6 <= b.start < ch.end and b.chapter == i
    assert ep.provenance["summarize"].model == "extractive"
    assert episode.summaries == {}  # the input is not modified


def test_empty_transcript(episode):
    ep = episode.model_copy(update={"segments": [], "chapters": []})
    r = summarize(ep)
    assert r.method == "none" and r.episode.summaries == {} and "empty" in r.notes[0]


# -- LLM map-reduce ------------------------------------------------------------------------------------


def test_map_reduce_covers_every_line_once_and_cites_ids(episode, srv):
    r = summarize(episode, SummarizeOptions(chunk_tokens=60), llm(srv, context_tokens=1700, max_output_tokens=200))
    ep = r.episode
    seen = [i for req in map_requests(srv) for i, _, _ in transcript_lines(req["body"])]
    assert sorted(seen) == list(range(len(episode.segments)))  # nothing dropped, nothing twice
    names = [rec.name for rec in r.usage.records]
    assert any("part 2/" in n for n in names) and any(n.endswith("merge") for n in names)
    assert names.count("episode summary") == 1
    for req in srv.chat_requests:  # the model never sees a timestamp
        assert not re.search(r"\b\d{1,2}:\d\d\b", req["body"]["messages"][-1]["content"])
    s = ep.summaries["episode"]
    assert s.method == "llm" and s.model == "test-model" and s.text.startswith("Scripted summary")
    assert s.tldr and all(b.start == ep.segments[b.segment].start for b in s.tldr)
    assert all(b.category in CATEGORY_NAMES for b in s.tldr)
    for q in s.quotes + [q for k, v in ep.summaries.items() if k != "episode" for q in v.quotes]:
        assert q.text in ep.segments[q.segment].text or q.text in ep.segments[q.segment].text.replace("  ", " ")
        assert q.speaker == ep.segments[q.segment].speaker
    assert all(ep.summaries[f"chapter-{i}"].method == "llm" for i in range(len(ep.chapters)))
    assert ep.provenance["summarize"].settings["usage"]["calls"] == r.usage.calls
    assert r.notes[-1].startswith("LLM test-model: ")

    n = len(srv.chat_requests)
    again = summarize(episode, SummarizeOptions(chunk_tokens=60), llm(srv, context_tokens=1700, max_output_tokens=200))
    assert len(srv.chat_requests) == n  # a re-run costs nothing
    assert again.usage.calls == 0 and again.usage.cache_hits == len(again.usage.records)
    assert again.episode.summaries == ep.summaries


def test_reduce_in_levels_when_chapters_do_not_fit(srv):
    ep = long_episode(minutes=24, chapters=12)
    r = summarize(ep, SummarizeOptions(chapter_words=60), llm(srv, context_tokens=1800, max_output_tokens=220))
    names = [rec.name for rec in r.usage.records]
    assert any(n.startswith("episode group") for n in names), names
    assert r.episode.summaries["episode"].method == "llm"
    assert len([k for k in r.episode.summaries if k.startswith("chapter-")]) == 12


def test_invalid_ids_repaired_once_then_extractive_for_that_chunk(episode, srv):
    bad = json.dumps({"title": "t", "summary": "s", "key_points": [{"text": "x", "segment": 999}], "quotes": []})
    srv.push({"content": bad}, {"content": bad})
    r = summarize(episode, llm_settings=llm(srv, concurrency=1))
    first = r.episode.summaries["chapter-0"]
    assert first.method == "extractive" and "invalid answer for chapter 1 twice" in first.details["fallback"]
    assert any(n.startswith("chapter 1: ") and "extractive" in n for n in r.notes)
    repair = srv.chat_requests[1]["body"]["messages"][-1]["content"]
    assert "999 is not one of the [id]s" in repair
    assert all(r.episode.summaries[f"chapter-{i}"].method == "llm" for i in (1, 2, 3))


GERMAN_ANSWER = json.dumps({
    "title": "Offene Modelle",
    "summary": "Sam erklärt, dass Llama 3.1 das bisher größte offene Modell ist, mit 405 Milliarden Parametern, "
               "und Priya sagt, dass es auf MMLU fast so gut abschneidet wie die geschlossenen Modelle.",
    "key_points": [{"text": "Die Lücke zwischen offenen und geschlossenen Modellen wird kleiner.", "segment": 3}],
    "quotes": []}, ensure_ascii=False)


def test_an_answer_in_another_language_is_repaired_then_refused(episode, srv):
    """English asked, German written (a small model does that): the answer is sent back once
    saying so; German again, and that chapter is extractive, with the reason."""
    srv.push({}, {"content": GERMAN_ANSWER}, {})  # chapter 1 fine; chapter 2 in German, repaired in English
    r = summarize(episode, llm_settings=llm(srv, concurrency=1))
    assert all(s.method == "llm" and not s.details.get("fallback") for s in r.episode.summaries.values())
    repair = srv.chat_requests[2]["body"]["messages"][-1]["content"]
    assert "written in German (de), not in English as asked" in repair
    srv.reset()
    srv.push({}, {"content": GERMAN_ANSWER}, {"content": GERMAN_ANSWER})
    r = summarize(episode, llm_settings=llm(srv, concurrency=1, cache=False))
    second = r.episode.summaries["chapter-1"]
    assert second.method == "extractive" and "written in German (de)" in second.details["fallback"]
    # asked for German, the same answer is what was asked (and the test server's English ones are not)
    srv.reset()
    srv.push({}, {}, {"content": GERMAN_ANSWER})  # chapter 1 and its repair in English; chapter 2 in German
    r = summarize(episode, SummarizeOptions(language="de"), llm_settings=llm(srv, concurrency=1, cache=False))
    german = r.episode.summaries["chapter-1"]
    assert german.method == "llm" and german.text.startswith("Sam erklärt") and not german.details.get("fallback")
    assert "written in English (en), not in German" in r.episode.summaries["chapter-0"].details["fallback"]


def test_english_prose_full_of_model_names_is_english():
    """The language check on real English talk about AI (the annotated conversations of
    benchmarks/mentions_gold/talk, full of model names, numbers and fillers), in pieces the size of
    a key point to a summary: none is judged another language."""
    from podtools.summarize import LANGUAGE_CHECK_PROBABILITY, written_in

    talk = Path(__file__).resolve().parent.parent / "benchmarks" / "mentions_gold" / "talk"
    words = []
    for f in sorted(talk.glob("*.txt")):
        for line in f.read_text().splitlines():
            if ":" in line and not line.startswith("==="):
                words += re.sub(r"\[\[([^|\]]+)\|[^\]]*\]\]", r"\1", line.split(":", 1)[1]).split()
    judged = 0
    for size in (25, 40, 90):
        for i in range(0, len(words) - size, size):
            found = written_in(" ".join(words[i:i + size]))
            judged += 1
            assert found[0] == "en" or found[1] < LANGUAGE_CHECK_PROBABILITY, " ".join(words[i:i + size])
    assert judged > 500


def test_refused_episode_summary_falls_back_to_a_full_extractive_one(episode, srv):
    srv.push(*[{}] * len(episode.chapters), {"refusal": "I can't help with that."})
    r = summarize(episode, llm_settings=llm(srv, concurrency=1))
    s = r.episode.summaries["episode"]
    assert all(r.episode.summaries[f"chapter-{i}"].method == "llm" for i in range(len(episode.chapters)))
    assert "refused" in s.details["fallback"] and any(n.startswith("episode summary: ") for n in r.notes)
    assert len(s.text.split()) >= 20 and s.tldr and s.quotes  # every chapter's sentences, not none


def test_extractive_uses_spacy_sentences():
    from podtools.summarize import Extractor

    assert Extractor._nlp() is not None  # the en_core_web_sm package is installed: no silent regex fallback


def test_llm_titles_detected_chapters_only(episode, srv):
    given = [c.title for c in episode.chapters]
    detected = episode.model_copy(update={"chapters": [c.model_copy(update={"source": "detected"})
                                                       for c in episode.chapters]})
    r = summarize(detected, llm_settings=llm(srv))
    titles = [c.title for c in r.episode.chapters]
    assert all(t.startswith("Scripted") for t in titles) and titles != given
    assert [r.episode.summaries[f"chapter-{i}"].title for i in range(len(titles))] == titles
    assert [c.title for c in summarize(detected).episode.chapters] == given  # extractive: key-phrase titles stay
    assert [c.title for c in summarize(episode, llm_settings=llm(srv)).episode.chapters] == given


def test_no_chapters_gives_sections(sample_script, srv):
    ep = script_episode(sample_script, chapters=False, mentions=False)
    r = summarize(ep, llm_settings=llm(srv))
    assert "section-0" in r.episode.summaries and r.episode.summaries["section-0"].title.startswith("Scripted")
    assert summarize(ep).episode.summaries["episode"].method == "extractive"


def test_server_failing_midway_falls_back_part_by_part(episode, srv):
    """A server that fails one request (after its retry) costs that chapter only: it falls back,
    with the reason recorded and noted; the others are still the LLM's."""
    srv.push(*[{"status": 503}] * 2)  # chapter 1's request and its retry
    r = summarize(episode, llm_settings=llm(srv, max_retries=1, concurrency=1))
    s = r.episode.summaries
    assert s["chapter-0"].method == "extractive" and "HTTP 503" in s["chapter-0"].details["fallback"]
    assert all(s[f"chapter-{i}"].method == "llm" for i in range(1, len(episode.chapters)))
    assert r.method == "llm" and s["episode"].method == "llm"
    assert [n for n in r.notes if "HTTP 503" in n][0].startswith("chapter 1: ")


def test_answers_are_sized_to_what_the_prompt_asks(episode, srv):
    """README: each answer's max_tokens comes from what its prompt asks for, in words, with
    half as much again for a model that overshoots, under [llm] max_output_tokens: a chapter
    summary gets a few hundred tokens, not the ceiling, and a longer one asked gets more."""

    def sent(words: int, ceiling: int) -> dict[str, int]:
        srv.reset()
        summarize(episode, llm_settings=llm(srv, max_output_tokens=ceiling, concurrency=1, cache=False),
                  options=SummarizeOptions(chapter_words=words))
        out = {}
        for req in srv.chat_requests:
            prompt = req["body"]["messages"][-1]["content"]
            kind = "chapter" if "Chapter:" in prompt else "episode"
            out[kind] = req["body"].get("max_tokens") or req["body"]["max_completion_tokens"]
        return out

    short, longer, capped = sent(90, 4000), sent(180, 4000), sent(90, 200)
    # at least the words asked (title, summary, 2-4 key points, 0-2 quotes) at one token a word
    assert 1.5 * 90 <= short["chapter"] < 1000
    assert longer["chapter"] - short["chapter"] >= 1.5 * 90  # 90 more words asked, at >= 1 token a word
    assert short["episode"] > short["chapter"]  # summary, TL;DR, takeaways and quotes
    assert capped == {"chapter": 200, "episode": 200}  # never above the ceiling


def test_progress_by_phase_with_calls_and_tokens_per_second(episode, srv):
    """A bar per phase (chapters, then the episode), each saying how many calls are done and, once
    answers have come back, the model's tokens per second (README: "Progress")."""

    class Recorder:
        def __init__(self):
            self.events: list[tuple[str, object]] = []

        def stage(self, name, total=None):
            self.events.append(("stage", name))

        def advance(self, done):
            self.events.append(("advance", done))

        def status(self, text):
            self.events.append(("status", text))

        def note(self, message):
            self.events.append(("note", message))

    rec = Recorder()
    summarize(episode, llm_settings=llm(srv, concurrency=1, cache=False), progress=rec)
    stages = [v for k, v in rec.events if k == "stage"]
    assert stages == ["summarize", "summarize chapters", "summarize episode"]
    chapters = rec.events[rec.events.index(("stage", "summarize chapters")):rec.events.index(("stage", "summarize episode"))]
    statuses = [v for k, v in chapters if k == "status"]
    n = len(episode.chapters)
    assert statuses[0] == f"0/{n} calls"  # on screen before the first answer
    assert [s.split(",")[0] for s in statuses[1:]] == [f"{i}/{n} calls" for i in range(1, n + 1)]
    rate = re.fullmatch(r"\d+/\d+ calls, (\d+\.\d) tok/s", statuses[-1])
    assert rate and float(rate.group(1)) > 0
    advances = [v for k, v in chapters if k == "advance"]
    assert advances == sorted(advances) and advances[-1] == pytest.approx(episode.chapters[-1].end, abs=30)


def test_max_cost_refuses_to_start(episode, srv, tmp_path):
    prices = tmp_path / "prices.toml"
    prices.write_text('[models]\n"test-model" = { input = 50.0, output = 150.0 }\n')
    with pytest.raises(ConfigError, match=r"estimated LLM cost \$0\.\d+ \(5 calls.*above --max-cost \$0\.0100"):
        summarize(episode, llm_settings=llm(srv, prices=str(prices), max_cost=0.01))
    assert srv.chat_requests == []
    r = summarize(episode, llm_settings=llm(srv, prices=str(prices), max_cost=1.0))
    assert r.usage.cost is not None and 0 < r.usage.cost < 1.0


def test_context_too_small_is_a_clear_error(episode, srv):
    with pytest.raises(ConfigError, match="context of 600 tokens is too small"):
        summarize(episode, llm_settings=llm(srv, context_tokens=600))


# -- pieces ----------------------------------------------------------------------------------------------


def test_chunk_lines_never_drops_text():
    count = len  # 1 token per character keeps the arithmetic visible
    long_text = "[0] Alex: " + " ".join(f"w{i}" for i in range(400))
    lines = [Line(0, long_text, count(long_text))] + [Line(i, f"[{i}] Sam: short line {i}", 20) for i in range(1, 30)]
    chunks = chunk_lines(lines, 300, count)
    assert all(sum(ln.tokens + 1 for ln in c) <= 300 + 1 for c in chunks)
    zero = [ln.text for c in chunks for ln in c if ln.segment == 0]
    assert len(zero) > 1 and all(t.startswith("[0] ") for t in zero)
    words = " ".join(t.split(" ", 1)[1] for t in zero).split()
    assert words == long_text.split()[1:]
    assert [ln.segment for c in chunks for ln in c if ln.segment] == list(range(1, 30))
    sizes = [sum(ln.tokens for ln in c) for c in chunks]
    assert max(sizes) <= 300


def test_match_quote(episode):
    seg = episode.segments[4]  # "It is the largest open model so far, with 405 billion parameters."
    assert match_quote(episode, 4, "the largest open model so far") == ("the largest open model so far,".rstrip(","), 4)
    assert match_quote(episode, 4, "IT IS THE LARGEST OPEN MODEL SO FAR") == ("It is the largest open model so far", 4)
    nxt = episode.segments[5].text.split(",")[0]
    assert match_quote(episode, 4, nxt)[1] == 5  # spills into the next segment
    assert match_quote(episode, 4, "Llamas are the best animals on the farm") is None
    assert match_quote(episode, 4, seg.text) == (seg.text, 4)


def test_prompt_rendering_is_exact():
    ep = Episode(id="e", source="x.mp3", title="Ep 1", language="en",
                 segments=[Segment(start=0, end=1, text="Hello there.", speaker="A")])
    msgs = render_prompt("prompts/summarize_chunk.v1.j2", None, episode=ep, section_title="Intro", part=2, parts=3,
                         lines="[0] A: Hello there.", names=["Llama 3.1"], language="English",
                         options=SummarizeOptions(), categories=[])
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[1]["content"] == (
        "Episode: Ep 1\n"
        "Chapter: Intro\n"
        "This is part 2 of 3 of the chapter.\n"
        "AI models and benchmarks mentioned here, spelled correctly (the automatic transcript may garble them): "
        "Llama 3.1.\n\n"
        "Transcript:\n"
        "[0] A: Hello there.\n\n"
        "Answer with a JSON object:\n"
        '- "title": a short title for this part (at most 8 words);\n'
        '- "summary": about 90 words on what was said, naming who said what;\n'
        '- "key_points": 2 to 4 items {"text": one sentence, "segment": id of the line it comes from};\n'
        '- "quotes": 0 to 2 memorable sentences copied word for word, {"segment": id, "text": the exact words}.\n'
        "Write in English."
    )


def test_prompt_override_from_templates_dir(episode, srv, tmp_path):
    tdir = tmp_path / "tpl" / "prompts"
    tdir.mkdir(parents=True)
    (tdir / "summarize_chunk.v1.j2").write_text(
        "{% block system %}HOUSE STYLE: terse.{% endblock %}{% block user %}Transcript:\n{{ lines }}{% endblock %}")
    summarize(episode, llm_settings=llm(srv), templates_dir=tmp_path / "tpl")
    assert all(r["body"]["messages"][0]["content"].startswith("HOUSE STYLE: terse.") for r in map_requests(srv))
    (tdir / "summarize_chunk.v1.j2").write_text("{% block user %}{{ lines }}{% endblock %}")
    with pytest.raises(ConfigError, match=r"has no \{% block system %\}"):
        summarize(episode, llm_settings=llm(srv, cache=False), templates_dir=tmp_path / "tpl")
    (tdir / "summarize_chunk.v1.j2").write_text("{% block system %}x{% endblock %}{% block user %}{{ linez }}{% endblock %}")
    with pytest.raises(ConfigError, match=r"summarize_chunk.v1.j2: line 1: undefined variable: 'linez' is undefined"):
        summarize(episode, llm_settings=llm(srv, cache=False), templates_dir=tmp_path / "tpl")


# -- CLI ---------------------------------------------------------------------------------------------------


@pytest.fixture
def episode_file(episode, tmp_path):
    path = tmp_path / "ep" / "episode.json"
    episode.save(path)
    return path


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def test_cli_summarize_with_llm_writes_outputs(episode_file, srv):
    res = run("summarize", episode_file, "--llm-model", "test-model", "--llm-base-url", srv.url, "--json", "-q")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["method"] == "llm" and out["usage"]["calls"] == 5
    names = {p.split("/")[-1] for p in out["files"]}
    assert {"summary.md", "show_notes.md", "newsletter.md", "youtube_description.txt", "episode.html"} <= names
    ep = Episode.load(episode_file)
    assert ep.summaries["episode"].method == "llm"
    assert "test-model" in (episode_file.parent / "summary.md").read_text()


def test_cli_dry_run_sends_and_writes_nothing(episode_file, srv):
    """A hosted API: the dry run lists the calls and sends nothing."""
    before = episode_file.read_bytes()
    hosted = srv.url.replace("127.0.0.1", "localhost.")  # the same server, not recognised as a local one
    res = run("summarize", episode_file, "--dry-run", "--llm-model", "test-model", "--llm-base-url", hosted)
    assert res.exit_code == 0, res.output
    assert "chapter 1" in res.stdout and "episode summary" in res.stdout and "5 calls to send" in res.stdout
    assert "nothing sent" in res.stdout and "estimated wall time" not in res.stdout
    assert srv.chat_requests == [] and episode_file.read_bytes() == before
    assert sorted(p.name for p in episode_file.parent.iterdir()) == ["episode.json"]


def test_cli_dry_run_on_a_local_server_estimates_the_wall_time(episode_file, srv):
    """A local server: one short streamed probe measures it, and the run's wall time is estimated
    from the planned calls (prompt at the probe's prompt speed, answers at its answer speed, from
    half their cap to the full cap); nothing else is sent or written."""
    before = episode_file.read_bytes()
    srv.push({"first_after": 0.3, "drip": 0.02})
    res = run("summarize", episode_file, "--dry-run", "--llm-model", "test-model", "--llm-base-url", srv.url)
    assert res.exit_code == 0, res.output
    assert "one short probe sent" in res.stdout and "5 calls to send" in res.stdout
    m = re.search(r"estimated wall time: ([\d.]+) (s|min) to ([\d.]+) (s|min) .*probe: (\d+) prompt tokens/s, "
                  r"([\d.]+) answer tokens/s; \d+ requests? at once", res.stdout)
    assert m, res.stdout
    low, high = (float(m.group(1)) * (60 if m.group(2) == "min" else 1), float(m.group(3)) * (60 if m.group(4) == "min" else 1))
    assert 0 < low < high
    [probe] = srv.chat_requests
    assert probe["body"]["stream"] and probe["body"]["max_tokens"] <= 32
    assert episode_file.read_bytes() == before and sorted(p.name for p in episode_file.parent.iterdir()) == ["episode.json"]


def test_cli_extractive_without_llm(episode_file, srv):
    res = run("summarize", episode_file)
    assert res.exit_code == 0
    assert res.stderr.count("no LLM configured") == 1
    notes = (episode_file.parent / "show_notes.md").read_text()
    assert notes.rstrip().endswith(f"_Summary extracted from the transcript without an LLM (podtools {__version__})._")
    assert Episode.load(episode_file).summaries["episode"].text in notes


@pytest.mark.parametrize("case", ["refused", "401", "404", "html", "no-templates", "bad-json", "bad-pipeline"])
def test_cli_bad_inputs(case, episode_file, srv, tmp_path, monkeypatch):
    args = ["summarize", episode_file, "--llm-model", "test-model", "--llm-base-url", srv.url]
    expect = ""
    if case == "refused":
        args[-1], expect = "http://127.0.0.1:9/v1", "cannot connect to the LLM server at http://127.0.0.1:9/v1 (connection refused)"
    elif case == "401":
        srv.key = "sk-right-key-0000000"
        monkeypatch.setenv("WRONG_KEY", "sk-wrong-key-1111111")
        args += ["--llm-key-env", "WRONG_KEY"]
        expect = "rejected the API key (HTTP 401): put a valid key in the environment variable WRONG_KEY"
    elif case == "404":
        args[3], expect = "gpt-17", "model 'gpt-17' not found"
    elif case == "html":
        srv.html_everything = True
        expect = "did not answer like an OpenAI-compatible API"
    elif case == "no-templates":
        args += ["--templates", tmp_path / "nope"]
        expect = "templates directory not found"
    elif case == "bad-json":
        episode_file.write_text("{not json")
        expect = "not valid JSON"
    elif case == "bad-pipeline":
        args += ["--pipeline", "nope"]
        expect = "unknown pipeline 'nope'"
    res = run(*args)
    assert res.exit_code not in (0, 70) and (res.exception is None or isinstance(res.exception, SystemExit))
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("podtools: error: ") and expect in lines[0], res.stderr
    assert "Traceback" not in res.output and "sk-wrong-key" not in res.output


def test_cli_max_cost(episode_file, srv, monkeypatch):
    """--max-cost with the price table where the README puts it (~/.config/podtools/prices.toml):
    above the budget nothing is sent and nothing written; within it the run reports its cost."""
    monkeypatch.delenv("PODTOOLS_CONFIG")
    prices = Path(os.environ["XDG_CONFIG_HOME"]) / "podtools" / "prices.toml"
    prices.parent.mkdir(parents=True)
    prices.write_text('[models]\n"test-model" = { input = 5.0, output = 15.0 }\n')
    before = episode_file.read_bytes()
    args = ["summarize", episode_file, "--llm-model", "test-model", "--llm-base-url", srv.url]
    res = run(*args, "--max-cost", "0.01")
    assert res.exit_code == 6, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(r"estimated LLM cost \$0\.\d+ \(5 calls.*above --max-cost \$0\.0100", lines[0]), lines
    assert srv.chat_requests == [] and episode_file.read_bytes() == before
    assert [p.name for p in episode_file.parent.iterdir()] == ["episode.json"]
    res = run(*args, "--max-cost", "1", "--json", "-q")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["method"] == "llm" and out["usage"]["calls"] == len(srv.chat_requests) == 5
    assert 0 < out["usage"]["cost_usd"] < 1.0


def test_cli_no_llm_overrides_a_configured_llm(episode_file, srv, tmp_path):
    """--no-llm: extractive summaries although the config file names an LLM, and not one request."""
    (tmp_path / "config.toml").write_text(f'[llm]\nmodel = "test-model"\nbase_url = "{srv.url}"\n')
    res = run("summarize", episode_file, "-q")
    assert res.exit_code == 0, res.output
    assert Episode.load(episode_file).summaries["episode"].method == "llm" and srv.chat_requests  # configured: used
    srv.reset()
    res = run("summarize", episode_file, "-q", "--no-llm")
    assert res.exit_code == 0, res.output
    assert srv.requests == []
    ep = Episode.load(episode_file)
    assert ep.summaries["episode"].method == "extractive" and ep.provenance["summarize"].model == "extractive"
    docs = _published(episode_file.parent)
    assert all(EXTRACTIVE_MARKS[n] in (episode_file.parent / n).read_text() for n in docs)


def test_ingest_no_llm(srv, tmp_path, monkeypatch):
    """ingest --no-llm with an LLM configured (and a key that would be refused): the whole
    pipeline runs without contacting the server, and every document says its summary is extractive."""
    from speech import encode, say, write_wav

    (tmp_path / "config.toml").write_text(f'[llm]\nmodel = "test-model"\nbase_url = "{srv.url}"\nkey_env = "NO_LLM_KEY"\n')
    srv.key = "sk-right-key-0000000"
    monkeypatch.setenv("NO_LLM_KEY", "sk-wrong-key-1111111")
    audio = tmp_path / "audio"
    audio.mkdir()
    line = ("The new open model from Meta beats the closed models on the MMLU benchmark this week. "
            "That matters for the people who build with them.")  # no greeting: it is never a summary line
    mp3 = encode(write_wav(audio / "clip.wav", say(line, "awb", audio)), audio / "clip.mp3")
    res = run("ingest", mp3, "-o", tmp_path / "out", "-q", "--no-llm")
    assert res.exit_code == 0, res.output
    assert srv.requests == []
    ep = Episode.load(tmp_path / "out" / "episode.json")
    assert ep.summaries["episode"].method == "extractive"
    for name, text in _published(tmp_path / "out").items():
        assert EXTRACTIVE_MARKS[name] in (tmp_path / "out" / name).read_text(), name
        assert ep.summaries["episode"].text in text, name
    res = run("ingest", mp3, "-o", tmp_path / "out2", "-q")  # without the flag, the configured LLM is used
    assert res.exit_code == 6 and "HTTP 401" in res.stderr and srv.requests


# -- ingest ------------------------------------------------------------------------------------------------


# what marks a summary as extractive in each file a host publishes (the README: "marked so in every file")
EXTRACTIVE_MARKS = {
    "summary.md": "> Extractive summary: sentences selected from the transcript by podtools, no LLM was used",
    "show_notes.md": "_Summary extracted from the transcript without an LLM (podtools ",
    "newsletter.md": "> **Draft from an extractive summary** (no LLM)",
    "youtube_description.txt": "Summary extracted from the transcript without an LLM:\n",
    "episode.html": '<p class="notice" id="extractive-notice">Extractive summary: ',
}


def _published(out) -> dict[str, str]:
    """The documents a host publishes, as a reader sees their text (HTML entities decoded)."""
    import html

    return {name: html.unescape((out / name).read_text()) if name.endswith(".html") else (out / name).read_text()
            for name in EXTRACTIVE_MARKS}


def test_ingest_without_llm_writes_every_output(sample_ingest):
    result, out = sample_ingest
    s = result.episode.summaries["episode"]
    assert s.method == "extractive" and result.episode.provenance["summarize"].model == "extractive"
    docs = _published(out)
    for name, text in docs.items():
        assert EXTRACTIVE_MARKS[name] in (out / name).read_text(), name
        assert s.text in text, name  # the summary itself, not just a file of some size
    for name in ("summary.md", "show_notes.md", "newsletter.md"):
        assert all(b.text in docs[name] for b in s.tldr), name
    assert docs["show_notes.md"].startswith(f"# {result.episode.title}\n")


def test_ingest_with_llm(sample_mp3, embedded_model, srv, tmp_path, monkeypatch):
    """A successful LLM run: every document carries the model's summary, none says extractive,
    and the key (only ever in the environment) is in no file, episode.json's provenance included."""
    from podtools.pipeline import ingest, load_pipeline

    secret = "sk-ingest-9f3Kq72LmZx0Pw"
    srv.key = secret
    monkeypatch.setenv("INGEST_LLM_KEY", secret)
    config = load_pipeline("default").model_copy(update={"llm": llm(srv, key_env="INGEST_LLM_KEY")})
    result = ingest(str(sample_mp3), tmp_path / "out", config, model=embedded_model)
    s = result.episode.summaries["episode"]
    assert s.method == "llm" and s.model == "test-model" and s.text.startswith("Scripted summary")
    assert srv.requests[0]["path"].endswith("/models")  # preflight first
    assert all(r["headers"]["authorization"] == f"Bearer {secret}" for r in srv.requests)
    docs = _published(tmp_path / "out")
    assert "Summarized by test-model" in docs["summary.md"]
    for name, text in docs.items():
        assert s.text in text, name
        assert EXTRACTIVE_MARKS[name].strip() not in text and "extractive" not in text.lower(), name
    prov = json.loads((tmp_path / "out" / "episode.json").read_text())["provenance"]["summarize"]
    assert prov["model"] == "test-model" and prov["settings"]["llm"]["key_env"] == "INGEST_LLM_KEY"
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    written += [p for p in Path(os.environ["PODTOOLS_CACHE_DIR"]).rglob("*") if p.is_file()]
    assert len(written) > 10 and not [p for p in written if secret.encode() in p.read_bytes()]


def test_ingest_bad_key_fails_before_transcribing(sample_mp3, srv, tmp_path, monkeypatch):
    srv.key = "sk-right-key-0000000"
    monkeypatch.setenv("WRONG_KEY", "sk-wrong-key-1111111")
    res = run("ingest", sample_mp3, "-o", tmp_path / "o", "--llm-model", "test-model", "--llm-base-url", srv.url,
              "--llm-key-env", "WRONG_KEY", "-q")
    assert res.exit_code == 6 and "HTTP 401" in res.stderr and "WRONG_KEY" in res.stderr
    # the preflight (GET /models) was all: no chat call, no stage ran (the test's cache is empty), no file
    assert [(r["method"], r["path"]) for r in srv.requests] == [("GET", "/v1/models")]
    cache = Path(os.environ["PODTOOLS_CACHE_DIR"])
    assert not [p for p in cache.rglob("*") if p.is_file()]
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
