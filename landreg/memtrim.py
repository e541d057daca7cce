"""Handing freed memory back to the system after a request that left a worker larger.

glibc's malloc keeps what a request freed for later allocations; freed pages in the middle of
its heaps stay resident until ``malloc_trim`` gives them back. Under the browser suite a
server worker's RSS settled 20-40 MB higher than what it held (issue 14: "each worker
under 400 MB"). :class:`Trimmer` reads the worker's RSS after each request (``pread`` of
``/proc/self/statm``, ~2 µs) and calls ``malloc_trim(0)`` (a few ms) only when the RSS has
grown by ``step`` since the last trim, so the hot path pays nothing measurable and a worker
does not carry a request's garbage until the next big allocation. landreg/served.py calls it after
every request.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    try:
        fn = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    if fn is not None:
        fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


class Trimmer:
    """``malloc_trim`` after a request that grew this process's RSS by ``step`` MB."""

    def __init__(self, step_mb: int = 16) -> None:
        self.step = step_mb * 2**20
        self.trim = _malloc_trim()
        self._lock = threading.Lock()
        self._pid = 0
        self._fd = -1
        self._low = 0  # RSS (bytes) after the last trim, or the lowest seen since
        self.trims = 0

    def rss(self) -> int:
        """This process's resident set (bytes), 0 where /proc is missing."""
        if self._pid != os.getpid():  # first use in this (forked) worker
            self._pid, self._fd = os.getpid(), os.open("/proc/self/statm", os.O_RDONLY)
        try:
            return int(os.pread(self._fd, 128, 0).split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            return 0

    def after_request(self) -> bool:
        """Trim if the RSS grew by ``step`` since the last trim; whether it did."""
        if self.trim is None or self.step <= 0:
            return False
        try:
            rss = self.rss()
        except OSError:
            self.trim = None
            return False
        if not self._low or rss < self._low:
            self._low = rss
            return False
        if rss - self._low < self.step or not self._lock.acquire(blocking=False):
            return False  # another thread is trimming already
        try:
            self.trim(0)
            self.trims += 1
            self._low = self.rss()
        finally:
            self._lock.release()
        return True
