"""Shared fixtures: real PostgreSQL, MariaDB and Redis on 127.0.0.1, one throwaway database per test.

Without a server the dependent tests skip; with OPS_REQUIRE_SERVICES=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest
import redis
import sqlalchemy as sa

PG_HOST = os.environ.get("OPS_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("OPS_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("OPS_TEST_PG_USER", "postgres")
MYSQL_HOST = os.environ.get("OPS_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("OPS_TEST_MYSQL_PORT", "3306"))
MYSQL_USER = os.environ.get("OPS_TEST_MYSQL_USER", "root")
REDIS_HOST = os.environ.get("OPS_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("OPS_TEST_REDIS_PORT", "6379"))

REPO_ROOT = Path(__file__).resolve().parent.parent


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _port_open(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("OPS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and OPS_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def pg_url(database: str = "postgres") -> str:
    return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; yields its name and drops it afterwards."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    name = f"ops_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def make_pg_database() -> Iterator[Callable[[], str]]:
    """Creates as many fresh PostgreSQL databases as a test needs; drops them all afterwards."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    admin = sa.create_engine(pg_url(), isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make() -> str:
        name = f"ops_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return name

    try:
        yield make
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_engine(pg_database: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(pg_url(pg_database))
    yield engine
    engine.dispose()


def mysql_connect(database: str | None = None) -> pymysql.connections.Connection:
    return pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_USER, database=database, autocommit=True)


@pytest.fixture
def mysql_database() -> Iterator[str]:
    """A fresh, empty MariaDB database; yields its name and drops it afterwards."""
    require_service("MariaDB", MYSQL_HOST, MYSQL_PORT)
    name = f"ops_test_{uuid.uuid4().hex[:12]}"
    conn = mysql_connect()
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture
def redis_db() -> Iterator[int]:
    """A Redis logical database emptied before and after the test."""
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    db = 13
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
    client.flushdb()
    try:
        yield db
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never answers: a server that hangs."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Callable[[str], str]:
    return lambda name: f"sqlite:///{tmp_path / name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The ops store's URL on each supported backend: a SQLite file and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ops_store.db'}"
    database: str = request.getfixturevalue("pg_database")
    return pg_url(database)


@pytest.fixture(autouse=True)
def _fresh_store_engines() -> Iterator[None]:
    """Engines are cached per URL per process; tests create and drop databases, so forget them after each."""
    yield
    from ops_pipeline.store.engine import dispose_all

    dispose_all()
