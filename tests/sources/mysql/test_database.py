import time
import uuid
from collections.abc import Iterator

import pytest

from ops_pipeline.core.catalog import Column, ForeignKey, Index, UniqueConstraint
from ops_pipeline.settings import MySQLSource, PatternSet
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.mysql import MySQLDatabase
from tests.conftest import MYSQL_HOST, MYSQL_PORT, MYSQL_USER, mysql_connect

SHOP_SCHEMA = [
    """
    CREATE TABLE customers (
        id INT NOT NULL AUTO_INCREMENT,
        email VARCHAR(120) NOT NULL COMMENT 'login and contact',
        name VARCHAR(50) NULL,
        status ENUM('active', 'blocked') NOT NULL DEFAULT 'active',
        credit DECIMAL(10,2) NOT NULL DEFAULT 0.00,
        created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (id),
        CONSTRAINT uq_customers_email UNIQUE (email)
    ) ENGINE=InnoDB COMMENT='People who buy'
    """,
    """
    CREATE TABLE orders (
        region CHAR(2) NOT NULL,
        order_no INT NOT NULL,
        customer_id INT NOT NULL,
        total DECIMAL(12,2) NOT NULL DEFAULT 0.00,
        meta JSON NULL,
        placed_at DATETIME NOT NULL,
        PRIMARY KEY (region, order_no),
        CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
        KEY ix_orders_customer_placed (customer_id, placed_at)
    ) ENGINE=InnoDB
    """,
    """
    CREATE TABLE order_lines (
        region CHAR(2) NOT NULL,
        order_no INT NOT NULL,
        line_no SMALLINT NOT NULL,
        sku VARCHAR(32) NOT NULL,
        quantity INT NOT NULL DEFAULT 1,
        PRIMARY KEY (region, order_no, line_no),
        CONSTRAINT fk_lines_order FOREIGN KEY (region, order_no) REFERENCES orders (region, order_no),
        CONSTRAINT uq_lines_sku UNIQUE (region, order_no, sku)
    ) ENGINE=InnoDB
    """,
    """
    CREATE TABLE payments (
        id BIGINT NOT NULL PRIMARY KEY,
        customer_id INT NULL,
        amount DECIMAL(10,2) NOT NULL,
        CONSTRAINT fk_payments_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE SET NULL
    ) ENGINE=InnoDB
    """,
    "CREATE TABLE tmp_scratch (x INT)",
    "CREATE VIEW big_orders AS SELECT region, order_no, total FROM orders WHERE total > 100",
]

CUSTOMERS, ORDERS, LINES = 50, 200, 30


def source(database: str, **overrides: object) -> MySQLSource:
    values: dict[str, object] = {
        "type": "mysql",
        "host": MYSQL_HOST,
        "port": MYSQL_PORT,
        "user": MYSQL_USER,
        "database": database,
        "connect_timeout_s": 3,
    }
    values.update(overrides)
    return MySQLSource(**values)  # type: ignore[arg-type]


def run(database: str | None, *statements: str) -> None:
    conn = mysql_connect(database)
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


@pytest.fixture
def shop(mysql_database: str) -> str:
    run(mysql_database, *SHOP_SCHEMA)
    conn = mysql_connect(mysql_database)
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO customers (email, name) VALUES (%s, %s)",
            [(f"c{i}@example.org", f"customer {i}") for i in range(CUSTOMERS)],
        )
        cursor.executemany(
            "INSERT INTO orders (region, order_no, customer_id, total, placed_at) VALUES (%s, %s, %s, %s, NOW())",
            [("EU" if i % 2 else "US", i, 1 + i % CUSTOMERS, i * 3.5) for i in range(ORDERS)],
        )
        cursor.executemany(
            "INSERT INTO order_lines (region, order_no, line_no, sku) VALUES (%s, %s, %s, %s)",
            [("US", 0, n, f"sku-{n}") for n in range(LINES)],
        )
        cursor.execute("ANALYZE TABLE customers, orders, order_lines, payments, tmp_scratch")
        cursor.fetchall()
    conn.close()
    return mysql_database


