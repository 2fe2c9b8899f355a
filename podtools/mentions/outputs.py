"""mentions.json and mentions.csv: every mention, and totals per name, chapter and speaker."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Optional

from ..models import Episode, Mention
from ..textsafe import csv_cell
from ..timefmt import hms

CSV_FIELDS = ["canonical", "kind", "known", "size", "org", "surface", "start", "end", "time", "speaker",
              "speaker_name", "chapter", "chapter_title", "confidence", "method"]


def _chapter_title(episode: Episode, idx: Optional[int]) -> Optional[str]:
    if idx is None or not (0 <= idx < len(episode.chapters)):
        return None
    return episode.chapters[idx].title


def aggregate(episode: Episode) -> dict[str, Any]:
    """Totals: per name (count, first/last time, speakers, chapters), per chapter, per speaker."""
    by_name: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    for m in episode.mentions:
        by_name[(m.canonical, m.kind)].append(m)
    names = []
    for (canonical, kind), ms in by_name.items():
        speakers = Counter(m.speaker for m in ms if m.speaker)
        chapters = Counter(m.chapter for m in ms if m.chapter is not None)
        names.append({
            "canonical": canonical, "kind": kind, "known": all(m.known for m in ms), "count": len(ms),
            "first": ms[0].start, "last": ms[-1].start,
            "sizes": sorted({m.size for m in ms if m.size}),
            "surfaces": sorted({m.surface for m in ms}),
            "speakers": [{"speaker": s, "name": episode.speaker_name(s), "count": c} for s, c in speakers.most_common()],
            "chapters": [{"chapter": i, "title": _chapter_title(episode, i), "count": c}
                         for i, c in sorted(chapters.items())],
            "confidence": round(max(m.confidence for m in ms), 3),
        })
    names.sort(key=lambda r: (-r["count"], r["first"]))
    per_chapter = []
    for i, ch in enumerate(episode.chapters):
        counts = Counter(m.canonical for m in episode.mentions if m.chapter == i)
        per_chapter.append({"chapter": i, "title": ch.title, "start": ch.start,
                            "mentions": [{"canonical": k, "count": v} for k, v in counts.most_common()]})
    per_speaker = []
    for spk in sorted({m.speaker for m in episode.mentions if m.speaker}):
        counts = Counter(m.canonical for m in episode.mentions if m.speaker == spk)
        per_speaker.append({"speaker": spk, "name": episode.speaker_name(spk),
                            "mentions": [{"canonical": k, "count": v} for k, v in counts.most_common()]})
    return {"names": names, "chapters": per_chapter, "speakers": per_speaker}


def to_json(episode: Episode, templates_dir: Optional[Path] = None) -> str:
    run = episode.provenance.get("mentions")
    doc = {
        "episode": episode.id,
        "title": episode.title,
        "source": episode.source,
        "generated_by": (run.model if run else None),
        "count": len(episode.mentions),
        "mentions": [
            {**m.model_dump(mode="json"), "time": hms(m.start), "speaker_name": episode.speaker_name(m.speaker),
             "chapter_title": _chapter_title(episode, m.chapter)}
            for m in episode.mentions
        ],
        **aggregate(episode),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_csv(episode: Episode, templates_dir: Optional[Path] = None) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for m in episode.mentions:
        w.writerow({  # text from the transcript and episode.json: no spreadsheet formulas
            "canonical": csv_cell(m.canonical), "kind": csv_cell(m.kind), "known": str(m.known).lower(),
            "size": csv_cell(m.size or ""), "org": csv_cell(m.org or ""), "surface": csv_cell(m.surface),
            "start": f"{m.start:.3f}", "end": f"{m.end:.3f}", "time": hms(m.start), "speaker": csv_cell(m.speaker or ""),
            "speaker_name": csv_cell(episode.speaker_name(m.speaker) or ""),
            "chapter": "" if m.chapter is None else m.chapter,
            "chapter_title": csv_cell(_chapter_title(episode, m.chapter) or ""), "confidence": f"{m.confidence:.3f}",
            "method": csv_cell(m.method or ""),
        })
    return buf.getvalue()
