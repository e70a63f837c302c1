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
