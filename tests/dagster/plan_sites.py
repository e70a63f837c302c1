"""A plan deployed under a chosen executor: its warehouse, plan folder, ops.yaml and Dagster home in a temp
folder; runs through `dagster job execute` (the code location loaded from its module, as run workers load it);
and the audit trail it leaves in the ops store, with ids and times left out so two runs compare equal."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import events_of, list_executions

SECRET_VARIABLE = "OPS_EXECUTOR_TEST_SECRET"
SECRET = "celery-s3cr3t-9d2e"
ACTOR = "user:alice"
# Four steps that may run at once after preflight, then a validation that reads an earlier step's output.
FAN_OUT_PLAN: dict[str, Any] = {
    "name": "fan_out",
    "environment": "dev",
    "action_class": "read",
    "sla_class": "long",
    "approval_level": 0,
    "targets": ["here"],
    "steps": [
        {
            "id": "count_paid",
            "type": "sql",
            "source": "shop",
            "statement": "SELECT COUNT(*) AS n FROM orders WHERE status = 'paid'",
            "depends_on": [],
        },
        {
            "id": "count_new",
            "type": "sql",
            "source": "shop",
            "statement": "SELECT COUNT(*) AS n FROM orders WHERE status = 'new'",
            "depends_on": [],
        },
        {
            "id": "greet",
            "type": "command",
            "target": "here",
            "argv": ["sh", "-c", "sleep 1; echo hello $0", "{{ secret:env:" + SECRET_VARIABLE + " }}"],
            "depends_on": [],
        },
        {
            "id": "pause",
            "type": "command",
            "target": "here",
            "argv": ["sh", "-c", "sleep 1; echo rested"],
            "depends_on": [],
        },
        {
            "id": "check",
            "type": "validation",
            "assert": {"step": "count_paid", "path": "rows[0].n", "op": "eq", "value": 2},
            "depends_on": ["count_paid", "count_new", "greet", "pause"],
        },
    ],
}
STEP_IDS = {"preflight", *(step["id"] for step in FAN_OUT_PLAN["steps"])}


@dataclass(frozen=True)
class PlanSite:
    folder: Path
    config: Path
    home: Path
    store_url: str
    instance_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """What a process of this deployment sees: its Dagster home, ops.yaml, ops store and the plan's secret."""
        return {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "OPS_CONFIG": str(self.config),
            "OPS_DATABASE_URL": self.store_url,
            SECRET_VARIABLE: SECRET,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **self.instance_env,
        }


def plan_site(
    folder: Path,
    store_url: str,
    plans: dict[str, Any],
    instance_config: Path | None = None,
    instance_env: dict[str, str] | None = None,
) -> PlanSite:
    """A deployment of FAN_OUT_PLAN with `plans` as ops.yaml's plans section (its folder is filled in), and the
    Dagster instance `instance_config` (a dagster.yaml; default: SQLite in its home) set up by `instance_env`."""
    folder.mkdir(parents=True, exist_ok=True)
    shop, plan_folder, home = folder / "shop.db", folder / "plans", folder / "home"
    plan_folder.mkdir()
    home.mkdir()
    with sqlite3.connect(shop) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")
        conn.executemany("INSERT INTO orders (status) VALUES (?)", [("paid",), ("paid",), ("new",)])
    (plan_folder / "fan_out.yaml").write_text(yaml.safe_dump(FAN_OUT_PLAN, sort_keys=False))
    config = {
        "sources": {"shop": {"type": "sqlite", "path": str(shop)}},
        "services": {"targets": {"here": {"hostname": "localhost", "connection": "local"}}},
        "plans": {"folders": [str(plan_folder)], **plans},
    }
    (folder / "ops.yaml").write_text(yaml.safe_dump(config))
    if instance_config is None:
        (home / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}}))
    else:
        shutil.copyfile(instance_config, home / "dagster.yaml")
    return PlanSite(folder, folder / "ops.yaml", home, store_url, instance_env or {})


def execute(site: PlanSite, job: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """`dagster job execute` of a plan job, as ACTOR; the run's log lines are in the result's stderr."""
    dagster = Path(sys.executable).parent / "dagster"
    command = [str(dagster), "job", "execute", "-m", "ops_pipeline.definitions", "-a", "defs", "-j", job]
    command += ["--tags", json.dumps({"ops/actor": ACTOR})]
    return subprocess.run(
        command, env=site.env(), cwd=site.folder, capture_output=True, text=True, timeout=timeout_s, check=False
    )


def audit_trail(store_url: str, run_id: str) -> dict[str, Any]:
    """The execution, its step rows and its events as a user reads them, less ids and times. Steps that may run
    at once are compared as each step's own sequence of events, not by their interleaving."""
    with open_store(store_url).connect() as conn:
        [current] = list_executions(conn, "default")
        steps = steps_of(conn, current.id)
        events = events_of(conn, current.id)
    assert current.root_run_id == run_id and {s.run_id for s in steps} == {run_id}
    assert {e.run_id for e in events} == {run_id}
    step_events: dict[str, list[tuple[Any, ...]]] = {}
    for event in events:
        if event.step_id is not None:
            step_events.setdefault(event.step_id, []).append(_event(event))
    return {
        "execution": (
            current.plan_name,
            current.plan_version,
            current.status,
            current.submitted_by,
            current.sla_class,
            current.action_class,
            current.deadline_at is not None,
            current.reason,
        ),
        "steps": sorted(
            (s.step_id, s.position, s.step_type, s.status, s.attempt, s.output, s.output_truncated, s.error)
            for s in steps
        ),
        "execution_events": [_event(e) for e in events if e.step_id is None],
        "step_events": step_events,
    }


def _event(event: Any) -> tuple[Any, ...]:
    return (event.kind, event.actor, event.from_status, event.to_status, event.reason)
