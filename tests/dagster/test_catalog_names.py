"""No scanned table name can stop the code location from loading: names that used to reduce to one asset key
get distinct keys, and a table that still cannot be drawn is left out with a warning on the catalog asset."""

import json
import sqlite3
from pathlib import Path

import dagster as dg

from ops_pipeline.definitions import build_definitions
from ops_pipeline.defs.catalog.state import write_table_state
from ops_pipeline.settings import load_settings
from ops_pipeline.sources.registry import database_for
from tests.dagster.helpers import write_config

TABLES = """
CREATE TABLE "顧客" (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE "注文" (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES "顧客"(id));
CREATE TABLE "order items" (id INTEGER PRIMARY KEY, "order" INTEGER REFERENCES "注文"(id));
CREATE TABLE "order-items" (id INTEGER PRIMARY KEY, item INTEGER REFERENCES "order items"(id));
CREATE TABLE "order_items" (id INTEGER PRIMARY KEY);
CREATE TABLE "100%" (id INTEGER PRIMARY KEY);
"""


def _config(tmp_path: Path) -> Path:
    database = tmp_path / "odd.db"
    with sqlite3.connect(database) as conn:
        conn.executescript(TABLES)
    conn.close()
    return write_config(
        tmp_path / "ops.yaml",
        {"odd": {"type": "sqlite", "path": str(database)}},
        catalog={"state_dir": str(tmp_path / "state")},
    )


def test_hostile_table_names_load_as_distinct_assets(tmp_path) -> None:
    config = _config(tmp_path)
    settings = load_settings(config)
    catalog = database_for("sqlite").scan("odd", settings.sources["odd"])
    write_table_state(tmp_path / "state", catalog)

    graph = build_definitions(config, f"sqlite:///{tmp_path / 'store.db'}").resolve_asset_graph()
    keys = {k for k in graph.get_all_asset_keys() if k.path[0] == "catalog"}
    assert len(keys) == 6
    assert dg.AssetKey(["catalog", "odd", "main", "order_items"]) in keys
    tables = {graph.get(k).metadata["dagster/table_name"] for k in keys}
    assert tables == {"main.顧客", "main.注文", "main.order items", "main.order-items", "main.order_items", "main.100%"}


def test_a_table_that_cannot_be_drawn_is_left_out_with_a_warning(tmp_path) -> None:
    config = _config(tmp_path)
    settings = load_settings(config)
    catalog = database_for("sqlite").scan("odd", settings.sources["odd"])
    path = write_table_state(tmp_path / "state", catalog)
    document = json.loads(path.read_text())
    document["tables"].append(document["tables"][0])  # the same table twice: one asset key, two specs
    path.write_text(json.dumps(document))

    definitions = build_definitions(config, f"sqlite:///{tmp_path / 'store.db'}")
    graph = definitions.resolve_asset_graph()
    assert len([k for k in graph.get_all_asset_keys() if k.path[0] == "catalog"]) == 6
    description = graph.get(dg.AssetKey("schema_catalog")).description or ""
    assert "not drawn" in description and "is taken by another table" in description
