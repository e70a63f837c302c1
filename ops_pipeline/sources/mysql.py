"""MySQL and MariaDB: a whole database in five information_schema queries, however many tables it has."""

from __future__ import annotations

import ssl
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import pymysql
import pymysql.cursors

from ops_pipeline.core.catalog import Catalog, Column, ForeignKey, Index, Table, TableKind, UniqueConstraint
from ops_pipeline.core.filters import ScanFilter
from ops_pipeline.core.secrets import SecretError, resolve_secret
from ops_pipeline.settings import MySQLSource, SSLOptions
from ops_pipeline.sources.base import ConnectionReport, ErrorKind, Scanner, SourceError, timed

TABLES = """
SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, TABLE_COMMENT
FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s
"""

# All columns as one string, fields and records split by ASCII unit/record separators: one value to transfer
# and str.split in C beats PyMySQL decoding 10,000 rows in pure Python (and JSON_ARRAYAGG, which MariaDB
# builds slowly). A NULL default is spelled as the group separator. A name or comment holding one of these
# control characters changes the field count of its record, which _column_rows detects and then falls back
# to plain rows. GROUP_CONCAT is capped by group_concat_max_len, so the session raises it first.
FIELD, RECORD, NULL_DEFAULT = "\x1f", "\x1e", "\x1d"
COLUMNS_PACKED = """
SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE,
                              IS_NULLABLE, IFNULL(COLUMN_DEFAULT, CHAR(29 USING utf8mb4)), COLUMN_COMMENT)
                    SEPARATOR 0x1e)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s
"""
COLUMNS = """
SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s
"""
UNLIMITED_AGGREGATES = "SET SESSION group_concat_max_len = 4294967295"

CONSTRAINT_TYPES = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE
FROM information_schema.TABLE_CONSTRAINTS
WHERE TABLE_SCHEMA = %s AND CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
"""

KEY_COLUMNS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME,
       REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s
ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
"""

INDEX_COLUMNS = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND INDEX_NAME <> 'PRIMARY'
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""

AUTH_ERRORS = {1044, 1045, 1698}  # access denied to the database, for the user, for a unix-socket user
UNKNOWN_DATABASE_ERRORS = {1049}
UNREACHABLE_ERRORS = {2002, 2003, 2005, 2006, 2013}  # can't connect, unknown host, gone away, lost


class MySQLScanner(Scanner[MySQLSource]):
    source_type = "mysql"

    def test_connection(self, name: str, config: MySQLSource) -> ConnectionReport:
        def connect_and_ask_version() -> str:
            with _connect(name, config) as conn, conn.cursor() as cursor:
                return _server_version(cursor)

        server_version, latency_ms = timed(connect_and_ask_version)
        return ConnectionReport(name, self.source_type, server_version, latency_ms, _target(config))

    def scan(self, name: str, config: MySQLSource, *, exact_row_counts: bool = False) -> Catalog:
        with _connect(name, config) as conn, conn.cursor() as cursor, ThreadPoolExecutor(1) as second_connection:
            # Keys and indexes come over a second connection while the server lists tables and columns.
            keys_and_indexes = second_connection.submit(_fetch_keys_and_indexes, name, config)
            server_version = _server_version(cursor)
            tables = _read_table_list(cursor, config.database, config.scan_filter)
            _add_columns(cursor, config.database, tables)
            constraint_types, key_columns, index_columns = keys_and_indexes.result()
            _add_constraints(constraint_types, key_columns, tables)
            _add_indexes(index_columns, tables)
            catalog = [parts.build(config.database, table) for table, parts in sorted(tables.items())]
            if exact_row_counts:
                catalog = [_with_exact_count(cursor, table) for table in catalog]
        return Catalog(name, self.source_type, server_version, tuple(catalog))


def _target(config: MySQLSource) -> str:
    return f"{config.host}:{config.port}/{config.database}"


def _ssl_context(options: SSLOptions) -> ssl.SSLContext | None:
    """None for disable, allow and prefer: PyMySQL then uses TLS only when the server offers it."""
    if options.mode in ("disable", "allow", "prefer"):
        return None
    context = ssl.create_default_context(cafile=options.ca_file)
    # MySQL's auto-generated self-signed certificates fail the strict X.509 checks of Python 3.13.
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    context.check_hostname = options.mode == "verify-full"
    if options.mode == "require":
        context.verify_mode = ssl.CERT_NONE
    if options.cert_file:
        context.load_cert_chain(options.cert_file, keyfile=options.key_file)
    return context


