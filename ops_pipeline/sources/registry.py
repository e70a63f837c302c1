"""Source type -> scanner. Adding a type means one module with a Scanner subclass and one line here."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ops_pipeline.sources.base import Scanner

SCANNER_CLASSES: dict[str, str] = {
    "postgresql": "ops_pipeline.sources.postgresql:PostgresScanner",
    "mysql": "ops_pipeline.sources.mysql:MySQLScanner",
    "sqlite": "ops_pipeline.sources.sqlite:SQLiteScanner",
    "redis": "ops_pipeline.sources.redis:RedisScanner",
    "mongodb": "ops_pipeline.sources.connect_only:MongoScanner",
    "kafka": "ops_pipeline.sources.connect_only:KafkaScanner",
    "s3": "ops_pipeline.sources.connect_only:S3Scanner",
    "bigquery": "ops_pipeline.sources.connect_only:BigQueryScanner",
    "snowflake": "ops_pipeline.sources.connect_only:SnowflakeScanner",
}


def scanner_for(source_type: str) -> Scanner[Any]:
    try:
        module_name, class_name = SCANNER_CLASSES[source_type].split(":")
    except KeyError:
        raise ValueError(f"no scanner registered for source type {source_type!r}") from None
    scanner: Scanner[Any] = getattr(import_module(module_name), class_name)()
    return scanner


def supports_scan(source_type: str) -> bool:
    return scanner_for(source_type).supports_scan
