"""Pacing a local LLM server (issue 17): as many requests in flight as it runs, streamed answers
held to a first-token and an idle limit and hung up on when they break one, a circuit breaker
after consecutive failures, and a summary that falls back part by part instead of failing.
Real HTTP against tests/openai_server.py."""

from __future__ import annotations

import time

import pytest

from openai_server import ScriptedServer, SilentServer
from podtools.errors import ModelError
from podtools.llm import LLM, CircuitOpen, LLMSettings
from podtools.summarize import summarize
from summary_data import script_episode

MESSAGES = [{"role": "user", "content": "Say something."}]


@pytest.fixture
def srv():
    with ScriptedServer() as server:
        yield server


def llm(srv, **kw) -> LLM:
    return LLM(LLMSettings(**{"model": "test-model", "base_url": srv.url, "backoff": 0.01, "cache": False, **kw}))


def test_concurrency_is_what_the_server_runs(srv):
    assert llm(srv).concurrency() == 1  # a local server that does not say: one at a time
    srv.props = {"total_slots": 3, "default_generation_settings": {}}
    assert llm(srv).concurrency() == 3  # llama.cpp's /props
    srv.props = {"total_slots": 0}
    assert llm(srv).concurrency() == 1  # a server that reports no slots still gets one request
    assert llm(srv, concurrency=6).concurrency() == 6  # the setting wins
    hosted = LLMSettings(model="gpt-4o-mini", provider="openrouter", key_env="PACING_KEY")
    import os

    os.environ["PACING_KEY"] = "k"
    try:
        assert LLM(hosted).concurrency() == 4  # a hosted API keeps its concurrency, without asking
    finally:
        del os.environ["PACING_KEY"]


def test_every_shipped_preset_leaves_concurrency_to_the_server(srv):
    """What `podtools ingest --pipeline NAME --llm-base-url URL` resolves: no shipped preset pins
    the number of requests in flight, so a local server that runs one at a time gets one (a
    preset's `concurrency = 4` used to send a one-slot llama.cpp server four at once)."""
    from podtools.config import available_pipelines, load_pipeline
    from podtools.llm import resolve_settings

    for name in available_pipelines():
        settings = resolve_settings(load_pipeline(name).llm, {"model": "test-model", "base_url": srv.url})
        assert LLM(settings).concurrency() == 1, name
    srv.props = {"total_slots": 2, "default_generation_settings": {}}
    settings = resolve_settings(load_pipeline("default").llm, {"model": "test-model", "base_url": srv.url})
    assert LLM(settings).concurrency() == 2


def test_local_answers_are_streamed_and_start_within_the_first_token_limit(srv):
    ans = llm(srv).complete(MESSAGES, "t")
    assert ans.text and srv.chat_requests[-1]["body"].get("stream") is True
    srv.push({"first_after": 3.0})
    # abandoned at the limit (waiting for the server would have got the whole answer, no error)
    with pytest.raises(ModelError, match=r"sent no token within 1 s .*first-token limit"):
        llm(srv, first_token_timeout=1.0).complete(MESSAGES, "t")
    assert len(srv.chat_requests) == 2  # and not sent again
    _wait_for(lambda: srv.hangups == 1)  # and the server saw the client leave (stops generating)


def test_a_token_a_minute_is_abandoned_at_the_idle_limit(srv):
    srv.push({"drip": 2.0})
    # abandoned between two tokens (a client that waited would have got the whole answer, no error)
    with pytest.raises(ModelError, match=r"sent no token for 0.8 s \(idle limit\)"):
        llm(srv, idle_timeout=0.8).complete(MESSAGES, "t")
    assert len(srv.chat_requests) == 1
    _wait_for(lambda: srv.hangups == 1, 8.0)  # the server's next writes find the connection closed


def test_a_slow_but_steady_answer_is_kept(srv):
    srv.push({"drip": 0.05, "first_after": 0.5})
    ans = llm(srv, idle_timeout=1.0, first_token_timeout=2.0).complete(MESSAGES, "t")
    assert ans.text and srv.hangups == 0


def test_breaker_opens_after_consecutive_failures(srv):
    srv.push(*[{"first_after": 30.0}] * 2)
    client = llm(srv, first_token_timeout=0.5, breaker=2)
    for _ in range(2):
        with pytest.raises(ModelError, match="first-token limit"):
            client.complete(MESSAGES, "t")
    sent = len(srv.chat_requests)
    with pytest.raises(CircuitOpen, match="not calling the LLM server .* again in this run"):
        client.complete(MESSAGES, "t")
    assert len(srv.chat_requests) == sent  # nothing sent once open


def test_a_success_resets_the_breaker(srv):
    srv.push({"first_after": 30.0}, {}, {"first_after": 30.0}, {})
    client = llm(srv, first_token_timeout=0.5, breaker=2)
    for _ in range(2):
        with pytest.raises(ModelError):
            client.complete(MESSAGES, "t")
        assert client.complete(MESSAGES, "t").text


