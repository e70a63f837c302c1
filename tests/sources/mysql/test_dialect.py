"""MySQL's dialect as the backfill asks for it: sessions, backquotes, column types, day buckets."""

from datetime import UTC, datetime

from ops_pipeline.sources.mysql import MySQLDatabase
from tests.conftest import mysql_connect
from tests.sources.mysql.test_database import source

MYSQL = MySQLDatabase()


def create_orders(database: str) -> None:
    conn = mysql_connect(database)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE `odd``name` (id INT, total DECIMAL(12,2), at DATETIME(3))")
        cursor.executemany(
            "INSERT INTO `odd``name` VALUES (%s, %s, %s)",
            [(i, i, f"2024-03-0{1 + i * 7 // 24} {i * 7 % 24:02d}:00:00") for i in range(10)],
        )
    conn.close()


def test_a_writable_session_is_a_transaction(mysql_database: str) -> None:
    create_orders(mysql_database)
    table = MYSQL.qualified("odd`name")
    with MYSQL.session("shop", source(mysql_database), writable=True) as session:
        session.execute(f"DELETE FROM {table}")
        assert session.rows(f"SELECT count(*) FROM {table}") == [(0,)]
        session.connection.rollback()
        assert session.rows(f"SELECT count(*) FROM {table}") == [(10,)]


def test_table_columns_and_day_buckets(mysql_database: str) -> None:
    create_orders(mysql_database)
    with MYSQL.session("shop", source(mysql_database)) as session:
        columns = MYSQL.table_columns(session.connection, "odd`name")
        qualified = MYSQL.table_columns(session.connection, f"{mysql_database}.odd`name")
        missing = MYSQL.table_columns(session.connection, "missing")
        sql = MYSQL.window_count_sql(session.qualified("odd`name"), "at", "daily")
        bounds = session.bounds(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC))
        counted = session.rows(sql + " ORDER BY 1", bounds)
    assert columns == qualified == [("id", "int(11)"), ("total", "decimal(12,2)"), ("at", "datetime(3)")]
    assert missing is None
    assert counted == [("2024-03-01 00:00:00", 4), ("2024-03-02 00:00:00", 3), ("2024-03-03 00:00:00", 3)]
