"""An execution's targets are taken before any of its steps run, and kept while it runs.

The approvals sensor (or the launchpad run's preflight) takes every target of an execution at once, in sorted
order, with the execution's id as the lease owner. While one is held by another live execution, the execution
waits `queued` with no run at all, so it holds no run worker; each tick tries again. While it runs, the sensor
extends its leases (a heartbeat on behalf of a run that Dagster still reports alive), and leases nobody extended
expire and are reaped. The store releases them as the execution ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ops_pipeline.store import leases
from ops_pipeline.store.executions import Execution, events_of, record_event, transition

LEASE_TTL = timedelta(seconds=120)  # several launcher intervals: a missed tick or two does not lose a target


@dataclass(frozen=True)
class TargetBusy:
    target: str
    holder: str

    def __str__(self) -> str:
        return f"{WAITING}{self.target} (held by execution {self.holder})"


def take_targets(engine: sa.Engine, current: Execution, now: datetime, ttl: timedelta = LEASE_TTL) -> TargetBusy | None:
    """Take (or extend) every target of the execution; None when it holds them all, else the first one it waits
    for. An execution without targets needs none."""
    if not current.targets or leases.acquire(engine, current.tenant, current.targets, current.id, now, ttl):
        return None
    for target in sorted(set(current.targets)):
        holder = leases.holder_of(engine, current.tenant, target)
        if holder and holder.owner != current.id and holder.expires_at > now:
            return TargetBusy(target, holder.owner)
    return TargetBusy(sorted(current.targets)[0], "unknown")  # released between the two reads: next tick takes it


WAITING = "waiting for target "


def waited_for_targets(conn: sa.Connection, execution_id: str) -> bool:
    """Whether the execution's latest event is a wait for a target (so taking them now is news)."""
    return (events_of(conn, execution_id)[-1].reason or "").startswith(WAITING)


def wait_for(conn: sa.Connection, current: Execution, busy: TargetBusy, actor: str, now: datetime) -> None:
    """Record the wait once: an approved execution becomes `queued` with the reason; a queued one that already
    waits for the same holder records nothing new."""
    if current.status == "approved":
        transition(conn, current.id, "queued", actor=actor, now=now, reason=str(busy))
    elif events_of(conn, current.id)[-1].reason != str(busy):
        record_event(conn, current.id, "lease_wait", actor, now=now, reason=str(busy))


def extend_leases(engine: sa.Engine, owners: list[str], now: datetime, ttl: timedelta = LEASE_TTL) -> int:
    """Heartbeat the leases of executions whose runs are alive; returns how many leases are held still."""
    return sum(leases.heartbeat(engine, owner, now, ttl) for owner in owners)
