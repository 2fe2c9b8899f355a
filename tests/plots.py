"""Reading a matplotlib PNG back: which of the default colour cycle's series are drawn."""

from __future__ import annotations

from pathlib import Path

# matplotlib's default colour cycle, C0..C5
CYCLE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def series_pixels(png: str | Path) -> list[int]:
    """Pixels of each colour of the cycle in ``png`` (a series' line, markers and legend sample)."""
    from matplotlib.image import imread

    img = imread(str(png))[:, :, :3]
    counts = []
    for colour in CYCLE:
        r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
        near = (abs(img[:, :, 0] - r) < 0.02) & (abs(img[:, :, 1] - g) < 0.02) & (abs(img[:, :, 2] - b) < 0.02)
        counts.append(int(near.sum()))
    return counts


def drawn_series(png: str | Path, min_pixels: int = 40) -> int:
    """How many series (C0, C1, ... in order) the plot shows."""
    n = 0
    for count in series_pixels(png):
        if count < min_pixels:
            break
        n += 1
    return n
