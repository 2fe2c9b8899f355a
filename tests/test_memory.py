"""Freed memory goes back to the system (podtools.memory), so stages do not pile up each other's
leftovers: a 3-hour episode's ingest stays under 2 GB (issue 14, benchmarks/memory.py)."""

import subprocess
import sys

import pytest

CHILD = """
import sys
import numpy as np

def rss_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024

if sys.argv[1] == "fixed":
    from podtools.memory import return_freed_memory
    assert return_freed_memory()
big = np.ones(16 * 2**20 // 8)
del big  # glibc's default: a freed 16 MB mapping raises the mmap threshold to 16 MB
before = rss_mb()
bufs, pins = [], []
for _ in range(20):  # 8 MB buffers (as CTranslate2's per batch), each followed by a small allocation that stays
    bufs.append(np.ones(8 * 2**20 // 8))
    pins.append(np.ones(1000))
del bufs
print(round(rss_mb() - before))
"""


def _kept_mb(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc (Linux)")
def test_freed_buffers_go_back_to_the_system():
    """160 MB of 8 MB buffers freed: glibc keeps them all in the process by default; with the
    threshold podtools fixes (when Whisper or diarization starts) they are returned."""
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    if _kept_mb("default") < 120:
        pytest.skip("this C library returns freed buffers by itself")
    assert _kept_mb("fixed") <= 20


TRIM_CHILD = """
import sys, threading, time
import numpy as np

def rss_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024

from podtools.memory import return_freed_memory, trimming
return_freed_memory()  # as in a run: blocks under 4 MiB come from the heap
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
