"""Progress display for the CLI: a rich bar per stage that advances with audio time."""

from __future__ import annotations

import click


class RichProgress:
    """Implements :class:`podtools.pipeline.Progress` on stderr."""

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
                click.echo(f"podtools: {note}", err=True)

    def stage(self, name: str, total: float | None = None) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=self._bar.tasks[self._task].total or 1, visible=False)
        desc = f"{self.label} {name}".strip()
        self._task = self._bar.add_task(desc, total=total or None, pos="")

    def advance(self, done: float) -> None:
        if self._task is not None:
            total = self._bar.tasks[self._task].total
            pos = f"{_mmss(done)}/{_mmss(total)}" if total else _mmss(done)
            self._bar.update(self._task, completed=done, pos=pos)

    def note(self, message: str) -> None:
        self.notes.append(message)


def _mmss(seconds: float | None) -> str:
    s = int(seconds or 0)
    return f"{s // 60}:{s % 60:02d}"


_UNSAFE = dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                         *range(0x2066, 0x206A)])


def clean_line(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (escape sequences) and bidi
    overrides removed."""
    return str(text).translate(_UNSAFE)
