"""Plan versions: each distinct content of a plan (by hash) gets the next version number, once, and keeps its
snapshot for good. Submissions, replans and the UI all read versions from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ops_pipeline.store.execution_tables import plan_versions
from ops_pipeline.store.upsert import insert_for

# Two submitters registering two new contents of one plan at once may race for a version number; the loser
# takes the next one.
ATTEMPTS = 20


@dataclass(frozen=True)
class PlanVersion:
    plan_name: str
    version: int
    plan_hash: str
    structure: str
    snapshot: str
    origin: str
    created_at: datetime


def ensure_plan_version(
    conn: sa.Connection, name: str, plan_hash: str, structure: str, snapshot: str, origin: str, now: datetime
) -> PlanVersion:
    """The version of plan `name` with this hash, registered as the next version if it is new."""
    for _ in range(ATTEMPTS):
        found = plan_version_by_hash(conn, name, plan_hash)
        if found is not None:
            return found
        next_version = sa.select(sa.func.coalesce(sa.func.max(plan_versions.c.version), 0) + 1).where(
            plan_versions.c.plan_name == name
        )
        values = {
            "plan_name": name,
            "plan_hash": plan_hash,
            "structure": structure,
            "snapshot": snapshot,
            "origin": origin,
            "created_at": now,
            "version": next_version.scalar_subquery(),
        }
        conn.execute(insert_for(conn, plan_versions).values(**values).on_conflict_do_nothing())
    raise RuntimeError(f"plan {name!r}: could not register a version after {ATTEMPTS} attempts")


def plan_version_by_hash(conn: sa.Connection, name: str, plan_hash: str) -> PlanVersion | None:
    row = conn.execute(
        sa.select(plan_versions).where(plan_versions.c.plan_name == name, plan_versions.c.plan_hash == plan_hash)
    ).first()
    return _version(row) if row else None


def plan_version(conn: sa.Connection, name: str, version: int) -> PlanVersion | None:
    row = conn.execute(
        sa.select(plan_versions).where(plan_versions.c.plan_name == name, plan_versions.c.version == version)
    ).first()
    return _version(row) if row else None


def versions_of(conn: sa.Connection, name: str) -> list[PlanVersion]:
    query = sa.select(plan_versions).where(plan_versions.c.plan_name == name).order_by(plan_versions.c.version)
    return [_version(row) for row in conn.execute(query)]


def _version(row: sa.Row) -> PlanVersion:
    return PlanVersion(
        plan_name=row.plan_name,
        version=row.version,
        plan_hash=row.plan_hash,
        structure=row.structure,
        snapshot=row.snapshot,
        origin=row.origin,
        created_at=row.created_at,
    )