def _connection_args(config: MySQLSource) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "user": config.user,
        "database": config.database,
        "connect_timeout": config.connect_timeout_s,
        "read_timeout": config.connect_timeout_s,
        "write_timeout": config.connect_timeout_s,
        "charset": "utf8mb4",
        "autocommit": True,
        "program_name": "ops_pipeline",
    }
    context = _ssl_context(config.ssl)
    if context is not None:
        args["ssl"] = context
    else:
        # allow/prefer get their opportunistic TLS in _connect; PyMySQL's own loads the CA store every time.
        args["ssl_disabled"] = True
    if config.password:
        args["password"] = resolve_secret(config.password)
    return args


@contextmanager
def _connect(name: str, config: MySQLSource) -> Iterator[pymysql.connections.Connection[Any]]:
    try:
        conn = pymysql.connect(**_connection_args(config), defer_connect=True)
        if config.ssl.mode in ("allow", "prefer"):
            # TLS when the server offers it, plain otherwise, certificate unchecked (that is what prefer means).
            # PyMySQL's built-in "preferred" mode does the same but builds a context from the system CA store
            # on every connection (~45 ms, longer than a whole catalog read); these attributes are its own.
            conn.ssl, conn.ctx, conn._ssl_required = True, _opportunistic_tls(), False
        conn.connect()
    except SecretError as error:
        raise SourceError(name, "auth_failed", str(error)) from None
    except (pymysql.err.Error, OSError) as error:  # OSError: unreadable certificate files
        raise _source_error(name, config, error) from None
    # The handshake had connect_timeout_s; catalog queries and exact counts get query_timeout_s. PyMySQL reads
    # these attributes before every socket read and write.
    conn._read_timeout = conn._write_timeout = config.query_timeout_s
    try:
        yield conn
    except pymysql.err.Error as error:
        raise _source_error(name, config, error, connected=True) from None
    finally:
        if conn.open:
            conn.close()


def _source_error(name: str, config: MySQLSource, error: Exception, *, connected: bool = False) -> SourceError:
    code, reason = _code_and_reason(error)
    kind = _classify(code, reason)
    where = f"{config.host}:{config.port}"
    if kind == "timeout":
        limit = config.query_timeout_s if connected else config.connect_timeout_s
        return SourceError(name, kind, f"{where}: no answer within {limit:g} s ({reason})")
    return SourceError(name, kind, f"{where}: {reason}")


def _code_and_reason(error: Exception) -> tuple[int | None, str]:
    args = error.args
    if isinstance(error, pymysql.err.Error) and len(args) >= 2 and isinstance(args[0], int):
        return args[0], str(args[1])
    return None, str(error) or type(error).__name__


def _classify(code: int | None, reason: str) -> ErrorKind:
    if "timed out" in reason.lower():
        return "timeout"
    if code in AUTH_ERRORS:
        return "auth_failed"
    if code in UNKNOWN_DATABASE_ERRORS:
        return "unknown_database"
    if code in UNREACHABLE_ERRORS:
        return "unreachable"
    return "error"


@lru_cache(maxsize=1)
def _opportunistic_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _server_version(cursor: pymysql.cursors.Cursor) -> str:
    cursor.execute("SELECT VERSION()")
    row = cursor.fetchone()
    return str(row[0]) if row else ""


@dataclass
class _TableParts:
    kind: TableKind
    row_count: int | None
    comment: str | None
    columns: list[Column] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    unique_constraints: list[UniqueConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)

    def build(self, schema: str, name: str) -> Table:
        return Table(
            schema=schema,
            name=name,
            kind=self.kind,
            columns=tuple(self.columns),
            primary_key=self.primary_key,
            foreign_keys=tuple(sorted(self.foreign_keys, key=lambda fk: fk.name)),
            unique_constraints=tuple(sorted(self.unique_constraints, key=lambda u: u.name)),
            indexes=tuple(sorted(self.indexes, key=lambda i: i.name)),
            row_count=self.row_count,
            comment=self.comment,
        )


Rows = tuple[tuple[Any, ...], ...]


def _fetch_keys_and_indexes(name: str, config: MySQLSource) -> tuple[Rows, Rows, Rows]:
    with _connect(name, config) as conn, conn.cursor() as cursor:
        results = []
        for query in (CONSTRAINT_TYPES, KEY_COLUMNS, INDEX_COLUMNS):
            cursor.execute(query, (config.database,))
            results.append(cursor.fetchall())
        return results[0], results[1], results[2]


