"""A host's corrections to an episode, kept in its folder and re-applied on every re-run.

``episode.toml`` in an episode's output folder holds what ``podtools fix``, ``podtools speakers``
and ``--publish-base-url`` set::

    [publish]
    base_url = "https://example.com/episodes/12/"

    [captions]                     # --caption-chars, --caption-lines
    chars = 42

    [replace]                      # whole words and phrases, in this order
    "Anthropik" = "Anthropic"
    "Llama 3. 1" = "Llama 3.1"

    [speakers.merge]               # the first speaker's speech is the second's
    SPEAKER_03 = "SPEAKER_01"
    [speakers.rename]
    SPEAKER_01 = "Nisten"
    [speakers.role]                # Podcasting 2.0 person roles
    SPEAKER_01 = "host"

``ingest`` (and ``transcribe``) into a folder that has one applies it after transcription and
diarization, before chapters, mentions and summaries, so that a re-run never undoes a fix. The
file is TOML written with ``tomlkit``: a host may edit it by hand, and comments stay.

Replacements match whole words and phrases (never inside a word), without regard to case; the
replacement is written as given, except that a match starting a sentence with a capital keeps
it. Word times are kept: a replaced run of words spans the times of the words it replaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from pydantic import ValidationError

from .errors import ConfigError, InputError, validation_problem
from .formats.captions import CaptionOptions
from .formats.text import read_text
from .fsutil import atomic_write_text
from .models import Episode, Segment, Speaker, Word
from .publish import ROLES, check_base_url
from .textsafe import one_line

EDITS_FILE = "episode.toml"
HEADER = ("# podtools: corrections and publishing settings for this episode, re-applied each time it is\n"
          "# processed again (podtools fix, podtools speakers, --publish-base-url). Edit freely.\n")

Note = Callable[[str], None]


@dataclass
class Edits:
    replace: dict[str, str] = field(default_factory=dict)
    rename: dict[str, str] = field(default_factory=dict)
    merge: dict[str, str] = field(default_factory=dict)
    role: dict[str, str] = field(default_factory=dict)
    base_url: Optional[str] = None
    captions: dict[str, int] = field(default_factory=dict)  # [captions] chars, lines

    def caption_options(self):
        """``[captions]`` as :class:`~podtools.formats.captions.CaptionOptions` (checked on load)."""
        return CaptionOptions.model_validate(self.captions)

    def has_corrections(self) -> bool:
        return bool(self.replace or self.rename or self.merge or self.role)


def _table(doc, key: str, path: Path) -> dict[str, str]:
    value = doc.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InputError(f"[{key}] must be a table of \"text\" = \"text\" entries", path)
    return {str(k): str(v) for k, v in value.items()}


def load_edits(folder: str | Path) -> Edits:
    """The folder's ``episode.toml`` (empty :class:`Edits` when there is none)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = Path(folder) / EDITS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Edits()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({getattr(exc, 'strerror', None) or exc})", path) from None
    try:
        doc = tomlkit.parse(text).unwrap()
    except TOMLKitError as exc:
        raise InputError(f"not valid TOML ({one_line(exc)})", path) from None
    speakers = doc.get("speakers", {})
    if not isinstance(speakers, dict):
        raise InputError("[speakers] must be a table", path)
    publish = doc.get("publish", {})
    base_url = publish.get("base_url") if isinstance(publish, dict) else None
    if base_url is not None and not isinstance(base_url, str):
        raise InputError("[publish] base_url must be a string", path)
    captions = doc.get("captions", {})
    if not isinstance(captions, dict) or set(captions) - {"chars", "lines"} or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in captions.values()):
        raise InputError("[captions] takes chars = N and lines = N", path)
    try:
        CaptionOptions.model_validate(captions)
    except ValidationError as exc:
        raise InputError(f"[captions] {validation_problem(exc)}", path) from None
    edits = Edits(replace=_table(doc, "replace", path), rename=_table(speakers, "rename", path),
                  merge=_table(speakers, "merge", path), role=_table(speakers, "role", path), base_url=base_url,
                  captions=dict(captions))
    _check_edits(edits, path)  # a hand-edited file fails here, before minutes of work, not after
    return edits


def _check_edits(edits: Edits, path: Path) -> None:
    try:
        for wrong, right in edits.replace.items():
            _check_pair(wrong, right)
        for speaker, role in edits.role.items():
            if " ".join(role.lower().split()) not in ROLES:
                raise ConfigError(f"[speakers.role] {speaker}: unknown role {one_line(role)!r}; choose from: "
                                  f"{', '.join(ROLES)}")
        for table, values in (("rename", edits.rename), ("merge", edits.merge)):
            for key, value in values.items():
                if not key.strip() or not value.strip():
                    raise ConfigError(f"[speakers.{table}] entries are SPEAKER = \"...\", not {key!r} = {value!r}")
        check_base_url(edits.base_url)
    except ConfigError as exc:
        raise InputError(str(exc), path) from None


