"""The leak test: a plan whose steps print, log, raise and return known secrets (given as `env:` and `file:`
references, and written in every form of the default pattern list) runs through Dagster on a real instance made
from the shipped instance yaml (SQLite: dagster.yaml; PostgreSQL: deploy/dagster.postgres.yaml), then every store
is searched: each file under DAGSTER_HOME (event logs, run storage, compute logs, step outputs, the ops store
on SQLite) and, on PostgreSQL, every row of every table. Not one occurrence may be found.

The plan's steps mask what they write themselves; a careless op (not a plan step) that logs, prints, has a child
print, attaches metadata and raises the same secrets raw runs on the same instance, so the instance's own masking
(the event log storage and the compute log manager) is what keeps those out."""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from ops_pipeline.core.secrets import resolve_secret
from ops_pipeline.definitions import build_definitions
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import list_executions
from tests.conftest import REPO_ROOT, pg_url

PASSWORD = "Leak'Pa55w0rd!é/x"  # the env: secret: a quote, a non-ASCII letter and a slash change its spellings
TOKEN = "tok_9f8e7d6c5b4a39281706"  # the file: secret
# Never resolved through a reference: only the default patterns can find these.
PATTERN_ONLY = {
    "aws access key id": "AKIAIOSFODNN7EXAMPLE",
    "aws secret key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQ",
    "private key": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "api token": "sk-Ab3dEf6hIj9kLmN0pQrStUvWx",
    "basic auth": "dXNlcjpMZWFrUGFzczE=",
    "connection string password": "Conn-Str-Pw-77",
    "json password": "Json-Pw-4242",
    "key=value password": "Kv-Pw-9191",
    "url password": "Url-Pw-5353",
    "card": "4111 1111 1111 1111",
    "email": "leak.victim@example.com",
}
CREDENTIALS_PRINTOUT = f"""export AWS_ACCESS_KEY_ID={PATTERN_ONLY["aws access key id"]}
aws_secret_access_key = {PATTERN_ONLY["aws secret key"]}
jwt {PATTERN_ONLY["jwt"]}
-----BEGIN OPENSSH PRIVATE KEY-----
{PATTERN_ONLY["private key"]}
QyNTUxOQAAACDw6r0ZbZQ1rDn8l2ttS4kGIk1BCX7Y5GWh1mPY5Q9VHQAAAJg=
-----END OPENSSH PRIVATE KEY-----
OPENAI_API_KEY={PATTERN_ONLY["api token"]}
curl -H 'Authorization: Basic {PATTERN_ONLY["basic auth"]}'
Server=db;User Id=ops;Password={PATTERN_ONLY["connection string password"]};Encrypt=true
{{"db_password": "{PATTERN_ONLY["json password"]}"}}
DB_PASSWORD={PATTERN_ONLY["key=value password"]} user=ops
postgresql://ops:{PATTERN_ONLY["url password"]}@db.internal:5432/shop
card {PATTERN_ONLY["card"]} declined for {PATTERN_ONLY["email"]}
"""
# Prints both resolved secrets in every form of the pattern list, on stdout and stderr.
PRINT_SCRIPT = """
printf 'raw %s and %s\\n' "$1" "$2"
printf 'password=%s\\n' "$1"
printf '{"password": "%s", "api_key": "%s"}\\n' "$1" "$2"
printf 'postgresql://ops:%s@db.internal:5432/shop\\n' "$1"
printf 'Authorization: Bearer %s\\n' "$2"
printf 'Server=db;User Id=ops;Password=%s;\\n' "$1"
printf 'stderr has %s\\n' "$1" >&2
cat "$3"
"""
RAISE_SCRIPT = 'printf "connecting with password=%s failed: token %s\\n" "$1" "$2" >&2; exit 3'


