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

import contextlib
import functools
import logging
import os
import sys
import threading

log = logging.getLogger("podtools.memory")

M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)
MMAP_THRESHOLD = 4 * 2**20  # bytes: buffers from 4 MiB up are mapped, and unmapped when freed
TRIM_INTERVAL = 0.5  # seconds between two malloc_trim calls while a stage holds trimming()
_LOCK = threading.Lock()
_SET: bool | None = None
_TRIM_USERS = 0
_TRIM_STOP: threading.Event | None = None


@functools.lru_cache(maxsize=1)
def _glibc():
    """This process's C library when it is glibc (through ctypes), else None (other platforms,
    musl and the like, which have neither ``mallopt`` nor ``malloc_trim``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        return libc if getattr(libc, "gnu_get_libc_version", None) else None
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None


def return_freed_memory() -> bool:
    """Fix glibc's mmap threshold for this process (once). Nothing is done on other C libraries or
    platforms, or where the user has set ``MALLOC_MMAP_THRESHOLD_`` themselves. True when it is set."""
    global _SET
    with _LOCK:
        if _SET is None:
            libc = _glibc() if "MALLOC_MMAP_THRESHOLD_" not in os.environ else None
            _SET = bool(libc is not None and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1)
            log.debug("glibc mmap threshold %s", f"fixed at {MMAP_THRESHOLD} bytes" if _SET else "unchanged")
        return _SET


# -- giving back freed memory while the listening stages run ----------------------------------------


def _trim_loop(stop: threading.Event) -> None:
    libc = _glibc()
    while libc is not None and not stop.wait(TRIM_INTERVAL):
        libc.malloc_trim(0)


@contextlib.contextmanager
def trimming():
    """While held (by any number of stages, in any threads), one daemon thread gives the free pages
    inside glibc's heaps back to the system every ``TRIM_INTERVAL`` seconds (``malloc_trim(0)``).

    Torch and CTranslate2 free many blocks of a few KiB to a few MiB in every batch, from the
    threads of ASR, diarization and the overlap pass at once; the heaps keep what is freed, and the
    pages between blocks still in use are never returned on their own, so on a long episode the
    heaps grow with every batch. Measured with benchmarks/memory.py: 1 hour of audio peaked at
    1446 MB with it, 1828 MB without. Nothing is done where the C library is not glibc."""
    global _TRIM_USERS, _TRIM_STOP
    with _LOCK:
        _TRIM_USERS += 1
        if _TRIM_USERS == 1 and _glibc() is not None:
            _TRIM_STOP = threading.Event()
            threading.Thread(target=_trim_loop, args=(_TRIM_STOP,), name="podtools-trim", daemon=True).start()
    try:
        yield
    finally:
        with _LOCK:
            _TRIM_USERS -= 1
            if _TRIM_USERS == 0 and _TRIM_STOP is not None:
                _TRIM_STOP.set()
                _TRIM_STOP = None
