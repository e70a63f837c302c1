"""Benchmark: the incremental run-history refresh against the naive refresh that re-reads every run.

The issue: "Ingestion is incremental (a cursor on the run storage), idempotent (re-ingesting never duplicates)
and fast: 100,000 runs already ingested cost nothing on the next refresh."

Setup (not timed against anything):

* a real Dagster instance: `DagsterInstance.ephemeral()` by default (Dagster's in-memory SQL run and event-log
  storage), or `--instance sqlite` (a temp DAGSTER_HOME with Dagster's default SQLite storages) or
  `--instance postgresql` (dagster-postgres storage in a fresh database on 127.0.0.1:5432, user postgres).
  The storage matters for the initial ingestion only, which reads the step stats (and, for failed runs, the
  failure events) of every finished run from the event log, one query per run. Measured per run, all in: about
  1.2 ms in memory, 8 ms with dagster-postgres (a new connection per query) and 40-90 ms with the default SQLite
  event log, which creates one database file for each run it is asked about that has none. The two non-default
  storages therefore need `--runs` in the low thousands to finish in minutes.
* 100,000 finished runs (`--runs`) of 50 jobs over 30 days, 5% failed, seeded by one bulk INSERT into the run
  storage's `runs` and `run_tags` tables. Each row is the one Dagster's own `add_run` writes (checked against
  `SqlRunStorage._get_run_insertion_values`) plus what the run's start and end events set: `start_time`,
  `end_time` and an `update_timestamp` at the end. `get_run_records` must read them back as seeded (status,
  job, tags, times) before anything is timed. The seeded runs have no event logs.
* an ops store: a SQLite file in a temp dir by default, or a fresh PostgreSQL database with `--store postgresql`.

Measured, in this order:

* initial  - `ingest_dagster_runs(instance, engine)` from an empty cursor, refresh after refresh until no
             backlog is left (each refresh takes at most MAX_RUNS_PER_REFRESH runs): every run (informative).
* ours     - `ingest_dagster_runs` again with nothing new, 5 times (median reported): it must ingest 0 runs and
             rewrite nothing.
* new      - 100 new runs added (bulk, later update times), then `ingest_dagster_runs`, 3 times (informative):
             exactly 100 ingested each time.
* baseline - the naive refresh: `instance.get_run_records(limit=None)`, each record converted as ours converts
             it (`to_run_record`), and `upsert_runs` of all of them. Its conversion skips the per-run event-log
             queries (the seeded runs have no events, so the records are identical - checked on a sample), so
             the baseline is a lower bound of a naive refresh.

Checked: after each step the ops store holds exactly the runs in run storage (count and distinct run ids);
re-ingesting never duplicates (the baseline re-upserts everything, and the cursor is moved back 300 runs and
re-read); stored rows match the runs (status, workflow, times) on a sample. Target: a refresh with nothing
new takes under 0.1 s ("costs nothing": one query on the run storage). Exit code 1 when it does not, or when
anything is missing or wrong.

Run:  .venv/bin/python benchmarks/run_history.py                       (100,000 runs, about 3 minutes)
      .venv/bin/python benchmarks/run_history.py --runs 20000          (quick run)
      .venv/bin/python benchmarks/run_history.py --instance postgresql --runs 2000 --store postgresql

The last line is machine-readable:
  RESULT name=run_history_refresh ours_s=<s> baseline_s=<s> speedup=<baseline/ours>
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import dagster as dg
import numpy as np
import sqlalchemy as sa
from dagster._core.storage.runs.schema import RunsTable, RunTagsTable
from dagster._core.storage.runs.sql_run_storage import SqlRunStorage
from servers import BenchmarkError, pg_database, pg_url, timed

from ops_pipeline.defs.run_history.ingest import CURSOR, DAGSTER_STATUSES, ingest_dagster_runs, to_run_record
from ops_pipeline.store import runs as run_store
from ops_pipeline.store.cursors import read_cursor, write_cursor
from ops_pipeline.store.engine import dispose_all, open_store
from ops_pipeline.store.tables import workflow_runs

TARGET_S = 0.1
JOBS = 50
HISTORY_DAYS = 30
FAILURE_RATE = 0.05
NEW_RUNS = 100
NEW_BATCHES = 3
RESET_BACK = 300  # runs the idempotency check re-reads by moving the cursor back
SAMPLE = 300
SEED = 20260101
START = datetime(2025, 12, 1, tzinfo=UTC)  # the seeded history ends 30 days later; new runs come after that


@dataclass
class Figures:
    runs: int
    instance: str
    store: str
    seed_s: float = 0.0
    initial_s: float = 0.0
    ours: list[float] = field(default_factory=list)
    new: list[float] = field(default_factory=list)
    reingest_s: float = 0.0
    baseline: list[float] = field(default_factory=list)
    baseline_read: list[float] = field(default_factory=list)
    baseline_upsert: list[float] = field(default_factory=list)

    @property
    def ours_s(self) -> float:
        return statistics.median(self.ours)

    @property
    def baseline_s(self) -> float:
        return statistics.median(self.baseline)


@contextmanager
def dagster_instance(kind: str, workdir: Path) -> Iterator[dg.DagsterInstance]:
    if kind == "ephemeral":
        instance = dg.DagsterInstance.ephemeral()
        try:
            yield instance
        finally:
            instance.dispose()
    elif kind == "sqlite":
        (workdir / "dagster_home").mkdir()
        with dg.instance_for_test(temp_dir=str(workdir / "dagster_home")) as instance:
            yield instance
    else:
        with pg_database() as name:
            url = pg_url(name, "postgresql")
            home = workdir / "dagster_home"
            home.mkdir()
            (home / "dagster.yaml").write_text(f"storage:\n  postgres:\n    postgres_url: {url}\n")
            instance = dg.DagsterInstance.from_config(str(home))
            try:
                yield instance
            finally:
                instance.dispose()


@contextmanager
def ops_store(kind: str, workdir: Path) -> Iterator[sa.Engine]:
    if kind == "sqlite":
        yield open_store(f"sqlite:///{workdir / 'ops_store.db'}")
        dispose_all()
        return
    with pg_database() as name:
        try:
            yield open_store(pg_url(name, "postgresql"))
        finally:
            dispose_all()


# --------------------------------------------------------------------------------------------------- seeding


def run_storage(instance: dg.DagsterInstance) -> SqlRunStorage:
    storage = instance.run_storage
    if not isinstance(storage, SqlRunStorage):
        raise BenchmarkError(f"the instance's run storage is {type(storage).__name__}, not a SQL run storage")
    return storage


@dataclass(frozen=True)
class Seeded:
    run: dg.DagsterRun
    created: datetime
    start: float
    end: float


def make_runs(first: int, count: int, begin: datetime, span_s: float, rng: np.random.Generator) -> list[Seeded]:
    """`count` finished runs created over [begin, begin + span_s), ids from `first`, in creation order."""
    offsets = np.sort(rng.uniform(0, span_s, count))
    jobs = rng.integers(0, JOBS, count)
    failed = rng.random(count) < FAILURE_RATE
    durations = rng.lognormal(3.5, 0.7, count)
    seeded = []
    for i in range(count):
        n = first + i
        created = begin + timedelta(seconds=float(offsets[i]))
        status = dg.DagsterRunStatus.FAILURE if failed[i] else dg.DagsterRunStatus.SUCCESS
        run = dg.DagsterRun(
            job_name=f"job_{int(jobs[i]):02d}",
            run_id=str(uuid.UUID(int=n + 1, version=4)),
            status=status,
            run_config={"ops": {"load": {"config": {"batch": n % 7}}}},
            tags={"team": "bench", "env": "prod"},
        )
        start = created.timestamp() + 2.0
        seeded.append(Seeded(run, created, start, start + float(durations[i])))
    return seeded


def insertion_values(storage: SqlRunStorage, one: Seeded, backfill_column: bool) -> dict[str, Any]:
    """The `runs` row `add_run` writes (as `_get_run_insertion_values`), plus what the start and end events set."""
    run = one.run
    values: dict[str, Any] = {
        "run_id": run.run_id,
        "pipeline_name": run.job_name,
        "status": run.status.value,
        "run_body": dg.serialize_value(run),
        "snapshot_id": run.job_snapshot_id,
        "partition": run.tags.get("dagster/partition"),
        "partition_set": run.tags.get("dagster/partition_set"),
        "create_timestamp": one.created,
    }
    if backfill_column:
        values["backfill_id"] = run.tags.get("dagster/backfill")
    values.update(
        update_timestamp=datetime.fromtimestamp(one.end, UTC),
        start_time=one.start,
        end_time=one.end,
    )
    return values


def seed(instance: dg.DagsterInstance, runs: Sequence[Seeded]) -> None:
    storage = run_storage(instance)
    backfill_column = storage.has_backfill_id_column()
    reference = storage._get_run_insertion_values(runs[0].run, runs[0].created)
    ours = insertion_values(storage, runs[0], backfill_column)
    extra = {"update_timestamp", "start_time", "end_time"}
    if {k: v for k, v in ours.items() if k not in extra} != reference:
        raise BenchmarkError(f"the seeded row differs from Dagster's: {ours} vs {reference}")
    rows = [insertion_values(storage, one, backfill_column) for one in runs]
    tags = [
        {"run_id": one.run.run_id, "key": key, "value": value}
        for one in runs
        for key, value in one.run.tags_for_storage().items()
    ]
    with storage.connect() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(RunsTable.insert(), rows[start : start + 5000])
        for start in range(0, len(tags), 5000):
            conn.execute(RunTagsTable.insert(), tags[start : start + 5000])


def check_seeded(instance: dg.DagsterInstance, runs: Sequence[Seeded], expected_total: int) -> None:
    """Dagster must read the bulk-inserted runs back exactly as `add_run` plus the run events would leave them."""
    total = instance.get_runs_count()
    if total != expected_total:
        raise BenchmarkError(f"run storage holds {total} runs, expected {expected_total}")
    sample = [runs[i] for i in np.linspace(0, len(runs) - 1, min(SAMPLE, len(runs))).astype(int)]
    records = {
        r.dagster_run.run_id: r
        for r in instance.get_run_records(filters=dg.RunsFilter(run_ids=[one.run.run_id for one in sample]), limit=None)
    }
    for one in sample:
        record = records.get(one.run.run_id)
        if record is None:
            raise BenchmarkError(f"run {one.run.run_id} was seeded but Dagster does not find it")
        got = (
            record.dagster_run.job_name,
            record.dagster_run.status,
            dict(record.dagster_run.tags),
            record.create_timestamp,
            record.start_time,
            record.end_time,
        )
        want = (one.run.job_name, one.run.status, dict(one.run.tags), one.created, one.start, one.end)
        if got != want or abs(record.update_timestamp.timestamp() - one.end) > 1e-5:
            raise BenchmarkError(f"Dagster reads run {one.run.run_id} back as {got}, seeded {want}")


# ------------------------------------------------------------------------------------------------- checking


class EventFreeInstance:
    """Stands in for the instance in `to_run_record` for the baseline: the seeded runs have no events, so the
    step stats and failure events are empty either way; only the per-run queries are left out."""

    def get_run_step_stats(self, run_id: str) -> list[Any]:
        return []

    def all_logs(self, run_id: str, of_type: Any = None) -> list[Any]:
        return []


def check_conversion(instance: dg.DagsterInstance, runs: Sequence[Seeded]) -> None:
    failed = [one for one in runs if one.run.status == dg.DagsterRunStatus.FAILURE][: SAMPLE // 2]
    ids = [one.run.run_id for one in [*runs[: SAMPLE // 2], *failed]]
    records = instance.get_run_records(filters=dg.RunsFilter(run_ids=ids), limit=None)
    for record in records:
        if to_run_record(instance, record) != to_run_record(cast(dg.DagsterInstance, EventFreeInstance()), record):
            raise BenchmarkError(f"run {record.dagster_run.run_id}: the baseline's record differs from ours")


def check_store(engine: sa.Engine, instance: dg.DagsterInstance, runs: Sequence[Seeded], what: str) -> None:
    """The ops store holds each run of the run storage exactly once, as it is there."""
    in_storage = instance.get_runs_count()
    with engine.connect() as conn:
        count, distinct = conn.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(workflow_runs.c.run_id)))
        ).one()
    if not count == distinct == in_storage:
        raise BenchmarkError(
            f"{what}: the ops store holds {count} rows ({distinct} distinct runs), run storage {in_storage} runs"
        )
    sample = {one.run.run_id: one for one in runs[:: max(1, len(runs) // SAMPLE)]}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                workflow_runs.c.run_id,
                workflow_runs.c.workflow,
                workflow_runs.c.status,
                workflow_runs.c.origin,
                workflow_runs.c.created_at,
                workflow_runs.c.duration_ms,
            ).where(workflow_runs.c.run_id.in_(list(sample)))
        ).all()
    if len(rows) != len(sample):
        raise BenchmarkError(f"{what}: {len(sample) - len(rows)} sampled runs are missing from the ops store")
    for row in rows:
        one = sample[row.run_id]
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        got = (row.workflow, row.status, row.origin, created, round(row.duration_ms, 3))
        want = (
            one.run.job_name,
            DAGSTER_STATUSES[one.run.status],
            "dagster",
            one.created,
            round((one.end - one.start) * 1000.0, 3),
        )
        if got != want:
            raise BenchmarkError(f"{what}: run {row.run_id} is stored as {got}, expected {want}")


def recorded_at_max(engine: sa.Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(workflow_runs.c.recorded_at))).scalar()


# ------------------------------------------------------------------------------------------------- measuring


def naive_refresh(instance: dg.DagsterInstance, engine: sa.Engine, figures: Figures) -> int:
    started = time.perf_counter()
    records = instance.get_run_records(limit=None)
    converted = [to_run_record(cast(dg.DagsterInstance, EventFreeInstance()), r) for r in records]
    read = time.perf_counter()
    with engine.begin() as conn:
        written = run_store.upsert_runs(conn, converted)
    ended = time.perf_counter()
    figures.baseline.append(ended - started)
    figures.baseline_read.append(read - started)
    figures.baseline_upsert.append(ended - read)
    return written


def run(args: argparse.Namespace, workdir: Path) -> Figures:
    figures = Figures(args.runs, args.instance, args.store)
    rng = np.random.default_rng(SEED)
    with dagster_instance(args.instance, workdir) as instance, ops_store(args.store, workdir) as engine:
        print(f"seeding {args.runs:,} runs into the {args.instance} instance ...", flush=True)
        history = make_runs(0, args.runs, START, HISTORY_DAYS * 86400.0, rng)
        figures.seed_s = timed(lambda: seed(instance, history))[1]
        check_seeded(instance, history, args.runs)
        check_conversion(instance, history)

        print("initial ingestion (every run, from an empty cursor) ...", flush=True)
        ingested, figures.initial_s = timed(lambda: ingest_until_current(instance, engine))
        if ingested != args.runs:
            raise BenchmarkError(f"the initial ingestion ingested {ingested} runs, expected {args.runs}")
        check_store(engine, instance, history, "after the initial ingestion")
        with engine.connect() as conn:
            initial_cursor = read_cursor(conn, CURSOR)

        print(f"refreshing with nothing new x{args.repeat} ...", flush=True)
        stamp = recorded_at_max(engine)
        for _ in range(args.repeat):
            again, seconds = timed(lambda: ingest_dagster_runs(instance, engine))
            if again.ingested != 0 or again.cursor != initial_cursor:
                raise BenchmarkError(f"a refresh with nothing new ingested {again.ingested} runs ({again.cursor})")
            figures.ours.append(seconds)
        if recorded_at_max(engine) != stamp:
            raise BenchmarkError("a refresh with nothing new rewrote rows")

        print(f"refreshing with {NEW_RUNS} new runs x{NEW_BATCHES} ...", flush=True)
        everything = list(history)
        for batch in range(NEW_BATCHES):
            # later than every update already in run storage, as runs added after a refresh are
            begin = START + timedelta(days=HISTORY_DAYS + 1, hours=batch)
            fresh = make_runs(len(everything), NEW_RUNS, begin, 3000.0, rng)
            seed(instance, fresh)
            everything.extend(fresh)
            check_seeded(instance, fresh, len(everything))
            result, seconds = timed(lambda: ingest_dagster_runs(instance, engine))
            if result.ingested != NEW_RUNS:
                raise BenchmarkError(f"{NEW_RUNS} new runs, but the refresh ingested {result.ingested}")
            figures.new.append(seconds)
            check_store(engine, instance, fresh, f"after new batch {batch + 1}")

        print(f"re-ingesting the last {RESET_BACK} runs (cursor moved back) ...", flush=True)
        with engine.begin() as conn:
            assert initial_cursor is not None
            write_cursor(conn, CURSOR, initial_cursor)
        again, figures.reingest_s = timed(lambda: ingest_dagster_runs(instance, engine))
        if again.ingested != RESET_BACK:
            raise BenchmarkError(f"re-reading from the old cursor ingested {again.ingested}, expected {RESET_BACK}")
        check_store(engine, instance, everything, "after re-ingesting")

        print(
            f"naive refresh (get_run_records(limit=None) + upsert_runs of all) x{args.baseline_repeat} ...", flush=True
        )
        for _ in range(args.baseline_repeat):
            written = naive_refresh(instance, engine, figures)
            if written != len(everything):
                raise BenchmarkError(f"the naive refresh wrote {written} rows, expected {len(everything)}")
            check_store(engine, instance, everything, "after the naive refresh")

        final = ingest_dagster_runs(instance, engine)
        if final.ingested != 0:
            raise BenchmarkError(f"after everything, a refresh still ingested {final.ingested} runs")
    return figures


def ingest_until_current(instance: dg.DagsterInstance, engine: sa.Engine) -> int:
    """Refreshes, as the schedule would run them one after another, until no backlog is left."""
    total = 0
    while True:
        result = ingest_dagster_runs(instance, engine)
        total += result.ingested
        if not result.backlog:
            return total


# ------------------------------------------------------------------------------------------------- reporting


def runs(values: list[float]) -> str:
    return ", ".join(f"{v:.4f}" for v in values)


def report(f: Figures) -> None:
    print()
    print(f"{f.runs:,} Dagster runs ({f.instance} instance), ops store on {f.store}")
    header = f"{'measurement':<70} {'median s':>9}  runs (s)"
    print(header)
    print("-" * len(header))
    rows: list[tuple[str, list[float]]] = [
        (f"setup: bulk-seed {f.runs:,} runs into run storage", [f.seed_s]),
        (f"initial ingestion: {f.runs:,} runs from an empty cursor", [f.initial_s]),
        ("ours: refresh with nothing new", f.ours),
        (f"refresh with {NEW_RUNS} new runs", f.new),
        (f"re-ingest {RESET_BACK} runs from an older cursor (no duplicates)", [f.reingest_s]),
        ("baseline: naive refresh, every run re-read and upserted", f.baseline),
        ("  get_run_records(limit=None) + to_run_record (no event-log queries)", f.baseline_read),
        ("  upsert_runs of all", f.baseline_upsert),
    ]
    for label, values in rows:
        print(f"{label:<70} {statistics.median(values):>9.4f}  {runs(values)}")
    print()
    print(f"initial ingestion: {f.initial_s / f.runs * 1000:.2f} ms a run")
    print(
        f"ours: {f.ours_s * 1000:.1f} ms with nothing new "
        f"({'met' if f.ours_s < TARGET_S else 'MISSED'}: target < {TARGET_S:.1f} s), "
        f"{f.baseline_s / f.ours_s:.0f}x faster than the naive refresh"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100_000, help="runs seeded into the Dagster instance")
    parser.add_argument(
        "--instance",
        choices=("ephemeral", "sqlite", "postgresql"),
        default="ephemeral",
        help="Dagster storage (see the module docstring)",
    )
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite", help="ops store backend")
    parser.add_argument("--repeat", type=int, default=5, help="refreshes with nothing new (median reported)")
    parser.add_argument("--baseline-repeat", type=int, default=1, help="naive refreshes (median reported)")
    args = parser.parse_args(argv)
    if args.runs < max(SAMPLE, RESET_BACK) or args.repeat < 1 or args.baseline_repeat < 1:
        parser.error(f"--runs must be >= {max(SAMPLE, RESET_BACK)} and repetitions >= 1")
    try:
        with tempfile.TemporaryDirectory(prefix="ops_bench_runs_") as workdir:
            figures = run(args, Path(workdir))
    except BenchmarkError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    report(figures)
    met = figures.ours_s < TARGET_S
    if not met:
        print(f"TARGET MISSED: a refresh with nothing new takes {figures.ours_s:.3f} s, target < {TARGET_S:.1f} s")
    print(
        f"RESULT name=run_history_refresh ours_s={figures.ours_s:.3f} baseline_s={figures.baseline_s:.3f} "
        f"speedup={figures.baseline_s / figures.ours_s:.1f}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
