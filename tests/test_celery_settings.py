"""`plans.executor: celery` and `plans.celery` in ops.yaml: defaults, located errors, and what plan jobs get."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster_celery import celery_executor

from ops_pipeline.definitions import build_definitions
from ops_pipeline.settings import ConfigError, load_settings, parse_settings
from ops_pipeline.settings.celery import DEFAULT_BROKER


def plans(section: dict[str, Any]) -> Any:
    return parse_settings({"plans": section}, "ops.yaml").plans


def test_the_defaults_reach_the_rabbitmq_on_this_machine_through_the_dagster_queue() -> None:
    celery = plans({"executor": "celery"}).celery
    assert (celery.broker, celery.backend, celery.queue) == (DEFAULT_BROKER, "rpc://", "dagster")
    assert celery.executor_config() == {"broker": DEFAULT_BROKER, "backend": "rpc://"}


def test_an_env_reference_becomes_dagsters_env_source() -> None:
    celery = plans({"celery": {"broker": "env:OPS_BROKER_URL", "backend": "redis://127.0.0.1:6379/3"}}).celery
    assert celery.executor_config() == {"broker": {"env": "OPS_BROKER_URL"}, "backend": "redis://127.0.0.1:6379/3"}


@pytest.mark.parametrize(
    ("celery", "problem"),
    [
        (
            {"broker": "pyamqp://ops:hunter2@mq.internal:5672//"},
            "plans.celery.broker: holds a password; write the URL as env:NAME and set NAME to it",
        ),
        ({"broker": "http://mq.internal/"}, "plans.celery.broker: scheme 'http' is not one of amqp, amqps, pyamqp"),
        ({"broker": "mq.internal:5672"}, "plans.celery.broker: 'mq.internal:5672' is not a URL"),
        ({"broker": "file:/etc/broker"}, "plans.celery.broker: only env:NAME references here"),
        ({"backend": "amqp://"}, "plans.celery.backend: scheme 'amqp' is not one of rpc, redis"),
        ({"queue": "plans queue"}, "plans.celery.queue: a queue name is 1-64 letters, digits"),
        ({"concurrency": 4}, "plans.celery.concurrency: Extra inputs are not permitted"),
    ],
)
def test_a_bad_celery_section_names_the_key_and_the_reason(
    tmp_path: Path, celery: dict[str, Any], problem: str
) -> None:
    config = tmp_path / "ops.yaml"
    config.write_text(yaml.safe_dump({"plans": {"executor": "celery", "celery": celery}}))
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert f"{config}: {problem}" in str(error.value)
    assert "hunter2" not in str(error.value)


def test_an_unknown_executor_lists_the_three(tmp_path: Path) -> None:
    config = tmp_path / "ops.yaml"
    config.write_text(yaml.safe_dump({"plans": {"executor": "k8s"}}))
    with pytest.raises(ConfigError, match=r"plans\.executor: Input should be 'in_process', 'multiprocess' or 'celery'"):
        load_settings(config)


def test_plan_jobs_get_the_configured_celery_executor_and_send_every_step_to_the_queue(tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    plan = {
        "name": "probe",
        "environment": "dev",
        "action_class": "read",
        "sla_class": "fast",
        "targets": ["here"],
        "steps": [{"id": "ping", "type": "command", "target": "here", "argv": ["true"]}],
    }
    (folder / "probe.yaml").write_text(yaml.safe_dump(plan))
    config = tmp_path / "ops.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "services": {"targets": {"here": {"hostname": "localhost", "connection": "local"}}},
                "plans": {"folders": [str(folder)], "executor": "celery", "celery": {"queue": "ops_plans"}},
            }
        )
    )
    job = build_definitions(config, f"sqlite:///{tmp_path / 'store.db'}").get_job_def("probe")
    assert job.executor_def.name == celery_executor.name
    assert {node.name: node.tags["dagster-celery/queue"] for node in job.graph.nodes} == {
        "preflight": "ops_plans",
        "ping": "ops_plans",
    }
    assert job.tags["dagster-celery/run_priority"] == "4"