def forms(secret: str) -> set[str]:
    """The spellings a store could hold a secret in (a shell-quoted command line among them)."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), repr(secret)[1:-1], shlex.quote(secret)}


def leak_plan(secret_file: Path, credentials: Path) -> dict[str, Any]:
    env_ref, file_ref = "{{ secret:env:LEAK_PASSWORD }}", "{{ secret:file:" + str(secret_file) + " }}"
    return {
        "name": "leaky",
        "environment": "dev",
        "action_class": "read",
        "sla_class": "medium",
        "approval_level": 0,
        "targets": ["here"],
        "steps": [
            {
                "id": "print_and_return",
                "type": "command",
                "target": "here",
                "argv": ["sh", "-c", PRINT_SCRIPT, "sh", env_ref, file_ref, str(credentials)],
            },
            {
                "id": "select_secret",
                "type": "sql",
                "source": "shop",
                "statement": "SELECT :pw AS password_echo, :tok AS echoed, 'password=' || :pw AS line",
                "params": {"pw": env_ref, "tok": file_ref},
                "depends_on": ["print_and_return"],
            },
            {
                "id": "fail_loudly",
                "type": "command",
                "target": "here",
                "argv": ["sh", "-c", RAISE_SCRIPT, "sh", env_ref, file_ref],
                "depends_on": ["select_secret"],
                "retry": False,
            },
        ],
    }


def location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance_yaml: Path) -> tuple[dg.Definitions, Path]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(instance_yaml, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("LEAK_PASSWORD", PASSWORD)
    secret_file = tmp_path / "token.txt"
    secret_file.write_text(TOKEN + "\n")
    credentials = tmp_path / "credentials.txt"
    credentials.write_text(CREDENTIALS_PRINTOUT)
    monkeypatch.setenv("LEAK_TOKEN_FILE", str(secret_file))
    monkeypatch.setenv("LEAK_CREDENTIALS_FILE", str(credentials))
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "leaky.yaml").write_text(yaml.safe_dump(leak_plan(secret_file, credentials)))
    config = tmp_path / "ops.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": {"shop": {"type": "sqlite", "path": str(tmp_path / "shop.db")}},
                "services": {"targets": {"here": {"hostname": "localhost", "connection": "local"}}},
                "plans": {"folders": [str(plans)]},
            }
        )
    )
    return build_definitions(config, None), home


@dg.op
def careless(context: dg.OpExecutionContext) -> None:
    password, token = resolve_secret("env:LEAK_PASSWORD"), resolve_secret("file:" + os.environ["LEAK_TOKEN_FILE"])
    credentials = Path(os.environ["LEAK_CREDENTIALS_FILE"]).read_text()
    context.log.info(f"connecting with {password} and {token}\n{credentials}")
    print(f"stdout: {password} {token}\n{credentials}")
    print(f"stderr: {password} {token}\n{credentials}", file=sys.stderr)
    subprocess.run(["sh", "-c", 'echo "child: $0 $1"; cat "$2"', password, token, os.environ["LEAK_CREDENTIALS_FILE"]])
    context.log_event(dg.AssetObservation("leaky_thing", metadata={"seen": f"{password} {token} {credentials}"}))
    raise RuntimeError(f"could not connect with {password} / {token}: {credentials}")


@dg.job
def careless_job() -> None:
    careless()


def run_careless_job() -> None:
    with dg.DagsterInstance.get() as instance:
        result = careless_job.execute_in_process(instance=instance, raise_on_error=False)
        events = instance.all_logs(result.run_id)
    [failure] = [e for e in events if e.dagster_event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "could not connect with *** / ***" in failure.dagster_event.step_failure_data.error.cause.message  # type: ignore[union-attr]


def run_leaky_plan(defs: dg.Definitions) -> dg.ExecuteInProcessResult:
    with dg.DagsterInstance.get() as instance:
        result = defs.get_job_def("leaky").execute_in_process(
            instance=instance, raise_on_error=False, tags={"ops/actor": "user:alice"}
        )
        events = instance.all_logs(result.run_id)
    [failure] = [e for e in events if e.dagster_event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_key == "fail_loudly"
    assert "exited 3" in failure.dagster_event.step_failure_data.error.message  # type: ignore[union-attr]
    succeeded = {e.step_key for e in events if e.dagster_event_type == dg.DagsterEventType.STEP_SUCCESS}
    assert succeeded == {"preflight", "print_and_return", "select_secret"}
    assert any(e.dagster_event_type == dg.DagsterEventType.LOGS_CAPTURED for e in events)
    assert_masked_not_missing()
    return result


def assert_masked_not_missing() -> None:
    """What the steps printed and returned is stored, masked: the search below looks where the secrets would be."""
    with open_store().connect() as conn:
        [current] = list_executions(conn, "default")
        rows = {row.step_id: row for row in steps_of(conn, current.id)}
    printed = json.loads(rows["print_and_return"].output or "{}")
    assert "raw *** and ***" in printed["stdout"] and "AWS_ACCESS_KEY_ID=AKIA***" in printed["stdout"]
    assert "stderr has ***" in printed["stderr"]
    assert json.loads(rows["select_secret"].output or "{}")["rows"] == [
        {"password_echo": "***", "echoed": "***", "line": "password=***"}
    ]
    assert "password=*** failed: token ***" in (rows["fail_loudly"].error or "")


def needles() -> dict[str, set[bytes]]:
    found = {"env: secret": forms(PASSWORD), "file: secret": forms(TOKEN)}
    found.update({name: {value} for name, value in PATTERN_ONLY.items()})
    return {name: {form.encode("utf-8") for form in spellings} for name, spellings in found.items()}


def leaks_in_files(root: Path) -> list[str]:
    leaks = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        leaks += [
            f"{name} in {path.relative_to(root)}"
            for name, spellings in needles().items()
            if any(s in data for s in spellings)
        ]
    return leaks


def table_texts(url: str) -> dict[str, bytes]:
    """Every row of every table of the database's public schema, as text, by table."""
    engine = sa.create_engine(url)
    texts = {}
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalars()
            for table in list(tables):
                rows = conn.execute(sa.text(f'SELECT t::text FROM public."{table}" t')).scalars().all()
                texts[table] = "\n".join(rows).encode("utf-8")
    finally:
        engine.dispose()
    return texts


