"""Rename detection: a table gone and one appeared in the same scan with the same shape (columns, keys, checks,
indexes) is one table renamed; within a table, a column gone and one appeared at the same position with the
same type and rules is one column renamed. Only unambiguous pairs count: a shape shared by two candidates is
left as removals and additions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import replace

from ops_pipeline.core.catalog import Column, ForeignKey, Index, Table, UniqueConstraint

SELF = "<self>"


def table_renames(removed: Mapping[str, Table], added: Mapping[str, Table]) -> dict[str, str]:
    """Old qualified name -> new one, for each removed table whose shape exactly one added table has."""
    return _unique_pairs(
        {name: _shape(t) for name, t in removed.items()}, {name: _shape(t) for name, t in added.items()}
    )


def column_renames(previous: Table, current: Table) -> dict[str, str]:
    """Old column name -> new one: same position, same type, nullability, default and generated value."""
    before = {c.name for c in previous.columns}
    after = {c.name for c in current.columns}
    gone = {c.name: (i, _column_shape(c)) for i, c in enumerate(previous.columns) if c.name not in after}
    new = {c.name: (i, _column_shape(c)) for i, c in enumerate(current.columns) if c.name not in before}
    return _unique_pairs(gone, new)


def with_renames(table: Table, columns: Mapping[str, str], tables: Mapping[str, str]) -> Table:
    """`table` as if the renames had been made in it: its columns, keys and indexes under the new column names,
    its foreign keys pointing at renamed tables' new names."""

    def col(name: str) -> str:
        return columns.get(name, name)

    def cols(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(col(n) for n in names)

    def fk(key: ForeignKey) -> ForeignKey:
        target = tables.get(_qualified(key.target_schema, key.target_table))
        target_columns = cols(key.target_columns) if _points_at(key, table) else key.target_columns
        moved = replace(key, columns=cols(key.columns), target_columns=target_columns)
        if target is None:
            return moved
        schema, _, name = target.rpartition(".")
        return replace(moved, target_schema=schema, target_table=name)

    if not columns and not tables:
        return table
    return replace(
        table,
        columns=tuple(replace(c, name=col(c.name)) for c in table.columns),
        primary_key=cols(table.primary_key),
        foreign_keys=tuple(fk(k) for k in table.foreign_keys),
        unique_constraints=tuple(UniqueConstraint(u.name, cols(u.columns)) for u in table.unique_constraints),
        indexes=tuple(replace(i, columns=cols(i.columns)) for i in table.indexes),
    )


def _unique_pairs(gone: Mapping[str, Hashable], new: Mapping[str, Hashable]) -> dict[str, str]:
    gone_by_shape: dict[Hashable, list[str]] = defaultdict(list)
    new_by_shape: dict[Hashable, list[str]] = defaultdict(list)
    for name, shape in gone.items():
        gone_by_shape[shape].append(name)
    for name, shape in new.items():
        new_by_shape[shape].append(name)
    return {
        names[0]: new_by_shape[shape][0]
        for shape, names in gone_by_shape.items()
        if len(names) == 1 and len(new_by_shape.get(shape, ())) == 1
    }


def _column_shape(column: Column) -> tuple[object, ...]:
    return (column.data_type, column.nullable, column.default, column.identity, column.collation, column.on_update)


def _shape(table: Table) -> Hashable:
    def fk(key: ForeignKey) -> Hashable:
        target = SELF if _points_at(key, table) else _qualified(key.target_schema, key.target_table)
        return key.columns, target, key.target_columns, key.on_delete, key.on_update

    def index(ix: Index) -> Hashable:
        return ix.columns, ix.unique, ix.method, ix.predicate

    return (
        table.kind,
        tuple((c.name, *_column_shape(c)) for c in table.columns),
        table.primary_key,
        tuple(sorted((fk(k) for k in table.foreign_keys), key=repr)),
        tuple(sorted(u.columns for u in table.unique_constraints)),
        tuple(sorted((index(i) for i in table.indexes), key=repr)),
        tuple(sorted(c.expression for c in table.checks)),
        tuple(sorted(x.definition for x in table.exclusions)),
        " ".join(table.view_definition.split()) if table.view_definition else None,
        table.partition_key,
    )


def _points_at(key: ForeignKey, table: Table) -> bool:
    return (key.target_schema, key.target_table) == (table.schema, table.name)


def _qualified(schema: str, name: str) -> str:
    return f"{schema}.{name}" if schema else name
