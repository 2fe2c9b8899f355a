"""LLM settings: provider presets, known context windows, :class:`LLMSettings` and how they are
resolved (preset < config file < ``PODTOOLS_LLM_*`` < flags). Ground floor only."""

from __future__ import annotations

import os
import tomllib
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError, validation_problem


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