def leaks_in(texts: dict[str, bytes]) -> list[str]:
    return [
        f"{name} in table {table}"
        for table, text in texts.items()
        for name, spellings in needles().items()
        if any(spelling in text for spelling in spellings)
    ]


def test_no_secret_reaches_any_store_on_sqlite(tmp_path, monkeypatch) -> None:
    defs, home = location(tmp_path, monkeypatch, REPO_ROOT / "dagster.yaml")
    run_leaky_plan(defs)
    run_careless_job()
    stored = {path.name for path in home.rglob("*") if path.is_file()}
    assert {"runs.db", "ops_store.db"} <= stored and any(name.endswith(".out") for name in stored)
    assert leaks_in_files(home) == []


def test_no_secret_reaches_any_store_on_postgres(tmp_path, monkeypatch, make_pg_database) -> None:
    dagster_db, ops_db = make_pg_database(), make_pg_database()
    monkeypatch.setenv("DAGSTER_PG_URL", pg_url(dagster_db))
    monkeypatch.setenv("OPS_DATABASE_URL", pg_url(ops_db))
    defs, home = location(tmp_path, monkeypatch, REPO_ROOT / "deploy" / "dagster.postgres.yaml")
    run_leaky_plan(defs)
    run_careless_job()
    assert leaks_in_files(home) == []
    dagster_tables, ops_tables = table_texts(pg_url(dagster_db)), table_texts(pg_url(ops_db))
    assert b"AKIA***" in dagster_tables["event_logs"] and b"AKIA***" in ops_tables["execution_steps"]
    assert leaks_in(dagster_tables) == []
    assert leaks_in(ops_tables) == []
