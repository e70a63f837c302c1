"""Run and job tags of plan jobs: what the UI filters on and what a step reads to find its execution."""

EXECUTION = "ops/execution_id"
ACTOR = "ops/actor"
PLAN = "ops/plan"
STRUCTURE = "ops/plan_structure"
SLA = "ops/sla"
ACTION = "ops/action"
ENVIRONMENT = "ops/environment"
APPROVAL_LEVEL = "ops/approval_level"
TENANT = "ops/tenant"
PRIORITY = "dagster/priority"

# The run queue starts higher priorities first: fast plans ahead of slow ones.
PRIORITY_BY_SLA = {"fast": "10", "medium": "5", "long": "0"}


def actor_of(tags: dict[str, str], default: str) -> str:
    """Who is acting: the CLI's or a sensor's ops/actor tag, else the UI user Dagster records, else `default`."""
    return tags.get(ACTOR) or tags.get("dagster/user") or default


# Runs the SLA monitor launches for an execution still running past its deadline (not EXECUTION: that tag
# makes a run part of the execution it names).
ALERT_EXECUTION = "ops/alert_execution_id"
ALERT_DEADLINE = "ops/alert_deadline"
ALERT_PLAN = "ops/alert_plan"
ALERT_RUN = "ops/alert_run_id"
