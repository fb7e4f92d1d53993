"""Freed memory handed back to the system during long generations on CPU.

Each decode step grows every row's KV cache by one position (a new, slightly larger tensor; the old one is
freed). glibc's allocator keeps such freed blocks in its heap, where they are rarely reused, so the process
grew by 1.07 GB over 4096 steps of 3 rows on the tiny checkpoint while its live tensors stayed near 10 MB.
`malloc_trim` hands the free pages back: every 64 steps it held that growth to 142 MB, for 3.7 ms a call.
Nothing happens where glibc is not the C library (musl, macOS, Windows).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

TRIM_EVERY = 64  # decode steps


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def trim() -> None:
    """Return the allocator's free pages to the system (glibc), or do nothing."""
    release = _malloc_trim()
    if release is not None:
        release(0)
