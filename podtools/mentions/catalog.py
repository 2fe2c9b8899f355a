"""The catalog of AI models, benchmarks and organizations: a YAML data file, user-extendable.

The shipped ``catalog.yaml`` sits next to this module; ``--catalog FILE`` adds entries (or
replaces a shipped entry of the same name). Errors name the file and line: YAML syntax, unknown
fields, a family or parent that does not exist, and an alias claimed by two entries.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from ..errors import ConfigError
from .text import atoms

log = logging.getLogger("podtools.mentions")

CATALOG_PATH = Path(__file__).resolve().parent / "catalog.yaml"
SECTIONS = {"families": "family", "models": "model", "benchmarks": "benchmark", "orgs": "org"}
_STR_FIELDS = {"name", "org", "family", "version", "released", "parent", "full_name", "sep"}
_LIST_FIELDS = {"sizes", "aliases", "asr", "cased", "short", "not"}
_BOOL_FIELDS = {"standalone", "exact"}
# words that brands spell their own way, and speech recognition writes as the word ("Flash-Lite"
# heard "Flash Light", "SD XL" heard "SD Excel"): every name with one is also matched, as a garble,
# with the word
HEARD_AS = {"lite": "Light", "xl": "Excel"}
_HEARD = re.compile(r"(?i)(?<![^\W\d_])(?:" + "|".join(HEARD_AS) + r")(?![^\W\d_])")
_ALLOWED = {
    "family": {"name", "org", "sep", "standalone", "aliases", "asr", "cased", "not"},
    "model": {"name", "org", "family", "version", "sizes", "released", "parent", "aliases", "asr", "cased", "short",
              "not", "exact"},
    "benchmark": {"name", "org", "full_name", "released", "parent", "aliases", "asr", "cased", "short", "not", "exact"},
    "org": {"name", "aliases", "asr", "cased", "not"},
}


@dataclass(frozen=True)
class Entry:
    """One catalog entry. ``kind`` is family | model | benchmark | org, or name (``--vocab``)."""

    name: str
    kind: str
    source: str  # "file:line", for messages
    org: Optional[str] = None
    family: Optional[str] = None
    version: Optional[str] = None
    sizes: tuple[str, ...] = ()
    released: Optional[str] = None
    parent: Optional[str] = None
    full_name: Optional[str] = None
    aliases: tuple[str, ...] = ()
    asr: tuple[str, ...] = ()
    cased: tuple[str, ...] = ()
    short: tuple[str, ...] = ()
    not_: tuple[str, ...] = ()
    sep: str = " "
    standalone: bool = True
    exact: bool = False  # matched only as written: never as a sound-alike or a misspelling

    @property
    def mention_kind(self) -> str:
        """The kind a mention of this entry gets (a family is a model family)."""
        return "model" if self.kind == "family" else self.kind

    def names(self) -> list[tuple[str, str]]:
        """(text, how) of every name this entry is matched by: how = name | alias | asr | cased."""
        out: list[tuple[str, str]] = []
        cased_keys = {a for a in self.cased}
        if self.kind != "family" or self.standalone:
            if self.name not in cased_keys:
                out.append((self.name, "name"))
            out += [(a, "alias") for a in self.aliases]
            out += [(a, "cased") for a in self.cased]
            out += [(a, "asr") for a in self.asr]
            # a brand's spelling of a word, as speech recognition writes the word: "Nova Light"
            out += [(_HEARD.sub(lambda m: HEARD_AS[m.group().lower()], text), "asr") for text, how in list(out)
                    if how != "cased" and _HEARD.search(text)]
        seen: set[tuple[str, ...]] = set()
        unique = []
        for text, how in out:  # one spelling per atom sequence: the most exact one decides the confidence
            key = (how == "cased",) + atoms(text)
            if key not in seen:
                seen.add(key)
                unique.append((text, how))
        return unique


@dataclass
class NameCatalog:
    entries: list[Entry]
    version: str = ""
    files: list[str] = field(default_factory=list)
    asr_prompt: list[str] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)  # the user's names (--vocab), kind "name"

    def __post_init__(self) -> None:
        self.by_name = {e.name: e for e in self.entries if e.kind != "family"}
        self.families = {e.name: e for e in self.entries if e.kind == "family"}
        self.children: dict[str, list[Entry]] = {}
        for e in self.entries:
            if e.parent:
                self.children.setdefault(e.parent, []).append(e)

    def __len__(self) -> int:
        return len(self.entries)

    def fingerprint(self) -> str:
        """Changes whenever any entry changes: the key of the compiled pipeline and of caches."""
        h = hashlib.sha256()
        for e in self.entries:
            h.update(repr((e.name, e.kind, e.org, e.family, e.version, e.sizes, e.parent, e.aliases, e.asr,
                           e.cased, e.short, e.not_, e.sep, e.standalone, e.exact)).encode())
        return h.hexdigest()[:16]

    def prompt(self) -> str:
        """Whisper's initial prompt: the catalog's ``asr_prompt`` names as one sentence, then the
        user's vocabulary as another. Whisper keeps the end of a long prompt (its last ~220
        tokens) and weighs the names nearest the end most, so the show's own names come last."""
        parts = []
        if self.asr_prompt:
            parts.append("AI models and benchmarks: " + ", ".join(self.asr_prompt) + ".")
        if self.vocabulary:
            parts.append("Names: " + ", ".join(self.vocabulary) + ".")
        return " ".join(parts)

    def hotwords(self, kinds: Iterable[str] = ("model", "benchmark", "family"), limit: int = 0) -> list[str]:
        """Canonical names for ASR vocabulary biasing (most recent first)."""
        picked = [e for e in self.entries if e.kind in kinds and (e.kind != "family" or e.standalone)]
        picked.sort(key=lambda e: e.released or "", reverse=True)
        names = [e.name for e in picked]
        return names[:limit] if limit else names


