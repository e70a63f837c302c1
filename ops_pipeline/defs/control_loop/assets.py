"""`replan_events`: the control loop's recent decisions and recovery actions as a table in the UI, with the
patch diff of each replan. Escalations are observed on it as alerts."""

from __future__ import annotations

import dagster as dg

from ops_pipeline.markdown.table import table
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store.control_loop import actions_of, replan_events_of

SHOWN = 50


@dg.asset(
    group_name="control_loop",
    description="The control loop's decisions (replan events) and the recovery actions taken, newest first.",
)
def replan_events(ops_store: OpsStoreResource) -> dg.MaterializeResult:
    with ops_store.engine().connect() as conn:
        events = replan_events_of(conn, limit=SHOWN)
        actions = actions_of(conn, limit=SHOWN)
    decisions = table(
        ["id", "at", "subject", "trigger", "decision", "rule", "replans", "version", "outcome"],
        [
            [
                e.id,
                f"{e.at:%Y-%m-%d %H:%M:%S}",
                e.subject,
                e.trigger_kind,
                e.decision,
                e.rule,
                e.replan_count,
                f"{e.plan_version_before} → {e.plan_version_after}" if e.plan_version_after else e.plan_version_before,
                e.outcome,
            ]
            for e in events
        ],
        empty="The control loop has decided nothing yet.",
    )
    recoveries = table(
        ["id", "action", "execution", "actor", "trigger", "status", "outcome"],
        [[a.id, a.action, a.execution_id, a.actor, a.trigger_kind, a.status, a.outcome] for a in actions],
        empty="No recovery action was taken yet.",
    )
    diffs = "\n\n".join(f"### replan event {e.id}\n{e.diff_markdown}" for e in events if e.diff_markdown)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(events),
            "escalations": sum(1 for e in events if e.escalated),
            "decisions": dg.MetadataValue.md(decisions),
            "recovery_actions": dg.MetadataValue.md(recoveries),
            "replan_diffs": dg.MetadataValue.md(diffs or "No replan produced a new plan version yet."),
        }
    )
