from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ops_pipeline.core.runs import RunRecord
from ops_pipeline.store import runs as run_store
from ops_pipeline.store.cursors import read_cursor, write_cursor
from ops_pipeline.store.engine import open_store

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def run(workflow: str, number: int, status: str = "success", duration_ms: float = 1000.0) -> RunRecord:
    return RunRecord(
        workflow=workflow,
        run_id=f"r{number}",
        origin="external",
        status=status,  # type: ignore[arg-type]
        created_at=T0 + timedelta(minutes=number),
        duration_ms=duration_ms,
        inputs={"n": number},
    )


def test_upserts_are_idempotent_and_update_in_place(store_url: str) -> None:
    engine = open_store(store_url)
    with engine.begin() as conn:
        run_store.upsert_runs(conn, [run("a", 1, "running"), run("a", 2)])
    with engine.begin() as conn:
        run_store.upsert_runs(conn, [replace(run("a", 1), status="failure", failure_message="boom")])
    assert run_store.count_runs(engine) == 2
    [newest, first] = run_store.runs_of(engine, "a")
    assert (first.run_id, first.status, first.failure_message, first.inputs) == ("r1", "failure", "boom", {"n": 1})
    assert newest.run_id == "r2" and newest.created_at == T0 + timedelta(minutes=2)


def test_pages_are_newest_first(store_url: str) -> None:
    engine = open_store(store_url)
    with engine.begin() as conn:
        run_store.upsert_runs(conn, [run("a", n) for n in range(1, 26)] + [run("b", 1)])
    page_1 = run_store.runs_of(engine, "a", limit=10)
    page_3 = run_store.runs_of(engine, "a", limit=10, page=3)
    assert [r.run_id for r in page_1] == [f"r{n}" for n in range(25, 15, -1)]
    assert [r.run_id for r in page_3] == [f"r{n}" for n in range(5, 0, -1)]
    assert run_store.runs_of(engine, "a", limit=10, page=4) == []


def test_latest_run_per_workflow_and_stats(store_url: str) -> None:
    engine = open_store(store_url)
    with engine.begin() as conn:
        run_store.upsert_runs(
            conn,
            [
                run("a", 1, "failure", 500),
                run("a", 2, "success", 1500),
                run("b", 3, "success", 9000),
                run("b", 4, "running"),
            ],
        )
    assert [(r.workflow, r.run_id) for r in run_store.latest_runs(engine)] == [("a", "r2"), ("b", "r4")]
    stats = {s.workflow: s for s in run_store.workflow_stats(engine)}
    assert (stats["a"].runs, stats["a"].failures, stats["a"].failure_rate) == (2, 1, 0.5)
    assert stats["a"].mean_duration_ms == 1000 and stats["b"].runs == 1  # running runs are not finished


def test_cursor_moves_only_with_its_transaction(store_url: str) -> None:
    engine = open_store(store_url)
    with engine.begin() as conn:
        write_cursor(conn, "c", "1")
    try:
        with engine.begin() as conn:
            write_cursor(conn, "c", "2")
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert read_cursor(conn, "c") == "1"


def test_a_big_batch_is_written_in_chunks(store_url: str) -> None:
    engine = open_store(store_url)
    with engine.begin() as conn:
        written = run_store.upsert_runs(conn, (run("bulk", n) for n in range(2500)))
    assert written == 2500 and run_store.count_runs(engine) == 2500
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(DISTINCT run_id) FROM workflow_runs")).scalar() == 2500
