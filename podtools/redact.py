"""Secrets kept out of everything podtools prints or writes.

Every API key podtools reads (from the environment, or the password of a base URL's
``user:password@``) is remembered here; :func:`redact` removes those, anything shaped like a
key and the credentials of ``Authorization``-style headers from a text. The CLI's log handler
formats every record through :class:`RedactingFormatter`, whatever logger it comes from (the
OpenAI client logs as ``httpx``, ``httpcore``, ``openai`` ... and may log the base URL with its
userinfo), and LLM answers are passed through :func:`redact_known` before they reach the cache
or an output, so a server that echoes the key does not get it written to a file.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse

from .textsafe import terminal_text

_KEYLIKE = re.compile(r"\b(?:sk|rk|pk|sess|key)-[A-Za-z0-9_\-*.]{6,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9+/=._~\-]{6,}")
_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key|openai-api-key)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+")
_USERINFO = re.compile(r"(?i)\b(https?://[^/\s:@]*:)[^/\s@]+@")
_known: set[str] = set()
_lock = threading.Lock()


def remember(secret: str | None) -> None:
    """Treat ``secret`` (an API key, a password) as a secret from now on in this process."""
    if secret and len(secret) >= 4:
        with _lock:
            _known.add(secret)


def remember_url(url: str | None) -> None:
    """Remember the password (and a user name that looks like a key) in ``url``'s userinfo."""
    if not url:
        return
    try:
        parts = urllib.parse.urlsplit(url)
        password, user = parts.password, parts.username
    except ValueError:
        return
    for value in (password, urllib.parse.unquote(password or "") or None):
        remember(value)
    if user and password is None:  # http://KEY@host: the key is the user name
        remember(user)


def redact_known(text: str) -> str:
    """``text`` without any secret podtools has read (exact matches only: safe for LLM answers)."""
    if not text:
        return text
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for s in secrets:
        text = text.replace(s, "[redacted]")
    return text


def redact(text: str) -> str:
    """``text`` without secrets podtools has read, anything shaped like a key, credentials in
    URLs and in ``Authorization``/``api-key`` headers."""
    if not text:
        return text
    text = redact_known(text)
    text = _KEYLIKE.sub("[redacted]", text)
    text = _USERINFO.sub(r"\1[redacted]@", text)
    text = _HEADER.sub(r"\1\2[redacted]", text)
    return _BEARER.sub(r"\1\2[redacted]", text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message so that no key reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter for a handler: the whole formatted record (message, arguments, traceback)
    redacted, and on a terminal without escape sequences."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_text(redact(super().format(record)))
