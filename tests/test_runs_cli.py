import pytest

from ops_pipeline.cli import main
from ops_pipeline.store import runs as run_store
from ops_pipeline.store.engine import open_store


@pytest.fixture
def store(monkeypatch, tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("OPS_DATABASE_URL", url)
    return url


def test_log_list_and_latest(store: str, capsys) -> None:
    assert (
        main(["runs", "log", "export", "r1", "completed", "--inputs", '{"day": "2026-11-21"}', "--duration-ms", "1500"])
        == 0
    )
    assert (
        main(
            [
                "runs",
                "log",
                "export",
                "r2",
                "failed",
                "--started-at",
                "2030-01-01T00:00:00+00:00",
                "--ended-at",
                "2030-01-01T00:00:03+00:00",
                "--failure-message",
                "disk full",
            ]
        )
        == 0
    )
    assert main(["runs", "log", "export", "r2", "failed"]) == 0  # same run again: still one row
    assert main(["runs", "log", "import", "i1", "running"]) == 0
    capsys.readouterr()

    assert main(["runs", "list", "export", "--limit", "1"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split("\t")[:4] == ["export", "r2", "failure", "external"]
    assert main(["runs", "latest"]) == 0
    assert [row.split("\t")[:3] for row in capsys.readouterr().out.splitlines()] == [
        ["export", "r2", "failure"],
        ["import", "i1", "running"],
    ]
    assert run_store.count_runs(open_store(store)) == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["runs", "log", "export", "r9", "exploded"], "unknown status 'exploded'"),
        (["runs", "log", "export", "r9", "ok", "--started-at", "2030-01-01T00:00:00"], "timezone"),
        (["runs", "log", "export", "r9", "ok", "--duration-ms", "-5"], "duration_ms"),
    ],
)
def test_bad_runs_are_refused_and_nothing_is_written(store: str, capsys, argv, message) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert run_store.count_runs(open_store(store)) == 0


def test_inputs_must_be_a_json_object(store: str, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["runs", "log", "export", "r1", "ok", "--inputs", "[1, 2]"])
    assert "must be a JSON object" in capsys.readouterr().err


# ---- hostile input (issue 15 item 10), on SQLite and PostgreSQL stores


@pytest.fixture
def any_store(monkeypatch: pytest.MonkeyPatch, store_url: str) -> str:
    monkeypatch.setenv("OPS_DATABASE_URL", store_url)
    return store_url


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ('{"a": ' * 20_000 + "1" + "}" * 20_000, "JSON nested too deeply"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": [Infinity]}', "Infinity is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
    ],
)
def test_hostile_inputs_are_refused_by_the_cli(any_store: str, capsys, inputs: str, message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["runs", "log", "export", "r1", "ok", "--inputs", inputs])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert run_store.count_runs(open_store(any_store)) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--duration-ms", "inf"], "duration_ms: Input should be a finite number"),
        (["--duration-ms", "nan"], "duration_ms: Input should be a finite number"),
    ],
)
def test_non_finite_durations_are_refused(any_store: str, capsys, argv: list[str], message: str) -> None:
    try:
        code = main(["runs", "log", "export", "r1", "ok", *argv])
    except SystemExit as exited:
        code = exited.code  # type: ignore[assignment]
    assert code == 2
    assert message in capsys.readouterr().err
    assert run_store.count_runs(open_store(any_store)) == 0


def test_inputs_nested_past_the_limit_are_refused(any_store: str) -> None:
    from ops_pipeline.store.run_log import log_run

    nested: dict[str, object] = {}
    for _ in range(20_000):
        nested = {"a": nested}
    with pytest.raises(ValueError, match="inputs: is nested more than 100 levels deep"):
        log_run("export", "r1", "ok", inputs=nested)
    with pytest.raises(ValueError, match="outputs: must be JSON-serialisable, without NaN or Infinity"):
        log_run("export", "r1", "ok", outputs={"a": float("nan")})
    assert run_store.count_runs(open_store(any_store)) == 0


def test_a_finished_run_does_not_go_back_to_running(any_store: str, capsys) -> None:
    assert main(["runs", "log", "export", "r1", "running"]) == 0
    assert main(["runs", "log", "export", "r1", "success", "--duration-ms", "1500"]) == 0
    capsys.readouterr()
    assert main(["runs", "log", "export", "r1", "running"]) == 2
    assert "run 'r1' of workflow 'export' already finished as success; it cannot go back to running" in (
        capsys.readouterr().err
    )
    assert main(["runs", "log", "export", "r1", "queued"]) == 2
    assert main(["runs", "log", "export", "r1", "failed"]) == 0  # a finished run may be corrected
    capsys.readouterr()
    assert main(["runs", "list", "export"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split("\t")[:3] == ["export", "r1", "failure"]


def test_a_page_past_any_history_is_empty(any_store: str, capsys) -> None:
    assert main(["runs", "log", "export", "r1", "ok"]) == 0
    capsys.readouterr()
    assert main(["runs", "list", "export", "--page", str(2**63 - 1)]) == 0
    assert main(["runs", "list", "export", "--limit", str(2**63 - 1)]) == 0
    assert capsys.readouterr().out.split("\t")[:2] == ["export", "r1"]
    for option in ("--page", "--limit"):
        with pytest.raises(SystemExit) as exited:
            main(["runs", "list", "export", option, str(10**20)])
        assert exited.value.code == 2
        assert f"must be from 1 to {2**63 - 1}, not {10**20}" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["ex\tport", "ex\nport", "ex\rport", "ex\x00port"])
def test_control_characters_in_names_are_refused(any_store: str, capsys, name: str) -> None:
    assert main(["runs", "log", name, "r1", "ok"]) == 2
    assert main(["runs", "log", "export", name, "ok"]) == 2
    assert "must not contain tabs, line breaks or other control characters" in capsys.readouterr().err
    assert run_store.count_runs(open_store(any_store)) == 0


def test_listings_keep_one_row_per_run_whatever_the_names(any_store: str, capsys) -> None:
    from datetime import UTC, datetime

    from ops_pipeline.core.runs import RunRecord

    odd = RunRecord("ex\tport\\", "r\n1", "dagster", "success", datetime(2026, 1, 1, tzinfo=UTC))
    with open_store(any_store).begin() as conn:  # names written by other means than `runs log`
        run_store.upsert_runs(conn, [odd])
    assert main(["runs", "latest"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split("\t")[:3] == ["ex\\tport\\\\", "r\\n1", "success"]
