import dagster as dg

from tests.dagster.helpers import SNAKE_CASE_RESOLVER, job_of, pg_source, resources, write_config


def run_connection_check(config_file, source: str) -> dg.ExecuteInProcessResult:
    store_url = f"sqlite:///{config_file.parent / 'store.db'}"
    return job_of(config_file, store_url, "check_source_connection").execute_in_process(
        run_config={"source": source},  # the flat launchpad form
        resources=resources(config_file, store_url),
        raise_on_error=False,
    )


def failure_of(result: dg.ExecuteInProcessResult) -> dg.DagsterEvent:
    [event] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return event


def test_connection_check_reports_version_and_latency(tmp_path, pg_database) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database)})
    result = run_connection_check(config, "wh")
    assert result.success
    [materialized] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    metadata = materialized.step_output_data.metadata
    assert metadata["server_version"].value[0].isdigit()
    assert metadata["latency_ms"].value > 0
    assert metadata["target"].value.endswith(f"/{pg_database}")


def test_connection_check_tells_failures_apart(tmp_path, pg_database, closed_port, silent_server) -> None:
    config = write_config(
        tmp_path / "ops.yaml",
        {
            "closed": pg_source(pg_database, port=closed_port),
            "nodb": pg_source(pg_database + "_missing"),
            "norole": pg_source(pg_database, user="no_such_role_ops"),
            "hangs": pg_source(pg_database, port=silent_server, connect_timeout_s=1),
        },
    )
    for source, kind in (
        ("closed", "unreachable"),
        ("nodb", "unknown_database"),
        ("norole", "auth_failed"),
        ("hangs", "timeout"),
    ):
        result = run_connection_check(config, source)
        assert not result.success
        failure = failure_of(result)
        assert failure.step_failure_data.user_failure_data.metadata["error_kind"].value == kind
        assert f"source {source!r}" in failure.step_failure_data.error.message


def test_connection_check_of_unknown_source_names_the_configured_ones(tmp_path, pg_database) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database)})
    result = run_connection_check(config, "nope")
    assert not result.success
    assert "unknown source 'nope' (configured: wh)" in failure_of(result).step_failure_data.error.message


def test_resolver_simulation_job_shows_each_decision(tmp_path) -> None:
    config = write_config(tmp_path / "ops.yaml", {}, resolvers=[SNAKE_CASE_RESOLVER])
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    result = job_of(config, store_url, "simulate_resolver").execute_in_process(
        run_config={"resolver": "canonical", "entities": ["InvoiceLine", "invoice_line"]},
        resources=resources(config, store_url),
    )
    rows = result.output_for_node("simulate_entities")
    assert [(r["input"], r["output"], r["rule"]) for r in rows] == [
        ("InvoiceLine", "invoice_line", "snake"),
        ("invoice_line", "invoice_line", "snake"),
    ]
    [output] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    assert "| InvoiceLine | invoice_line | snake |" in output.step_output_data.metadata["simulation"].value
