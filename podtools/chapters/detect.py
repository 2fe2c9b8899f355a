"""Chapters found in the transcript: cohesion curves (words, meaning by wordllama, topics), the
boundaries at their deepest dips, and key-phrase titles."""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from ..formats.text import Warn, default_warn
from ..models import Chapter, Episode, Segment
from ..timefmt import hms
from .sources import ChaptersOptions, RELATIVE_DEPTH, Titler, chapter_texts

log = logging.getLogger("podtools.chapters")


# -- detection ------------------------------------------------------------------------------------

STOPWORDS = frozenset("""
a about above across actually after again against ago ah ahead all almost along already also although always am
among an and another any anybody anyone anything anyway are aren't around as ask asked at away back basically be
became because become been before behind being believe below best better between big bit both but by call called
came can can't cannot certainly come comes coming could couldn't day days did didn't different do does doesn't
doing don't done down during each easy either else end enough especially even ever every everybody everyone
everything exactly example far feel felt few find first five for four from front fun further gave get gets getting
give given go goes going gone gonna good got gotta great guess guy guys had hadn't happen happened has hasn't have
haven't having he he's hear heard hello help her here here's hers herself hey hi him himself his hmm honestly how
however huh i i'd i'll i'm i've idea if important in indeed instead interesting into is isn't it it's its itself
just keep kind kinda know known last later least less let let's like likely little look looking looks lot lots made
make makes making many may maybe me mean means meant might mine minute minutes more most mostly mr mrs ms much must
my myself need needs never new next nice nine no nobody none nor not nothing now obviously of off oh ok okay old on
once one ones only onto or other others otherwise our ours ourselves out over own part particular people perhaps
place point points pretty probably put quite rather re really reason right said same saw say saying says second
see seeing seem seems seen seven several shall she she's should shouldn't show side since six so some somebody
someone something sometimes somewhat soon sort start started still stuff such sure take taken talk talked talking
tell ten than thank thanks that that's the their theirs them themselves then there there's these they they'd
they'll they're they've thing things think thinking third this those though thought three through thus time times
to today together told too took toward towards tried true try trying turn two uh um under unless until up upon us
use used uses using usually very via wait want wanted wants was wasn't way ways we we'd we'll we're we've week weeks
welcome well went were weren't what what's whatever when where whether which while who who's whole whom whose why
will with within without won't wonder word words work would wouldn't wow yeah year years yes yet you you'd you'll
you're you've your yours yourself yourselves
""".split())
_WORD = re.compile(r"[A-Za-z0-9](?:[\w'’+-]|\.(?=\w))*")


def _stemmer():
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english").stem


def _content_tokens(text: str, stem) -> list[str]:
    out = []
    for w in _WORD.findall(text):
        low = w.lower().replace("’", "'")
        if low in STOPWORDS or (len(low) < 3 and not any(ch.isdigit() for ch in low)) or low.replace(".", "").isdigit():
            continue
        out.append(stem(low))
    return out


@dataclass
class _Stream:
    """Content tokens with times (seconds), spread evenly over their segment."""

    times: Any  # numpy float array, seconds
    ids: Any  # numpy int array, token ids
    vocab: dict[str, int]


def _stream(segments: Sequence[Segment], stem) -> _Stream:
    import numpy as np

    vocab: dict[str, int] = {}
    times, ids = [], []
    for seg in segments:
        toks = _content_tokens(seg.text, stem)
        if not toks:
            continue
        step = max(seg.end - seg.start, 0.0) / len(toks)
        for i, tok in enumerate(toks):
            times.append(seg.start + (i + 0.5) * step)
            ids.append(vocab.setdefault(tok, len(vocab)))
    order = np.argsort(np.asarray(times, dtype=float), kind="stable")
    return _Stream(np.asarray(times, dtype=float)[order], np.asarray(ids, dtype=np.int64)[order], vocab)


def _grid(duration: float, step: float):
    """The times a cohesion curve is measured at: every ``step`` seconds inside the episode."""
    import numpy as np

    return np.arange(step, max(duration - step, step) + 1e-9, step)


def _smooth(values):
    """A 1-2-3-2-1 moving average, the ends held: the smoothing of every cohesion curve."""
    import numpy as np

    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    kernel /= kernel.sum()
    return np.convolve(np.pad(values, 2, mode="edge"), kernel, mode="valid")


