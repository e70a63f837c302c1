"""Per-target locks under contention: 8 processes taking and releasing one target on PostgreSQL.

* ours     - `ops_pipeline.store.leases.acquire` / `release`, as the approvals sensor takes an execution's targets:
             a lease row claimed by `INSERT ... ON CONFLICT ... WHERE expired OR mine RETURNING` in its own
             transaction (non-blocking: a busy target is tried again after a backoff), released by a DELETE.
* baseline - a plain `SELECT ... FOR UPDATE` on the target's row, held in an open transaction until COMMIT
             (blocking: the server queues the waiters).

Each process records the interval it held the lock (wall clock, after taking it and before releasing it);
`overlaps` counts pairs of intervals that intersect, which must be 0 for both. Ends with
  RESULT name=locks ours_s=<seconds for all cycles> baseline_s=<same for FOR UPDATE> speedup=<baseline/ours>
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from servers import BenchmarkError, check_pg, pg_connect, pg_database, pg_url

from ops_pipeline.store.engine import dispose_all, open_store
from ops_pipeline.store.leases import acquire, release

TTL = timedelta(seconds=60)


def _ours(url: str, owner: str, cycles: int, hold_s: float, out: Any) -> None:
    dispose_all()
    engine = open_store(url)
    held = []
    for _ in range(cycles):
        wait = 0.001
        while not acquire(engine, "default", ["db1"], owner, datetime.now(UTC), TTL):
            time.sleep(wait * random.uniform(0.5, 1.5))  # a busy target is tried again later, as a sensor would
            wait = min(wait * 2, 0.05)
        began = time.time()
        time.sleep(hold_s)
        held.append((began, time.time()))
        release(engine, owner)
    out.put(held)


def _for_update(database: str, owner: str, cycles: int, hold_s: float, out: Any) -> None:
    conn = pg_connect(database)
    held = []
    with conn.cursor() as cursor:
        for _ in range(cycles):
            cursor.execute("SELECT target FROM lock_rows WHERE target = 'db1' FOR UPDATE")
            cursor.fetchall()
            began = time.time()
            time.sleep(hold_s)
            held.append((began, time.time()))
            conn.commit()
    conn.close()
    out.put(held)


def contend(target: Any, first_arg: str, processes: int, cycles: int, hold_s: float) -> tuple[float, list]:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [
        context.Process(target=target, args=(first_arg, f"exec-{i}", cycles, hold_s, out)) for i in range(processes)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    intervals = [interval for _ in workers for interval in out.get(timeout=600)]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join(timeout=60)
        if worker.exitcode != 0:
            raise BenchmarkError(f"a contender exited with {worker.exitcode}")
    return seconds, sorted(intervals)


def overlaps(intervals: list[tuple[float, float]]) -> int:
    return sum(1 for (_, end), (start, _) in pairwise(intervals) if start < end)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--cycles", type=int, default=100, help="acquire/release cycles per process")
    parser.add_argument("--hold-ms", type=float, default=1.0)
    args = parser.parse_args()
    check_pg()
    hold = args.hold_ms / 1000
    with pg_database() as database:
        url = pg_url(database)
        open_store(url)
        dispose_all()
        ours_s, ours_held = contend(_ours, url, args.processes, args.cycles, hold)
        setup = pg_connect(database)
        setup.autocommit = True
        with setup.cursor() as cursor:
            cursor.execute("CREATE TABLE lock_rows (target text PRIMARY KEY)")
            cursor.execute("INSERT INTO lock_rows VALUES ('db1')")
        setup.close()
        base_s, base_held = contend(_for_update, database, args.processes, args.cycles, hold)
    total = args.processes * args.cycles
    print(f"{args.processes} contenders x {args.cycles} cycles, hold {args.hold_ms} ms")
    print(f"ours: {ours_s:.2f} s, {total / ours_s:.0f} acquire/release per s, overlaps={overlaps(ours_held)}")
    print(f"SELECT ... FOR UPDATE: {base_s:.2f} s, {total / base_s:.0f} per s, overlaps={overlaps(base_held)}")
    print(f"overlaps={overlaps(ours_held)}")
    print(f"RESULT name=locks ours_s={ours_s:.3f} baseline_s={base_s:.3f} speedup={base_s / ours_s:.3f}")
    return 0 if overlaps(ours_held) == 0 and len(ours_held) == total else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
