"""The destination table of a backfill: created from the source table's catalog when missing (with an index on
the time column, which every window's delete uses), and its column list and types read when present. Each
column's type is the destination database's: the source's own type between databases of one kind, else the
type the destination gives the column's model type."""

from __future__ import annotations

from ops_pipeline.core.catalog import Table
from ops_pipeline.settings import BackfillSettings, OpsSettings, PatternSet
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sql import Session


def prepare_destination(
    settings: OpsSettings, spec: BackfillSettings, src: Session, dst: Session, relation: str, destination: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(columns, destination column types), creating the destination table from the source table if needed."""
    existing = dst.database.table_columns(dst.connection, destination)
    if existing is None:
        if spec.table is None:
            raise SourceError(
                spec.destination,
                "error",
                f"destination table {destination} does not exist; a backfill whose source is a query "
                "cannot derive it, so create the table first",
            )
        table = _source_table(settings, spec, src)
        try:
            _create(src, dst, destination, table, spec.time_column)
        except Exception:
            dst.connection.rollback()
            if dst.database.table_columns(dst.connection, destination) is None:
                raise
            # another run of this backfill created it meanwhile
        existing = dst.database.table_columns(dst.connection, destination) or []
    source_columns = _source_columns(src, relation)
    types = dict(existing)
    missing = [c for c in source_columns if c not in types]
    if missing:
        raise SourceError(
            spec.destination,
            "error",
            f"destination table {destination} lacks the source's columns {', '.join(missing)}",
        )
    dst.connection.commit()  # no transaction left open (and idle) while the windows are validated
    if spec.time_column not in source_columns:
        raise SourceError(spec.source, "error", f"time column {spec.time_column!r} is not among the source's columns")
    return tuple(source_columns), tuple(types[c] for c in source_columns)


def _source_columns(src: Session, relation: str) -> list[str]:
    cursor = src.connection.cursor()
    try:
        cursor.execute(f"SELECT * FROM {relation} WHERE 1 = 0")
        return [d[0] for d in cursor.description]
    finally:
        cursor.close()


def _source_table(settings: OpsSettings, spec: BackfillSettings, src: Session) -> Table:
    schema, _, name = (spec.table or "").rpartition(".")
    config = settings.source(spec.source)
    only = PatternSet(schemas=[f"^{schema}$"] if schema else [], tables=[f"^{_escape(name)}$"])
    catalog = src.database.scan(spec.source, config.model_copy(update={"include": only}))
    tables = [t for t in catalog.tables if t.name == name and (not schema or t.schema == schema)]
    if not tables:
        raise SourceError(spec.source, "error", f"source table {spec.table} does not exist")
    return tables[0]


def _escape(name: str) -> str:
    return "".join("\\" + ch if not ch.isalnum() and ch != "_" else ch for ch in name)


def _create(src: Session, dst: Session, destination: str, table: Table, time_column: str) -> None:
    columns = ", ".join(
        f"{dst.quote(c.name)} {dst.database.column_type_from(src.database, c.data_type)}" for c in table.columns
    )
    names = {c.name for c in table.columns}
    if table.primary_key and set(table.primary_key) <= names:
        # The source's key: a window loaded twice over fails loudly instead of doubling.
        columns += f", PRIMARY KEY ({', '.join(dst.quote(c) for c in table.primary_key)})"
    index = dst.quote(f"ix_{destination.replace('.', '_')}_{time_column}")
    dst.execute(f"CREATE TABLE {dst.qualified(destination)} ({columns})")
    dst.execute(f"CREATE INDEX {index} ON {dst.qualified(destination)} ({dst.quote(time_column)})")
    dst.connection.commit()
