"""`ops-pipeline` in-process against real servers: config check, sources, resolver simulation, catalog, store."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from ops_pipeline.cli import main
from ops_pipeline.settings import load_settings
from ops_pipeline.store.engine import VERSION_TABLE, current_revision, head_revision, open_store
from tests.conftest import PG_HOST, PG_PORT, pg_url
from tests.dagster.helpers import SNAKE_CASE_RESOLVER, pg_source, scan_configured, write_config

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_GENERATOR = REPO_ROOT / "examples" / "demo" / "generate_warehouse.py"
SENTINEL = "Sentinel-pw-7c41e0b2"
OK_LINE = re.compile(
    r"^ok: source '(?P<name>[\w-]+)' \((?P<type>\w+)\) at (?P<target>.+): "
    r"server (?P<version>.+), (?P<ms>\d+\.\d) ms$"
)


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("OPS_DATABASE_URL", url)
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def demo_resolvers() -> list[dict[str, Any]]:
    resolvers: list[dict[str, Any]] = yaml.safe_load((REPO_ROOT / "ops.yaml").read_text())["resolvers"]
    return resolvers


@pytest.fixture(scope="module")
def demo_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_generate_warehouse_cli", DEMO_GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- config check


def test_config_check_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("shop")}, resolvers=demo_resolvers())
    code, out, err = run(capsys, "--config", str(config), "config", "check")
    assert (code, out, err) == (0, "ok: 1 sources, 1 resolvers\n", "")


def test_config_check_uses_ops_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "from_env.yaml", {"a": pg_source("x"), "b": pg_source("y")})
    monkeypatch.setenv("OPS_CONFIG", str(config))
    assert run(capsys, "config", "check") == (0, "ok: 2 sources, 0 resolvers\n", "")


def test_config_check_fails_naming_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("shop", hots="db.internal")})
    code, out, err = run(capsys, "--config", str(config), "config", "check")
    assert code == 2
    assert out == ""
    assert err.startswith("error: invalid configuration\n")
    assert f"{config}: sources.wh.hots: Extra inputs are not permitted" in err


def test_config_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--config", str(tmp_path / "nope.yaml"), "config", "check")
    assert (code, out) == (2, "")
    assert f"{tmp_path / 'nope.yaml'}: configuration file not found" in err


def test_config_check_never_echoes_a_literal_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("shop", password=SENTINEL)})
    code, out, err = run(capsys, "--config", str(config), "config", "check")
    assert code == 2
    assert f"{config}: sources.wh.password: must be a secret reference" in err
    assert SENTINEL not in out + err


# ---- sources list / test


def test_sources_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = {
        "wh": pg_source("shop", tags=["prod", "finance"], description="Main warehouse"),
        "bus": {"type": "kafka", "bootstrap_servers": ["127.0.0.1:9092"]},
    }
    config = write_config(tmp_path / "ops.yaml", sources)
    code, out, err = run(capsys, "--config", str(config), "sources", "list")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "bus\tkafka\tconnection test only\t\t",
        "wh\tpostgresql\tscan\tprod, finance\tMain warehouse",
    ]


def test_sources_test_postgresql_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_database: str) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database)})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "wh")
    assert (code, err) == (0, "")
    match = OK_LINE.match(out.strip())
    assert match, out
    assert match["name"] == "wh" and match["type"] == "postgresql"
    assert match["target"] == f"{PG_HOST}:{PG_PORT}/{pg_database}"
    assert re.match(r"\d+(\.\d+)?", match["version"])
    assert 0 < float(match["ms"]) < 10_000


def test_sources_test_closed_port_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_port: int
) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("shop", host="127.0.0.1", port=closed_port)})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "wh")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: source 'wh': unreachable: 127.0.0.1:{closed_port}/shop")


def test_sources_test_unknown_database(tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_database: str) -> None:
    missing = pg_database + "_missing"
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(missing)})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "wh")
    assert (code, out) == (2, "")
    assert err.startswith("error: source 'wh': unknown database: ")
    assert missing in err


def test_sources_test_auth_failed_for_unknown_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_database: str
) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database, user="ops_no_such_role")})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "wh")
    assert (code, out) == (2, "")
    assert err.startswith("error: source 'wh': auth failed: ")
    assert "ops_no_such_role" in err


def test_sources_test_timeout(tmp_path: Path, capsys: pytest.CaptureFixture[str], silent_server: int) -> None:
    source = pg_source("shop", host="127.0.0.1", port=silent_server, connect_timeout_s=1)
    config = write_config(tmp_path / "ops.yaml", {"wh": source})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "wh")
    assert (code, out) == (2, "")
    assert err.startswith("error: source 'wh': timeout: ")


def test_sources_test_unknown_source_lists_the_configured_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("a"), "crm": pg_source("b")})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "erp")
    assert (code, out) == (2, "")
    assert err == "error: unknown source 'erp' (configured: crm, wh)\n"


def test_sources_test_sqlite_demo_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_generator: ModuleType
) -> None:
    warehouse = demo_generator.generate_warehouse(tmp_path / "warehouse.db")
    config = write_config(tmp_path / "ops.yaml", {"demo": {"type": "sqlite", "path": str(warehouse)}})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "demo")
    assert (code, err) == (0, "")
    match = OK_LINE.match(out.strip())
    assert match, out
    assert (match["name"], match["type"], match["target"]) == ("demo", "sqlite", str(warehouse))
    assert re.fullmatch(r"3\.\d+\.\d+", match["version"])


def test_sources_test_sqlite_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "ops.yaml", {"demo": {"type": "sqlite", "path": str(tmp_path / "none.db")}})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "demo")
    assert (code, out) == (2, "")
    assert err.startswith("error: source 'demo': unknown database: ")
    assert not (tmp_path / "none.db").exists()


# ---- secrets never reach the output


def test_resolved_password_is_never_printed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    closed_port: int,
    pg_database: str,
) -> None:
    monkeypatch.setenv("OPS_T_PW", SENTINEL)
    sources = {
        "closed": pg_source("shop", host="127.0.0.1", port=closed_port, password="env:OPS_T_PW"),
        "norole": pg_source(pg_database, user="ops_no_such_role", password="env:OPS_T_PW"),
    }
    config = write_config(tmp_path / "ops.yaml", sources)
    for name, kind in (("closed", "unreachable"), ("norole", "auth failed")):
        code, out, err = run(capsys, "--config", str(config), "sources", "test", name)
        assert code == 2
        assert f"error: source '{name}': {kind}: " in err
        assert SENTINEL not in out + err
    for argv in (("sources", "list"), ("config", "check")):
        code, out, err = run(capsys, "--config", str(config), *argv)
        assert code == 0
        assert SENTINEL not in out + err


def test_unset_secret_fails_cleanly_naming_the_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pg_database: str
) -> None:
    monkeypatch.delenv("OPS_T_UNSET_PW", raising=False)
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database, password="env:OPS_T_UNSET_PW")})
    code, out, err = run(capsys, "--config", str(config), "sources", "test", "wh")
    assert (code, out) == (2, "")
    assert "env:OPS_T_UNSET_PW" in err
    assert "is not set" in err


# ---- resolver simulate


def test_resolver_simulate_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "ops.yaml", {}, resolvers=demo_resolvers())
    code, out, err = run(
        capsys,
        "--config",
        str(config),
        "resolver",
        "simulate",
        "canonical_tables",
        "InvoiceLine",
        "tbl_customers",
        "OrderHistory",
        "plain",
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "| input | output | decided by | confidence | rules tried |"
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines[2:] if line}
    assert rows["InvoiceLine"] == "| InvoiceLine | invoice_line | known_aliases | 1.00 | known_aliases ✓ |"
    assert rows["tbl_customers"] == (
        "| tbl_customers | customers | strip_legacy_prefix | 0.90 | known_aliases ✗, strip_legacy_prefix ✓ |"
    )
    assert rows["OrderHistory"] == (
        "| OrderHistory | order_history | snake_case | 0.70 | known_aliases ✗, strip_legacy_prefix ✗, snake_case ✓ |"
    )
    assert rows["plain"].startswith("| plain | plain | snake_case | 0.70 |")


def test_resolver_simulate_unknown_resolver(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "ops.yaml", {}, resolvers=demo_resolvers())
    code, out, err = run(capsys, "--config", str(config), "resolver", "simulate", "nope", "orders")
    assert (code, out) == (2, "")
    assert err == "error: unknown resolver 'nope' (configured: canonical_tables)\n"


def test_resolver_simulate_needs_an_entity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "ops.yaml", {}, resolvers=demo_resolvers())
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config), "resolver", "simulate", "canonical_tables"])
    assert exit_info.value.code == 2
    assert "entities" in capsys.readouterr().err


# ---- catalog


def test_catalog_after_real_scans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_database: str, store_url: str
) -> None:
    warehouse = sa.create_engine(pg_url(pg_database))
    with warehouse.begin() as conn:
        conn.execute(sa.text('CREATE TABLE "InvoiceLine" (id integer PRIMARY KEY, amount numeric NOT NULL)'))
        conn.execute(sa.text('CREATE INDEX invoice_amount ON "InvoiceLine" (amount)'))
        conn.execute(sa.text("CREATE TABLE orders (id integer PRIMARY KEY, note text)"))
        conn.execute(sa.text("INSERT INTO orders SELECT g, 'n' FROM generate_series(1, 10) g"))
        conn.execute(sa.text("ANALYZE orders"))
    config = write_config(
        tmp_path / "ops.yaml",
        {"wh": pg_source(pg_database)},
        resolvers=[SNAKE_CASE_RESOLVER],
        catalog={"default_resolver": "canonical"},
    )
    first = scan_configured(open_store(store_url), load_settings(config), "wh")

    code, out, err = run(capsys, "--config", str(config), "catalog", "show", "wh")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith(f"# wh: snapshot {first.snapshot.id}, version {first.snapshot.version}, finished ")
    assert [line for line in lines[1:] if not line.startswith("  ")] == [
        "public.InvoiceLine\ttable\tentity=invoice_line\tcolumns=2\trows=?\tpk=(id)\tfks=0",  # never analysed
        "public.orders\ttable\tentity=orders\tcolumns=2\trows=10~\tpk=(id)\tfks=0",
    ]
    # each table's columns with their types, then its indexes
    assert lines[2:4] == ["  id\tinteger\tnot null", "  amount\tnumeric\tnot null"]
    assert lines[4] == "  index invoice_amount\t(amount)"

    code, out, err = run(capsys, "--config", str(config), "catalog", "show", "wh", "--json")
    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert shown["snapshot"] == first.snapshot.id
    invoice_line = shown["tables"][0]
    assert invoice_line["name"] == "InvoiceLine" and invoice_line["row_count"] is None
    assert invoice_line["columns"][1] == {"name": "amount", "type": "numeric", "nullable": False, "default": None}
    assert invoice_line["indexes"] == [{"name": "invoice_amount", "columns": ["amount"], "unique": False}]

    with warehouse.begin() as conn:
        conn.execute(sa.text("ALTER TABLE orders DROP COLUMN note"))
        conn.execute(sa.text("ALTER TABLE orders ADD COLUMN status text"))
    warehouse.dispose()
    second = scan_configured(open_store(store_url), load_settings(config), "wh")
    assert second.changes

    code, out, err = run(capsys, "--config", str(config), "catalog", "changes", "wh")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"# wh: version {second.snapshot.version}"
    assert lines[1] == "| classification | kind | object | before | after |"
    # `note` dropped and `status` added at its place with its type: the catalog reads it as one rename.
    assert any("column_renamed" in line and "public.orders.status" in line and "note" in line for line in lines[3:]), (
        out
    )
    assert any("public.orders.status" in line for line in lines[3:]), out
    assert len(lines) == 3 + len(second.changes)

    code, out, err = run(capsys, "--config", str(config), "catalog", "history", "wh")
    assert (code, err) == (0, "")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (str(second.snapshot.id), "completed", f"version={second.snapshot.version}", "tables=2"),  # views apart
        (str(first.snapshot.id), "completed", f"version={first.snapshot.version}", "tables=2"),
    ]
    assert rows[0][4] == f"changes={len(second.changes)}"


def test_catalog_history_records_a_failed_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_port: int, store_url: str
) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("shop", port=closed_port)})
    with pytest.raises(Exception, match="unreachable"):
        scan_configured(open_store(store_url), load_settings(config), "wh")
    code, out, err = run(capsys, "--config", str(config), "catalog", "history", "wh")
    assert (code, err) == (0, "")
    [row] = [line.split("\t") for line in out.splitlines()]
    assert len(row) == 8
    assert row[1:5] == ["failed", "version=-", "tables=-", "changes=-"]
    assert row[-1].startswith(f"source 'wh': unreachable: 127.0.0.1:{closed_port}/shop: ")

    code, out, err = run(capsys, "--config", str(config), "catalog", "show", "wh")
    assert (code, out) == (2, "")
    assert err.startswith("error: source 'wh' has no completed scan yet (to scan it now: `ops-pipeline sources sync`")


@pytest.mark.parametrize("action", ["show", "changes"])
def test_catalog_of_a_source_never_scanned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_url: str, action: str
) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("shop")})
    code, out, err = run(capsys, "--config", str(config), "catalog", action, "wh")
    assert (code, out) == (2, "")
    assert err.startswith("error: source 'wh' has no completed scan yet (to scan it now: `ops-pipeline sources sync`")


def test_catalog_history_of_a_source_never_scanned_is_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("shop")})
    assert run(capsys, "--config", str(config), "catalog", "history", "wh") == (0, "", "")


@pytest.mark.parametrize("action", ["show", "history", "changes"])
def test_catalog_of_an_unknown_source_names_the_configured_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_url: str, action: str
) -> None:
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source("shop")})
    code, out, err = run(capsys, "--config", str(config), "catalog", action, "nope")
    assert (code, out, err) == (2, "", "error: unknown source 'nope' (configured: wh)\n")


def test_catalog_scan_of_the_demo_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_url: str, demo_generator: ModuleType
) -> None:
    warehouse = demo_generator.generate_warehouse(tmp_path / "warehouse.db")
    demo = yaml.safe_load((REPO_ROOT / "ops.yaml").read_text())
    demo["sources"]["demo"]["path"] = str(warehouse)
    config = tmp_path / "ops.yaml"
    config.write_text(yaml.safe_dump(demo))
    scan_configured(open_store(store_url), load_settings(config), "demo")
    code, out, err = run(capsys, "--config", str(config), "catalog", "show", "demo")
    assert (code, err) == (0, "")
    entities = dict(re.findall(r"^main\.(\S+)\t\w+\tentity=(\S+)\t", out, flags=re.MULTILINE))
    assert entities["InvoiceLine"] == "invoice_line"
    assert entities["order_items"] == "order_line"
    assert entities["orders"] == "orders"
    assert len(entities) == len([line for line in out.splitlines()[1:] if not line.startswith("  ")]) >= 12
    assert not any(name.startswith("sqlite_") for name in entities)

    code, out, err = run(capsys, "--config", str(config), "catalog", "changes", "demo")
    assert (code, out, err) == (0, "# demo: version 0.1\nNo schema changes.\n", "")


# ---- store


def test_store_upgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str], store_url: str) -> None:
    code, out, err = run(capsys, "store", "upgrade")
    assert (code, err) == (0, "")
    assert out == f"ok: ops store at {store_url} is at the latest revision\n"
    engine = sa.create_engine(store_url)
    try:
        assert VERSION_TABLE in sa.inspect(engine).get_table_names()
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    assert run(capsys, "store", "upgrade")[0] == 0  # idempotent


def test_store_upgrade_postgresql(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pg_database: str
) -> None:
    monkeypatch.setenv("OPS_DATABASE_URL", pg_url(pg_database).replace("postgresql+psycopg2://", "postgresql://"))
    code, out, err = run(capsys, "store", "upgrade")
    assert (code, err) == (0, "")
    assert out == f"ok: ops store at {pg_url(pg_database)} is at the latest revision\n"


def test_store_without_a_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_DATABASE_URL", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.dagster_home here
    code, out, err = run(capsys, "store", "upgrade")
    assert (code, out) == (2, "")
    assert err.startswith("error: the ops store has no location: set OPS_DATABASE_URL")


def test_the_demo_home_in_the_current_folder_is_found_and_named_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_DATABASE_URL", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    (tmp_path / ".dagster_home").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "store", "upgrade")
    home = tmp_path.resolve() / ".dagster_home"
    assert (code, out) == (0, f"ok: ops store at sqlite:///{home / 'ops_store.db'} is at the latest revision\n")
    assert err == f"note: DAGSTER_HOME is not set; using the demo's {home}\n"
    assert (home / "ops_store.db").is_file()
