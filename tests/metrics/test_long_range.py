"""Range queries longer than the 11,000 points one query may return."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ops_pipeline.metrics.long_range import query_long_range
from ops_pipeline.metrics.recorded import RecordedMetricsSource, append_points
from ops_pipeline.metrics.series import MetricsError

START = 1_767_225_600


def test_a_long_range_is_read_in_pieces_and_joined(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    times = START + 60 * np.arange(17_280)  # 12 days at one minute
    rows = [{"timestamp": int(t), "metric": "m", "labels": {"host": h}, "value": float(i % 97)}
            for i, t in enumerate(times) for h in ("a", "b") if not (h == "b" and i < 12_000)]  # fmt: skip
    append_points(path, rows)
    source = RecordedMetricsSource(path)
    with pytest.raises(MetricsError, match="11000"):
        source.query_range("m", datetime.fromtimestamp(START, UTC), datetime.fromtimestamp(int(times[-1]), UTC),
                           timedelta(minutes=1))  # fmt: skip
    series = {s.labels_dict["host"]: s for s in query_long_range(source, "m", START, int(times[-1]), 60)}
    np.testing.assert_array_equal(series["a"].timestamps, times)
    np.testing.assert_array_equal(series["a"].values, np.arange(17_280) % 97)
    b = series["b"]  # absent from the first piece: it starts with the second one
    assert b.timestamps[0] == times[11_000]
    np.testing.assert_array_equal(b.timestamps[~np.isnan(b.values)], times[12_000:])
