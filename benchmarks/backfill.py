"""Benchmark: the PostgreSQL -> PostgreSQL backfill asset against pandas `to_sql` and a raw COPY pipe.

The issue: "`benchmarks/backfill.py` loads a 6-column table (int, bigint, numeric, text, timestamptz, boolean)
from one PostgreSQL database to another across daily partitions, through the real partitioned asset
(validation, reconciliation and manifest included), and prints rows per second. In the same run it times two
references on the same 200,000 rows: `DataFrame.to_sql(..., method="multi", chunksize=10_000)` and a raw
`COPY ... TO STDOUT` piped into `COPY ... FROM STDIN` (the practical ceiling). Targets: at least 40x faster than
to_sql, and at least half the raw pipe's rate. Peak memory of one partition load must not grow with partition
size (200k vs 2M rows)."

Setup (not timed): two fresh databases `ops_bench_<random>` on one server (dropped at the end, even on
failure). The source gets `trades` (id integer PK, account bigint, amount numeric(12,2), note text with NULLs,
tabs and 37-character memos, traded_at timestamptz, settled boolean; an index on traded_at, as a time-windowed
source has) holding 200,000 rows in 10 daily partitions of 20,000 (2024-03-01 .. 2024-03-10), and
`trades_probe` for the memory probes: 200,000 rows on 2024-04-01 and 2,000,000 on 2024-04-02, and
`trades_large` for the scale run: 2,000,000 rows in 10 daily partitions of 200,000 (2024-05-01 ..). Each is one
INSERT ... SELECT generate_series (trades, trades_large: one; trades_probe: one per day), then VACUUM ANALYZE (so
no measurement pays for hint bits).

Why 10 x 20,000: ten days is a realistic range for one run, and 20,000 rows a day keeps every window above
twice the validation sample (500), so validation takes its TABLESAMPLE path as on real tables. The per-run
and per-window costs (Dagster run, validation queries, two checksum queries, manifest write) are fixed per
run or window and are part of "ours"; fewer, larger windows would flatter it, more, smaller windows hurt it.

Measured, in this order, each into fresh destination tables:

* raw pipe - psycopg2 `copy_expert("COPY (SELECT <6 columns> FROM trades) TO STDOUT", pipe)` in a thread and
             `copy_expert("COPY ... FROM STDIN", pipe)` in the main thread, through `os.pipe()`, into a table of
             the shape our asset creates (the 6 columns and an index on traded_at), connections already open,
             timed end to end with the commit; the median of --repeat runs is the ceiling. The same into a
             table without the index is shown for information.
* ours     - `dagster.materialize` of the code location's backfill asset over the whole partition range in ONE run
             (partitions_per_run = 10), on a persistent SQLite-backed DagsterInstance (`instance_for_test`),
             with a SQLite-file ops store migrated beforehand: opens the connections, creates the destination
             table from the source's catalog, validates a 500-row sample of each window (not_null, unique,
             range), loads each window (delete + COPY pipe + commit), reconciles it (count + row-hash sum on
             each side), records its manifest row, emits both checks. Windows go two at a time (the
             pipeline's default concurrent_windows into PostgreSQL; --concurrent-windows N to compare).
             Timed end to end around `materialize`; each of --repeat runs loads a fresh destination table,
             the median is reported (the first run in the process is the cold one). Checked: success, both
             checks passed, destination count and checksum equal the source's, one reconciled manifest record
             per partition carrying the run id. The phases are read from the run's event log, next to the
             load's wall-clock time the materialization reports (`load_s`). Dagster's console log (DEBUG,
             stderr) goes to a file in the temp dir meanwhile: the same work, less noise.
* floor    - the Dagster floor, on the same instance: an asset of the same shape (partitions, policy, resources,
             both blocking checks, one materialization per partition) with a no-op body, --repeat times; what
             a 10-partition run costs before any data moves. `--instance postgresql` (dagster-postgres, as
             deploy/dagster.postgres.yaml) and `--instance ephemeral` (in memory) show it on other storages.
* scale    - informative, not judged: ours and the raw pipe again on `trades_large`, the same run shape with
             10x the rows per window, (--repeat + 1) // 2 times each; ours' rate is set against to_sql's rate
             measured on the 200,000 rows (to_sql pays per 10,000-row INSERT, so its rate does not depend on
             the total). --no-scale skips it.
* to_sql   - `pandas.read_sql` of the source table (SQLAlchemy, postgresql+psycopg2; NOT timed, shown), then
             `DataFrame.to_sql(..., method="multi", chunksize=10_000)` into a new table (timed; it includes
             to_sql's CREATE TABLE). Checked: 200,000 rows arrive.
* memory   - a fresh `python benchmarks/backfill.py --memory-probe <rows>` process per size materializes ONE
             partition of `trades_probe` (200,000 rows, then 2,000,000) through the asset and reports its peak
             RSS: VmHWM, the process's own high-water mark, rather than `ru_maxrss`, which Linux reports as
             max(VmHWM, the parent's high-water mark when it forked the child) - shown too, for the record.

Targets: ours >= 40x faster than to_sql, ours' rows/s >= 0.5x the raw pipe's, and the 2M-row partition's peak
RSS <= 1.5x the 200k-row partition's. Exit code 0 when all are met, 1 otherwise or when a result is wrong.
The report also sets the 40x budget (to_sql's time / 40) against the Dagster floor: on this machine the floor
alone takes about 0.9 of it, which is why the 40x is out of reach for a 200,000-row run through Dagster.

Server (same environment variables as the tests): OPS_TEST_PG_HOST/PORT/USER (default 127.0.0.1:5432, postgres,
trust auth).

Run:  .venv/bin/python benchmarks/backfill.py                        (about 3 minutes)
      .venv/bin/python benchmarks/backfill.py --no-memory            (skip the two probe processes)
      .venv/bin/python benchmarks/backfill.py --instance ephemeral   (Dagster storage in memory, informative)

The last line is machine-readable:
  RESULT name=backfill ours_s=<s> baseline_s=<to_sql s> speedup=<to_sql/ours> limit_fraction=<ours/raw rows/s>
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
import yaml
from servers import PG_HOST, PG_PORT, PG_USER, BenchmarkError, pg_connect, pg_database, pg_url, timed

from ops_pipeline.definitions import build_definitions, shared_resources
from ops_pipeline.defs.backfills.assets import partitions_for
from ops_pipeline.defs.backfills.checks import RECONCILE, VALIDATE
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.sources import SourcesResource
from ops_pipeline.settings import BackfillSettings, load_settings
from ops_pipeline.store.engine import dispose_all, open_store
from ops_pipeline.store.manifests import manifests

DAYS = 10
ROWS_PER_DAY = 20_000
ROWS = DAYS * ROWS_PER_DAY
FIRST_DAY = date(2024, 3, 1)
PROBE_DAYS = {200_000: date(2024, 4, 1), 2_000_000: date(2024, 4, 2)}
SCALE_FIRST_DAY = date(2024, 5, 1)
SCALE_ROWS_PER_DAY = 200_000
SCALE_ROWS = DAYS * SCALE_ROWS_PER_DAY
SAMPLE_ROWS = 500
TO_SQL_CHUNK = 10_000
SPEEDUP_TARGET = 40.0
FRACTION_TARGET = 0.5
MEMORY_GROWTH_LIMIT = 1.5
COLUMNS = ("id", "account", "amount", "note", "traded_at", "settled")
SELECT_COLUMNS = ", ".join(COLUMNS)
CHECKSUM_SQL = (
    f"SELECT count(*), coalesce(sum(('x' || substr(md5(ROW({SELECT_COLUMNS})::text), 1, 16))::bit(64)::bigint), 0) "
    "FROM {table}"
)
TRADES_DDL = """
CREATE TABLE {table} (
    id integer PRIMARY KEY,
    account bigint NOT NULL,
    amount numeric(12,2) NOT NULL,
    note text,
    traded_at timestamptz NOT NULL,
    settled boolean NOT NULL
);
CREATE INDEX ix_{table}_traded_at ON {table} (traded_at);
"""
# The raw pipe's destination: the table our asset creates (ddl.prepare_destination), its columns with the
# source's types, plus (when `indexed`, as the asset does) an index on the time column.
DESTINATION_DDL = """
CREATE TABLE {table} (id integer, account bigint, amount numeric(12,2), note text, traded_at timestamptz,
                      settled boolean);
