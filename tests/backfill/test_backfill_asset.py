import dagster as dg

from ops_pipeline.store.engine import open_store
from ops_pipeline.store.manifests import manifests
from tests.backfill.conftest import backfill_config, insert_trades, materialize, pg, run_sql

DAYS = {"2024-03-01": 1000, "2024-03-02": 1500, "2024-03-03": 2000}
CHECKSUM_SQL = (
    "SELECT count(*), sum(('x' || substr(md5(ROW(id, account, amount, note, traded_at, settled)::text), 1, 16))"
    "::bit(64)::bigint) FROM trades"
)


def destination_state(database: str) -> list[tuple]:
    return run_sql(database, CHECKSUM_SQL.replace("FROM trades", "FROM trades_copy"))


def test_a_partition_range_loads_reconciles_and_records_each_window(tmp_path, trades_source, destination) -> None:
    config = backfill_config(tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        result = materialize(config, store_url, instance, "2024-03-01", "2024-03-04")
    assert result.success
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert checks["validate_sample"].passed and checks["reconciliation"].passed
    assert destination_state(destination) == run_sql(trades_source, CHECKSUM_SQL)

    records = manifests(open_store(store_url), "trades")
    assert sorted((r.partition_key, r.rows_written) for r in records) == [*DAYS.items(), ("2024-03-04", 0)]
    assert all(r.reconciled and r.rows_read == r.rows_written and r.validation_score == 1.0 for r in records)
    assert all(r.source_checksum == r.destination_checksum for r in records)
    assert all(r.source_checksum.startswith("pg-hash:") for r in records)  # PostgreSQL's own row hash
    metadata = result.asset_materializations_for_node("trades")[0].metadata
    assert metadata["dagster/row_count"].value == 4500 and "2024-03-02" in metadata["manifest"].value


def test_rerunning_replaces_rather_than_duplicates(tmp_path, trades_source, destination) -> None:
    config = backfill_config(tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        assert materialize(config, store_url, instance, "2024-03-01", "2024-03-03").success
        run_sql(trades_source, "DELETE FROM trades WHERE id % 10 = 3")  # the source changed since
        insert_trades(trades_source, 900_000, 50, "2024-03-02", note="late")
        assert materialize(config, store_url, instance, "2024-03-02", "2024-03-02").success
    # the rerun window now holds exactly the source's rows; the window not rerun keeps what it was loaded with
    window = "WHERE traded_at >= '2024-03-02' AND traded_at < '2024-03-03'"
    assert run_sql(destination, CHECKSUM_SQL.replace("FROM trades", "FROM trades_copy") + " " + window) == run_sql(
        trades_source, CHECKSUM_SQL + " " + window
    )
    assert run_sql(destination, "SELECT count(*) FROM trades_copy WHERE traded_at >= '2024-03-03'") == [(2000,)]


def test_a_failing_sample_blocks_the_load_and_says_why(tmp_path, trades_source, destination) -> None:
    run_sql(trades_source, "UPDATE trades SET amount = -5 WHERE id % 4 = 0 AND traded_at < '2024-03-02'")
    config = backfill_config(tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        result = materialize(config, store_url, instance, "2024-03-01", "2024-03-02")
    assert not result.success
    [check] = result.get_asset_check_evaluations()
    assert check.asset_check_key.name == "validate_sample" and not check.passed
    assert "range(amount)" in check.metadata["windows"].value
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "nothing was loaded" in failure.step_failure_data.error.message
    assert "2024-03-01: score" in failure.step_failure_data.error.message
    assert run_sql(destination, "SELECT count(*) FROM trades_copy") == [(0,)]
    assert manifests(open_store(store_url), "trades") == []


def test_an_unreachable_source_fails_clearly_and_writes_nothing(tmp_path, destination, closed_port) -> None:
    config = backfill_config(tmp_path, pg("nowhere", port=closed_port), pg(destination))
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        result = materialize(config, store_url, instance, "2024-03-01", "2024-03-01")
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert f"source 'src': unreachable: 127.0.0.1:{closed_port}" in failure.step_failure_data.error.message
    assert run_sql(destination, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    assert manifests(open_store(store_url), "trades") == []


def test_a_tampered_destination_fails_reconciliation(tmp_path, trades_source, destination) -> None:
    config = backfill_config(tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        assert materialize(config, store_url, instance, "2024-03-01", "2024-03-01").success
        run_sql(
            destination,
            """
            CREATE FUNCTION tamper() RETURNS trigger AS $$ BEGIN NEW.note := 'changed'; RETURN NEW; END $$
            LANGUAGE plpgsql;
            CREATE TRIGGER tamper BEFORE INSERT ON trades_copy FOR EACH ROW WHEN (NEW.id = 100005)
            EXECUTE FUNCTION tamper();
        """,
        )
        result = materialize(config, store_url, instance, "2024-03-02", "2024-03-02")
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert not checks["reconciliation"].passed
    assert checks["reconciliation"].metadata["mismatched_windows"].value == 1
    [record] = manifests(open_store(store_url), "trades", "2024-03-02")
    assert not record.reconciled and record.rows_read == record.rows_written == 1500


def test_types_without_a_row_hash_fall_back_to_md5_and_still_reconcile(tmp_path, trades_source, destination) -> None:
    run_sql(trades_source, "ALTER TABLE trades ADD COLUMN details json DEFAULT '{\"k\": 1}'")
    config = backfill_config(tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        assert materialize(config, store_url, instance, "2024-03-01", "2024-03-01").success
    [record] = manifests(open_store(store_url), "trades")
    assert record.reconciled and record.source_checksum.startswith("pg-md5:") and record.rows_written == 1000


def test_windows_of_a_run_load_on_several_connection_pairs_at_once(tmp_path, trades_source, destination) -> None:
    config = backfill_config(
        tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy", concurrent_windows=3
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        assert materialize(config, store_url, instance, "2024-03-04", "2024-03-04").success  # creates the table
        run_sql(
            destination,
            """
            CREATE TABLE copy_sessions (pid integer);
            CREATE FUNCTION note_session() RETURNS trigger AS $$
            BEGIN INSERT INTO copy_sessions VALUES (pg_backend_pid()); RETURN NULL; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER note_session AFTER INSERT ON trades_copy FOR EACH STATEMENT EXECUTE FUNCTION note_session();
        """,
        )
        result = materialize(config, store_url, instance, "2024-03-01", "2024-03-04")
    assert result.success
    assert destination_state(destination) == run_sql(trades_source, CHECKSUM_SQL)
    assert run_sql(destination, "SELECT count(*), count(DISTINCT pid) FROM copy_sessions") == [(4, 3)]
    metadata = result.asset_materializations_for_node("trades")[0].metadata
    assert metadata["concurrent_windows"].value == 3 and metadata["dagster/row_count"].value == 4500
    records = manifests(open_store(store_url), "trades")
    assert sorted(r.partition_key for r in records if r.run_id == result.run_id) == [*DAYS, "2024-03-04"]


def test_a_window_failing_on_one_lane_leaves_every_window_whole(tmp_path, trades_source, destination) -> None:
    config = backfill_config(tmp_path, pg(trades_source), pg(destination), destination_table="trades_copy")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        assert materialize(config, store_url, instance, "2024-03-04", "2024-03-04").success  # creates the table
        run_sql(
            destination,
            """
            CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused row %', NEW.id; END $$
            LANGUAGE plpgsql;
            CREATE TRIGGER refuse BEFORE INSERT ON trades_copy FOR EACH ROW
            WHEN (NEW.traded_at >= '2024-03-02' AND NEW.traded_at < '2024-03-03' AND NEW.id % 1500 = 700)
            EXECUTE FUNCTION refuse();
        """,
        )
        result = materialize(config, store_url, instance, "2024-03-01", "2024-03-03")
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "refused row" in failure.step_failure_data.error.message
    loaded = dict(run_sql(destination, "SELECT traded_at::date::text, count(*) FROM trades_copy GROUP BY 1"))
    assert "2024-03-02" not in loaded  # the failed window's transaction left nothing behind
    records = [r for r in manifests(open_store(store_url), "trades") if r.run_id == result.run_id]
    assert "2024-03-02" not in {r.partition_key for r in records}
    for record in records:  # whatever else the run loaded is whole and recorded
        assert record.reconciled and loaded[record.partition_key] == DAYS[record.partition_key]
    assert set(loaded) == {r.partition_key for r in records}
