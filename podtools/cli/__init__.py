"""The ``podtools`` command. Commands live in one module per topic; they parse options, show
progress and call library functions. Library errors become one line on stderr and a non-zero
exit; nothing here imports torch or faster-whisper at start-up.

The one place where imports of podtools' own modules sit inside functions on purpose: each
command imports the library it calls when it runs, so that ``podtools --help`` and a command's
``--help`` load only click and the options models (about 0.2 s).
"""

from __future__ import annotations

from .group import cli


def _register() -> None:
    from . import ingest  # noqa: F401  (commands register themselves on import)
    from . import summarize  # noqa: F401  (summarize, render)
    from . import batch  # noqa: F401  (batch, search, trends, catalog)
    from . import chapters  # noqa: F401  (chapters)
    from . import diarize  # noqa: F401  (diarize)
    from . import mentions  # noqa: F401  (mentions)
    from . import voices  # noqa: F401  (voices add|list|remove)
    from . import fix  # noqa: F401  (fix, speakers)
    from . import publish  # noqa: F401  (feed)


_register()


def main() -> None:
    cli(prog_name="podtools")
