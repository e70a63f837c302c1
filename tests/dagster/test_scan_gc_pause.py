"""A scan builds its catalog with the cyclic garbage collector paused, and always leaves it as it found it."""

import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops_pipeline.defs.catalog.scan import scan_source
from ops_pipeline.settings.sources import SQLiteSource
from ops_pipeline.sources.registry import database_for
from ops_pipeline.store import catalog as store
from ops_pipeline.store.engine import open_store


@pytest.fixture
def source(tmp_path: Path) -> SQLiteSource:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    return SQLiteSource(type="sqlite", path=str(path))


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def _spy_on_scan(monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> list[bool]:
    """Record whether the collector was enabled while the scanner ran (and make it fail if asked)."""
    database = database_for("sqlite")
    real_scan = database.scan
    seen: list[bool] = []

    def scan(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        if fail:
            raise RuntimeError("server went away")
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(database, "scan", scan)
    return seen


@pytest.mark.usefixtures("collector_enabled")
def test_the_collector_is_paused_during_a_scan_and_enabled_after(
    tmp_path: Path, source: SQLiteSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy_on_scan(monkeypatch)
    completed = scan_source(open_store(f"sqlite:///{tmp_path / 'ops.db'}"), "shop", source, None)
    assert completed.snapshot.status == "completed"
    assert [t.name for t in completed.catalog.tables] == ["customers"]
    assert seen == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_a_failed_scan_enables_the_collector_again(
    tmp_path: Path, source: SQLiteSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    _spy_on_scan(monkeypatch, fail=True)
    engine = open_store(f"sqlite:///{tmp_path / 'ops.db'}")
    with pytest.raises(RuntimeError, match="server went away"):
        scan_source(engine, "shop", source, None)
    assert gc.isenabled()
    assert store.open_snapshots(engine, "shop") == []  # recorded as failed, not left scanning


def test_a_collector_disabled_by_the_caller_stays_disabled(tmp_path: Path, source: SQLiteSource) -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        scan_source(open_store(f"sqlite:///{tmp_path / 'ops.db'}"), "shop", source, None)
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()
