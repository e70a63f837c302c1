"""Whether a scan is still alive: a scan renews its snapshot's heartbeat every few seconds from a side thread,
so a scan whose process was killed (SIGKILL, OOM, a lost host) stops renewing it. An open snapshot whose
heartbeat is older than STALE_AFTER_S, or whose Dagster run is gone or has ended, is marked failed with the
reason; the last completed snapshot stays the latest good one. Checked before each scan of a source and by
the `abandoned_scans` sensor. Free of Dagster: the sensor passes in what the instance says about runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.store import catalog as catalog_store

HEARTBEAT_S = 10.0
STALE_AFTER_S = 60.0

RunEnded = Callable[[str], str | None]  # a run id -> why that run no longer runs, or None while it runs


@contextmanager
def heartbeats(engine: sa.Engine, snapshot_id: int, every_s: float = HEARTBEAT_S) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            # a store hiccup: the next beat tries again, and a long silence reads as a dead scan
            with suppress(sa.exc.SQLAlchemyError):
                catalog_store.heartbeat(engine, snapshot_id)

    thread = threading.Thread(target=beat, name=f"scan-heartbeat-{snapshot_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def abandoned_reason(
    snapshot: catalog_store.Snapshot, now: datetime, run_ended: RunEnded | None, stale_after_s: float
) -> str | None:
    if snapshot.run_id and run_ended is not None:
        ended = run_ended(snapshot.run_id)
        if ended:
            return f"abandoned: its run {snapshot.run_id} {ended} while the scan was open"
    last_sign = snapshot.heartbeat_at or snapshot.started_at or snapshot.requested_at
    silent_s = (now - last_sign).total_seconds()
    if silent_s > stale_after_s:
        return f"abandoned: no heartbeat for {silent_s:.0f} s (the scan's process died or was killed)"
    return None


def fail_abandoned_scans(
    engine: sa.Engine,
    source: str | None = None,
    run_ended: RunEnded | None = None,
    stale_after_s: float = STALE_AFTER_S,
) -> list[int]:
    """Mark the abandoned open snapshots (of `source`, or of every source) failed; their ids."""
    now = datetime.now(UTC)
    failed = []
    for snapshot in catalog_store.open_snapshots(engine, source):
        reason = abandoned_reason(snapshot, now, run_ended, stale_after_s)
        if reason and catalog_store.fail_abandoned(engine, snapshot.id, reason):
            failed.append(snapshot.id)
    return failed
