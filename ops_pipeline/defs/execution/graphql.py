"""Resuming a step-by-step (level 3) execution at an approved step, as a re-execution of its last run over the
webserver's GraphQL API: Dagster offers no other public way to launch a step subset or a re-execution from a
sensor. The re-execution keeps one run group in the UI (`dagster/root_run_id`) and loads the approved step's
inputs from the earlier runs."""

from dataclasses import dataclass
from typing import Any

import requests

REEXECUTE = """
mutation Resume($params: ExecutionParams!) {
  launchRunReexecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { invalidOutputName }
  }
}
"""
TIMEOUT_S = 30


class ResumeFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class JobAddress:
    location: str
    repository: str
    job: str


def reexecute(
    url: str,
    job: JobAddress,
    *,
    parent_run_id: str,
    root_run_id: str,
    step_keys: list[str],
    run_config: dict[str, Any],
    tags: dict[str, str],
) -> str:
    """Launch a re-execution of `step_keys` from `parent_run_id`; returns the new run's id."""
    run_tags = {
        **tags,
        "dagster/parent_run_id": parent_run_id,
        "dagster/root_run_id": root_run_id,
        "dagster/step_selection": ",".join(step_keys),
    }
    params = {
        "selector": {"repositoryLocationName": job.location, "repositoryName": job.repository, "jobName": job.job},
        "runConfigData": run_config,
        "stepKeys": step_keys,
        "executionMetadata": {
            "parentRunId": parent_run_id,
            "rootRunId": root_run_id,
            "tags": [{"key": k, "value": v} for k, v in run_tags.items()],
        },
    }
    try:
        response = requests.post(url, json={"query": REEXECUTE, "variables": {"params": params}}, timeout=TIMEOUT_S)
        response.raise_for_status()
        result = response.json()["data"]["launchRunReexecution"]
    except (requests.RequestException, KeyError, ValueError, TypeError) as error:
        raise ResumeFailed(f"GraphQL at {url}: {error} (is the webserver up? set plans.graphql_url)") from None
    if result["__typename"] != "LaunchRunSuccess":
        raise ResumeFailed(f"GraphQL at {url}: {result['__typename']}: {result}")
    return str(result["run"]["runId"])
