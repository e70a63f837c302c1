"""A load killed halfway (SIGKILL, mid-COPY) leaves the destination window as it was; the rerun makes it exact."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import dagster as dg

from tests.backfill.conftest import backfill_config, insert_trades, materialize, pg, run_sql

WINDOW = "WHERE traded_at >= '2024-03-04' AND traded_at < '2024-03-05'"
COUNT_AND_SUM = "SELECT count(*), sum(('x' || substr(md5(ROW(id, note)::text), 1, 16))::bit(64)::bigint) FROM "


def copy_running(database: str) -> bool:
    rows = run_sql(
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND query LIKE 'COPY%%FROM STDIN%%' AND state = 'active'",
    )
    return rows[0][0] > 0


def test_a_killed_load_leaves_the_window_intact_and_the_rerun_is_exact(tmp_path, trades_source, destination) -> None:
    config = backfill_config(
        tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy", chunk_rows=50_000
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    insert_trades(trades_source, 1_000_000, 1000, "2024-03-04", note="first")
    with dg.instance_for_test() as instance:
        assert materialize(config, store_url, instance, "2024-03-04", "2024-03-04").success
    before = run_sql(destination, COUNT_AND_SUM + "trades_copy " + WINDOW)
    assert before[0][0] == 1000

    # the source grows a lot; a load of the new window is killed while its COPY is streaming
    insert_trades(trades_source, 2_000_000, 600_000, "2024-03-04", note="second")
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        from datetime import datetime, UTC
        from ops_pipeline.backfill.pipeline import Window, backfill_session
        from ops_pipeline.core.sample_validation import SampleVerdict
        from ops_pipeline.settings import load_settings
        from ops_pipeline.store.engine import open_store
        window = Window("2024-03-04", datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC))
        with backfill_session(load_settings({str(config)!r}), "trades") as session:
            session.load_all([window], [SampleVerdict(0, 1.0, 1.0, ())], open_store({store_url!r}), "doomed")
    """),
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while not copy_running(destination):
            assert child.poll() is None, "the load finished before it could be killed; make the window bigger"
            assert time.monotonic() < deadline, "the load never started copying"
            time.sleep(0.02)
        time.sleep(0.2)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    deadline = time.monotonic() + 30  # the server notices the dead connection and rolls its transaction back
    while copy_running(destination) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run_sql(destination, COUNT_AND_SUM + "trades_copy " + WINDOW) == before

    with dg.instance_for_test() as instance:
        assert materialize(config, store_url, instance, "2024-03-04", "2024-03-04").success
    assert run_sql(destination, COUNT_AND_SUM + "trades_copy " + WINDOW) == run_sql(
        trades_source, COUNT_AND_SUM + "trades " + WINDOW
    )
    assert run_sql(destination, "SELECT count(*) FROM trades_copy " + WINDOW) == [(601_000,)]
