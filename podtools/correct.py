"""The correction loop: ``podtools fix`` (words) and ``podtools speakers`` (names, merges, roles).

Each call loads an episode folder's ``episode.json``, applies the corrections, records them in
the folder's ``episode.toml`` (so that processing the episode again re-applies them,
:mod:`podtools.edits`), finds the mentions again in the corrected text with the settings of the
run that found them, and re-renders every output the folder has. Corrections are checked
against the episode before anything is written: one that matches nothing, or only inside words,
is refused with the word it would have changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from .edits import (apply_replacements, inside_words, load_edits, merge_speakers, rename_speaker, resolve_speaker,
                    save_edits, set_role)
from .errors import ConfigError, InputError
from .formats.markdown import parse_stamped
from .formats.pieces import clean_inline
from .formats.text import read_text
from .fsutil import atomic_write_bytes
from .mentions import MentionsOptions
from .mentions.stage import mentions_stage
from .models import Chapter, Episode, Speaker, Word
from .outputs import OUTPUTS, render
from .outputs.views import paragraphs
from .textsafe import markdown_text, one_line
from .timefmt import hms


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

    fields = set(MentionsOptions.model_fields)
    options = MentionsOptions.model_validate({k: v for k, v in run.settings.items() if k in fields})
    return mentions_stage(episode, options)


def rerender(folder: Path, episode: Episode, templates_dir: str | Path | None = None) -> list[Path]:
    """episode.json and every output the folder already has (a transcript-only folder stays one),
    plus the Podcasting 2.0 transcript and feed tags."""
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
    seen: dict[str, str] = {}
    for wrong, right in replacements:
        if wrong.casefold() in seen and seen[wrong.casefold()] != right:
            raise ConfigError(f"{one_line(wrong)!r} is given twice, as {one_line(seen[wrong.casefold()])!r} and "
                              f"{one_line(right)!r}: keep one")
        seen[wrong.casefold()] = right
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


# -- an edited transcript.md, read back --------------------------------------------------------

_MD_ESCAPE = re.compile(r"\\([\\\[\]])")


def _norm_md(text: str) -> str:
    """A transcript.md paragraph's text as it reads (Markdown escapes undone, spaces collapsed)."""
    return " ".join(_MD_ESCAPE.sub(r"\1", text).split())


def _key(token: str) -> str:
    return re.sub(r"[^\w]", "", token.casefold())


def _realign(words: list[Word], owner: list[int], tokens: list[str]) -> list[tuple[int, Word]]:
    """The new ``tokens`` as words, each with the segment it belongs to: a token the alignment
    matches to an old word keeps its time (its spelling is the new one); new tokens take the time
    of the words they replace, or of the gap where they were inserted, spread evenly."""
    import difflib

    lead = " " if words and words[0].text[:1].isspace() else ""
    sm = difflib.SequenceMatcher(a=[_key(w.text) for w in words], b=[_key(t) for t in tokens], autojunk=False)
    out: list[tuple[int, Word]] = []
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        if op == "equal":
            for i, j in zip(range(a0, a1), range(b0, b1)):
                w = words[i]
                out.append((owner[i], w if w.text.strip() == tokens[j] else
                            w.model_copy(update={"text": lead + tokens[j]})))
            continue
        if b1 == b0:  # deleted words
            continue
        if a1 > a0:
            t0, t1, seg = words[a0].start, words[a1 - 1].end, owner[a0]
        else:  # inserted between words a0-1 and a0
            t0 = words[a0 - 1].end if a0 > 0 else words[0].start
            t1 = words[a0].start if a0 < len(words) else words[-1].end
            seg = owner[a0 - 1] if a0 > 0 else owner[0]
        t1 = max(t1, t0)
        step = (t1 - t0) / (b1 - b0)
        for k, j in enumerate(range(b0, b1)):
            out.append((seg, Word(start=round(t0 + k * step, 3), end=round(t0 + (k + 1) * step, 3) if j < b1 - 1
                                  else t1, text=lead + tokens[j], speaker=words[a0 if a1 > a0 else max(a0 - 1, 0)].speaker)))
    return out


