"""Admission: plan versions, idempotency within the window (also under concurrency), tenants, approval requests."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ops_pipeline.core.plans.errors import PlanError
from ops_pipeline.execution.admission import AdmissionPolicy, Submission, admit
from ops_pipeline.store.approvals import requests_of
from ops_pipeline.store.engine import dispose_all, open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.execution_tables import executions
from ops_pipeline.store.executions import events_of, list_executions
from tests.execution.plans import plan

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
POLICY = AdmissionPolicy()


def submit(engine: sa.Engine, level: int = 0, at: datetime = NOW, **fields) -> object:
    defaults = {"plan": plan(level), "origin": "restart_api.yaml", "actor": "user:alice", "parameters": {}}
    return admit(engine, Submission(**{**defaults, **fields}), POLICY, at)


def test_a_submission_becomes_an_execution_with_its_steps_version_and_trail(store_url: str) -> None:
    engine = open_store(store_url)
    admission = submit(engine, parameters={"limit": "7"})
    current = admission.execution
    assert not admission.duplicate and current.status == "approved" and current.plan_version == 1
    assert current.parameters == {"service": "api", "limit": 7}
    with engine.connect() as conn:
        assert [(s.step_id, s.status) for s in steps_of(conn, current.id)] == [
            ("stop", "pending"),
            ("start", "pending"),
            ("check", "pending"),
        ]
        [event] = events_of(conn, current.id)
    assert (event.kind, event.actor, event.to_status) == ("submitted", "user:alice", "approved")


def test_the_same_submission_within_the_window_returns_the_first_execution(store_url: str) -> None:
    engine = open_store(store_url)
    first = submit(engine).execution
    again = submit(engine, at=NOW + timedelta(hours=23), actor="user:bob")
    assert again.duplicate and again.execution.id == first.id
    other_parameters = submit(engine, parameters={"limit": 6})
    assert not other_parameters.duplicate
    after_window = submit(engine, at=NOW + timedelta(hours=24, seconds=1))
    assert not after_window.duplicate and after_window.execution.id != first.id


def test_a_callers_key_is_scoped_to_its_tenant(store_url: str) -> None:
    engine = open_store(store_url)
    mine = submit(engine, idempotency_key="change-42").execution
    theirs = submit(engine, plan=plan(name="restart_api", tenant="acme"), idempotency_key="change-42").execution
    assert mine.id != theirs.id
    with engine.connect() as conn:
        assert [e.id for e in list_executions(conn, "acme")] == [theirs.id]
        assert [e.id for e in list_executions(conn, "default")] == [mine.id]


def test_a_plan_of_another_tenant_is_refused(store_url: str) -> None:
    with pytest.raises(PlanError, match="belongs to tenant 'default', not 'acme'"):
        submit(open_store(store_url), tenant="acme")


def test_a_changed_plan_is_a_new_version_and_an_unchanged_one_is_not(store_url: str) -> None:
    engine = open_store(store_url)
    first = submit(engine).execution
    changed = plan(description="now with a description")
    second = submit(engine, plan=changed).execution
    third = submit(engine, plan=changed, idempotency_key="again").execution
    assert (first.plan_version, second.plan_version, third.plan_version) == (1, 2, 2)
    assert submit(engine, version=1, idempotency_key="old").execution.plan_hash == first.plan_hash
    with pytest.raises(PlanError, match="has no version 9"):
        submit(engine, version=9)


def test_a_version_with_another_structure_than_the_job_is_refused(store_url: str) -> None:
    with pytest.raises(PlanError, match="other steps or dependencies than the loaded job"):
        submit(open_store(store_url), expected_structure="0" * 64)


def test_bad_parameters_are_refused_and_nothing_is_written(store_url: str) -> None:
    engine = open_store(store_url)
    with pytest.raises(PlanError, match="parameter 'limit'"):
        submit(engine, parameters={"limit": "many"})
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(executions)).scalar() == 0


@pytest.mark.parametrize(("level", "requested"), [(1, [None]), (2, [None]), (3, ["stop"])])
def test_approval_levels_start_pending_with_their_first_request(store_url: str, level: int, requested: list) -> None:
    engine = open_store(store_url)
    current = submit(engine, level).execution
    assert current.status == "pending_approval"
    with engine.connect() as conn:
        requests = requests_of(conn, current.id)
    assert [r.step_id for r in requests] == requested
    minutes = {1: 5, 2: 15, 3: 30}[level]
    assert all(r.expires_at == NOW + timedelta(minutes=minutes) and r.plan_hash == current.plan_hash for r in requests)


def _submit_keys(store_url: str, keys: list[str], results: multiprocessing.Queue) -> None:
    dispose_all()
    engine = open_store(store_url)
    for key in keys:
        results.put((key, submit(engine, idempotency_key=key).execution.id))


@pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)
def test_eight_processes_submitting_the_same_fifty_keys_make_fifty_executions(store_url: str) -> None:
    open_store(store_url)  # migrated before the race
    keys = [f"key-{i}" for i in range(50)]
    results: multiprocessing.Queue = multiprocessing.Queue()
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_submit_keys, args=(store_url, keys, results)) for _ in range(8)]
    for worker in workers:
        worker.start()
    seen: dict[str, set[str]] = {}
    for _ in range(8 * 50):
        key, execution_id = results.get(timeout=120)
        seen.setdefault(key, set()).add(execution_id)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert all(len(ids) == 1 for ids in seen.values()) and len(seen) == 50
    with open_store(store_url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(executions)).scalar() == 50