# -- loading ------------------------------------------------------------------------------------


def _scalar(node, path: Path, what: str) -> str:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"line {node.start_mark.line + 1}: {what} must be a single value", path)
    return str(node.value).strip()


def _parse_entry(node, kind: str, path: Path) -> tuple[Entry, int, dict[str, int]]:
    import yaml

    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"line {line}: each {kind} must be a mapping like {{name: ..., aliases: [...]}}", path)
    values: dict = {}
    lines: dict[str, int] = {}
    for key_node, val_node in node.value:
        key = _scalar(key_node, path, "a field name")
        kline = key_node.start_mark.line + 1
        if key in values:
            raise ConfigError(f"line {kline}: field {key!r} given twice", path)
        if key not in _ALLOWED[kind]:
            hint = difflib.get_close_matches(key, sorted(_ALLOWED[kind]), n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(sorted(_ALLOWED[kind]))})"
            raise ConfigError(f"line {kline}: unknown field {key!r} for a {kind}{more}", path)
        lines[key] = val_node.start_mark.line + 1
        if key in _LIST_FIELDS:
            if isinstance(val_node, yaml.ScalarNode) and val_node.value in ("", "~", "null"):
                items: list[str] = []
            elif not isinstance(val_node, yaml.SequenceNode):
                raise ConfigError(f"line {lines[key]}: {key} must be a list, e.g. {key}: [a, b]", path)
            else:
                items = [_scalar(n, path, f"each item of {key}") for n in val_node.value]
            if any(not i for i in items):
                raise ConfigError(f"line {lines[key]}: empty item in {key}", path)
            values[key] = tuple(items)
        elif key in _BOOL_FIELDS:
            v = _scalar(val_node, path, key).lower()
            if v not in ("true", "false", "yes", "no"):
                raise ConfigError(f"line {lines[key]}: {key} must be true or false", path)
            values[key] = v in ("true", "yes")
        elif key == "sep":
            values[key] = str(val_node.value) if isinstance(val_node, yaml.ScalarNode) else _scalar(val_node, path, key)
        else:
            values[key] = _scalar(val_node, path, key)
    if not values.get("name"):
        raise ConfigError(f"line {line}: a {kind} without a name", path)
    if not atoms(values["name"]):
        raise ConfigError(f"line {line}: name {values['name']!r} has no letters or digits", path)
    if "not" in values:
        values["not_"] = values.pop("not")
    return Entry(kind=kind, source=f"{path.name}:{line}", **values), line, lines


def _read_yaml(path: Path):
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("catalog file not found", path) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a catalog .yaml file", path) from None
    except UnicodeDecodeError:
        raise ConfigError("catalog is not UTF-8 text", path) from None
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{where}YAML syntax error: {exc.problem or exc.context}", path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML syntax error: {exc}", path) from None
    if root is None:
        return None, text
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"line {root.start_mark.line + 1}: a catalog is a mapping with sections "
                          f"{', '.join(SECTIONS)}", path)
    return root, text


def _parse_file(path: Path) -> tuple[list[tuple[Entry, int]], str, Optional[list[str]]]:
    import yaml

    root, _ = _read_yaml(path)
    if root is None:
        return [], "", None
    out: list[tuple[Entry, int]] = []
    version = ""
    prompt: Optional[list[str]] = None
    seen_sections = set()
    for key_node, val_node in root.value:
        key = _scalar(key_node, path, "a section name")
        line = key_node.start_mark.line + 1
        if key == "version":
            version = _scalar(val_node, path, "version")
            continue
        if key == "asr_prompt":
            if not isinstance(val_node, yaml.SequenceNode):
                raise ConfigError(f"line {line}: asr_prompt must be a list of names", path)
            prompt = [_scalar(n, path, "each name of asr_prompt") for n in val_node.value]
            continue
        if key not in SECTIONS:
            hint = difflib.get_close_matches(key, list(SECTIONS), n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"line {line}: unknown section {key!r}{more}; sections are {', '.join(SECTIONS)}, "
                              "plus version and asr_prompt", path)
        if key in seen_sections:
            raise ConfigError(f"line {line}: section {key!r} given twice", path)
        seen_sections.add(key)
        if isinstance(val_node, yaml.ScalarNode) and val_node.value in ("", "~", "null"):
            continue
        if not isinstance(val_node, yaml.SequenceNode):
            raise ConfigError(f"line {line}: section {key!r} must be a list of entries", path)
        for item in val_node.value:
            entry, eline, _ = _parse_entry(item, SECTIONS[key], path)
            out.append((entry, eline))
    return out, version, prompt


