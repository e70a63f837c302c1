"""No error message repeats a secret: not from a broken YAML line, not from a malformed OPS_DATABASE_URL, not
from a driver that cannot encode a password, not from credentials written into a key that is not secret."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops_pipeline.core.url_credentials import redacted_url
from ops_pipeline.settings import ConfigError, MySQLSource, load_settings
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.mysql import MySQLDatabase
from ops_pipeline.store.engine import StoreError, open_store
from tests.conftest import MYSQL_HOST, MYSQL_PORT, mysql_connect

SECRET = "Zq7Sentinel"


def load_error(tmp_path: Path, text: str) -> str:
    file = tmp_path / "ops.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(file)
    return str(error.value)


@pytest.mark.parametrize(
    "broken_line",
    [
        f'    password: "{SECRET}\\q"',  # an unknown escape: the scanner quoted the line
        f"    password: {SECRET}: more",  # a colon inside a plain scalar
        f"    password: [{SECRET}",  # an unclosed flow sequence
        f"    password: @{SECRET}",  # a character that cannot start a token
        f"   password: {SECRET}",  # bad indentation
    ],
)
def test_a_broken_yaml_line_is_located_but_not_quoted(tmp_path: Path, broken_line: str) -> None:
    text = f"sources:\n  wh:\n    type: postgresql\n    database: shop\n{broken_line}\n    port: 5432\n"
    message = load_error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'ops.yaml'}: not valid YAML: line ")
    assert SECRET not in message
    assert "password" not in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("host", f"admin:{SECRET}@db.example.com"),
        ("host", f"postgresql://admin:{SECRET}@db"),
        ("database", f"postgresql://admin:{SECRET}@db/shop"),
        ("database", f"admin:{SECRET}@shop"),
    ],
)
def test_credentials_in_a_postgres_key_that_is_not_secret_are_refused_unrepeated(
    tmp_path: Path, key: str, value: str
) -> None:
    fields = {"type": "postgresql", "database": "shop", key: value}
    text = "sources:\n  wh:\n" + "".join(f"    {k}: '{v}'\n" for k, v in fields.items())
    message = load_error(tmp_path, text)
    assert f"sources.wh.{key}: " in message
    assert SECRET not in message


def test_credentials_in_endpoint_url_and_bootstrap_servers_are_refused_unrepeated(tmp_path: Path) -> None:
    s3 = f"sources:\n  b:\n    type: s3\n    bucket: x\n    endpoint_url: 'https://key:{SECRET}@minio:9000'\n"
    message = load_error(tmp_path, s3)
    assert "sources.b.endpoint_url: " in message and SECRET not in message
    kafka = f"sources:\n  k:\n    type: kafka\n    bootstrap_servers: ['user:{SECRET}@broker:9092']\n"
    message = load_error(tmp_path, kafka)
    assert "sources.k.bootstrap_servers[0]: " in message and SECRET not in message


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ops:pa@ss{SECRET}@127.0.0.1:5432/db",
        f"postgresql://ops:pa/ss{SECRET}@127.0.0.1:5432/db",
        f"postgresql://ops:pa#ss{SECRET}@127.0.0.1:5432/db",
        f"postgresql://ops:pa?ss{SECRET}@127.0.0.1:5432/db",
        f"postgresql://ops:{SECRET}@127.0.0.1:notaport/db",
    ],
)
def test_a_malformed_store_url_never_shows_the_password(url: str) -> None:
    with pytest.raises(StoreError) as error:
        open_store(url)
    message = str(error.value)
    assert SECRET not in message
    assert "***@" in message


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://u:{SECRET}@h/db",
        f"postgresql://u:a/b#c?{SECRET}@h:1/db",
        f"u:x@y@{SECRET[:0]}h",
        f"redis://:{SECRET}@127.0.0.1:6379/0",
    ],
)
def test_redacted_urls_keep_no_credentials(url: str) -> None:
    shown = redacted_url(url)
    assert SECRET not in shown
    assert shown.endswith("h/db") or shown.endswith("h:1/db") or shown.endswith("@h") or shown.endswith("/0")


@pytest.fixture
def mysql_user_with_a_utf8_password() -> Iterator[tuple[str, str]]:
    user, password = f"ops_u{uuid.uuid4().hex[:8]}", f"пароль{SECRET}中"
    conn = mysql_connect()
    with conn.cursor() as cursor:
        cursor.execute("SET NAMES utf8mb4")
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
    try:
        yield user, password
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        conn.close()


def mysql_source(user: str) -> MySQLSource:
    return MySQLSource(
        type="mysql",
        host=MYSQL_HOST,
        port=MYSQL_PORT,
        user=user,
        password="env:OPS_T_MYSQL_PW",
        database="information_schema",
    )


def test_a_mysql_password_beyond_latin1_authenticates(
    mysql_user_with_a_utf8_password: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, password = mysql_user_with_a_utf8_password
    monkeypatch.setenv("OPS_T_MYSQL_PW", password)
    report = MySQLDatabase().test_connection("m", mysql_source(user))
    assert report.server_version


def test_a_wrong_mysql_password_beyond_latin1_is_a_wrapped_error(
    mysql_user_with_a_utf8_password: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = mysql_user_with_a_utf8_password
    monkeypatch.setenv("OPS_T_MYSQL_PW", f"wrong{SECRET}中")
    with pytest.raises(SourceError) as error:
        MySQLDatabase().test_connection("m", mysql_source(user))
    assert error.value.kind == "auth_failed"
    assert SECRET not in str(error.value) and "中" not in str(error.value)
