import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ops_pipeline.definitions import build_definitions
from ops_pipeline.settings import ConfigError
from tests.conftest import REPO_ROOT
from tests.dagster.helpers import pg_source, scan, write_config


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_warehouse", REPO_ROOT / "examples/demo/generate_warehouse.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_config_builds_every_piece(tmp_path) -> None:
    defs = build_definitions(REPO_ROOT / "ops.yaml", f"sqlite:///{tmp_path / 'store.db'}")
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    assert {"check_source_connection", "simulate_resolver", "catalog_scan"} <= set(repo.job_names)
    assert repo.get_sensor_def("source_partitions_sync").default_status == dg.DefaultSensorStatus.RUNNING
    assert repo.get_schedule_def("catalog_rescan").default_status == dg.DefaultScheduleStatus.RUNNING
    assert defs.resolve_asset_graph().get(dg.AssetKey("schema_catalog")).partitions_def is not None


def test_scanned_tables_become_assets_with_foreign_keys_as_dependencies(tmp_path, pg_engine, pg_database) -> None:
    with pg_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE parent (id int PRIMARY KEY)"))
        conn.execute(
            sa.text(
                "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id), "
                "self_id int REFERENCES child(id))"
            )
        )
        conn.execute(sa.text("CREATE TABLE a (id int PRIMARY KEY, b_id int)"))
        conn.execute(sa.text("CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a(id))"))
        conn.execute(sa.text("ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b(id)"))  # a cycle
    state = tmp_path / "catalog_state"
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database)}, catalog={"state_dir": str(state)})
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        assert scan(instance, "wh", config, store_url).success

    graph = build_definitions(config, store_url).resolve_asset_graph()
    child = graph.get(dg.AssetKey(["catalog", "wh", "public", "child"]))
    assert child.parent_keys == {dg.AssetKey(["catalog", "wh", "public", "parent"])}
    schema = child.metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns] == ["id", "parent_id", "self_id"]
    a_parents = graph.get(dg.AssetKey(["catalog", "wh", "public", "a"])).parent_keys
    b_parents = graph.get(dg.AssetKey(["catalog", "wh", "public", "b"])).parent_keys
    assert len(a_parents) + len(b_parents) == 1  # one edge of the a <-> b cycle is kept, the other dropped


def run_validate(tmp_path: Path, config: Path, keep_database_url: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPS_CONFIG": str(config), "DAGSTER_HOME": str(tmp_path)}
    if not keep_database_url:
        env.pop("OPS_DATABASE_URL", None)
    dagster = Path(sys.executable).parent / "dagster"
    return subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_dagster_definitions_validate_passes_on_the_demo(tmp_path) -> None:
    result = run_validate(tmp_path, REPO_ROOT / "ops.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "ops_store.db").exists()  # loading the code location never opens the ops store


def test_the_code_location_loads_with_the_ops_store_unreachable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPS_DATABASE_URL", "postgresql+psycopg2://ops@127.0.0.1:1/nowhere")
    result = run_validate(tmp_path, REPO_ROOT / "ops.yaml", keep_database_url=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_assets_come_only_from_configured_sources_and_survive_a_bad_state_file(tmp_path) -> None:
    state = tmp_path / "catalog_state"
    config = write_config(
        tmp_path / "ops.yaml",
        {"demo": {"type": "sqlite", "path": str(REPO_ROOT / "examples/demo/warehouse.db")}},
        catalog={"state_dir": str(state)},
    )
    state.mkdir()
    table = {
        "schema": "main",
        "name": "t",
        "kind": "table",
        "comment": None,
        "columns": [["id", "int", False, None, None]],
        "primary_key": ["id"],
        "foreign_keys": [],
        "unique_constraints": [],
        "indexes": [],
        "entity_name": "t",
    }
    document = {"version": 1, "source_type": "sqlite", "tables": [table]}
    (state / "demo.json").write_text(json.dumps({**document, "source": "demo"}))
    (state / "gone.json").write_text(json.dumps({**document, "source": "gone"}))  # no longer in ops.yaml
    keys = build_definitions(config, f"sqlite:///{tmp_path / 'store.db'}").resolve_asset_graph().get_all_asset_keys()
    assert dg.AssetKey(["catalog", "demo", "main", "t"]) in keys
    assert not any(k.path[:2] == ["catalog", "gone"] for k in keys)

    (state / "demo.json").write_text("{ not json")
    keys = build_definitions(config, f"sqlite:///{tmp_path / 'store.db'}").resolve_asset_graph().get_all_asset_keys()
    assert dg.AssetKey("schema_catalog") in keys and not any(k.path[0] == "catalog" for k in keys)


def test_broken_config_stops_the_code_location_with_a_readable_error(tmp_path) -> None:
    bad = tmp_path / "ops.yaml"
    bad.write_text("sources:\n  wh: {type: postgresql, database: x, port: nope}\n")
    result = run_validate(tmp_path, bad)
    assert result.returncode != 0
    assert f"{bad}: sources.wh.port: Input should be a valid integer" in result.stdout + result.stderr


def test_invalid_rescan_cron_names_file_and_key(tmp_path) -> None:
    config = write_config(tmp_path / "ops.yaml", {}, catalog={"rescan_cron": "every hour"})
    with pytest.raises(ConfigError, match=r"ops.yaml: catalog.rescan_cron: 'every hour' is not a valid cron"):
        build_definitions(config, f"sqlite:///{tmp_path / 'store.db'}")
