"""Give freed memory back to the operating system.

CPython frees objects into glibc's malloc, which keeps the pages for reuse; after a reconcile
parsed AWS responses (and, once, service models) the process would sit on that peak for ever.
``malloc_trim`` hands it back, so the resident size reflects what is live.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_libc_name = ctypes.util.find_library("c")
try:
    _malloc_trim = ctypes.CDLL(_libc_name).malloc_trim if _libc_name else None
except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
    _malloc_trim = None


def release_free_memory() -> None:
    if _malloc_trim is not None:
        _malloc_trim(0)
