"""The schema-change table the drift check and `ops-pipeline catalog changes` show."""

from __future__ import annotations

from ops_pipeline.core.drift import COMPATIBLE, SchemaChange
from ops_pipeline.markdown.catalog import changes_markdown
from tests.core.test_drift import orders_table, single_change, with_column


def test_changes_markdown() -> None:
    assert changes_markdown([]) == "No schema changes."
    change = single_change(orders_table(), with_column(orders_table(), "total", data_type="numeric(12,2)"))
    text = changes_markdown([change])
    assert text.splitlines() == [
        "| classification | kind | object | before | after |",
        "|---|---|---|---|---|",
        "| compatible | column_type_changed | public.orders.total | numeric(10,2) | numeric(12,2) |",
    ]


def test_changes_markdown_truncates_and_escapes() -> None:
    changes = [SchemaChange("column_added", f"public.t.c{i}", None, "enum('a|b')", COMPATIBLE, "x") for i in range(7)]
    text = changes_markdown(changes, limit=5)
    lines = text.splitlines()
    assert len([line for line in lines if line.startswith("| compatible")]) == 5
    assert lines[-1] == "… and 2 more"
    assert "enum('a\\|b')" in text
    assert "| — |" in text