"""

# --------------------------------------------------------------------------------------------------- server


def execute(
    database: str, sql: str, params: tuple[Any, ...] = (), *, autocommit: bool = False
) -> list[tuple[Any, ...]]:
    conn = pg_connect(database)
    conn.autocommit = autocommit
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params or None)
            rows = cursor.fetchall() if cursor.description else []
        if not autocommit:
            conn.commit()
        return rows
    finally:
        conn.close()


def insert_trades(database: str, table: str, first_id: int, first_day: date, days: int, per_day: int) -> None:
    """`days x per_day` rows, `per_day` spread evenly over each UTC day (exact microsecond offsets), one
    statement. Every 7th note is NULL, every 11th holds a tab (COPY escapes it), the rest a 37-character memo."""
    execute(
        database,
        f"""
        INSERT INTO {table}
        SELECT {first_id} + g, 1 + g %% 5000, round((g * 7.31)::numeric %% 10000, 2),
               CASE WHEN g %% 7 = 0 THEN NULL WHEN g %% 11 = 0 THEN E'memo\\t' || g
                    ELSE 'order ' || md5(g::text) END,
               %s::timestamptz + (g / {per_day}) * interval '1 day'
                   + ((g %% {per_day})::bigint * 86400000000 / {per_day}) * interval '1 microsecond',
               g %% 3 = 0
        FROM generate_series(0, {days * per_day - 1}) g
    """,
        (f"{first_day.isoformat()} 00:00:00+00",),
    )


def build_source(database: str, *, probes: bool, scale: bool) -> None:
    execute(database, TRADES_DDL.format(table="trades"))
    insert_trades(database, "trades", 0, FIRST_DAY, DAYS, ROWS_PER_DAY)
    if scale:
        execute(database, TRADES_DDL.format(table="trades_large"))
        insert_trades(database, "trades_large", 0, SCALE_FIRST_DAY, DAYS, SCALE_ROWS_PER_DAY)
    if probes:
        execute(database, TRADES_DDL.format(table="trades_probe"))
        first_id = 0
        for rows, day in PROBE_DAYS.items():
            insert_trades(database, "trades_probe", first_id, day, 1, rows)
            first_id += rows
    execute(database, "VACUUM ANALYZE", autocommit=True)
    per_day = execute(database, "SELECT traded_at::date, count(*) FROM trades GROUP BY 1 ORDER BY 1")
    expected = [(FIRST_DAY + timedelta(days=d), ROWS_PER_DAY) for d in range(DAYS)]
    if per_day != expected:
        raise BenchmarkError(f"source partitions are {per_day}, expected {expected}")


def checksum(database: str, table: str) -> tuple[int, int]:
    [(count, total)] = execute(database, CHECKSUM_SQL.format(table=table))
    return int(count), int(total)


# ------------------------------------------------------------------------------------------------------ ours


def pg_source(database: str) -> dict[str, Any]:
    return {
        "type": "postgresql",
        "host": PG_HOST,
        "port": PG_PORT,
        "user": PG_USER,
        "database": database,
        "connect_timeout_s": 10,
    }


def pipeline_spec(
    table: str, first: date, days: int, destination_table: str, lanes: int | None = None
) -> dict[str, Any]:
    return {
        "source": "src",
        "table": table,
        "time_column": "traded_at",
        "destination": "dst",
        "destination_table": destination_table,
        "window": "daily",
        "start": first.isoformat(),
        "end": (first + timedelta(days=days)).isoformat(),
        "partitions_per_run": max(days, 1),
        "concurrent_windows": lanes,
        "validation": {
            "sample_rows": SAMPLE_ROWS,
            "threshold": 1.0,
            "rules": [
                {"rule": "not_null", "column": "id"},
                {"rule": "not_null", "column": "traded_at"},
                {"rule": "unique", "column": "id"},
                {"rule": "range", "column": "amount", "min": 0, "max": 10_000},
            ],
        },
    }


def write_config(workdir: Path, source_db: str, destination_db: str, pipelines: dict[str, dict[str, Any]]) -> Path:
    path = workdir / "ops.yaml"
    document = {"sources": {"src": pg_source(source_db), "dst": pg_source(destination_db)}, "backfills": pipelines}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@contextmanager
def dagster_instance(kind: str, workdir: Path) -> Iterator[dg.DagsterInstance]:
    """sqlite: Dagster's default storage (SQLite files) in a temp DAGSTER_HOME, as `instance_for_test` builds it
    (the reported figure); postgresql: dagster-postgres storage in a fresh database on the same server, as
    deploy/dagster.postgres.yaml configures production; ephemeral: in-memory storage, what a run costs without
    storage writes. The last two are informative."""
    if kind == "ephemeral":
        instance = dg.DagsterInstance.ephemeral()
        try:
            yield instance
        finally:
            instance.dispose()
        return
    home = workdir / "dagster_home"
    home.mkdir(exist_ok=True)
    if kind == "sqlite":
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            yield instance
        return
    with pg_database() as database:
        (home / "dagster.yaml").write_text(
            f"storage:\n  postgres:\n    postgres_url: {pg_url(database)}\ntelemetry:\n  enabled: false\n"
        )
        instance = dg.DagsterInstance.from_config(str(home))
        try:
            yield instance
        finally:
            instance.dispose()


@contextmanager
def console_to(path: Path) -> Iterator[None]:
    """Dagster's console logger (DEBUG, on stderr) writes into `path` meanwhile: the same work, less noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


