"""A `%` in a column name (or `%s`, or `%(x)s`) never reaches a driver's format string: backfills from
PostgreSQL and MariaDB load and reconcile such tables."""

import dagster as dg

from tests.backfill.conftest import backfill_config, materialize, pg, run_sql
from tests.conftest import MYSQL_HOST, MYSQL_PORT, MYSQL_USER, mysql_connect

ROWS = [(i, f"2024-03-0{1 + i % 2} {i % 24:02d}:00:00", i * 3, f"v{i}") for i in range(200)]


def _check(result: dg.ExecuteInProcessResult, destination: str) -> None:
    assert result.success, [e.message for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert run_sql(destination, 'SELECT count(*), sum("pct%"), count("100%s") FROM odd_copy') == [(200, 59700, 200)]


def _no_rules(**spec: object) -> dict[str, object]:
    return {
        "table": "odd",
        "time_column": "at%(x)s",
        "destination_table": "odd_copy",
        "validation": {"rules": []},
        **spec,
    }


def test_percent_in_postgresql_column_names(tmp_path, trades_source, destination) -> None:
    run_sql(
        trades_source,
        'CREATE TABLE odd (id integer PRIMARY KEY, "at%(x)s" timestamptz, "pct%" integer, "100%s" text)',
    )
    run_sql(
        trades_source,
        "INSERT INTO odd VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(ROWS)),
        tuple(v for row in ROWS for v in row),
    )
    config = backfill_config(tmp_path, pg(trades_source), pg(destination), **_no_rules())
    with dg.instance_for_test() as instance:
        _check(
            materialize(config, f"sqlite:///{tmp_path / 'store.db'}", instance, "2024-03-01", "2024-03-02"), destination
        )


def test_percent_in_mariadb_column_names(tmp_path, mysql_database, destination) -> None:
    conn = mysql_connect(mysql_database)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE odd (id INT PRIMARY KEY, `at%(x)s` DATETIME, `pct%` INT, `100%s` VARCHAR(10))")
        cursor.executemany("INSERT INTO odd VALUES (%s, %s, %s, %s)", ROWS)
    conn.commit()
    conn.close()
    source = {"type": "mysql", "host": MYSQL_HOST, "port": MYSQL_PORT, "user": MYSQL_USER, "database": mysql_database}
    config = backfill_config(tmp_path, source, pg(destination), **_no_rules())
    with dg.instance_for_test() as instance:
        _check(
            materialize(config, f"sqlite:///{tmp_path / 'store.db'}", instance, "2024-03-01", "2024-03-02"), destination
        )
