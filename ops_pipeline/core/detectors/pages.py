"""A state vector cut into fixed-size pages, so that a streaming update loads and saves only what it touches.

A long window makes a long value ring (12,000 points are 96 KB), but one update by a few points reads and
writes only the few ring slots those points pass over, plus the small sections before the ring. `pages_for`
names the pages an update by some number of points needs, from the state's header alone:

* every page of the sections before the value ring except the ring of adaptive bins (header, k-of-n flags,
  adaptive histogram), and the pages of the ring of bins the new points pass over;
* the pages of the value ring the new points pass over; the whole ring when the plain zscore's periodic exact
  recompute falls within the update (the kernel reports a recompute it could not foresee, after which the caller
  loads everything and runs again);
* everything for the robust zscore (its sorted window shifts wherever a value lands) and for a small state.

The probe's cost per tick is thus flat in the window length: one or two 4 KiB ring pages per series.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ops_pipeline.core.detectors.kernels import _H_APOS, _H_POS, _H_SINCE, _RECOMPUTE_EVERY
from ops_pipeline.core.detectors.params import Layout
from ops_pipeline.core.detectors.state import StreamState

PAGE_SLOTS = 512  # float64 values per page: 4 KiB


def page_count(layout: Layout) -> int:
    return math.ceil(layout.size / PAGE_SLOTS)


def page_slice(layout: Layout, page: int) -> slice:
    return slice(page * PAGE_SLOTS, min((page + 1) * PAGE_SLOTS, layout.size))


def _pages(first_slot: int, last_slot: int) -> range:
    return range(first_slot // PAGE_SLOTS, last_slot // PAGE_SLOTS + 1)


def _ring_pages(offset: int, length: int, start: int, count: int, per_slot: int) -> set[int]:
    """Pages of a ring of `length` items (`per_slot` of them per float64 slot, from slot `offset`) that
    `count` items starting at `start` pass over."""
    if length == 0 or count == 0:
        return set()
    count = min(count, length)
    spans = [(start, min(start + count, length))]
    if start + count > length:
        spans.append((0, start + count - length))
    out: set[int] = set()
    for low, high in spans:
        out.update(_pages(offset + low // per_slot, offset + (high - 1) // per_slot))
    return out


def pages_for(layout: Layout, header: npt.NDArray[np.float64], points: int) -> set[int]:
    """The pages an update by `points` new points reads or writes; `header` holds at least the header slots."""
    every = set(range(page_count(layout)))
    if points <= 0:
        return set()
    if layout.robust or len(every) <= 2:
        return every
    needed = set(_pages(0, layout.boff - 1))
    needed |= _ring_pages(layout.boff, layout.adaptive_window, int(header[_H_APOS]), points, 8)
    if layout.window:
        if int(header[_H_SINCE]) + points >= max(layout.window, _RECOMPUTE_EVERY):
            needed |= set(_pages(layout.voff, layout.voff + layout.window - 1))
        else:
            needed |= _ring_pages(layout.voff, layout.window, int(header[_H_POS]), points, 1)
    return needed


def value_ring_loaded(layout: Layout, pages: frozenset[int] | None) -> bool:
    """Whether every page the value ring (and sorted window) spans is loaded."""
    if pages is None or not layout.window:
        return True
    return set(_pages(layout.voff, layout.size - 1)) <= pages


def assemble(layout: Layout, pages: dict[int, bytes]) -> StreamState:
    """A state from some of its pages (raw little-endian float64 bytes); the others are left unread garbage."""
    total = page_count(layout)
    data = np.empty(layout.size, dtype=np.float64)
    for page, blob in pages.items():
        part = page_slice(layout, page)
        if not 0 <= page < total or len(blob) != 8 * (part.stop - part.start):
            raise ValueError(f"detector state page {page} does not fit its layout")
        data[part] = np.frombuffer(blob, dtype="<f8")
    loaded = frozenset(pages)
    return StreamState(layout=layout, data=data, pages=None if len(loaded) == total else loaded)


def page_bytes(state: StreamState, page: int) -> bytes:
    return state.data[page_slice(state.layout, page)].astype("<f8", copy=False).tobytes()
