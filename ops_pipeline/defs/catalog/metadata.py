"""How a scanned catalog looks in the Dagster UI: column schemas, row counts, markdown summaries, the drift
check's result."""

from __future__ import annotations

from typing import Any

import dagster as dg

from ops_pipeline.core.asset_key_parts import key_part
from ops_pipeline.core.catalog import Catalog, Table
from ops_pipeline.core.drift import drift_summary
from ops_pipeline.markdown import table
from ops_pipeline.markdown.catalog import changes_markdown
from ops_pipeline.store.catalog import CompletedScan

TABLE_KEY_PREFIX = "catalog"
SUMMARY_TABLE_LIMIT = 40


def table_asset_key(source: str, table: Table) -> dg.AssetKey:
    return dg.AssetKey([TABLE_KEY_PREFIX, key_part(source), key_part(table.schema), key_part(table.name)])


def column_schema(table: Table) -> dg.TableSchema:
    unique_columns = {u.columns[0] for u in table.unique_constraints if len(u.columns) == 1}
    if len(table.primary_key) == 1:
        unique_columns.add(table.primary_key[0])
    references = {
        column: f"references {fk.target_schema}.{fk.target_table}({target})"
        for fk in table.foreign_keys
        for column, target in zip(fk.columns, fk.target_columns, strict=False)
    }
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.data_type,
                description=c.comment,
                constraints=dg.TableColumnConstraints(
                    nullable=c.nullable,
                    unique=c.name in unique_columns,
                    other=[
                        x
                        for x in (
                            _pk_note(table, c.name),
                            references.get(c.name),
                            f"default {c.default}" if c.default else None,
                        )
                        if x
                    ],
                ),
            )
            for c in table.columns
        ]
    )


def _pk_note(table: Table, column: str) -> str | None:
    return "primary key" if column in table.primary_key else None


def table_metadata(source: str, table: Table, version: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "dagster/column_schema": column_schema(table),
        "source": source,
        "qualified_name": table.qualified_name,
        "kind": table.kind,
        "entity": table.entity_name or table.name,
        "catalog_version": version or "",
        "primary_key": ", ".join(table.primary_key) or "none",
        "foreign_keys": dg.MetadataValue.md(_foreign_keys_markdown(table)),
        "indexes": dg.MetadataValue.md(_indexes_markdown(table)),
    }
    if table.row_count is not None:
        metadata["dagster/row_count"] = table.row_count
        metadata["row_count_exact"] = table.row_count_exact
    if table.comment:
        metadata["comment"] = table.comment
    return metadata


def _foreign_keys_markdown(table: Table) -> str:
    if not table.foreign_keys:
        return "No foreign keys."
    return "\n".join(
        f"- `{fk.name}`: ({', '.join(fk.columns)}) → {fk.target_schema}.{fk.target_table}"
        f"({', '.join(fk.target_columns)})"
        for fk in table.foreign_keys
    )


def _indexes_markdown(table: Table) -> str:
    lines = [f"- unique `{u.name}` ({', '.join(u.columns)})" for u in table.unique_constraints]
    lines += [f"- {'unique ' if i.unique else ''}index `{i.name}` ({', '.join(i.columns)})" for i in table.indexes]
    return "\n".join(lines) or "No indexes."


def catalog_summary_markdown(catalog: Catalog, limit: int = SUMMARY_TABLE_LIMIT) -> str:
    rows = (
        (
            t.qualified_name,
            t.kind,
            t.entity_name or t.name,
            len(t.columns),
            t.row_count,
            ", ".join(t.primary_key),
            len(t.foreign_keys),
            len(t.indexes) + len(t.unique_constraints),
        )
        for t in catalog.tables
    )
    return table(["table", "kind", "entity", "columns", "rows", "pk", "fks", "indexes"], rows, limit=limit)


def scan_metadata(outcome: CompletedScan) -> dict[str, Any]:
    snapshot, catalog = outcome.snapshot, outcome.catalog
    summary = drift_summary(outcome.changes)
    return {
        "source": snapshot.source,
        "source_type": snapshot.source_type,
        "snapshot_id": snapshot.id,
        "catalog_version": snapshot.version or "",
        "server_version": snapshot.server_version or "",
        "schemas": len(catalog.schemas),
        "tables": sum(t.kind == "table" for t in catalog.tables),
        "views": sum(t.kind in ("view", "materialized_view") for t in catalog.tables),
        "key_patterns": sum(t.kind == "key_pattern" for t in catalog.tables),
        "columns": catalog.column_count,
        "foreign_keys": sum(len(t.foreign_keys) for t in catalog.tables),
        "indexes": sum(len(t.indexes) for t in catalog.tables),
        "dagster/row_count": sum(t.row_count or 0 for t in catalog.tables),
        "row_counts": "exact" if snapshot.exact_row_counts else "estimated",
        "scan_duration_s": round(snapshot.duration_s or 0.0, 3),
        "schema_changes": len(outcome.changes),
        "breaking_changes": summary["breaking"],
        "summary": dg.MetadataValue.md(catalog_summary_markdown(catalog)),
        "changes": dg.MetadataValue.md(changes_markdown(outcome.changes)),
    }


def drift_check_result(check_name: str, outcome: CompletedScan) -> dg.AssetCheckResult:
    breaking = sum(c.classification == "breaking" for c in outcome.changes)
    severity = dg.AssetCheckSeverity.ERROR if breaking else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not outcome.changes,
        severity=severity,
        metadata={
            "source": outcome.snapshot.source,
            "catalog_version": outcome.snapshot.version or "",
            "previous_version": outcome.previous.version if outcome.previous else "",
            "compatible_changes": len(outcome.changes) - breaking,
            "breaking_changes": breaking,
            "changes": dg.MetadataValue.md(changes_markdown(outcome.changes)),
        },
    )
