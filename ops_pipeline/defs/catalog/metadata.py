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
    if table.entity_rule is not None:
        metadata["entity_rule"] = table.entity_rule
        metadata["entity_confidence"] = table.entity_confidence
    if table.checks or table.exclusions:
        metadata["checks"] = dg.MetadataValue.md(_checks_markdown(table))
    if table.view_definition:
        metadata["view_definition"] = dg.MetadataValue.md(f"```sql\n{table.view_definition.strip()}\n```")
    if table.partition_key:
        metadata["partition_key"] = table.partition_key
        metadata["partitions"] = dg.MetadataValue.md(_partitions_markdown(table))
    return metadata


def _checks_markdown(table: Table) -> str:
    lines = [f"- `{c.name}`: {c.expression}" for c in table.checks]
    return "\n".join(lines + [f"- `{x.name}`: {x.definition}" for x in table.exclusions])


def _partitions_markdown(table: Table) -> str:
    return "\n".join(f"- `{p.name}` {p.bound}" for p in table.partitions) or "No partitions."


def _foreign_keys_markdown(table: Table) -> str:
    if not table.foreign_keys:
        return "No foreign keys."
    return "\n".join(
        f"- `{fk.name}`: ({', '.join(fk.columns)}) → {fk.target_schema}.{fk.target_table}"
        f"({', '.join(fk.target_columns)}) ON DELETE {fk.on_delete} ON UPDATE {fk.on_update}"
        for fk in table.foreign_keys
    )


def _indexes_markdown(table: Table) -> str:
    lines = [f"- unique `{u.name}` ({', '.join(u.columns)})" for u in table.unique_constraints]
    lines += [
        f"- {'unique ' if i.unique else ''}index `{i.name}` ({', '.join(i.columns)})"
        + (f" using {i.method}" if i.method else "")
        + (f" where {i.predicate}" if i.predicate else "")
        for i in table.indexes
    ]
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
        "partitions": sum(len(t.partitions) for t in catalog.tables),
        "types": len(catalog.types or ()),
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in catalog.notes) or "None."),
        **_row_count(catalog, snapshot.exact_row_counts),
        "scan_duration_s": round(snapshot.duration_s or 0.0, 3),
        "schema_changes": len(outcome.changes),
        "breaking_changes": summary["breaking"],
        "summary": dg.MetadataValue.md(catalog_summary_markdown(catalog)),
        "changes": dg.MetadataValue.md(changes_markdown(outcome.changes)),
    }


def _row_count(catalog: Catalog, exact: bool) -> dict[str, Any]:
    """The total rows only when every relation's count is known: a sum over the known ones would understate it,
    and an unknown count is not zero."""
    known = [t.row_count for t in catalog.tables if t.row_count is not None]
    if len(known) == len(catalog.tables):
        return {"dagster/row_count": sum(known), "row_counts": "exact" if exact else "estimated"}
    return {"row_counts": f"unknown for {len(catalog.tables) - len(known)} of {len(catalog.tables)} relations"}


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
