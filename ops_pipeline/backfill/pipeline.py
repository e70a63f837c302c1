"""One backfill pipeline at work: open both ends, validate a sample of each window, load it idempotently,
reconcile it and record the manifest, several windows at once on separate connection pairs (lanes). Free of
Dagster; the partitioned asset drives it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.backfill.ddl import prepare_destination
from ops_pipeline.backfill.lanes import on_lanes
from ops_pipeline.backfill.transfer import LoadResult, load_window, read_sample
from ops_pipeline.core.sample_validation import SampleVerdict, referenced_values, validate_sample
from ops_pipeline.settings import BackfillSettings, OpsSettings
from ops_pipeline.sources.registry import sql_database_for
from ops_pipeline.sources.sql import DirectPath, Session, Transfer
from ops_pipeline.store.manifests import ManifestRecord, record_manifest


@dataclass(frozen=True)
class Window:
    key: str
    start: datetime
    end: datetime


@dataclass
class Lane:
    """One source/destination connection pair. A session works on several windows at once, one per lane."""

    src: Session
    dst: Session


@dataclass
class BackfillSession:
    pipeline: str
    spec: BackfillSettings
    transfer: Transfer
    direct: DirectPath | None  # the destination database's direct path from the source's, if it has one
    lanes: list[Lane]

    def validate_all(self, windows: Sequence[Window]) -> list[SampleVerdict]:
        return on_lanes(self.lanes, windows, self.validate)

    def load_all(
        self, windows: Sequence[Window], verdicts: Sequence[SampleVerdict], engine: sa.Engine, run_id: str | None
    ) -> list[ManifestRecord]:
        """Each window in its own transaction, with its manifest row. When a window fails, the lanes take no new
        window, the ones in flight finish (each whole), and the first failure is raised."""
        pairs = list(zip(windows, verdicts, strict=True))
        return on_lanes(self.lanes, pairs, lambda lane, pair: self.load(lane, pair[0], pair[1], engine, run_id))

    def validate(self, lane: Lane, window: Window) -> SampleVerdict:
        rows = read_sample(lane.src, self.transfer, window.start, window.end, self.spec.validation.sample_rows)
        rules = self.spec.validation.rules
        found = {
            i: _existing(lane.src, rule.table or "", rule.target_column or "", referenced_values(rows, rule))
            for i, rule in enumerate(rules)
            if rule.rule == "referential"
        }
        return validate_sample(rows, rules, self.spec.validation.threshold, found)

    def load(
        self, lane: Lane, window: Window, verdict: SampleVerdict, engine: sa.Engine, run_id: str | None
    ) -> ManifestRecord:
        result = load_window(lane.src, lane.dst, self.transfer, window.start, window.end, self.direct)
        record = _manifest(self.pipeline, window, result, verdict, run_id)
        with engine.begin() as conn:
            record_manifest(conn, record)
        return record


@contextmanager
def backfill_session(settings: OpsSettings, pipeline: str, lanes: int = 1) -> Iterator[BackfillSession]:
    """Connections for `lanes` windows at once (at least one lane) and the destination table, created if new."""
    spec = settings.backfills[pipeline]
    with ExitStack() as stack:
        pairs = [_open_lane(stack, settings, spec) for _ in range(max(1, lanes))]
        src, dst = pairs[0].src, pairs[0].dst
        relation = source_relation(src, spec)
        destination = spec.destination_table or pipeline
        columns, types = prepare_destination(settings, spec, src, dst, relation, destination)
        transfer = Transfer(
            relation, spec.table, columns, spec.time_column, destination, types, spec.chunk_rows, spec.window_timeout_s
        )
        direct = dst.database.direct_path_from(src, dst, transfer)
        yield BackfillSession(pipeline, spec, transfer, direct, pairs)


@contextmanager
def open_session(settings: OpsSettings, source: str, *, writable: bool = False) -> Iterator[Session]:
    """A session on a configured relational source, opened by its database."""
    config = settings.source(source)
    with sql_database_for(config.type).session(source, config, writable=writable) as session:
        yield session


def source_relation(src: Session, spec: BackfillSettings) -> str:
    """The FROM clause of a backfill's source: its table, or its query as a derived table."""
    if spec.table is not None:
        return src.qualified(spec.table)
    return f"({spec.query}) AS backfill_source"


def _open_lane(stack: ExitStack, settings: OpsSettings, spec: BackfillSettings) -> Lane:
    return Lane(
        stack.enter_context(open_session(settings, spec.source)),
        stack.enter_context(open_session(settings, spec.destination, writable=True)),
    )


def _existing(src: Session, table: str, column: str, values: set[object]) -> set[object]:
    """Which of `values` the referenced table holds, asked 500 at a time."""
    found: set[object] = set()
    ordered = sorted(values, key=str)
    quoted = src.quote(column)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ", ".join(src.placeholder for _ in chunk)
        rows = src.rows(f"SELECT {quoted} FROM {src.qualified(table)} WHERE {quoted} IN ({marks})", chunk)
        found.update(row[0] for row in rows)
    return found


def _manifest(
    pipeline: str, window: Window, result: LoadResult, verdict: SampleVerdict, run_id: str | None
) -> ManifestRecord:
    return ManifestRecord(
        pipeline=pipeline,
        partition_key=window.key,
        window_start=window.start,
        window_end=window.end,
        run_id=run_id,
        rows_read=result.rows_read,
        rows_written=result.rows_written,
        source_checksum=result.source_checksum,
        destination_checksum=result.destination_checksum,
        reconciled=result.reconciled,
        validation_score=verdict.score,
        duration_s=round(result.duration_s, 4),
        rows_per_s=round(result.rows_read / result.duration_s, 1) if result.duration_s > 0 else 0.0,
        created_at=datetime.now(UTC),
    )
