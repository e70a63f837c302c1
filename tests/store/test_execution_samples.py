"""The SLA monitor's read of the ops store: running executions past their deadline, paged in (deadline, id)
order so executions sharing a deadline are neither skipped nor read twice at a page boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_samples import overdue_executions
from tests.dagster.execution_seeds import seed

SUBMITTED = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
NOW = SUBMITTED + timedelta(minutes=10)


def test_late_running_executions_page_in_deadline_order_through_ties(store_url: str) -> None:
    engine = open_store(store_url)
    seed(engine, "b", "backup", "running", submitted=SUBMITTED, deadline_s=60)
    seed(engine, "a", "backup", "running", submitted=SUBMITTED, deadline_s=60)  # same deadline as b
    seed(engine, "c", "backup", "running", submitted=SUBMITTED, deadline_s=30)
    seed(engine, "ended", "backup", "failed", submitted=SUBMITTED, took_s=90, deadline_s=60)
    seed(engine, "in_time", "backup", "running", submitted=SUBMITTED, deadline_s=3600)
    seen, after = [], None
    with engine.connect() as conn:
        while page := overdue_executions(conn, NOW, after, limit=1):
            seen.append(page[0].execution_id)
            after = (page[0].deadline_at, page[0].execution_id)
        early = overdue_executions(conn, SUBMITTED + timedelta(seconds=45), None, limit=10)
    assert [late.execution_id for late in early] == ["c"]
    assert seen == ["c", "a", "b"]
