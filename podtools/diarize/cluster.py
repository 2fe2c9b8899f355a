"""Clustering speaker embeddings into speakers, with the count found automatically.

Average-linkage agglomerative clustering on cosine distance (scipy), cut where clusters stop
being similar (``threshold``) or at the number of speakers the user gave. Clusters whose
centroids are nearly as close as their own windows are to them (one voice that a change of room
split in two) are merged. A small cluster (a
few windows, about two seconds of speech) is folded into the nearest large one when its centroid
is close to it (``small_threshold``): a voice split off by a change of room or microphone stays
near its speaker, while a guest who says one sentence is far from everyone (measured on real
voices: benchmarks/diarize.py). Then a few k-means style passes re-assign every window to its
nearest speaker centroid.

Where the embeddings alone would merge two voices that sound alike (two clusters joined just above
the threshold), the segmentation model can still tell them apart: within one 10-second chunk it
labels who speaks with *local* speakers, and two people talking in turn get two local speakers.
A cluster whose two halves were joined within ``SPLIT_MARGIN`` of the threshold, and that the
segmentation model heard as two local speakers in at least ``SPLIT_MIN_CHUNKS`` chunks (and at
least twice as often as one), is split in two (measured on real voices and synthetic ones:
benchmarks/diarize.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger("podtools.diarize")

MAX_LINKAGE_ITEMS = 3000  # memory of the pairwise matrix grows with n^2; subsample above
SPLIT_MARGIN = 0.1  # similarity above the threshold within which a merge may be undone by the segmentation
SPLIT_MIN_CHUNKS = 2  # chunks in which the two halves are two local speakers, for a split


@dataclass
class Clustering:
    labels: np.ndarray  # (n,) int cluster per embedding, 0..k-1
    centroids: np.ndarray  # (k, d) L2-normalized
    found: int = 0  # clusters the threshold found, before any count the user forced


def _normalize(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def _centroids(emb: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return _normalize(np.stack([emb[labels == j].mean(axis=0) if np.any(labels == j) else np.zeros(emb.shape[1])
                                for j in range(k)]))


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Dense labels 0..k-1 in order of first appearance."""
    mapping: dict[int, int] = {}
    for x in labels:
        mapping.setdefault(int(x), len(mapping))
    return np.array([mapping[int(x)] for x in labels], dtype=int)