def _check_pair(wrong: str, right: str) -> None:
    if not wrong.strip() or not right.strip():
        raise ConfigError(f"a correction needs both sides, not {one_line(wrong)!r} = {one_line(right)!r}")
    if " ".join(wrong.split()) == " ".join(right.split()):
        raise ConfigError(f"correction {one_line(wrong)!r} changes nothing")


def save_edits(folder: str | Path, edits: Edits) -> Path:
    """Write ``episode.toml``, keeping the comments of a file a host edited."""
    import tomlkit

    path = Path(folder) / EDITS_FILE
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError):
        doc = tomlkit.parse(HEADER)

    def put(container, key: str, values: dict[str, str]) -> None:
        if not values:
            container.pop(key, None)
            return
        table = container.get(key)
        if not isinstance(table, dict):
            table = tomlkit.table()
            container[key] = table
        for k in list(table):  # written again in the order given: replacements apply in this order
            del table[k]
        for k, v in values.items():
            table[k] = v

    if edits.base_url:
        doc.setdefault("publish", tomlkit.table())["base_url"] = edits.base_url
    elif isinstance(doc.get("publish"), dict):
        doc["publish"].pop("base_url", None)
    if edits.captions:
        table = tomlkit.table()
        for k, v in edits.captions.items():
            table[k] = v
        doc["captions"] = table
    else:
        doc.pop("captions", None)
    put(doc, "replace", edits.replace)
    speakers = doc.get("speakers")
    if not isinstance(speakers, dict):
        speakers = tomlkit.table(is_super_table=True)
    for key, values in (("merge", edits.merge), ("rename", edits.rename), ("role", edits.role)):
        put(speakers, key, values)
    if speakers:
        doc["speakers"] = speakers
    else:
        doc.pop("speakers", None)
    return atomic_write_text(path, tomlkit.dumps(doc))


# -- word and phrase corrections --------------------------------------------------------------


def parse_replacement(spec: str) -> tuple[str, str]:
    """``"WRONG=RIGHT"`` -> (wrong, right); a ConfigError for anything else."""
    wrong, sep, right = spec.partition("=")
    wrong, right = " ".join(wrong.split()), " ".join(right.split())
    if not sep or not wrong or not right:
        raise ConfigError(f"a correction is WRONG=RIGHT, such as \"Anthropik=Anthropic\", not {one_line(spec)!r}")
    if wrong == right:
        raise ConfigError(f"correction {one_line(spec)!r} changes nothing")
    return wrong, right