def test_scan_records_tables_columns_keys_and_indexes(shop: str) -> None:
    catalog = MySQLDatabase().scan("shop", source(shop))

    assert catalog.source == "shop"
    assert catalog.source_type == "mysql"
    assert catalog.server_version and catalog.server_version[0].isdigit()
    assert catalog.schemas == [shop]
    assert [t.name for t in catalog.tables] == [
        "big_orders",
        "customers",
        "order_lines",
        "orders",
        "payments",
        "tmp_scratch",
    ]

    customers = catalog.table(f"{shop}.customers")
    assert customers is not None
    assert customers.kind == "table"
    assert customers.comment == "People who buy"
    assert customers.columns == (
        Column("id", "int(11)", nullable=False, identity="auto_increment"),
        Column("email", "varchar(120)", nullable=False, comment="login and contact"),
        Column("name", "varchar(50)", nullable=True),
        Column("status", "enum('active','blocked')", nullable=False, default="'active'"),
        Column("credit", "decimal(10,2)", nullable=False, default="0.00"),
        Column("created_at", "datetime", nullable=False, default="current_timestamp()"),
    )
    assert customers.primary_key == ("id",)
    assert customers.unique_constraints == (UniqueConstraint("uq_customers_email", ("email",)),)
    assert customers.foreign_keys == ()
    assert customers.indexes == ()  # the unique constraint is reported once, as a constraint

    orders = catalog.table(f"{shop}.orders")
    assert orders is not None
    assert orders.comment is None
    assert [(c.name, c.data_type, c.nullable) for c in orders.columns] == [
        ("region", "char(2)", False),
        ("order_no", "int(11)", False),
        ("customer_id", "int(11)", False),
        ("total", "decimal(12,2)", False),
        ("meta", "longtext", True),  # MariaDB's JSON is longtext with a json_valid() check
        ("placed_at", "datetime", False),
    ]
    assert orders.primary_key == ("region", "order_no")
    assert orders.foreign_keys == (
        ForeignKey("fk_orders_customer", ("customer_id",), shop, "customers", ("id",), "RESTRICT", "RESTRICT"),
    )
    assert orders.unique_constraints == ()  # the json_valid CHECK constraint is not a key
    assert orders.indexes == (
        Index("ix_orders_customer_placed", ("customer_id", "placed_at"), unique=False, method="btree"),
    )

    lines = catalog.table(f"{shop}.order_lines")
    assert lines is not None
    assert lines.primary_key == ("region", "order_no", "line_no")
    assert lines.foreign_keys == (
        ForeignKey(
            "fk_lines_order", ("region", "order_no"), shop, "orders", ("region", "order_no"), "RESTRICT", "RESTRICT"
        ),
    )
    assert lines.unique_constraints == (UniqueConstraint("uq_lines_sku", ("region", "order_no", "sku")),)
    assert lines.column("quantity") == Column("quantity", "int(11)", nullable=False, default="1")

    payments = catalog.table(f"{shop}.payments")
    assert payments is not None
    assert payments.foreign_keys == (
        ForeignKey("fk_payments_customer", ("customer_id",), shop, "customers", ("id",), "SET NULL", "RESTRICT"),
    )
    # No index covered customer_id, so the server created one named after the foreign key.
    assert payments.indexes == (Index("fk_payments_customer", ("customer_id",), unique=False, method="btree"),)

    view = catalog.table(f"{shop}.big_orders")
    assert view is not None
    assert view.kind == "view"
    assert [c.name for c in view.columns] == ["region", "order_no", "total"]
    assert (view.primary_key, view.foreign_keys, view.indexes, view.comment) == ((), (), (), None)

    scratch = catalog.table(f"{shop}.tmp_scratch")
    assert scratch is not None
    assert scratch.columns == (Column("x", "int(11)", nullable=True),)
    assert scratch.primary_key == ()


def test_row_counts_are_estimates_unless_exact_counts_are_asked_for(shop: str) -> None:
    estimated = MySQLDatabase().scan("shop", source(shop))
    exact = MySQLDatabase().scan("shop", source(shop), exact_row_counts=True)

    for name, actual in (("customers", CUSTOMERS), ("orders", ORDERS), ("order_lines", LINES)):
        estimate = estimated.table(f"{shop}.{name}")
        counted = exact.table(f"{shop}.{name}")
        assert estimate is not None and counted is not None
        assert estimate.row_count_exact is False
        assert estimate.row_count is not None and 0.5 * actual <= estimate.row_count <= 1.5 * actual
        assert (counted.row_count, counted.row_count_exact) == (actual, True)
    for catalog in (estimated, exact):
        view = catalog.table(f"{shop}.big_orders")
        assert view is not None
        assert (view.row_count, view.row_count_exact) == (None, False)
    empty = exact.table(f"{shop}.tmp_scratch")
    assert empty is not None
    assert (empty.row_count, empty.row_count_exact) == (0, True)


