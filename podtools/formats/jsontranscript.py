"""JSON transcripts: Podcasting 2.0 (``{version, segments: [{speaker, startTime, endTime, body}]}``),
Whisper's JSON output (``{text, segments: [{start, end, text}]}``) and podtools' own episode.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from ..errors import InputError
from ..models import Episode
from ..textsafe import one_line
from ..timefmt import check_seconds
from .pieces import Parsed, Piece, clean_inline


def load_json(text: str, path: str | Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg} at line {exc.lineno})", path) from None


def json_kind(raw: Any) -> Optional[str]:
    """'episode', 'podcasting2', 'whisper', 'chapters' or None for other JSON."""
    if not isinstance(raw, dict):
        return None
    if "schema_version" in raw and "segments" in raw:
        return "episode"
    segs = raw.get("segments")
    if isinstance(segs, list):
        first = next((s for s in segs if isinstance(s, dict)), None)
        if first is None and not segs:
            return "podcasting2" if "version" in raw else None
        if first is not None and "startTime" in first:
            return "podcasting2"
        if first is not None and "start" in first and "text" in first:
            return "whisper"
    if isinstance(raw.get("chapters"), list):
        return "chapters"
    return None


NOT_A_TRANSCRIPT = ("JSON file is not a transcript: expected a Podcasting 2.0 transcript "
                    "({version, segments: [{startTime, endTime, body}]}), Whisper JSON or a podtools episode.json")


def parse_json(text: str, path: str | Path) -> Parsed | Episode:
    raw = load_json(text, path)
    kind = json_kind(raw)
    if kind == "episode":
        return Episode.from_json(text, path)
    if kind == "chapters":
        raise InputError("this is a chapters file, not a transcript; give it with --chapters", path)
    if kind is None:
        raise InputError(NOT_A_TRANSCRIPT, path)
    start_key, end_key, text_key = ("startTime", "endTime", "body") if kind == "podcasting2" else ("start", "end", "text")
    parsed = Parsed(format="podcasting2-json" if kind == "podcasting2" else "whisper-json", cues=True)
    parsed.language = raw.get("language") if isinstance(raw.get("language"), str) else None
    for i, seg in enumerate(raw["segments"]):
        where = f"segments[{i}]"
        if not isinstance(seg, dict):
            raise InputError(f"{where} is not an object", path)
        start, end = seg.get(start_key), seg.get(end_key)
        for key, value in ((start_key, start), (end_key, end)):
            if value is None and key == end_key:
                continue  # inferred from the next segment's start
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{where}.{key} must be a number of seconds >= 0, not {value!r}", path)
            try:
                check_seconds(value, f"{where}.{key}")
            except ValueError as exc:
                raise InputError(str(exc), path) from None
        body = seg.get(text_key, "")
        if not isinstance(body, str):
            raise InputError(f"{where}.{text_key} must be a string", path)
        speaker = seg.get("speaker")
        speaker = clean_inline(speaker) if isinstance(speaker, str) and speaker.strip() else None
        parsed.pieces.append(Piece(start=float(start), end=None if end is None else float(end),
                                   text=clean_inline(body), speaker=speaker, line=i + 1))
    if not parsed.pieces:
        raise InputError("transcript has no segments", path)
    return parsed


PODCASTING2_TRANSCRIPT_VERSION = "1.0.0"


def to_podcasting2(episode: Episode) -> str:
    """``transcript.json``: the Podcasting 2.0 JSON transcript (``version``, ``segments[]`` of
    ``speaker``, ``startTime``, ``endTime``, ``body``), one segment per phrase and speaker.

    A transcript segment whose words were given to two speakers becomes one segment per run of
    words of the same speaker, timed by its words. Text has no control characters.
    """
    segments: list[dict] = []

    def add(speaker: Optional[str], start: float, end: float, text: str) -> None:
        body = " ".join(one_line(text).split())
        if not body:
            return
        item: dict[str, Any] = {}
        name = episode.speaker_name(speaker)
        if name:
            item["speaker"] = " ".join(one_line(name).split())
        item.update(startTime=round(start, 3), endTime=round(max(end, start), 3), body=body)
        segments.append(item)

    for seg in episode.segments:
        speakers = {w.speaker or seg.speaker for w in seg.words}
        if len(speakers) <= 1:
            add(seg.speaker or next(iter(speakers), None), seg.start, seg.end, seg.text)
            continue
        run: list = []
        for w in seg.words:
            if run and (w.speaker or seg.speaker) != (run[-1].speaker or seg.speaker):
                add(run[0].speaker or seg.speaker, run[0].start, run[-1].end, " ".join(x.text.strip() for x in run))
                run = []
            run.append(w)
        if run:
            add(run[0].speaker or seg.speaker, run[0].start, run[-1].end, " ".join(x.text.strip() for x in run))
    doc: dict[str, Any] = {"version": PODCASTING2_TRANSCRIPT_VERSION}
    if episode.language:  # the language spoken most (read back by import_transcript)
        doc["language"] = one_line(episode.language)
    doc["segments"] = segments
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
