"""The Dagster webserver's GraphQL API, for what the CLI and the jobs ask of runs they did not start: find an
execution's unfinished runs, terminate them (`terminateRun`: a queued run leaves the queue, a running one gets
the run launcher's termination), re-execute a failed run from its failure (`launchRunReexecution`), launch a job
of this code location (`launchRun`) and read a run's status."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import requests

from ops_pipeline.settings.plans import DEFAULT_GRAPHQL_URL

EXECUTION_TAG = "ops/execution_id"
UNFINISHED = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]
TIMEOUT_S = 30

ACTIVE_RUNS = """
query($filter: RunsFilter!) { runsOrError(filter: $filter) { __typename
    ... on Runs { results { runId status } } ... on PythonError { message } } }
"""
TERMINATE = """
mutation($runId: String!) { terminateRun(runId: $runId) { __typename
    ... on TerminateRunSuccess { run { runId } } ... on TerminateRunFailure { message }
    ... on RunNotFoundError { message } ... on UnauthorizedError { message } ... on PythonError { message } } }
"""
REEXECUTE_FROM_FAILURE = """
mutation($params: ReexecutionParams!) { launchRunReexecution(reexecutionParams: $params) { __typename
    ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } } } }
"""
LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
    ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } } } }
"""
RUN_STATUS = """
query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status }
    ... on RunNotFoundError { message } ... on PythonError { message } } }
"""
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")
LOCATION, REPOSITORY = "ops_pipeline", "__repository__"  # the code location as workspace.yaml names it


class WebserverError(RuntimeError):
    pass


@dataclass(frozen=True)
class Webserver:
    url: str  # the GraphQL endpoint, e.g. http://127.0.0.1:3000/graphql

    def unfinished_runs(self, execution_id: str) -> list[str]:
        """The execution's runs that are queued, starting, running or being cancelled."""
        found = self._call(
            ACTIVE_RUNS,
            {"filter": {"tags": [{"key": EXECUTION_TAG, "value": execution_id}], "statuses": UNFINISHED}},
            "runsOrError",
            "Runs",
        )
        return [str(run["runId"]) for run in found["results"]]

    def terminate(self, run_id: str) -> None:
        self._call(TERMINATE, {"runId": run_id}, "terminateRun", "TerminateRunSuccess")

    def reexecute_from_failure(self, parent_run_id: str, tags: dict[str, str]) -> str:
        """Launch a run re-executing the failed `parent_run_id` from its failure; returns the new run's id."""
        params = {
            "parentRunId": parent_run_id,
            "strategy": "FROM_FAILURE",
            "extraTags": [{"key": key, "value": value} for key, value in tags.items()],
        }
        launched = self._call(REEXECUTE_FROM_FAILURE, {"params": params}, "launchRunReexecution", "LaunchRunSuccess")
        return str(launched["run"]["runId"])

    def launch_run(self, job: str, run_config: dict[str, Any], tags: dict[str, str]) -> str:
        """Launch `job` of this code location; returns the new run's id."""
        params = {
            "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job},
            "runConfigData": run_config,
            "executionMetadata": {"tags": [{"key": key, "value": value} for key, value in tags.items()]},
        }
        launched = self._call(LAUNCH, {"params": params}, "launchRun", "LaunchRunSuccess")
        return str(launched["run"]["runId"])

    def run_status(self, run_id: str) -> str:
        """QUEUED, STARTED, SUCCESS, FAILURE, CANCELED, ... (Dagster's run statuses)."""
        return str(self._call(RUN_STATUS, {"id": run_id}, "runOrError", "Run")["status"])

    def _call(self, query: str, variables: dict[str, Any], field: str, success: str) -> dict[str, Any]:
        try:
            response = requests.post(self.url, json={"query": query, "variables": variables}, timeout=TIMEOUT_S)
            response.raise_for_status()
            body = response.json()
            result: dict[str, Any] = body["data"][field]
        except requests.RequestException as error:
            raise WebserverError(
                f"the Dagster webserver at {self.url} did not answer ({error}); is it running? "
                "(plans.graphql_url or OPS_GRAPHQL_URL names it)"
            ) from None
        except (KeyError, TypeError, ValueError):
            raise WebserverError(f"the Dagster webserver at {self.url}: unexpected answer to {field}") from None
        if result.get("__typename") != success:
            detail = result.get("message") or result.get("errors") or result["__typename"]
            raise WebserverError(f"{field} at {self.url}: {result['__typename']}: {detail}")
        return result


def graphql_url(configured: str | None) -> str:
    """`plans.graphql_url` if set, else $OPS_GRAPHQL_URL, else the local webserver's default address."""
    return configured or os.environ.get("OPS_GRAPHQL_URL") or DEFAULT_GRAPHQL_URL