def test_include_then_exclude_filters_tables(shop: str) -> None:
    config = source(shop, include=PatternSet(tables=["^order"]), exclude=PatternSet(tables=["^order_lines$"]))
    catalog = MySQLDatabase().scan("shop", config, exact_row_counts=True)

    assert [t.name for t in catalog.tables] == ["orders"]
    orders = catalog.tables[0]
    # Keys pointing at filtered-out tables are still recorded as they are.
    assert orders.foreign_keys[0].target_table == "customers"
    assert orders.row_count == ORDERS


def test_schema_filter_applies_to_the_database_name(shop: str) -> None:
    database = MySQLDatabase()
    assert database.scan("shop", source(shop, exclude=PatternSet(schemas=[f"^{shop}$"]))).tables == ()
    assert database.scan("shop", source(shop, include=PatternSet(schemas=["^elsewhere$"]))).tables == ()
    kept = database.scan("shop", source(shop, include=PatternSet(schemas=["^ops_test_"])))
    assert len(kept.tables) == 6


def test_five_hundred_tables_with_keys_and_indexes(mysql_database: str) -> None:
    statements = ["CREATE TABLE parent (id INT PRIMARY KEY)"] + [
        f"""CREATE TABLE t{i:03d} (
                id INT PRIMARY KEY, parent_id INT NOT NULL, code VARCHAR(20) NOT NULL, note TEXT,
                UNIQUE KEY uq_code (code), KEY ix_parent_code (parent_id, code),
                CONSTRAINT fk_t{i:03d}_parent FOREIGN KEY (parent_id) REFERENCES parent (id))"""
        for i in range(500)
    ]
    run(mysql_database, *statements)

    catalog = MySQLDatabase().scan("many", source(mysql_database))

    assert len(catalog.tables) == 501
    assert catalog.column_count == 1 + 500 * 4
    last = catalog.table(f"{mysql_database}.t499")
    assert last is not None
    assert last.foreign_keys == (
        ForeignKey("fk_t499_parent", ("parent_id",), mysql_database, "parent", ("id",), "RESTRICT", "RESTRICT"),
    )
    assert last.indexes == (Index("ix_parent_code", ("parent_id", "code"), method="btree"),)


def test_connection_reports_version_latency_and_target(mysql_database: str) -> None:
    report = MySQLDatabase().test_connection("shop", source(mysql_database))

    assert report.source == "shop"
    assert report.source_type == "mysql"
    assert report.server_version[0].isdigit()
    assert report.latency_ms > 0
    assert report.target == f"{MYSQL_HOST}:{MYSQL_PORT}/{mysql_database}"


def test_closed_port_is_unreachable(mysql_database: str, closed_port: int) -> None:
    with pytest.raises(SourceError) as caught:
        MySQLDatabase().test_connection("shop", source(mysql_database, host="127.0.0.1", port=closed_port))

    assert caught.value.kind == "unreachable"
    assert f"127.0.0.1:{closed_port}" in str(caught.value)


def test_unknown_database(mysql_database: str) -> None:
    with pytest.raises(SourceError) as caught:
        MySQLDatabase().scan("shop", source(f"{mysql_database}_missing"))

    assert caught.value.kind == "unknown_database"
    assert f"{mysql_database}_missing" in caught.value.detail


def test_a_server_that_never_answers_times_out(silent_server: int) -> None:
    config = source("anything", host="127.0.0.1", port=silent_server, connect_timeout_s=1)
    started = time.perf_counter()
    with pytest.raises(SourceError) as caught:
        MySQLDatabase().test_connection("hung", config)

    assert caught.value.kind == "timeout"
    assert time.perf_counter() - started < 5
    assert f"127.0.0.1:{silent_server}" in caught.value.detail


