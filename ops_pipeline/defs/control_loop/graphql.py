"""Re-executing an ended run from its failure over the webserver's GraphQL API, as the UI's "Re-execute from
failure" does: Dagster offers no other public way to launch a re-execution from a job or a sensor. The new run
joins the parent's run group and loads the done steps' outputs from it."""

from __future__ import annotations

import requests

REEXECUTE_FROM_FAILURE = """
mutation Rerun($params: ReexecutionParams!) {
  launchRunReexecution(reexecutionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
TIMEOUT_S = 30


class ReexecutionFailed(RuntimeError):
    pass


def reexecute_from_failure(url: str, parent_run_id: str, tags: dict[str, str]) -> str:
    """Launch the re-execution of `parent_run_id` from its failure with `tags` over the parent's; its run id."""
    params = {
        "parentRunId": parent_run_id,
        "strategy": "FROM_FAILURE",
        "extraTags": [{"key": key, "value": value} for key, value in tags.items()],
    }
    try:
        response = requests.post(
            url, json={"query": REEXECUTE_FROM_FAILURE, "variables": {"params": params}}, timeout=TIMEOUT_S
        )
        response.raise_for_status()
        result = response.json()["data"]["launchRunReexecution"]
    except (requests.RequestException, KeyError, ValueError, TypeError) as error:
        raise ReexecutionFailed(f"GraphQL at {url}: {error} (is the webserver up? set plans.graphql_url)") from None
    if result["__typename"] != "LaunchRunSuccess":
        raise ReexecutionFailed(f"GraphQL at {url}: {result['__typename']}: {result}")
    return str(result["run"]["runId"])
