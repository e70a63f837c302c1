import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml

from ops_pipeline.definitions import build_definitions
from ops_pipeline.store import signals as signal_store
from ops_pipeline.store.engine import open_store
from tests.insights.conftest import demo_metrics  # noqa: F401 - fixture

LATENCY = {
    "name": "latency",
    "source": "recorded",
    "query": 'http_request_latency_p95{service=~".+"}',
    "kind": "ewma",
    "alpha": 0.05,
    "threshold": 4,
    "direction": "up",
    "warmup": 60,
    "cooldown": "30m",
    "step": "1m",
    "reactions": [{"job": "diagnose_signal", "severity": "critical"}],
}


@pytest.fixture
def insight_config(tmp_path: Path, demo_metrics) -> tuple[Path, int, str]:  # noqa: F811
    path, end = demo_metrics
    config = tmp_path / "ops.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "metrics": {
                    "recorded": {"path": str(path)},
                    "prometheus": {"url": "http://127.0.0.1:9", "timeout_s": 1},
                },
                "detectors": [LATENCY],
                "insights": {"start_date": "2026-01-01", "artifacts_dir": str(tmp_path / "artifacts"), "charts": 3},
            }
        )
    )
    return config, end, f"sqlite:///{tmp_path / 'store.db'}"


def resources(config: Path, store_url: str) -> dict:
    return dict(build_definitions(config, store_url).resources or {})


def insight_signals_asset(config: Path, store_url: str) -> dg.AssetsDefinition:
    return build_definitions(config, store_url).get_assets_def("insight_signals")


def test_day_partition_records_signals_with_counts_top_table_and_charts(insight_config, monkeypatch) -> None:
    config, end, store_url = insight_config
    monkeypatch.setattr("ops_pipeline.defs.insights.assets.time.time", lambda: float(end))  # the data's now
    asset = insight_signals_asset(config, store_url)
    day = datetime.fromtimestamp(end, UTC).date().isoformat()
    with dg.instance_for_test() as instance:
        for _ in range(2):  # a second run replaces the day
            result = dg.materialize(
                [asset], partition_key=day, instance=instance, resources=resources(config, store_url)
            )
            assert result.success
    metadata = result.asset_materializations_for_node("insight_signals")[0].metadata
    stored = signal_store.signals_on(open_store(store_url), day)
    assert metadata["signals"].value == len(stored) > 0
    assert metadata["critical"].value == sum(s.severity == "critical" for s in stored)
    assert "| http_request_latency_p95 | critical |" in metadata["by_metric_and_severity"].value
    assert 'service="payments"' in metadata["top_signals"].value
    chart = Path(metadata["chart_1"].value)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 5000
    assert embedded_pngs(metadata["charts"].value)[0] == chart.read_bytes()  # the picture itself, for the UI


def embedded_pngs(markdown: str) -> list[bytes]:
    """The PNG images a markdown text embeds as data URIs."""
    return [base64.b64decode(data) for data in re.findall(r"!\[[^\]]*\]\(data:image/png;base64,([^)]+)\)", markdown)]


def test_today_is_materialized_at_start_then_once_a_day(insight_config) -> None:
    config, _, store_url = insight_config
    data = yaml.safe_load(config.read_text())
    data["insights"]["refresh_schedule_running"] = True  # as in the demo: the sensor runs when the schedule does
    config.write_text(yaml.safe_dump(data))
    sensor = build_definitions(config, store_url).resolve_sensor_def("insight_signals_today")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "refresh_insight_signals"
    today = datetime.now(UTC).date().isoformat()
    with dg.instance_for_test() as instance:
        first = sensor(dg.build_sensor_context(instance=instance))
        [request] = first.run_requests
        assert (request.partition_key, first.cursor) == (today, today)
        assert request.tags["dagster/priority"] == "1"
        again = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert not again.run_requests and today in again.skip_reason.skip_message
        next_day = sensor(dg.build_sensor_context(instance=instance, cursor="2026-01-01"))
        assert [r.partition_key for r in next_day.run_requests] == [today]


def test_unreachable_prometheus_fails_the_day_and_writes_nothing(insight_config) -> None:
    config, end, store_url = insight_config
    data = yaml.safe_load(config.read_text())
    data["detectors"].append({**LATENCY, "name": "prom", "source": "prometheus", "query": "up", "reactions": []})
    config.write_text(yaml.safe_dump(data))
    asset = insight_signals_asset(config, store_url)
    day = datetime.fromtimestamp(end, UTC).date().isoformat()
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [asset], partition_key=day, instance=instance, resources=resources(config, store_url), raise_on_error=False
        )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "unreachable" in failure.step_failure_data.error.message
    assert signal_store.signals_on(open_store(store_url), day) == []


def tick(instance, config: Path, store_url: str, cursor: str | None):
    sensor = build_definitions(config, store_url).resolve_sensor_def("anomaly_probe")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources(config, store_url))
    return sensor(context)


def test_probe_reacts_once_per_signal_and_explains_quiet_ticks(insight_config, monkeypatch) -> None:
    config, end, store_url = insight_config
    monkeypatch.setattr("ops_pipeline.defs.insights.sensors.time.time", lambda: float(end))
    with dg.instance_for_test() as instance:
        first = tick(instance, config, store_url, None)
        assert isinstance(first, dg.SensorResult) and first.run_requests
        [request] = [r for r in first.run_requests if "payments" in r.run_key]
        config_of = request.run_config  # the flat launchpad form of diagnose_signal
        assert request.job_name == "diagnose_signal"
        assert request.run_key == f"diagnose_signal:latency|{config_of['series_key']}|{config_of['ts']}"
        assert json.loads(first.cursor) == {"latency": end}

        quiet = tick(instance, config, store_url, first.cursor)
        assert not quiet.run_requests and "0 new points" in quiet.skip_reason.skip_message

        lost_cursor = tick(instance, config, store_url, None)  # reprocessing never re-launches a signal
        assert not lost_cursor.run_requests


def test_diagnosis_job_summarises_and_charts_a_signal(insight_config, monkeypatch) -> None:
    config, end, store_url = insight_config
    monkeypatch.setattr("ops_pipeline.defs.insights.sensors.time.time", lambda: float(end))
    with dg.instance_for_test() as instance:
        first = tick(instance, config, store_url, None)
        request = next(r for r in first.run_requests if "payments" in r.run_key)
        diagnose_signal = build_definitions(config, store_url).get_job_def("diagnose_signal")
        result = diagnose_signal.execute_in_process(
            run_config=request.run_config, instance=instance, resources=resources(config, store_url)
        )
    report = result.output_for_node("diagnose")
    assert report["signals_last_24h"] >= 1 and report["percentile"] == 100.0
    assert "payments" in report["summary"]
    [output] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    chart = Path(output.step_output_data.metadata["chart"].value)
    assert embedded_pngs(output.step_output_data.metadata["chart_image"].value) == [chart.read_bytes()]
    assert chart.read_bytes()[:4] == b"\x89PNG"
