"""Peak memory and wall time of `podtools ingest` on a long episode (default pipeline, no LLM).

    python benchmarks/memory.py               # a 3-hour episode, and a 30-minute one beside it
    python benchmarks/memory.py --quick       # 30 minutes, and 5 minutes beside it
    python benchmarks/memory.py --hours 1.5 --short-minutes 20
    python benchmarks/memory.py --hours 1 --short-minutes 10 --models embedded,base

The episode is made by tiling real speech (samples/episode.mp3 and, where present,
../shared/realspeech/*.mp3: 5-10 minutes of many voices) into a 44.1 kHz stereo 128 kbit/s MP3,
as podcasts are published, in a temporary folder. Each row is a child process run as a user would
(`podtools ingest FILE -o DIR --no-llm --no-cache -q`, with its own empty cache and voice library);
its peak RSS is the kernel's high-water mark of that process (wait4's ru_maxrss, no sampling).

Baselines measured in the same run: the decoded audio as float32 (16 kHz mono, 230 MB an hour:
a pipeline that held three copies of it would show a ratio near 3 + its fixed cost), and the same
ingest on a shorter episode: memory that is flat in the episode's length grows by about one
float32 copy of the extra audio, nothing more. Target (issue 14): under 2 GB for 3 hours.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REALSPEECH = ROOT.parent / "shared" / "realspeech"
SAMPLE_RATE = 16_000
TARGET_MB = 2048


def sources() -> list[Path]:
    real = sorted(p for p in REALSPEECH.glob("*.mp3") if p.name != "multilingual.mp3") if REALSPEECH.is_dir() else []
    return [*real, ROOT / "samples" / "episode.mp3"]


def make_episode(seconds: float, folder: Path) -> Path:
    """An MP3 of ``seconds`` of tiled real speech (the base is encoded once, then looped without
    re-encoding)."""
    base = folder / "base.mp3"
    if not base.exists():
        listing = folder / "sources.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in sources()))
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                        "-ar", "44100", "-ac", "2", "-b:a", "128k", str(base)], check=True)
    out = folder / f"episode_{int(seconds)}s.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(base), "-t", str(seconds),
                    "-c", "copy", str(out)], check=True)
    return out


def child(args: list[str], env: dict[str, str] | None = None, stdout=None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of ``python ARGS`` run to completion; its output goes to the
    file ``stdout`` (default: discarded)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=stdout or subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(args[:3])} ... failed ({proc.returncode}):\n"
                             f"{err.read().decode(errors='replace')[-3000:]}")
    return wall, usage.ru_maxrss / 1024  # kilobytes on Linux


def isolated_env(folder: Path) -> dict[str, str]:
    """Nothing from the user's own setup: no cache hits, no voice library, no config or LLM."""
    config = folder / "config.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODTOOLS_", "OPENAI_"))}
    return {**env, "PODTOOLS_CACHE_DIR": str(folder / "cache"), "PODTOOLS_VOICES_DIR": str(folder / "voices"),
            "PODTOOLS_CONFIG": str(config), "PYTHONWARNINGS": "ignore"}


def ingest(path: Path, folder: Path, model: str | None = None) -> tuple[float, float]:
    run = folder / f"run-{path.stem}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    extra = ["--model", model] if model else []
    return child(["-c", "from podtools.cli import main; main()", "ingest", str(path), "-o", str(run / "out"),
                  "--no-llm", "--no-cache", "-q", *extra], isolated_env(run))


def decode_only(path: Path, folder: Path) -> tuple[float, float]:
    return child(["-c", f"from podtools.audio import decode; decode({str(path)!r})"], isolated_env(folder))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=3.0, help="length of the long episode (default 3)")
    ap.add_argument("--short-minutes", type=float, help="length of the baseline episode (default: a sixth)")
    ap.add_argument("--quick", action="store_true", help="30 minutes, with a 5-minute baseline")
    ap.add_argument("--keep", metavar="DIR", help="make the episodes and outputs here, and keep them")
    ap.add_argument("--models", help="comma-separated --model values, a pair of ingest rows each "
                                     "(default: the pipeline's own model)")
    args = ap.parse_args()
    long_s = 1800.0 if args.quick else args.hours * 3600
    short_s = args.short_minutes * 60 if args.short_minutes else long_s / 6
    folder = Path(args.keep or tempfile.mkdtemp(prefix="podtools-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        long_ep, short_ep = make_episode(long_s, folder), make_episode(short_s, folder)
        rows = [("decode only", long_s, *decode_only(long_ep, folder))]
        for model in (args.models.split(",") if args.models else [None]):
            shown = f", {model}" if model else ""
            rows += [(f"ingest (short){shown}", short_s, *ingest(short_ep, folder, model)),
                     (f"ingest{shown}", long_s, *ingest(long_ep, folder, model))]
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    def mb_f32(seconds: float) -> float:
        return seconds * SAMPLE_RATE * 4 / 2**20

    width = max(16, *(len(r[0]) + 2 for r in rows))
    print(f"memory benchmark: ingest, default pipeline, no LLM, {os.cpu_count()} CPUs; "
          f"episode {long_s / 3600:.2f} h (decoded float32: {mb_f32(long_s):.0f} MB), "
          f"baseline {short_s / 60:.0f} min")
    print(f"{'run':<{width}}{'audio':>9}{'wall s':>9}{'x realtime':>12}{'peak RSS MB':>13}"
          f"{'RSS/f32 audio':>15}{'vs short':>10}")
    for i, (name, seconds, wall, peak) in enumerate(rows):
        length = f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"
        short_peak = rows[i - 1][3] if i and i % 2 == 0 else peak  # each long row against its short one
        print(f"{name:<{width}}{length:>9}{wall:>9.1f}{seconds / wall:>12.1f}{peak:>13.0f}"
              f"{peak / mb_f32(seconds):>15.2f}{peak / short_peak:>10.2f}")
    for short, long in zip(rows[1::2], rows[2::2]):
        growth = (long[3] - short[3]) / ((long_s - short_s) / 3600)
        verdict = ("met" if long[3] < TARGET_MB else "NOT met") if long_s >= 3 * 3600 else "measured at 3 h"
        print(f"{long[0]}: growth with length {growth:.0f} MB per hour of audio (one float32 copy: "
              f"{mb_f32(3600):.0f} MB/h); target: peak under {TARGET_MB} MB for 3 h ({verdict})")


if __name__ == "__main__":
    main()
