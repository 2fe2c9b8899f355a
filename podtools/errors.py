"""Errors a user can act on. The CLI prints ``str(error)`` as one line and exits non-zero."""

from __future__ import annotations

from pathlib import Path


class PodtoolsError(Exception):
    """Base class: a problem with the user's input, settings or environment (not a bug)."""

    exit_code = 1

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


class InputError(PodtoolsError):
    """The input file or URL cannot be used (missing, empty, not audio, truncated ...)."""

    exit_code = 2


class OutputError(PodtoolsError):
    """An output cannot be written (unwritable directory, disk full ...)."""

    exit_code = 3


class ModelError(PodtoolsError):
    """A model cannot be loaded (unknown name, no hub access, missing extra ...)."""

    exit_code = 4


class DeviceError(PodtoolsError):
    """The requested compute device is not available."""

    exit_code = 5


class ConfigError(PodtoolsError):
    """A pipeline preset or option is invalid."""

    exit_code = 6


def validation_problem(exc) -> str:
    """A pydantic ``ValidationError`` as ``"where: what"`` (its first error; ``where`` is the
    dotted location of the field), for a one-line message."""
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
