"""The LLM client: one :class:`LLM` per run, over the ``openai`` package (any OpenAI-compatible
server): pacing (requests in flight, first-token and idle limits through :mod:`.stream`, the
circuit breaker), structured answers (the best response_format the server takes, one repair),
the answer cache, preflight and the dry-run probe. Imports the package's settings, usage and
schema modules; nothing in podtools above the ground floor."""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, TypeVar

from pydantic import BaseModel

from ..errors import ConfigError, ModelError
from ..redact import RedactingFilter, redact, redact_known, remember, remember_url
from .schema import Validator, _parse, _repair_prompt, _strict_schema, _with_json_instructions, narrow_schema
from .settings import LLMSettings, _safe_url
from .cache import AnswerCache
from .preflight import Preflight
from .stream import Abandoned, Silent, _short, read_stream
from .usage import CallRecord, TokenCounter, Usage, cost_of, load_prices, price_for

log = logging.getLogger("podtools.llm")

MAX_RETRY_WAIT = 60.0  # seconds: longest single wait between retries, Retry-After included
T = TypeVar("T", bound=BaseModel)

HOSTED_CONCURRENCY = 4  # requests in flight to a hosted API (unless [llm] concurrency says otherwise)
ALIVE_TIMEOUT = 5.0  # seconds for GET /models to reply after a request got nothing at all
FIRST_TOKEN_BASE = 30.0  # seconds a streamed answer may take to start, on top of reading the prompt
ASSUMED_PROMPT_RATE = 20.0  # prompt tokens/s assumed until measured (a laptop CPU with an 8B model)


# -- secrets ------------------------------------------------------------------------------------

_filter = RedactingFilter()


def _install_log_filters() -> None:
    # for library users; the CLI's handler redacts every record whatever its logger (podtools.redact)
    for name in ("openai", "openai._base_client", "httpx", "httpx2", "httpcore", "httpcore.http11",
                 "httpcore.connection", "podtools.llm"):
        lg = logging.getLogger(name)
        if _filter not in lg.filters:
            lg.addFilter(_filter)


def _remember_secret(secret: str) -> None:
    remember(secret)



# -- the client ---------------------------------------------------------------------------------


class InvalidAnswer(ModelError):
    """The model's answer was not valid JSON for the schema, even after one repair attempt."""


class Refusal(ModelError):
    """The model refused to answer."""


class CircuitOpen(ModelError):
    """The server failed too often in a row: not called again in this run."""


class _Unsupported(Exception):
    """The server rejected a structured-output mode (some answer 400/422, llama.cpp 500)."""


@dataclass
class _Stats:
    sends: int = 0
    planned: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    mode: str = ""


@dataclass
class Answer:
    text: Optional[str]  # None in a dry run
    data: Optional[BaseModel]  # the validated object, for structured calls
    cached: bool
    record: CallRecord


