"""How many malloc arenas the service's threads share (glibc only).

glibc gives each thread that allocates its own arena (up to eight per core); memory freed in one
arena is not reused by another, so the service's worker threads (polls, the responders cycle, the
outbox, the web desk) each keep their own high-water mark. Two arenas measured about 35 MB less
peak RSS on the memory benchmark (bench/README.md) with no measurable cost in time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at *arenas* before the threads start; 0 leaves glibc's default.

    Returns whether the cap is in force (False off glibc, where there is nothing to cap)."""
    if arenas <= 0:
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        mallopt = None
    if mallopt is None:
        log.debug("no mallopt in this C library: malloc arenas left as they are")
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
