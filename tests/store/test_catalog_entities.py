"""The store keeps, per scanned table, the resolver rule that named its entity and that rule's confidence."""

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ops_pipeline.core.resolver import ResolverSpec
from ops_pipeline.defs.catalog.scan import scan_source
from ops_pipeline.settings import SQLiteSource
from ops_pipeline.store import catalog as catalog_store
from ops_pipeline.store.engine import open_store


def test_entity_rule_and_confidence_are_stored_per_table(tmp_path: Path, sqlite_url: Callable[[str], str]) -> None:
    path = tmp_path / "warehouse.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE tbl_orders (id INTEGER PRIMARY KEY); CREATE TABLE customers (id INTEGER);")
    conn.close()
    resolver = ResolverSpec.model_validate(
        {
            "name": "tables",
            "rules": [
                {
                    "type": "pattern",
                    "name": "tbl_prefix",
                    "pattern": r"^tbl_(.*)$",
                    "replacement": r"\1",
                    "confidence": 0.8,
                }
            ],
        }
    )
    store = open_store(sqlite_url("ops.db"))

    outcome = scan_source(store, "wh", SQLiteSource(type="sqlite", path=str(path)), resolver)
    stored = catalog_store.load_catalog(store, outcome.snapshot)

    assert [(t.name, t.entity_name, t.entity_rule, t.entity_confidence) for t in stored.tables] == [
        ("customers", "customers", None, 0.0),
        ("tbl_orders", "orders", "tbl_prefix", 0.8),
    ]
    assert stored.types is None and stored.notes == ()
