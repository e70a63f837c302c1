"""Pause Python's cyclic garbage collector while a scan builds its catalog.

A scan allocates one object per column, key and index (about 10^5 on a 2,000-table database) and keeps them
all. None of them forms a reference cycle, yet every 700 allocations the collector walks the young ones and
every few passes the whole heap: a third of a large scan's Python time (benchmarks/catalog_scan.py) went to
passes that could never free anything. Reference counting still frees everything as usual; any cyclic garbage
made meanwhile is collected after the pause.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block, and enable it again afterwards if it was enabled before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