class LLM(Preflight):
    """A configured connection to one model. Thread-safe: map calls may run concurrently.

    ``dry_run=True`` sends nothing: cached answers are returned as usual and every other call
    is recorded with its prompt's token count and answers ``None``.
    """

    def __init__(self, settings: LLMSettings, cache_dir: Path | None = None, dry_run: bool = False):
        if not settings.enabled:
            raise ConfigError("no LLM model configured (--llm-model, PODTOOLS_LLM_MODEL or [llm] model)")
        self.settings = settings
        self.dry_run = dry_run
        self.base_url = settings.effective_base_url()
        remember_url(self.base_url)  # a key in http://user:KEY@host/v1 is a secret too
        self.key_env = settings.effective_key_env()
        self._key = self._read_key()
        self.counter = TokenCounter(settings.model)
        table, self.price_files = load_prices(settings)
        self.usage = Usage(settings.model or "", _safe_url(self.base_url) or "https://api.openai.com/v1",
                           price_for(settings, table), self.counter.method)
        self._cache_root = cache_dir  # as given (a dry-run planner shares it)
        self.cache = AnswerCache(settings, self.base_url, cache_dir)
        self._client = None
        self._lock = threading.Lock()
        self._mode: Optional[str] = None if settings.structured == "auto" else settings.structured
        self._mode_confirmed = settings.structured != "auto"
        # pacing: how many requests the server runs at once, how fast it reads a prompt (tokens/s,
        # measured on streamed answers), and the circuit breaker over consecutive failures
        self._slots: Optional[int] = None
        self._prompt_rate: Optional[float] = None
        self._failures = 0
        self._answered = False  # the server has answered a request in this run
        self._open: Optional[str] = None
        _install_log_filters()

    # -- setup --------------------------------------------------------------------------------

    def _read_key(self) -> str:
        preset = self.settings.preset()
        needs = preset.needs_key if preset else self.base_url is None
        var = self.key_env
        key = os.environ.get(var, "") if var else ""
        if not key and (needs or self.settings.key_env):
            where = "--llm-key-env or [llm] key_env" if not self.settings.key_env else "it"
            raise ConfigError(
                f"no API key for {self.settings.model}: the environment variable {var} is not set "
                f"(export {var}=..., or name another variable with {where})"
            )
        _remember_secret(key)
        return key or "no-key-needed"

    @property
    def where(self) -> str:
        return self.usage.base_url or "https://api.openai.com/v1"

    def cache_dir(self) -> Path:
        return self.cache.root

    # -- pacing ------------------------------------------------------------------------------

    def streaming(self) -> bool:
        """Stream answers: as configured, else for local servers (slow, and paced by limits)."""
        return self.settings.stream if self.settings.stream is not None else self.settings.is_local()

    def concurrency(self) -> int:
        """Requests to keep in flight: the setting; else what the server says it runs at once
        (llama.cpp ``GET /props`` -> ``total_slots``), 1 for any other local or unknown server
        (Ollama and LM Studio serve one at a time unless told otherwise), 4 for hosted APIs."""
        if self.settings.concurrency:
            return self.settings.concurrency
        with self._lock:
            if self._slots is None:
                self._slots = self._server_slots()
            return self._slots

    def _server_slots(self) -> int:
        preset = self.settings.preset()
        if not self.settings.is_local() and (self.base_url is None or (preset is not None and not preset.local)):
            return HOSTED_CONCURRENCY
        if self.dry_run or not self.base_url:
            return 1
        import httpx

        root = self.base_url.rstrip("/")
        root = root[: -len("/v1")] if root.endswith("/v1") else root
        try:
            resp = httpx.get(f"{root}/props", timeout=5.0, headers={"Authorization": f"Bearer {self._key}"})
            slots = resp.json().get("total_slots") if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            slots = None
        if isinstance(slots, int) and not isinstance(slots, bool) and slots >= 1:
            log.info("%s runs %d request(s) at once (/props total_slots)", self.where, slots)
            return min(slots, 64)
        log.info("%s: concurrency 1 (a local server that does not say how many requests it runs at once; "
                 "set [llm] concurrency to change it)", self.where)
        return 1

    def first_token_limit(self, prompt_tokens: int) -> float:
        """Seconds a streamed answer may take to start: reading the prompt takes time on a slow
        server, so the limit grows with the prompt at the server's measured prompt speed."""
        if self.settings.first_token_timeout:
            return self.settings.first_token_timeout
        rate = self._prompt_rate or ASSUMED_PROMPT_RATE
        return FIRST_TOKEN_BASE + prompt_tokens / rate

    def _measured(self, prompt_tokens: int, first_token_seconds: float) -> None:
        if prompt_tokens >= 64 and first_token_seconds > 0.05:
            rate = prompt_tokens / first_token_seconds
            with self._lock:  # slowest of the recent answers counts most: limits stay generous
                self._prompt_rate = rate if self._prompt_rate is None else min(rate, 0.5 * (rate + self._prompt_rate))

    def _failed(self, reason: str) -> None:
        """One request failed for good (after its retries): open the breaker after a few in a row."""
        with self._lock:
            self._failures += 1
            if self._failures >= self.settings.breaker and self._open is None:
                self._open = reason
                log.warning("%s failed %d times in a row (%s); not calling it again in this run: the rest falls "
                            "back to extractive summaries", self.where, self._failures, reason)

    def _trip(self, reason: str) -> None:
        """Open the breaker now: the server is known to be dead, not merely slow."""
        with self._lock:
            if self._open is None:
                self._open = reason
                log.warning("%s; not calling it again in this run: the rest falls back to extractive summaries",
                            reason)

    def _answers(self) -> bool:
        """Whether the server replies at all: GET /models (any HTTP status) within ALIVE_TIMEOUT."""
        import openai

        try:
            self.client.with_options(timeout=ALIVE_TIMEOUT).models.list()
        except openai.APIConnectionError:  # silence (openai's time-out is a connection error too)
            return False
        except Exception:  # noqa: BLE001 - any HTTP status is a reply
            return True
        return True

    def _succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._answered = True

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                import openai

                common = dict(api_key=self._key, timeout=self.settings.timeout, max_retries=0)
                if self.settings.provider == "azure":
                    if not self.settings.base_url:
                        raise ConfigError("Azure OpenAI needs --llm-base-url https://<resource>.openai.azure.com")
                    self._client = openai.AzureOpenAI(
                        azure_endpoint=self.settings.base_url,
                        api_version=self.settings.api_version or "2024-10-21",
                        **common,
                    )
                else:
                    self._client = openai.OpenAI(base_url=self.base_url, **common)
            return self._client

    # -- calls ---------------------------------------------------------------------------------

    def complete(self, messages: list[dict[str, str]], name: str = "call", max_tokens: int | None = None) -> Answer:
        """A plain text answer."""
        return self._complete(messages, None, name, max_tokens, None)

    def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: type[T],
        name: str = "call",
        max_tokens: int | None = None,
        check: Validator | None = None,
        bounds: dict[str, dict[str, Any]] | None = None,
    ) -> Answer:
        """An answer validated against ``schema`` (and ``check``, which returns a list of problems).

        ``bounds`` are JSON Schema keywords for this call at dotted paths of the schema
        (``{"key_points": {"maxItems": 4}, "key_points[].segment": {"enum": [3, 4, 5]}}``, see
        :func:`narrow_schema`). A local server gets them in the schema of its response format,
        where its grammar enforces them while the model writes (the ids it may cite, how long a
        text may run, how many items a list may have), so a small model cannot cite a line it was
        not shown or write until the token cap. Hosted APIs get the plain schema (their strict
        modes reject some of these keywords); every answer is checked the same way afterwards."""
        return self._complete(messages, schema, name, max_tokens, check, bounds)

    def _complete(self, messages, schema, name, max_tokens, check, bounds=None) -> Answer:
        max_tokens = max_tokens or self.settings.max_output_tokens
        schemas = None  # (the schema the prompt shows, the one the server's grammar enforces)
        if schema is not None:
            plain = _strict_schema(schema)
            schemas = (plain, narrow_schema(plain, bounds) if bounds and self.settings.is_local() else plain)
        t0 = time.perf_counter()
        stats = _Stats()

        def record() -> CallRecord:
            rec = CallRecord(name, stats.prompt_tokens, stats.completion_tokens, stats.sends == 0 and not stats.planned,
                             time.perf_counter() - t0, stats.estimated, dry_run=stats.planned, mode=stats.mode)
            self._record(rec)
            return rec

        text = redact_known(self._fetch(messages, max_tokens, schema, schemas, name, stats))
        if text is None or schema is None:
            rec = record()
            return Answer(text, None, rec.cached, rec)
        data, problems = _parse(text, schema, check)
        if problems:
            log.info("%s: answer not valid (%s); asking once to repair it", name, redact(problems[0]))
            repair = messages + [
                {"role": "assistant", "content": text},
                {"role": "user", "content": _repair_prompt(problems, schemas[0])},
            ]
            text = redact_known(self._fetch(repair, max_tokens, schema, schemas, name, stats))
            if text is None:
                rec = record()
                return Answer(None, None, False, rec)
            data, problems = _parse(text, schema, check)
            if problems:
                record()
                raise InvalidAnswer(
                    f"model {self.settings.model} at {self.where} gave an invalid answer for {name} twice "
                    f"({redact(problems[0])})"
                )
        rec = record()
        return Answer(text, data, rec.cached, rec)

    def _fetch(self, messages, max_tokens, schema, schemas, name, stats: "_Stats") -> Optional[str]:
        """One answer's raw text: from the cache, else from the server (then cached). None in a dry run.

        Raw answers are cached, valid or not, so that a re-run replays the same repair path
        and sends nothing.
        """
        key = self.cache.key(messages, schemas[1] if schemas else None, max_tokens)
        entry = self.cache.get(key)
        if entry is not None:
            log.debug("%s: answered from the cache", name)
            return entry["text"]
        if self.dry_run:
            stats.planned = True
            stats.prompt_tokens += self.counter.count_messages(messages)
            stats.completion_tokens += max_tokens
            stats.estimated = stats.estimated or not self.counter.exact
            return None
        self._check_budget(messages, max_tokens)
        if schema is None:
            text, pt, ct, est, mode = self._send(messages, max_tokens, None, "text")
        else:
            text, pt, ct, est, mode = self._send_structured(messages, max_tokens, schema, schemas)
        stats.sends += 1
        stats.prompt_tokens += pt
        stats.completion_tokens += ct
        stats.estimated = stats.estimated or est
        stats.mode = mode
        self.cache.put(key, name, text, pt, ct, est)
        return text

    def _record(self, rec: CallRecord) -> None:
        with self._lock:
            self.usage.records.append(rec)

    def _check_budget(self, messages, max_tokens: int) -> None:
        limit = self.settings.max_cost
        if limit is None or self.usage.price is None:
            return
        with self._lock:
            spent = self.usage.cost or 0.0
        worst = cost_of(self.usage.price, self.counter.count_messages(messages), max_tokens)
        if spent + worst > limit:
            raise ConfigError(
                f"stopping: the next LLM call could bring the cost to ${spent + worst:.4f}, above --max-cost "
                f"${limit:.4f} (spent ${spent:.4f}); answers so far are cached"
            )

    def _send_structured(self, messages, max_tokens, schema, schemas):
        """Send with the best structured-output mode the server accepts (learned once per LLM)."""
        while True:
            with self._lock:
                mode = self._mode or "json_schema"
                probe = not self._mode_confirmed
            try:
                result = self._send(messages, max_tokens, (schema, schemas), mode, probe=probe)
            except _Unsupported as exc:
                nxt = {"json_schema": "json_object_schema", "json_object_schema": "json_object",
                       "json_object": "prompt"}.get(mode)
                if nxt is None:
                    raise ModelError(f"the LLM server at {self.where} rejected the request ({exc})") from None
                log.info("%s rejected response_format %s (%s); falling back to %s", self.where, mode, exc,
                         "prompted JSON" if nxt == "prompt" else nxt)
                with self._lock:
                    if self._mode in (None, mode):
                        self._mode = nxt
                continue
            with self._lock:
                if self._mode in (None, mode):
                    self._mode, self._mode_confirmed = mode, True
            return result

    def _request(self, messages, max_tokens, structured, mode) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.settings.model, "messages": messages}
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        if self.base_url is None and self.settings.provider in (None, "openai"):
            kwargs["max_completion_tokens"] = max_tokens  # OpenAI's reasoning models reject max_tokens
        else:
            kwargs["max_tokens"] = max_tokens
        if structured is not None:
            schema, (json_schema, grammar) = structured
            if mode == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": schema.__name__, "schema": grammar, "strict": True},
                }
            else:
                if mode == "json_object_schema":  # llama-cpp-python's server: a grammar from the schema
                    kwargs["response_format"] = {"type": "json_object", "schema": grammar}
                elif mode == "json_object":
                    kwargs["response_format"] = {"type": "json_object"}
                kwargs["messages"] = _with_json_instructions(messages, json_schema)
        if self.streaming():
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}  # the server's own token counts, at the end
        return kwargs

    def _send(self, messages, max_tokens, structured, mode, probe: bool = False):
        """One request with retries. Returns (text, prompt_tokens, completion_tokens, estimated, mode).

        Failures that say the server is dead or hopeless (time-outs, streams abandoned for
        their first-token or idle limit, dropped connections, server errors after the retries)
        count towards the circuit breaker; once open, no request is sent in this run."""
        if self._open is not None:
            raise CircuitOpen(f"not calling the LLM server at {self.where} again in this run ({self._open})")
        try:
            out = self._send_once(messages, max_tokens, structured, mode, probe)
        except (ConfigError, InvalidAnswer, Refusal, _Unsupported):
            raise
        except ModelError as exc:
            self._failed(str(exc).split(" (")[0][-120:])
            raise
        self._succeeded()
        return out

    def _send_once(self, messages, max_tokens, structured, mode, probe: bool = False):
        import openai

        kwargs = self._request(messages, max_tokens, structured, mode)
        s = self.settings
        attempt = 0
        while True:
            try:
                if kwargs.get("stream"):
                    text, finish, refusal, usage = read_stream(self, kwargs)
                else:
                    resp = self.client.chat.completions.create(**kwargs)
                    text, finish, refusal, usage = self._unpack(resp)
                break
            except Abandoned as exc:  # not retried: the breaker decides whether the server is hopeless
                if isinstance(exc, Silent) and not self._answers():
                    self._trip(f"the LLM server at {self.where} answers nothing: {exc}, and no reply to GET "
                               f"/models within {ALIVE_TIMEOUT:g} s")
                raise ModelError(f"the LLM server at {self.where} {exc}; request abandoned "
                                 "(raise [llm] first_token_timeout / idle_timeout, or use a faster model)") from None
            except openai.AuthenticationError:
                raise ConfigError(self._auth_message(401)) from None
            except openai.PermissionDeniedError:
                raise ConfigError(self._auth_message(403)) from None
            except openai.NotFoundError:
                raise ConfigError(self._model_missing_message(self._list_models_quietly())) from None
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if probe and structured is not None and mode != "prompt":
                    raise _Unsupported(f"HTTP {exc.status_code}") from None
                raise ModelError(f"the LLM server at {self.where} rejected the request "
                                 f"(HTTP {exc.status_code}: {_short(exc)})") from None
            except openai.APIResponseValidationError:
                raise ModelError(self._not_api_message("an answer that is not a chat completion")) from None
            except json.JSONDecodeError:  # a JSON content type with a broken body (a proxy's cut page ...)
                if attempt >= s.max_retries:
                    raise ModelError(f"the LLM server at {self.where} kept answering with a body that is not "
                                     f"valid JSON ({attempt + 1} attempts)") from None
                wait = min(s.backoff * (2 ** attempt) * (1 + 0.25 * random.random()), MAX_RETRY_WAIT)
                log.warning("%s: answer body is not valid JSON; retry %d of %d in %.1f s", self.where, attempt + 1,
                            s.max_retries, wait)
                time.sleep(wait)
                attempt += 1
            except (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
                    openai.APIConnectionError, openai.APIStatusError) as exc:
                status = getattr(exc, "status_code", None)
                if isinstance(exc, openai.APIStatusError) and not isinstance(
                        exc, (openai.RateLimitError, openai.InternalServerError)):
                    if status in (408, 409) or (status or 0) >= 500:
                        pass  # retryable
                    else:
                        raise ModelError(f"the LLM server at {self.where} answered HTTP {status}: {_short(exc)}") from None
                if probe and structured is not None and mode != "prompt" and status == 500:
                    raise _Unsupported(f"HTTP {status}") from None
                connection = isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError)
                # a server that answered earlier in this run and is gone now is restarting: wait for it
                # through every retry; one never reached is not running: say so after one
                limit = min(s.max_retries, 1) if connection and not self._answered else s.max_retries
                if isinstance(exc, openai.APITimeoutError):  # a local server is still busy with the abandoned one
                    limit = 0 if s.is_local() else min(s.max_retries, 1)
                if attempt >= limit:
                    if isinstance(exc, openai.APITimeoutError):
                        raise ModelError(f"the LLM server at {self.where} did not answer within {s.timeout:g} s "
                                         f"({attempt + 1} attempts); raise [llm] timeout or use a faster model") from None
                    if connection and self._answered:  # this part falls back; the breaker counts it
                        raise ModelError(f"lost the LLM server at {self.where} after it had answered "
                                         f"({attempt + 1} attempts: {_short(exc)})") from None
                    if connection:
                        raise ConfigError(self._connection_message(exc)) from None
                    raise ModelError(f"the LLM server at {self.where} kept failing (HTTP {status} after "
                                     f"{attempt + 1} attempts: {_short(exc)})") from None
                wait = _retry_after(exc)
                if wait is None:
                    wait = s.backoff * (2 ** attempt) * (1 + 0.25 * random.random())
                wait = min(wait, MAX_RETRY_WAIT)
                what = "timed out" if isinstance(exc, openai.APITimeoutError) else (
                    "connection failed" if connection else f"HTTP {status}")
                log.warning("%s: %s; retry %d of %d in %.1f s", self.where, what, attempt + 1, limit, wait)
                time.sleep(wait)
                attempt += 1
        if refusal:
            raise Refusal(f"model {s.model} refused: {redact(refusal)[:200]}")
        if text is None:
            raise ModelError(self._not_api_message("no message in the answer"))
        if finish == "length":
            log.info("answer hit the %d-token limit (finish_reason=length)", max_tokens)
        if usage is not None and usage[0] is not None:
            return text, int(usage[0]), int(usage[1] or 0), False, mode
        return text, self.counter.count_messages(kwargs["messages"]), self.counter.count(text), True, mode

    def _unpack(self, resp):
        from openai.types.chat import ChatCompletion

        if not isinstance(resp, ChatCompletion):
            kind = "an HTML page" if isinstance(resp, str) and "<html" in resp[:500].lower() else "non-JSON text"
            raise ModelError(self._not_api_message(f"it answered {kind}"))
        choices = resp.choices if isinstance(resp.choices, list) else None
        if not choices:
            raise ModelError(self._not_api_message("an answer without choices"))
        msg = getattr(choices[0], "message", None)
        if msg is None:
            raise ModelError(self._not_api_message("an answer without a message"))
        text = msg.content if isinstance(msg.content, str) else None
        refusal = getattr(msg, "refusal", None)
        u = resp.usage
        usage = (getattr(u, "prompt_tokens", None), getattr(u, "completion_tokens", None)) if u else None
        return text, choices[0].finish_reason, refusal, usage

def _retry_after(exc: Exception) -> Optional[float]:
    resp = getattr(exc, "response", None)
    if resp is None:
        return None
    for header in ("retry-after-ms", "retry-after"):
        value = resp.headers.get(header)
        if value:
            try:
                seconds = float(value) / (1000 if header.endswith("ms") else 1)
                return max(0.0, seconds)
            except ValueError:
                return None
    return None

