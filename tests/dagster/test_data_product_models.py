import json
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.store.data_products import latest_model
from ops_pipeline.store.engine import open_store
from tests.dagster.helpers import asset_of, pg_source, resources, scan, write_config

MODELS = {
    "package": "model::desk",
    "models": [
        {
            "source": "wh",
            "table": "public.positions",
            "sample_rows": 100,
            "constraints": [{"name": "qtyPositive", "field": "quantity"}, {"name": "validTicker", "field": "ticker"}],
        }
    ],
}


def generate_models(config, store_url: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [asset_of(config, store_url, "data_product_models")], instance=instance, resources=resources(config, store_url)
    )


def test_models_are_generated_versioned_and_diffed_when_the_schema_changes(tmp_path, pg_engine, pg_database) -> None:
    with pg_engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE positions (id bigint PRIMARY KEY, ticker varchar(12) NOT NULL, "
                "quantity integer NOT NULL, price numeric(12,4), opened_at timestamptz NOT NULL)"
            )
        )
        conn.execute(sa.text("INSERT INTO positions SELECT g, 'ABC', g, g * 1.5, now() FROM generate_series(1, 300) g"))
    config = write_config(
        tmp_path / "ops.yaml",
        {"wh": pg_source(pg_database)},
        data_products={**MODELS, "output_dir": str(tmp_path / "models")},
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        assert scan(instance, "wh", config, store_url).success
        first = dg.materialize(
            [asset_of(config, store_url, "data_product_models")],
            instance=instance,
            resources=resources(config, store_url),
        )
        again = dg.materialize(
            [asset_of(config, store_url, "data_product_models")],
            instance=instance,
            resources=resources(config, store_url),
        )
        with pg_engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE positions ADD COLUMN venue text, ALTER COLUMN price TYPE numeric(16,4)"))
        assert scan(instance, "wh", config, store_url).success
        changed = dg.materialize(
            [asset_of(config, store_url, "data_product_models")],
            instance=instance,
            resources=resources(config, store_url),
        )

    summary = first.asset_materializations_for_node("data_product_models")[0].metadata["summary"].value
    assert "| public.positions | model::desk::Positions | 1 |" in summary.replace("wh.", "")
    assert again.asset_materializations_for_node("data_product_models")[0].metadata["changed"].value == 0
    stored = latest_model(open_store(store_url), "wh", "public.positions")
    assert stored is not None and stored.version == 2
    assert "+ property venue: String[0..1]" in stored.diff
    assert "~ property price: Decimal(12,4) -> Decimal(16,4)" in stored.diff
    changed_meta = changed.asset_materializations_for_node("data_product_models")[0].metadata
    assert "venue" in changed_meta["summary"].value
    profile = changed_meta["wh.public.positions profile"].value
    assert "300 rows" in profile and "| ticker | character varying(12) | 0.0% | 1 |" in profile

    schema = json.loads(Path(tmp_path / "models" / "wh" / "public.positions.schema.json").read_text())
    assert schema["properties"]["ticker"]["maxLength"] == 12 and "venue" in schema["properties"]
    assert {c["name"] for c in schema["x-constraints"]} >= {"qtyPositive", "validTicker"}
    pure = Path(tmp_path / "models" / "wh" / "public.positions.pure").read_text()
    assert "Class model::desk::Positions" in pure and "qtyPositive: $this.quantity > 0" in pure
    assert stored.pure == pure


def test_a_table_missing_from_the_catalog_fails_clearly(tmp_path, pg_database) -> None:
    config = write_config(
        tmp_path / "ops.yaml",
        {"wh": pg_source(pg_database)},
        data_products={**MODELS, "output_dir": str(tmp_path / "models")},
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [asset_of(config, store_url, "data_product_models")],
            instance=instance,
            resources=resources(config, store_url),
            raise_on_error=False,
        )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "source 'wh' has no completed catalog scan" in failure.step_failure_data.error.message
