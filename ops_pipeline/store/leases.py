"""Per-target leases in the ops store: an execution takes every target it needs at once or none of them.

Taking is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired OR mine RETURNING` per target, in sorted
target order inside one transaction: a target held by another live lease returns no row and the whole
transaction rolls back, so nothing is half-taken, and two executions over the same targets always meet at the
first shared one, so they never deadlock. A lease lasts `ttl` past its last heartbeat; an expired lease may be
taken by anyone, and `reap` deletes what expired.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ops_pipeline.store.execution_tables import target_leases
from ops_pipeline.store.metadata import UtcDateTime
from ops_pipeline.store.upsert import insert_for


@dataclass(frozen=True)
class Lease:
    tenant: str
    target: str
    owner: str
    token: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime


class _Taken(Exception):
    def __init__(self, target: str) -> None:
        self.target = target


def _take_statement(conn: sa.Connection) -> sa.Executable:
    insert = insert_for(conn, target_leases)
    return insert.on_conflict_do_update(
        index_elements=["tenant", "target"],
        set_={
            "owner": insert.excluded.owner,
            "token": insert.excluded.token,
            "acquired_at": insert.excluded.acquired_at,
            "heartbeat_at": insert.excluded.heartbeat_at,
            "expires_at": insert.excluded.expires_at,
        },
        where=sa.or_(
            target_leases.c.expires_at <= sa.bindparam("now", type_=UtcDateTime()),
            target_leases.c.owner == sa.bindparam("me"),
        ),
    ).returning(target_leases.c.owner)


def acquire(
    engine: sa.Engine, tenant: str, targets: Iterable[str], owner: str, now: datetime, ttl: timedelta
) -> str | None:
    """Take every target for `owner`, or none: the token of this acquisition, or None when a target is held by
    another live lease (its holder is then `holder_of`)."""
    token = uuid.uuid4().hex
    try:
        with engine.begin() as conn:
            statement = _take_statement(conn)
            for target in sorted(set(targets)):
                row = {
                    "tenant": tenant,
                    "target": target,
                    "owner": owner,
                    "token": token,
                    "acquired_at": now,
                    "heartbeat_at": now,
                    "expires_at": now + ttl,
                    "now": now,
                    "me": owner,
                }
                if conn.execute(statement, row).first() is None:
                    raise _Taken(target)
    except _Taken:
        return None
    return token


def heartbeat(engine: sa.Engine, owner: str, now: datetime, ttl: timedelta) -> int:
    """Extend every lease `owner` holds; returns how many it still holds."""
    with engine.begin() as conn:
        extended = conn.execute(
            target_leases.update()
            .where(target_leases.c.owner == owner, target_leases.c.expires_at > now)
            .values(heartbeat_at=now, expires_at=now + ttl)
        )
    return extended.rowcount


def release(engine: sa.Engine, owner: str) -> int:
    with engine.begin() as conn:
        return conn.execute(target_leases.delete().where(target_leases.c.owner == owner)).rowcount


def reap(engine: sa.Engine, now: datetime, finished_owners: Iterable[str] = ()) -> list[Lease]:
    """Delete leases that expired, and those of owners known to be finished; returns what was deleted."""
    stale = sa.or_(target_leases.c.expires_at <= now, target_leases.c.owner.in_(sorted(set(finished_owners))))
    with engine.begin() as conn:
        gone = [_lease(row) for row in conn.execute(sa.select(target_leases).where(stale))]
        conn.execute(target_leases.delete().where(stale))
    return gone


def holder_of(engine: sa.Engine, tenant: str, target: str) -> Lease | None:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(target_leases).where(target_leases.c.tenant == tenant, target_leases.c.target == target)
        ).first()
    return _lease(row) if row else None


def lease_owners(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(target_leases.c.owner).distinct().order_by(target_leases.c.owner)))


def _lease(row: sa.Row) -> Lease:
    return Lease(**{c: getattr(row, c) for c in Lease.__dataclass_fields__})
