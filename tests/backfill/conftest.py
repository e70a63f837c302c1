"""A PostgreSQL source with a six-column `trades` table spread over days, and an empty PostgreSQL destination."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg2
import pytest
import yaml

from ops_pipeline.definitions import build_definitions
from tests.conftest import PG_HOST, PG_PORT, PG_USER

TRADES = """
CREATE TABLE trades (
    id integer PRIMARY KEY,
    account bigint NOT NULL,
    amount numeric(12,2) NOT NULL,
    note text,
    traded_at timestamptz NOT NULL,
    settled boolean NOT NULL
);
CREATE TABLE accounts (id bigint PRIMARY KEY);
INSERT INTO accounts SELECT g FROM generate_series(1, 50) g;
"""


def pg_connect(database: str) -> Any:
    return psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database)


def run_sql(database: str, sql: str, params: tuple = ()) -> list[tuple]:
    with pg_connect(database) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params or None)
        rows = cursor.fetchall() if cursor.description else []
    conn.close()
    return rows


def insert_trades(database: str, first_id: int, count: int, day: str, *, note: str = "n") -> None:
    """`count` trades spread over one UTC day, with a NULL note every 7th row and a tab in every 11th."""
    run_sql(
        database,
        f"""
        INSERT INTO trades
        SELECT {first_id} + g, 1 + g %% 50, round((g * 7.31)::numeric %% 10000, 2),
               CASE WHEN g %% 7 = 0 THEN NULL WHEN g %% 11 = 0 THEN %s || E'\\ttab' ELSE %s || g END,
               %s::timestamptz + (g * 86399.0 / {count}) * interval '1 second', g %% 2 = 0
        FROM generate_series(0, {count - 1}) g
    """,
        (note, note, day),
    )


@pytest.fixture
def trades_source(make_pg_database: Callable[[], str]) -> str:
    database = make_pg_database()
    run_sql(database, TRADES)
    for number, day in enumerate(("2024-03-01", "2024-03-02", "2024-03-03")):
        insert_trades(database, number * 100_000, 1000 + 500 * number, day)
    return database


@pytest.fixture
def destination(make_pg_database: Callable[[], str]) -> str:
    return make_pg_database()


def pg(database: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "postgresql",
        "host": PG_HOST,
        "port": PG_PORT,
        "user": PG_USER,
        "database": database,
        "connect_timeout_s": 3,
        **extra,
    }


def backfill_config(tmp_path: Path, source: dict[str, Any], destination: dict[str, Any], **spec: Any) -> Path:
    pipeline = {
        "source": "src",
        "table": "trades",
        "time_column": "traded_at",
        "destination": "dst",
        "window": "daily",
        "start": "2024-03-01",
        "end": "2024-03-05",
        "partitions_per_run": 10,
        "chunk_rows": 700,
        "validation": {
            "sample_rows": 200,
            "threshold": 1.0,
            "rules": [
                {"rule": "not_null", "column": "id"},
                {"rule": "unique", "column": "id"},
                {"rule": "range", "column": "amount", "min": 0, "max": 10000},
                {"rule": "referential", "column": "account", "table": "accounts", "target_column": "id"},
            ],
        },
    }
    pipeline.update(spec)
    path = tmp_path / "ops.yaml"
    path.write_text(yaml.safe_dump({"sources": {"src": source, "dst": destination}, "backfills": {"trades": pipeline}}))
    return path


def materialize(
    config: Path, store_url: str, instance: dg.DagsterInstance, first: str, last: str, pipeline: str = "trades"
) -> dg.ExecuteInProcessResult:
    definitions = build_definitions(config, store_url)
    return dg.materialize(
        [definitions.get_assets_def(pipeline)],
        instance=instance,
        raise_on_error=False,
        resources=definitions.resources,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
    )
