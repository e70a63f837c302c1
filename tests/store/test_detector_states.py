"""Streaming detector states in the ops store: binary pages, read and rewritten only where a tick touches them."""

from __future__ import annotations

import math

import numpy as np
import sqlalchemy as sa

from ops_pipeline.core.detectors import DetectorSpec, StreamState, update_many
from ops_pipeline.core.detectors.pages import page_count
from ops_pipeline.store.detector_states import DetectorStates
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.tables import detector_state_pages, detector_states

LONG = DetectorSpec(kind="zscore", window=12_000)
KEYS = [f'latency{{host="h{i}"}}' for i in range(3)]


def ts_of(n: int, start: int = 0) -> np.ndarray:
    return 1_700_000_000 + 60 * np.arange(start, start + n, dtype=np.int64)


def pages_of(conn: sa.Connection) -> dict[tuple[str, int], bytes]:
    rows = conn.execute(
        sa.select(detector_state_pages.c.series_key, detector_state_pages.c.page, detector_state_pages.c.data)
    )
    return {(r.series_key, r.page): bytes(r.data) for r in rows}


def test_a_tick_reads_and_rewrites_only_the_pages_its_points_touch(store_url: str) -> None:
    engine = open_store(store_url)
    history = np.random.default_rng(0).standard_normal((3, 13_000))
    with engine.begin() as conn:
        store = DetectorStates(conn, "long", LONG, "fp1")
        assert store.heads() == {}
        store.save({key: (update_many(LONG, None, ts_of(13_000), history[i])[0], int(ts_of(13_000)[-1]))
                    for i, key in enumerate(KEYS)})  # fmt: skip
    with engine.connect() as conn:
        before = pages_of(conn)
    total = page_count(StreamState.new(LONG).layout)
    assert (
        total == 1 + math.ceil(12_000 / 64)
        and len(before) == 3 * total
        and all(len(data) <= 4096 for data in before.values())
    )

    with engine.begin() as conn:
        store = DetectorStates(conn, "long", LONG, "fp1")
        assert store.heads() == dict.fromkeys(KEYS, int(ts_of(13_000)[-1]))
        [state] = store.load({KEYS[1]: 1}).values()  # only one series has a new point
        assert state.pages is not None and len(state.pages) == 2  # of 189
        new, _, _ = update_many(LONG, state, ts_of(1, 13_000), [0.5], load_whole=lambda: store.load_whole(KEYS[1]))
        store.save({KEYS[1]: (new, int(ts_of(1, 13_000)[0]))})
    with engine.connect() as conn:
        after = pages_of(conn)
        heads = {r.series_key: r.updated_at for r in conn.execute(sa.select(detector_states))}
    changed = {key for key in before if before[key] != after[key]}
    assert {series for series, _ in changed} == {KEYS[1]} and 1 <= len(changed) <= 2
    assert len(set(heads.values())) == 2  # the untouched series kept their rows as they were

    with engine.connect() as conn:  # what was stored continues exactly as the state in memory would have
        store = DetectorStates(conn, "long", LONG, "fp1")
        store.heads()
        whole = store.load_whole(KEYS[1])
    expected, _, _ = update_many(LONG, None, np.concatenate([ts_of(13_000), ts_of(1, 13_000)]),
                                 np.concatenate([history[1], [0.5]]))  # fmt: skip
    np.testing.assert_array_equal(whole.data, expected.data)


def test_states_of_other_parameters_or_with_pages_missing_start_afresh(store_url: str) -> None:
    engine = open_store(store_url)
    spec = DetectorSpec(kind="ewma")
    with engine.begin() as conn:
        store = DetectorStates(conn, "d", spec, "fp1")
        store.heads()
        store.save({KEYS[0]: (update_many(spec, None, ts_of(100), np.ones(100))[0], int(ts_of(100)[-1]))})
    with engine.begin() as conn:
        other = DetectorStates(conn, "d", spec, "fp2")  # the detector's parameters changed
        assert other.heads() == {KEYS[0]: None}
        assert other.load({KEYS[0]: 5}) == {}
        other.save({KEYS[0]: (update_many(spec, None, ts_of(5), np.ones(5))[0], int(ts_of(5)[-1]))})
    with engine.connect() as conn:
        assert DetectorStates(conn, "d", spec, "fp2").heads() == {KEYS[0]: int(ts_of(5)[-1])}
    with engine.begin() as conn:
        store = DetectorStates(conn, "long", LONG, "fp1")
        store.heads()
        store.save({KEYS[0]: (update_many(LONG, None, ts_of(13_000), np.zeros(13_000))[0], 1)})
        conn.execute(detector_state_pages.delete().where(detector_state_pages.c.page == 100))
    with engine.connect() as conn:
        store = DetectorStates(conn, "long", LONG, "fp1")
        store.heads()
        assert store.load({KEYS[0]: 12_000}) == {}  # the update would need the lost page: no half state
