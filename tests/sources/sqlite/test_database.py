import sqlite3
from pathlib import Path

import pytest

from ops_pipeline.settings import PatternSet, SQLiteSource
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sqlite import SQLiteDatabase

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR(120) NOT NULL UNIQUE,
    region CHAR(2) DEFAULT 'EU'
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers,
    total NUMERIC(12,2) NOT NULL DEFAULT 0,
    created_at TIMESTAMP
);
CREATE INDEX ix_orders_customer_created ON orders (customer_id, created_at);
CREATE TABLE order_lines (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    PRIMARY KEY (order_id, line_no),
    UNIQUE (order_id, sku)
);
CREATE UNIQUE INDEX ix_lines_sku ON order_lines (sku);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
        conn.executemany("INSERT INTO customers (email) VALUES (?)", [(f"c{i}@x.org",) for i in range(30)])
        conn.executemany("INSERT INTO orders (customer_id, total) VALUES (?, ?)", [(1 + i % 30, i) for i in range(90)])
        conn.execute("ANALYZE")
    conn.close()
    return path


def source(path: Path, **overrides) -> SQLiteSource:
    return SQLiteSource(type="sqlite", path=str(path), **overrides)


def test_scan_records_columns_keys_indexes_and_estimates(shop: Path) -> None:
    catalog = SQLiteDatabase().scan("shop", source(shop))
    assert [t.name for t in catalog.tables] == ["big_orders", "customers", "order_lines", "orders"]

    customers = catalog.table("main.customers")
    assert customers is not None
    assert customers.primary_key == ("id",)
    assert [(c.name, c.data_type, c.nullable, c.default) for c in customers.columns] == [
        ("id", "INTEGER", False, None),
        ("email", "VARCHAR(120)", False, None),
        ("region", "CHAR(2)", True, "'EU'"),
    ]
    assert [u.columns for u in customers.unique_constraints] == [("email",)]
    assert customers.row_count == 30 and not customers.row_count_exact

    orders = catalog.table("main.orders")
    assert orders is not None
    [fk] = orders.foreign_keys
    assert (fk.columns, fk.target_table, fk.target_columns) == (("customer_id",), "customers", ("id",))
    assert [(i.name, i.columns, i.unique) for i in orders.indexes] == [
        ("ix_orders_customer_created", ("customer_id", "created_at"), False)
    ]

    lines = catalog.table("main.order_lines")
    assert lines is not None
    assert lines.primary_key == ("order_id", "line_no")
    assert [u.columns for u in lines.unique_constraints] == [("order_id", "sku")]
    assert [(i.name, i.unique) for i in lines.indexes] == [("ix_lines_sku", True)]

    view = catalog.table("main.big_orders")
    assert view is not None and view.kind == "view" and view.row_count is None


def test_exact_counts_and_filters(shop: Path) -> None:
    config = source(shop, include=PatternSet(tables=["^order"]), exclude=PatternSet(tables=["_lines$"]))
    catalog = SQLiteDatabase().scan("shop", config, exact_row_counts=True)
    assert [(t.name, t.row_count, t.row_count_exact) for t in catalog.tables] == [("orders", 90, True)]


def test_missing_file_is_unknown_database_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(SourceError) as failure:
        SQLiteDatabase().scan("shop", source(missing))
    assert failure.value.kind == "unknown_database"
    assert not missing.exists()


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("this is not sqlite " * 100)
    with pytest.raises(SourceError, match="not a database"):
        SQLiteDatabase().test_connection("shop", source(junk))


def test_connection_report(shop: Path) -> None:
    report = SQLiteDatabase().test_connection("shop", source(shop))
    assert report.server_version.startswith("3.") and report.latency_ms > 0
