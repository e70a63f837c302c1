"""Approvals as jobs anyone can launch from the UI: approve or reject an execution (or, at level 3, a step),
and list what waits for approval. Each decision is checked (bound plan hash, no self-approval at levels 2
and 3, expiry) and recorded with its actor in the execution's audit trail."""

from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from ops_pipeline.defs.execution import tags
from ops_pipeline.execution.access import AccessDenied
from ops_pipeline.execution.approval_flow import ApprovalRefused, approve, reject
from ops_pipeline.markdown.executions import approvals_markdown
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.policies import PoliciesResource
from ops_pipeline.store.approvals import pending_requests
from ops_pipeline.store.executions import UnknownExecution, execution


class ApproveConfig(dg.Config):
    execution_id: str = Field(description="the execution to approve")
    tenant: str = Field(default="default", description="the execution's tenant")
    plan_hash: str = Field(default="", description="the plan hash you reviewed (levels 2 and 3)")
    step: str = Field(default="", description="level 3: the step you approve")
    approver: str = Field(default="", description="who approves (default: the run's ops/actor tag)")
    reason: str = Field(default="", description="why, for the audit trail")


class RejectConfig(dg.Config):
    execution_id: str = Field(description="the execution to reject")
    tenant: str = Field(default="default", description="the execution's tenant")
    step: str = Field(default="", description="level 3: the step you reject")
    actor: str = Field(default="", description="who rejects (default: the run's ops/actor tag)")
    reason: str = Field(default="", description="why, for the audit trail")


class PendingConfig(dg.Config):
    tenant: str = Field(default="default", description="whose pending approvals to list")


def _who(context: dg.OpExecutionContext, given: str) -> str:
    return given or tags.actor_of(dict(context.run.tags), "")


@dg.op(description="Approve an execution (levels 1-2) or one of its steps (level 3).")
def approve_op(
    context: dg.OpExecutionContext, config: ApproveConfig, ops_store: OpsStoreResource, policies: PoliciesResource
) -> None:
    try:
        decided = approve(
            ops_store.engine(),
            config.execution_id,
            tenant=config.tenant,
            approver=_who(context, config.approver),
            now=datetime.now(UTC),
            plan_hash=config.plan_hash or None,
            step_id=config.step or None,
            reason=config.reason or None,
            rbac=policies.rbac_policy(),
        )
    except (ApprovalRefused, UnknownExecution, AccessDenied) as error:
        raise dg.Failure(description=f"approval refused: {error}", allow_retries=False) from None
    context.log.info(
        f"execution {decided.id} approved{' at step ' + config.step if config.step else ''}: {decided.status}"
    )


@dg.op(description="Reject an execution (or, at level 3, a step): it ends without running what waited.")
def reject_op(
    context: dg.OpExecutionContext, config: RejectConfig, ops_store: OpsStoreResource, policies: PoliciesResource
) -> None:
    try:
        decided = reject(
            ops_store.engine(),
            config.execution_id,
            tenant=config.tenant,
            actor=_who(context, config.actor),
            now=datetime.now(UTC),
            step_id=config.step or None,
            reason=config.reason or None,
            rbac=policies.rbac_policy(),
        )
    except (ApprovalRefused, UnknownExecution, AccessDenied) as error:
        raise dg.Failure(description=f"rejection refused: {error}", allow_retries=False) from None
    context.log.info(f"execution {decided.id} rejected: {decided.status}")


@dg.op(description="List the approvals that wait for a decision, with the plan hash to approve.")
def pending_op(context: dg.OpExecutionContext, config: PendingConfig, ops_store: OpsStoreResource) -> dg.Output[int]:
    with ops_store.engine().connect() as conn:
        requests = pending_requests(conn, config.tenant)
        executions = {r.execution_id: execution(conn, r.execution_id) for r in requests}
    markdown = approvals_markdown(requests, executions)
    context.log.info(markdown)
    return dg.Output(len(requests), metadata={"pending": len(requests), "approvals": dg.MetadataValue.md(markdown)})


def flat_config(op_name: str, config_class: type[dg.Config]) -> dg.ConfigMapping:
    """The launchpad form is the op's config itself, with no `ops: <op>: config:` nesting to guess."""

    @dg.config_mapping(config_schema=config_class.to_config_schema())  # type: ignore[call-overload]
    def mapping(values: dict[str, object]) -> dict[str, object]:
        return {"ops": {op_name: {"config": values}}}

    return mapping


@dg.job(config=flat_config("approve_op", ApproveConfig), description="Approve an execution, or a step at level 3.")
def approve_execution() -> None:
    approve_op()


@dg.job(config=flat_config("reject_op", RejectConfig), description="Reject an execution, or a step at level 3.")
def reject_execution() -> None:
    reject_op()


@dg.job(config=flat_config("pending_op", PendingConfig), description="List a tenant's pending approvals.")
def pending_approvals() -> None:
    pending_op()
