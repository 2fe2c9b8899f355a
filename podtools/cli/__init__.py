"""The ``podtools`` command. Commands live in one module per topic; they parse options, show
progress and call library functions. Library errors become one line on stderr and a non-zero
exit; nothing here imports torch or faster-whisper at start-up.

The one place where imports of podtools' own modules sit inside functions on purpose: each
command imports the library it calls when it runs, so that ``podtools --help`` and a command's
``--help`` load only click and the options models (about 0.2 s).
"""

from __future__ import annotations

import logging
import os
import sys

import click

from .. import __version__
from ..errors import PodtoolsError


def _one_line(exc: object) -> str:
    """An error as one line: no escape codes, no key, whitespace runs (newlines) as one space."""
    from ..redact import redact
    from ..textsafe import one_line

    return " ".join(one_line(redact(str(exc))).split())


class PodtoolsGroup(click.Group):
    """Turns library errors into a one-line message and the error's exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PodtoolsError as exc:
            click.echo(f"podtools: error: {_one_line(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("podtools: interrupted; files already written are intact", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: one line for the user, the traceback with --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(
                f"podtools: internal error: {type(exc).__name__}: {_one_line(first)} "
                "(re-run with --debug for the traceback and please report it)",
                err=True,
            )
            ctx.exit(70)


@click.group(cls=PodtoolsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="podtools")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks of internal errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, debug: bool) -> None:
    """Podcast episodes to transcripts, chapters, AI model mentions, summaries and show notes."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug or bool(os.environ.get("PODTOOLS_DEBUG"))
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(name)s: %(message)s", stream=sys.stderr)
    from ..redact import RedactingFormatter

    for handler in logging.getLogger().handlers:  # every record, from any logger: no key, no escape codes
        handler.setFormatter(RedactingFormatter("%(name)s: %(message)s"))
    if verbose < 2:
        # faster-whisper logs VAD statistics at INFO; keep them for -vv
        logging.getLogger("faster_whisper").setLevel(max(level, logging.WARNING))


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
