"""podtools.llm over real HTTP against tests/openai_server.py (scripted answers and faults)."""

import json
import logging
import math
import os
import re
import subprocess
import sys

import pytest
from pydantic import BaseModel, ConfigDict

from openai_server import ScriptedServer
from podtools.errors import ConfigError, ModelError
from podtools.llm import (
    LLM,
    InvalidAnswer,
    LLMSettings,
    Refusal,
    TokenCounter,
    _strict_schema,
    extract_json,
    load_prices,
    narrow_schema,
    price_for,
    redact,
    resolve_settings,
)

SECRET = "sk-test-Zq81aF3kP0tLm2Xw9Rr7"
MESSAGES = [
    {"role": "system", "content": "Summarize."},
    {"role": "user", "content": "[3] Alex: Llama 3.1 is out with 405 billion parameters.\n[4] Sam: It is an open model."},
]


class Quote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    segment: int
    text: str


class Digest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    summary: str
    quotes: list[Quote]


@pytest.fixture(scope="module")
def server():
    with ScriptedServer(models=("test-model", "other-model")) as srv:
        yield srv


@pytest.fixture
def srv(server, monkeypatch, tmp_path):
    server.reset()
    server.key = None
    server.reject_json_schema = False
    server.usage = True
    monkeypatch.setenv("PODTOOLS_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PODTOOLS_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PODTOOLS_CONFIG", str(tmp_path / "no-config.toml"))
    (tmp_path / "no-config.toml").write_text("")
    return server


def settings(srv, **kw) -> LLMSettings:
    base = dict(model="test-model", base_url=srv.url, backoff=0.01, timeout=5.0, stream=False)  # streaming: test_llm_pacing
    base.update(kw)
    return LLMSettings(**base)


# -- round trip, structured output, cache ---------------------------------------------------------


