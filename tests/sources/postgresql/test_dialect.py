"""PostgreSQL's dialect as the backfill asks for it: column types, destination types, day buckets."""

from datetime import UTC, datetime

import pytest

from ops_pipeline.core.models import ModelType
from ops_pipeline.sources.mysql import MySQLDatabase
from ops_pipeline.sources.postgresql import PostgresDatabase
from ops_pipeline.sources.sqlite import SQLiteDatabase
from tests.backfill.conftest import run_sql
from tests.sources.postgresql.test_database import source

POSTGRES = PostgresDatabase()


@pytest.mark.parametrize(
    ("model_type", "column_type"),
    [
        (ModelType("integer", bits=16), "smallint"),
        (ModelType("integer", bits=32), "integer"),
        (ModelType("integer", bits=32, unsigned=True), "bigint"),
        (ModelType("integer", bits=8), "bigint"),
        (ModelType("decimal", precision=12, scale=2), "numeric(12,2)"),
        (ModelType("decimal"), "numeric"),
        (ModelType("float", bits=32), "double precision"),
        (ModelType("datetime", timezone=True), "timestamp with time zone"),
        (ModelType("datetime", precision=6), "timestamp"),
        (ModelType("string", max_length=40), "varchar(40)"),
        (ModelType("json"), "text"),
        (ModelType("binary"), "bytea"),
    ],
)
def test_destination_types_keep_precision(model_type: ModelType, column_type: str) -> None:
    assert POSTGRES.destination_type(model_type) == column_type


def test_column_types_pass_through_from_postgresql_and_map_from_other_databases() -> None:
    assert POSTGRES.column_type_from(POSTGRES, "mood[]") == "mood[]"
    assert POSTGRES.column_type_from(MySQLDatabase(), "tinyint(1)") == "boolean"
    assert POSTGRES.column_type_from(MySQLDatabase(), "int(10) unsigned") == "bigint"
    assert POSTGRES.column_type_from(SQLiteDatabase(), "INTEGER") == "bigint"
    assert POSTGRES.column_type_from(SQLiteDatabase(), "VARCHAR(12)") == "varchar(12)"


def test_table_columns_and_day_buckets(pg_database: str) -> None:
    run_sql(
        pg_database,
        """CREATE SCHEMA sales;
        CREATE TABLE sales."Orders" (id integer, total numeric(12,2), at timestamptz);
        INSERT INTO sales."Orders" SELECT g, g, '2024-03-01'::timestamptz + g * interval '7 hours'
        FROM generate_series(0, 9) g""",
    )
    with POSTGRES.session("shop", source(pg_database)) as session:
        columns = POSTGRES.table_columns(session.connection, "sales.Orders")
        missing = POSTGRES.table_columns(session.connection, "sales.missing")
        sql = POSTGRES.window_count_sql(session.qualified("sales.Orders"), "at", "daily")
        counted = session.rows(
            sql + " ORDER BY 1", session.bounds(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC))
        )
    assert columns == [("id", "integer"), ("total", "numeric(12,2)"), ("at", "timestamp with time zone")]
    assert missing is None
    assert [(day.day, count) for day, count in counted] == [(1, 4), (2, 3), (3, 3)]