def test_required_tls_fails_against_a_server_without_it(mysql_database: str) -> None:
    with pytest.raises(SourceError) as caught:
        MySQLDatabase().test_connection("shop", source(mysql_database, ssl={"mode": "require"}))

    assert caught.value.kind == "error"
    assert "SSL" in caught.value.detail


@pytest.fixture
def scoped_user(mysql_database: str) -> Iterator[str]:
    """A user with password 'right' that may use only the test database, for every host MariaDB matches."""
    user = f"ops_t_{uuid.uuid4().hex[:10]}"
    hosts = ("%", "localhost", "127.0.0.1")
    run(None, *(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY 'right'" for host in hosts))
    run(None, *(f"GRANT ALL ON `{mysql_database}`.* TO '{user}'@'{host}'" for host in hosts))
    try:
        yield user
    finally:
        run(None, *(f"DROP USER IF EXISTS '{user}'@'{host}'" for host in hosts))


def test_wrong_password_fails_auth_without_revealing_it(
    mysql_database: str, scoped_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_T_MYSQL_PASSWORD", "not-the-password")
    config = source(mysql_database, user=scoped_user, password="env:OPS_T_MYSQL_PASSWORD")

    with pytest.raises(SourceError) as caught:
        MySQLDatabase().test_connection("shop", config)

    assert caught.value.kind == "auth_failed"
    assert scoped_user in caught.value.detail
    assert "not-the-password" not in str(caught.value)

    monkeypatch.setenv("OPS_T_MYSQL_PASSWORD", "right")
    assert MySQLDatabase().test_connection("shop", config).server_version[0].isdigit()


def test_a_database_the_user_may_not_use_fails_auth(
    mysql_database: str, scoped_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_T_MYSQL_PASSWORD", "right")
    config = source("mysql", user=scoped_user, password="env:OPS_T_MYSQL_PASSWORD")

    with pytest.raises(SourceError) as caught:
        MySQLDatabase().test_connection("shop", config)

    assert caught.value.kind == "auth_failed"
    assert "mysql" in caught.value.detail


def test_an_unset_password_variable_fails_auth_naming_the_reference(
    mysql_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_T_MYSQL_UNSET", raising=False)
    config = source(mysql_database, password="env:OPS_T_MYSQL_UNSET")

    with pytest.raises(SourceError) as caught:
        MySQLDatabase().test_connection("shop", config)

    assert caught.value.kind == "auth_failed"
    assert "OPS_T_MYSQL_UNSET" in caught.value.detail


def test_query_that_runs_past_query_timeout_fails_as_timeout(shop: str) -> None:
    blocker = mysql_connect(shop)
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLES orders WRITE")
        with pytest.raises(SourceError) as failure:
            MySQLDatabase().scan("shop", source(shop, query_timeout_s=1), exact_row_counts=True)
    finally:
        blocker.close()
    assert failure.value.kind == "timeout"
    assert "no answer within 1 s" in str(failure.value)


def test_names_and_comments_with_control_characters_are_read_exactly(mysql_database: str) -> None:
    run(mysql_database, "CREATE TABLE odd (id INT PRIMARY KEY COMMENT 'unit\x1fsep', v TEXT COMMENT 'rec\x1esep')")
    odd = MySQLDatabase().scan("odd", source(mysql_database)).table(f"{mysql_database}.odd")
    assert odd is not None
    assert [(c.name, c.comment) for c in odd.columns] == [("id", "unit\x1fsep"), ("v", "rec\x1esep")]


def test_keys_and_indexes_named_with_control_characters_are_read_exactly(mysql_database: str) -> None:
    run(mysql_database, "CREATE TABLE parent (id INT PRIMARY KEY)")
    run(
        mysql_database,
        "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, code INT, KEY `by\x1fcode` (code),"
        " CONSTRAINT `to\x1eparent` FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)",
    )
    child = MySQLDatabase().scan("odd", source(mysql_database)).table(f"{mysql_database}.child")
    assert child is not None
    assert [(i.name, i.columns) for i in child.indexes if i.name != "to\x1eparent"] == [("by\x1fcode", ("code",))]
    [fk] = child.foreign_keys
    assert (fk.name, fk.columns, fk.target_table, fk.on_delete) == ("to\x1eparent", ("parent_id",), "parent", "CASCADE")
