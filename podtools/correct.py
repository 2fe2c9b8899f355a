"""The correction loop: ``podtools fix`` (words) and ``podtools speakers`` (names, merges, roles).

Each call loads an episode folder's ``episode.json``, applies the corrections, records them in
the folder's ``episode.toml`` (so that processing the episode again re-applies them,
:mod:`podtools.edits`), finds the mentions again in the corrected text with the settings of the
run that found them, and re-renders every output the folder has. Corrections are checked
against the episode before anything is written: one that matches nothing, or only inside words,
is refused with the word it would have changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .edits import (EDITS_FILE, Edits, apply_replacements, inside_words, load_edits, merge_speakers,
                    rename_speaker, resolve_speaker, save_edits, set_role)
from .errors import ConfigError, InputError
from .models import Episode
from .textsafe import one_line


@dataclass
class CorrectionResult:
    episode: Episode
    files: list[Path]
    counts: dict[str, int] = field(default_factory=dict)  # correction -> times found in the transcript
    changes: list[str] = field(default_factory=list)  # speaker changes, as sentences


def episode_folder(path: str | Path) -> Path:
    """The folder of an episode (the folder itself, or an episode.json's)."""
    p = Path(path)
    folder = p.parent if p.name == "episode.json" or p.is_file() else p
    if not (folder / "episode.json").is_file():
        raise InputError("no episode.json here: give a folder written by `podtools ingest`", folder)
    return folder


def _mentions_again(episode: Episode) -> Episode:
    """Mentions found again in the corrected text, with the settings of the run that found them."""
    run = episode.provenance.get("mentions")
    if run is None:
        return episode
    from .mentions import MentionsOptions, extract_mentions

    fields = set(MentionsOptions.model_fields)
    options = MentionsOptions.model_validate({k: v for k, v in run.settings.items() if k in fields})
    return extract_mentions(episode, options)


def rerender(folder: Path, episode: Episode, templates_dir: str | Path | None = None) -> list[Path]:
    """episode.json and every output the folder already has (a transcript-only folder stays one),
    plus the Podcasting 2.0 transcript and feed tags."""
    from .render import OUTPUTS, render

    present = [n for n in OUTPUTS if (folder / n).exists()]
    extra = [n for n in ("transcript.json", "feed_tags.xml") if n not in present and (
        n == "transcript.json" or episode.provenance.get("diarize") or episode.chapters)]
    return render(episode, folder, templates_dir, only=present + extra)


def fix(path: str | Path, replacements: Iterable[tuple[str, str]], templates_dir: str | Path | None = None
        ) -> CorrectionResult:
    """Apply word and phrase corrections to the episode in ``path`` and re-render it."""
    folder = episode_folder(path)
    episode = Episode.load(folder / "episode.json")
    edits = load_edits(folder)
    replacements = list(replacements)
    if not replacements:
        raise ConfigError("no corrections given: --replace WRONG=RIGHT or --corrections FILE")
    fixed, counts = apply_replacements(episode, replacements)
    for wrong, right in replacements:
        if counts.get(wrong):
            continue
        inside = inside_words(episode, wrong)
        if inside:
            raise ConfigError(f"{one_line(wrong)!r} is only found inside words (such as {one_line(inside)!r}); "
                              "corrections change whole words and phrases: give the whole word", folder)
        raise ConfigError(f"{one_line(wrong)!r} is not in the transcript; nothing changed", folder)
    for wrong, right in replacements:
        edits.replace.pop(wrong, None)  # a re-given correction moves to the end: it applies last
        edits.replace[wrong] = right
    fixed = _mentions_again(fixed)
    files = rerender(folder, fixed, templates_dir)
    files.append(save_edits(folder, edits))
    return CorrectionResult(fixed, files, counts)


def edit_speakers(
    path: str | Path,
    rename: Iterable[tuple[str, str]] = (),
    merge: Iterable[tuple[str, str]] = (),
    roles: Iterable[tuple[str, str]] = (),
    templates_dir: str | Path | None = None,
) -> CorrectionResult:
    """Merge, rename and give roles to the speakers of the episode in ``path``; re-render it.

    Speakers are named by id (SPEAKER_01) or by their current name. Merges apply first, so
    ``--merge SPEAKER_03=SPEAKER_01 --rename SPEAKER_01=Nisten`` names the merged speaker.
    """
    folder = episode_folder(path)
    episode = Episode.load(folder / "episode.json")
    if not episode.speakers:
        raise ConfigError("this episode has no speakers (it was not diarized): run `podtools diarize` first", folder)
    edits = load_edits(folder)
    changes: list[str] = []
    rename, merge, roles = list(rename), list(merge), list(roles)
    if not (rename or merge or roles):
        raise ConfigError("nothing to do: give --rename, --merge or --role")
    for source_key, target_key in merge:
        source, target = resolve_speaker(episode, source_key), resolve_speaker(episode, target_key)
        episode = merge_speakers(episode, source, target)
        edits.merge[source] = target
        for table in (edits.rename, edits.role):
            table.pop(source, None)
        changes.append(f"merged {source} into {target}")
    for key, name in rename:
        speaker = resolve_speaker(episode, key)
        episode = rename_speaker(episode, speaker, name)
        edits.rename[speaker] = episode.speaker_name(speaker) or name
        changes.append(f"{speaker} is now {one_line(episode.speaker_name(speaker))!r}")
    for key, role in roles:
        speaker = resolve_speaker(episode, key)
        episode = set_role(episode, speaker, role)
        edits.role[speaker] = next(sp.role for sp in episode.speakers if sp.id == speaker) or role
        changes.append(f"{speaker} is a {edits.role[speaker]}")
    files = rerender(folder, episode, templates_dir)
    files.append(save_edits(folder, edits))
    return CorrectionResult(episode, files, changes=changes)


def pairs(values: Iterable[str], what: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` options as pairs; a ConfigError naming the option for anything else."""
    out = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise ConfigError(f"{what} takes SPEAKER=VALUE, such as SPEAKER_01=\"Nisten\", not {one_line(value)!r}")
        out.append((key.strip(), val.strip()))
    return out


__all__ = ["CorrectionResult", "EDITS_FILE", "Edits", "edit_speakers", "episode_folder", "fix", "pairs", "rerender"]
