"""Source type -> the one `Database` object that owns it. Adding a type means its package (or module) under
`sources/`, its config model in `settings/sources.py`, its tests, and one line here."""

from __future__ import annotations

from typing import Any

from ops_pipeline.sources.base import Database
from ops_pipeline.sources.connect_only import (
    BigQueryDatabase,
    KafkaDatabase,
    MongoDatabase,
    S3Database,
    SnowflakeDatabase,
)
from ops_pipeline.sources.mysql import MySQLDatabase
from ops_pipeline.sources.postgresql import PostgresDatabase
from ops_pipeline.sources.redis import RedisDatabase
from ops_pipeline.sources.sql import SqlDatabase
from ops_pipeline.sources.sqlite import SQLiteDatabase

DATABASES: dict[str, Database[Any]] = {
    "postgresql": PostgresDatabase(),
    "mysql": MySQLDatabase(),
    "sqlite": SQLiteDatabase(),
    "redis": RedisDatabase(),
    "mongodb": MongoDatabase(),
    "kafka": KafkaDatabase(),
    "s3": S3Database(),
    "bigquery": BigQueryDatabase(),
    "snowflake": SnowflakeDatabase(),
}


def database_for(source_type: str) -> Database[Any]:
    try:
        return DATABASES[source_type]
    except KeyError:
        raise ValueError(f"no database registered for source type {source_type!r}") from None


def sql_database_for(source_type: str) -> SqlDatabase[Any]:
    """The relational database of `source_type`; a ValueError naming the relational types for any other."""
    database = database_for(source_type)
    if not isinstance(database, SqlDatabase):
        relational = ", ".join(name for name, db in DATABASES.items() if isinstance(db, SqlDatabase))
        raise ValueError(f"a {source_type} source has no SQL tables (tables come from {relational} sources)")
    return database


def supports_scan(source_type: str) -> bool:
    return database_for(source_type).supports_scan