def read_corrections_file(path: str | Path) -> list[tuple[str, str]]:
    """A corrections file: one ``WRONG=RIGHT`` (or ``WRONG -> RIGHT``) per line; ``#`` comments."""
    out = []
    for no, line in enumerate(read_text(path).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.replace("->", "=", 1) if "->" in line and "=" not in line else line
        try:
            out.append(parse_replacement(line))
        except ConfigError as exc:
            raise InputError(f"line {no}: {exc}", path) from None
    if not out:
        raise InputError("no corrections in the file (one WRONG=RIGHT per line)", path)
    return out


def pattern(wrong: str) -> re.Pattern:
    """Whole words (never inside one), any case, any run of spaces between the words."""
    words = [re.escape(w) for w in wrong.split()]
    return re.compile(r"(?<![\w])" + r"\s+".join(words) + r"(?![\w])", re.IGNORECASE)


def _cased(found: str, right: str, text: str, at: int) -> str:
    """``right`` as written; with a capital where ``found`` began a sentence with one."""
    before = text[:at].rstrip()
    starts = not before or before[-1] in ".!?"
    if starts and found[:1].isupper() and right[:1].islower():
        return right[:1].upper() + right[1:]
    return right


def replace_text(text: str, rx: re.Pattern, right: str) -> tuple[str, int]:
    count = 0

    def sub(m: re.Match) -> str:
        nonlocal count
        count += 1
        return _cased(m.group(0), right, m.string, m.start())

    return rx.sub(sub, text), count


def _replace_words(words: list[Word], rx: re.Pattern, right: str) -> tuple[list[Word], int]:
    """Words with every match of ``rx`` over their joined text replaced; a replaced run of
    words keeps its first start and last end, its new words spread evenly over that span."""
    joined, bounds = "", []
    for w in words:  # faster-whisper's words start with their space; imported ones may not
        if joined and not w.text[:1].isspace():
            joined += " "
        bounds.append((len(joined), len(joined) + len(w.text)))
        joined += w.text
    groups: list[tuple[int, int, list[re.Match]]] = []  # runs of words, with the matches inside them
    for m in rx.finditer(joined):
        first = next(k for k, (a, b) in enumerate(bounds) if b > m.start())
        last = next(k for k, (a, b) in enumerate(bounds) if b >= m.end())
        if groups and first <= groups[-1][1]:  # two matches in one word ("foo-foo")
            groups[-1] = (groups[-1][0], max(last, groups[-1][1]), groups[-1][2] + [m])
        else:
            groups.append((first, last, [m]))
    out: list[Word] = []
    count, i = 0, 0
    for first, last, matches in groups:
        out.extend(words[i:first])
        text, at = "", bounds[first][0]
        for m in matches:
            text += joined[at:m.start()] + _cased(m.group(0), right, joined, m.start())
            at = m.end()
        text += joined[at:bounds[last][1]]
        lead = text[: len(text) - len(text.lstrip())]
        space = " " if lead else ""
        tokens = text.split()
        t0, t1 = words[first].start, words[last].end
        step = (t1 - t0) / max(len(tokens), 1)
        for k, tok in enumerate(tokens):
            out.append(Word(start=round(t0 + k * step, 3), end=round(t0 + (k + 1) * step, 3) if k < len(tokens) - 1
                            else t1, text=(lead if k == 0 else space) + tok, probability=None,
                            speaker=words[first].speaker))
        count += len(matches)
        i = last + 1
    out.extend(words[i:])
    return out, count


def correct_segment(seg: Segment, rx: re.Pattern, right: str) -> tuple[Segment, int]:
    text, n = replace_text(seg.text, rx, right)
    if not n and not seg.words:
        return seg, 0
    words, n_words = _replace_words(list(seg.words), rx, right) if seg.words else ([], 0)
    if not n and not n_words:
        return seg, 0
    return seg.model_copy(update={"text": text, "words": words}), max(n, n_words)


def _correct_summaries(episode: Episode, rx: re.Pattern, right: str) -> dict:
    def fix(s: str) -> str:
        return replace_text(s, rx, right)[0]

    out = {}
    for key, summary in episode.summaries.items():
        update: dict = {"text": fix(summary.text), "bullets": [fix(b) for b in summary.bullets]}
        if summary.title:
            update["title"] = fix(summary.title)
        for part in ("tldr", "takeaways", "key_points", "quotes"):
            update[part] = [x.model_copy(update={"text": fix(x.text)}) for x in getattr(summary, part)]
        out[key] = summary.model_copy(update=update)
    return out


def inside_words(episode: Episode, wrong: str) -> Optional[str]:
    """A word of the transcript that contains ``wrong`` inside it (for the error message)."""
    rx = re.compile(re.escape(wrong), re.IGNORECASE)
    for seg in episode.segments:
        for m in rx.finditer(seg.text):
            a = m.start()
            while a > 0 and not seg.text[a - 1].isspace():
                a -= 1
            b = seg.text.find(" ", m.end())
            return seg.text[a: b if b >= 0 else len(seg.text)].strip(".,!?;:")
    return None


def apply_replacements(episode: Episode, replacements: Iterable[tuple[str, str]]) -> tuple[Episode, dict[str, int]]:
    """``episode`` with each (wrong, right) replaced, in order, in the transcript, chapter
    titles, summaries and the speaker names inferred from the transcript; and how many times
    each was found in the transcript."""
    counts: dict[str, int] = {}
    segments = list(episode.segments)
    chapters = list(episode.chapters)
    for wrong, right in replacements:
        rx = pattern(wrong)
        n = 0
        for k, seg in enumerate(segments):
            segments[k], found = correct_segment(seg, rx, right)
            n += found
        chapters = [c.model_copy(update={"title": replace_text(c.title, rx, right)[0],
                                         "summary": replace_text(c.summary, rx, right)[0] if c.summary else None})
                    for c in chapters]
        # a name inferred from the transcript ("I'm Alex") was heard as the transcript was
        speakers = [sp.model_copy(update={"name": replace_text(sp.name, rx, right)[0]})
                    if sp.name and sp.name_source == "inferred" else sp for sp in episode.speakers]
        episode = episode.model_copy(update={"segments": segments, "chapters": chapters, "speakers": speakers})
        episode = episode.model_copy(update={"summaries": _correct_summaries(episode, rx, right)})
        counts[wrong] = counts.get(wrong, 0) + n
    return episode, counts


# -- speakers ---------------------------------------------------------------------------------


def resolve_speaker(episode: Episode, key: str) -> str:
    """The id of speaker ``key`` (an id such as SPEAKER_01, or its current name)."""
    key = key.strip()
    for sp in episode.speakers:
        if sp.id == key:
            return sp.id
    named = [sp.id for sp in episode.speakers if sp.name and sp.name.casefold() == key.casefold()]
    if len(named) == 1:
        return named[0]
    known = ", ".join(f"{sp.id} ({sp.name})" if sp.name else sp.id for sp in episode.speakers) or "none"
    raise ConfigError(f"no speaker {one_line(key)!r} in this episode; speakers: {known}")


def merge_speakers(episode: Episode, source: str, target: str) -> Episode:
    """``source``'s words, segments, turns, mentions and quotes become ``target``'s."""
    if source == target:
        raise ConfigError(f"cannot merge {source} into itself")

    def re_id(value: Optional[str]) -> Optional[str]:
        return target if value == source else value

    segments = [s.model_copy(update={"speaker": re_id(s.speaker),
                                     "words": [w.model_copy(update={"speaker": re_id(w.speaker)}) if w.speaker == source
                                               else w for w in s.words]}) for s in episode.segments]
    turns = [t.model_copy(update={"speaker": re_id(t.speaker)}) for t in episode.turns]
    mentions = [m.model_copy(update={"speaker": re_id(m.speaker)}) for m in episode.mentions]
    summaries = {k: s.model_copy(update={"quotes": [q.model_copy(update={"speaker": re_id(q.speaker)})
                                                    for q in s.quotes]}) for k, s in episode.summaries.items()}
    gone = next(s for s in episode.speakers if s.id == source)
    speakers: list[Speaker] = []
    for sp in episode.speakers:
        if sp.id == source:
            continue
        if sp.id == target:
            update = {"talk_time": round(sp.talk_time + gone.talk_time, 3)}
            if not sp.name and gone.name:
                update.update(name=gone.name, name_source=gone.name_source, match_score=gone.match_score)
            if not sp.role and gone.role:
                update["role"] = gone.role
            sp = sp.model_copy(update=update)
        speakers.append(sp)
    return episode.model_copy(update={"segments": segments, "turns": turns, "mentions": mentions,
                                      "summaries": summaries, "speakers": speakers})


def rename_speaker(episode: Episode, speaker: str, name: str) -> Episode:
    name = " ".join(one_line(name).split())
    if not name:
        raise ConfigError(f"the new name of {speaker} is empty")
    for sp in episode.speakers:
        if sp.id != speaker and ((sp.name or "").casefold() == name.casefold() or sp.id == name):
            raise ConfigError(f"{sp.id} is already called {one_line(name)!r}; to make them one speaker, "
                              f"use --merge {speaker}={sp.id}")
    speakers = [sp.model_copy(update={"name": name, "name_source": "given", "match_score": None})
                if sp.id == speaker else sp for sp in episode.speakers]
    return episode.model_copy(update={"speakers": speakers})


def set_role(episode: Episode, speaker: str, role: str) -> Episode:
    role = " ".join(role.lower().split())
    if role not in ROLES:
        raise ConfigError(f"unknown role {one_line(role)!r}; choose from: {', '.join(ROLES)}")
    return episode.model_copy(update={"speakers": [sp.model_copy(update={"role": role}) if sp.id == speaker else sp
                                                   for sp in episode.speakers]})


def apply_speaker_edits(episode: Episode, edits: Edits, note: Optional[Note] = None) -> Episode:
    """Merges, then renames, then roles; an entry whose speaker is not in the episode (a re-run
    that found other speakers) is skipped with a note."""
    ids = {sp.id for sp in episode.speakers}
    for source, target in edits.merge.items():
        if source in ids and target in ids and source != target:
            episode = merge_speakers(episode, source, target)
            ids.discard(source)
        elif note:
            note(f"{EDITS_FILE}: merge {source} into {target} skipped: not both in this episode")
    for key, action in ((k, ("rename", v)) for k, v in edits.rename.items()):
        if key not in ids:
            if note:
                note(f"{EDITS_FILE}: rename of {key} skipped: no such speaker in this episode")
            continue
        try:
            episode = rename_speaker(episode, key, action[1])
        except ConfigError as exc:
            if note:
                note(f"{EDITS_FILE}: rename of {key} skipped: {exc}")
    for key, role in edits.role.items():
        if key in ids:
            episode = set_role(episode, key, role)
        elif note:
            note(f"{EDITS_FILE}: role of {key} skipped: no such speaker in this episode")
    return episode


def apply_edits(episode: Episode, edits: Edits, note: Optional[Note] = None, speakers: bool = True) -> Episode:
    """Re-apply a folder's corrections to a freshly processed ``episode`` (speakers, then words;
    the speakers only with ``speakers``: a transcript without diarization has none)."""
    if speakers and (edits.merge or edits.rename or edits.role):
        episode = apply_speaker_edits(episode, edits, note)
    if edits.replace:
        episode, counts = apply_replacements(episode, edits.replace.items())
        missing = [w for w, n in counts.items() if not n]
        if missing and note:
            note(f"{EDITS_FILE}: not found in this transcript: {', '.join(repr(one_line(w)) for w in missing)}")
    return episode
