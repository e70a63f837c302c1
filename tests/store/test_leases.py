"""Per-target leases: all or nothing, no overlap among contenders, no deadlock across targets in any order,
heartbeats, expiry and reaping."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from ops_pipeline.store.engine import dispose_all, open_store
from ops_pipeline.store.leases import acquire, heartbeat, holder_of, reap, release

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def test_all_targets_or_none(store_url: str) -> None:
    engine = open_store(store_url)
    assert acquire(engine, "default", ["db1"], "exec-a", NOW, TTL)
    assert acquire(engine, "default", ["db2", "db1"], "exec-b", NOW, TTL) is None
    assert holder_of(engine, "default", "db2") is None  # db2 was not half-taken
    assert acquire(engine, "acme", ["db1"], "exec-c", NOW, TTL)  # another tenant's db1 is another target
    assert release(engine, "exec-a") == 1
    assert acquire(engine, "default", ["db2", "db1"], "exec-b", NOW, TTL)


def test_a_lease_lasts_its_ttl_past_the_last_heartbeat_then_anyone_may_take_it(store_url: str) -> None:
    engine = open_store(store_url)
    acquire(engine, "default", ["db1"], "exec-a", NOW, TTL)
    assert heartbeat(engine, "exec-a", NOW + timedelta(seconds=20), TTL) == 1
    assert acquire(engine, "default", ["db1"], "exec-b", NOW + timedelta(seconds=40), TTL) is None
    later = NOW + timedelta(seconds=51)
    assert heartbeat(engine, "exec-a", later, TTL) == 0  # a stale lease is not revived
    assert [lease.owner for lease in reap(engine, later)] == ["exec-a"]
    assert acquire(engine, "default", ["db1"], "exec-b", later, TTL)


def test_leases_of_finished_executions_are_reaped(store_url: str) -> None:
    engine = open_store(store_url)
    acquire(engine, "default", ["db1", "db2"], "exec-a", NOW, TTL)
    assert sorted(lease.target for lease in reap(engine, NOW, finished_owners=["exec-a"])) == ["db1", "db2"]


def _contend(store_url: str, targets: list[str], owner: str, rounds: int, hold_s: float, out) -> None:
    dispose_all()
    engine = open_store(store_url)
    held = []
    for _ in range(rounds):
        while True:
            start = datetime.now(UTC)
            if acquire(engine, "default", targets, owner, start, TTL):
                break
            time.sleep(0.002)
        began = time.time()
        time.sleep(hold_s)
        ended = time.time()
        release(engine, owner)
        held.append((began, ended))
    out.put((owner, held))


def _run(store_url: str, jobs: list[tuple[list[str], str]], rounds: int, hold_s: float) -> dict[str, list]:
    open_store(store_url)
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=_contend, args=(store_url, t, o, rounds, hold_s, out)) for t, o in jobs]
    for worker in workers:
        worker.start()
    results = dict(out.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return results


def test_eight_workers_contending_for_one_target_never_overlap(store_url: str) -> None:
    held = _run(store_url, [(["db1"], f"exec-{i}") for i in range(8)], rounds=5, hold_s=0.01)
    intervals = sorted(interval for worker in held.values() for interval in worker)
    assert len(intervals) == 40
    overlaps = sum(1 for (_, end), (start, _) in pairwise(intervals) if start < end)
    assert overlaps == 0


@pytest.mark.parametrize("store_url", ["postgresql", "sqlite"], indirect=True)
def test_two_plans_over_two_targets_in_opposite_order_never_deadlock(store_url: str) -> None:
    held = _run(store_url, [(["db1", "db2"], "exec-a"), (["db2", "db1"], "exec-b")], rounds=20, hold_s=0.0)
    assert [len(v) for v in held.values()] == [20, 20]
