from datetime import UTC, datetime, timedelta

import pytest

from ops_pipeline.defs.insights.detection import detect_day
from ops_pipeline.defs.insights.probe import probe, spec_fingerprint
from ops_pipeline.metrics.recorded import RecordedMetricsSource, append_points
from ops_pipeline.settings import DetectorSettings
from ops_pipeline.store import signals as signal_store
from ops_pipeline.store.detector_states import DetectorStates
from ops_pipeline.store.engine import open_store

LATENCY = DetectorSettings(
    name="latency",
    source="recorded",
    query='http_request_latency_p95{service=~".+"}',
    kind="ewma",
    alpha=0.05,
    threshold=4,
    direction="up",
    warmup=60,
    cooldown="30m",
    step=60,
    reactions=[],
)


def day_of(ts: int):
    return datetime.fromtimestamp(ts, UTC).date()


def test_batch_finds_the_spike_and_the_level_shift(demo_metrics) -> None:
    path, end = demo_metrics
    source = RecordedMetricsSource(path)
    yesterday = detect_day(LATENCY, source, day_of(end - 86400), now=end)
    spike = [s for s in yesterday.signals if s.labels == {"service": "checkout"}]
    assert [int(s.ts.timestamp()) for s in spike] == [end - 86400]
    assert spike[0].severity == "critical" and "rose to" in spike[0].hint

    today = detect_day(LATENCY, source, day_of(end), now=end)
    shift = [s for s in today.signals if s.labels == {"service": "payments"}]
    assert shift and int(shift[0].ts.timestamp()) == end - 4 * 3600
    assert {s.labels["service"] for s in today.signals} <= {"payments"}  # no false alarm on quiet series
    assert len(today.series) == 3


@pytest.mark.parametrize("max_points", [1, 97, 5000])
def test_probe_in_chunks_finds_what_the_batch_finds(demo_metrics, store_url, max_points) -> None:
    path, end = demo_metrics
    source = RecordedMetricsSource(path)
    engine = open_store(store_url)
    day = day_of(end)
    batch = {(s.series_key, s.ts) for s in detect_day(LATENCY, source, day, now=end).signals}

    day_start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    last_end = day_start - LATENCY.history_s - LATENCY.step  # the probe starts where the batch starts
    streamed = []
    ticks = 0
    while last_end < end and ticks < 3000:
        step = probe(engine, LATENCY, source, last_end, end, max_points)
        streamed.extend(step.new_signals)
        last_end, ticks = step.end, ticks + 1
    assert {(s.series_key, s.ts) for s in streamed if s.ts.date() == day} == batch
    assert all(s.origin == "probe" for s in streamed)


def test_a_repeated_probe_step_counts_nothing_twice(demo_metrics, store_url) -> None:
    path, end = demo_metrics
    source = RecordedMetricsSource(path)
    engine = open_store(store_url)
    first = probe(engine, LATENCY, source, None, end, 5000)
    assert first.new_signals and first.points > 0
    again = probe(engine, LATENCY, source, None, end, 5000)  # as if the cursor had been lost
    assert again.new_signals == [] and again.points == 0
    with engine.connect() as conn:
        states = DetectorStates(conn, "latency", LATENCY.spec(), spec_fingerprint(LATENCY)).heads()
    assert set(states) == {f'http_request_latency_p95{{service="{n}"}}' for n in ("checkout", "search", "payments")}
    assert all(last == end for last in states.values())


def test_changed_detector_parameters_start_fresh_states(demo_metrics, store_url) -> None:
    path, end = demo_metrics
    source = RecordedMetricsSource(path)
    engine = open_store(store_url)
    probe(engine, LATENCY, source, None, end - 600, 5000)
    stricter = LATENCY.model_copy(update={"threshold": 40.0})
    step = probe(engine, stricter, source, end - 600, end, 5000)
    # new parameters: the old state is discarded and only the new points are read, so no warm score yet
    assert step.points == 3 * 10 and step.new_signals == []


def test_replacing_a_day_never_duplicates(demo_metrics, store_url) -> None:
    path, end = demo_metrics
    engine = open_store(store_url)
    detection = detect_day(LATENCY, RecordedMetricsSource(path), day_of(end), now=end)
    for _ in range(2):
        with engine.begin() as conn:
            signal_store.replace_partition(conn, str(day_of(end)), ["latency"], detection.signals)
    assert len(signal_store.signals_on(engine, str(day_of(end)))) == len(detection.signals) > 0


def test_probe_window_is_bounded_and_catches_up(demo_metrics, store_url) -> None:
    path, end = demo_metrics
    engine = open_store(store_url)
    step = probe(engine, LATENCY, RecordedMetricsSource(path), end - 3600, end, max_points=10)
    assert (step.start, step.end) == (end - 3600 + 60, end - 3600 + 600)
    assert step.points == 3 * 10


def test_points_from_the_future_are_not_read(demo_metrics, store_url) -> None:
    path, end = demo_metrics
    engine = open_store(store_url)
    step = probe(engine, LATENCY, RecordedMetricsSource(path), end - 120, end - 60 + 30, 100)
    assert step.end == end - 60
    assert datetime.fromtimestamp(step.end, UTC) <= datetime.fromtimestamp(end, UTC) - timedelta(seconds=30)


def _spike_after(path, last_sample: int) -> int:
    """A latency spike on the quiet search series 10 s after the file's last samples; its timestamp."""
    at = last_sample + 10
    point = {"timestamp": at, "metric": "http_request_latency_p95", "labels": {"service": "search"}, "value": 5000.0}
    append_points(path, [point])
    return at


def test_the_batch_of_today_stops_at_now(demo_metrics) -> None:
    path, end = demo_metrics
    # The next grid point is in the future, and the lookback would fill it from the spike.
    spike = _spike_after(path, end)
    detection = detect_day(LATENCY, RecordedMetricsSource(path), day_of(end), now=spike + 5)
    assert detection.signals and all(int(s.ts.timestamp()) <= spike + 5 for s in detection.signals)
    assert not [s for s in detection.signals if s.labels == {"service": "search"}]
    later = detect_day(LATENCY, RecordedMetricsSource(path), day_of(end), now=end + 60)
    assert [int(s.ts.timestamp()) for s in later.signals if s.labels == {"service": "search"}] == [end + 60]


def test_the_probe_reacts_to_a_signal_the_batch_recorded_first(demo_metrics, store_url) -> None:
    path, end = demo_metrics
    source, engine = RecordedMetricsSource(path), open_store(store_url)
    probe(engine, LATENCY, source, None, end, 5000)  # the probe is current
    _spike_after(path, end)
    batch = detect_day(LATENCY, source, day_of(end), now=end + 60)
    with engine.begin() as conn:  # the day's refresh reaches the spike's grid point first
        signal_store.replace_partition(conn, str(day_of(end)), ["latency"], batch.signals)
    step = probe(engine, LATENCY, source, end, end + 60, 5000)
    [found] = step.found
    assert found.labels == {"service": "search"} and found.severity == "critical"
    assert step.new_signals == []  # already recorded, yet found: the sensor reacts to it (its run key: once)