@dataclass
class OursRun:
    seconds: float
    load_s: float  # the load's wall-clock time the materialization reports (windows on their lanes, manifests)
    phases: dict[str, float]


def materialize(
    instance: dg.DagsterInstance, config: Path, store_url: str, pipeline: str, first: str, last: str
) -> tuple[dg.ExecuteInProcessResult, float, float]:
    """(result, seconds, wall-clock start) of one run of the backfill asset over [first, last]."""
    definitions = build_definitions(config, store_url)
    asset, resources = definitions.get_assets_def(pipeline), definitions.resources
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    wall = time.time()
    result, seconds = timed(
        lambda: dg.materialize([asset], instance=instance, resources=resources, tags=tags, raise_on_error=False)
    )
    return result, seconds, wall


def floor_asset(name: str) -> dg.AssetsDefinition:
    """The Dagster floor: an asset shaped like ours (same partitions, backfill policy, resources, both blocking
    checks, a materialization per partition) whose body does nothing."""
    spec = BackfillSettings.model_validate(pipeline_spec("trades", FIRST_DAY, DAYS, name))

    @dg.asset(
        name=name,
        partitions_def=partitions_for(spec),
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=DAYS),
        check_specs=[
            dg.AssetCheckSpec(VALIDATE, asset=name, blocking=True),
            dg.AssetCheckSpec(RECONCILE, asset=name, blocking=True),
        ],
    )
    def floor(ops_store: OpsStoreResource, sources: SourcesResource) -> Iterator[Any]:
        yield dg.AssetCheckResult(check_name=VALIDATE, passed=True)
        yield dg.MaterializeResult(check_results=[dg.AssetCheckResult(check_name=RECONCILE, passed=True)])

    return floor


