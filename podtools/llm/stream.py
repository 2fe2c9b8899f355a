"""Streamed answers from a local server, watched: the first-token and idle limits, and hanging
up on an answer that breaks one (the server then stops generating it). May import the LLM
package's errors; the client (:mod:`podtools.llm.client`) calls :func:`read_stream`."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Optional

from ..errors import ModelError
from ..redact import redact

if TYPE_CHECKING:  # pragma: no cover
    from .client import LLM


class Abandoned(Exception):
    """A streamed answer did not start, or stopped, within its limits; the stream was closed."""


class Silent(Abandoned):
    """Not even the response's headers came within the first-token limit."""


def read_stream(llm: "LLM", kwargs: dict[str, Any], timing: Optional[dict[str, Any]] = None):
    """A streamed answer, watched: it must start within :meth:`LLM.first_token_limit` and never
    go ``[llm] idle_timeout`` seconds without a token. An answer that breaks a limit is
    abandoned by closing the connection, so the server stops generating it (llama.cpp
    frees the slot when the client goes away) instead of working for nobody. ``timing``,
    when given, receives the monotonic ``start``, ``first`` (token) and ``end`` times and
    the number of text ``pieces`` received."""
    import httpx

    prompt_tokens = llm.counter.count_messages(kwargs["messages"])
    first_limit = llm.first_token_limit(prompt_tokens)
    idle = llm.settings.idle_timeout
    parts: list[str] = []
    finish = refusal = None
    usage = None
    t0 = time.monotonic()
    state = {"first": None, "last": t0, "why": None, "pieces": 0}
    done = threading.Event()
    # the socket timeout is a backstop; the opener (headers) and the watchdog (tokens) enforce the limits
    client = llm.client.with_options(timeout=httpx.Timeout(max(first_limit, idle) + 5.0, connect=10.0))
    # the request is opened on a helper thread so that a server that sends nothing, not even
    # headers, is left at the first-token limit, not at the socket's backstop; if its answer
    # starts later after all, the helper hangs up on it
    opened: dict[str, Any] = {}
    gone = threading.Event()

    def open_request() -> None:
        try:
            opened["stream"] = client.chat.completions.create(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            opened["error"] = exc
        if gone.is_set() and "stream" in opened:
            _hang_up(opened["stream"])

    opener = threading.Thread(target=open_request, name="llm-stream-open", daemon=True)
    opener.start()
    opener.join(first_limit)
    if opener.is_alive():
        gone.set()
        if "stream" in opened:  # it came in the same instant
            _hang_up(opened["stream"])
        raise Silent(f"sent nothing within {first_limit:.0f} s (first-token limit for a "
                      f"{prompt_tokens}-token prompt)")
    if "error" in opened:
        raise opened["error"]
    stream = opened["stream"]
    if isinstance(stream, str):
        raise ModelError(llm._not_api_message("it answered non-JSON text"))

    def watch() -> None:
        while not done.wait(0.1):
            now = time.monotonic()
            if state["first"] is None and now - t0 > first_limit:
                state["why"] = (f"sent no token within {first_limit:.0f} s "
                                f"(first-token limit for a {prompt_tokens}-token prompt)")
            elif state["first"] is not None and now - state["last"] > idle:
                state["why"] = f"sent no token for {idle:g} s (idle limit)"
            if state["why"]:
                _hang_up(stream)
                return

    watchdog = threading.Thread(target=watch, name="llm-stream-watchdog", daemon=True)
    watchdog.start()
    chunks = 0
    try:
        for chunk in stream:
            chunks += 1
            now = time.monotonic()
            if getattr(chunk, "usage", None):
                usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta is not None and delta.content:
                    parts.append(delta.content)
                    state["pieces"] += 1
                    if state["first"] is None:
                        state["first"] = now
                        llm._measured(prompt_tokens, now - t0)
                    state["last"] = now
                if delta is not None and getattr(delta, "refusal", None):
                    refusal = (refusal or "") + delta.refusal
                if choice.finish_reason:
                    finish = choice.finish_reason
    except Exception:
        if state["why"]:
            raise Abandoned(state["why"]) from None
        raise
    finally:
        done.set()
        with contextlib.suppress(Exception):
            stream.close()
        if timing is not None:
            timing.update(start=t0, first=state["first"], end=time.monotonic(), pieces=state["pieces"])
    if state["why"]:
        raise Abandoned(state["why"])
    if not chunks:  # a body that is not an event stream (a JSON error page, a proxy's reply ...)
        raise ModelError(llm._not_api_message("an answer that is not an event stream"))
    return "".join(parts), finish, refusal, usage




def _hang_up(stream) -> None:
    """Close a streamed response from another thread: shut the socket down first, which wakes
    the thread blocked reading it (closing alone does not) and tells the server we left."""
    import socket as socket_mod

    response = getattr(stream, "response", None)
    network = (getattr(response, "extensions", None) or {}).get("network_stream")
    sock = network.get_extra_info("socket") if network is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket_mod.SHUT_RDWR)
    with contextlib.suppress(Exception):
        stream.close()


def _short(exc: Exception, limit: int = 200) -> str:
    """An error's message, keys removed, HTML tags stripped, cut to one short line."""
    body = getattr(exc, "body", None)
    msg = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else (inner if isinstance(inner, str) else None)
    if msg is None and isinstance(body, str) and body.strip():
        msg = body
    text = str(msg or getattr(exc, "message", None) or exc)
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return redact(text)[:limit]
