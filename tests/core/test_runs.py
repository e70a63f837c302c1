from datetime import UTC, datetime, timedelta

import pytest

from ops_pipeline.core.runs import normalize_status, parse_external_run, summarize_nodes

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("completed", "success"),
        ("FAILED", "failure"),
        ("cancelled", "canceled"),
        ("in_progress", "running"),
        ("pending", "queued"),
        ("success", "success"),
    ],
)
def test_status_aliases_normalise(word: str, status: str) -> None:
    assert normalize_status(word) == status


def test_unknown_status_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown status 'weird'.*queued, running, success, failure, canceled"):
        normalize_status("weird")


def test_duration_comes_from_start_and_end_when_not_given() -> None:
    run = parse_external_run(
        {"workflow": "w", "run_id": "1", "status": "ok", "started_at": T0, "ended_at": T0 + timedelta(seconds=4)}
    )
    record = run.to_record()
    assert (record.status, record.duration_ms, record.created_at, record.origin) == ("success", 4000.0, T0, "external")


def test_node_logs_become_a_bounded_step_summary() -> None:
    nodes = [{"node": f"n{i}", "status": "ok" if i % 3 else "failed"} for i in range(120)]
    summary = summarize_nodes(nodes)
    assert summary["nodes"] == 120 and summary["by_status"] == {"failed": 40, "ok": 80}
    assert len(summary["first"]) == 50


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"run_id": "1", "status": "ok"}, "workflow: Field required"),
        ({"workflow": "", "run_id": "1", "status": "ok"}, "workflow: String should have at least 1 character"),
        ({"workflow": " w", "run_id": "1", "status": "ok"}, "workflow: must not start or end with whitespace"),
        ({"workflow": "w", "run_id": "1", "status": "ok", "duration_ms": -1}, "duration_ms: Input should be greater"),
        ({"workflow": "w", "run_id": "1", "status": "ok", "started_at": datetime(2026, 1, 1)}, "timezone"),
        ({"workflow": "w", "run_id": "1", "status": "ok", "inputs": {"x": {1, 2}}}, "inputs: must be JSON-serial"),
        (
            {"workflow": "w", "run_id": "1", "status": "ok", "started_at": T0, "ended_at": T0 - timedelta(seconds=1)},
            "ended_at is before started_at",
        ),
        ({"workflow": "w", "run_id": "1", "status": "ok", "colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_bad_runs_are_rejected_with_the_field_and_reason(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match="invalid run: ") as failure:
        parse_external_run(data)
    assert message in str(failure.value)
