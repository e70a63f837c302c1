"""Benchmark: a tick of the control loop's failure sensor against a full-history scan.

The issue: "a failure-sensor tick with 10,000 runs in storage and 100 new failures stays O(new runs), ending
with a RESULT line whose baseline is a full-history scan in the same run (target: at least 10x)."

Setup (not timed): a real Dagster instance (`DagsterInstance.ephemeral()`: Dagster's in-memory SQL run and
event-log storages) holding `--runs` runs (default 10,000) of 20 jobs; `--failed-share` of them (default 10%)
failed earlier and were handled on earlier ticks. Runs are added with `add_run` and failures written by
`report_run_failed`, so each failure is a real RUN_FAILURE event in the event log. Then `--new` (default 100)
runs fail after the sensor's cursor.

Measured, 5 times each, median reported:
* ours     - `all_failed_runs_after(instance, cursor, max_runs)`: the failure sensor's read, paging the
             RUN_FAILURE events after its cursor (and the run records of just those runs);
* baseline - a full-history scan: every run record in storage (`get_run_records()`), keeping the failed ones
             not handled yet (the handled run ids are given to it for free, as an in-memory set);
* informative - the same scan narrowed to failed runs by the storage (`RunsFilter(statuses=[FAILURE])`): it
             still grows with every failure ever stored.
Both must find exactly the same new failures before anything is reported.

Last line: RESULT name=failure_sensor ours_s=<s> baseline_s=<s> speedup=<baseline/ours>
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable

import dagster as dg

from ops_pipeline.defs.run_history.failed_runs import all_failed_runs_after

REPEATS = 5


def add_runs(instance: dg.DagsterInstance, count: int, failed_share: float) -> list[str]:
    """`count` finished runs; every 1/failed_share-th one failed. Returns the failed run ids."""
    failed: list[str] = []
    step = max(1, round(1 / failed_share)) if failed_share > 0 else count + 1
    for number in range(count):
        fails = number % step == 0
        run = instance.add_run(
            dg.DagsterRun(
                job_name=f"job_{number % 20}",
                run_id=uuid.uuid4().hex,
                status=dg.DagsterRunStatus.STARTED if fails else dg.DagsterRunStatus.SUCCESS,
                tags={"ops/plan": f"job_{number % 20}", "ops/execution_id": uuid.uuid4().hex},
            )
        )
        if fails:
            instance.report_run_failed(run, "step failed")
            failed.append(run.run_id)
    return failed


def timed(work: Callable[[], list[str]]) -> tuple[float, list[str]]:
    durations, found = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        found = work()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--failed-share", type=float, default=0.1)
    args = parser.parse_args()

    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    handled = set(add_runs(instance, args.runs - args.new, args.failed_share))
    cursor = all_failed_runs_after(instance, None, max_runs=len(handled) + 1).cursor
    new_failures = add_runs(instance, args.new, 1.0)
    print(
        f"setup: {args.runs} runs, {len(handled)} old failures, {args.new} new, {time.perf_counter() - started:.1f} s"
    )

    def ours() -> list[str]:
        return [run.run_id for run in all_failed_runs_after(instance, cursor, max_runs=args.new * 5).runs]

    def unhandled(records: list[dg.RunRecord]) -> list[str]:
        return [
            r.dagster_run.run_id
            for r in records
            if r.dagster_run.status == dg.DagsterRunStatus.FAILURE and r.dagster_run.run_id not in handled
        ]

    def full_scan() -> list[str]:
        return unhandled(list(instance.get_run_records()))

    def failed_scan() -> list[str]:
        return unhandled(list(instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))))

    ours_s, ours_found = timed(ours)
    base_s, base_found = timed(full_scan)
    failed_s, failed_found = timed(failed_scan)
    if ours_found != new_failures or set(base_found) != set(new_failures) or set(failed_found) != set(new_failures):
        raise SystemExit(f"the reads disagree: ours {len(ours_found)}, full scan {len(base_found)} new failures")
    print(
        f"ours: {len(ours_found)} new failures in {ours_s * 1000:.1f} ms; full-history scan: {base_s * 1000:.1f} ms; "
        f"failed-runs scan (informative): {failed_s * 1000:.1f} ms"
    )
    print(f"RESULT name=failure_sensor ours_s={ours_s:.5f} baseline_s={base_s:.5f} speedup={base_s / ours_s:.3f}")


if __name__ == "__main__":
    main()
