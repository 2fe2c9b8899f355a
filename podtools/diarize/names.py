"""Speaker names: given by the user (a list in order of first appearance, or a mapping file),
or inferred from the transcript where it is unambiguous.

Inference reads three kinds of evidence, turn by turn:

- self-introductions name the current speaker: "I'm Alex Volkov", "my name is ...",
  "this is Alex" (at the start of a turn), "Alex here", "this was Alex" (sign-off);
- a thank-you at the start of a turn names the previous speaker: "Thank you, LDJ." ;
- a hand-off at the end of a turn names the next speaker: "Sam, what is new ...?",
  "... over to you, Nisten."

Anyone a speaker addresses is, by that, not that speaker. A name is kept only when one speaker
has clearly the most evidence for it and that speaker has no rival name; everything else stays
unnamed. Inferred names are marked ``name_source = "inferred"``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..models import Episode

log = logging.getLogger("podtools.diarize")

# capitalised words that follow "I'm" / "this is" without being names
NOT_NAMES = {
    "a", "an", "the", "and", "but", "so", "or", "not", "very", "just", "really", "here", "there",
    "glad", "happy", "excited", "sure", "sorry", "back", "going", "also", "still", "now", "today",
    "yes", "no", "okay", "ok", "well", "thanks", "thank", "everyone", "everybody", "all", "guys",
    "folks", "welcome", "hi", "hello", "hey", "it", "this", "that", "we", "you", "he", "she",
    "they", "my", "our", "your", "great", "good", "right", "i", "me", "what", "why", "how", "who",
    "when", "where", "which", "if", "as", "at", "in", "on", "of", "for", "to", "with", "from",
    "by", "about", "like", "definitely", "absolutely", "exactly", "totally", "actually", "basically",
    "honestly", "pretty", "super", "big", "huge", "done", "ready", "curious", "wondering", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "episode", "part",
    "show", "podcast", "live", "sir", "man", "dude", "bro", "buddy", "friend", "friends", "mr", "mrs",
    "ms", "dr", "one", "two", "three", "ai", "gpt", "llm", "claude", "gemini", "llama", "mistral",
    "yeah", "yep", "anyway", "first", "second", "third", "finally", "look", "listen", "see", "again",
    "plus", "however", "meanwhile", "obviously", "interestingly", "unfortunately", "fortunately",
    "agreed", "correct", "true", "cool", "nice", "wow", "oh", "um", "uh", "hmm", "perfect", "awesome",
    "alright", "then", "next", "last", "lastly", "overall", "personally", "instead", "remember",
    "apparently", "clearly", "literally", "seriously", "thankfully", "sadly",
}

# one to three capitalised words; case matters here even where the words around it do not
_NAME = r"((?:[A-Z][\w'\-]*|[A-Z]{2,})(?:\s+(?:[A-Z][\w'\-]*)){0,2})"
SELF_PATTERNS = [  # (pattern, strong): weak ones also need the name never written in lowercase
    (re.compile(r"\b(?:I'm|I am|(?i:my name is|call me))\s+" + _NAME), True),
    (re.compile(r"^(?i:(?:hi|hello|hey)(?: everyone| everybody| all| folks| there)?[,.!]?\s+)?(?i:this is|it's)\s+"
                + _NAME), False),
    (re.compile(r"\b(?i:this was)\s+" + _NAME), True),
    (re.compile(r"^" + _NAME + r"\s+here\b"), False),
]
THANKS = re.compile(r"^(?i:(?:oh|well|yeah|yes|okay|ok|so)[,.]?\s+)?(?i:thank you|thanks)(?i: so much| very much| a lot)?,\s+"
                    + _NAME + r"\s*[.!,]")
HANDOFF_START = re.compile(r"^(?i:(?:so|and|okay|ok|now|alright|all right)[,.]?\s+)?" + _NAME + r",\s+\w")
# what follows "Sam, ..." when Sam is spoken to: a question, "you", or a request ("go ahead", "tell us");
# "Psychotherapy, and the Communities." (a title read out) or "Camp Cloudcrest, September 12." are no hand-offs
SPOKEN_TO = re.compile(r"\?\s*$|\b(?i:you|your|yours|us|go ahead|tell|take|walk|give|share|jump|kick)\b")
HANDOFF_END = re.compile(r"(?i:over to you|back to you|take it away|what do you think|your turn|go ahead)"
                         r",?\s+" + _NAME + r"\s*[.?!]*$")
# "I'm Alex, your host", "this is your co-host Priya": who hosts the show, in the speaker's own words
# only a name (capitalized words) may stand between the introduction and "your host"
HOST_SELF = re.compile(r"\b(?:[Ii]'m|I am|[Tt]his is|[Mm]y name is)\s+(?:(?:[A-Z][\w'’-]*\s+){0,2}[A-Z][\w'’-]*,?\s+"
                       r"(?:and\s+I'm\s+)?)?your\s+(co-?host|host)\b")
VOCATIVE_END = re.compile(r",\s+" + _NAME + r"\s*[?!.]*$")
SENTENCE = re.compile(r"(?<=[.?!])\s+")

SELF_WEIGHT = 3.0
HANDOFF_WEIGHT = 1.0


@dataclass
class _Turn:
    speaker: str
    text: str


@dataclass
class NameEvidence:
    """Scores per (speaker, name) and the names each speaker addressed (so is not)."""

    score: dict[tuple[str, str], float] = field(default_factory=dict)
    not_name: set[tuple[str, str]] = field(default_factory=set)

    def add(self, speaker: str | None, name: str, weight: float) -> None:
        if speaker:
            self.score[(speaker, name)] = self.score.get((speaker, name), 0.0) + weight


def _clean(name: str) -> str | None:
    words = name.split()
    # drop trailing words that are not names ("Alex And" cannot happen with the regex, but
    # "Alex Today" can)
    while words and words[-1].lower() in NOT_NAMES:
        words.pop()
    if not words or words[0].lower() in NOT_NAMES:
        return None
    if any(ch.isdigit() for ch in "".join(words)):
        return None
    return " ".join(words)


def _is_word(name: str, lowercase: set[str]) -> bool:
    return any(w.lower() in lowercase for w in name.split())


def _turns(episode: Episode) -> list[_Turn]:
    turns: list[_Turn] = []
    for seg in episode.segments:
        if not seg.speaker or not seg.text.strip():
            continue
        if turns and turns[-1].speaker == seg.speaker:
            turns[-1].text += " " + seg.text.strip()
        else:
            turns.append(_Turn(seg.speaker, seg.text.strip()))
    return turns


def collect_evidence(episode: Episode) -> NameEvidence:
    ev = NameEvidence()
    turns = _turns(episode)
    # words the transcript also writes in lowercase are words, not names ("Anyway, ...")
    lowercase = {w for t in turns for w in re.findall(r"\b[a-z][\w'\-]*", t.text)}
    for i, turn in enumerate(turns):
        prev = turns[i - 1].speaker if i > 0 else None
        nxt = turns[i + 1].speaker if i + 1 < len(turns) else None
        sentences = [s for s in SENTENCE.split(turn.text) if s.strip()]
        for k, sentence in enumerate(sentences):
            for pattern, strong in SELF_PATTERNS:
                if not strong and k > 0:  # "this is X" / "X here" only open a turn
                    continue
                for m in pattern.finditer(sentence):
                    name = _clean(m.group(1))
                    if name and (strong or not _is_word(name, lowercase)):
                        ev.add(turn.speaker, name, SELF_WEIGHT)
            addressed: list[tuple[str, str | None]] = []  # (name, who it points at)
            if k == 0 and (m := THANKS.match(sentence)):
                addressed.append((m.group(1), prev if prev != turn.speaker else None))
            last = k == len(sentences) - 1
            if m := HANDOFF_END.search(sentence):
                addressed.append((m.group(1), nxt if last else None))
            elif (m := HANDOFF_START.match(sentence)) and SPOKEN_TO.search(sentence, m.end(1)):
                # "Sam, what is new ...?" in the last sentence hands over to Sam
                addressed.append((m.group(1), nxt if last else None))
            elif m := VOCATIVE_END.search(sentence):
                addressed.append((m.group(1), nxt if last and sentence.rstrip().endswith("?") else None))
            for raw, target in addressed:
                name = _clean(raw)
                if not name or len(name.split()) > 2 or _is_word(name, lowercase):
                    continue
                ev.not_name.add((turn.speaker, name))
                if target and target != turn.speaker:
                    ev.add(target, name, HANDOFF_WEIGHT)
    return ev


def infer_roles(episode: Episode) -> dict[str, str]:
    """Speaker id -> "host" or "co-host" for a speaker who introduces themself as one ("I'm
    Alex, your host"); a role two speakers claim is left out."""
    claims: dict[str, set[str]] = {}
    for turn in _turns(episode):
        for m in HOST_SELF.finditer(turn.text):
            role = "co-host" if m.group(1).lower().startswith("co") else "host"
            claims.setdefault(role, set()).add(turn.speaker)
    out: dict[str, str] = {}
    for role in ("co-host", "host"):
        spk = claims.get(role, set())
        if len(spk) == 1 and next(iter(spk)) not in out:
            out[next(iter(spk))] = role
    return out


def infer_names(episode: Episode, min_score: float = 2.0) -> dict[str, str]:
    """Speaker id -> name, only where the transcript makes it unambiguous."""
    ev = collect_evidence(episode)
    score = {k: v for k, v in ev.score.items() if k not in ev.not_name}
    by_name: dict[str, dict[str, float]] = {}
    by_speaker: dict[str, dict[str, float]] = {}
    for (spk, name), s in score.items():
        by_name.setdefault(name, {})[spk] = s
        by_speaker.setdefault(spk, {})[name] = s
    out: dict[str, str] = {}
    for name, cands in by_name.items():
        ranked = sorted(cands.items(), key=lambda kv: -kv[1])
        spk, best = ranked[0]
        if best < min_score:
            continue
        if len(ranked) > 1 and ranked[1][1] * 2 > best:  # two speakers claim it
            continue
        rivals = sorted(by_speaker[spk].items(), key=lambda kv: -kv[1])
        if len(rivals) > 1 and rivals[0][0] == name and rivals[1][1] * 2 > best:
            continue  # this speaker is also called something else
        if rivals[0][0] != name:
            continue
        out[spk] = name
    if out:
        log.info("inferred speaker names: %s", ", ".join(f"{k}={v}" for k, v in sorted(out.items())))
    return out


# -- given names ------------------------------------------------------------------------------


def parse_names_list(text: str) -> list[str]:
    """``"Alex Volkov, LDJ, Nisten"`` -> names (empty items are an error)."""
    names = [n.strip() for n in text.split(",")]
    if not names or any(not n for n in names):
        raise InputError(f"--speakers {text!r}: give names separated by commas, none empty")
    return names


def load_names_file(path: str | Path) -> dict[str, str] | list[str]:
    """A names file: JSON (a list of names, or an object ``{"SPEAKER_00": "Alex"}``), or text
    with one name per line (in order of first appearance) or ``SPEAKER_00: Alex`` lines
    (``SPEAKER_00=Alex`` and ``1: Alex``, counting from 1, work too). ``#`` starts a comment."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("speaker names file not found", path) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a speaker names file", path) from None
    except UnicodeDecodeError:
        raise InputError("speaker names file is not UTF-8 text", path) from None
    stripped = text.strip()
    if not stripped:
        raise InputError("speaker names file is empty", path)
    if stripped[:1] in "[{":
        def no_duplicates(pairs):
            seen: dict[str, object] = {}
            for k, v in pairs:
                if k in seen:
                    raise InputError(f"speaker {k!r} is named twice ({seen[k]!r} and {v!r})", path)
                seen[k] = v
            return seen

        try:
            data = json.loads(stripped, object_pairs_hook=no_duplicates)
        except json.JSONDecodeError as exc:
            raise InputError(f"speaker names file is not valid JSON ({exc.msg} at line {exc.lineno})", path) from None
        if isinstance(data, list) and all(isinstance(x, str) and x.strip() for x in data):
            return [x.strip() for x in data]
        if isinstance(data, dict) and all(isinstance(v, str) and v.strip() for v in data.values()):
            out: dict[str, str] = {}
            for k, v in data.items():
                key = _speaker_key(str(k), path)
                if key in out:  # "SPEAKER_00" and "1" are the same speaker
                    raise InputError(f"{key} is named twice ({out[key]!r} and {v.strip()!r})", path)
                out[key] = v.strip()
            return out
        raise InputError("speaker names JSON must be a list of names or an object of id -> name", path)
    mapping: dict[str, str] = {}
    plain: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^([A-Za-z_]*\d+)\s*[:=]\s*(.+)$", line)
        if m:
            key = _speaker_key(m.group(1), path)
            if key in mapping:
                raise InputError(f"line {lineno}: {key} is named twice ({mapping[key]!r}, then {m.group(2).strip()!r})",
                                 path)
            mapping[key] = m.group(2).strip()
        elif ":" in line or "=" in line:
            raise InputError(f"line {lineno}: expected 'SPEAKER_00: Name' or just a name, got {line!r}", path)
        else:
            plain.append(line)
    if mapping and plain:
        raise InputError("mixes 'SPEAKER_00: Name' lines with plain names; use one style", path)
    return mapping or plain


def _speaker_key(key: str, path) -> str:
    """'SPEAKER_00', 'speaker_0', '1' (1-based) -> 'SPEAKER_00'."""
    m = re.fullmatch(r"(?:speaker[_ ]?)?(\d+)", key.strip(), re.IGNORECASE)
    if not m:
        raise InputError(f"unknown speaker id {key!r} (expected SPEAKER_00, SPEAKER_01 ... or 1, 2 ...)", path)
    n = int(m.group(1))
    if not key.strip()[:1].isalpha():  # a bare number counts from 1, like people do
        if n < 1:
            raise InputError(f"speaker number {key!r}: numbers count from 1", path)
        n -= 1
    return f"SPEAKER_{n:02d}"


def appearance_order(episode: Episode) -> list[str]:
    """Speaker ids in order of first appearance in the transcript (then any others)."""
    order: list[str] = []
    for seg in episode.segments:
        if seg.speaker and seg.speaker not in order:
            order.append(seg.speaker)
    for t in sorted(episode.turns, key=lambda t: t.start):
        if t.speaker not in order:
            order.append(t.speaker)
    for sp in episode.speakers:
        if sp.id not in order:
            order.append(sp.id)
    return order


def apply_names(
    episode: Episode,
    given: list[str] | dict[str, str] | None = None,
    infer: bool = True,
    matched: dict[str, tuple[str, float]] | None = None,
) -> tuple[Episode, list[str]]:
    """Name the episode's speakers; returns (episode, warnings for the user).

    ``given`` names win; then voices recognized from the voice library (``matched``: id ->
    (name, score)); speakers still unnamed get inferred names when ``infer`` (never a name
    already given to someone else).
    """
    warnings: list[str] = []
    order = appearance_order(episode)
    names: dict[str, tuple[str, str]] = {}  # id -> (name, source)
    if isinstance(given, list) and given:
        for spk, name in zip(order, given):
            names[spk] = (name, "given")
        if len(given) > len(order):
            extra = ", ".join(given[len(order):])
            warnings.append(f"{len(given)} speaker names given but {len(order)} speakers found; ignored: {extra}")
        elif len(given) < len(order):
            rest = ", ".join(order[len(given):])
            warnings.append(f"{len(given)} speaker names given but {len(order)} speakers found; unnamed: {rest}")
    elif isinstance(given, dict) and given:
        unknown = [k for k in given if k not in order]
        if unknown:
            warnings.append(f"no speaker {', '.join(unknown)} in this episode ({len(order)} found); "
                            "those names are ignored")
        for spk, name in given.items():
            if spk in order:
                names[spk] = (name, "given")
        missing = [s for s in order if s not in names]
        if missing:
            warnings.append(f"no name given for {', '.join(missing)}")
    scores: dict[str, float] = {}
    taken = {n for n, _ in names.values()}
    for spk, (name, score) in (matched or {}).items():
        if spk in order and spk not in names and name not in taken:
            names[spk] = (name, "matched")
            scores[spk] = score
            taken.add(name)
    if infer:  # from English introductions only ("I'm Priya"): other languages' turns are left out
        for spk, name in infer_names(episode.in_english()[0]).items():
            if spk not in names and name not in taken:
                names[spk] = (name, "inferred")
                taken.add(name)
    roles = infer_roles(episode) if infer else {}
    speakers = [
        sp.model_copy(update={"name": names[sp.id][0], "name_source": names[sp.id][1],
                              "match_score": scores.get(sp.id), "role": sp.role or roles.get(sp.id)}) if sp.id in names
        else sp.model_copy(update={"name": None, "name_source": None, "match_score": None})
        for sp in episode.speakers
    ]
    for w in warnings:
        log.warning(w)
    return episode.model_copy(update={"speakers": speakers}), warnings
