import json
from datetime import UTC, datetime, timedelta

from ops_pipeline.store.engine import open_store
from ops_pipeline.store.manifests import ManifestRecord, manifests, manifests_json, median_rows_per_s, record_manifest

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def load(day: int, run_id: str | None, rows: int, began_s: float, duration_s: float) -> ManifestRecord:
    start = datetime(2024, 3, day, tzinfo=UTC)
    return ManifestRecord(
        pipeline="trades",
        partition_key=start.date().isoformat(),
        window_start=start,
        window_end=start + timedelta(days=1),
        run_id=run_id,
        rows_read=rows,
        rows_written=rows,
        source_checksum=f"pg-hash:{rows}:00",
        destination_checksum=f"pg-hash:{rows}:00",
        reconciled=True,
        validation_score=1.0,
        duration_s=duration_s,
        rows_per_s=rows / duration_s,
        created_at=T0 + timedelta(seconds=began_s + duration_s),
    )


def test_records_come_back_newest_first_and_export_as_json(store_url: str) -> None:
    engine = open_store(store_url)
    with engine.begin() as conn:
        record_manifest(conn, load(1, "r1", 100, 0, 1))
        record_manifest(conn, load(2, "r1", 200, 1, 1))
    records = manifests(engine, "trades")
    assert [r.partition_key for r in records] == ["2024-03-02", "2024-03-01"]
    assert records[0] == load(2, "r1", 200, 1, 1)
    exported = json.loads(manifests_json(records))
    assert exported[0]["run_id"] == "r1" and exported[0]["created_at"] == "2026-11-22T10:00:02+00:00"


def test_throughput_of_windows_loaded_side_by_side_is_the_runs_rows_over_its_span(store_url: str) -> None:
    engine = open_store(store_url)
    with engine.begin() as conn:
        # one run, two lanes: two windows of 1,000 rows in 0..2 s, and a third in 2..4 s: 3,000 rows in 4 s
        record_manifest(conn, load(1, "r1", 1000, 0, 2))
        record_manifest(conn, load(2, "r1", 1000, 0, 2))
        record_manifest(conn, load(3, "r1", 1000, 2, 2))
    assert median_rows_per_s(engine, "trades") == 750.0  # not 500, the rate of each window alone


def test_throughput_is_the_median_runs_and_ignores_empty_loads(store_url: str) -> None:
    engine = open_store(store_url)
    assert median_rows_per_s(engine, "trades") is None
    with engine.begin() as conn:
        record_manifest(conn, load(1, "slow", 100, 0, 1))
        record_manifest(conn, load(2, "fast", 1000, 0, 1))
        record_manifest(conn, load(3, "middle", 400, 0, 1))
        record_manifest(conn, load(4, None, 0, 0, 1))  # an empty window outside a run
    assert median_rows_per_s(engine, "trades") == 400.0
