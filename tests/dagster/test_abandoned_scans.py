"""A scan killed mid-way (SIGKILL) is not left `scanning`: the abandoned-scans sensor marks it failed with the
reason (its run is gone), a stale heartbeat does the same on the next scan, and a live scan is left alone."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.core.catalog import Catalog, Column, Table
from ops_pipeline.defs.catalog.liveness import fail_abandoned_scans
from ops_pipeline.defs.catalog.sensors import build_abandoned_scan_sensor
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store import catalog as store
from ops_pipeline.store.engine import open_store

GOOD = Catalog("hung", "postgresql", "16", (Table(schema="public", name="t", columns=(Column("id", "integer"),)),))


def _start_scan(store_url: str, port: int, run_id: str) -> subprocess.Popen[bytes]:
    """A scan of a server that accepts and never answers, so it stays open until killed."""
    script = textwrap.dedent(f"""
        from ops_pipeline.defs.catalog.scan import scan_source
        from ops_pipeline.settings.sources import PostgresSource
        from ops_pipeline.store.engine import open_store
        config = PostgresSource(type="postgresql", host="127.0.0.1", port={port}, database="x", connect_timeout_s=120)
        scan_source(open_store({store_url!r}), "hung", config, None, run_id={run_id!r})
    """)
    return subprocess.Popen([sys.executable, "-c", script])


def _wait_scanning(engine: sa.Engine, child: subprocess.Popen[bytes]) -> store.Snapshot:
    deadline = time.monotonic() + 60
    while True:
        open_ = store.open_snapshots(engine, "hung")
        if open_ and open_[-1].status == "scanning":
            return open_[-1]
        assert child.poll() is None and time.monotonic() < deadline, "the scan never started"
        time.sleep(0.1)


def _kill(child: subprocess.Popen[bytes]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)


def test_a_killed_scan_is_marked_failed_and_the_last_good_one_stays(tmp_path: Path, silent_server: int) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(store_url)
    good_id = store.create_snapshot(engine, "hung", "postgresql")
    store.mark_scanning(engine, good_id)
    store.complete_snapshot(engine, good_id, GOOD)

    child = _start_scan(store_url, silent_server, "run-that-was-killed")
    try:
        scanning = _wait_scanning(engine, child)
        assert fail_abandoned_scans(engine, stale_after_s=30) == []  # alive: heartbeats and no run check
    finally:
        _kill(child)
    assert store.get_snapshot(engine, scanning.id).status == "scanning"

    sensor = build_abandoned_scan_sensor()
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, resources={"ops_store": OpsStoreResource(database_url=store_url)}
        )
        result = sensor(context)
    assert isinstance(result, dg.SkipReason) and f"snapshots [{scanning.id}]" in (result.skip_message or "")
    failed = store.get_snapshot(engine, scanning.id)
    assert failed.status == "failed" and "run-that-was-killed is gone" in (failed.error or "")
    latest = store.latest_completed(engine, "hung")
    assert latest is not None and latest.id == good_id


def test_a_scan_whose_heartbeat_stopped_is_failed_on_the_next_check(tmp_path: Path, silent_server: int) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(store_url)
    child = _start_scan(store_url, silent_server, "run-x")
    try:
        scanning = _wait_scanning(engine, child)
    finally:
        _kill(child)
    time.sleep(1.5)
    assert fail_abandoned_scans(engine, source="hung", stale_after_s=1) == [scanning.id]
    failed = store.get_snapshot(engine, scanning.id)
    assert failed.status == "failed" and "no heartbeat" in (failed.error or "")
