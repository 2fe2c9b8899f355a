"""The ``podtools`` command group: global options, logging, and one line (never a traceback) for
every error. Each topic's module adds its commands to :data:`cli`."""

from __future__ import annotations

import logging
import os
import sys

import click

from .. import __version__
from ..errors import PodtoolsError
from ..redact import RedactingFormatter, redact
from ..textsafe import one_line


def _one_line(exc: object) -> str:
    """An error as one line: no escape codes, no key, whitespace runs (newlines) as one space."""
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
    for handler in logging.getLogger().handlers:  # every record, from any logger: no key, no escape codes
        handler.setFormatter(RedactingFormatter("%(name)s: %(message)s"))
    if verbose < 2:
        # faster-whisper logs VAD statistics at INFO; keep them for -vv
        logging.getLogger("faster_whisper").setLevel(max(level, logging.WARNING))
