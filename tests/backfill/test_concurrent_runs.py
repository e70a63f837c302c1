"""Several runs of one backfill partition at once leave exactly the source's rows, and each reports truthfully."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from ops_pipeline.store.engine import open_store
from ops_pipeline.store.manifests import manifests
from tests.backfill.conftest import backfill_config, insert_trades, pg, run_sql

WINDOW = "WHERE traded_at >= '2024-03-04' AND traded_at < '2024-03-05'"
COUNT_AND_SUM = "SELECT count(*), sum(('x' || substr(md5(ROW(id, note)::text), 1, 16))::bit(64)::bigint) FROM "
RUNS = 3


def _launch(config: Path, store_url: str) -> subprocess.Popen[str]:
    script = textwrap.dedent(f"""
        import json
        import dagster as dg
        from pathlib import Path
        from tests.backfill.conftest import materialize
        with dg.instance_for_test() as instance:
            result = materialize(Path({str(config)!r}), {store_url!r}, instance, "2024-03-04", "2024-03-04")
            print(json.dumps({{"success": result.success, "run_id": result.run_id}}))
    """)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)


def _run_together(config: Path, store_url: str) -> list[dict[str, object]]:
    children = [_launch(config, store_url) for _ in range(RUNS)]
    outputs = [child.communicate(timeout=300)[0] for child in children]
    assert all(child.returncode == 0 for child in children), outputs
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def test_concurrent_runs_of_one_partition_leave_the_source_rows(tmp_path, trades_source, destination) -> None:
    # a destination without a key, as a user may have created it: only the window lock keeps the runs apart
    run_sql(
        destination,
        "CREATE TABLE trades_copy (id integer, account bigint, amount numeric(12,2), "
        "note text, traded_at timestamptz, settled boolean)",
    )
    insert_trades(trades_source, 1_000_000, 150_000, "2024-03-04", note="big")
    config = backfill_config(
        tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy", chunk_rows=20_000
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(store_url)

    results = _run_together(config, store_url)

    assert all(r["success"] for r in results)
    expected = run_sql(trades_source, COUNT_AND_SUM + "trades " + WINDOW)
    assert expected[0][0] == 150_000
    assert run_sql(destination, COUNT_AND_SUM + "trades_copy " + WINDOW) == expected
    records = manifests(open_store(store_url), "trades")
    assert len(records) == RUNS
    assert all(r.reconciled and r.rows_written == 150_000 for r in records)


def test_a_created_destination_has_the_source_primary_key(tmp_path, trades_source, destination) -> None:
    insert_trades(trades_source, 1_000_000, 5_000, "2024-03-04", note="day4")
    config = backfill_config(tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    results = _run_together(config, store_url)
    assert all(r["success"] for r in results)
    key = run_sql(
        destination,
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = 'trades_copy'::regclass AND i.indisprimary",
    )
    assert key == [("id",)]
    assert run_sql(destination, COUNT_AND_SUM + "trades_copy") == run_sql(
        trades_source, COUNT_AND_SUM + "trades " + WINDOW
    )