def _read_table_list(cursor: pymysql.cursors.Cursor, database: str, scan_filter: ScanFilter) -> dict[str, _TableParts]:
    cursor.execute(TABLES, (database,))
    tables: dict[str, _TableParts] = {}
    for name, table_type, table_rows, comment in cursor.fetchall():
        if not scan_filter.keeps(database, name):
            continue
        is_view = table_type in ("VIEW", "SYSTEM VIEW")
        tables[name] = _TableParts(
            kind="view" if is_view else "table",
            row_count=None if is_view or table_rows is None else int(table_rows),
            # The server puts the word VIEW in every view's comment.
            comment=None if is_view or not comment else str(comment),
        )
    return tables


def _add_columns(cursor: pymysql.cursors.Cursor, database: str, tables: dict[str, _TableParts]) -> None:
    rows = _column_rows(cursor, database)
    rows.sort(key=lambda r: (r[0], int(r[1])))
    for table, _position, name, column_type, is_nullable, default, comment in rows:
        if table in tables:
            tables[table].columns.append(
                Column(name, str(column_type), is_nullable == "YES", _default(default), comment or None)
            )


def _column_rows(cursor: pymysql.cursors.Cursor, database: str) -> list[Any]:
    cursor.execute(UNLIMITED_AGGREGATES)
    cursor.execute(COLUMNS_PACKED, (database,))
    row = cursor.fetchone()
    packed = row[0] if row else None
    if not packed:
        return []
    if isinstance(packed, bytes):
        packed = packed.decode("utf-8")
    records: list[list[str | None]] = [list(record.split(FIELD)) for record in packed.split(RECORD)]
    if any(len(fields) != 7 for fields in records):
        cursor.execute(COLUMNS, (database,))
        return list(cursor.fetchall())
    for fields in records:
        if fields[5] == NULL_DEFAULT:
            fields[5] = None
    return records


def _default(value: str | None) -> str | None:
    # MariaDB spells "no default" on a nullable column as the expression NULL; MySQL gives SQL NULL.
    return None if value is None or value == "NULL" else str(value)


def _add_constraints(type_rows: Rows, key_rows: Rows, tables: dict[str, _TableParts]) -> None:
    constraint_types = {(table, name): kind for table, name, kind in type_rows if table in tables}
    key_columns: dict[tuple[str, str, bool], list[tuple[str, str, str, str]]] = defaultdict(list)
    for table, name, column, target_schema, target_table, target_column in key_rows:
        if table in tables:
            references = target_table is not None
            key_columns[(table, name, references)].append((column, target_schema, target_table, target_column))

    for (table, name, references), rows in key_columns.items():
        columns = tuple(row[0] for row in rows)
        parts = tables[table]
        if references:
            _, target_schema, target_table, _ = rows[0]
            target_columns = tuple(row[3] for row in rows)
            parts.foreign_keys.append(ForeignKey(name, columns, target_schema, target_table, target_columns))
        elif constraint_types.get((table, name)) == "PRIMARY KEY":
            parts.primary_key = columns
        elif constraint_types.get((table, name)) == "UNIQUE":
            parts.unique_constraints.append(UniqueConstraint(name, columns))


def _add_indexes(index_rows: Rows, tables: dict[str, _TableParts]) -> None:
    index_columns: dict[tuple[str, str], list[str]] = defaultdict(list)
    unique: dict[tuple[str, str], bool] = {}
    for table, name, non_unique, column in index_rows:
        if table in tables:
            index_columns[(table, name)].append(column if column is not None else "(expression)")
            unique[(table, name)] = not int(non_unique)

    for (table, name), columns in index_columns.items():
        parts = tables[table]
        # A UNIQUE constraint is its own index in MySQL; report it once, as the constraint.
        if any(u.name == name for u in parts.unique_constraints):
            continue
        parts.indexes.append(Index(name, tuple(columns), unique[(table, name)]))


def _with_exact_count(cursor: pymysql.cursors.Cursor, table: Table) -> Table:
    if table.kind == "view":
        return table
    cursor.execute(f"SELECT COUNT(*) FROM {_quote(table.schema)}.{_quote(table.name)}")
    row = cursor.fetchone()
    return replace(table, row_count=int(row[0]) if row else 0, row_count_exact=True)


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"
