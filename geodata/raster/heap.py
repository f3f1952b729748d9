"""Keep a tile's freed working memory in the process for the next tile (glibc's malloc).

A detection tile allocates and frees the same ~100 MB every time (reflectance stacks, eight
index planes, masks, labels: 1,056² px each). glibc hands a block above its mmap threshold
(128 KiB at start, adapting up to 32 MiB) straight from the kernel and unmaps it on free, so
each tile made the kernel fault in and zero those pages again: measured, eight fresh 1,056²
float32 planes cost 11.6 ms to allocate and fill against 1.8 ms for reused ones, about a fifth
of a tile's time spent in page faults. With the thresholds raised once per process, freed
blocks stay in the heap and the next tile reuses them; what a worker keeps is bounded by one
tile's working set (the memory benchmark still holds it flat from 25 to 400 Mpix).

Elsewhere (musl, macOS, Windows) nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: glibc's largest mmap threshold on 64-bit (HEAP_MAX_SIZE / 2): blocks up to it come from the heap.
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap glibc keeps instead of returning it (one tile's set, with room).
TRIM_THRESHOLD = 1 << 30

_lock = threading.Lock()
_state: dict[str, bool] = {}


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (once; later calls are free).
    True where it took effect."""
    if "done" in _state:
        return _state["done"]
    with _lock:
        if "done" not in _state:
            _state["done"] = _set_thresholds()
    return _state["done"]


def _set_thresholds() -> bool:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return ok and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
