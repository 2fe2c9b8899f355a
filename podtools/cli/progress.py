"""Progress display for the CLI: a rich bar per stage that advances with audio time."""

from __future__ import annotations

import click

from ..textsafe import one_line as clean_line, terminal_text  # noqa: F401  (clean_line: one cell or line)


class RichProgress:
    """Implements :class:`podtools.progress.Progress` on stderr."""

    def __init__(self, label: str = "", enabled: bool = True):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self.quiet = not enabled
        self.label = label
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[pos]}"),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.enabled,
        )
        self._task = None
        self.notes: list[str] = []

    def __enter__(self):
        self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        self._bar.__exit__(*exc)
        for note in self.notes:
            if not self.quiet:
                echo(f"podtools: {clean_line(note)}", err=True)

    def stage(self, name: str, total: float | None = None) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=self._bar.tasks[self._task].total or 1, visible=False)
        from rich.markup import escape

        desc = escape(clean_line(f"{self.label} {name}".strip()))  # a title is not rich markup
        self._task = self._bar.add_task(desc, total=total or None, pos="", status="")

    def advance(self, done: float) -> None:
        if self._task is not None:
            total = self._bar.tasks[self._task].total
            pos = f"{_mmss(done)}/{_mmss(total)}" if total else _mmss(done)
            self._bar.update(self._task, completed=done, pos=pos)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def status(self, text: str) -> None:
        if self._task is not None:
            from rich.markup import escape

            self._bar.update(self._task, status=escape(clean_line(text)))


def _mmss(seconds: float | None) -> str:
    s = int(seconds or 0)
    return f"{s // 60}:{s % 60:02d}"


def echo(message: object = "", err: bool = False, nl: bool = True) -> None:
    """``click.echo`` for text that may hold untrusted parts (titles from feeds and tags,
    transcript snippets, names): escape sequences and bidi overrides never reach the terminal."""
    click.echo(terminal_text(message), err=err, nl=nl)