def test_dead_server_falls_back_for_the_whole_run_within_two_limits(srv, sample_script):
    """A server that accepts the connection and never sends a token: two abandoned requests,
    then every chapter (and the episode summary) is extractive, said once."""
    ep = script_episode(sample_script)
    assert len(ep.chapters) >= 4
    srv.push(*[{"first_after": 60.0}] * 50)
    limit = 1.0
    settings = LLMSettings(model="test-model", base_url=srv.url, backoff=0.01, cache=False,
                           first_token_timeout=limit)
    result = summarize(ep, llm_settings=settings)
    assert len(srv.chat_requests) == 2  # the breaker opened after two
    abandoned = [n for n in result.notes if "sent no token within 1 s (first-token limit" in n]
    assert len(abandoned) == 2, result.notes  # each abandoned at the limit (the server answers after 60 s)
    assert result.method == "extractive"
    assert all(s.method == "extractive" for s in result.episode.summaries.values())
    circuit = [n for n in result.notes if "not calling the LLM server" in n]
    assert len(circuit) == 1, result.notes


def test_a_request_that_gets_no_headers_is_left_at_the_first_token_limit(srv):
    """The server holds the request without a byte (not even headers) but answers GET /models:
    busy, not dead. The request is left at its first-token limit, not at the socket's backstop,
    and counts as one failure: the breaker stays closed."""
    srv.push({"hang": 8.0})
    client = llm(srv, first_token_timeout=1.0)
    with pytest.raises(ModelError, match=r"sent nothing within 1 s \(first-token limit"):
        client.complete(MESSAGES, "t")
    assert client._open is None and client._failures == 1
    models = [r for r in srv.requests if r["method"] == "GET" and r["path"].endswith("/v1/models")]
    assert len(models) == 1  # it asked whether the server replies at all, once


def test_a_server_that_answers_nothing_opens_the_breaker_at_once(sample_script):
    """A server that accepts the connection and never sends a byte, to any request: after the
    first request's first-token limit and one unanswered GET /models, the whole run falls back."""
    ep = script_episode(sample_script)
    with SilentServer() as dead:
        settings = LLMSettings(model="test-model", base_url=dead.url, cache=False, first_token_timeout=1.0)
        result = summarize(ep, llm_settings=settings)
        # /props (how many slots), one chapter request, GET /models: nothing more was sent
        assert dead.connections == 3
    assert result.method == "extractive"
    assert all(s.method == "extractive" and s.details.get("fallback") for s in result.episode.summaries.values())
    assert result.notes[0].startswith("chapter 1: ") and "sent nothing within 1 s" in result.notes[0]
    circuit = [n for n in result.notes if "not calling the LLM server" in n]
    assert len(circuit) == 1 and "answers nothing" in circuit[0] and "no reply to GET /models within 5 s" in circuit[0]
    assert not any("chapter 2" in n for n in result.notes)  # the rest fell back without a request each


def test_a_server_that_restarts_mid_run_is_waited_for(srv, sample_script):
    """The server answers, then goes away for a moment (two connections closed without an
    answer): a server that answered before is waited for through the retries, and every part
    still gets the model's answer."""
    ep = script_episode(sample_script)
    srv.push({}, {"drop": True}, {"drop": True})  # chapter 1 answered; chapter 2's first two tries dropped
    settings = LLMSettings(model="test-model", base_url=srv.url, backoff=0.01, cache=False)
    r = summarize(ep, llm_settings=settings)
    assert all(s.method == "llm" and not s.details.get("fallback") for s in r.episode.summaries.values())
    assert len(srv.chat_requests) == len(ep.chapters) + 1 + 2 and not r.notes[:-1]


def test_a_server_gone_mid_run_fails_parts_not_the_run(srv, sample_script):
    """The server answers once, then every connection closes without an answer: the parts that
    follow fall back (each after its retries, the breaker counting them), and the run still ends
    with every summary written, instead of stopping as if the server had never been there."""
    ep = script_episode(sample_script)
    srv.push({}, *[{"drop": True}] * 40)
    settings = LLMSettings(model="test-model", base_url=srv.url, backoff=0.01, cache=False, max_retries=2)
    r = summarize(ep, llm_settings=settings)
    parts = r.episode.summaries
    assert parts["chapter-0"].method == "llm" and not parts["chapter-0"].details.get("fallback")
    later = [parts[f"chapter-{i}"] for i in range(1, len(ep.chapters))] + [parts["episode"]]
    assert all(s.details.get("fallback") for s in later)
    lost = [n for n in r.notes if n.startswith("chapter ") and "lost the LLM server" in n]
    assert len(lost) == 2 and all("after it had answered (3 attempts" in n for n in lost)  # then the breaker
    assert len([n for n in r.notes if "not calling the LLM server" in n]) == 1
    assert len(srv.chat_requests) == 1 + 2 * 3


def _wait_for(check, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    assert check()
