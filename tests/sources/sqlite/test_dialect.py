"""SQLite's dialect as the backfill asks for it: a writable file, destination types, values stored as text."""

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from ops_pipeline.core.models import ModelType
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.postgresql import PostgresDatabase
from ops_pipeline.sources.sql import Transfer
from ops_pipeline.sources.sqlite import SQLiteDatabase
from tests.sources.sqlite.test_database import source

SQLITE = SQLiteDatabase()


@pytest.mark.parametrize(
    ("model_type", "declared"),
    [
        (ModelType("integer", bits=16), "INTEGER"),
        (ModelType("decimal", precision=12, scale=2), "NUMERIC(12,2)"),
        (ModelType("decimal"), "NUMERIC"),
        (ModelType("float", bits=32), "REAL"),
        (ModelType("datetime", timezone=True), "TIMESTAMP"),
        (ModelType("boolean"), "BOOLEAN"),
        (ModelType("binary"), "BLOB"),
        (ModelType("uuid"), "TEXT"),
    ],
)
def test_destination_types(model_type: ModelType, declared: str) -> None:
    assert SQLITE.destination_type(model_type) == declared


def test_column_types_from_postgresql() -> None:
    assert SQLITE.column_type_from(PostgresDatabase(), "numeric(12,2)") == "NUMERIC(12,2)"
    assert SQLITE.column_type_from(PostgresDatabase(), "timestamp with time zone") == "TIMESTAMP"
    assert SQLITE.column_type_from(SQLITE, "WHATEVER(3)") == "WHATEVER(3)"


def test_writable_file_is_created_and_rows_are_stored_as_comparable_text(tmp_path: Path) -> None:
    path = tmp_path / "new" / "lake.db"
    with pytest.raises(SourceError) as missing, SQLITE.session("lake", source(path)):
        pass
    assert missing.value.kind == "unknown_database" and not path.exists()

    transfer = Transfer('"t"', "t", ("id", "amount", "at"), "at", "t", ("INTEGER", "NUMERIC", "TIMESTAMP"), 100)
    plus_two = timezone(timedelta(hours=2))
    with SQLITE.session("lake", source(path), writable=True) as session:
        session.execute("CREATE TABLE t (id INTEGER, amount NUMERIC, at TIMESTAMP)")
        SQLITE.write_rows(session, transfer, [(1, Decimal("1.50"), datetime(2024, 3, 1, 1, 0, tzinfo=plus_two))])
        session.connection.commit()
        assert SQLITE.table_columns(session.connection, "t") == [
            ("id", "INTEGER"),
            ("amount", "NUMERIC"),
            ("at", "TIMESTAMP"),
        ]
        assert SQLITE.table_columns(session.connection, "missing") is None
        window = session.bounds(datetime(2024, 2, 29, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))
        assert window == ("2024-02-29 00:00:00", "2024-03-01 00:00:00")
        assert session.rows(session.select_window('"t"', ["id"], "at"), window) == [(1,)]
    stored = sqlite3.connect(path).execute("SELECT amount, at, typeof(at) FROM t").fetchall()
    assert stored == [(1.5, "2024-02-29 23:00:00", "text")]
