"""Generating a data product model from a catalogued table: JSON Schema and Legend PURE, versioned by content,
with the diff from the previous version and, optionally, a profile of a sample of the table."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from ops_pipeline.core.catalog import Table
from ops_pipeline.core.models import (
    ConstraintSpec,
    DataModel,
    TypeRules,
    build_model,
    json_schema_text,
    model_diff,
    to_pure,
)
from ops_pipeline.settings import ConfigError, DataProductSpec, OpsSettings
from ops_pipeline.sources.profile import TableProfile, profile_table
from ops_pipeline.sources.registry import sql_database_for
from ops_pipeline.store.catalog import catalogued_table
from ops_pipeline.store.data_products import StoredModel, latest_model, save_model


@dataclass(frozen=True)
class GeneratedModel:
    spec: DataProductSpec
    model: DataModel
    stored: StoredModel
    changed: bool
    diff: list[str]
    files: tuple[Path, Path]
    profile: TableProfile | None


def models_dir(settings: OpsSettings) -> Path:
    if settings.data_products.output_dir:
        return Path(settings.data_products.output_dir)
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ConfigError("model files need a folder: set data_products.output_dir in ops.yaml, or DAGSTER_HOME")
    return Path(home) / "models"


def generate(settings: OpsSettings, spec: DataProductSpec, engine: sa.Engine, run_id: str | None) -> GeneratedModel:
    table = catalogued_table(engine, spec.source, spec.table)
    source = settings.source(spec.source)
    rules = sql_database_for(source.type).type_rules
    model = build_model(
        table,
        rules=rules,
        package=settings.data_products.package,
        constraints=spec.constraints,
        source=spec.source,
    )
    schema_text, pure_text = json_schema_text(model), to_pure(model)
    content_hash = hashlib.sha256((schema_text + pure_text).encode()).hexdigest()
    previous = latest_model(engine, spec.source, spec.table)
    changed = previous is None or previous.content_hash != content_hash
    diff = model_diff(_rebuild(previous, rules, settings.data_products.package), model) if changed else []
    stored = (
        previous
        if previous and not changed
        else StoredModel(
            source=spec.source,
            table_name=spec.table,
            model_name=model.name,
            version=(previous.version + 1) if previous else 1,
            content_hash=content_hash,
            json_schema=schema_text,
            pure=pure_text,
            diff="\n".join(diff),
            table_definition=json.dumps(table.definition()),
            constraints=json.dumps([c.model_dump(mode="json", exclude_defaults=True) for c in spec.constraints]),
            run_id=run_id,
            created_at=datetime.now(UTC),
        )
    )
    files = _write_files(models_dir(settings), spec, schema_text, pure_text)
    if changed:
        save_model(engine, stored)
    profile = None
    if spec.profile:
        profile = profile_table(spec.source, source, table, sample_rows=spec.sample_rows)
    return GeneratedModel(spec, model, stored, changed, diff, files, profile)


def _rebuild(previous: StoredModel | None, rules: TypeRules, package: str) -> DataModel | None:
    if previous is None:
        return None
    table = Table.from_definition(json.loads(previous.table_definition))
    constraints = [ConstraintSpec.model_validate(c) for c in json.loads(previous.constraints)]
    return build_model(
        table,
        rules=rules,
        package=package,
        constraints=constraints,
        source=previous.source,
    )


def _write_files(folder: Path, spec: DataProductSpec, schema_text: str, pure_text: str) -> tuple[Path, Path]:
    base = folder / spec.source
    base.mkdir(parents=True, exist_ok=True)
    schema_path, pure_path = base / f"{spec.table}.schema.json", base / f"{spec.table}.pure"
    for path, text in ((schema_path, schema_text), (pure_path, pure_text)):
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    return schema_path, pure_path
