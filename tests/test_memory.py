"""Freed memory goes back to the system (podtools.memory), so stages do not pile up each other's
leftovers: a 3-hour episode's ingest stays under 2 GB (issue 14, benchmarks/memory.py)."""

import subprocess
import sys

import pytest

TRIM_CHILD = """
import sys, threading, time
import numpy as np

def rss_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024

from podtools.memory import trimming
before = rss_mb()
blocks = [np.ones(64 * 1024 // 8) for _ in range(3000)]  # 190 MB of 64 KiB blocks (torch's batch-sized)
pin = np.ones(64 * 1024 // 8)  # one that stays, above them all: the heap's top cannot shrink
del blocks
kept = rss_mb() - before
if sys.argv[1] == "trimming":
    with trimming():
        names = {t.name for t in threading.enumerate()}
        time.sleep(1.5)
    time.sleep(0.1)
    assert "podtools-trim" in names and "podtools-trim" not in {t.name for t in threading.enumerate()}
print(round(kept), round(rss_mb() - before))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc (Linux)")
@pytest.mark.parametrize("mode", ["plain", "trimming"])
def test_free_pages_inside_the_heap_go_back_while_a_stage_runs(mode):
    """190 MB of heap blocks freed under one that stays: glibc keeps the pages (the heap's top is
    pinned); while a stage holds ``trimming()`` they are given back within a second, and the
    trimming thread stops when the stage ends."""
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc's malloc_trim")
    out = subprocess.run([sys.executable, "-c", TRIM_CHILD, mode], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    kept, after = map(int, out.stdout.split())
    assert kept > 150  # freed, but still in the process
    if mode == "plain":
        assert after > 150
    else:
        assert after < 40, f"{after} MB of freed blocks still held after trimming"