def cluster(
    emb: np.ndarray,
    threshold: float = 0.7,
    num_speakers: int | None = None,
    min_speakers: int = 1,
    max_speakers: int | None = None,
    min_cluster_size: int = 4,
    small_threshold: float | None = None,
    merge_ratio: float | None = None,
    refine_iterations: int = 3,
    reliable: np.ndarray | None = None,
    lone: np.ndarray | None = None,
    lone_threshold: float | None = None,
    short: np.ndarray | None = None,
    apart: list[list[tuple[int, int]]] | None = None,
) -> Clustering:
    """Cluster L2-normalized embeddings (n, d).

    ``threshold`` is the cosine *similarity* below which two clusters are different speakers.
    With ``num_speakers`` the tree is cut at exactly that many clusters (when there are that
    many embeddings); otherwise the count found is kept within [min_speakers, max_speakers].
    ``reliable`` (bool mask) picks the embeddings that decide the clusters (full-length
    windows: a short utterance's embedding is too noisy and forms stray clusters); the others
    are only assigned to the nearest speaker. Clusters of fewer than ``min_cluster_size``
    embeddings join the nearest larger cluster when their centroids' cosine similarity is at
    least ``small_threshold`` (None: always). With ``merge_ratio``, clusters whose centroid
    similarity is at least that fraction of their own tightness are merged first. ``short``
    (bool mask) marks embeddings of interjections too short to tell a voice by: a cluster of
    nothing else is folded into its nearest speaker however many there are and however alike
    they sound (an "okay" said four times the same way is still not a person). ``apart`` gives,
    per embedding, the (chunk, local speaker) pairs of the segmentation model (see
    :meth:`.overlap.Segmentation.speakers`): a cluster it hears as two people is split in two.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(emb)
    if n == 0:
        return Clustering(np.zeros(0, int), np.zeros((0, emb.shape[1] if emb.ndim == 2 else 0)))
    if n == 1:
        return Clustering(np.zeros(1, int), _normalize(emb[:1]), 1)
    emb = _normalize(np.asarray(emb, dtype=np.float32))  # float32: a 3-hour episode has ~20,000 windows
    idx = np.arange(n)
    if reliable is not None and int(np.count_nonzero(reliable)) >= 2:
        idx = idx[np.asarray(reliable, bool)]
    if len(idx) > MAX_LINKAGE_ITEMS:
        idx = idx[np.linspace(0, len(idx) - 1, MAX_LINKAGE_ITEMS).round().astype(int)]
    sub = emb[idx].astype(np.float64)  # the linkage (at most MAX_LINKAGE_ITEMS) in double precision
    sub_lone = None if lone is None or lone_threshold is None else np.asarray(lone, bool)[idx]
    sub_short = None if short is None else np.asarray(short, bool)[idx]
    sub_apart = None if apart is None else [apart[i] for i in idx]
    tree = linkage(sub, method="average", metric="cosine")

    def cut_k(k: int) -> np.ndarray:
        """Exactly k clusters that are voices: cut deeper until k clusters remain once stray
        outliers (which average linkage joins last) are folded into their neighbours."""
        k = min(k, len(sub))
        for deeper in range(k, min(len(sub), k + 30) + 1):
            labels = _absorb_small(sub, fcluster(tree, t=deeper, criterion="maxclust") - 1, min_cluster_size, None)
            got = len(set(labels.tolist()))
            if got == k:
                return labels
            if got > k:
                break
        return fcluster(tree, t=k, criterion="maxclust") - 1

    sub_labels = fcluster(tree, t=1.0 - threshold, criterion="distance") - 1
    if merge_ratio is not None:
        sub_labels = _merge_close(sub, sub_labels, merge_ratio, min_cluster_size)
    # fold clusters too small to be a voice of their own into their nearest neighbour
    sub_labels = _absorb_small(sub, sub_labels, min_cluster_size, small_threshold, sub_lone, lone_threshold, sub_short)
    if sub_apart is not None:
        sub_labels = _split_apart(sub, sub_labels, sub_apart, threshold, min_cluster_size)
    found = k = len(set(sub_labels.tolist()))
    if num_speakers:
        sub_labels = cut_k(num_speakers)
    else:
        lo, hi = max(1, min_speakers), max_speakers or k
        if k < lo or k > hi:
            sub_labels = cut_k(min(max(k, lo), hi))
    sub_labels = _relabel(sub_labels)
    k = int(sub_labels.max()) + 1
    cents = _centroids(sub, sub_labels, k)
    labels = np.argmax(emb @ cents.T, axis=1)
    for _ in range(refine_iterations):
        cents = _centroids(emb, labels, k)
        new = np.argmax(emb @ cents.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    used = sorted(set(labels.tolist()))
    remap = {c: i for i, c in enumerate(used)}
    labels = np.array([remap[int(x)] for x in labels], int)
    cents = _centroids(emb, labels, len(used))
    return Clustering(labels, cents, found)


def _absorb_small(emb: np.ndarray, labels: np.ndarray, min_size: int, threshold: float | None,
                  lone: np.ndarray | None = None, lone_threshold: float | None = None,
                  short: np.ndarray | None = None) -> np.ndarray:
    """Fold clusters of fewer than ``min_size`` items into the most similar large cluster
    (all of them, or those whose centroid similarity is at least ``threshold``). One item alone,
    a single window, is enough evidence for a voice of its own only when ``lone`` marks it as a
    whole utterance and it is less similar than ``lone_threshold`` to every large cluster: a
    window cut from a longer stretch of speech, or a short "yeah", is noise far more often.
    A cluster of nothing but ``short`` items is folded whatever its size and similarity."""
    labels = labels.copy()
    kept: set[int] = set()  # small clusters far from every large one: voices of their own
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        if len(ids) <= 1:
            return labels
        only_short = np.zeros(len(ids), bool) if short is None else \
            np.array([bool(np.all(short[labels == j])) for j in ids])
        if np.all(only_short):  # a clip of nothing but interjections: judged by size alone
            only_short[:] = False
        interjections = {int(j) for j in ids[only_short]}
        small = np.array([j for j in ids[(counts < min_size) | only_short] if int(j) not in kept], dtype=ids.dtype)
        if not len(small):
            return labels
        big = ids[((counts >= min_size) & ~only_short) | np.isin(ids, list(kept))]
        if not len(big):  # everything is small: keep the largest as the one speaker left
            big = ids[[int(np.argmax(counts))]]
        cents = {int(j): _normalize(emb[labels == j].mean(axis=0)) for j in big}
        for j in small:
            if int(j) in cents:
                continue
            c = _normalize(emb[labels == j].mean(axis=0))
            target = max(cents, key=lambda b: float(c @ cents[b]))
            sim = float(c @ cents[target])
            members = np.flatnonzero(labels == j)
            if int(j) in interjections:
                pass  # folded into their nearest voice
            elif len(members) > 1:
                if threshold is not None and sim < threshold:
                    kept.add(int(j))
                    continue
            elif lone is not None and lone_threshold is not None and lone[members[0]] and sim < lone_threshold:
                kept.add(int(j))
                continue
            labels[labels == j] = target


def _merge_close(emb: np.ndarray, labels: np.ndarray, threshold: float, min_size: int) -> np.ndarray:
    """Merge clusters (of at least ``min_size`` items) that are one voice: the pair whose
    centroids are most similar *relative to how tightly each holds its own windows*, while that
    ratio is at least ``threshold``. A voice heard in two rooms splits into two loose clusters
    whose centroids are nearly as close as their own windows are to them; two voices are
    farther apart than that, however tight each is (synthetic voices are very tight, and close)."""
    labels = labels.copy()
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        big = ids[counts >= min_size]
        if len(big) < 2:
            return labels
        cents = _normalize(np.stack([emb[labels == j].mean(axis=0) for j in big]))
        spread = np.array([float(np.mean(emb[labels == j] @ c)) for j, c in zip(big, cents)])
        ratio = (cents @ cents.T) / np.sqrt(np.outer(spread, spread))
        np.fill_diagonal(ratio, -1.0)
        a, b = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        if ratio[a, b] < threshold:
            return labels
        labels[labels == big[b]] = big[a]


def _split_apart(emb: np.ndarray, labels: np.ndarray, apart: list[list[tuple[int, int]]], threshold: float,
                 min_size: int) -> np.ndarray:
    """Split each cluster whose two halves (the last merge of average linkage over its items) are
    less similar than ``threshold + SPLIT_MARGIN``, each at least ``min_size`` items, and heard by
    the segmentation model as two local speakers in at least ``SPLIT_MIN_CHUNKS`` chunks and at
    least twice as many chunks as it heard them as one (``apart``: per item, its (chunk, local
    speaker) pairs). Two flite voices can sound alike to CAM++ (0.56 against a 0.55 threshold);
    the segmentation model, which sees them take turns, does not confuse them."""
    from scipy.cluster.hierarchy import fcluster, linkage

    labels = labels.copy()
    queue = sorted(set(labels.tolist()))
    while queue:
        c = queue.pop()
        members = np.flatnonzero(labels == c)
        if len(members) < 2 * min_size:
            continue
        heard_in: dict[int, set] = {}  # chunk -> the local speakers of this cluster's items in it
        for item in members:
            for chunk, speaker in apart[item]:
                heard_in.setdefault(chunk, set()).add(speaker)
        if sum(len(v) > 1 for v in heard_in.values()) < SPLIT_MIN_CHUNKS:
            continue  # never two local speakers in enough chunks: no split could be heard, no linkage needed
        tree = linkage(emb[members], method="average", metric="cosine")
        if 1.0 - tree[-1, 2] >= threshold + SPLIT_MARGIN:
            continue
        half = fcluster(tree, t=2, criterion="maxclust") - 1
        if int(np.bincount(half, minlength=2).min()) < min_size:
            continue
        heard: dict[int, tuple[set, set]] = {}
        for item, h in zip(members, half):
            for chunk, speaker in apart[item]:
                heard.setdefault(chunk, (set(), set()))[h].add(speaker)
        both = [(a, b) for a, b in heard.values() if a and b]
        two = sum(1 for a, b in both if not a & b)
        if two >= SPLIT_MIN_CHUNKS and two >= 2 * (len(both) - two):
            log.debug("split a cluster the segmentation hears as two speakers (%d chunks against %d)",
                      two, len(both) - two)
            new = int(labels.max()) + 1
            labels[members[half == 1]] = new
            queue += [c, new]  # either half may hold two voices still
    return labels
