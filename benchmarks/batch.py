"""Batch throughput: one worker, two workers and Ray (local) over a feed of short episodes,
the cost of re-running a finished batch (each configuration against its own first run; the
issue's target: under 2 %), and peak memory of the whole process tree.

    python benchmarks/batch.py                 # 12 synthesized episodes, the default pipeline
    python benchmarks/batch.py --episodes 20 --light   # without diarization and mentions

Each configuration runs `podtools batch FEED` as a user would (a child process), on a feed
served over HTTP from 127.0.0.1, into a fresh catalogue with its own download and stage cache
(nothing is reused between configurations). Memory is the peak of the summed RSS of the batch
process and all its descendants (workers, Ray's processes), sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the tests' speech synthesis, feed server and helpers

from batchdata import descendants, light, make_episodes  # noqa: E402
from feedserver import FeedServer, Route, rss  # noqa: E402


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak MB of the process tree, stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", "from podtools.cli import main; main()", *args],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, rss_mb([proc.pid, *descendants(proc.pid)]))
        time.sleep(0.05)
    stderr = proc.stderr.read()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}):\n{stderr}")
    return wall, peak, stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=12)
    ap.add_argument("--light", action="store_true", help="switch off diarization and mentions")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray configuration")
    opts = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="podtools-bench-batch-"))
    episodes = make_episodes(work / "audio", opts.episodes)
    audio_seconds = 0.0
    import av

    for ep in episodes:
        with av.open(str(ep.path)) as c:
            audio_seconds += c.duration / 1e6
    configs = [("local, 1 worker", ["--workers", "1"]), ("local, 2 workers", ["--workers", "2"])]
    try:
        import ray  # noqa: F401

        if not opts.no_ray:
            configs.append(("ray local, 2 actors", ["--engine", "ray", "--workers", "2",
                                                     "--ray-temp-dir", str(work / "ray")]))
    except ImportError:
        print("(ray is not installed: pip install 'podtools[ray]'; its row is skipped)", file=sys.stderr)
    extra = light() if opts.light else []
    rows = []
    with FeedServer() as server:
        items = [{"title": ep.title, "guid": f"bench-{i}", "url": server.add(f"/{ep.path.name}", Route(ep.path.read_bytes())),
                  "date": ep.published} for i, ep in enumerate(episodes)]
        feed = server.add("/feed.xml", Route(rss("Benchmark show", items), content_type="application/rss+xml"))
        reruns = []
        for name, args in configs:
            slug = name.replace(" ", "").replace(",", "-")
            env = {"PODTOOLS_CACHE_DIR": str(work / f"cache-{slug}")}
            out = work / f"out-{slug}"
            cmd = ["batch", feed, "--allow-private", "-o", str(out), "-q", *args, *extra]  # the feed is on loopback
            wall, peak, _ = run(cmd, env)
            rows.append((name, wall, peak))
            # the same command on the finished catalogue: nothing to do (the tests check that no
            # model and no Ray is even loaded); here, what it costs against this configuration's run
            rerun, rerun_peak, _ = run(cmd, env)
            reruns.append((name, rerun, rerun_peak, wall))

    base = rows[0][1]
    print(f"batch benchmark: {len(episodes)} episodes, {audio_seconds:.0f} s of audio in all, "
          f"pipeline {'default (light: no diarization/mentions)' if opts.light else 'default'}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'configuration':<24}{'wall s':>8}{'episodes/min':>14}{'x realtime':>12}{'peak RSS MB':>13}{'speed vs 1 worker':>19}")
    for name, wall, peak in rows:
        print(f"{name:<24}{wall:>8.1f}{len(episodes) / wall * 60:>14.1f}{audio_seconds / wall:>12.2f}"
              f"{peak:>13.0f}{base / wall:>18.2f}x")
    print(f"\n{'re-run, all done':<24}{'wall s':>8}{'peak RSS MB':>13}{'vs its first run':>18}")
    for name, rerun, rerun_peak, wall in reruns:
        print(f"{name:<24}{rerun:>8.2f}{rerun_peak:>13.0f}{format(rerun / wall * 100, '.1f') + ' %':>18}")


if __name__ == "__main__":
    main()
