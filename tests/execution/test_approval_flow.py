"""Approvals: who may approve what, bound to the plan hash, expiring, and what each decision does to the
execution; the store refusing illegal transitions whoever asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from ops_pipeline.core.execution.states import EXECUTION_STATUSES, IllegalTransition, can_transition
from ops_pipeline.execution.admission import AdmissionPolicy, Submission, admit
from ops_pipeline.execution.approval_flow import ApprovalRefused, approve, expire_due, reject
from ops_pipeline.store.approvals import requests_of
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_tables import executions
from ops_pipeline.store.executions import events_of, execution, transition
from tests.execution.plans import plan

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def submitted(store_url: str, level: int, **fields):
    engine = open_store(store_url)
    submission = Submission(plan=plan(level), origin="p.yaml", actor="user:alice", parameters={}, **fields)
    return engine, admit(engine, submission, AdmissionPolicy(), NOW).execution


def test_level_1_needs_one_confirmation_even_from_the_submitter(store_url: str) -> None:
    engine, current = submitted(store_url, 1)
    decided = approve(engine, current.id, tenant="default", approver="user:alice", now=NOW + timedelta(minutes=1))
    assert decided.status == "approved"


def test_level_2_is_bound_to_the_plan_hash_and_refuses_the_submitter(store_url: str) -> None:
    engine, current = submitted(store_url, 2)
    later = NOW + timedelta(minutes=2)
    with pytest.raises(ApprovalRefused, match="the plan changed after review"):
        approve(engine, current.id, tenant="default", approver="user:bob", now=later, plan_hash="f" * 64)
    with pytest.raises(ApprovalRefused, match="cannot approve their own level 2 execution"):
        approve(engine, current.id, tenant="default", approver="user:alice", now=later, plan_hash=current.plan_hash)
    with pytest.raises(ApprovalRefused, match="bound to a plan hash"):
        approve(engine, current.id, tenant="default", approver="user:bob", now=later)
    decided = approve(engine, current.id, tenant="default", approver="user:bob", now=later, plan_hash=current.plan_hash)
    assert decided.status == "approved"
    with engine.connect() as conn:
        kinds = [(e.kind, e.actor) for e in events_of(conn, current.id)]
    assert ("approval_approved", "user:bob") in kinds and ("status", "user:bob") in kinds


def test_another_tenant_cannot_see_or_approve_an_execution(store_url: str) -> None:
    engine, current = submitted(store_url, 1)
    with pytest.raises(LookupError, match="for tenant 'acme'"):
        approve(engine, current.id, tenant="acme", approver="user:eve", now=NOW)


def test_a_rejection_is_final(store_url: str) -> None:
    engine, current = submitted(store_url, 2)
    decided = reject(engine, current.id, tenant="default", actor="user:bob", now=NOW, reason="not during freeze")
    assert decided.status == "rejected"
    with pytest.raises(ApprovalRefused, match="already decided"):
        approve(engine, current.id, tenant="default", approver="user:carol", now=NOW, plan_hash=current.plan_hash)


@pytest.mark.parametrize(("level", "minutes"), [(1, 5), (2, 15), (3, 30)])
def test_approvals_expire_after_their_window_and_end_the_execution(store_url: str, level: int, minutes: int) -> None:
    engine, current = submitted(store_url, level)
    just_before = NOW + timedelta(minutes=minutes) - timedelta(seconds=1)
    assert expire_due(engine, just_before) == []
    assert expire_due(engine, NOW + timedelta(minutes=minutes)) == [current.id]
    with engine.connect() as conn:
        assert execution(conn, current.id).status == "rejected"
        assert [r.state for r in requests_of(conn, current.id)] == ["expired"]
    with pytest.raises(ApprovalRefused, match="already decided: this approval is expired"):
        approve(
            engine,
            current.id,
            tenant="default",
            approver="user:bob",
            now=NOW,
            plan_hash=current.plan_hash,
            step_id="stop" if level == 3 else None,
        )


def test_a_late_approval_finds_the_request_expired_and_says_so(store_url: str) -> None:
    engine, current = submitted(store_url, 1)
    with pytest.raises(ApprovalRefused, match="approval expired at"):
        approve(engine, current.id, tenant="default", approver="user:bob", now=NOW + timedelta(hours=1))
    with engine.connect() as conn:
        assert execution(conn, current.id).status == "rejected"


def test_level_3_approves_steps_by_name(store_url: str) -> None:
    engine, current = submitted(store_url, 3)
    with pytest.raises(ApprovalRefused, match="name the step"):
        approve(engine, current.id, tenant="default", approver="user:bob", now=NOW, plan_hash=current.plan_hash)
    with pytest.raises(ApprovalRefused, match="no approval is requested for step 'start'"):
        approve(
            engine,
            current.id,
            tenant="default",
            approver="user:bob",
            now=NOW,
            plan_hash=current.plan_hash,
            step_id="start",
        )
    decided = approve(
        engine, current.id, tenant="default", approver="user:bob", now=NOW, plan_hash=current.plan_hash, step_id="stop"
    )
    assert decided.status == "approved"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_store_accepts_every_legal_transition_and_refuses_every_illegal_one(store_url: str) -> None:
    engine, current = submitted(store_url, 0)
    for start, target in product(EXECUTION_STATUSES, EXECUTION_STATUSES):
        with engine.begin() as conn:
            conn.execute(executions.update().where(executions.c.id == current.id).values(status=start))
        with engine.begin() as conn:
            if can_transition(start, target):
                assert transition(conn, current.id, target, actor="test", now=NOW) == start
            else:
                with pytest.raises(IllegalTransition, match=f"from '{start}'|'{start}' is final"):
                    transition(conn, current.id, target, actor="test", now=NOW)
