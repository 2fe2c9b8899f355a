"""Memory that a stage frees goes back to the system (glibc's malloc), so stages running side by
side, and the stages after them, do not pile up each other's leftovers.

glibc serves small allocations from per-thread heaps, which keep what is freed for that heap's own
later use; the pages between blocks still in use are never returned on their own. While the
listening stages run, :func:`trimming` gives those free pages back twice a second.

No fixed mmap threshold: an earlier release fixed glibc's at 4 MiB so that CTranslate2's per-batch
buffers were mapped and unmapped one by one. That made every decoding step map, fault in and zero
fresh pages (Whisper's beams with the catalog prompt allocate buffers of 4-32 MiB per token): on
two cores, transcribing shared/realspeech/host2guests.mp3 at batch size 8, tiny.en ran at x10 real
time instead of x17 and base at x7.4 instead of x9.7, with most of the time in the kernel (to see
it again: ``MALLOC_MMAP_THRESHOLD_=4194304 python benchmarks/asr.py --models embedded,base``
against the same without the variable). glibc's own threshold (rising to 32 MiB) keeps those
buffers in the heaps for reuse, and the trimming returns what is left free.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import threading

log = logging.getLogger("podtools.memory")

TRIM_INTERVAL = 0.5  # seconds between two malloc_trim calls while a stage holds trimming()
_LOCK = threading.Lock()
_TRIM_USERS = 0
_TRIM_STOP: threading.Event | None = None


@functools.lru_cache(maxsize=1)
def _glibc():
    """This process's C library when it is glibc (through ctypes), else None (other platforms,
    musl and the like, which have no ``malloc_trim``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        return libc if getattr(libc, "gnu_get_libc_version", None) else None
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None


# -- giving back freed memory while the listening stages run ----------------------------------------


def _trim_loop(stop: threading.Event) -> None:
    libc = _glibc()
    while libc is not None and not stop.wait(TRIM_INTERVAL):
        libc.malloc_trim(0)
    if libc is not None:
        libc.malloc_trim(0)  # once more when the last stage lets go: what it freed last goes back too


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


# -- torch's kernel caches ---------------------------------------------------------------------------

KERNEL_CACHE_CAPACITY = "64"  # oneDNN primitives (and torch's ideep cache) kept per process; both default to 1024
_KERNEL_CACHES = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "DNNL_PRIMITIVE_CACHE_CAPACITY", "LRU_CACHE_CAPACITY")


def cap_kernel_caches() -> None:
    """Keep at most ``KERNEL_CACHE_CAPACITY`` compiled oneDNN kernels in this process (unless the
    user set these variables). CAM++ runs over stretches of speech of every length, and each new
    input shape compiles and keeps new kernels, with their buffers, up to 1024 of them: diarizing
    an hour of real speech (4,583 windows) peaked 320 MB higher with the default (high-water mark
    1324-1336 MB against 988-1060 MB, two runs each, at the same speed). Read when torch first
    runs a convolution, so this must come before the first model runs; later calls change nothing."""
    for name in _KERNEL_CACHES:
        os.environ.setdefault(name, KERNEL_CACHE_CAPACITY)