def cohesion_curve(segments: Sequence[Segment], duration: float, window: float = 90.0, step: float = 10.0,
                   stem=None):
    """Lexical cohesion across each grid time: cosine similarity of TF-IDF vectors of the ``window``
    seconds before and after it. Returns (grid times, smoothed similarities), both numpy arrays."""
    import numpy as np

    stem = stem or _stemmer()
    st = _stream(segments, stem)
    grid = _grid(duration, step)
    if not len(st.ids) or len(grid) < 3:
        return grid, np.ones_like(grid)
    V = len(st.vocab)
    # IDF over one-minute pseudo-documents: words used all through the episode weigh little
    chunk = np.floor(st.times / 60.0).astype(int)
    n_docs = chunk.max() + 1
    df = np.zeros(V)
    for c in np.unique(chunk):
        df[np.unique(st.ids[chunk == c])] += 1
    idf = np.log((1 + n_docs) / (1 + df)) + 1.0
    sims = np.empty(len(grid))
    lo = np.searchsorted(st.times, grid - window)
    mid = np.searchsorted(st.times, grid)
    hi = np.searchsorted(st.times, grid + window)
    for k in range(len(grid)):
        a = np.bincount(st.ids[lo[k]:mid[k]], minlength=V) * idf
        b = np.bincount(st.ids[mid[k]:hi[k]], minlength=V) * idf
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        sims[k] = float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0
    return grid, _smooth(sims)


@functools.lru_cache(maxsize=1)
def _embedder():
    """wordllama's static sentence embeddings (its weights and tokenizer ship in its wheel; loaded
    from there, never downloaded)."""
    import wordllama
    from wordllama import WordLlama

    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def semantic_curve(segments: Sequence[Segment], duration: float, window: float = 90.0, step: float = 10.0):
    """Cohesion of meaning across each grid time: cosine similarity of the mean sentence embedding
    (wordllama, weighted by words) of the segments in the ``window`` seconds before and after it.
    Talk that stays on a topic in other words ("the GPU bill" ... "what the accelerators cost")
    stays similar here where lexical cohesion sees nothing shared. Same grid and smoothing as
    :func:`cohesion_curve`."""
    import numpy as np

    grid = _grid(duration, step)
    texts = [s.text for s in segments]
    if not texts or len(grid) < 3:
        return grid, np.ones_like(grid)
    emb = np.asarray(_embedder().embed(texts, norm=True), dtype=np.float64)
    weight = np.array([max(len(t.split()), 1) for t in texts], dtype=np.float64)[:, None]
    mids = np.array([(s.start + s.end) / 2 for s in segments])
    order = np.argsort(mids, kind="stable")
    mids, cum = mids[order], np.vstack([np.zeros(emb.shape[1]), np.cumsum(emb[order] * weight[order], axis=0)])
    lo = np.searchsorted(mids, grid - window)
    mid = np.searchsorted(mids, grid)
    hi = np.searchsorted(mids, grid + window)
    a, b = cum[mid] - cum[lo], cum[hi] - cum[mid]
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na > 0) & (nb > 0)
    sims = np.ones(len(grid))
    sims[ok] = (a[ok] * b[ok]).sum(axis=1) / (na[ok] * nb[ok])
    return grid, _smooth(sims)


def topic_curve(segments: Sequence[Segment], duration: float, window: float = 90.0, step: float = 10.0,
                semantic: float = 0.5):
    """Lexical and semantic cohesion, each standardized over the episode, mixed ``semantic`` to
    ``1 - semantic`` (benchmarks/chapters.py: 0.5 finds more true boundaries than either alone)."""
    import numpy as np

    grid, lexical = cohesion_curve(segments, duration, window, step)
    if semantic <= 0:
        return grid, lexical
    _, meaning = semantic_curve(segments, duration, window, step)

    def z(x):
        sd = float(np.std(x))
        return (x - np.mean(x)) / sd if sd > 1e-9 else np.zeros_like(x)

    return grid, semantic * z(meaning) + (1 - semantic) * z(lexical)


def _depths(values) -> list[tuple[int, float]]:
    """TextTiling depth of every local minimum: climb to the highest point on each side."""
    out = []
    n = len(values)
    for i in range(1, n - 1):
        if not (values[i] <= values[i - 1] and values[i] <= values[i + 1]) or values[i] == values[i - 1] == values[i + 1]:
            continue
        left = i
        while left > 0 and values[left - 1] >= values[left]:
            left -= 1
        right = i
        while right < n - 1 and values[right + 1] >= values[right]:
            right += 1
        out.append((i, float(values[left] - values[i] + values[right] - values[i])))
    return out


