"""Re-running `ingest` / `transcribe` on an unchanged episode: what the stage cache saves.

    python benchmarks/rerun.py [--audio samples/episode.mp3] [--repeat 3]

One process, the embedded Whisper model loaded once before any timing. Each row is the median
wall time of --repeat runs; every "first run" gets a fresh, empty cache folder
($PODTOOLS_CACHE_DIR), the re-runs share it. Rows, for `transcribe` (ASR only) and `ingest`
(the whole default pipeline): the first run (the baseline), the re-run with the cache
(transcript and speakers reused; chapters, mentions, summary and files made again) and the
re-run without it (--no-cache: every stage again). Ratio: wall time against the first run of
the same command. The tests check that a re-run reuses the cache (nothing is transcribed
again); this script says what that is worth on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", default=str(ROOT / "samples" / "episode.mp3"))
    ap.add_argument("--repeat", type=int, default=3)
    opts = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="podtools-bench-rerun-"))
    os.environ["PODTOOLS_VOICES_DIR"] = str(work / "voices")  # no known voices: the same work every run
    from podtools.asr import TranscribeOptions, load_model
    from podtools.pipeline import ingest

    model = load_model(TranscribeOptions(device="cpu"))
    n = [0]

    def timed(only_transcribe: bool, use_cache: bool, cache: Path) -> float:
        os.environ["PODTOOLS_CACHE_DIR"] = str(cache)
        n[0] += 1
        t0 = time.perf_counter()
        ingest(opts.audio, work / f"out{n[0]}", model=model, only_transcribe=only_transcribe, use_cache=use_cache)
        return time.perf_counter() - t0

    rows = []
    for command, only in (("transcribe", True), ("ingest", False)):
        first, again, nocache = [], [], []
        for i in range(opts.repeat):
            cache = work / f"cache-{command}-{i}"
            first.append(timed(only, True, cache))
            again.append(timed(only, True, cache))
            nocache.append(timed(only, False, cache))
        base = statistics.median(first)
        rows += [(f"{command}, first run (empty cache)", base, base),
                 (f"{command}, re-run with the cache", statistics.median(again), base),
                 (f"{command}, re-run --no-cache", statistics.median(nocache), base)]

    print(f"re-run benchmark: {Path(opts.audio).name}, median of {opts.repeat}, {os.cpu_count()} CPUs, "
          "embedded Whisper tiny.en (int8), default pipeline")
    w = max(len(r[0]) for r in rows)
    print(f"| {'run':<{w}} | {'wall s':>7} | {'vs first run':>12} |")
    print(f"|{'-' * (w + 2)}|{'-' * 9}|{'-' * 14}|")
    for name, secs, base in rows:
        print(f"| {name:<{w}} | {secs:7.2f} | {secs / base * 100:11.1f}% |")


if __name__ == "__main__":
    main()
