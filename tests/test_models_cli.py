import dagster as dg

from ops_pipeline.cli import main
from ops_pipeline.definitions import build_definitions
from ops_pipeline.settings import load_settings
from ops_pipeline.store.engine import open_store
from tests.backfill.test_backfill_paths import demo_config
from tests.dagster.helpers import scan_configured


def test_analyze_and_show_a_generated_model(tmp_path, monkeypatch, capsys) -> None:
    config = demo_config(tmp_path)
    text = config.read_text() + (
        "data_products:\n  package: model::shop\n  output_dir: models\n  models:\n"
        "    - {source: demo, table: main.order_items, constraints: [{name: qtyPositive, field: quantity}]}\n"
    )
    config.write_text(text)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("OPS_DATABASE_URL", store_url)
    scan_configured(open_store(store_url), load_settings(config), "demo")

    assert main(["--config", str(config), "models", "analyze", "demo", "main.order_items", "--exact-count"]) == 0
    out = capsys.readouterr().out
    assert "rows (exact); pk (order_item_id)" in out and "quantity\tINTEGER\tnulls=0.0%" in out

    assert main(["--config", str(config), "models", "show", "demo", "main.order_items"]) == 2
    assert "no model generated yet" in capsys.readouterr().err
    definitions = build_definitions(config, store_url)
    data_product_models = definitions.get_assets_def("data_product_models")
    with dg.instance_for_test() as instance:
        assert dg.materialize([data_product_models], instance=instance, resources=definitions.resources).success
    assert main(["--config", str(config), "models", "show", "demo", "main.order_items"]) == 0
    assert "qtyPositive: $this.quantity > 0" in capsys.readouterr().out
    assert main(["--config", str(config), "models", "show", "demo", "main.order_items", "--format", "json-schema"]) == 0
    assert '"x-constraints"' in capsys.readouterr().out
    assert (tmp_path / "models" / "demo" / "main.order_items.pure").exists()


def test_plan_ingestion_job_reports_windows_and_suggestion(tmp_path) -> None:
    config = demo_config(tmp_path)
    definitions = build_definitions(config, f"sqlite:///{tmp_path / 'store.db'}")
    result = definitions.get_job_def("plan_ingestion").execute_in_process(
        resources=definitions.resources,
        run_config={
            "ops": {"plan": {"config": {"pipeline": "orders_daily", "start": "2024-01-01", "end": "2024-02-01"}}}
        },
    )
    [output] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    metadata = output.step_output_data.metadata
    assert metadata["windows"].value == 31 and metadata["total_rows"].value > 100
    assert (
        metadata["throughput"].value == "not measured yet" and "| 2024-01-05 00:00 |" in metadata["distribution"].value
    )
