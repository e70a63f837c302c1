"""A source that stops answering mid-backfill (a frozen TCP peer between the backfill and its source) fails the
run within the window's deadline, blamed on the source with the setting that governs it; the destination keeps
the window as it was and holds no lock afterwards. A killed link is `unreachable`, blamed on its side."""

import threading
import time
from pathlib import Path
from typing import Any

import dagster as dg

from tests.backfill.conftest import backfill_config, insert_trades, materialize, pg, run_sql
from tests.conftest import PG_HOST, PG_PORT
from tests.proxy import tcp_proxy

WINDOW = "WHERE traded_at >= '2024-03-04' AND traded_at < '2024-03-05'"


def _failure(result: dg.ExecuteInProcessResult) -> str:
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return failure.step_failure_data.error.message if failure.step_failure_data.error else ""  # type: ignore[union-attr]


def _locks_held(database: str) -> int:
    return run_sql(
        database,
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = current_database() AND l.locktype = 'advisory'",
    )[0][0]


def _load_through_proxy(
    tmp_path: Path, trades_source: str, destination: str, *, kill_when_frozen: bool, **spec: Any
) -> tuple[dg.ExecuteInProcessResult, float, bool]:
    """Load a big window from the source through a proxy that freezes mid-COPY (and is then killed, if asked):
    the result, the seconds it took and whether the proxy froze."""
    insert_trades(trades_source, 1_000_000, 200_000, "2024-03-04", note="big")
    with tcp_proxy(PG_HOST, PG_PORT, freeze_after_bytes=3_000_000) as proxy:
        source = pg(trades_source, port=proxy.port, host="127.0.0.1")
        config = backfill_config(
            tmp_path,
            source,
            pg(destination),
            destination_table="trades_copy",
            chunk_rows=20_000,
            validation={"rules": []},
            **spec,
        )
        if kill_when_frozen:
            threading.Thread(target=lambda: proxy.frozen.wait(120) and proxy.kill(), daemon=True).start()
        started = time.monotonic()
        with dg.instance_for_test() as instance:
            result = materialize(config, f"sqlite:///{tmp_path / 'store.db'}", instance, "2024-03-04", "2024-03-04")
        return result, time.monotonic() - started, proxy.frozen.is_set()


def test_a_frozen_source_fails_the_window_in_time_and_writes_nothing(tmp_path, trades_source, destination) -> None:
    result, elapsed, froze = _load_through_proxy(
        tmp_path, trades_source, destination, kill_when_frozen=False, window_timeout_s=8
    )
    assert froze, "the proxy never froze: make the window bigger"
    assert not result.success
    assert elapsed < 60
    message = _failure(result)
    assert "source 'src'" in message and "window_timeout_s" in message and "source 'dst'" not in message
    assert run_sql(destination, "SELECT count(*) FROM trades_copy " + WINDOW) == [(0,)]
    assert _locks_held(destination) == 0


def test_a_killed_source_link_is_unreachable_and_blamed_on_the_source(tmp_path, trades_source, destination) -> None:
    result, _, froze = _load_through_proxy(tmp_path, trades_source, destination, kill_when_frozen=True)
    assert froze and not result.success
    message = _failure(result)
    assert "source 'src': unreachable" in message and "source 'dst'" not in message, message
    assert run_sql(destination, "SELECT count(*) FROM trades_copy " + WINDOW) == [(0,)]