def _boundary_starts(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """Candidate chapter starts: (segment start, preference bonus in seconds)."""
    out = []
    prev = None
    for seg in segments:
        if not seg.text.strip():
            continue
        bonus = 0.0
        if prev is not None:
            if seg.speaker is not None and seg.speaker != prev.speaker:
                bonus += 10.0  # a new topic usually starts with a new speaker turn
            if seg.start - prev.end >= 1.0:
                bonus += 5.0  # ... or after a pause
        out.append((seg.start, bonus))
        prev = seg
    return out


def detect_boundaries(segments: Sequence[Segment], duration: float,
                      options: Optional[ChaptersOptions] = None) -> list[float]:
    """Chapter start times (seconds, the first is 0.0) found where the talk changes topic: dips of
    TextTiling-style cohesion, of the words shared and of the meaning (:func:`topic_curve`).

    The number of chapters follows ``target_length`` (one per that many seconds) when the
    cohesion dips are comparable, and stays between ``duration / max_length`` and
    ``duration / min_length``; every start is the start of a segment, preferring a speaker turn.
    """
    opts = options or ChaptersOptions()
    speech = [s for s in segments if s.text.strip()]
    if not speech:
        return []
    starts = _boundary_starts(speech)
    first = 0.0  # the episode start: chapter one covers any intro before the first words
    if duration < 2 * opts.min_length:
        return [0.0]
    step = 10.0
    grid, curve = topic_curve(speech, duration, opts.window, step, opts.semantic)
    cands = [(float(grid[i]), d) for i, d in _depths(curve)]
    cands = [(t, d) for t, d in cands if opts.min_length <= t <= duration - opts.min_length]
    most = max(0, int(duration // opts.min_length) - 1)
    least = max(0, math.ceil(duration / opts.max_length) - 1)
    wanted = max(least, min(most, round(duration / opts.target_length) - 1))
    # beyond the target count, a dip must be at least half as deep as the episode's clearest topic
    # change (benchmarks/chapters.py: steadier across window sizes and targets than TextTiling's
    # mean - std / 2 cutoff)
    cutoff = RELATIVE_DEPTH * max((d for _, d in cands), default=0.0)
    chosen: list[float] = []
    for t, d in sorted(cands, key=lambda x: -x[1]):
        if len(chosen) >= most:
            break
        if len(chosen) >= wanted and d < cutoff:
            break
        if all(abs(t - c) >= opts.min_length for c in chosen):
            chosen.append(t)
    chosen.sort()
    # chapters still longer than max_length get their deepest admissible dip
    changed = True
    while changed and len(chosen) < most:
        changed = False
        edges = [0.0] + chosen + [duration]
        for a, b in zip(edges, edges[1:]):
            if b - a <= opts.max_length:
                continue
            inside = [(t, d) for t, d in cands if a + opts.min_length <= t <= b - opts.min_length]
            if inside:
                chosen.append(max(inside, key=lambda x: x[1])[0])
                chosen.sort()
                changed = True
                break
    # snap to real segment starts, preferring speaker turns and pauses
    snapped: list[float] = []
    radius = max(3 * step, opts.window / 3)
    for t in chosen:
        near = [(abs(s - t) - bonus, s) for s, bonus in starts if abs(s - t) <= radius]
        s = min(near)[1] if near else min(starts, key=lambda x: abs(x[0] - t))[0]
        if s > first and all(abs(s - o) >= opts.min_length / 2 for o in snapped):
            snapped.append(s)
    return [first] + sorted(snapped)


def keyphrase_titles(texts: Sequence[str], max_words: int = 8, exclude: Sequence[str] = ()) -> list[str]:
    """A title for each text from its key phrases: runs of content words (case kept), scored by
    how often they occur in this text and how rarely in the others (class TF-IDF). Words in
    ``exclude`` (speaker names: who talks is not what a chapter is about) are never used."""
    stem = _stemmer()
    banned = {w.lower() for name in exclude for w in _WORD.findall(name or "")}
    per_text: list[Counter] = []
    surfaces: dict[str, Counter] = {}
    for text in texts:
        counts: Counter = Counter()
        for sentence in re.split(r"[.?!;:,()\[\]\"“”—–]+|\s-\s", text):
            run: list[str] = []
            for w in _WORD.findall(sentence) + [""]:
                low = w.lower().replace("’", "'")
                if w and low not in STOPWORDS and low not in banned and not (len(low) < 2):
                    run.append(w)
                    continue
                for n in range(1, 4):
                    for i in range(len(run) - n + 1):
                        words = run[i:i + n]
                        if not any(len(x) >= 3 and x[0].isalpha() for x in words) or words[0][0].isdigit():
                            continue
                        key = " ".join(stem(x.lower()) for x in words)
                        counts[key] += 1
                        surfaces.setdefault(key, Counter())[" ".join(words)] += 1
                run = []
        per_text.append(counts)
    n = len(texts)
    df: Counter = Counter()
    for counts in per_text:
        df.update(counts.keys())
    titles = []
    for counts in per_text:
        if not counts:
            titles.append("")
            continue
        def score(key: str) -> float:
            nwords = key.count(" ") + 1
            surface = surfaces[key].most_common(1)[0][0]
            proper = 1.3 if any(ch.isupper() or ch.isdigit() for ch in surface) else 1.0
            return counts[key] * math.log(1 + n / df[key]) * (1 + 0.5 * (nwords - 1)) * proper
        ranked = sorted(counts, key=lambda k: (-score(k), k))
        picked: list[str] = []
        for key in ranked:
            if counts[key] < 2 and picked:
                break
            if any(set(key.split()) & set(p.split()) or key in p or p in key for p in picked):
                continue  # "Inflection-2 and Inflection" says one thing twice
            picked.append(key)
            if len(picked) == 2:
                break
        words = [surfaces[k].most_common(1)[0][0] for k in picked]
        title = " and ".join(words)
        if len(title.split()) > max_words:
            title = words[0]
        titles.append(title[:1].upper() + title[1:])
    return titles


def detect_chapters(segments: Sequence[Segment], duration: float, options: Optional[ChaptersOptions] = None,
                    titler: Optional[Titler] = None, names: Sequence[str] = ()) -> list[Chapter]:
    """Detected chapters (``source="detected"``), titled from key phrases or by ``titler``."""
    starts = detect_boundaries(segments, duration, options)
    if not starts:
        return []
    chapters = [Chapter(start=s, end=e, title="", source="detected")
                for s, e in zip(starts, starts[1:] + [max(duration, starts[-1])])]
    ep = Episode(id="-", source="-", duration=duration, segments=list(segments), chapters=chapters)
    texts = chapter_texts(ep)
    titles = _titles(texts, titler, names)
    return [c.model_copy(update={"title": t or f"Chapter {i + 1}"}) for i, (c, t) in enumerate(zip(chapters, titles))]


def _titles(texts: list[str], titler: Optional[Titler], names: Sequence[str] = ()) -> list[str]:
    if titler is not None:
        try:
            got = list(titler(texts))
            if len(got) == len(texts):
                return [str(t).strip() for t in got]
            log.warning("the chapter titler returned %d titles for %d chapters; using key phrases",
                        len(got), len(texts))
        except Exception as exc:  # an LLM outage must not fail the stage: key phrases are the fallback
            log.warning("chapter titles from the LLM failed (%s); using key phrases", exc)
    return keyphrase_titles(texts, exclude=names)


def _speaker_names(episode: Episode) -> list[str]:
    return [sp.name for sp in episode.speakers if sp.name]


def fill_titles(episode: Episode, warn: Optional[Warn] = None, titler: Optional[Titler] = None) -> Episode:
    """Chapters with an empty title get one from their text (or "Chapter N"), with a warning."""
    warn = warn or default_warn
    empty = [i for i, c in enumerate(episode.chapters) if not c.title.strip()]
    if not empty:
        return episode
    texts = chapter_texts(episode)
    titles = _titles(texts, titler, _speaker_names(episode))
    chapters = list(episode.chapters)
    for i in empty:
        title = titles[i] or f"Chapter {i + 1}"
        warn(f"chapter at {hms(chapters[i].start)} has no title; titled '{title}' from its transcript")
        chapters[i] = chapters[i].model_copy(update={"title": title})
    return episode.model_copy(update={"chapters": chapters})


