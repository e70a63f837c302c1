"""Admission under concurrency: 2,000 submissions from 8 processes, 10 % of them duplicates, against PostgreSQL.

* ours     - `ops_pipeline.execution.admission.admit`, as `preflight` and `ops-pipeline plans submit` call it: one
             transaction that registers the plan version, binds the parameters, claims the tenant-scoped
             idempotency key (`INSERT ... ON CONFLICT ... WHERE expired RETURNING`), and writes the execution, its
             steps, its approval request and its audit event. Timed per submission in each process.
* baseline - one `INSERT ... ON CONFLICT DO NOTHING RETURNING` round trip into a one-column table on the same
             server, timed the same way from 8 processes at once: the floor any admission pays.

Prints `duplicates=<n>` (executions sharing a key: must be 0), p50 and p99 of both, and ends with
  RESULT name=admission ours_s=<p99> baseline_s=<round trip p99> speedup=<baseline/ours>
The target is an admission p99 within 10x of the round trip (speedup >= 0.1).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from servers import BenchmarkError, check_pg, pg_connect, pg_database, pg_url

from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.execution.admission import AdmissionPolicy, Submission, admit
from ops_pipeline.store.engine import dispose_all, open_store
from ops_pipeline.store.execution_tables import executions

PLAN = {
    "name": "restart_service",
    "environment": "prod",
    "action_class": "modify",
    "sla_class": "fast",
    "approval_level": 1,
    "targets": ["web1", "web2"],
    "parameters": {"service": {"type": "string", "default": "api"}, "ticket": {"type": "integer"}},
    "steps": [
        {"id": "drain", "type": "command", "target": "web1", "argv": ["drain", "{{ params.service }}"]},
        {
            "id": "restart",
            "type": "command",
            "target": "web1",
            "argv": ["systemctl", "restart", "{{ params.service }}"],
        },
        {
            "id": "verify",
            "type": "validation",
            "assert": {"step": "restart", "path": "exit_code", "op": "eq", "value": 0},
        },
    ],
}


def keys(submissions: int, duplicate_share: float, seed: int = 7) -> list[int]:
    """Ticket numbers to submit: distinct ones, and `duplicate_share` of them repeated, shuffled."""
    rng = random.Random(seed)
    distinct = round(submissions * (1 - duplicate_share))
    tickets = list(range(distinct)) + [rng.randrange(distinct) for _ in range(submissions - distinct)]
    rng.shuffle(tickets)
    return tickets


def _admit_all(url: str, tickets: list[int], out: Any) -> None:
    dispose_all()
    engine = open_store(url)
    plan = parse_plan(PLAN, "restart_service.yaml")
    policy = AdmissionPolicy()
    latencies, ids = [], []
    for ticket in tickets:
        submission = Submission(plan=plan, origin="bench", actor="user:bench", parameters={"ticket": ticket})
        started = time.perf_counter()
        admission = admit(engine, submission, policy, datetime.now(UTC))
        latencies.append(time.perf_counter() - started)
        ids.append((ticket, admission.execution.id))
    out.put((latencies, ids))


def _round_trips(database: str, count: int, out: Any) -> None:
    conn = pg_connect(database)
    conn.autocommit = True
    latencies = []
    with conn.cursor() as cursor:
        for _ in range(count):
            key = random.getrandbits(62)
            started = time.perf_counter()
            cursor.execute("INSERT INTO keys (key) VALUES (%s) ON CONFLICT DO NOTHING RETURNING key", (key,))
            cursor.fetchall()
            latencies.append(time.perf_counter() - started)
    conn.close()
    out.put((latencies, []))


def in_processes(target: Any, jobs: list[tuple[Any, ...]]) -> list[tuple[list[float], list[Any]]]:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=target, args=(*job, out)) for job in jobs]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        if worker.exitcode != 0:
            raise BenchmarkError(f"a worker exited with {worker.exitcode}")
    return results


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--duplicates", type=float, default=0.10)
    args = parser.parse_args()
    check_pg()
    tickets = keys(args.submissions, args.duplicates)
    shares = [tickets[i :: args.processes] for i in range(args.processes)]
    with pg_database() as database:
        url = pg_url(database)
        open_store(url)  # migrated before the clock starts
        dispose_all()
        started = time.perf_counter()
        ours = in_processes(_admit_all, [(url, share) for share in shares])
        wall = time.perf_counter() - started
        with open_store(url).connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(executions)).scalar_one()
        dispose_all()
        setup = pg_connect(database)
        setup.autocommit = True
        with setup.cursor() as cursor:
            cursor.execute("CREATE TABLE keys (key bigint PRIMARY KEY)")
        setup.close()
        baseline = in_processes(_round_trips, [(database, len(share)) for share in shares])
    by_ticket: dict[int, set[str]] = {}
    for _, ids in ours:
        for ticket, execution_id in ids:
            by_ticket.setdefault(ticket, set()).add(execution_id)
    duplicates = sum(len(ids) - 1 for ids in by_ticket.values()) + (stored - len(by_ticket))
    our_latencies = [s for latencies, _ in ours for s in latencies]
    base_latencies = [s for latencies, _ in baseline for s in latencies]
    ours_p50, ours_p99 = percentile(our_latencies, 0.5), percentile(our_latencies, 0.99)
    base_p50, base_p99 = percentile(base_latencies, 0.5), percentile(base_latencies, 0.99)
    print(
        f"submissions={args.submissions} processes={args.processes} distinct={len(by_ticket)} stored={stored} "
        f"wall_s={wall:.2f} rate={args.submissions / wall:.0f}/s"
    )
    print(
        f"admission p50={ours_p50 * 1000:.2f}ms p99={ours_p99 * 1000:.2f}ms; "
        f"INSERT ... ON CONFLICT round trip p50={base_p50 * 1000:.2f}ms p99={base_p99 * 1000:.2f}ms"
    )
    print(f"duplicates={duplicates}")
    print(f"RESULT name=admission ours_s={ours_p99:.5f} baseline_s={base_p99:.5f} speedup={base_p99 / ours_p99:.3f}")
    return 0 if duplicates == 0 else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
