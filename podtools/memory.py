"""Memory that a stage frees goes back to the system (glibc's malloc), so stages running side by
side, and the stages after them, do not pile up each other's leftovers.

glibc serves an allocation above its *mmap threshold* with a mapping of its own, unmapped when it
is freed; smaller ones come from per-thread heaps, which keep what is freed for that heap's own
later use. The threshold starts at 128 KiB and, by default, rises to the size of each mapped block
that is freed, up to 32 MiB. CTranslate2 allocates and frees hundreds of megabytes of 1-32 MiB
buffers in every Whisper batch: after the first batch they come from a heap and stay there, about
280 MB that the diarization thread (another heap) and the later stages cannot reuse. A fixed
threshold (setting it also stops the rise) keeps them mapped, so they are returned when freed
(measured by benchmarks/memory.py; the cost, one mapping per large buffer, is lost in the noise of
a batch that takes seconds).
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger("podtools.memory")

M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)
MMAP_THRESHOLD = 4 * 2**20  # bytes: buffers from 4 MiB up are mapped, and unmapped when freed
_LOCK = threading.Lock()
_SET: bool | None = None


def return_freed_memory() -> bool:
    """Fix glibc's mmap threshold for this process (once). Nothing is done on other C libraries or
    platforms, or where the user has set ``MALLOC_MMAP_THRESHOLD_`` themselves. True when it is set."""
    global _SET
    with _LOCK:
        if _SET is None:
            _SET = False
            if sys.platform.startswith("linux") and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
                try:
                    import ctypes

                    libc = ctypes.CDLL(None)
                    _SET = bool(getattr(libc, "gnu_get_libc_version", None) and
                                libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1)
                except (OSError, AttributeError):  # not glibc (musl has no mallopt)
                    pass
            log.debug("glibc mmap threshold %s", f"fixed at {MMAP_THRESHOLD} bytes" if _SET else "unchanged")
        return _SET
