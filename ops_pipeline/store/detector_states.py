"""Streaming detector states in the ops store: one row per series and its state vector in binary pages.

`DetectorStates` serves one detector within one transaction: `heads()` reads every series' row and first page
(where it stands, and the header of its state), `load()` the further pages each series' next update needs, and
`save()` writes back only the series that advanced and, of those, only the pages whose bytes changed. A state
built under other parameters (another fingerprint or layout) counts as no state, and its pages are replaced
when the series is saved. The cost of a tick is therefore flat in the window length: a few KiB per series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ops_pipeline.core.detectors import DetectorSpec, StreamState
from ops_pipeline.core.detectors.pages import assemble, page_bytes, page_count, pages_for
from ops_pipeline.core.detectors.params import _params
from ops_pipeline.core.detectors.state import _prefix, layout_of
from ops_pipeline.store.tables import detector_state_pages, detector_states

BATCH = 500


@dataclass
class _Stored:
    last_ts: int | None
    usable: bool  # built under this fingerprint and layout
    pages: dict[int, bytes]  # the pages read so far, as stored


class DetectorStates:
    """The states of one detector's series; see the module docstring."""

    def __init__(self, conn: sa.Connection, detector: str, spec: DetectorSpec, fingerprint: str) -> None:
        self.conn = conn
        self.detector = detector
        self.layout = _params(spec).layout
        self.fingerprint = fingerprint
        self.bytes_written = 0  # state bytes the saves so far wrote (pages only)
        self._stored: dict[str, _Stored] = {}

    def heads(self) -> dict[str, int | None]:
        """The last timestamp each stored series absorbed (None for a state of other parameters)."""
        pages = detector_state_pages.c
        query = (
            sa.select(
                detector_states.c.series_key,
                detector_states.c.fingerprint,
                detector_states.c.layout,
                detector_states.c.last_ts,
                pages.data,
            )
            .select_from(
                detector_states.outerjoin(
                    detector_state_pages,
                    (pages.detector == detector_states.c.detector)
                    & (pages.series_key == detector_states.c.series_key)
                    & (pages.page == 0),
                )
            )
            .where(detector_states.c.detector == self.detector)
        )
        for row in self.conn.execute(query):
            usable = row.fingerprint == self.fingerprint and row.data is not None and self._fits(row.layout)
            last_ts = int(_utc(row.last_ts).timestamp()) if row.last_ts is not None and usable else None
            self._stored[row.series_key] = _Stored(last_ts, usable, {0: bytes(row.data)} if usable else {})
        return {key: stored.last_ts for key, stored in self._stored.items()}

    def load(self, new_points: Mapping[str, int]) -> dict[str, StreamState]:
        """The states of the series about to advance by `new_points[key]` points, each holding the pages that
        update needs (see `pages_for`). Series without a usable state are left out: they start afresh."""
        wanted: list[tuple[str, int]] = []
        for key, points in new_points.items():
            stored = self._stored.get(key)
            if stored is None or not stored.usable:
                continue
            header = np.frombuffer(stored.pages[0], dtype="<f8")
            wanted.extend((key, page) for page in sorted(pages_for(self.layout, header, points)) if page != 0)
        self._read(wanted)
        for key, page in wanted:
            if page not in self._stored[key].pages:  # a page went missing: start that series afresh
                self._stored[key] = _Stored(None, False, {})
        return {
            key: assemble(self.layout, self._stored[key].pages)
            for key in new_points
            if key in self._stored and self._stored[key].usable
        }

    def load_whole(self, key: str) -> StreamState:
        """Every page of one series' state (when an update turns out to need more than `load` gave it)."""
        self._read([(key, page) for page in range(page_count(self.layout)) if page not in self._stored[key].pages])
        whole = assemble(self.layout, self._stored[key].pages)
        if whole.pages is not None:
            raise ValueError(f"detector {self.detector!r}, series {key}: pages of the stored state are missing")
        return whole

    def save(self, advanced: Mapping[str, tuple[StreamState, int]]) -> None:
        """Record each series' new state and last timestamp; only pages that changed are written."""
        if not advanced:
            return
        now = datetime.now(UTC)
        heads: list[dict[str, Any]] = []
        pages: list[dict[str, Any]] = []
        replaced: list[str] = []
        layout = _prefix(self.layout)
        for key, (state, last_ts) in advanced.items():
            stored = self._stored.get(key)
            heads.append(
                {
                    "detector": self.detector,
                    "series_key": key,
                    "fingerprint": self.fingerprint,
                    "layout": layout,
                    "last_ts": datetime.fromtimestamp(last_ts, UTC),
                    "updated_at": now,
                }
            )
            if stored is None or not stored.usable:
                replaced.append(key)
                loaded: Iterable[int] = range(page_count(self.layout))
            else:
                loaded = state.pages if state.pages is not None else range(page_count(self.layout))
            for page in loaded:
                data = page_bytes(state, page)
                if stored is None or not stored.usable or stored.pages.get(page) != data:
                    pages.append({"detector": self.detector, "page": page, "series_key": key, "data": data})
        for start in range(0, len(replaced), BATCH):
            self.conn.execute(
                detector_state_pages.delete().where(
                    detector_state_pages.c.detector == self.detector,
                    detector_state_pages.c.series_key.in_(replaced[start : start + BATCH]),
                )
            )
        self._upsert(detector_states, heads, ["detector", "series_key"])
        self._upsert(detector_state_pages, pages, ["detector", "page", "series_key"])
        self.bytes_written += sum(len(row["data"]) for row in pages)

    def _fits(self, layout: bytes | None) -> bool:
        try:
            return layout is not None and layout_of(bytes(layout)) == self.layout
        except ValueError:
            return False

    def _read(self, wanted: list[tuple[str, int]]) -> None:
        """Read (series, page) pairs, grouped by page or by series, whichever makes fewer queries: an IN list of
        one column uses the primary key where a list of (series, page) pairs makes SQLite scan."""
        c = detector_state_pages.c
        by_page: dict[int, list[str]] = {}
        by_series: dict[str, list[int]] = {}
        for key, page in wanted:
            by_page.setdefault(page, []).append(key)
            by_series.setdefault(key, []).append(page)
        queries: list[sa.Select[Any]] = []
        if len(by_page) <= len(by_series):
            for page, keys in by_page.items():
                for start in range(0, len(keys), BATCH):
                    chosen = keys[start : start + BATCH]
                    queries.append(self._pages_query().where(c.page == page, c.series_key.in_(chosen)))
        else:
            for key, pages in by_series.items():
                for start in range(0, len(pages), BATCH):
                    chosen_pages = pages[start : start + BATCH]
                    queries.append(self._pages_query().where(c.series_key == key, c.page.in_(chosen_pages)))
        for query in queries:
            for row in self.conn.execute(query):
                self._stored[row.series_key].pages[row.page] = bytes(row.data)

    def _pages_query(self) -> sa.Select[Any]:
        c = detector_state_pages.c
        return sa.select(c.series_key, c.page, c.data).where(c.detector == self.detector)

    def _upsert(self, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
        if not rows:
            return
        insert = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table)
        columns = [c for c in rows[0] if c not in keys]
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in columns}
        )
        for start in range(0, len(rows), BATCH):  # one statement, many parameter sets: compiled once
            self.conn.execute(statement, rows[start : start + BATCH])


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
