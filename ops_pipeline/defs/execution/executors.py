"""Which Dagster executor runs a plan's steps (`plans.executor`), and the tags that route each step under it.

`celery` sends every step as a task to `plans.celery.queue` on the configured broker; the workers load this
code location (OPS_CONFIG, OPS_DATABASE_URL in their environment) and the run's instance from its reference,
so the ops store, sources, services and secrets a step uses must be reachable from every worker.
"""

import dagster as dg

from ops_pipeline.settings import ConfigError, PlansSettings

CELERY_QUEUE_TAG = "dagster-celery/queue"
CELERY_RUN_PRIORITY_TAG = "dagster-celery/run_priority"
# Celery priorities run 0-10 on top of a step's default 5: fast plans' steps are taken first from a shared queue.
CELERY_PRIORITY_BY_SLA = {"fast": "4", "medium": "2", "long": "0"}


def executor_for(plans: PlansSettings) -> dg.ExecutorDefinition:
    if plans.executor == "in_process":
        return dg.in_process_executor
    if plans.executor == "multiprocess":
        return dg.multiprocess_executor
    try:
        from dagster_celery import celery_executor
    except ImportError:
        raise ConfigError(
            "plans.executor: celery needs the dagster-celery package: pip install 'ops_pipeline[celery]'"
        ) from None
    return celery_executor.configured(plans.celery.executor_config())


def step_tags(plans: PlansSettings) -> dict[str, str]:
    """Tags of every step node: the Celery queue its task goes to."""
    return {CELERY_QUEUE_TAG: plans.celery.queue} if plans.executor == "celery" else {}


def run_tags(plans: PlansSettings, sla_class: str) -> dict[str, str]:
    return {CELERY_RUN_PRIORITY_TAG: CELERY_PRIORITY_BY_SLA[sla_class]} if plans.executor == "celery" else {}
