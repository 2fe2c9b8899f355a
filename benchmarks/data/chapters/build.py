"""Build the chapter-detection evaluation transcripts (run once; the outputs are committed).

Each transcript stitches distinct texts end to end, so its true chapter starts are known:
the topic passages in ``topics.txt`` (written for podtools) and excerpts of the development
corpus (``../shared/corpus``: an Inflection-2 news article, an essay, and the State of AI Report
2024 highlights cut into chunks, never two neighbouring chunks in one transcript). Sentences are
timed at a conversational speaking rate (2.3 to 2.8 words a second, per speaker), grouped into
speaker turns, and written as Markdown transcripts in the AI-news format
(``## [HH:MM:SS] Title`` / ``[HH:MM:SS] **Name:** text``).

    python benchmarks/data/chapters/build.py [CORPUS_DIR]
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
NAMES = {"A": "Alex", "B": "Priya", "C": "Sam"}
RATES = {"A": 2.6, "B": 2.4, "C": 2.8}  # words per second
MAX_SEGMENT_WORDS = 70


def topics() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    title = None
    for line in (HERE / "topics.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            title = line[4:].strip()
            out[title] = []
        elif title and re.match(r"^[ABC]: ", line):
            out[title].append((line[0], line[3:].strip()))
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9“\"‘'(])", text) if s.strip()]


def clean_markdown(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"^---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"\(\[View Highlight\]\([^)]*\)\)", "", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[\[([^\]]*)\]\]", r"\1", text)
    return text.replace("●", " ").replace("*", "")


def prose(text: str) -> list[str]:
    """Paragraphs of running text (headings, metadata and short lines dropped)."""
    paras = []
    for block in re.split(r"\n\s*\n|\n(?=- )", clean_markdown(text)):
        block = " ".join(ln.strip(" -\t") for ln in block.splitlines() if not ln.lstrip().startswith("#"))
        block = re.sub(r"\s+", " ", block).strip()
        if len(block.split()) >= 12:
            paras.append(block)
    return paras


def as_turns(paragraphs: list[str], rng: random.Random) -> list[tuple[str, str]]:
    """Running text read by two speakers taking turns every 2 to 4 sentences."""
    sents = [s for p in paragraphs for s in sentences(p)]
    turns, role, i = [], "A", 0
    while i < len(sents):
        n = rng.randint(2, 4)
        turns.append((role, " ".join(sents[i:i + n])))
        role = "B" if role == "A" else "A"
        i += n
    return turns


def soai_chunks(corpus: Path, rng: random.Random) -> list[list[str]]:
    """The report's highlights in consecutive chunks of 450 to 1,200 words (unequal on purpose:
    equal chapters would flatter the evenly spaced baseline)."""
    text = (corpus / "state-of-ai-2024-highlights.md").read_text(encoding="utf-8")
    text = text.split("## Highlights", 1)[1]
    text = re.sub(r"^## New highlights added.*$", "", text, flags=re.M)
    paras = prose(text)
    chunks, cur, n = [], [], 0
    size = rng.randint(450, 1200)
    for p in paras:
        cur.append(p)
        n += len(p.split())
        if n >= size:
            chunks.append(cur)
            cur, n, size = [], 0, rng.randint(450, 1200)
    if cur and n > 300:
        chunks.append(cur)
    return chunks


def stamp(t: float) -> str:
    t = int(t)
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def write_transcript(name: str, title: str, chapters: list[tuple[str, list[tuple[str, str]]]],
                     rng: random.Random) -> None:
    lines = ["---", f"title: \"{title}\"", "---", ""]
    t = 0.0
    for ch_title, turns in chapters:
        lines += [f"## [{stamp(t)}] {ch_title}", ""]
        for role, text in turns:
            words = text.split()
            for k in range(0, len(words), MAX_SEGMENT_WORDS):
                piece = words[k:k + MAX_SEGMENT_WORDS]
                if len(words) - k - MAX_SEGMENT_WORDS < 15:  # no tiny tail segment
                    piece = words[k:]
                lines += [f"[{stamp(t)}] **{NAMES[role]}:** {' '.join(piece)}", ""]
                t += len(piece) / RATES[role] + rng.uniform(0.2, 0.6) * (1 + len(piece) // 15)
                if len(piece) != min(MAX_SEGMENT_WORDS, len(words) - k):
                    break
            t += rng.uniform(0.3, 1.2)
        t = float(int(t) + 1)  # a stamp is whole seconds: the next chapter starts on one
    (HERE / f"{name}.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print(f"{name}.md: {len(chapters)} chapters, {t / 60:.1f} min")


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus"
    rng = random.Random(4)
    top = topics()
    t = list(top)
    soai = soai_chunks(corpus, rng)
    print(f"State of AI report: {len(soai)} chunks of {[sum(len(p.split()) for p in c) for c in soai]} words")
    inflection2 = prose((corpus / "inflection-2-article.md").read_text(encoding="utf-8"))
    lab = prose((corpus / "inflection-lab-post.md").read_text(encoding="utf-8"))

    def own(*idx):
        return [(t[i], top[t[i]]) for i in idx]

    def report(*idx):
        return [(f"State of AI 2024, part {i + 1}", as_turns(soai[i], rng)) for i in idx]

    sets = {
        "mixed-a": ("Weekend Mix", own(0, 2, 1, 4, 3)),
        "mixed-b": ("Tech and Life", own(5, 9, 6, 8, 7)),
        "ai-news": ("AI News Weekly", own(2, 3, 6, 8, 4, 5)),
        "inflection": ("Inflection Special", [("Inflection-2 launch", as_turns(inflection2, rng)),
                                              ("Inflection's compute", as_turns(lab, rng))] + own(7, 6, 9)),
        "report-a": ("State of AI Review, part one", report(0, 3, 6, 9)),
        "report-b": ("State of AI Review, part two", report(1, 4, 7) + own(9)),
        "report-c": ("State of AI Review, part three", own(1) + report(2, 5, 8) + own(0)),
    }
    for name, (title, chapters) in sets.items():
        write_transcript(name, title, chapters, rng)


if __name__ == "__main__":
    main()
