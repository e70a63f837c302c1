"""A state vector cut into pages, so that a streaming update loads and saves only what it touches.

Page 0 is everything before the value ring: the header, the k-of-n flags and the adaptive histogram and ring of
bins (about 2.6 KB at the defaults, the same whatever the window). The value ring and, for the robust zscore,
the sorted window follow in pages of `RING_PAGE_SLOTS` values. One update by a few points reads and writes page 0
and the one or two ring pages those points pass over, so the cost of a tick does not depend on the window length:
a window of 60 and one of 12,000 both move page 0 and one 512-byte ring page per series and tick. `pages_for`
names the pages an update by some number of points needs, from the state's header alone:

* page 0 always, and the ring pages the new points pass over;
* every ring page when the plain zscore's periodic exact recompute falls within the update (the kernel reports
  a recompute it could not foresee, after which the caller loads everything and runs again);
* everything for the robust zscore (its sorted window shifts wherever a value lands).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ops_pipeline.core.detectors.kernels import _H_POS, _H_SINCE, _RECOMPUTE_EVERY
from ops_pipeline.core.detectors.params import Layout
from ops_pipeline.core.detectors.state import StreamState

RING_PAGE_SLOTS = 64  # float64 values per ring page: 512 bytes


def page_count(layout: Layout) -> int:
    return 1 + math.ceil((layout.size - layout.voff) / RING_PAGE_SLOTS)


def page_slice(layout: Layout, page: int) -> slice:
    if page == 0:
        return slice(0, layout.voff)
    start = layout.voff + (page - 1) * RING_PAGE_SLOTS
    return slice(start, min(start + RING_PAGE_SLOTS, layout.size))


def _ring_pages(window: int, start: int, count: int) -> set[int]:
    """The pages of the value ring that `count` values written from ring position `start` pass over."""
    count = min(count, window)
    spans = [(start, min(start + count, window))]
    if start + count > window:
        spans.append((0, start + count - window))
    return {
        page for low, high in spans for page in range(1 + low // RING_PAGE_SLOTS, 2 + (high - 1) // RING_PAGE_SLOTS)
    }


def pages_for(layout: Layout, header: npt.NDArray[np.float64], points: int) -> set[int]:
    """The pages an update by `points` new points reads or writes; `header` holds at least the header slots."""
    if points <= 0:
        return set()
    if layout.robust or not layout.window:
        return set(range(page_count(layout)))
    if int(header[_H_SINCE]) + points >= max(layout.window, _RECOMPUTE_EVERY):
        return set(range(page_count(layout)))
    return {0} | _ring_pages(layout.window, int(header[_H_POS]), points)


def value_ring_loaded(layout: Layout, pages: frozenset[int] | None) -> bool:
    """Whether every page the value ring (and sorted window) spans is loaded."""
    return pages is None or set(range(page_count(layout))) <= pages


def assemble(layout: Layout, pages: dict[int, bytes]) -> StreamState:
    """A state from some of its pages (raw little-endian float64 bytes); the others are left unread garbage."""
    total = page_count(layout)
    data = np.empty(layout.size, dtype=np.float64)
    for page, blob in pages.items():
        part = page_slice(layout, page) if 0 <= page < total else slice(0, 0)
        if not 0 <= page < total or len(blob) != 8 * (part.stop - part.start):
            raise ValueError(f"detector state page {page} does not fit its layout")
        data[part] = np.frombuffer(blob, dtype="<f8")
    loaded = frozenset(pages)
    return StreamState(layout=layout, data=data, pages=None if len(loaded) == total else loaded)


def page_bytes(state: StreamState, page: int) -> bytes:
    return state.data[page_slice(state.layout, page)].astype("<f8", copy=False).tobytes()
