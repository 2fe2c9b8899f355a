"""What podtools checks and says about an LLM server before and around its calls: the preflight
(server, key and model, before any long work), the --dry-run speed probe, and the one-line
messages for a rejected key, a refused connection, a server that is not an OpenAI API and a
model it does not serve. A mixin of :class:`podtools.llm.client.LLM`; imports the stream reader
and usage records, never the client."""

from __future__ import annotations

import logging
from typing import Any

from ..errors import ConfigError, ModelError
from .stream import _short, read_stream
from .usage import Speed

log = logging.getLogger("podtools.llm")

PROBE_TOKENS = 32  # answer tokens of the --dry-run speed probe


class Preflight:
    """The checks and messages of :class:`~podtools.llm.client.LLM` (``settings``, ``client``,
    ``counter``, ``where``, ``key_env`` and ``dry_run`` are the client's)."""

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
            text, _, _, usage = read_stream(self, kwargs, timing)
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

