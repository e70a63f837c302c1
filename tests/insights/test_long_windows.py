"""A window far longer than a day (12,000 points at a 1-minute step): the batch reads the history the detector
needs and agrees with the probe, whose states stay a few pages per series per tick."""

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops_pipeline.defs.insights.detection import detect_day
from ops_pipeline.defs.insights.probe import probe
from ops_pipeline.metrics.recorded import RecordedMetricsSource
from ops_pipeline.settings import DetectorSettings
from ops_pipeline.store.engine import open_store
from tests.insights.conftest import DAY, load_demo_module

LONG = DetectorSettings(
    name="long",
    source="recorded",
    query='http_request_latency_p95{service=~".+"}',
    kind="zscore",
    window=12_000,
    step=60,
)


@pytest.fixture
def eleven_days(tmp_path: Path) -> tuple[Path, int]:
    end = (int(time.time()) // DAY) * DAY + 12 * 3600
    return load_demo_module("generate_metrics").generate_metrics(tmp_path / "metrics.csv", days=11, end=end), end


def test_a_12000_point_window_batch_agrees_with_the_probe(eleven_days, store_url) -> None:
    path, end = eleven_days
    source = RecordedMetricsSource(path)
    assert LONG.history_s >= 12_000 * 60  # a day of lookback would leave the window 1,440 points short
    day = datetime.fromtimestamp(end, UTC).date()
    batch = detect_day(LONG, source, day, now=end)
    assert batch.result is not None and batch.result.timestamps.size > 11_000  # more than one range query
    assert {s.labels["service"] for s in batch.signals} == {"payments"}  # the level shift, and nothing else

    engine = open_store(store_url)
    day_start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    last_end = day_start - LONG.history_s - LONG.step  # the probe starts where the batch starts
    streamed = []
    while last_end < end:
        step = probe(engine, LONG, source, last_end, end, 1440)
        streamed.extend(step.new_signals)
        last_end = step.end
    assert {(s.series_key, s.ts) for s in streamed if s.ts.date() == day} == {
        (s.series_key, s.ts) for s in batch.signals
    }
