"""Secret references resolve only on demand, and errors name the reference, never the value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.secrets import SecretError, is_secret_ref, resolve_secret

SENTINEL = "s3cr3t-Sentinel-value-9f1c"


def test_env_reference_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_T_SECRET", SENTINEL)
    assert resolve_secret("env:OPS_T_SECRET") == SENTINEL


def test_env_reference_to_an_empty_variable_resolves_to_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_T_EMPTY", "")
    assert resolve_secret("env:OPS_T_EMPTY") == ""


def test_env_reference_is_read_when_resolved_not_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_T_ROTATING", "first")
    assert resolve_secret("env:OPS_T_ROTATING") == "first"
    monkeypatch.setenv("OPS_T_ROTATING", "second")
    assert resolve_secret("env:OPS_T_ROTATING") == "second"


def test_file_reference_resolves_without_the_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text(SENTINEL + "\n")
    assert resolve_secret(f"file:{secret}") == SENTINEL
    secret.write_text(SENTINEL + "\r\n")
    assert resolve_secret(f"file:{secret}") == SENTINEL
    secret.write_text("  inner spaces kept  ")
    assert resolve_secret(f"file:{secret}") == "  inner spaces kept  "


def test_file_reference_expands_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "pw").write_text(SENTINEL)
    assert resolve_secret("file:~/pw") == SENTINEL


def test_missing_env_var_names_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_T_ABSENT", raising=False)
    with pytest.raises(SecretError) as error:
        resolve_secret("env:OPS_T_ABSENT")
    assert str(error.value) == "secret 'env:OPS_T_ABSENT': environment variable OPS_T_ABSENT is not set"


def test_missing_file_names_the_reference(tmp_path: Path) -> None:
    ref = f"file:{tmp_path / 'absent'}"
    with pytest.raises(SecretError) as error:
        resolve_secret(ref)
    assert str(error.value).startswith(f"secret {ref!r}: cannot read {tmp_path / 'absent'} (")
    assert "No such file" in str(error.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_names_the_reference_never_the_value(tmp_path: Path) -> None:
    secret = tmp_path / "locked"
    secret.write_text(SENTINEL)
    secret.chmod(0)
    with pytest.raises(SecretError) as error:
        resolve_secret(f"file:{secret}")
    assert f"file:{secret}" in str(error.value)
    assert SENTINEL not in str(error.value)


def test_directory_is_not_a_secret_file(tmp_path: Path) -> None:
    with pytest.raises(SecretError) as error:
        resolve_secret(f"file:{tmp_path}")
    assert str(error.value).startswith(f"secret 'file:{tmp_path}': cannot read {tmp_path} (")


def test_file_that_is_not_utf8_is_a_secret_error(tmp_path: Path) -> None:
    secret = tmp_path / "binary"
    secret.write_bytes(b"\xff\xfe" + SENTINEL.encode())
    with pytest.raises(SecretError) as error:
        resolve_secret(f"file:{secret}")
    assert f"file:{secret}" in str(error.value)
    assert SENTINEL not in str(error.value)


@pytest.mark.parametrize("value", [SENTINEL, "hunter2", "environment:X", "ENV:NAME", " env:NAME", "vault://db/pw"])
def test_non_references_are_rejected_without_echoing_more_than_the_value(value: str) -> None:
    assert not is_secret_ref(value)
    with pytest.raises(SecretError) as error:
        resolve_secret(value)
    assert str(error.value) == f"{value!r} is not a secret reference; use env:NAME or file:/path"


@pytest.mark.parametrize("value", ["env:", "env:1BAD", "env:has space", "env:A-B", "file:"])
def test_malformed_references_are_not_references(value: str) -> None:
    assert not is_secret_ref(value)


def test_a_trailing_newline_is_not_part_of_a_reference() -> None:
    assert not is_secret_ref("env:NAME\n")
    assert not is_secret_ref("file:/run/secrets/pw\n")


@pytest.mark.parametrize(
    "value", ["env:PGPASSWORD", "env:_x1", "file:/run/secrets/db", "file:relative/pw", "file:~/pw"]
)
def test_references_are_recognised(value: str) -> None:
    assert is_secret_ref(value)


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True))
def test_every_env_name_is_a_reference(name: str) -> None:
    assert is_secret_ref(f"env:{name}")


@given(st.text(max_size=40).filter(lambda v: not v.startswith(("env:", "file:"))))
def test_nothing_else_is_a_reference(value: str) -> None:
    assert not is_secret_ref(value)
