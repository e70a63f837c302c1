"""ops.yaml validation: every source type, and errors shaped `<file>: <key path>: <reason>`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops_pipeline.settings import (
    SOURCE_TYPES,
    ConfigError,
    KafkaSource,
    OpsSettings,
    PostgresSource,
    SQLiteSource,
    load_settings,
    parse_settings,
)

REPO_ROOT = Path(__file__).resolve().parent.parent

MINIMAL_SOURCES: dict[str, dict[str, Any]] = {
    "postgresql": {"type": "postgresql", "database": "shop"},
    "mysql": {"type": "mysql", "database": "shop"},
    "sqlite": {"type": "sqlite", "path": "/data/shop.db"},
    "redis": {"type": "redis"},
    "mongodb": {"type": "mongodb", "database": "shop"},
    "kafka": {"type": "kafka", "bootstrap_servers": ["broker:9092"]},
    "s3": {"type": "s3", "bucket": "lake"},
    "bigquery": {"type": "bigquery", "project": "acme-analytics"},
    "snowflake": {"type": "snowflake", "account": "acme-eu1", "user": "loader"},
}

ALIAS_RULE = {"name": "known", "type": "alias", "mappings": {"InvoiceLine": "invoice_line"}}


def write(path: Path, document: Any) -> Path:
    path.write_text(yaml.safe_dump(document))
    return path


def problems(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    """The `<file>: <key path>: <reason>` lines of a ConfigError."""
    return [line.strip() for line in str(error.value).splitlines()[1:]]


def load_error(tmp_path: Path, document: Any) -> tuple[Path, list[str], str]:
    file = write(tmp_path / "ops.yaml", document)
    with pytest.raises(ConfigError) as error:
        load_settings(file)
    return file, problems(error), str(error.value)


def pg(**overrides: Any) -> dict[str, Any]:
    return {"sources": {"wh": {"type": "postgresql", "database": "shop", **overrides}}}


# ---- valid files


def test_demo_config_loads() -> None:
    settings = load_settings(REPO_ROOT / "ops.yaml")
    assert set(settings.sources) == {"demo", "lake"}
    demo = settings.sources["demo"]
    assert isinstance(demo, SQLiteSource)
    assert demo.scan_filter.keeps("main", "orders")
    assert not demo.scan_filter.keeps("main", "sqlite_stat1")
    assert [r.name for r in settings.resolvers] == ["canonical_tables"]
    assert settings.catalog.default_resolver == "canonical_tables"
    resolver = settings.resolver_for_source("demo")
    assert resolver is not None and resolver.name == "canonical_tables"


def test_minimal_sources_cover_every_type() -> None:
    assert set(MINIMAL_SOURCES) == set(SOURCE_TYPES)


@pytest.mark.parametrize("source_type", SOURCE_TYPES)
def test_every_source_type_validates_with_a_minimal_config(source_type: str) -> None:
    settings = parse_settings({"sources": {"src": MINIMAL_SOURCES[source_type]}}, "ops.yaml")
    source = settings.source("src")
    assert source.type == source_type
    assert source.connect_timeout_s == 5.0
    assert source.resolver is None
    assert source.scan_filter.keeps("any_schema", "any_table")


def test_server_source_defaults() -> None:
    settings = parse_settings(
        {"sources": {n: MINIMAL_SOURCES[n] for n in ("postgresql", "mysql", "redis", "mongodb")}}, "ops.yaml"
    )
    ports = {name: getattr(source, "port", None) for name, source in settings.sources.items()}
    assert ports == {"postgresql": 5432, "mysql": 3306, "redis": 6379, "mongodb": 27017}
    postgres = settings.sources["postgresql"]
    assert isinstance(postgres, PostgresSource)
    assert (postgres.host, postgres.user, postgres.password, postgres.ssl.mode) == ("127.0.0.1", None, None, "prefer")


def test_secret_references_are_accepted_and_kept_as_references() -> None:
    settings = parse_settings(
        {
            "sources": {
                "wh": {**MINIMAL_SOURCES["postgresql"], "password": "env:WH_PASSWORD"},
                "bus": {**MINIMAL_SOURCES["kafka"], "sasl_username": "u", "sasl_password": "file:/run/secrets/kafka"},
            }
        },
        "ops.yaml",
    )
    assert getattr(settings.sources["wh"], "password", None) == "env:WH_PASSWORD"
    bus = settings.sources["bus"]
    assert isinstance(bus, KafkaSource) and bus.sasl_password == "file:/run/secrets/kafka"


def test_empty_file_is_an_empty_configuration(tmp_path: Path) -> None:
    file = tmp_path / "ops.yaml"
    file.write_text("# nothing configured yet\n")
    assert load_settings(file) == OpsSettings()


def test_ops_config_env_var_selects_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = write(tmp_path / "elsewhere.yaml", {"sources": {"only_here": MINIMAL_SOURCES["sqlite"]}})
    monkeypatch.setenv("OPS_CONFIG", str(file))
    assert set(load_settings().sources) == {"only_here"}

    monkeypatch.setenv("OPS_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match=r"missing\.yaml: configuration file not found"):
        load_settings()


# ---- errors: `<file>: <key path>: <reason>`


def test_unknown_top_level_key(tmp_path: Path) -> None:
    file, lines, _ = load_error(tmp_path, {"sourcez": {}})
    assert lines == [f"{file}: sourcez: Extra inputs are not permitted"]


def test_unknown_key_inside_a_source(tmp_path: Path) -> None:
    file, lines, _ = load_error(tmp_path, pg(hots="db.internal"))
    assert lines == [f"{file}: sources.wh.hots: Extra inputs are not permitted"]


def test_wrong_type(tmp_path: Path) -> None:
    file, lines, _ = load_error(tmp_path, pg(port="abc"))
    assert len(lines) == 1
    assert lines[0].startswith(f"{file}: sources.wh.port: Input should be a valid integer")


@pytest.mark.parametrize(
    ("port", "reason"), [(0, "greater than 0"), (-5, "greater than 0"), (65536, "less than 65536")]
)
def test_out_of_range_port(tmp_path: Path, port: int, reason: str) -> None:
    file, lines, _ = load_error(tmp_path, pg(port=port))
    assert lines == [f"{file}: sources.wh.port: Input should be {reason}"]


def test_unknown_source_type_names_the_allowed_types(tmp_path: Path) -> None:
    file, lines, _ = load_error(tmp_path, {"sources": {"wh": {"type": "oracle", "database": "x"}}})
    assert len(lines) == 1
    assert lines[0].startswith(f"{file}: sources.wh: ")
    assert "'oracle'" in lines[0]
    for source_type in SOURCE_TYPES:
        assert f"'{source_type}'" in lines[0]


def test_literal_password_demands_a_reference_and_is_not_echoed(tmp_path: Path) -> None:
    file, lines, message = load_error(tmp_path, pg(password="hunter2-Sentinel"))
    assert lines == [
        f"{file}: sources.wh.password: must be a secret reference (env:NAME or file:/path), not a literal secret"
    ]
    assert "hunter2-Sentinel" not in message


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ("snowflake", "password"),
        ("kafka", "sasl_password"),
        ("s3", "secret_access_key"),
        ("bigquery", "credentials"),
    ],
)
def test_every_secret_field_rejects_literals(tmp_path: Path, source: str, field: str) -> None:
    document = {"sources": {"src": {**MINIMAL_SOURCES[source], field: "Literal-Sentinel-42"}}}
    file, lines, message = load_error(tmp_path, document)
    assert lines == [
        f"{file}: sources.src.{field}: must be a secret reference (env:NAME or file:/path), not a literal secret"
    ]
    assert "Literal-Sentinel-42" not in message


@pytest.mark.parametrize(("section", "kind"), [("include", "tables"), ("exclude", "schemas")])
def test_bad_regex_in_include_exclude(tmp_path: Path, section: str, kind: str) -> None:
    file, lines, _ = load_error(tmp_path, pg(**{section: {kind: ["^ok$", "orders("]}}))
    assert len(lines) == 1
    assert lines[0].startswith(f"{file}: sources.wh.{section}.{kind}: invalid regular expression 'orders(': ")


def test_source_referencing_a_missing_resolver(tmp_path: Path) -> None:
    document = {**pg(resolver="nope"), "resolvers": [{"name": "canonical", "rules": [ALIAS_RULE]}]}
    file, lines, _ = load_error(tmp_path, document)
    assert lines == [f"{file}: sources.wh.resolver: unknown resolver 'nope' (configured: canonical)"]


def test_default_resolver_referencing_a_missing_resolver(tmp_path: Path) -> None:
    file, lines, _ = load_error(tmp_path, {"catalog": {"default_resolver": "ghost"}})
    assert lines == [f"{file}: catalog.default_resolver: unknown resolver 'ghost' (configured: none)"]


def test_duplicate_resolver_names(tmp_path: Path) -> None:
    resolver = {"name": "canonical", "rules": [ALIAS_RULE]}
    file, lines, _ = load_error(tmp_path, {"resolvers": [resolver, resolver]})
    assert lines == [f"{file}: resolvers: resolver names must be unique; repeated: canonical"]


def test_bad_rule_regex_inside_a_resolver(tmp_path: Path) -> None:
    rule = {"name": "legacy", "type": "pattern", "pattern": "^tbl_(.+", "replacement": "\\1"}
    file, lines, _ = load_error(tmp_path, {"resolvers": [{"name": "canonical", "rules": [ALIAS_RULE, rule]}]})
    assert len(lines) == 1
    assert lines[0].startswith(f"{file}: resolvers[0].rules[1].pattern: invalid regular expression '^tbl_(.+': ")


def test_bad_transformation_step_key_path(tmp_path: Path) -> None:
    rule = {"name": "t", "type": "transformation", "steps": [{"op": "lower"}, {"op": "replace", "old": "-"}]}
    file, lines, _ = load_error(tmp_path, {"resolvers": [{"name": "canonical", "rules": [rule]}]})
    assert lines == [f"{file}: resolvers[0].rules[0].steps[1].new: Field required"]


def backfill_into(destination_type: str, **spec: Any) -> dict[str, Any]:
    destination = (
        {"type": "sqlite", "path": "lake.db"}
        if destination_type == "sqlite"
        else {"type": "postgresql", "database": "lake"}
    )
    pipeline = {"source": "src", "table": "trades", "time_column": "at", "destination": "dst", "start": "2024-03-01"}
    return {
        "sources": {"src": {"type": "postgresql", "database": "shop"}, "dst": destination},
        "backfills": {"trades": {**pipeline, **spec}},
    }


def test_backfill_destination_of_a_type_that_cannot_be_written(tmp_path: Path) -> None:
    document = backfill_into("postgresql")
    document["sources"]["dst"] = {"type": "redis"}
    file, lines, _ = load_error(tmp_path, document)
    assert lines == [
        f"{file}: backfills.trades.destination: a redis source cannot be a backfill destination "
        "(use postgresql, sqlite)"
    ]


def test_concurrent_windows_default_to_two_into_postgresql_and_one_into_sqlite(tmp_path: Path) -> None:
    into_postgres = load_settings(write(tmp_path / "pg.yaml", backfill_into("postgresql")))
    into_sqlite = load_settings(write(tmp_path / "lite.yaml", backfill_into("sqlite")))
    configured = load_settings(write(tmp_path / "set.yaml", backfill_into("postgresql", concurrent_windows=6)))
    assert into_postgres.concurrent_windows("trades") == 2
    assert into_sqlite.concurrent_windows("trades") == 1
    assert configured.concurrent_windows("trades") == 6


def test_concurrent_windows_into_sqlite_is_refused(tmp_path: Path) -> None:
    file, lines, _ = load_error(tmp_path, backfill_into("sqlite", concurrent_windows=2))
    assert lines == [
        f"{file}: backfills.trades.concurrent_windows: a sqlite destination takes one writer at a "
        "time; use 1 or leave it unset"
    ]


def test_backfill_source_of_a_type_that_cannot_be_read(tmp_path: Path) -> None:
    document = backfill_into("postgresql")
    document["sources"]["src"] = {"type": "kafka", "bootstrap_servers": ["broker:9092"]}
    file, lines, _ = load_error(tmp_path, document)
    assert lines == [
        f"{file}: backfills.trades.source: a kafka source cannot be a backfill source (use postgresql, mysql, sqlite)"
    ]


def test_data_product_of_a_source_without_tables(tmp_path: Path) -> None:
    document = {
        "sources": {"cache": {"type": "redis"}},
        "data_products": {"models": [{"source": "cache", "table": "db0.users"}]},
    }
    file, lines, _ = load_error(tmp_path, document)
    assert lines == [
        f"{file}: data_products.models[0].source: 'cache' is a redis source; models come from postgresql, mysql "
        "or sqlite tables"
    ]


def test_bad_yaml_syntax(tmp_path: Path) -> None:
    file = tmp_path / "ops.yaml"
    file.write_text("sources:\n  wh: {type: postgresql, database: [unclosed\n")
    with pytest.raises(ConfigError) as error:
        load_settings(file)
    assert str(error.value).startswith(f"{file}: not valid YAML: ")


def test_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as error:
        load_settings(file)
    assert str(error.value) == f"{file}: configuration file not found (set OPS_CONFIG to its path)"


@pytest.mark.parametrize(("text", "kind"), [("- sources\n- resolvers\n", "list"), ("just text\n", "str")])
def test_top_level_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    file = tmp_path / "ops.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(file)
    assert str(error.value) == f"{file}: the top level must be a mapping of sections, not {kind}"


def test_every_problem_is_reported(tmp_path: Path) -> None:
    document = {
        "sources": {
            "wh": {"type": "postgresql", "database": "shop", "port": "abc"},
            "cache": {"type": "redis", "db": -1},
        },
        "catalog": {"sync_interval_s": 1},
    }
    file, lines, message = load_error(tmp_path, document)
    assert message.startswith("invalid configuration\n")
    assert sorted(line.split(": ")[1] for line in lines) == [
        "catalog.sync_interval_s",
        "sources.cache.db",
        "sources.wh.port",
    ]
    assert all(line.startswith(f"{file}: ") for line in lines)


@pytest.mark.parametrize("source_type", SOURCE_TYPES)
def test_key_paths_never_contain_the_discriminator_tag(tmp_path: Path, source_type: str) -> None:
    document = {"sources": {"wh": {**MINIMAL_SOURCES[source_type], "connect_timeout_s": 0}}}
    file, lines, _ = load_error(tmp_path, document)
    assert lines == [f"{file}: sources.wh.connect_timeout_s: Input should be greater than 0"]
    assert f".{source_type}." not in lines[0]


def test_source_named_like_a_type_or_tag_keeps_its_name(tmp_path: Path) -> None:
    document = {
        "sources": {
            "postgresql": {"type": "postgresql", "database": "x", "port": "abc"},
            "pattern": {"type": "sqlite", "path": "x", "port": 1},
        }
    }
    file, lines, _ = load_error(tmp_path, document)
    assert len(lines) == 2
    assert f"{file}: sources.pattern.port: Extra inputs are not permitted" in lines
    assert any(line.startswith(f"{file}: sources.postgresql.port: Input should be a valid integer") for line in lines)


# ---- the Dagster code location


def test_code_location_with_a_broken_config_fails_to_load_naming_file_and_key(tmp_path: Path) -> None:
    bad = write(tmp_path / "broken_ops.yaml", pg(port=99999))
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "OPS_CONFIG": str(bad), "DAGSTER_HOME": str(home)}
    env.pop("OPS_DATABASE_URL", None)
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "ops_pipeline.definitions"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{bad}: sources.wh.port: Input should be less than 65536" in output


def test_configuration_reference_examples_validate() -> None:
    text = (REPO_ROOT / "docs" / "configuration.md").read_text()
    document: dict[str, Any] = {}
    for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL):
        document |= yaml.safe_load(block)
    assert set(document) == set(OpsSettings.model_fields)  # every section is documented with an example
    settings = parse_settings(document, "docs/configuration.md")
    assert settings.resolver_for_source("warehouse") == settings.resolver("canonical_tables")
