from datetime import UTC, datetime, timedelta

import numpy as np

from ops_pipeline.core.runs import RunRecord
from ops_pipeline.metrics.run_history import RunHistoryMetricsSource
from ops_pipeline.store import runs as run_store
from ops_pipeline.store.engine import open_store

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def record(workflow: str, minute: float, status: str, seconds: float | None) -> RunRecord:
    return RunRecord(
        workflow=workflow,
        run_id=f"{workflow}-{minute}",
        origin="external",
        status=status,  # type: ignore[arg-type]
        created_at=T0 + timedelta(minutes=minute),
        duration_ms=None if seconds is None else seconds * 1000,
    )


def test_duration_and_failure_rate_per_workflow_per_bucket(store_url: str) -> None:
    engine = open_store(store_url)
    with engine.begin() as conn:
        run_store.upsert_runs(
            conn,
            [
                record("etl", 0.5, "success", 10),
                record("etl", 0.7, "failure", 30),  # bucket ending at minute 1
                record("etl", 2.5, "success", 20),  # bucket ending at minute 3
                record("etl", 3.5, "running", None),  # unfinished: not counted
                record("report", 1.5, "failure", None),  # bucket ending at minute 2
            ],
        )
    source = RunHistoryMetricsSource(engine)
    grid = dict(start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=4), step=timedelta(minutes=1))

    [duration] = source.query_range('workflow_duration_seconds{workflow="etl"}', **grid)
    assert duration.labels_dict == {"workflow": "etl", "origin": "external"}
    np.testing.assert_allclose(duration.values, [20.0, np.nan, 20.0, np.nan])

    rates = {s.labels_dict["workflow"]: s.values for s in source.query_range("workflow_failure_rate", **grid)}
    np.testing.assert_allclose(rates["etl"], [0.5, np.nan, 0.0, np.nan])
    np.testing.assert_allclose(rates["report"], [np.nan, 1.0, np.nan, np.nan])
    assert source.query_range('workflow_runs{workflow="nope"}', **grid) == []
