"""The other source/destination pairs, the plan, the manifest export, and a launch from the dagster CLI."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from ops_pipeline.cli import main
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.manifests import manifests
from tests.backfill.conftest import backfill_config, materialize, pg, run_sql
from tests.conftest import MYSQL_HOST, MYSQL_PORT, MYSQL_USER, REPO_ROOT, mysql_connect
from tests.dagster.test_definitions import load_generator


def test_mariadb_source_to_postgresql_creates_typed_table_and_reconciles(tmp_path, mysql_database, destination):
    conn = mysql_connect(mysql_database)
    with conn.cursor() as cursor:
        cursor.execute("""CREATE TABLE trades (id INT PRIMARY KEY, account BIGINT NOT NULL, amount DECIMAL(12,2),
                          note VARCHAR(40), traded_at DATETIME NOT NULL, settled TINYINT(1) NOT NULL,
                          payload JSON, KEY ix_t (traded_at))""")
        cursor.executemany(
            "INSERT INTO trades VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    i,
                    i % 50,
                    None if i % 9 == 0 else f"{i * 1.25:.2f}",
                    f"n{i}\ttab" if i % 5 == 0 else None,
                    f"2024-03-0{1 + i % 3} {i % 24:02d}:{i % 60:02d}:00",
                    i % 2,
                    json.dumps({"i": i}),
                )
                for i in range(3000)
            ],
        )
        cursor.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY)")
        cursor.executemany("INSERT INTO accounts VALUES (%s)", [(i,) for i in range(50)])
    conn.close()
    source = {"type": "mysql", "host": MYSQL_HOST, "port": MYSQL_PORT, "user": MYSQL_USER, "database": mysql_database}
    config = backfill_config(tmp_path, source, pg(destination), table="trades", destination_table="trades_copy")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        result = materialize(config, store_url, instance, "2024-03-01", "2024-03-03")
    assert result.success, [e.message for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert all(e.passed for e in result.get_asset_check_evaluations())
    types = dict(
        run_sql(
            destination,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'trades_copy'",
        )
    )
    assert types == {
        "id": "integer",
        "account": "bigint",
        "amount": "numeric",
        "note": "character varying",
        "traded_at": "timestamp without time zone",
        "settled": "boolean",
        "payload": "text",
    }
    assert run_sql(destination, "SELECT count(*), count(amount), sum(amount) FROM trades_copy") == run_sql(
        destination, "SELECT 3000, 2666, sum(amount) FROM trades_copy"
    )
    records = manifests(open_store(store_url), "trades")
    assert sum(r.rows_written for r in records) == 3000 and all(r.reconciled for r in records)


def demo_config(tmp_path: Path) -> Path:
    warehouse = load_generator().generate_warehouse(tmp_path / "warehouse.db")
    config = yaml.safe_load((REPO_ROOT / "ops.yaml").read_text())
    config["sources"] = {
        "demo": {**config["sources"]["demo"], "path": str(warehouse)},
        "lake": {**config["sources"]["lake"], "path": str(tmp_path / "lake.db")},
    }
    for section in ("detectors", "metrics", "data_products"):
        config.pop(section, None)
    path = tmp_path / "ops.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_demo_sqlite_backfill_launched_from_the_dagster_cli_with_a_partition_range(tmp_path) -> None:
    config = demo_config(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "OPS_CONFIG": str(config), "DAGSTER_HOME": str(home)}
    env.pop("OPS_DATABASE_URL", None)
    dagster = Path(sys.executable).parent / "dagster"
    launched = subprocess.run(
        [
            str(dagster),
            "asset",
            "materialize",
            "-m",
            "ops_pipeline.definitions",
            "--select",
            "orders_daily",
            "--partition-range",
            "2024-02-01...2024-02-29",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr[-3000:]
    source = (
        sqlite3.connect(tmp_path / "warehouse.db")
        .execute("SELECT count(*) FROM orders WHERE created_at >= '2024-02-01' AND created_at < '2024-03-01'")
        .fetchone()
    )
    copied = sqlite3.connect(tmp_path / "lake.db").execute("SELECT count(*) FROM orders_history").fetchone()
    assert copied == source and source[0] > 100
    records = manifests(open_store(f"sqlite:///{home / 'ops_store.db'}"), "orders_daily")
    assert len(records) == 29 and all(r.reconciled for r in records)


def test_plan_and_manifest_from_the_ops_cli(tmp_path, monkeypatch, capsys) -> None:
    config = demo_config(tmp_path)
    monkeypatch.setenv("OPS_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    assert (
        main(
            [
                "--config",
                str(config),
                "backfill",
                "plan",
                "orders_daily",
                "--start",
                "2024-01-01",
                "--end",
                "2024-01-08",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    counted = (
        sqlite3.connect(tmp_path / "warehouse.db")
        .execute("SELECT count(*) FROM orders WHERE created_at < '2024-01-08'")
        .fetchone()[0]
    )
    assert sum(int(line.split("\t")[1]) for line in lines[:7]) == counted
    assert "7 windows" in lines[-1] and "suggested partitions per run" in lines[-1]

    with dg.instance_for_test() as instance:
        assert materialize(
            config, f"sqlite:///{tmp_path / 'store.db'}", instance, "2024-01-01", "2024-01-07", pipeline="orders_daily"
        ).success
    assert main(["--config", str(config), "backfill", "manifest", "orders_daily", "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert len(exported) == 7 and sum(r["rows_written"] for r in exported) == counted
    assert all(r["source_checksum"] == r["destination_checksum"] and r["reconciled"] for r in exported)
    assert (
        main(
            [
                "--config",
                str(config),
                "backfill",
                "plan",
                "orders_daily",
                "--start",
                "2024-01-01",
                "--end",
                "2024-01-08",
            ]
        )
        == 0
    )
    assert "(measured)" in capsys.readouterr().out


def test_plan_of_an_unknown_pipeline_is_a_clear_error(tmp_path, capsys) -> None:
    config = demo_config(tmp_path)
    assert (
        main(["--config", str(config), "backfill", "plan", "nope", "--start", "2024-01-01", "--end", "2024-01-02"]) == 2
    )
    assert "unknown backfill 'nope' (configured: orders_daily)" in capsys.readouterr().err
