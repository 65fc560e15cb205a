"""Keep freed tensor memory inside the process (Linux, glibc), for CPU speed.

glibc hands every allocation above its mmap threshold (≥ 128 KiB, adapting up to 32 MiB) to
the kernel and gives it back on free, so each large intermediate tensor of a model costs
fresh zeroed pages, page faults and a trim. DeFT-Mamba's scan makes many such tensors; on the
2-core CI machine this was most of the run time (see README, "Speed"). Raising the thresholds
makes freed blocks reusable, which is what jemalloc/tcmalloc give PyTorch users elsewhere.
The price: the process keeps its peak memory until it exits.

Opt out with S5BENCH_MALLOC=default.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt parameter numbers from glibc's malloc.h
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_INT_MAX = 2**31 - 1
_GLIBC_DEFAULTS = {_M_TRIM_THRESHOLD: 128 * 1024, _M_TOP_PAD: 128 * 1024, _M_MMAP_THRESHOLD: 128 * 1024}
_KEEP = {_M_TRIM_THRESHOLD: _INT_MAX, _M_TOP_PAD: 1 << 30, _M_MMAP_THRESHOLD: _INT_MAX}


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") else None
    except OSError:
        return None


def keep_freed_memory(enable: bool = True) -> bool:
    """Switch glibc to keeping freed memory (or back to its defaults with enable=False).

    Args:
        enable: keep freed memory (True), or put glibc's default thresholds back (False).

    Returns:
        True when the setting was applied; False on other platforms/allocators, or when
        S5BENCH_MALLOC=default asks to leave the allocator alone (enable=True only).
    """
    if enable and os.environ.get("S5BENCH_MALLOC", "").lower() == "default":
        return False
    libc = _libc()
    if libc is None:
        return False
    values = _KEEP if enable else _GLIBC_DEFAULTS
    return all(libc.mallopt(param, value) == 1 for param, value in values.items())
