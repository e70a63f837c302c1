"""The `plans:` keys of execution metrics and the SLA monitor: defaults, durations, and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ops_pipeline.settings import ConfigError, PlansSettings, load_settings


def load(tmp_path: Path, plans: dict[str, object]) -> PlansSettings:
    file = tmp_path / "ops.yaml"
    file.write_text(yaml.safe_dump({"plans": plans}))
    return load_settings(file).plans


def test_defaults_and_durations(tmp_path: Path) -> None:
    default = load(tmp_path, {})
    assert (default.metrics_window, default.sla_alert_job, default.sla_monitor_interval_s) == (604800, "sla_alert", 15)
    assert load(tmp_path, {"metrics_window": "1d", "sla_alert_job": "page_oncall"}).metrics_window == 86400


@pytest.mark.parametrize(
    ("plans", "message"),
    [
        ({"metrics_window": "30s"}, r"plans\.metrics_window: .*between 1m and 366d"),
        ({"sla_alert_job": ""}, r"plans\.sla_alert_job: .*at least 1 character"),
        ({"sla_monitor_interval_s": 1}, r"plans\.sla_monitor_interval_s: .*greater than or equal to 5"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, plans: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, plans)
