"""Chapter detection accuracy on transcripts whose true chapters are known.

Each transcript in benchmarks/data/chapters/*.md (built by build.py there: distinct texts
stitched end to end) is imported with podtools' Markdown importer; its ``## [HH:MM:SS]``
headings are the truth and are hidden from the detectors. Scores, over all transcripts:

- boundary precision / recall / F1: a detected chapter start (other than 0:00) counts when it
  lies within +-60 s of a true one, each true start matched at most once;
- Pk and WindowDiff (nltk.metrics.segmentation) over segments, window k = half the mean true
  chapter length in segments (lower is better).

Baselines in the same run: chapters every ``target_length`` seconds (snapped to segment starts)
and nltk's TextTiling over the segments as paragraphs.

Also, reported on their own: the two long conversations of benchmarks/mentions_gold/talk (dev
and held out, written with chapters of two to four minutes by people who never saw the
detector), scored at +-60 s and +-30 s, with the detected chapter count against the true one.

    python benchmarks/chapters.py [--tolerance 60] [--data DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nltk.metrics.segmentation import pk, windowdiff

from podtools.chapters import STOPWORDS, ChaptersOptions, detect_boundaries
from podtools.formats.imports import import_transcript

DATA = Path(__file__).resolve().parent / "data" / "chapters"
TALK = Path(__file__).resolve().parent / "mentions_gold" / "talk"


def match(pred: list[float], true: list[float], tol: float) -> int:
    """One-to-one matches within ``tol`` seconds, closest pairs first."""
    pairs = sorted((abs(p - t), i, j) for i, p in enumerate(pred) for j, t in enumerate(true) if abs(p - t) <= tol)
    used_p, used_t, n = set(), set(), 0
    for _, i, j in pairs:
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            n += 1
    return n


def prf(matched: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``matched`` boundaries among ``n_pred`` found and ``n_true`` true."""
    p = matched / n_pred if n_pred else 0.0
    r = matched / n_true if n_true else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def as_string(starts: list[float], segments) -> str:
    """'1' at each segment that starts a chapter (after the first), else '0'."""
    marks = ["0"] * len(segments)
    for s in starts:
        if s <= 0:
            continue
        i = min(range(len(segments)), key=lambda k: abs(segments[k].start - s))
        marks[i] = "1"
    return "".join(marks)


def uniform(segments, duration: float, options: ChaptersOptions) -> list[float]:
    n = max(1, round(duration / options.target_length))
    starts = [0.0]
    for k in range(1, n):
        t = duration * k / n
        starts.append(min(segments, key=lambda s: abs(s.start - t)).start)
    return starts


def texttiling(segments, duration: float, options: ChaptersOptions) -> list[float]:
    from nltk.tokenize.texttiling import TextTilingTokenizer

    text = "\n\n".join(s.text for s in segments)
    tiles = TextTilingTokenizer(stopwords=list(STOPWORDS)).tokenize(text)
    starts, count = [0.0], 0
    for tile in tiles[:-1]:
        count += tile.strip().count("\n\n") + 1
        if count < len(segments):
            starts.append(segments[count].start)
    return starts


def talk_episodes():
    """(label, segments, duration, true chapter starts) of the talk transcripts."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from mentions import TALK_SETS, read_talk  # benchmarks/mentions.py: the talk format's reader

    from podtools.mentions.catalog import load_catalog

    catalog = load_catalog()
    for name, label in TALK_SETS.items():
        if (TALK / name).exists():
            talk = read_talk(TALK / name, catalog)
            yield label, talk.segments, talk.chapters[-1].end, [c.start for c in talk.chapters]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tolerance", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("-v", "--verbose", action="store_true", help="per-transcript lines")
    args = ap.parse_args()
    options = ChaptersOptions()
    words_only = ChaptersOptions(semantic=0.0)
    files = sorted(args.data.glob("*.md"))
    methods = {
        "podtools (words + meaning)": lambda segs, d: detect_boundaries(segs, d, options),
        "podtools, words only (before)": lambda segs, d: detect_boundaries(segs, d, words_only),
        "uniform every target_length": lambda segs, d: uniform(segs, d, options),
        "nltk TextTiling": lambda segs, d: texttiling(segs, d, options),
    }
    rows = []
    total_minutes = 0.0
    for name, fn in methods.items():
        tp = n_pred = n_true = 0
        pks, wds, secs = [], [], 0.0
        total_minutes = 0.0
        for f in files:
            ep = import_transcript(f, warn=lambda _m: None).episode
            truth = [c.start for c in ep.chapters]
            segs = ep.segments
            total_minutes += ep.duration / 60
            t0 = time.perf_counter()
            pred = fn(segs, ep.duration)
            secs += time.perf_counter() - t0
            p_in, t_in = [p for p in pred if p > 0], [t for t in truth if t > 0]
            m = match(p_in, t_in, args.tolerance)
            tp, n_pred, n_true = tp + m, n_pred + len(p_in), n_true + len(t_in)
            ref, hyp = as_string(truth, segs), as_string(pred, segs)
            k = max(2, round(len(segs) / len(truth) / 2))
            pks.append(pk(ref, hyp, k, "1"))
            wds.append(windowdiff(ref, hyp, k, "1"))
            if args.verbose:
                print(f"  {name[:12]:12s} {f.stem:12s} true {[round(t) for t in t_in]} "
                      f"pred {[round(p) for p in p_in]}")
        p, r, f = prf(tp, n_pred, n_true)
        rows.append((name, n_pred, n_true, p, r, f, sum(pks) / len(pks), sum(wds) / len(wds), secs))
    base_f1 = rows[2][5]
    print(f"Chapter detection: {len(files)} transcripts, {total_minutes:.0f} min, boundaries within "
          f"+-{args.tolerance:.0f} s (Pk/WindowDiff: lower is better)")
    print(f"{'method':30s} {'pred':>5s} {'true':>5s} {'P':>6s} {'R':>6s} {'F1':>6s} {'Pk':>6s} {'WD':>6s} "
          f"{'sec':>6s} {'F1 vs uniform':>14s}")
    for name, n_pred, n_true, p, r, f1, pk_, wd, secs in rows:
        ratio = f"{f1 / base_f1:.2f}x" if base_f1 else "-"
        print(f"{name:30s} {n_pred:5d} {n_true:5d} {p:6.2f} {r:6.2f} {f1:6.2f} {pk_:6.3f} {wd:6.3f} "
              f"{secs:6.2f} {ratio:>14s}")
    talks = list(talk_episodes())
    if talks:
        print("\nTalk transcripts (mentions_gold/talk): F1 at +-60 s / +-30 s, chapters detected / true")
        print(f"{'method':30s} " + " ".join(f"{label.split(') ', 1)[-1]:>26s}" for label, *_ in talks))
        for name, fn in methods.items():
            cells = []
            for label, segs, duration, truth in talks:
                pred = [p for p in fn(segs, duration) if p > 0]
                t_in = [t for t in truth if t > 0]
                f = [prf(match(pred, t_in, tol), len(pred), len(t_in))[2] for tol in (60.0, 30.0)]
                cells.append(f"{f[0]:.2f} / {f[1]:.2f}, {len(pred) + 1:2d}/{len(truth):2d}")
            print(f"{name:30s} " + " ".join(f"{c:>26s}" for c in cells))


if __name__ == "__main__":
    main()
