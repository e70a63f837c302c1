import sqlite3
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ops_pipeline.store import catalog as catalog_store
from ops_pipeline.store.engine import open_store
from tests.dagster.helpers import SNAKE_CASE_RESOLVER, pg_source, scan, write_config

DRIFT = dg.AssetCheckKey(dg.AssetKey("schema_catalog"), "schema_drift")


@pytest.fixture
def warehouse(pg_engine: sa.Engine) -> sa.Engine:
    with pg_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id int PRIMARY KEY, email varchar(80) NOT NULL, nick text)"))
        conn.execute(
            sa.text('CREATE TABLE "InvoiceLine" (id int PRIMARY KEY, customer_id int REFERENCES customers(id))')
        )
        conn.execute(sa.text("INSERT INTO customers SELECT g, 'c' || g, NULL FROM generate_series(1, 25) g"))
        conn.execute(sa.text("ANALYZE"))
    return pg_engine


@pytest.fixture
def store_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ops_store.db'}"


def check_result(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.asset_check_key == DRIFT
    return evaluation


def test_scan_materializes_catalog_and_every_table(tmp_path, pg_database, warehouse, store_file) -> None:
    config = write_config(
        tmp_path / "ops.yaml",
        {"wh": pg_source(pg_database)},
        resolvers=[SNAKE_CASE_RESOLVER],
        catalog={"default_resolver": "canonical"},
    )
    with dg.instance_for_test() as instance:
        result = scan(instance, "wh", config, store_file)
        assert result.success

        catalog_event = instance.get_latest_materialization_event(dg.AssetKey("schema_catalog"))
        assert catalog_event is not None and catalog_event.asset_materialization is not None
        metadata = catalog_event.asset_materialization.metadata
        assert metadata["tables"].value == 2 and metadata["columns"].value == 5
        assert metadata["catalog_version"].value == "0.1"
        assert "customers" in metadata["summary"].value  # type: ignore[operator]

        table_event = instance.get_latest_materialization_event(dg.AssetKey(["catalog", "wh", "public", "InvoiceLine"]))
        assert table_event is not None and table_event.asset_materialization is not None
        table_metadata = table_event.asset_materialization.metadata
        schema = table_metadata["dagster/column_schema"].value
        assert [(c.name, c.type) for c in schema.columns] == [("id", "integer"), ("customer_id", "integer")]
        assert table_metadata["entity"].value == "invoice_line"
        customers = instance.get_latest_materialization_event(dg.AssetKey(["catalog", "wh", "public", "customers"]))
        assert customers.asset_materialization.metadata["dagster/row_count"].value == 25

    evaluation = check_result(result)
    assert evaluation.passed


def test_drift_check_warns_on_compatible_and_errors_on_breaking(tmp_path, pg_database, warehouse, store_file) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database)})
    with dg.instance_for_test() as instance:
        assert scan(instance, "wh", config, store_file).success

        with warehouse.begin() as conn:
            conn.execute(sa.text("ALTER TABLE customers ADD COLUMN city text"))
        compatible = check_result(scan(instance, "wh", config, store_file))
        assert not compatible.passed and compatible.severity == dg.AssetCheckSeverity.WARN
        assert compatible.metadata["catalog_version"].value == "0.2"
        assert "public.customers.city" in compatible.metadata["changes"].value

        with warehouse.begin() as conn:
            conn.execute(sa.text("ALTER TABLE customers DROP COLUMN nick"))
        breaking = check_result(scan(instance, "wh", config, store_file))
        assert not breaking.passed and breaking.severity == dg.AssetCheckSeverity.ERROR
        assert breaking.metadata["breaking_changes"].value == 1
        assert breaking.metadata["catalog_version"].value == "1.2"


def test_failed_scan_fails_the_run_and_keeps_the_last_good_snapshot(
    tmp_path, pg_database, warehouse, store_file, closed_port
) -> None:
    good_config = write_config(tmp_path / "good.yaml", {"wh": pg_source(pg_database)})
    with dg.instance_for_test() as instance:
        assert scan(instance, "wh", good_config, store_file).success
        engine = open_store(store_file)
        good = catalog_store.latest_completed(engine, "wh")

        for broken in (
            pg_source(pg_database, port=closed_port),
            pg_source(pg_database + "_gone"),
            pg_source(pg_database, user="no_such_role_ops"),
        ):
            bad_config = write_config(tmp_path / "bad.yaml", {"wh": broken})
            result = scan(instance, "wh", bad_config, store_file)
            assert not result.success
            [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
            assert "source 'wh'" in failure.step_failure_data.error.message  # type: ignore[union-attr]

        history = catalog_store.list_snapshots(engine, "wh")
        assert [s.status for s in history] == ["failed", "failed", "failed", "completed"]
        assert "unreachable" in (history[2].error or "") and "unknown database" in (history[1].error or "")
        assert "auth failed" in (history[0].error or "")
        assert catalog_store.latest_completed(engine, "wh") == good


def test_exact_row_counts_on_request(tmp_path, pg_database, warehouse, store_file) -> None:
    with warehouse.begin() as conn:
        conn.execute(sa.text("INSERT INTO customers SELECT g, 'x', NULL FROM generate_series(100, 109) g"))
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database)})
    run_config = {"ops": {"schema_catalog": {"config": {"exact_row_counts": True}}}}
    with dg.instance_for_test() as instance:
        assert scan(instance, "wh", config, store_file, run_config).success
        event = instance.get_latest_materialization_event(dg.AssetKey(["catalog", "wh", "public", "customers"]))
        assert event.asset_materialization.metadata["dagster/row_count"].value == 35
        assert event.asset_materialization.metadata["row_count_exact"].value is True


def test_one_entity_across_sources_whatever_the_naming_style(tmp_path, pg_database, warehouse, store_file) -> None:
    lake = tmp_path / "lake.db"
    with sqlite3.connect(lake) as conn:
        conn.execute("CREATE TABLE invoice_line (id INTEGER PRIMARY KEY)")
    conn.close()
    config = write_config(
        tmp_path / "ops.yaml",
        {"wh": pg_source(pg_database), "lake": {"type": "sqlite", "path": str(lake)}},
        resolvers=[SNAKE_CASE_RESOLVER],
        catalog={"default_resolver": "canonical"},
    )
    with dg.instance_for_test() as instance:
        assert scan(instance, "wh", config, store_file).success
        assert scan(instance, "lake", config, store_file).success
    engine = open_store(store_file)
    entities = {
        (source, t.name): t.entity_name
        for source in ("wh", "lake")
        for t in catalog_store.load_catalog(engine, catalog_store.latest_completed(engine, source)).tables
    }
    assert entities[("wh", "InvoiceLine")] == entities[("lake", "invoice_line")] == "invoice_line"


def test_unknown_row_estimates_are_reported_unknown_not_zero(tmp_path, pg_database, pg_engine, store_file) -> None:
    with pg_engine.begin() as conn:  # never analysed: PostgreSQL has no estimate for it
        conn.execute(sa.text("CREATE TABLE events (id int PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO events SELECT generate_series(1, 40)"))
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database)})
    with dg.instance_for_test() as instance:
        assert scan(instance, "wh", config, store_file).success
        event = instance.get_latest_materialization_event(dg.AssetKey("schema_catalog"))
        metadata = event.asset_materialization.metadata
    assert "dagster/row_count" not in metadata
    assert metadata["row_counts"].value == "unknown for 1 of 1 relations"
