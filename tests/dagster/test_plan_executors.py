"""A plan under each executor `plans.executor` offers leaves the audit trail the in-process executor leaves:
the multiprocess executor (one process per step), and the Celery executor with the RabbitMQ broker on
127.0.0.1:5672, two workers started here, Dagster's storage and the ops store on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from ops_pipeline.cli import main
from ops_pipeline.definitions import build_definitions
from ops_pipeline.settings.celery import DEFAULT_BROKER
from ops_pipeline.store.engine import dispose_all
from tests.conftest import REPO_ROOT, pg_url, require_service
from tests.dagster.celery_workers import celery_workers
from tests.dagster.plan_sites import (
    ACTOR,
    SECRET,
    SECRET_VARIABLE,
    STEP_IDS,
    PlanSite,
    audit_trail,
    execute,
    plan_site,
)

RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672


@pytest.fixture(scope="module")
def in_process_trail(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference: the plan run by the in-process executor."""
    folder = tmp_path_factory.mktemp("in_process")
    site = plan_site(folder / "site", f"sqlite:///{folder / 'store.db'}", {})
    job = build_definitions(site.config, site.store_url).get_job_def("fan_out")
    with pytest.MonkeyPatch.context() as monkeypatch, dg.instance_for_test(temp_dir=str(site.home)) as instance:
        monkeypatch.setenv(SECRET_VARIABLE, SECRET)
        result = job.execute_in_process(instance=instance, tags={"ops/actor": ACTOR})
    assert result.success
    trail = audit_trail(site.store_url, result.run_id)
    dispose_all()
    return trail


def _only_run(site: PlanSite) -> dg.DagsterRun:
    with dg.DagsterInstance.from_config(str(site.home)) as instance:
        [run] = instance.get_runs()
    return run


def _assert_succeeded(completed: subprocess.CompletedProcess[str]) -> None:
    assert completed.returncode == 0, completed.stderr[-4000:]


def test_the_multiprocess_executor_runs_each_step_in_its_own_process_with_the_same_trail(
    tmp_path: Path, in_process_trail: dict[str, Any]
) -> None:
    site = plan_site(tmp_path / "multiprocess", f"sqlite:///{tmp_path / 'store.db'}", {"executor": "multiprocess"})
    completed = execute(site, "fan_out")
    _assert_succeeded(completed)
    run = _only_run(site)
    with dg.DagsterInstance.from_config(str(site.home)) as instance:
        starts = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
    step_pids = {record.step_key: record.dagster_event.pid for record in starts}  # type: ignore[union-attr]
    assert set(step_pids) == STEP_IDS
    assert len(set(step_pids.values())) == len(STEP_IDS), f"steps shared a process: {step_pids}"
    assert audit_trail(site.store_url, run.run_id) == in_process_trail


@dataclass(frozen=True)
class CelerySite:
    site: PlanSite
    queue: str


@pytest.fixture
def celery_site(tmp_path: Path, make_pg_database: Any, monkeypatch: pytest.MonkeyPatch) -> CelerySite:
    """The plan on deploy/dagster.celery.yaml: Dagster's storage and the ops store in fresh PostgreSQL databases."""
    require_service("RabbitMQ", RABBITMQ_HOST, RABBITMQ_PORT)
    queue = f"ops_test_{uuid.uuid4().hex[:10]}"  # other test runs may share the broker
    instance_env = {"DAGSTER_PG_URL": pg_url(make_pg_database()), "DAGSTER_SHARED_DIR": str(tmp_path / "shared")}
    for name, value in instance_env.items():
        monkeypatch.setenv(name, value)  # this process reads the run's events from the same instance
    site = plan_site(
        tmp_path / "celery",
        pg_url(make_pg_database()),
        {"executor": "celery", "celery": {"queue": queue}},
        REPO_ROOT / "deploy" / "dagster.celery.yaml",
        instance_env,
    )
    return CelerySite(site, queue)


def _worker_config(site: PlanSite) -> Path:
    """The file the workers start with, as `ops-pipeline plans worker-config` writes it from ops.yaml."""
    ops_pipeline = Path(sys.executable).parent / "ops-pipeline"
    printed = subprocess.run(
        [str(ops_pipeline), "--config", str(site.config), "plans", "worker-config"],
        env=site.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    path = site.folder / "celery_worker.yaml"
    path.write_text(printed.stdout)
    return path


def _steps_by_worker(site: PlanSite, run_id: str) -> dict[str, str]:
    """step key -> the Celery worker that ran it, from the engine events the workers write to the run's log."""
    with dg.DagsterInstance.from_config(str(site.home)) as instance:
        records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    ran_by: dict[str, str] = {}
    for record in records:
        event = record.dagster_event
        worker = event.engine_event_data.metadata.get("Celery worker") if event else None  # type: ignore[union-attr]
        if worker is not None and record.step_key:
            ran_by[record.step_key] = str(worker.value)
    return ran_by


def test_the_celery_executor_spreads_a_plan_over_two_workers_with_the_in_process_trail(
    celery_site: CelerySite, in_process_trail: dict[str, Any]
) -> None:
    started = time.monotonic()
    site, token = celery_site.site, uuid.uuid4().hex[:6]
    names = [f"ops_a_{token}", f"ops_b_{token}"]
    worker_config = _worker_config(site)
    # The workers load the code location themselves: ops.yaml, the ops store and the plan's secret come from
    # their environment, not from the process that launches the run.
    with celery_workers(names, worker_config, DEFAULT_BROKER, celery_site.queue, site.env(), site.folder) as workers:
        completed = execute(site, "fan_out")
    _assert_succeeded(completed)
    assert f'to queue "{celery_site.queue}"' in completed.stderr
    run = _only_run(site)
    ran_by = _steps_by_worker(site, run.run_id)
    assert set(ran_by) == STEP_IDS
    assert {worker.split("@")[0] for worker in ran_by.values()} == set(names), ran_by
    assert audit_trail(site.store_url, run.run_id) == in_process_trail
    assert SECRET not in completed.stderr
    assert not [w.name for w in workers if SECRET in w.log.read_text(errors="replace")]
    print(f"celery plan end to end: {time.monotonic() - started:.1f} s (workers started, run, workers stopped)")


def test_the_shipped_worker_config_is_what_worker_config_prints_for_the_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ops.yaml"
    config.write_text(yaml.safe_dump({"plans": {"executor": "celery"}}))
    assert main(["--config", str(config), "plans", "worker-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == yaml.safe_load((REPO_ROOT / "deploy" / "celery-worker.yaml").read_text())
