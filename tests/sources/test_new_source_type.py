"""A source type added the way DESIGN.md says: its own module, its config model, one registry entry, its tests.

`lite` is a second SQLite flavour written here from scratch on the standard library's sqlite3: identifiers in
square brackets, its own type rules, label and sampling stride, and day buckets by string prefix. Registered
with one entry in `DATABASES`, it goes through the real catalog scan into the ops store, a data product model
and profile, a backfill plan and a backfill into a real PostgreSQL database with sample validation and
reconciliation, and nothing else in ops_pipeline learns its name. The one step it skips is adding `LiteSource`
to the `SourceConfig` union in settings/sources.py (a type's config model, which a test cannot extend), so the
settings object is assembled with `model_construct` instead of being parsed from ops.yaml.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from ops_pipeline.backfill.pipeline import Window, backfill_session
from ops_pipeline.backfill.plan import plan_backfill
from ops_pipeline.core.catalog import Catalog, Column, Table
from ops_pipeline.core.models import TypeRules
from ops_pipeline.defs.catalog.scan import scan_source
from ops_pipeline.defs.data_products.generate import generate
from ops_pipeline.settings import (
    BackfillSettings,
    DataProductSettings,
    DataProductSpec,
    OpsSettings,
    PostgresSource,
    SourceBase,
)
from ops_pipeline.sources.base import ConnectionReport, SourceError, timed
from ops_pipeline.sources.registry import DATABASES, database_for, sql_database_for, supports_scan
from ops_pipeline.sources.sql import Query, RelationFacts, SqlDatabase, WindowSize
from ops_pipeline.store.engine import open_store
from tests.backfill.conftest import run_sql
from tests.conftest import PG_HOST, PG_PORT, PG_USER

# --- the new type's module ---------------------------------------------------------------------------------


class LiteSource(SourceBase):
    has_tables: ClassVar[bool] = True
    backfill_roles: ClassVar[frozenset[Literal["source", "destination"]]] = frozenset({"source"})
    path_fields: ClassVar[tuple[str, ...]] = ("path",)

    type: Literal["lite"]
    path: str


class LiteDatabase(SqlDatabase[LiteSource]):
    source_type = "lite"
    type_rules = TypeRules(label="lite", integer_bits=64, real_bits=64, unsigned=False, affinity=True)
    placeholder = "?"

    @contextmanager
    def connect(self, name: str, config: LiteSource, *, writable: bool = False) -> Iterator[sqlite3.Connection]:
        if writable:
            raise SourceError(name, "error", "a lite source is read-only")
        path = Path(config.path)
        if not path.is_file():
            raise SourceError(name, "unknown_database", f"no lite file at {path}")
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            yield connection
        except sqlite3.Error as error:
            raise SourceError(name, "error", f"{path}: {error}") from None
        finally:
            connection.close()

    def test_connection(self, name: str, config: LiteSource) -> ConnectionReport:
        def version() -> str:
            with self.connect(name, config) as connection:
                return str(connection.execute("SELECT sqlite_version()").fetchone()[0])

        server_version, latency_ms = timed(version)
        return ConnectionReport(name, self.source_type, server_version, latency_ms, config.path)

    def scan(self, name: str, config: LiteSource, *, exact_row_counts: bool = False) -> Catalog:
        with self.connect(name, config) as connection:
            names = [n for (n,) in connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
            tables = tuple(self._table(connection, n) for n in sorted(names) if config.scan_filter.keeps("main", n))
        return Catalog(name, self.source_type, "lite", tables)

    def _table(self, connection: sqlite3.Connection, name: str) -> Table:
        info = connection.execute('SELECT name, type, "notnull", pk FROM pragma_table_info(?)', (name,)).fetchall()
        columns = tuple(Column(column, kind, not notnull and not pk) for column, kind, notnull, pk in info)
        return Table("main", name, columns=columns, primary_key=tuple(c for c, _, _, pk in info if pk))

    def quote(self, identifier: str) -> str:
        return "[" + identifier.replace("]", "]]") + "]"

    def bound(self, moment: datetime) -> Any:
        return moment.replace(tzinfo=None).isoformat(sep=" ")

    def table_columns(self, connection: Any, table: str) -> list[tuple[str, str]] | None:
        found = connection.execute("SELECT name, type FROM pragma_table_info(?)", (table,)).fetchall()
        return [(str(name), str(kind)) for name, kind in found] or None

    def describe_relation(self, query: Query, table: Table) -> RelationFacts | None:
        if not query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", (table.name,)):
            return None
        return RelationFacts(estimate=None, samplable=True, orderable=frozenset(c.name for c in table.columns))

    def sample_clause(self, *, rows: int, sample_rows: int, seed: int, row_level: bool) -> tuple[str, str]:
        stride = -(-rows // sample_rows)
        return f"WHERE rowid % {stride} = {seed % stride}", f"rowid modulo {stride}"

    def bucket_expression(self, quoted_column: str, window: WindowSize) -> str:
        if window == "hourly":
            return f"substr({quoted_column}, 1, 13) || ':00:00'"
        return f"substr({quoted_column}, 1, 10) || ' 00:00:00'"


# --- its tests ---------------------------------------------------------------------------------------------

DAYS = ("2024-03-01", "2024-03-02", "2024-03-03")


@pytest.fixture
def lite(monkeypatch: pytest.MonkeyPatch) -> LiteDatabase:
    database = LiteDatabase()
    monkeypatch.setitem(DATABASES, "lite", database)  # the one registry line
    return database


@pytest.fixture
def lite_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.lite"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE trades (id INTEGER PRIMARY KEY, account INTEGER NOT NULL, amount NUMERIC(10,2),"
            " note TEXT, traded_at TIMESTAMP NOT NULL)"
        )
        connection.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
        connection.executemany("INSERT INTO accounts VALUES (?)", [(i,) for i in range(10)])
        connection.executemany(
            "INSERT INTO trades VALUES (?, ?, ?, ?, ?)",
            [
                (i, i % 10, round(i * 1.25, 2), None if i % 7 == 0 else f"note {i % 4}", f"{day} {i % 24:02d}:30:00")
                for n, day in enumerate(DAYS)
                for i in range(n * 100, n * 100 + 100)
            ],
        )
    connection.close()
    return path


def settings_with_lite(lite_file: Path, destination: str, models_dir: Path) -> OpsSettings:
    backfill = BackfillSettings.model_validate(
        {
            "source": "shop",
            "table": "trades",
            "time_column": "traded_at",
            "destination": "lake",
            "start": "2024-03-01",
            "end": "2024-03-04",
            "chunk_rows": 100,
            "validation": {
                "sample_rows": 50,
                "rules": [
                    {"rule": "not_null", "column": "id"},
                    {"rule": "unique", "column": "id"},
                    {"rule": "referential", "column": "account", "table": "accounts", "target_column": "id"},
                ],
            },
        }
    )
    lake = PostgresSource(type="postgresql", host=PG_HOST, port=PG_PORT, user=PG_USER, database=destination)
    return OpsSettings.model_construct(
        sources={"shop": LiteSource(type="lite", path=str(lite_file)), "lake": lake},
        backfills={"trades": backfill},
        data_products=DataProductSettings(
            output_dir=str(models_dir), models=[DataProductSpec(source="shop", table="main.trades", sample_rows=100)]
        ),
    )


def test_a_new_type_is_scanned_modelled_profiled_planned_and_backfilled(
    lite: LiteDatabase, lite_file: Path, make_pg_database: Any, tmp_path: Path
) -> None:
    destination = make_pg_database()
    settings = settings_with_lite(lite_file, destination, tmp_path / "models")
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")

    assert database_for("lite") is lite and sql_database_for("lite") is lite and supports_scan("lite")
    assert lite.test_connection("shop", settings.sources["shop"]).source_type == "lite"

    completed = scan_source(engine, "shop", settings.source("shop"), settings.resolver_for_source("shop"))
    assert [t.qualified_name for t in completed.catalog.tables] == ["main.accounts", "main.trades"]

    generated = generate(settings, settings.data_products.models[0], engine, None)
    assert generated.stored.pure.startswith("// Generated by ops_pipeline from main.trades (source shop, lite).")
    kinds = {p.column: (p.type.kind, p.type.bits, p.type.precision) for p in generated.model.properties}
    assert kinds["id"] == ("integer", 64, None) and kinds["amount"] == ("decimal", None, 10)
    assert generated.profile is not None
    assert (generated.profile.row_count, generated.profile.row_count_exact) == (300, True)
    assert generated.profile.sample_method == "rowid modulo 3"
    assert 90 <= generated.profile.sampled_rows <= 110

    start = datetime(2024, 3, 1, tzinfo=UTC)
    plan = plan_backfill(settings, "trades", start, start + timedelta(days=4), engine)
    assert [(w.start.day, w.rows) for w in plan.windows] == [(1, 100), (2, 100), (3, 100), (4, 0)]

    windows = [Window(day, start + timedelta(days=n), start + timedelta(days=n + 1)) for n, day in enumerate(DAYS)]
    with backfill_session(settings, "trades") as session:
        assert session.direct is None  # PostgreSQL has a direct path from PostgreSQL only
        verdicts = session.validate_all(windows)
        records = session.load_all(windows, verdicts, engine, None)
    assert all(v.passed for v in verdicts)
    assert [(r.rows_read, r.rows_written, r.reconciled) for r in records] == [(100, 100, True)] * 3
    assert records[0].source_checksum == records[0].destination_checksum
    types = run_sql(
        destination,
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'trades' ORDER BY 1",
    )
    assert dict(types) == {
        "account": "bigint",
        "amount": "numeric",
        "id": "bigint",
        "note": "text",
        "traded_at": "timestamp without time zone",
    }
    assert run_sql(destination, "SELECT count(*), count(note), sum(amount) FROM trades") == run_sql(
        destination, "SELECT 300, 300 - 43, sum(round(id * 1.25, 2)) FROM generate_series(0, 299) id"
    )