@dataclass
class _Edit:
    paragraph: int
    text: Optional[str]  # new text, None when unchanged
    speaker: Optional[str]  # display name in the edited file


def read_transcript_edits(episode: Episode, path: str | Path) -> tuple[Episode, list[str]]:
    """``episode`` with the edits a host made to its transcript.md (text, speaker names, chapter
    titles) and notes on what could not be kept.

    Each edited paragraph is found by its ``[HH:MM:SS]`` stamp; word times outside edited words
    are kept. A paragraph missing from the file is kept as it was; a line whose stamp no
    paragraph has, or that is out of order, is left out, with a note either way.
    """
    notes: list[str] = []
    parsed = parse_stamped(read_text(path), path, "markdown", warn=notes.append)
    paras = paragraphs(episode)
    by_second: dict[int, list[int]] = {}
    for k, p in enumerate(paras):
        by_second.setdefault(int(p.start), []).append(k)
    edits: list[_Edit] = []
    last = -1
    for piece in parsed.pieces:
        cands = [k for k in by_second.get(int(piece.start), []) if k > last] if piece.start is not None else []
        if piece.start is None or not cands:
            where = f"line {piece.line}" + (f" [{hms(piece.start)}]" if piece.start is not None else "")
            earlier = piece.start is not None and any(k <= last for k in by_second.get(int(piece.start), []))
            notes.append(f"{where}: {'out of order' if earlier else 'no paragraph of the episode starts there'}; "
                         "left out")
            continue
        k = last = cands[0]
        old = _norm_md(clean_inline(markdown_text(paras[k].text)))
        new = _norm_md(piece.text)
        edits.append(_Edit(k, new if new != old else None, _norm_md(piece.speaker) if piece.speaker else None))
    if not edits:
        raise InputError("no paragraph of this file matches the episode's transcript (by its [HH:MM:SS] stamps): "
                         "is it this episode's transcript.md?", path)
    missing = len(paras) - len(edits)
    if missing:
        notes.append(f"{missing} paragraph{'s' if missing != 1 else ''} not in the edited file kept as they were")
    episode = _speaker_edits(episode, paras, edits)
    segments = list(episode.segments)
    drop: set[int] = set()
    for e in edits:
        if e.text is None:
            continue
        idx = paras[e.paragraph].segments
        words = [w for i in idx for w in segments[i].words]
        owner = [i for i in idx for _ in segments[i].words]
        if not words:  # no word times (an imported transcript): one segment holds the new text
            first = segments[idx[0]]
            segments[idx[0]] = first.model_copy(update={"text": e.text, "end": segments[idx[-1]].end})
            drop.update(idx[1:])
            continue
        new_words = _realign(words, owner, e.text.split())
        for i in idx:
            mine = [w for seg, w in new_words if seg == i]
            if not mine:
                drop.add(i)
                continue
            segments[i] = segments[i].model_copy(update={
                "words": mine, "text": " ".join(w.text.strip() for w in mine),
                "start": min(segments[i].start, mine[0].start), "end": max(segments[i].end, mine[-1].end)})
    segments = [s for i, s in enumerate(segments) if i not in drop]
    chapters = _chapter_edits(episode, parsed.headings, notes)
    return episode.model_copy(update={"segments": segments, "chapters": chapters}), notes


