"""What the Dagster instance says about the run a catalog scan was recorded under."""

import dagster as dg

from ops_pipeline.defs.catalog.liveness import RunEnded

ENDED_STATUSES = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def run_ended_in(instance: dg.DagsterInstance) -> RunEnded:
    """Why a run no longer runs ("is gone", "ended (FAILURE)"), or None while it does."""

    def run_ended(run_id: str) -> str | None:
        run = instance.get_run_by_id(run_id)
        if run is None:
            return "is gone"
        return f"ended ({run.status.value})" if run.status in ENDED_STATUSES else None

    return run_ended