def _check(entries: list[Entry], lines: dict[str, tuple[Path, int]]) -> None:
    """Cross-entry checks: unique names, known families and parents, no alias claimed twice."""
    owner: dict[tuple[str, ...], Entry] = {}
    names: dict[str, Entry] = {}
    for e in entries:
        path, line = lines[(e.kind, e.name)]
        if e.kind == "family":
            continue  # a family may share its name with an org (DeepSeek)
        if e.name in names:
            other = names[e.name]
            raise ConfigError(f"line {line}: {e.name!r} is already an entry ({other.source})", path)
        names[e.name] = e
    families = {e.name for e in entries if e.kind == "family"}
    models = {e.name for e in entries if e.kind in ("model", "benchmark")}
    for e in entries:
        path, line = lines[(e.kind, e.name)]
        if e.family and e.family not in families:
            hint = difflib.get_close_matches(e.family, sorted(families), n=1)
            raise ConfigError(f"line {line}: {e.name}: unknown family {e.family!r}"
                              + (f" (did you mean {hint[0]!r}?)" if hint else "; add it under families"), path)
        if e.parent and e.parent not in models:
            raise ConfigError(f"line {line}: {e.name}: unknown parent {e.parent!r}", path)
        mine: set[tuple[str, ...]] = set()
        for text, how in e.names():
            key = atoms(text)
            if not key:
                raise ConfigError(f"line {line}: {e.name}: alias {text!r} has no letters or digits", path)
            if key in mine:
                continue  # the same alias twice in one entry: harmless
            mine.add(key)
            other = owner.get(key)
            if other is not None:
                raise ConfigError(f"line {line}: duplicate alias {text!r} of {e.name!r}: it is already a name "
                                  f"of {other.name!r} ({other.source}); remove one or tell them apart", path)
            owner[key] = e


def parse_vocabulary(text: str) -> list[str]:
    """``"Nisten, LDJ, Weights & Biases"`` (or one name per line) -> the names, in order, once each."""
    out: list[str] = []
    for part in re.split(r"[,\n;]", text):
        name = " ".join(part.split())
        if name and not name.startswith("#") and name not in out:
            out.append(name)
    return out


def load_catalog(extra: Iterable[str | Path] = (), builtin: bool = True, vocabulary: Iterable[str] = ()) -> NameCatalog:
    """The shipped catalog plus the user's catalog files (a same-named entry replaces a shipped one)
    plus the user's ``vocabulary``: each name no entry already matches becomes an entry of kind
    ``name``, matched only as written (so "Weights & Biases" is a name, "weights and biases" words)."""
    entries: dict[tuple[str, str], Entry] = {}
    lines: dict[tuple[str, str], tuple[Path, int]] = {}
    version = ""
    prompt: list[str] = []
    files: list[str] = []
    sources = ([CATALOG_PATH] if builtin else []) + [Path(p) for p in extra]
    for i, path in enumerate(sources):
        parsed, v, p = _parse_file(path)
        version = version or v
        if p is not None:
            prompt = p  # a user's asr_prompt replaces the shipped one
        files.append(str(path))
        user = builtin and i > 0 or not builtin
        seen_here: dict[tuple[str, str], int] = {}
        for entry, line in parsed:
            key = (entry.kind, entry.name)
            if key in seen_here:
                raise ConfigError(f"line {line}: {entry.name!r} is already an entry (line {seen_here[key]})", path)
            seen_here[key] = line
            if user and key in entries:
                log.info("%s: %s replaces the shipped entry", path, entry.name)
                del entries[key]
            entries[key] = entry
            lines[key] = (path, line)
    ordered = list(entries.values())
    _check(ordered, lines)
    vocab = [v for v in vocabulary if v.strip()]
    known = {atoms(text) for e in ordered for text, _ in e.names()}
    for name in vocab:
        if atoms(name) and atoms(name) not in known:
            known.add(atoms(name))
            ordered.append(Entry(name=name, kind="name", source="--vocab", cased=(name,)))
    return NameCatalog(ordered, version=version, files=files, asr_prompt=prompt, vocabulary=vocab)
