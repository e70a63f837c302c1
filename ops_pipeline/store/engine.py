"""Where the ops store lives and how it is opened: migrations applied once, under a lock.

SQLite file `$DAGSTER_HOME/ops_store.db` by default; PostgreSQL (or any SQLAlchemy URL) via OPS_DATABASE_URL.
Concurrent starts are safe: PostgreSQL serialises upgrades with an advisory lock, SQLite with a file lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ops_pipeline.core.url_credentials import redacted_url, unencoded_credentials_problem, without_credentials

VERSION_TABLE = "ops_store_version"
# Arbitrary constant: the advisory lock id that serialises ops-store migrations on PostgreSQL.
PG_MIGRATION_LOCK_ID = 7_350_112_901

_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


class StoreError(RuntimeError):
    """The ops store cannot be located, opened or migrated."""


def database_url() -> str:
    """OPS_DATABASE_URL if set, else a SQLite file under $DAGSTER_HOME."""
    url = os.environ.get("OPS_DATABASE_URL")
    if url:
        return normalize_url(url)
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise StoreError(
            "the ops store has no location: set OPS_DATABASE_URL (e.g. postgresql+psycopg2://user@host/db) "
            "or DAGSTER_HOME (the store is then $DAGSTER_HOME/ops_store.db)"
        )
    return f"sqlite:///{Path(home).expanduser().resolve() / 'ops_store.db'}"


def normalize_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2, the driver the project installs and dagster-postgres is tested with."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare) :]
    return url


def open_store(url: str | None = None) -> sa.Engine:
    """The engine for the ops store at `url` (default: database_url()), migrated to the latest revision."""
    resolved = normalize_url(url) if url else database_url()
    problem = unencoded_credentials_problem(resolved)
    if problem:
        raise StoreError(f"ops store at {redacted_url(resolved)}: {problem}")
    with _engines_lock:
        engine = _engines.get(resolved)
        if engine is None:
            try:
                engine = _create_engine(resolved)
            except (sa.exc.ArgumentError, ValueError) as error:
                reason = without_credentials(str(error), resolved)
                raise StoreError(f"ops store at {redacted_url(resolved)}: not a database URL ({reason})") from None
            upgrade(engine, resolved)
            _engines[resolved] = engine
    return engine


def dispose_all() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not every commit: the file cannot be corrupted, and only the last
    # commits before a power cut could be lost. The store's writers are many small transactions.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: sa.Engine, url: str | None = None) -> None:
    """Bring the store to the head revision; a no-op (one query) when it is already there. `url` is the URL the
    engine was made from, so its credentials are kept out of the error."""
    try:
        if current_revision(engine) == head_revision():
            return
        with _migration_lock(engine), engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except sa.exc.OperationalError as error:
        shown_url = url or engine.url.render_as_string(hide_password=False)
        reason = without_credentials(str(error.orig), shown_url)
        raise StoreError(f"ops store at {redacted_url(shown_url)}: {reason}") from None


@contextmanager
def _migration_lock(engine: sa.Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": PG_MIGRATION_LOCK_ID})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": PG_MIGRATION_LOCK_ID})
                conn.commit()
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with open(f"{engine.url.database}.migrate.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    else:
        yield
