"""PostgreSQL's catalog in a handful of pg_catalog queries (relations with their columns on one connection;
keys, checks, indexes and user types on a second one while the server builds the first).

Partitions are not tables of their own: each is listed under its root with its bound, its rows counted once
through the root, and the foreign keys PostgreSQL copies onto partitions are left out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from ops_pipeline.core.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    Partition,
    Table,
    TableKind,
    UniqueConstraint,
    UserType,
)
from ops_pipeline.settings import PostgresSource
from ops_pipeline.sources.postgresql.catalog_sql import (
    CHECKS_AND_EXCLUSIONS,
    FK_ACTIONS,
    INDEXES,
    KEYS,
    RELATIONS_AND_COLUMNS,
    USER_TYPES,
)
from ops_pipeline.sources.postgresql.connection import connect


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


Named = TypeVar("Named", bound=_HasName)

RELKINDS: dict[str, TableKind] = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized_view",
    "f": "foreign_table",
}

Rows = list[tuple[Any, ...]]
Name = tuple[str, str]


@dataclass
class _Relation:
    kind: TableKind
    comment: str | None
    columns: tuple[Column, ...]
    estimate: int | None
    populated: bool
    view_definition: str | None
    partition_key: str | None
    partitions: list[Partition] = field(default_factory=list)
    partition_estimates: list[int] = field(default_factory=list)

    @property
    def row_count(self) -> int | None:
        if self.partition_estimates:
            return sum(self.partition_estimates)
        return self.estimate


def scan_catalog(name: str, config: PostgresSource, *, exact_row_counts: bool, quote: Callable[[str], str]) -> Catalog:
    with connect(name, config) as conn, conn.cursor() as cursor, ThreadPoolExecutor(1) as second_connection:
        # Keys, checks, indexes and types come over a second connection while the server builds the columns.
        details = second_connection.submit(_fetch_details, name, config)
        cursor.execute("SHOW server_version")
        server_version = str(cursor.fetchone()[0])
        cursor.execute(RELATIONS_AND_COLUMNS)
        relations = _relations(cursor.fetchall(), config)
        key_rows, check_rows, index_rows, type_rows = details.result()
        tables = _tables(relations, _keys(key_rows, relations), _checks(check_rows, relations), index_rows)
        notes = tuple(
            f"{schema}.{table}: materialized view not populated (created WITH NO DATA); its rows are not counted"
            for (schema, table), rel in sorted(relations.items())
            if not rel.populated
        )
        if exact_row_counts:
            unpopulated = {(s, t) for (s, t), rel in relations.items() if not rel.populated}
            tables = [_with_exact_count(cursor, t, quote, unpopulated) for t in tables]
    return Catalog(name, config.type, server_version, tuple(tables), _user_types(type_rows, config), notes)


def _fetch_details(name: str, config: PostgresSource) -> tuple[Rows, Rows, Rows, Rows]:
    with connect(name, config) as conn, conn.cursor() as cursor:
        results = []
        for query in (KEYS, CHECKS_AND_EXCLUSIONS, INDEXES, USER_TYPES):
            cursor.execute(query)
            results.append(cursor.fetchall())
        return results[0], results[1], results[2], results[3]


def _relations(rows: Rows, config: PostgresSource) -> dict[Name, _Relation]:
    keep = config.scan_filter.keeps
    relations: dict[Name, _Relation] = {}
    partitions: list[tuple[Name, Partition, int | None]] = []
    for row in rows:
        schema, table, relkind, reltuples, comment, populated, root, bound, key, view, cols = row
        estimate = int(reltuples) if reltuples is not None and reltuples >= 0 and relkind not in "vp" else None
        if root is not None:
            partitions.append(((root[0], root[1]), Partition(f"{schema}.{table}", bound), estimate))
        elif keep(schema, table):
            relations[(schema, table)] = _Relation(
                kind=RELKINDS[relkind],
                comment=comment,
                columns=tuple(_column(c) for c in json.loads(cols)) if cols else (),
                estimate=estimate if populated else None,
                populated=populated,
                view_definition=view.strip() if view else None,
                partition_key=key,
            )
    for root_name, partition, estimate in partitions:
        parent = relations.get(root_name)
        if parent is not None:
            parent.partitions.append(partition)
            if estimate is not None:
                parent.partition_estimates.append(estimate)
    return relations


def _column(values: list[Any]) -> Column:
    name, data_type, nullable, default, comment, identity, collation = values
    if identity is None and default is not None and default.startswith("nextval("):
        identity = "serial"
    return Column(name, data_type, nullable, default, comment, identity, collation)


def _tables(
    relations: dict[Name, _Relation], keys: dict[str, Any], checks: dict[str, Any], index_rows: Rows
) -> list[Table]:
    indexes = _indexes(index_rows, relations)
    return [
        Table(
            schema=schema,
            name=table,
            kind=rel.kind,
            columns=rel.columns,
            primary_key=keys["pk"].get((schema, table), ()),
            foreign_keys=_by_name(keys["fk"].get((schema, table))),
            unique_constraints=_by_name(keys["unique"].get((schema, table))),
            indexes=_by_name(indexes.get((schema, table))),
            row_count=rel.row_count,
            comment=rel.comment,
            checks=_by_name(checks["c"].get((schema, table))),
            exclusions=_by_name(checks["x"].get((schema, table))),
            view_definition=rel.view_definition,
            partition_key=rel.partition_key,
            partitions=_by_name(rel.partitions),
        )
        for (schema, table), rel in sorted(relations.items())
    ]


def _by_name(items: list[Named] | None) -> tuple[Named, ...]:
    if not items:
        return ()
    return tuple(items) if len(items) == 1 else tuple(sorted(items, key=attrgetter("name")))


def _keys(rows: Rows, relations: dict[Name, _Relation]) -> dict[str, Any]:
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for schema, table, name, contype, ord_, column, target_schema, target_table, target_column, on_del, on_upd in rows:
        if (schema, table) not in relations:
            continue
        entry = grouped.setdefault(
            (schema, table, name),
            {"type": contype, "target": (target_schema, target_table), "actions": (on_del, on_upd), "columns": []},
        )
        entry["columns"].append((ord_, column, target_column))
    keys: dict[str, Any] = {"pk": {}, "fk": defaultdict(list), "unique": defaultdict(list)}
    for (schema, table, name), entry in grouped.items():
        ordered = sorted(entry["columns"])
        columns = tuple(column for _, column, _ in ordered)
        if entry["type"] == "p":
            keys["pk"][(schema, table)] = columns
        elif entry["type"] == "u":
            keys["unique"][(schema, table)].append(UniqueConstraint(name, columns))
        else:
            target_schema, target_table = entry["target"]
            target_columns = tuple(target for _, _, target in ordered)
            on_delete, on_update = (FK_ACTIONS[a] for a in entry["actions"])
            keys["fk"][(schema, table)].append(
                ForeignKey(name, columns, target_schema, target_table, target_columns, on_delete, on_update)
            )
    return keys


def _checks(rows: Rows, relations: dict[Name, _Relation]) -> dict[str, Any]:
    found: dict[str, Any] = {"c": defaultdict(list), "x": defaultdict(list)}
    for schema, table, name, contype, definition in rows:
        if (schema, table) in relations:
            item = CheckConstraint(name, definition) if contype == "c" else Exclusion(name, definition)
            found[contype][(schema, table)].append(item)
    return found


def _indexes(rows: Rows, relations: dict[Name, _Relation]) -> dict[Name, list[Index]]:
    indexes: dict[Name, list[Index]] = defaultdict(list)
    for schema, table, name, unique, columns, method, predicate in rows:
        if (schema, table) in relations:
            indexes[(schema, table)].append(Index(name, tuple(columns), bool(unique), method, predicate))
    return indexes


def _user_types(rows: Rows, config: PostgresSource) -> tuple[UserType, ...]:
    keep_schema = config.scan_filter.schemas.keeps
    types = [
        UserType(
            schema=schema,
            name=name,
            kind="enum" if typtype == "e" else "domain",
            labels=tuple(labels),
            base_type=base_type,
            not_null=bool(not_null),
            default=default,
            checks=tuple(CheckConstraint(n, e) for n, e in json.loads(checks)) if checks else (),
        )
        for schema, name, typtype, labels, base_type, not_null, default, checks in rows
        if keep_schema(schema)
    ]
    return tuple(sorted(types, key=lambda t: (t.schema, t.name)))


def _with_exact_count(cursor: Any, table: Table, quote: Callable[[str], str], unpopulated: set[Name]) -> Table:
    if table.kind == "view" or (table.schema, table.name) in unpopulated:
        return table
    # A partitioned table's count covers its partitions, which are not counted again.
    cursor.execute(f"SELECT count(*) FROM {quote(table.schema)}.{quote(table.name)}")
    return replace(table, row_count=int(cursor.fetchone()[0]), row_count_exact=True)
