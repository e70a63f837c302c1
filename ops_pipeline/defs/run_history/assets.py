"""The run history asset: every Dagster run of this instance, read incrementally from run storage, next to
the runs external workflows report."""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.defs.run_history.ingest import ingest_dagster_runs
from ops_pipeline.markdown import table
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store import runs as run_store


@dg.asset(group_name="insights", kinds={"dagster"})
def run_history(context: dg.AssetExecutionContext, ops_store: OpsStoreResource) -> dg.MaterializeResult:
    """Every run of every workflow: this instance's Dagster runs and the runs external workflows report."""
    engine = ops_store.engine()
    result = ingest_dagster_runs(context.instance, engine)
    context.log.info(
        f"ingested {result.ingested} new or updated Dagster runs"
        + (" (limit reached; the next refresh continues)" if result.backlog else "")
    )
    return dg.MaterializeResult(metadata={**history_metadata(engine, result.ingested), "backlog": result.backlog})


def history_metadata(engine: sa.Engine, ingested: int) -> dict[str, Any]:
    stats = run_store.workflow_stats(engine)
    finished = sum(s.runs for s in stats)
    failures = sum(s.failures for s in stats)
    return {
        "dagster/row_count": run_store.count_runs(engine),
        "ingested_this_refresh": ingested,
        "workflows": len(stats),
        "finished_runs": finished,
        "failure_rate": round(failures / finished, 4) if finished else 0.0,
        "slowest_workflows": dg.MetadataValue.md(_slowest_markdown(stats)),
        "failing_workflows": dg.MetadataValue.md(_failing_markdown(stats)),
    }


def _slowest_markdown(stats: Sequence[run_store.WorkflowStats], top: int = 10) -> str:
    timed = sorted((s for s in stats if s.mean_duration_ms is not None), key=lambda s: -(s.mean_duration_ms or 0))
    rows = (
        (s.workflow, s.runs, f"{(s.mean_duration_ms or 0) / 1000:.2f}", f"{(s.max_duration_ms or 0) / 1000:.2f}")
        for s in timed[:top]
    )
    return table(["workflow", "runs", "mean s", "max s"], rows, empty="No runs yet.")


def _failing_markdown(stats: Sequence[run_store.WorkflowStats], top: int = 10) -> str:
    failing = sorted((s for s in stats if s.failures), key=lambda s: (-s.failure_rate, s.workflow))
    rows = ((s.workflow, f"{s.failures} / {s.runs}", f"{s.failure_rate:.1%}") for s in failing[:top])
    return table(["workflow", "failed", "rate"], rows, empty="No failures.")
