"""The demo's sample plans parse, and their SQL does what they say on a freshly generated demo warehouse.

The steps run here through the standard sqlite3 module, binding `params` by name exactly as the skin will; a
sql step's output is taken to be `{"rows": [{column: value, ...}, ...]}`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops_pipeline.core.plans.assertions import evaluate_assertion
from ops_pipeline.core.plans.graph import forward_order, rollback_sequence
from ops_pipeline.core.plans.loading import parse_plan_text
from ops_pipeline.core.plans.parameters import bind_parameters
from ops_pipeline.core.plans.spec import PlanSpec, SqlStep, ValidationStep
from ops_pipeline.core.plans.templates import render_value

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def load(name: str) -> PlanSpec:
    path = DEMO / "plans" / f"{name}.yaml"
    return parse_plan_text(path.read_text(encoding="utf-8"), str(path))


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    spec = importlib.util.spec_from_file_location("demo_generate_warehouse", DEMO / "generate_warehouse.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = module.generate_warehouse(tmp_path / "warehouse.db")
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        yield conn


def no_secrets(ref: str) -> str:
    raise AssertionError(f"the demo plans hold no secrets, yet {ref} was asked for")


def run(conn: sqlite3.Connection, statement: str, params: dict[str, Any], bound: dict[str, object]) -> dict[str, Any]:
    values = {name: render_value(v, bound, no_secrets) if isinstance(v, str) else v for name, v in params.items()}
    cursor = conn.execute(statement, values)
    columns = [c[0] for c in cursor.description or ()]
    return {"rows": [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]}


def run_step(conn: sqlite3.Connection, plan: PlanSpec, step_id: str, bound: dict[str, object], outputs: dict) -> bool:
    step = plan.step(step_id)
    if isinstance(step, SqlStep):
        outputs[step_id] = run(conn, step.statement, dict(step.params), bound)
        return True
    assert isinstance(step, ValidationStep)
    if step.assert_ is not None:
        return evaluate_assertion(step.assert_, outputs[step.assert_.step]).passed
    assert step.sql_check is not None
    rows = run(conn, step.sql_check.statement, dict(step.sql_check.params), bound)["rows"]
    return len(rows) == 1 and len(rows[0]) == 1 and bool(next(iter(rows[0].values())))


def test_both_sample_plans_parse() -> None:
    health, archive = load("warehouse_health"), load("archive_cancelled_orders")
    assert (health.approval_level, health.action_class, health.effective_sla) == (0, "read", "fast")
    assert (archive.approval_level, archive.action_class) == (2, "modify")
    assert {s.source for s in (*archive.steps, *archive.rollback_steps) if isinstance(s, SqlStep)} == {"demo"}


def test_warehouse_health_counts_orders_and_checks_there_are_some(warehouse: sqlite3.Connection) -> None:
    plan = load("warehouse_health")
    for status in ("delivered", "cancelled"):
        outputs: dict[str, Any] = {}
        bound = bind_parameters(plan, {"status": status})
        assert [run_step(warehouse, plan, step_id, bound, outputs) for step_id in forward_order(plan)] == [True, True]
    warehouse.execute("UPDATE orders SET status = 'delivered' WHERE status = 'refunded'")
    outputs = {}
    bound = bind_parameters(plan, {"status": "refunded"})
    assert [run_step(warehouse, plan, s, bound, outputs) for s in forward_order(plan)] == [True, False]


def snapshot(conn: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
    orders = conn.execute("SELECT * FROM orders ORDER BY order_id").fetchall()
    items = conn.execute("SELECT * FROM order_items ORDER BY order_item_id").fetchall()
    return orders, items


def test_archive_moves_old_cancelled_orders_and_rollback_restores_them(warehouse: sqlite3.Connection) -> None:
    plan = load("archive_cancelled_orders")
    bound = bind_parameters(plan, {"before": "2024-07-01"})
    before = snapshot(warehouse)
    to_archive = warehouse.execute(
        "SELECT COUNT(*) FROM orders WHERE status = 'cancelled' AND created_at < '2024-07-01'"
    ).fetchone()[0]
    assert to_archive > 0

    outputs: dict[str, Any] = {}
    assert all(run_step(warehouse, plan, step_id, bound, outputs) for step_id in forward_order(plan))
    assert warehouse.execute("SELECT COUNT(*) FROM orders_archive").fetchone()[0] == to_archive
    assert len(snapshot(warehouse)[0]) == len(before[0]) - to_archive
    assert warehouse.execute("PRAGMA foreign_key_check").fetchall() == []

    for _, rollback_id in rollback_sequence(plan, forward_order(plan)):
        run_step(warehouse, plan, rollback_id, bound, outputs)
    assert snapshot(warehouse) == before
    assert warehouse.execute("SELECT COUNT(*) FROM orders_archive").fetchone()[0] == 0
    assert warehouse.execute("SELECT COUNT(*) FROM order_items_archive").fetchone()[0] == 0


def test_archiving_twice_moves_nothing_more(warehouse: sqlite3.Connection) -> None:
    plan = load("archive_cancelled_orders")
    bound = bind_parameters(plan, {})
    for _ in range(2):
        assert all(run_step(warehouse, plan, step_id, bound, {}) for step_id in forward_order(plan))
    archived = warehouse.execute("SELECT COUNT(*) FROM orders_archive").fetchone()[0]
    assert (
        archived
        == warehouse.execute(
            "SELECT COUNT(*) FROM orders_archive WHERE status = 'cancelled' AND created_at < '2024-07-01'"
        ).fetchone()[0]
    )
