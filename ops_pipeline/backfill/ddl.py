"""The destination table of a backfill: created from the source table's catalog when missing (with an index on
the time column, which every window's delete uses), and its column list and types read when present."""

from __future__ import annotations

from ops_pipeline.backfill.endpoints import Endpoint
from ops_pipeline.core.catalog import Table
from ops_pipeline.core.models import ModelType, map_sql_type
from ops_pipeline.settings import BackfillSettings, OpsSettings, PatternSet
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.registry import scanner_for


def prepare_destination(
    settings: OpsSettings, spec: BackfillSettings, src: Endpoint, dst: Endpoint, relation: str, destination: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(columns, destination column types), creating the destination table from the source table if needed."""
    existing = _destination_columns(dst, destination)
    if existing is None:
        if spec.table is None:
            raise SourceError(
                spec.destination,
                "error",
                f"destination table {destination} does not exist; a backfill whose source is a query "
                "cannot derive it, so create the table first",
            )
        table = _source_table(settings, spec, src)
        _create(dst, destination, table, spec.time_column, src.dialect)
        existing = _destination_columns(dst, destination) or []
    source_columns = _source_columns(src, relation)
    types = dict(existing)
    missing = [c for c in source_columns if c not in types]
    if missing:
        raise SourceError(
            spec.destination,
            "error",
            f"destination table {destination} lacks the source's columns {', '.join(missing)}",
        )
    if spec.time_column not in source_columns:
        raise SourceError(spec.source, "error", f"time column {spec.time_column!r} is not among the source's columns")
    return tuple(source_columns), tuple(types[c] for c in source_columns)


def source_types(src: Endpoint, spec: BackfillSettings, columns: tuple[str, ...]) -> tuple[str, ...] | None:
    """The source table's column types (PostgreSQL tables only; a query's types are not known ahead)."""
    if src.dialect != "postgresql" or spec.table is None:
        return None
    found = dict(_destination_columns(src, spec.table) or [])
    return tuple(found.get(c, "") for c in columns)


def _source_columns(src: Endpoint, relation: str) -> list[str]:
    cursor = src.connection.cursor()
    try:
        cursor.execute(f"SELECT * FROM {relation} WHERE 1 = 0")
        return [d[0] for d in cursor.description]
    finally:
        cursor.close()


def _destination_columns(dst: Endpoint, destination: str) -> list[tuple[str, str]] | None:
    """(name, type) of each column, or None when the table does not exist."""
    cursor = dst.connection.cursor()
    try:
        if dst.dialect == "postgresql":
            cursor.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (dst.qualified(destination),),
            )
        else:
            cursor.execute(f"SELECT name, type FROM pragma_table_info({dst.placeholder})", (destination,))
        rows = [(str(name), str(kind)) for name, kind in cursor.fetchall()]
    finally:
        cursor.close()
    return rows or None


def _source_table(settings: OpsSettings, spec: BackfillSettings, src: Endpoint) -> Table:
    schema, _, name = (spec.table or "").rpartition(".")
    config = settings.source(spec.source)
    only = PatternSet(schemas=[f"^{schema}$"] if schema else [], tables=[f"^{_escape(name)}$"])
    catalog = scanner_for(config.type).scan(spec.source, config.model_copy(update={"include": only}))
    tables = [t for t in catalog.tables if t.name == name and (not schema or t.schema == schema)]
    if not tables:
        raise SourceError(spec.source, "error", f"source table {spec.table} does not exist")
    return tables[0]


def _escape(name: str) -> str:
    return "".join("\\" + ch if not ch.isalnum() and ch != "_" else ch for ch in name)


def _create(dst: Endpoint, destination: str, table: Table, time_column: str, source_dialect: str) -> None:
    columns = ", ".join(
        f"{dst.quote(c.name)} {column_type(c.data_type, source_dialect, dst.dialect)}" for c in table.columns
    )
    index = dst.quote(f"ix_{destination.replace('.', '_')}_{time_column}")
    cursor = dst.connection.cursor()
    try:
        cursor.execute(f"CREATE TABLE {dst.qualified(destination)} ({columns})")
        cursor.execute(f"CREATE INDEX {index} ON {dst.qualified(destination)} ({dst.quote(time_column)})")
        dst.connection.commit()
    finally:
        cursor.close()


def column_type(data_type: str, source_dialect: str, destination_dialect: str) -> str:
    """The destination's type for a source column: the same type within one dialect, else through the model
    type, keeping precision."""
    if source_dialect == destination_dialect:
        return data_type  # a type only the source database defines (a PostgreSQL enum) fails here, by name
    model = map_sql_type(data_type, source_dialect)  # type: ignore[arg-type]
    return _postgres_type(model) if destination_dialect == "postgresql" else _sqlite_type(model)


def _postgres_type(model: ModelType) -> str:
    kind = model.kind
    if kind == "integer":
        return {16: "smallint", 32: "integer"}.get(model.bits or 64, "bigint") if not model.unsigned else "bigint"
    if kind == "decimal":
        return f"numeric({model.precision},{model.scale or 0})" if model.precision else "numeric"
    simple = {
        "float": "double precision",
        "date": "date",
        "time": "time",
        "boolean": "boolean",
        "uuid": "uuid",
        "binary": "bytea",
    }
    if kind in simple:
        return simple[kind]
    if kind == "datetime":
        return "timestamp with time zone" if model.timezone else "timestamp"
    if kind == "string" and model.max_length:
        return f"varchar({model.max_length})"
    return "text"  # strings without a length, JSON (kept as its text), arrays, enums


def _sqlite_type(model: ModelType) -> str:
    if model.kind == "decimal" and model.precision:
        return f"NUMERIC({model.precision},{model.scale or 0})"
    return {
        "integer": "INTEGER",
        "decimal": "NUMERIC",
        "float": "REAL",
        "date": "DATE",
        "datetime": "TIMESTAMP",
        "boolean": "BOOLEAN",
        "binary": "BLOB",
    }.get(model.kind, "TEXT")