def _speaker_edits(episode: Episode, paras, edits: list[_Edit]) -> Episode:
    """Speaker names changed in the file: a speaker renamed in every paragraph it has is renamed;
    a paragraph given to another known speaker (or a new name) is that speaker's."""
    display = {episode.speaker_name(sp.id): sp.id for sp in episode.speakers}
    new_names: dict[Optional[str], set[str]] = {}
    changed = []
    for e in edits:
        p = paras[e.paragraph]
        sid = episode.segments[p.segments[0]].speaker
        name = e.speaker or p.speaker
        if not name or name == _norm_md(clean_inline(markdown_text(p.speaker or ""))) or name == p.speaker:
            new_names.setdefault(sid, set()).add(p.speaker or "")
            continue
        new_names.setdefault(sid, set()).add(name)
        changed.append((e, sid, name))
    if not changed:
        return episode
    speakers = list(episode.speakers)
    renamed: dict[str, str] = {}
    for sid, names in new_names.items():
        if sid and len(names) == 1 and (name := next(iter(names))) and name not in display:
            renamed[sid] = name  # the same new name on every paragraph of this speaker
    speakers = [sp.model_copy(update={"name": renamed[sp.id], "name_source": "given", "match_score": None})
                if sp.id in renamed else sp for sp in speakers]
    display.update({name: sid for sid, name in renamed.items()})
    segments = list(episode.segments)
    moved: dict[str, float] = {}
    for e, sid, name in changed:
        if sid in renamed:
            continue
        target = display.get(name)
        if target is None:  # a new person: a new speaker id
            n = len(speakers)
            while f"SPEAKER_{n:02d}" in {sp.id for sp in speakers}:
                n += 1
            target = f"SPEAKER_{n:02d}"
            speakers.append(Speaker(id=target, name=name, name_source="given"))
            display[name] = target
        for i in paras[e.paragraph].segments:
            seg = segments[i]
            segments[i] = seg.model_copy(update={"speaker": target, "words": [
                w.model_copy(update={"speaker": target}) for w in seg.words]})
            moved[target] = moved.get(target, 0.0) + seg.end - seg.start  # talk time moves with the speech
            moved[seg.speaker] = moved.get(seg.speaker, 0.0) - (seg.end - seg.start)
    speakers = [sp.model_copy(update={"talk_time": round(max(0.0, sp.talk_time + moved[sp.id]), 3)})
                if sp.id in moved else sp for sp in speakers]
    return episode.model_copy(update={"speakers": speakers, "segments": segments})


def _chapter_edits(episode: Episode, headings, notes: list[str]):
    """Chapter titles changed in the file; a heading at a new time is a new chapter."""
    chapters = list(episode.chapters)
    if not headings:
        return chapters
    by_second = {int(c.start): k for k, c in enumerate(chapters)}
    for h in headings:
        k = by_second.get(int(h.start))
        title = _norm_md(h.title)
        if not title:
            continue
        if k is not None:
            if chapters[k].title != title:
                chapters[k] = chapters[k].model_copy(update={"title": title, "source": "given"})
        elif 0 <= h.start < (episode.duration or float("inf")):
            chapters.append(Chapter(start=h.start, end=h.start, title=title, source="given"))
    chapters.sort(key=lambda c: c.start)
    end = episode.duration or (chapters[-1].start if chapters else 0.0)
    return [c.model_copy(update={"end": max(c.start, chapters[i + 1].start if i + 1 < len(chapters) else end)})
            for i, c in enumerate(chapters)]


def edit_transcript(path: str | Path, edited: str | Path, templates_dir: str | Path | None = None
                    ) -> CorrectionResult:
    """Read an edited transcript.md back into the episode in ``path`` and re-render it. When a
    part of the file could not be kept, the file is kept beside as transcript.edited.md."""
    folder = episode_folder(path)
    episode = Episode.load(folder / "episode.json")
    text_before = Path(edited).read_bytes() if Path(edited).is_file() else None
    fixed, notes = read_transcript_edits(episode, edited)
    fixed = _mentions_again(fixed)
    files = []
    if notes and text_before is not None and Path(edited).resolve() == (folder / "transcript.md").resolve():
        files.append(atomic_write_bytes(folder / "transcript.edited.md", text_before))
    files += rerender(folder, fixed, templates_dir)
    return CorrectionResult(fixed, files, changes=notes)
