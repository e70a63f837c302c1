import pytest
import sqlalchemy as sa

from ops_pipeline.settings import PatternSet, PostgresSource
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.postgresql import PostgresDatabase
from tests.conftest import PG_HOST, PG_PORT, PG_USER

SHOP_SCHEMA = """
CREATE SCHEMA sales;
CREATE SCHEMA audit;
CREATE TABLE sales.customers (
    id bigserial PRIMARY KEY,
    email varchar(120) NOT NULL UNIQUE,
    name text,
    region char(2) DEFAULT 'EU'
);
COMMENT ON TABLE sales.customers IS 'People who buy';
COMMENT ON COLUMN sales.customers.email IS 'login and contact';
CREATE TABLE sales.orders (
    id integer PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES sales.customers(id),
    total numeric(12,2) NOT NULL DEFAULT 0,
    tags text[],
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_orders_customer_created ON sales.orders (customer_id, created_at);
CREATE TABLE sales.order_lines (
    order_id integer NOT NULL,
    line_no smallint NOT NULL,
    sku varchar(32) NOT NULL,
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT fk_lines_order FOREIGN KEY (order_id) REFERENCES sales.orders(id),
    CONSTRAINT uq_lines_sku UNIQUE (order_id, sku)
);
CREATE UNIQUE INDEX ix_lines_lower_sku ON sales.order_lines (lower(sku));
CREATE VIEW sales.big_orders AS SELECT id, total FROM sales.orders WHERE total > 100;
CREATE TABLE audit.events (id serial PRIMARY KEY, payload jsonb);
CREATE TABLE audit.tmp_scratch (x int);
INSERT INTO sales.customers (email, name) SELECT 'c' || g || '@x.org', 'c' || g FROM generate_series(1, 50) g;
INSERT INTO sales.orders SELECT g, 1 + g % 50, g * 3.5, NULL, now() FROM generate_series(1, 200) g;
ANALYZE;
"""


def source(database: str, **overrides) -> PostgresSource:
    values = {
        "type": "postgresql",
        "host": PG_HOST,
        "port": PG_PORT,
        "user": PG_USER,
        "database": database,
        "connect_timeout_s": 3,
    }
    values.update(overrides)
    return PostgresSource(**values)


@pytest.fixture
def shop(pg_engine: sa.Engine, pg_database: str) -> str:
    raw = pg_engine.raw_connection()
    try:
        raw.cursor().execute(SHOP_SCHEMA)
        raw.commit()
    finally:
        raw.close()
    return pg_database


def test_scan_records_tables_columns_keys_indexes_and_estimates(shop: str) -> None:
    catalog = PostgresDatabase().scan("shop", source(shop))

    assert catalog.server_version and catalog.server_version[0].isdigit()
    assert [t.qualified_name for t in catalog.tables] == [
        "audit.events",
        "audit.tmp_scratch",
        "sales.big_orders",
        "sales.customers",
        "sales.order_lines",
        "sales.orders",
    ]
    customers = catalog.table("sales.customers")
    assert customers is not None
    assert customers.comment == "People who buy"
    assert customers.primary_key == ("id",)
    email = customers.column("email")
    assert email is not None
    assert (email.data_type, email.nullable, email.comment) == ("character varying(120)", False, "login and contact")
    region = customers.column("region")
    assert region is not None and region.default == "'EU'::bpchar" and region.data_type == "character(2)"
    assert [(u.columns) for u in customers.unique_constraints] == [("email",)]
    assert customers.row_count == 50 and not customers.row_count_exact

    orders = catalog.table("sales.orders")
    assert orders is not None
    assert [(c.name, c.data_type) for c in orders.columns] == [
        ("id", "integer"),
        ("customer_id", "bigint"),
        ("total", "numeric(12,2)"),
        ("tags", "text[]"),
        ("created_at", "timestamp with time zone"),
    ]
    [fk] = orders.foreign_keys
    assert (fk.columns, fk.target_schema, fk.target_table, fk.target_columns) == (
        ("customer_id",),
        "sales",
        "customers",
        ("id",),
    )
    assert [(i.name, i.columns, i.unique) for i in orders.indexes] == [
        ("ix_orders_customer_created", ("customer_id", "created_at"), False)
    ]

    lines = catalog.table("sales.order_lines")
    assert lines is not None
    assert lines.primary_key == ("order_id", "line_no")
    assert [(u.name, u.columns) for u in lines.unique_constraints] == [("uq_lines_sku", ("order_id", "sku"))]
    assert [(i.name, i.columns, i.unique) for i in lines.indexes] == [
        ("ix_lines_lower_sku", ("lower(sku::text)",), True)
    ]
    assert lines.foreign_keys[0].name == "fk_lines_order"

    view = catalog.table("sales.big_orders")
    assert view is not None and view.kind == "view" and view.row_count is None
    assert [c.name for c in view.columns] == ["id", "total"]


