import multiprocessing

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ops_pipeline.store.engine import (
    VERSION_TABLE,
    StoreError,
    current_revision,
    database_url,
    head_revision,
    normalize_url,
    open_store,
)
from ops_pipeline.store.metadata import all_tables


def test_open_store_creates_every_table_at_head(store_url: str) -> None:
    engine = open_store(store_url)
    assert current_revision(engine) == head_revision()
    names = set(sa.inspect(engine).get_table_names())
    assert {"catalog_snapshots", "catalog_tables", "schema_changes", VERSION_TABLE} <= names


def _open_in_child(url: str) -> str | None:
    return current_revision(open_store(url))


def test_concurrent_first_starts_migrate_once(store_url: str) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        revisions = pool.map(_open_in_child, [store_url] * 4)
    assert revisions == [head_revision()] * 4
    engine = open_store(store_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1


def test_default_location_is_under_dagster_home(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("OPS_DATABASE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert database_url() == f"sqlite:///{tmp_path / 'ops_store.db'}"


def test_ops_database_url_wins_and_is_pinned_to_psycopg2(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("OPS_DATABASE_URL", "postgresql://ops@db:5432/ops")
    assert database_url() == "postgresql+psycopg2://ops@db:5432/ops"
    assert normalize_url("postgres://x@y/z") == "postgresql+psycopg2://x@y/z"
    assert normalize_url("sqlite:///a.db") == "sqlite:///a.db"


def test_no_location_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.delenv("OPS_DATABASE_URL", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(StoreError, match="set OPS_DATABASE_URL"):
        database_url()


def test_unreachable_store_is_a_clear_error(closed_port: int) -> None:
    with pytest.raises(StoreError, match=f"127.0.0.1:{closed_port}"):
        open_store(f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port}/ops")


def test_migrations_build_exactly_the_tables_the_code_declares(store_url: str) -> None:
    with open_store(store_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, all_tables()) == []
