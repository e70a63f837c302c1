"""`ops-pipeline metrics inject` and `signals recent` through the CLI entry point: the recorded file stays
readable, hostile numbers and names get a clear error or one row per signal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops_pipeline.cli import main
from ops_pipeline.core.signals import InsightSignal
from ops_pipeline.metrics.recorded import clear_cache, load_recorded
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.signals import record_new


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "ops.yaml"
    path.write_text(f"metrics:\n  recorded:\n    path: {tmp_path / 'recorded.csv'}\n")
    clear_cache()
    return path


def inject(config: Path, *argv: str) -> int:
    return main(["--config", str(config), "metrics", "inject", "queue_depth", *argv])


@pytest.mark.parametrize("moment", ["9999-12-31T00:00:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_an_out_of_range_time_is_refused_and_the_file_stays_readable(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], moment: str
) -> None:
    recorded = tmp_path / "recorded.csv"
    assert inject(config, "4", "--at", "2026-01-01T00:00:00+00:00") == 0
    before = recorded.read_bytes()
    assert inject(config, "5", "--at", moment) == 2
    assert f"timestamp '{moment}' is outside 1677-09-21 00:12:44 to 2262-04-11 23:47:16 UTC" in capsys.readouterr().err
    assert recorded.read_bytes() == before
    assert load_recorded(recorded).sample_count == 1


def test_an_injected_point_reads_back(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert inject(config, "5", "--label", "queue=mail", "--at", "2262-04-11T00:00:00+00:00") == 0
    assert "appended to" in capsys.readouterr().out
    data = load_recorded(tmp_path / "recorded.csv")
    assert data.sample_count == 1


def test_signals_recent_keeps_one_row_per_signal(
    monkeypatch: pytest.MonkeyPatch, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_DATABASE_URL", store_url)
    labels = {"queue": "mail\tbox\nA"}  # label values are any text
    signal = InsightSignal(
        "zscore",
        "queue_depth",
        labels,
        'queue_depth{queue="mail\tbox\nA"}',
        datetime(2026, 1, 1, tzinfo=UTC),
        9.0,
        6.5,
        3.0,
        "up",
        "critical",
        "",
        "batch",
    )
    with open_store(store_url).begin() as conn:
        record_new(conn, [signal])
    assert main(["signals", "recent", "--limit", str(2**63 - 1)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split("\t")[3] == 'queue_depth{queue="mail\\tbox\\nA"}'
    with pytest.raises(SystemExit) as exited:
        main(["signals", "recent", "--limit", str(10**20)])
    assert exited.value.code == 2
    assert "must be from 1 to" in capsys.readouterr().err
