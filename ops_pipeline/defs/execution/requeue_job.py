"""`requeue_dead_letter`, a job anyone can launch from the UI: re-execute a dead letter's failed run from its
failure (a new run in the same run group, tagged with the execution), once, audited in the execution's trail."""

from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from ops_pipeline.defs.execution import tags
from ops_pipeline.execution.access import AccessDenied
from ops_pipeline.execution.requeue import RequeueRefused, requeue
from ops_pipeline.execution.webserver import Webserver, WebserverError
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.plans import PlansResource
from ops_pipeline.resources.policies import PoliciesResource
from ops_pipeline.store.executions import UnknownExecution


class RequeueConfig(dg.Config):
    dead_letter: str = Field(description="the dead letter's id, or an execution id (its newest dead letter)")
    actor: str = Field(default="", description="who requeues (default: the run's ops/actor tag, else the UI user)")


@dg.op(description="Re-execute a dead letter's failed run from its failure, once.")
def requeue_op(
    context: dg.OpExecutionContext,
    config: RequeueConfig,
    ops_store: OpsStoreResource,
    plans: PlansResource,
    policies: PoliciesResource,
) -> None:
    now = datetime.now(UTC)
    try:
        requeued = requeue(
            ops_store.engine(),
            config.dead_letter.strip(),
            actor=config.actor or tags.actor_of(dict(context.run.tags), "user:launchpad"),
            now=now,
            launch=Webserver(plans.graphql()).reexecute_from_failure,
            rbac=policies.rbac_policy(),
        )
    except (RequeueRefused, LookupError, UnknownExecution, AccessDenied, WebserverError) as error:
        raise dg.Failure(description=f"requeue refused: {error}", allow_retries=False) from None
    context.log.info(
        f"dead letter {requeued.dead_letter.id} (execution {requeued.dead_letter.execution_id}) requeued as run "
        f"{requeued.run_id}"
    )


@dg.job(
    config=dg.ConfigMapping(
        config_schema=RequeueConfig.to_config_schema(),
        config_fn=lambda values: {"ops": {"requeue_op": {"config": values}}},
    ),
    description="Requeue a dead letter: re-execute its failed run from the failure (once).",
)
def requeue_dead_letter() -> None:
    requeue_op()