def test_json_schema_round_trip_and_cache(srv, monkeypatch):
    monkeypatch.setenv("MY_KEY", SECRET)
    srv.key = SECRET
    llm = LLM(settings(srv, key_env="MY_KEY"))
    ans = llm.complete_json(MESSAGES, Digest, "t")
    assert isinstance(ans.data, Digest) and not ans.cached
    assert {q.segment for q in ans.data.quotes} <= {3, 4}
    req = srv.chat_requests[-1]
    assert req["headers"]["authorization"] == f"Bearer {SECRET}"
    rf = req["body"]["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    assert rf["json_schema"]["schema"]["required"] == ["title", "summary", "quotes"]  # "title" survives cleaning
    assert ans.record.prompt_tokens > 0 and not ans.record.estimated  # the server's usage

    n = len(srv.chat_requests)
    again = LLM(settings(srv, key_env="MY_KEY")).complete_json(MESSAGES, Digest, "t")
    assert again.cached and again.data == ans.data
    assert len(srv.chat_requests) == n  # nothing sent
    # a different setting is a different request
    LLM(settings(srv, key_env="MY_KEY", temperature=0.7)).complete_json(MESSAGES, Digest, "t")
    assert len(srv.chat_requests) == n + 1


def test_fallback_to_json_object_when_json_schema_rejected(srv):
    srv.reject_json_schema = True  # like llama.cpp's server: HTTP 500
    llm = LLM(settings(srv, cache=False))
    a = llm.complete_json(MESSAGES, Digest, "one")
    b = llm.complete_json(MESSAGES[:1] + [{"role": "user", "content": "[9] Sam: second"}], Digest, "two")
    assert a.data and b.data and b.data.quotes[0].segment == 9
    formats = [r["body"].get("response_format") or {} for r in srv.chat_requests]
    assert [f.get("type") for f in formats] == ["json_schema", "json_object", "json_object"]  # probed once, remembered
    # the fallback is llama-cpp-python's form: the schema inside json_object (its grammar), and in the prompt too
    assert formats[1]["schema"] == formats[2]["schema"] == formats[0]["json_schema"]["schema"]
    assert "JSON Schema:" in srv.chat_requests[1]["body"]["messages"][0]["content"]
    assert [r.mode for r in llm.usage.records] == ["json_object_schema"] * 2


def test_prompted_json_when_json_object_rejected_too(srv):
    refused = {"json": {"error": {"message": "response_format not supported"}}}
    srv.push({"status": 400, **refused}, {"status": 422, **refused}, {"status": 400, **refused})
    llm = LLM(settings(srv, cache=False))
    ans = llm.complete_json(MESSAGES, Digest, "t")
    assert ans.data is not None
    formats = [r["body"].get("response_format") for r in srv.chat_requests]
    assert formats[:3] == [{"type": "json_schema", "json_schema": formats[0]["json_schema"]},
                           {"type": "json_object", "schema": formats[0]["json_schema"]["schema"]},
                           {"type": "json_object"}]
    assert formats[3] is None and ans.record.mode == "prompt"


BOUNDS = {"title": {"maxLength": 40}, "quotes": {"minItems": 1, "maxItems": 1}, "quotes[].segment": {"enum": [3, 4]}}


def test_bounds_reach_a_local_servers_grammar_not_the_prompt(srv):
    srv.reject_json_schema = True  # llama-cpp-python: the bounds ride in json_object's schema
    llm = LLM(settings(srv, cache=False))
    ans = llm.complete_json(MESSAGES, Digest, "t", bounds=BOUNDS)
    assert ans.data is not None
    for req in srv.chat_requests:
        rf = req["body"]["response_format"]
        sent = rf["schema"] if rf["type"] == "json_object" else rf["json_schema"]["schema"]
        assert sent["properties"]["title"] == {"type": "string", "maxLength": 40}
        assert sent["properties"]["quotes"]["maxItems"] == 1 and sent["properties"]["quotes"]["minItems"] == 1
        item = sent["properties"]["quotes"]["items"]  # the shared definition inlined, then bounded
        assert item["properties"]["segment"] == {"type": "integer", "enum": [3, 4]}
        assert sent["$defs"]["Quote"]["properties"]["segment"] == {"type": "integer"}
    # the prompt shows the plain schema: the grammar enforces the bounds, the model need not read them
    system = srv.chat_requests[-1]["body"]["messages"][0]["content"]
    assert "JSON Schema:" in system and "enum" not in system and "maxLength" not in system


def test_bounds_stay_off_a_hosted_api(srv, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", "k")
    llm = LLM(settings(srv, provider="openrouter", model="test-model"))
    assert llm.complete_json(MESSAGES, Digest, "t", bounds=BOUNDS).data is not None
    sent = srv.chat_requests[-1]["body"]["response_format"]["json_schema"]["schema"]
    assert "maxLength" not in json.dumps(sent) and "enum" not in json.dumps(sent)


def test_narrow_schema_paths():
    plain = _strict_schema(Digest)
    with pytest.raises(ValueError, match="no property 'speaker'"):
        narrow_schema(plain, {"quotes[].speaker": {"enum": ["Alex"]}})
    assert plain == _strict_schema(Digest)  # never changed in place


def test_repair_once_then_valid(srv):
    srv.push({"content": '```json\n{"title": "x", "summary": "cut off'})
    llm = LLM(settings(srv))
    ans = llm.complete_json(MESSAGES, Digest, "t")
    assert ans.data is not None
    assert len(srv.chat_requests) == 2
    repair = srv.chat_requests[1]["body"]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '```json\n{"title": "x", "summary": "cut off'}
    assert "not valid JSON" in repair[-1]["content"] and "cut off" in repair[-1]["content"]
    # the repaired answer replays from the cache: no request
    LLM(settings(srv)).complete_json(MESSAGES, Digest, "t")
    assert len(srv.chat_requests) == 2


def test_near_misses_of_small_models_fit_without_a_repair(srv):
    """Keys in another case or spelling, an object where a string is asked, one quote where a list
    is, a segment cited as "[4]", an extra key: a small local model's JSON is read as meant, with
    no second request; a missing field is still refused."""
    srv.push({"content": '{"Title": "Llama 3.1", "Summary": {"text": "Meta released Llama 3.1."}, '
                         '"Quotes": {"segment": "[4]", "text": "It is an open model."}, "confidence": "high"}'})
    ans = LLM(settings(srv, cache=False)).complete_json(MESSAGES, Digest, "t")
    assert ans.data == Digest(title="Llama 3.1", summary="Meta released Llama 3.1.",
                              quotes=[Quote(segment=4, text="It is an open model.")])
    assert len(srv.chat_requests) == 1
    srv.push({"content": '{"Title": "x", "quotes": []}'}, {"content": '{"Title": "x", "quotes": []}'})
    with pytest.raises(InvalidAnswer, match="summary: Field required"):
        LLM(settings(srv, cache=False)).complete_json(MESSAGES, Digest, "t")


def test_invalid_twice_is_an_error(srv):
    srv.push({"content": "Sure! Here is the summary you asked for."}, {"content": '{"title": 1}'})
    with pytest.raises(InvalidAnswer, match="invalid answer for t twice"):
        LLM(settings(srv, cache=False)).complete_json(MESSAGES, Digest, "t")


def test_check_callback_feeds_the_repair(srv):
    seen = []

    def check(obj):
        bad = [q.segment for q in obj.quotes if q.segment not in (3, 4)]
        seen.append(bad)
        return [f"segment {b} is not an id in the input" for b in bad]

    srv.push({"content": json.dumps({"title": "t", "summary": "s", "quotes": [{"segment": 99, "text": "x"}]})})
    ans = LLM(settings(srv)).complete_json(MESSAGES, Digest, "t", check=check)
    assert seen == [[99], []] and ans.data.quotes[0].segment in (3, 4)
    assert "segment 99 is not an id" in srv.chat_requests[-1]["body"]["messages"][-1]["content"]


def test_extract_json_variants():
    assert extract_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert extract_json('Here you go: {"a": {"b": 2}} hope it helps') == {"a": {"b": 2}}
    assert extract_json('{"summary": "one\nline\tand a tab"}') == {"summary": "one\nline\tand a tab"}  # raw, as grammars allow
    with pytest.raises(ValueError):
        extract_json("no json here")


# -- retries and failures ----------------------------------------------------------------------------


def test_retries_429_and_5xx_with_backoff(srv, caplog):
    srv.push({"status": 429, "headers": {"Retry-After": "0"}}, {"status": 500}, {"status": 503})
    with caplog.at_level(logging.WARNING, logger="podtools.llm"):
        ans = LLM(settings(srv, backoff=0.2)).complete(MESSAGES, "t")
    assert ans.text.startswith("A plain answer")
    assert len(srv.chat_requests) == 4
    retries = [re.search(r": (HTTP \d+); retry (\d) of 4 in ([\d.]+) s$", r.getMessage()) for r in caplog.records]
    waits = [(m[1], int(m[2]), float(m[3])) for m in retries if m]
    # Retry-After honoured (0 s), then backoff (0.2 s) doubled per attempt so far, plus up to 25 % jitter
    assert [w[:2] for w in waits] == [("HTTP 429", 1), ("HTTP 500", 2), ("HTTP 503", 3)], caplog.text
    assert waits[0][2] == 0.0 and 0.4 <= waits[1][2] <= 0.5 and 0.8 <= waits[2][2] <= 1.0, waits


def test_gives_up_after_max_retries(srv):
    srv.push(*[{"status": 502}] * 3)
    with pytest.raises(ModelError, match=r"kept failing \(HTTP 502 after 3 attempts"):
        LLM(settings(srv, max_retries=2)).complete(MESSAGES, "t")


def test_timeout_is_retried_then_reported(srv):
    srv.push({"hang": 1.5})
    # a local server still works on the request it timed out on: no retry piles a second one on it
    with pytest.raises(ModelError, match=r"did not answer within 0.4 s \(1 attempts\)"):
        LLM(settings(srv, timeout=0.4, max_retries=3, cache=False)).complete(MESSAGES, "t")
    assert len(srv.chat_requests) == 1
    srv.reset()
    srv.push({"hang": 1.5})
    # a hosted API (a non-local provider preset) gets one retry, which here finds an answer
    hosted = settings(srv, timeout=0.4, max_retries=1, cache=False, provider="openrouter", base_url=srv.url,
                      key_env="HOSTED_TEST_KEY")
    os.environ["HOSTED_TEST_KEY"] = "test-key"
    try:
        assert LLM(hosted).complete(MESSAGES, "t").text
    finally:
        del os.environ["HOSTED_TEST_KEY"]
    assert len(srv.chat_requests) == 2
    srv.reset()
    srv.push({"hang": 1.5})
    # the client gave up on its own (an answer after 1.5 s would have been a success), once
    with pytest.raises(ModelError, match=r"did not answer within 0.4 s \(1 attempts\)"):
        LLM(settings(srv, timeout=0.4, max_retries=0, cache=False)).complete(MESSAGES, "t")
    assert len(srv.chat_requests) == 1


def test_refusal(srv):
    srv.push({"refusal": "I can't help with that."})
    with pytest.raises(Refusal, match="refused: I can't help"):
        LLM(settings(srv)).complete_json(MESSAGES, Digest, "t")


def test_wrong_key_fails_fast_and_never_leaks(srv, monkeypatch, caplog, tmp_path):
    srv.key = "sk-the-right-one-123456"
    monkeypatch.setenv("MY_KEY", SECRET)
    llm = LLM(settings(srv, key_env="MY_KEY"))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ConfigError) as err:
            llm.complete(MESSAGES, "t")
        with pytest.raises(ConfigError) as err2:
            llm.preflight()
    msg = str(err.value)
    assert "HTTP 401" in msg and "MY_KEY" in msg and "--llm-key-env" in msg
    assert len(srv.chat_requests) == 1  # not retried
    for text in (msg, str(err2.value), caplog.text):
        assert SECRET not in text and SECRET[8:20] not in text
    assert all(SECRET not in p.read_text() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert SECRET not in json.dumps(llm.settings.public())
    assert redact(f"Incorrect API key provided: {SECRET}") == "Incorrect API key provided: [redacted]"


def test_missing_key_for_openai(srv, monkeypatch):
    with pytest.raises(ConfigError, match="environment variable OPENAI_API_KEY is not set"):
        LLM(LLMSettings(model="gpt-4o-mini"))
    with pytest.raises(ConfigError, match="NOPE_KEY is not set"):
        LLM(settings(srv, key_env="NOPE_KEY"))


def test_unknown_model_404(srv):
    llm = LLM(settings(srv, model="llama-9000"))
    with pytest.raises(ConfigError, match=r"model 'llama-9000' not found .*HTTP 404.*serves: other-model, test-model"):
        llm.preflight()
    with pytest.raises(ConfigError, match=r"model 'llama-9000' not found"):
        llm.complete(MESSAGES, "t")
    assert len(srv.chat_requests) == 1


@pytest.mark.parametrize("body,ctype,what", [
    ("<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>", "text/html", "an HTML page"),
    ("OK", "text/plain", "non-JSON text"),
])
def test_server_answering_html_or_text(srv, body, ctype, what):
    srv.push({"body": body, "content_type": ctype})
    with pytest.raises(ModelError, match=f"did not answer like an OpenAI-compatible API .*{what}.*--llm-base-url"):
        LLM(settings(srv)).complete(MESSAGES, "t")


def test_html_error_page_is_one_clean_line(srv):
    page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
    srv.push(*[{"status": 502, "body": page}] * 2)
    with pytest.raises(ModelError) as err:
        LLM(settings(srv, max_retries=1)).complete(MESSAGES, "t")
    assert "<" not in str(err.value) and "502 Bad Gateway" in str(err.value) and "\n" not in str(err.value)


def test_refused_connection(srv, caplog):
    with pytest.raises(ConfigError, match=r"cannot connect to the LLM server at http://127.0.0.1:9/v1 \(connection refused\)"):
        LLM(LLMSettings(model="m", base_url="http://127.0.0.1:9/v1", backoff=0.01)).preflight()
    with caplog.at_level(logging.WARNING, logger="podtools.llm"):
        with pytest.raises(ConfigError, match="connection refused"):
            LLM(LLMSettings(model="m", base_url="http://127.0.0.1:9/v1", backoff=0.01)).complete(MESSAGES, "t")
    # a refused connection is tried again once, not max_retries (4) times with backoff
    retries = [r.getMessage() for r in caplog.records if "; retry " in r.getMessage()]
    assert retries == ["http://127.0.0.1:9/v1: connection failed; retry 1 of 1 in 0.0 s"], retries


def test_streaming(srv):
    llm = LLM(settings(srv, stream=True))
    ans = llm.complete_json(MESSAGES, Digest, "t")
    assert ans.data is not None
    assert srv.chat_requests[-1]["body"]["stream"] is True
    assert ans.record.completion_tokens > 0


def test_token_estimate_without_server_usage(srv):
    srv.usage = False
    ans = LLM(settings(srv)).complete(MESSAGES, "t")
    assert ans.record.estimated
    assert ans.record.completion_tokens == math.ceil(len(ans.text) / 3.5)


# -- dry run and cost -------------------------------------------------------------------------------


def test_dry_run_sends_nothing(srv):
    llm = LLM(settings(srv), dry_run=True)
    llm.preflight()
    ans = llm.complete_json(MESSAGES, Digest, "chapter 1")
    assert ans.text is None and ans.record.dry_run
    assert srv.requests == []
    table = llm.usage.table()
    assert "chapter 1" in table and "planned" in table and "1 calls to send" in table


def test_prices_and_cost(srv, tmp_path):
    table, _ = load_prices(LLMSettings(model="gpt-4o-mini"))
    p = price_for(LLMSettings(model="gpt-4o-mini-2024-07-18"), table)
    assert (p.input, p.output) == (0.15, 0.60)
    assert price_for(LLMSettings(model="openai/gpt-4o"), table).input == 2.50
    assert price_for(LLMSettings(model="llama3.1", provider="ollama"), table).input == 0.0
    assert price_for(LLMSettings(model="mystery", base_url="https://example.org/v1"), table) is None
    user = tmp_path / "prices.toml"
    user.write_text('[models]\n"test-model" = { input = 1000.0, output = 2000.0 }\n')
    llm = LLM(settings(srv, prices=str(user)))
    llm.complete(MESSAGES, "t")
    u = llm.usage
    assert u.cost == pytest.approx((u.prompt_tokens * 1000 + u.completion_tokens * 2000) / 1e6)
    assert "$" in u.summary_line()
    bad = tmp_path / "bad.toml"
    bad.write_text('[models]\n"x" = { input = "cheap" }\n')
    with pytest.raises(ConfigError, match="bad.toml: price of 'x' must be"):
        LLM(settings(srv, prices=str(bad)))


def test_max_cost_stops_before_a_call(srv, tmp_path):
    user = tmp_path / "prices.toml"
    user.write_text('[models]\n"test-model" = { input = 1000.0, output = 2000.0 }\n')
    llm = LLM(settings(srv, prices=str(user), max_cost=0.01))
    with pytest.raises(ConfigError, match="above --max-cost"):
        llm.complete(MESSAGES, "t")
    assert srv.chat_requests == []


# -- settings ---------------------------------------------------------------------------------------


def test_settings_layers(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[llm]\nmodel = "from-file"\nbase_url = "http://file:1/v1"\ntimeout = 33\n')
    monkeypatch.setenv("PODTOOLS_CONFIG", str(cfg))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    for k in ("MODEL", "TIMEOUT", "PROVIDER", "BASE_URL"):
        monkeypatch.delenv(f"PODTOOLS_LLM_{k}", raising=False)
    preset = LLMSettings(temperature=0.0, model="from-preset")
    s = resolve_settings(preset, {})
    assert (s.model, s.base_url, s.timeout, s.temperature) == ("from-file", "http://file:1/v1", 33.0, 0.0)
    monkeypatch.setenv("PODTOOLS_LLM_TIMEOUT", "12.5")
    monkeypatch.setenv("PODTOOLS_LLM_MODEL", "from-env")
    s = resolve_settings(preset, {"model": None})
    assert (s.model, s.timeout) == ("from-env", 12.5)
    s = resolve_settings(preset, {"model": "from-flag", "provider": "ollama"})
    assert s.model == "from-flag"
    assert s.effective_base_url() == "http://localhost:11434/v1"  # the provider drops the file's URL
    assert s.is_local()

    monkeypatch.setenv("PODTOOLS_LLM_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="invalid LLM setting timeout from PODTOOLS_LLM_"):
        resolve_settings(preset, {})
    monkeypatch.delenv("PODTOOLS_LLM_TIMEOUT")
    cfg.write_text('[llm]\nmodle = "typo"\n')
    with pytest.raises(ConfigError, match="unknown LLM setting 'modle'"):
        resolve_settings(preset, {})
    cfg.write_text("[llm\n")
    with pytest.raises(ConfigError, match="config.toml: not a valid TOML"):
        resolve_settings(preset, {})
    monkeypatch.setenv("PODTOOLS_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="PODTOOLS_CONFIG not found"):
        resolve_settings(preset, {})
    with pytest.raises(ConfigError, match="unknown provider 'olama'"):
        monkeypatch.setenv("PODTOOLS_CONFIG", str(cfg))
        cfg.write_text("")
        resolve_settings(preset, {"provider": "olama"})


def test_openai_env_honoured(monkeypatch, srv):
    monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    srv.key = SECRET
    llm = LLM(LLMSettings(model="test-model", backoff=0.01))
    assert llm.complete(MESSAGES, "t").text
    assert srv.chat_requests[-1]["body"].get("max_tokens")  # not api.openai.com: classic max_tokens


def test_token_counter():
    unknown = TokenCounter("llama3.1:8b")
    assert unknown.method.startswith("estimate") and not unknown.exact
    assert unknown.count("a" * 35) == 10


def test_token_counter_offline(tmp_path):
    """A model tiktoken knows, whose encoding file is neither in tiktoken's cache nor reachable
    (tiktoken would download it; here every download goes to a closed port, as on a machine
    without network): the count falls back to the documented estimate and says why, at once.
    Run in a child process so that no encoding loaded earlier in this session is reused."""
    code = ("import json; from podtools.llm import TokenCounter; c = TokenCounter('gpt-4o-mini'); "
            "print(json.dumps([c.method, c.exact, c.count('Llama 3.1 405B scores 88 percent on MMLU.')]))")
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(TIKTOKEN_CACHE_DIR=str(tmp_path / "tiktoken"), HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead,
               http_proxy=dead, https_proxy=dead, all_proxy=dead)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    method, exact, count = json.loads(out.stdout)
    assert method == "estimate (1 token per 3.5 characters; tiktoken's o200k_base not available offline)"
    assert exact is False and count == math.ceil(len("Llama 3.1 405B scores 88 percent on MMLU.") / 3.5)
    assert not (tmp_path / "tiktoken").exists() or not any((tmp_path / "tiktoken").iterdir())
