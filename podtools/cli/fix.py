"""``podtools fix`` (word corrections) and ``podtools speakers`` (rename, merge, roles)."""

from __future__ import annotations

import click

from .group import cli
from .progress import clean_line, echo
from .voices import VOICES_OPTION


def _report(folder, result, quiet: bool) -> None:
    if quiet:
        return
    from ..textsafe import terminal_text

    for wrong, n in result.counts.items():
        echo(terminal_text(f"{wrong!r}: {n} replaced"), err=True)
    for change in result.changes:
        echo(terminal_text(change), err=True)
    echo(f"{folder}: {len(result.files)} files written; kept in episode.toml for later runs", err=True)


@cli.command()
@click.argument("episode_dir", type=click.Path())
@click.option("--replace", "replacements", multiple=True, metavar="WRONG=RIGHT",
              help='A word or phrase and its correction, e.g. "Anthropik=Anthropic"; repeatable.')
@click.option("--corrections", "corrections_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="A file of corrections, one WRONG=RIGHT per line (# for comments).")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
              help="Folder of Jinja templates overriding the shipped ones.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing.")
def fix(episode_dir: str, replacements, corrections_file, templates_dir, quiet: bool) -> None:
    """Correct words and phrases in the episode in EPISODE_DIR and re-render every file.

    Whole words and phrases only, any case; word times are kept. The corrections are kept in
    EPISODE_DIR/episode.toml and applied again when the episode is processed again.
    """
    from ..correct import fix as fix_episode
    from ..edits import parse_replacement, read_corrections_file

    pairs = [parse_replacement(r) for r in replacements]
    if corrections_file:
        pairs += read_corrections_file(corrections_file)
    result = fix_episode(episode_dir, pairs, templates_dir)
    _report(episode_dir, result, quiet)


@cli.command()
@click.argument("episode_dir", type=click.Path())
@click.option("--rename", multiple=True, metavar="SPEAKER=NAME",
              help='Name a speaker (by id or current name), e.g. SPEAKER_01="Nisten"; repeatable.')
@click.option("--merge", multiple=True, metavar="SPEAKER=INTO",
              help="Make SPEAKER's speech INTO's (one person split in two), e.g. SPEAKER_03=SPEAKER_01; repeatable.")
@click.option("--role", "roles", multiple=True, metavar="SPEAKER=ROLE",
              help="Podcasting 2.0 role (host, co-host, guest ...) for feed_tags.xml; repeatable.")
@click.option("--enroll", is_flag=True,
              help="Also add each renamed speaker's voice to the voice library, so later episodes name them.")
@VOICES_OPTION
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
              help="Folder of Jinja templates overriding the shipped ones.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing.")
def speakers(episode_dir: str, rename, merge, roles, enroll: bool, voices_dir, templates_dir, quiet: bool) -> None:
    """Rename, merge and give roles to the speakers of the episode in EPISODE_DIR; re-render.

    Merges apply first. The changes are kept in EPISODE_DIR/episode.toml and applied again when
    the episode is processed again.
    """
    from ..correct import edit_speakers, pairs

    renames = pairs(rename, "--rename")
    if enroll and not renames:
        raise click.UsageError("--enroll enrolls renamed speakers: give --rename")
    result = edit_speakers(episode_dir, renames, pairs(merge, "--merge"), pairs(roles, "--role"), templates_dir)
    _report(episode_dir, result, quiet)
    if enroll:  # after the re-render: the names are in every file whatever the library says
        from ..correct import episode_folder
        from ..edits import resolve_speaker
        from .voices import enroll_speaker

        path = episode_folder(episode_dir) / "episode.json"
        for _, name in renames:
            speaker = resolve_speaker(result.episode, " ".join(name.split()))
            folder, seconds = enroll_speaker(path, result.episode, speaker, result.episode.speaker_name(speaker),
                                             voices_dir)
            if not quiet:
                echo(f"enrolled {clean_line(result.episode.speaker_name(speaker))} ({seconds:.0f} s of speech) "
                     f"in {folder}", err=True)
