"""Streaming state: its compact binary form, partial (paged) states, timestamps `update` accepts, and warm-up."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_pipeline.core import detectors
from ops_pipeline.core.detectors import (
    STATE_VERSION,
    DetectorSpec,
    IncompleteStateError,
    StreamState,
    detect_batch,
    update,
    update_many,
    warm_up,
)
from ops_pipeline.core.detectors.pages import assemble, page_bytes, page_count, page_slice, pages_for
from ops_pipeline.core.synthetic import labelled_series

KINDS = ("zscore", "ewma")


def ts_of(n: int) -> np.ndarray:
    return 1_700_000_000 + 60 * np.arange(n, dtype=np.int64)


def noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def spec_of(kind: str, robust: bool = False, **options: Any) -> DetectorSpec:
    window = {"window": 25} if kind == "zscore" and "window" not in options else {}
    return DetectorSpec(kind=kind, robust=robust, **window, **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------- binary form


@pytest.mark.parametrize(("kind", "robust"), list(itertools.product(KINDS, (False, True))))
@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, 500), max_size=8), seed=st.integers(0, 1000))
def test_state_bytes_round_trip_mid_series(kind: str, robust: bool, cuts: list[int], seed: int) -> None:
    spec = spec_of(kind, robust, warmup=10, confirm_k=2, confirm_n=3, cooldown_s=120, adaptive_window=50)
    ts, values, _ = labelled_series(4, 500, seed=seed)
    x = values[1]  # a spike series
    x[np.random.default_rng(seed).random(500) < 0.05] = np.nan
    _, want_scores, want_signals = update_many(spec, None, ts, x)
    state: StreamState | None = None
    got_scores, got_signals = [], []
    for lo, hi in itertools.pairwise([0, *sorted(cuts), 500]):
        if state is not None:
            state = StreamState.from_bytes(state.to_bytes())
        state, scores, signals = update_many(spec, state, ts[lo:hi], x[lo:hi])
        got_scores.append(scores)
        got_signals.append(signals)
    assert state is not None and state.points_seen == int(np.isfinite(x).sum())
    np.testing.assert_array_equal(np.concatenate(got_scores), want_scores)  # bit-identical through bytes
    np.testing.assert_array_equal(np.concatenate(got_signals), want_signals)


def test_update_does_not_mutate_its_input_state() -> None:
    spec = DetectorSpec(kind="ewma", warmup=2)
    state, _, _ = update(spec, None, 0, 1.0)
    before = state.to_bytes()
    update(spec, state, 60, 2.0)
    assert state.to_bytes() == before


def test_state_bytes_declare_their_layout_and_are_checked() -> None:
    spec = DetectorSpec(kind="zscore", window=10, confirm_n=2, confirm_k=1)
    state, _, _ = update(spec, None, 0, 1.0)
    blob = state.to_bytes()
    again = StreamState.from_bytes(blob)
    assert again.layout == state.layout and again.layout.window == 10 and again.layout.confirm_n == 2
    assert blob[:4] == b"ODS\x00" and int.from_bytes(blob[4:6], "little") == STATE_VERSION
    with pytest.raises(ValueError, match="version"):
        StreamState.from_bytes(blob[:4] + (99).to_bytes(2, "little") + blob[6:])
    with pytest.raises(ValueError, match="float64 values"):
        StreamState.from_bytes(blob[:-8])
    with pytest.raises(ValueError, match="not a detector state"):
        StreamState.from_bytes(b'{"version": 1}' + bytes(20))
    for other in (
        DetectorSpec(kind="zscore", window=11, confirm_n=2),
        DetectorSpec(kind="zscore", window=10, confirm_n=2, robust=True),
        DetectorSpec(kind="ewma", confirm_n=2),
        DetectorSpec(kind="zscore", window=10, confirm_n=3),
        DetectorSpec(kind="zscore", window=10, confirm_n=2, adaptive_window=100),
    ):
        with pytest.raises(ValueError, match="layout"):
            update(other, state, 60, 1.0)
    # Same layout, other threshold, direction, cooldown, floors or quantile: allowed.
    update(DetectorSpec(kind="zscore", window=10, confirm_n=2, confirm_k=2, threshold=5, direction="up",
                        cooldown_points=5, scale_floor=1.0, adaptive_quantile=0.9), state, 60, 1.0)  # fmt: skip


def test_states_are_compact() -> None:
    without_adaptive = {"adaptive_quantile": None}
    ewma, _, _ = update(DetectorSpec(kind="ewma", **without_adaptive), None, 0, 1.0)
    assert len(ewma.to_bytes()) < 200
    default, _, _ = update(DetectorSpec(kind="ewma"), None, 0, 1.0)  # + 64 bins and 2,000 one-byte bins
    assert len(default.to_bytes()) < 2700
    long, _, _ = update(DetectorSpec(kind="zscore", window=12_000, **without_adaptive), None, 0, 1.0)
    assert len(long.to_bytes()) < 8 * 12_000 + 200  # the old JSON form took about 20 bytes a value


def test_corrupted_states_are_rejected_before_reaching_the_kernels() -> None:
    spec = DetectorSpec(kind="zscore", window=8, robust=True, confirm_k=1, confirm_n=2, adaptive_window=16)
    state, _, _ = update_many(spec, None, ts_of(40), noise(40))
    layout = state.layout

    def corrupt(slot: int, value: float) -> bytes:
        data = state.data.copy()
        data[slot] = value
        return StreamState(layout=layout, data=data).to_bytes()

    bad = [
        corrupt(detectors._H_POS, 8.0),  # ring position past the window
        corrupt(detectors._H_COUNT, 9.0),  # more points than the window holds
        corrupt(detectors._H_EPOS, 2.0),  # k-of-n position past confirm_n
        corrupt(detectors._H_NSEEN, -1.0),
        corrupt(detectors._H_NSEEN, 1.5),
        corrupt(layout.voff, np.nan),  # NaN in the window
        corrupt(layout.soff, 1e9),  # the sorted copy no longer matches
        corrupt(layout.eoff, 1.0),  # k-of-n flags disagree with their count
        corrupt(layout.hoff + 5, 3.0),  # the adaptive histogram disagrees with its ring
        corrupt(detectors.kernels._H_APOS, 16.0),
    ]
    for blob in bad:
        with pytest.raises(ValueError):
            StreamState.from_bytes(blob)
    data = state.data.copy()
    data[detectors._H_POS] = 100.0
    with pytest.raises(ValueError, match="position"):
        update(spec, StreamState(layout=layout, data=data), 0, 1.0)


def test_non_finite_state_values_round_trip() -> None:
    state = StreamState.new(DetectorSpec(kind="ewma", warmup=2))
    state.data[detectors._H_MEAN] = -np.inf
    state.data[detectors._H_M2] = np.inf
    np.testing.assert_array_equal(StreamState.from_bytes(state.to_bytes()).data, state.data)


# --------------------------------------------------------------------------------------------------- pages


def paged(state: StreamState, pages: set[int]) -> StreamState:
    """`state` as the store hands it out: only `pages` loaded, the rest garbage."""
    partial = assemble(state.layout, {p: page_bytes(state, p) for p in pages})
    for page in set(range(page_count(state.layout))) - pages:
        partial.data[page_slice(state.layout, page)] = np.nan
    return partial


@pytest.mark.parametrize("robust", [False, True])
@settings(max_examples=20, deadline=None)
@given(
    window=st.sampled_from([30, 700, 3000]),
    chunks=st.lists(st.integers(1, 900), min_size=1, max_size=12),
    seed=st.integers(0, 100),
)
def test_an_update_on_the_pages_it_needs_equals_one_on_the_whole_state(
    robust: bool, window: int, chunks: list[int], seed: int
) -> None:
    spec = DetectorSpec(kind="zscore", window=window, robust=robust, adaptive_window=3000, confirm_n=2)
    n = 1500 + sum(chunks)
    x = noise(n, seed)
    x[np.random.default_rng(seed).random(n) < 0.03] = np.nan
    x[np.random.default_rng(seed + 1).integers(0, n, 3)] = 1e12  # collapses that force an exact recompute
    ts = ts_of(n)
    whole, _, _ = update_many(spec, None, ts[:1500], x[:1500])
    part = whole
    at = 1500
    for size in chunks:
        want_state, want_scores, want_signals = update_many(spec, whole, ts[at : at + size], x[at : at + size])
        needed = pages_for(part.layout, part.data, size)
        complete = part
        state, scores, signals = update_many(
            spec, paged(part, needed), ts[at : at + size], x[at : at + size], load_whole=lambda c=complete: c
        )
        np.testing.assert_array_equal(scores, want_scores)
        np.testing.assert_array_equal(signals, want_signals)
        loaded = state.pages if state.pages is not None else range(page_count(state.layout))
        for page in loaded:
            assert page_bytes(state, page) == page_bytes(want_state, page)
        whole = want_state
        part = want_state  # the store writes the loaded pages back; the others did not change
        at += size


def test_a_long_window_update_needs_a_page_or_two() -> None:
    spec = DetectorSpec(kind="zscore", window=12_000)
    state, _, _ = update_many(spec, None, ts_of(13_000), noise(13_000))
    assert page_count(state.layout) == 1 + math.ceil(12_000 / 64)
    needed = pages_for(state.layout, state.data, 1)
    assert len(needed) == 2 and 0 in needed  # page 0 (header, adaptive quantile) and one 512-byte ring page
    short = DetectorSpec(kind="zscore", window=60)
    state, _, _ = update_many(short, None, ts_of(100), noise(100))
    assert len(pages_for(state.layout, state.data, 1)) == 2  # the same for a window of 60
    robust = DetectorSpec(kind="zscore", window=12_000, robust=True)
    assert len(pages_for(StreamState.new(robust).layout, StreamState.new(robust).data, 1)) == 1 + math.ceil(24_000 / 64)


def test_an_unforeseen_recompute_asks_for_the_whole_state() -> None:
    spec = DetectorSpec(kind="zscore", window=3000)
    x = noise(3500)
    x[600] = 1e12  # leaves the window at 3600: the sum of squares collapses, the ring is read in full
    state, _, _ = update_many(spec, None, ts_of(3500), x)
    needed = pages_for(state.layout, state.data, 200)
    assert len(needed) < page_count(state.layout)
    later = noise(200, seed=1)
    times = ts_of(3700)[3500:]
    with pytest.raises(IncompleteStateError):
        update_many(spec, paged(state, needed), times, later)
    calls = []

    def load_whole() -> StreamState:
        calls.append(1)
        return state

    _, scores, _ = update_many(spec, paged(state, needed), times, later, load_whole=load_whole)
    np.testing.assert_array_equal(scores, update_many(spec, state, times, later)[1])
    assert calls == [1]


# --------------------------------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    "stamp",
    [
        1_700_000_060,
        np.int64(1_700_000_060),
        1_700_000_060.0,
        pd.Timestamp(1_700_000_060, unit="s"),
        pd.Timestamp(1_700_000_060, unit="s", tz="UTC"),
        pd.Timestamp(1_700_000_060, unit="s", tz="UTC").tz_convert("Europe/Paris"),
        np.datetime64(1_700_000_060, "s"),
        np.datetime64(1_700_000_060_000, "ms"),
        dt.datetime.fromtimestamp(1_700_000_060, dt.UTC),
    ],
)
def test_update_takes_the_usual_timestamp_types(stamp: object) -> None:
    spec = DetectorSpec(kind="zscore", window=5, cooldown_s=30)
    state, _, _ = update(spec, None, 1_700_000_000, 1.0)
    state, _, _ = update(spec, state, stamp, 1.0)
    assert state.data[detectors.kernels._H_NSEEN] == 2
    # The same point given as an int: the same state, so the timestamp was read as the same second.
    as_int, _, _ = update(spec, update(spec, None, 1_700_000_000, 1.0)[0], 1_700_000_060, 1.0)
    assert state.to_bytes() == as_int.to_bytes()


@pytest.mark.parametrize(
    ("stamp", "error"),
    [
        (1_700_000_060.5, ValueError),  # would have been truncated to ...060
        (float("nan"), ValueError),
        (pd.Timestamp(1_700_000_060_500, unit="ms"), ValueError),
        (np.datetime64(1_700_000_060_500, "ms"), ValueError),
        (np.datetime64("NaT"), ValueError),
        (True, TypeError),
        ("1700000060", TypeError),
    ],
)
def test_update_refuses_a_timestamp_it_would_have_to_truncate(stamp: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        update(DetectorSpec(kind="zscore"), None, stamp, 1.0)


def test_batch_refuses_sub_second_datetimes() -> None:
    times = np.datetime64("2024-01-01T00:00:00.250") + np.arange(5) * np.timedelta64(1, "m")
    with pytest.raises(ValueError, match="whole seconds"):
        detect_batch(DetectorSpec(kind="zscore"), times, np.zeros((1, 5)))


# --------------------------------------------------------------------------------------------------- warm-up


def test_warm_up_compiles_the_signatures_read_only_inputs_use() -> None:
    warm_up()
    kernels = (detectors._batch_serial, detectors._batch_parallel, detectors.kernels._run_series)
    before = [len(k.signatures) for k in kernels]
    frame = pd.DataFrame({"ts": ts_of(400), "value": noise(400)})
    ts, values = frame["ts"].to_numpy(), frame["value"].to_numpy()  # pandas 3: read-only views
    values2d = np.repeat(values[None, :], 600, axis=0)
    values2d.flags.writeable = False
    spec = DetectorSpec(kind="zscore")
    detect_batch(spec, ts, values2d)  # 240,000 points: the multi-threaded kernel
    detect_batch(spec, ts, values[None, :])
    detect_batch(spec, ts.copy(), values[None, :].copy())  # writable inputs take the same signature
    update_many(spec, None, ts, values)
    update(spec, None, 0, 1.0)
    assert [len(k.signatures) for k in kernels] == before
    assert all(not array.mutable for sig in detectors._batch_serial.signatures for array in sig[:2])