def time_floor(instance: dg.DagsterInstance, config: Path, store_url: str, repeat: int) -> list[float]:
    keys = [(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(DAYS)]
    resources = shared_resources(load_settings(config), store_url)
    tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    seconds = []
    for i in range(repeat):
        asset = floor_asset(f"floor_{i}")
        result, elapsed = timed(
            lambda asset=asset: dg.materialize(  # type: ignore[misc]
                [asset], instance=instance, resources=resources, tags=tags, raise_on_error=False
            )
        )
        if not result.success or len(result.asset_materializations_for_node(f"floor_{i}")) != DAYS:
            raise BenchmarkError("the no-op floor asset did not materialize its partitions")
        seconds.append(elapsed)
    return seconds


def verify_run(result: dg.ExecuteInProcessResult, store_url: str, pipeline: str, keys: list[str], rows: int) -> float:
    """Checks the run and its manifest; returns the load's wall-clock time from the materialization."""
    if not result.success:
        failures = [
            e.step_failure_data.error.message
            for e in result.all_events
            if e.event_type == dg.DagsterEventType.STEP_FAILURE and e.step_failure_data.error
        ]
        raise BenchmarkError(f"{pipeline}: the run failed: {failures}")
    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    if checks != {VALIDATE: True, RECONCILE: True}:
        raise BenchmarkError(f"{pipeline}: checks {checks}, expected both passed")
    records = manifests(open_store(store_url), pipeline)
    found = sorted(r.partition_key for r in records)
    if found != keys:
        raise BenchmarkError(f"{pipeline}: manifest records for {found}, expected one for each of {keys}")
    wrong = [
        r
        for r in records
        if not r.reconciled
        or r.rows_read != r.rows_written
        or r.rows_written != rows
        or r.source_checksum != r.destination_checksum
        or r.run_id != result.run_id
    ]
    if wrong:
        raise BenchmarkError(f"{pipeline}: manifest records not reconciled as expected: {wrong[:2]}")
    [materialization, *_] = result.asset_materializations_for_node(pipeline)
    return float(materialization.metadata["load_s"].value)  # type: ignore[arg-type]


def run_phases(instance: dg.DagsterInstance, run_id: str, wall_start: float, seconds: float) -> dict[str, float]:
    """Where the run's time went, from the event log's timestamps (the first of each kind of event)."""
    stamps: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue  # a context.log line
        key = event.event_type.value
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            key += ":" + event.event_specific_data.asset_check_key.name  # type: ignore[union-attr]
        stamps.setdefault(key, entry.timestamp)
    step_start = stamps[dg.DagsterEventType.STEP_START.value]
    validated = stamps[f"{dg.DagsterEventType.ASSET_CHECK_EVALUATION.value}:{VALIDATE}"]
    materialized = stamps[dg.DagsterEventType.ASSET_MATERIALIZATION.value]
    step_end = stamps[dg.DagsterEventType.STEP_SUCCESS.value]
    return {
        "before the step (run start, resources)": step_start - wall_start,
        "step: connect, create table, validate": validated - step_start,
        "step: load windows (+ manifest rows, logs)": materialized - validated,
        "step: materialization + check events": step_end - materialized,
        "after the step (run end)": wall_start + seconds - step_end,
    }


def time_ours(
    instance: dg.DagsterInstance,
    config: Path,
    store_url: str,
    source_db: str,
    destination_db: str,
    repeat: int,
    *,
    table: str = "trades",
    first: date = FIRST_DAY,
    per_day: int = ROWS_PER_DAY,
    prefix: str = "ours",
) -> list[OursRun]:
    """`repeat` runs of pipelines `<prefix>_<i>` (from `table` into `<prefix>_copy_<i>`) over DAYS days."""
    expected = checksum(source_db, table)
    keys = [(first + timedelta(days=d)).isoformat() for d in range(DAYS)]
    runs = []
    for i in range(repeat):
        pipeline = f"{prefix}_{i}"
        result, seconds, wall = materialize(instance, config, store_url, pipeline, keys[0], keys[-1])
        load_s = verify_run(result, store_url, pipeline, keys, per_day)
        if checksum(destination_db, f"{prefix}_copy_{i}") != expected:
            raise BenchmarkError(f"{pipeline}: destination count/checksum differ from the source's {expected}")
        runs.append(OursRun(seconds, load_s, run_phases(instance, result.run_id, wall, seconds)))
    return runs


# -------------------------------------------------------------------------------------------------- references


def raw_pipe(source_db: str, destination_db: str, table: str, *, indexed: bool, source_table: str = "trades") -> float:
    src, dst = pg_connect(source_db), pg_connect(destination_db)
    try:
        with dst.cursor() as cursor:
            cursor.execute(DESTINATION_DDL.format(table=table))
            if indexed:
                cursor.execute(f"CREATE INDEX ix_{table}_traded_at ON {table} (traded_at)")
        dst.commit()
        started = time.perf_counter()
        read_fd, write_fd = os.pipe()
        failure: list[BaseException] = []

        def produce() -> None:
            try:
                with os.fdopen(write_fd, "wb") as sink, src.cursor() as out:
                    out.copy_expert(f"COPY (SELECT {SELECT_COLUMNS} FROM {source_table}) TO STDOUT", sink)
            except BaseException as error:
                failure.append(error)

        producer = threading.Thread(target=produce, name="raw-copy-out")
        producer.start()
        try:
            with os.fdopen(read_fd, "rb") as source, dst.cursor() as into:
                into.copy_expert(f"COPY {table} ({SELECT_COLUMNS}) FROM STDIN", source)
        finally:
            producer.join()
        if failure:
            raise failure[0]
        dst.commit()
        seconds = time.perf_counter() - started
    finally:
        src.close()
        dst.close()
    if checksum(destination_db, table) != checksum(source_db, source_table):
        raise BenchmarkError(f"raw pipe into {table}: count/checksum differ from the source's")
    return seconds


def to_sql(source_db: str, destination_db: str) -> tuple[float, float]:
    """(read_sql seconds, to_sql seconds)."""
    import pandas as pd  # here, not at the top: the memory probes must not carry pandas in their baseline

    source = sa.create_engine(pg_url(source_db))
    destination = sa.create_engine(pg_url(destination_db))
    try:
        frame, read_s = timed(lambda: pd.read_sql(f"SELECT {SELECT_COLUMNS} FROM trades ORDER BY id", source))
        if len(frame) != ROWS:
            raise BenchmarkError(f"read_sql returned {len(frame)} rows, expected {ROWS}")
        _, write_s = timed(
            lambda: frame.to_sql("ref_to_sql", destination, index=False, method="multi", chunksize=TO_SQL_CHUNK)
        )
    finally:
        source.dispose()
        destination.dispose()
    [(count,)] = execute(destination_db, "SELECT count(*) FROM ref_to_sql")
    if count != ROWS:
        raise BenchmarkError(f"to_sql wrote {count} rows, expected {ROWS}")
    return read_s, write_s


# ------------------------------------------------------------------------------------------------------ memory


def peak_rss_kb() -> int:
    """This process's own RSS high-water mark: VmHWM (Linux), else ru_maxrss.

    Not ru_maxrss where VmHWM exists: for RUSAGE_SELF Linux reports max(VmHWM, the high-water mark of the image
    the process exec'd from), so a child started by this benchmark would report the parent's peak at fork time
    (the parent holds to_sql's DataFrame by then) and hide its own."""
    return _proc_status("VmHWM:") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def current_rss_kb() -> int:
    return _proc_status("VmRSS:")


def _proc_status(key: str) -> int:
    """A kilobyte figure from /proc/self/status, 0 where it is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_probe(rows: int, source_db: str, destination_db: str, instance_kind: str) -> int:
    """In a fresh process: load ONE partition of `rows` rows of trades_probe through the asset; print a JSON line
    with the RSS before the run, the high-water mark before it and the high-water mark after it."""
    day = PROBE_DAYS[rows]
    pipeline = f"probe_{rows}"
    with tempfile.TemporaryDirectory(prefix="ops_bench_probe_") as tmp:
        workdir = Path(tmp)
        config = write_config(
            workdir, source_db, destination_db, {pipeline: pipeline_spec("trades_probe", day, 1, f"probe_copy_{rows}")}
        )
        store_url = f"sqlite:///{workdir / 'ops_store.db'}"
        open_store(store_url)
        with dagster_instance(instance_kind, workdir) as instance, console_to(workdir / "dagster.log"):
            rss, before = current_rss_kb(), peak_rss_kb()
            result, seconds, _ = materialize(instance, config, store_url, pipeline, day.isoformat(), day.isoformat())
            after = peak_rss_kb()
            maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            verify_run(result, store_url, pipeline, [day.isoformat()], rows)
        dispose_all()
    print(
        json.dumps(
            {
                "rows": rows,
                "rss_kb": rss,
                "before_kb": before,
                "peak_kb": after,
                "maxrss_kb": maxrss,
                "seconds": seconds,
            }
        )
    )
    return 0


@dataclass
class Probe:
    rows: int
    rss_kb: int  # resident when the run started
    before_kb: int  # high-water mark when the run started (imports, instance, ops store)
    peak_kb: int  # high-water mark after the run
    maxrss_kb: int  # ru_maxrss after the run (includes the parent's peak at fork time, see peak_rss_kb)
    seconds: float


def run_probe(rows: int, source_db: str, destination_db: str, instance_kind: str) -> Probe:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--memory-probe",
        str(rows),
        "--source-db",
        source_db,
        "--destination-db",
        destination_db,
        "--instance",
        instance_kind,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise BenchmarkError(
            f"memory probe for {rows} rows failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
        )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return Probe(
        rows,
        int(report["rss_kb"]),
        int(report["before_kb"]),
        int(report["peak_kb"]),
        int(report["maxrss_kb"]),
        float(report["seconds"]),
    )


# ------------------------------------------------------------------------------------------------- reporting


@dataclass
class Figures:
    instance: str
    load: float = 0.0  # 1-minute load average when the benchmark started: other work on the machine skews it
    setup_s: float = 0.0
    ours: list[OursRun] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    raw_bare: list[float] = field(default_factory=list)
    read_sql_s: float = 0.0
    to_sql_s: float = 0.0
    probes: list[Probe] = field(default_factory=list)
    scale_ours: list[OursRun] = field(default_factory=list)  # SCALE_ROWS in one run, 10 windows of 200k
    scale_raw: list[float] = field(default_factory=list)

    @property
    def ours_s(self) -> float:
        return statistics.median(r.seconds for r in self.ours)

    @property
    def raw_s(self) -> float:
        return statistics.median(self.raw)

    @property
    def speedup(self) -> float:
        return self.to_sql_s / self.ours_s

    @property
    def limit_fraction(self) -> float:
        return self.raw_s / self.ours_s  # (ROWS / ours_s) / (ROWS / raw_s)

    @property
    def memory_growth(self) -> float | None:
        if len(self.probes) != 2:
            return None
        small, large = sorted(self.probes, key=lambda p: p.rows)
        return large.peak_kb / small.peak_kb


def runs(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def mib(kb: int) -> str:
    return f"{kb / 1024:.1f} MiB"


def report(f: Figures) -> list[str]:
    """Prints the figures; returns the targets missed."""
    print()
    print(
        f"{ROWS:,} rows (6 columns), {DAYS} daily partitions of {ROWS_PER_DAY:,}; Dagster instance: {f.instance}; "
        f"setup {f.setup_s:.1f} s (not timed); {os.cpu_count()} CPUs, load average {f.load:.2f} at the start"
    )
    header = f"{'measurement':<60} {'seconds':>8} {'rows/s':>10}  runs (s)"
    print(header)
    print("-" * len(header))
    ours_load = statistics.median(r.load_s for r in f.ours)
    floor = statistics.median(f.floor)
    rows = (
        ("ours: materialize, 10 partitions in one run (median)", f.ours_s, [r.seconds for r in f.ours]),
        ("  the load's wall-clock time (materialization's load_s)", ours_load, [r.load_s for r in f.ours]),
        ("  Dagster floor: same asset shape, no-op body (median)", floor, f.floor),
        ("raw pipe COPY TO | COPY FROM, same table shape (median)", f.raw_s, f.raw),
        ("  raw pipe into a table without the traded_at index (info)", statistics.median(f.raw_bare), f.raw_bare),
        ("pandas to_sql(method='multi', chunksize=10_000), write only", f.to_sql_s, [f.to_sql_s]),
        ("  pandas read_sql of the source (info, not in to_sql's time)", f.read_sql_s, [f.read_sql_s]),
    )
    for label, seconds, values in rows:
        print(f"{label:<60} {seconds:>8.3f} {ROWS / seconds:>10,.0f}  {runs(values)}")
    print()
    median_run = sorted(f.ours, key=lambda r: r.seconds)[len(f.ours) // 2]
    print(f"ours, where the median run's {median_run.seconds:.3f} s went (event log timestamps):")
    for label, seconds in median_run.phases.items():
        print(f"  {label:<45} {seconds:>7.3f} s")
    print(f"  {'of which the load (load_s)':<45} {median_run.load_s:>7.3f} s")
    print()
    missed = []
    print(
        f"ceiling: the raw pipe is {f.to_sql_s / f.raw_s:.1f}x faster than to_sql on this machine; "
        f"ours needs >= {SPEEDUP_TARGET / (f.to_sql_s / f.raw_s):.2f} of its rate for {SPEEDUP_TARGET:.0f}x"
    )
    print(
        f"speedup vs to_sql: {f.speedup:.1f}x (target {SPEEDUP_TARGET:.0f}x: "
        f"{'met' if f.speedup >= SPEEDUP_TARGET else 'MISSED'}; the load time alone: {f.to_sql_s / ours_load:.1f}x)"
    )
    print(
        f"ours as a fraction of the raw pipe's rate: {f.limit_fraction:.2f} (target {FRACTION_TARGET:.2f}: "
        f"{'met' if f.limit_fraction >= FRACTION_TARGET else 'MISSED'}; "
        f"vs the index-less pipe {statistics.median(f.raw_bare) / f.ours_s:.2f}; "
        f"the load time alone {f.raw_s / ours_load:.2f})"
    )
    if f.speedup < SPEEDUP_TARGET:
        missed.append(f"speedup vs to_sql {f.speedup:.1f}x < {SPEEDUP_TARGET:.0f}x")
    if f.limit_fraction < FRACTION_TARGET:
        missed.append(f"fraction of the raw pipe's rate {f.limit_fraction:.2f} < {FRACTION_TARGET:.2f}")
    budget = f.to_sql_s / SPEEDUP_TARGET
    print(
        f"the {SPEEDUP_TARGET:.0f}x budget for {ROWS:,} rows is {budget:.3f} s; Dagster's floor for a run of this "
        f"shape (no-op body) is {floor:.3f} s, {floor / budget:.2f} of it, before any row moves"
    )
    report_scale(f)
    growth = f.memory_growth
    if growth is not None:
        print()
        for p in sorted(f.probes, key=lambda p: p.rows):
            print(
                f"memory, one partition of {p.rows:>9,} rows in a fresh process: peak RSS {mib(p.peak_kb)}, "
                f"+{mib(p.peak_kb - p.rss_kb)} over the {mib(p.rss_kb)} at the run's start "
                f"(ru_maxrss {mib(p.maxrss_kb)}); run {p.seconds:.2f} s, {p.rows / p.seconds:,.0f} rows/s"
            )
        print(
            f"memory: peak RSS 2M / 200k rows = {growth:.2f}x (limit {MEMORY_GROWTH_LIMIT:.1f}x: "
            f"{'met' if growth <= MEMORY_GROWTH_LIMIT else 'MISSED'})"
        )
        if growth > MEMORY_GROWTH_LIMIT:
            missed.append(f"peak memory grows {growth:.2f}x from 200k to 2M rows > {MEMORY_GROWTH_LIMIT:.1f}x")
    return missed


def report_scale(f: Figures) -> None:
    """The same pipeline and run shape with 10x the rows per window: the per-run and per-partition costs weigh
    less. Informative; the targets are judged on the 200k rows above."""
    if not f.scale_ours:
        return
    ours = statistics.median(r.seconds for r in f.scale_ours)
    load = statistics.median(r.load_s for r in f.scale_ours)
    raw = statistics.median(f.scale_raw)
    to_sql_rate = ROWS / f.to_sql_s
    print()
    print(f"at scale (informative): {SCALE_ROWS:,} rows, {DAYS} daily partitions of {SCALE_ROWS_PER_DAY:,}, one run")
    for label, seconds, values in (
        ("ours: materialize (median)", ours, [r.seconds for r in f.scale_ours]),
        ("  the load's wall-clock time (load_s)", load, [r.load_s for r in f.scale_ours]),
        ("raw pipe, same table shape (median)", raw, f.scale_raw),
    ):
        print(f"{label:<60} {seconds:>8.3f} {SCALE_ROWS / seconds:>10,.0f}  {runs(values)}")
    print(
        f"  ours as a fraction of the raw pipe's rate: {raw / ours:.2f}; ours' rate over to_sql's measured rate "
        f"above ({to_sql_rate:,.0f} rows/s, one INSERT per 10,000 rows): {SCALE_ROWS / ours / to_sql_rate:.1f}x"
    )


# ------------------------------------------------------------------------------------------------------- main


def bench(repeat: int, memory: bool, scale: bool, instance_kind: str, lanes: int | None) -> Figures:
    figures = Figures(instance_kind, os.getloadavg()[0])
    with (
        pg_database() as source_db,
        pg_database() as destination_db,
        tempfile.TemporaryDirectory(prefix="ops_bench_") as tmp,
    ):
        workdir = Path(tmp)
        print(f"source {source_db}, destination {destination_db}: generating rows ...", flush=True)
        figures.setup_s = timed(lambda: build_source(source_db, probes=memory, scale=scale))[1]

        print("timing the raw pipe ...", flush=True)
        for i in range(repeat):
            figures.raw.append(raw_pipe(source_db, destination_db, f"raw_copy_{i}", indexed=True))
            figures.raw_bare.append(raw_pipe(source_db, destination_db, f"raw_bare_{i}", indexed=False))

        print(
            f"timing ours (dagster.materialize of the backfill asset; Dagster's console log: {workdir}/dagster.log,"
            " deleted at the end) ...",
            flush=True,
        )
        pipelines = {
            f"ours_{i}": pipeline_spec("trades", FIRST_DAY, DAYS, f"ours_copy_{i}", lanes) for i in range(repeat)
        }
        scale_repeat = max(1, (repeat + 1) // 2) if scale else 0
        for i in range(scale_repeat):
            pipelines[f"large_{i}"] = pipeline_spec("trades_large", SCALE_FIRST_DAY, DAYS, f"large_copy_{i}", lanes)
        config = write_config(workdir, source_db, destination_db, pipelines)
        store_url = f"sqlite:///{workdir / 'ops_store.db'}"
        open_store(store_url)  # migrations run here, outside the timed region
        try:
            with dagster_instance(instance_kind, workdir) as instance, console_to(workdir / "dagster.log"):
                figures.ours = time_ours(instance, config, store_url, source_db, destination_db, repeat)
                figures.floor = time_floor(instance, config, store_url, repeat)
                if scale:
                    print(f"at scale: ours and the raw pipe on {SCALE_ROWS:,} rows ...", flush=True)
                    figures.scale_ours = time_ours(
                        instance,
                        config,
                        store_url,
                        source_db,
                        destination_db,
                        scale_repeat,
                        table="trades_large",
                        first=SCALE_FIRST_DAY,
                        per_day=SCALE_ROWS_PER_DAY,
                        prefix="large",
                    )
        except BenchmarkError:
            print((workdir / "dagster.log").read_text()[-3000:], file=sys.stderr)
            raise
        dispose_all()
        for i in range(scale_repeat):
            figures.scale_raw.append(
                raw_pipe(source_db, destination_db, f"large_raw_{i}", indexed=True, source_table="trades_large")
            )

        print("timing pandas to_sql ...", flush=True)
        figures.read_sql_s, figures.to_sql_s = to_sql(source_db, destination_db)

        if memory:
            for rows in PROBE_DAYS:
                print(f"memory probe: one partition of {rows:,} rows in a fresh process ...", flush=True)
                figures.probes.append(run_probe(rows, source_db, destination_db, instance_kind))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="runs of ours and of the raw pipe (median reported)")
    parser.add_argument("--no-memory", action="store_true", help="skip the two memory-probe processes")
    parser.add_argument("--no-scale", action="store_true", help=f"skip the {SCALE_ROWS:,}-row run (informative)")
    parser.add_argument(
        "--instance",
        choices=("sqlite", "postgresql", "ephemeral"),
        default="sqlite",
        help="Dagster's storage: SQLite files in a temp DAGSTER_HOME (default), dagster-postgres "
        "in a fresh database, or in memory",
    )
    parser.add_argument(
        "--concurrent-windows",
        type=int,
        help="windows loaded at once in ours (the pipeline's concurrent_windows; default: unset, i.e. 2)",
    )
    parser.add_argument("--memory-probe", type=int, choices=sorted(PROBE_DAYS), help=argparse.SUPPRESS)
    parser.add_argument("--source-db", help=argparse.SUPPRESS)
    parser.add_argument("--destination-db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe is not None:
        if not args.source_db or not args.destination_db:
            parser.error("--memory-probe needs --source-db and --destination-db")
        return memory_probe(args.memory_probe, args.source_db, args.destination_db, args.instance)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    started = time.perf_counter()
    try:
        figures = bench(args.repeat, not args.no_memory, not args.no_scale, args.instance, args.concurrent_windows)
    except BenchmarkError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    missed = report(figures)
    print(f"\nwhole benchmark: {time.perf_counter() - started:.1f} s")
    for target in missed:
        print(f"TARGET MISSED: {target}")
    print(
        f"RESULT name=backfill ours_s={figures.ours_s:.3f} baseline_s={figures.to_sql_s:.3f} "
        f"speedup={figures.speedup:.1f} limit_fraction={figures.limit_fraction:.2f}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
