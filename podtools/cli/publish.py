"""``podtools feed``: a show's RSS feed with Podcasting 2.0 tags for every processed episode."""

from __future__ import annotations

from pathlib import Path

import click

from .group import cli
from .progress import echo


@cli.command()
@click.argument("catalogue", type=click.Path(file_okay=False))
@click.option("--rss", metavar="FILE|URL",
              help="The show's feed (default: the one feed the catalogue was made from).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Where to write the new feed.")
@click.option("--publish-base-url", metavar="URL", required=True,
              help="Where the catalogue's episodes/ folder is online; each file's URL is URL/<episode folder>/<file>.")
@click.option("--allow-private", is_flag=True, help="Let a feed URL reach private and loopback addresses.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing.")
def feed(catalogue: str, rss, output: str, publish_base_url, allow_private: bool, quiet: bool) -> None:
    """Write the show's RSS feed back with Podcasting 2.0 tags (transcripts, chapters, persons,
    soundbites) on every episode that CATALOGUE (a `podtools batch` folder) has finished.

    Everything else in the feed is kept byte for byte.
    """
    from ..feedwrite import add_tags, read_feed
    from ..fsutil import atomic_write_bytes
    from ..publish import check_base_url
    from ..textsafe import terminal_text

    check_base_url(publish_base_url)  # a bad URL: fail before reading anything
    data, origin, url = read_feed(rss, catalogue, allow_private)
    result = add_tags(data, catalogue, publish_base_url, origin, url)
    atomic_write_bytes(Path(output), result.data)
    if not quiet:
        if result.untouched:
            echo(terminal_text(f"podtools: {len(result.untouched)} items left as they were (not finished in the "
                               f"catalogue): {', '.join(result.untouched[:5])}{' ...' if len(result.untouched) > 5 else ''}"),
                 err=True)
        echo(f"{output}: Podcasting 2.0 tags on {len(result.tagged)} of "
             f"{len(result.tagged) + len(result.untouched)} items", err=True)