def test_exact_row_counts_count_every_table(shop: str) -> None:
    catalog = PostgresDatabase().scan("shop", source(shop), exact_row_counts=True)
    orders = catalog.table("sales.orders")
    assert orders is not None and orders.row_count == 200 and orders.row_count_exact
    events = catalog.table("audit.events")
    assert events is not None and events.row_count == 0 and events.row_count_exact


def test_filters_apply_include_first_then_exclude(shop: str) -> None:
    config = source(
        shop,
        include=PatternSet(schemas=["^(sales|audit)$"], tables=["^(orders|order_lines|events|tmp_)"]),
        exclude=PatternSet(tables=["^tmp_", "lines$"]),
    )
    catalog = PostgresDatabase().scan("shop", config)
    assert [t.qualified_name for t in catalog.tables] == ["audit.events", "sales.orders"]


def test_connection_report_has_version_and_latency(shop: str) -> None:
    report = PostgresDatabase().test_connection("shop", source(shop))
    assert report.server_version[0].isdigit()
    assert report.latency_ms > 0
    assert report.target == f"{PG_HOST}:{PG_PORT}/{shop}"


def test_closed_port_is_unreachable(closed_port: int) -> None:
    with pytest.raises(SourceError) as failure:
        PostgresDatabase().test_connection("shop", source("postgres", port=closed_port))
    assert failure.value.kind == "unreachable"
    assert f"127.0.0.1:{closed_port}" in str(failure.value)


def test_unknown_database(pg_database: str) -> None:
    with pytest.raises(SourceError) as failure:
        PostgresDatabase().scan("shop", source(pg_database + "_missing"))
    assert failure.value.kind == "unknown_database"
    assert "does not exist" in str(failure.value)


def test_refused_authentication() -> None:
    with pytest.raises(SourceError) as failure:
        PostgresDatabase().test_connection("shop", source("postgres", user="no_such_role_ops"))
    assert failure.value.kind == "auth_failed"


def test_server_that_never_answers_times_out(silent_server: int) -> None:
    with pytest.raises(SourceError) as failure:
        PostgresDatabase().test_connection("shop", source("postgres", port=silent_server, connect_timeout_s=1))
    assert failure.value.kind == "timeout"


def test_password_is_resolved_from_reference_and_never_shown(monkeypatch, closed_port: int) -> None:
    monkeypatch.setenv("OPS_TEST_PG_SECRET", "hunter2-secret")
    with pytest.raises(SourceError) as failure:
        PostgresDatabase().test_connection(
            "shop", source("postgres", port=closed_port, password="env:OPS_TEST_PG_SECRET")
        )
    assert "hunter2" not in str(failure.value)


def test_query_that_runs_past_query_timeout_fails_as_timeout(shop: str, pg_engine: sa.Engine) -> None:
    with pg_engine.connect() as blocker:
        blocker.execute(sa.text("LOCK TABLE sales.orders IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(SourceError) as failure:
            PostgresDatabase().scan("shop", source(shop, query_timeout_s=0.5), exact_row_counts=True)
        blocker.rollback()
    assert failure.value.kind == "timeout"
    assert "statement timeout" in str(failure.value)


def test_unset_password_reference_names_the_source(monkeypatch, pg_database: str) -> None:
    monkeypatch.delenv("OPS_UNSET_PW", raising=False)
    with pytest.raises(SourceError) as failure:
        PostgresDatabase().test_connection("shop", source(pg_database, password="env:OPS_UNSET_PW"))
    assert failure.value.kind == "auth_failed" and "OPS_UNSET_PW is not set" in str(failure.value)
