"""Trends of mentions across a catalogue: table rows, CSV and a matplotlib plot.

The numbers come from :meth:`podtools.catalog.Catalog.trends`: one row per finished episode
(oldest first), one column per name, each cell the number of mentions in that episode.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from .catalog import Trends
from .fsutil import atomic_write_bytes, atomic_write_text
from .textsafe import csv_cell

log = logging.getLogger("podtools.trends")


def table_rows(trends: Trends) -> tuple[list[str], list[list[str]]]:
    """Header and rows for printing: published date, episode title, one count per name, total."""
    header = ["published", "episode", *trends.names]
    rows = []
    for ep, counts in zip(trends.episodes, trends.counts):
        rows.append([(ep["published"] or "")[:10], ep["title"] or ep["uid"], *[str(c) for c in counts]])
    if trends.names and rows:
        totals = [sum(c[i] for c in trends.counts) for i in range(len(trends.names))]
        rows.append(["", "total", *[str(t) for t in totals]])
    return header, rows


def to_csv(trends: Trends) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["published", "episode", "folder", *map(csv_cell, trends.names)])
    for ep, counts in zip(trends.episodes, trends.counts):
        w.writerow([ep["published"] or "", csv_cell(ep["title"] or ""), csv_cell(ep["folder"]), *counts])
    return buf.getvalue()


def write_csv(trends: Trends, path: str | Path) -> Path:
    return atomic_write_text(path, to_csv(trends))


def write_png(trends: Trends, path: str | Path, title: str = "Mentions per episode") -> Path:
    """Line plot of mentions per episode over publish date (episode order when undated)."""
    import datetime as dt

    import matplotlib

    matplotlib.use("Agg")  # no display needed; must precede pyplot
    import matplotlib.pyplot as plt

    dates = [ep["published"] for ep in trends.episodes]
    use_dates = bool(dates) and all(dates)
    xs = [dt.datetime.fromisoformat(d) for d in dates] if use_dates else list(range(1, len(dates) + 1))
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    try:
        for i, name in enumerate(trends.names):
            ax.plot(xs, [row[i] for row in trends.counts], marker="o", label=name)
        ax.set_ylabel("mentions per episode")
        ax.set_xlabel("published" if use_dates else "episode")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        if trends.names:
            ax.legend(loc="upper left", fontsize="small")
        if use_dates:
            fig.autofmt_xdate()
        ax.set_ylim(bottom=0)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())
