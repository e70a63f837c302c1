"""Every table of every configured source's last scan as an asset spec, foreign keys drawn as dependencies.

Built when the code location loads, from the state files the scans leave (see `state.py`), never from the ops
store; new tables from later scans appear after a reload (their materializations are recorded by the scan
either way). Scanned data never stops the code location from loading: a table whose spec cannot be built is
left out and named in the warnings, which the schema catalog asset shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from ops_pipeline.core.catalog import Catalog, ForeignKey, Table
from ops_pipeline.defs.catalog.metadata import column_schema, key_part, table_asset_key
from ops_pipeline.defs.catalog.state import read_table_states

logger = logging.getLogger(__name__)


@dataclass
class TableSpecs:
    specs: list[dg.AssetSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def catalog_table_specs(state_dir: Path | None, sources: list[str]) -> TableSpecs:
    found = TableSpecs()
    keys: set[dg.AssetKey] = set()
    for state in read_table_states(state_dir, sources):
        catalog = Catalog(state.source, state.source_type, tables=state.tables)
        deps = acyclic_dependencies(catalog)
        for table in catalog.tables:
            try:
                spec = _spec(state.source, state.source_type, table, deps[table.qualified_name])
                if spec.key in keys:
                    raise ValueError(f"asset key {spec.key.to_user_string()} is taken by another table")
            except Exception as error:
                found.warnings.append(f"{state.source}: table {table.qualified_name!r} not drawn: {error}")
                continue
            keys.add(spec.key)
            found.specs.append(spec)
    if found.specs and not _builds(found.specs):
        found.warnings.append("the scanned tables do not form a valid asset graph; none are drawn until the next scan")
        found.specs = []
    for warning in found.warnings:
        logger.warning(warning)
    return found


def _builds(specs: list[dg.AssetSpec]) -> bool:
    try:
        dg.Definitions(assets=specs).resolve_asset_graph()
    except Exception as error:
        logger.warning(f"catalog table assets dropped: {error}")
        return False
    return True


def _spec(source: str, source_type: str, table: Table, deps: list[Table]) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=table_asset_key(source, table),
        deps=[table_asset_key(source, d) for d in deps],
        group_name=f"catalog_{key_part(source)}",
        kinds={source_type, "view" if table.kind in ("view", "materialized_view") else "table"},
        description=table.comment or f"{table.kind} {table.qualified_name} in source {source}",
        metadata={
            "dagster/column_schema": column_schema(table),
            "dagster/table_name": table.qualified_name,
            "source": source,
            "entity": table.entity_name or table.name,
        },
    )


def acyclic_dependencies(catalog: Catalog) -> dict[str, list[Table]]:
    """Foreign-key targets per table, dropping self-references and any edge that would close a cycle."""
    by_name = {t.qualified_name: t for t in catalog.tables}
    edges: dict[str, list[str]] = {name: [] for name in by_name}
    for table in catalog.tables:
        name = table.qualified_name
        for target in sorted({_target_name(fk) for fk in table.foreign_keys}):
            if target in by_name and target != name and not _reaches(edges, target, name):
                edges[name].append(target)
    return {name: [by_name[t] for t in targets] for name, targets in edges.items()}


def _target_name(fk: ForeignKey) -> str:
    return f"{fk.target_schema}.{fk.target_table}" if fk.target_schema else fk.target_table


def _reaches(edges: dict[str, list[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(edges[node])
    return False
