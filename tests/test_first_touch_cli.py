"""What a new user meets first on the command line: bad input named with its option, unknown names listed
against the configured ones, partitions added from the shell, `| head` without a traceback, one timestamp format
in the recorded metrics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yaml

from ops_pipeline.cli import main
from tests.backfill.conftest import materialize
from tests.backfill.test_backfill_paths import demo_config
from tests.conftest import REPO_ROOT
from tests.insights.conftest import load_demo_module


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPS_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    return demo_config(tmp_path)


def plan(capsys: pytest.CaptureFixture[str], config: Path, start: str, end: str) -> tuple[int, str, str]:
    return run(capsys, "--config", str(config), "backfill", "plan", "orders_daily", "--start", start, "--end", end)


def test_a_reversed_or_empty_date_range_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = plan(capsys, config, "2024-04-01", "2024-01-01")
    assert (code, out) == (2, "")
    assert err == "error: --start 2024-04-01 00:00 is not before --end 2024-01-01 00:00: the range is empty\n"
    assert plan(capsys, config, "2024-01-01", "2024-01-01")[0] == 2


def test_a_bad_date_names_its_option(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        plan(capsys, config, "2024-13-01", "2024-02-01")
    assert exit_info.value.code == 2
    assert "argument --start: month must be in 1..12" in capsys.readouterr().err


def test_dates_outside_the_configured_backfill_are_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = plan(capsys, config, "2023-12-01", "2024-01-05")
    assert code == 2 and err == "error: --start 2023-12-01 00:00 is before the backfill's start 2024-01-01 00:00\n"
    code, _, err = plan(capsys, config, "2024-12-01", "2025-02-01")
    assert code == 2 and err == "error: --end 2025-02-01 00:00 is after the backfill's end 2025-01-01 00:00\n"


def test_unknown_names_are_errors_not_empty_answers(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["backfill", "manifest", "nope", "--json"], "unknown backfill 'nope' (configured: orders_daily)"),
        (["models", "analyze", "nope", "main.orders"], "unknown source 'nope' (configured: demo, lake)"),
        (["models", "show", "nope", "main.orders"], "unknown source 'nope' (configured: demo, lake)"),
        (["catalog", "show", "nope"], "unknown source 'nope' (configured: demo, lake)"),
    ):
        assert run(capsys, "--config", str(config), *argv) == (2, "", f"error: {message}\n")


def test_sources_sync_adds_the_missing_partitions_and_says_which(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert run(capsys, "--config", str(config), "sources", "sync") == (0, "added partitions: demo, lake\n", "")
    with dg.DagsterInstance.get() as instance:
        assert sorted(instance.get_dynamic_partitions("sources")) == ["demo", "lake"]
        instance.delete_dynamic_partition("sources", "lake")
        instance.add_dynamic_partitions("sources", ["retired"])
    code, out, _ = run(capsys, "--config", str(config), "sources", "sync")
    assert code == 0
    assert out == (
        "added partitions: lake\nnot in ops.yaml (the source_partitions_sync sensor removes them): retired\n"
    )
    assert run(capsys, "--config", str(config), "sources", "sync")[1].startswith("ok: every source already has")


def test_output_cut_short_by_head_ends_quietly(config: Path, tmp_path: Path) -> None:
    env = {**os.environ, "OPS_CONFIG": str(config), "OPS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}"}
    ops_pipeline = Path(sys.executable).parent / "ops-pipeline"
    command = f"'{ops_pipeline}' backfill plan orders_daily --start 2024-01-01 --end 2025-01-01 | head -n 2"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], env=env, capture_output=True, text=True, timeout=120
    )
    assert len(done.stdout.splitlines()) == 2
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 0


def test_injected_points_use_the_files_epoch_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = load_demo_module("generate_metrics").generate_metrics(tmp_path / "metrics.csv")
    settings = yaml.safe_load((REPO_ROOT / "ops.yaml").read_text())
    settings["metrics"]["recorded"]["path"] = str(metrics)
    config = tmp_path / "ops.yaml"
    config.write_text(yaml.safe_dump(settings))
    argv = ["--config", str(config), "metrics", "inject", "queue_depth", "400", "--label", "queue=orders"]
    assert run(capsys, *argv)[0] == 0
    assert run(capsys, *argv, "--at", "2026-11-30T12:00:00.5+00:00")[0] == 0
    timestamps = pd.read_csv(metrics, usecols=["timestamp"])["timestamp"]
    assert pd.api.types.is_numeric_dtype(timestamps)  # no ISO text among the epoch seconds
    assert timestamps.iloc[-1] == 1796040000.5


def test_a_reversed_partition_range_fails_the_run_instead_of_loading_nothing(config: Path, tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        result = materialize(
            config, f"sqlite:///{tmp_path / 'store.db'}", instance, "2024-01-31", "2024-01-01", pipeline="orders_daily"
        )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "the partition range 2024-01-31...2024-01-01 holds no partition" in failure.step_failure_data.error.message
    assert "--partition-range 2024-01-01...2024-01-31" in failure.step_failure_data.error.message


def test_the_recorded_metrics_lock_file_is_ignored_by_git() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", "examples/demo/.metrics.csv.lock"], cwd=REPO_ROOT, timeout=30
    )
    assert ignored.returncode == 0
