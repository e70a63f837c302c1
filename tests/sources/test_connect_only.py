import importlib.util
from typing import Any

import pytest

from ops_pipeline.settings import BigQuerySource, KafkaSource, MongoSource, S3Source, SnowflakeSource
from ops_pipeline.sources.base import Database, SourceError
from ops_pipeline.sources.connect_only import (
    BigQueryDatabase,
    KafkaDatabase,
    MongoDatabase,
    S3Database,
    SnowflakeDatabase,
    classify,
)
from ops_pipeline.sources.registry import database_for, supports_scan

CASES: list[tuple[Database[Any], Any, tuple[str, ...], str]] = [
    (
        MongoDatabase(),
        MongoSource(type="mongodb", database="app", connect_timeout_s=1),
        ("pymongo",),
        "pymongo",
    ),
    (
        KafkaDatabase(),
        KafkaSource(type="kafka", bootstrap_servers=["127.0.0.1:9092"], connect_timeout_s=1),
        ("kafka", "confluent_kafka"),
        "kafka-python",
    ),
    (S3Database(), S3Source(type="s3", bucket="raw-events", connect_timeout_s=1), ("boto3",), "boto3"),
    (
        BigQueryDatabase(),
        BigQuerySource(type="bigquery", project="acme", dataset="analytics", connect_timeout_s=1),
        ("google.cloud.bigquery",),
        "google-cloud-bigquery",
    ),
    (
        SnowflakeDatabase(),
        SnowflakeSource(type="snowflake", account="acme-xy123", user="ops", connect_timeout_s=1),
        ("snowflake.connector",),
        "snowflake-connector-python",
    ),
]
IDS = [database.source_type for database, *_ in CASES]


def importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package, e.g. google for google.cloud.bigquery
        return False


@pytest.mark.parametrize(("database", "config", "modules", "package"), CASES, ids=IDS)
def test_connection_without_the_client_library_names_the_package(
    database: Database[Any], config: Any, modules: tuple[str, ...], package: str
) -> None:
    if any(importable(module) for module in modules):
        pytest.skip(f"a {database.source_type} client library is installed here")

    with pytest.raises(SourceError) as caught:
        database.test_connection("remote", config)

    assert caught.value.kind == "client_missing"
    assert caught.value.source == "remote"
    assert f"the {database.source_type} client library is not installed" in caught.value.detail
    assert f"pip install {package}" in caught.value.detail


@pytest.mark.parametrize(("database", "config", "modules", "package"), CASES, ids=IDS)
def test_scan_is_not_supported(database: Database[Any], config: Any, modules: tuple[str, ...], package: str) -> None:
    assert database.supports_scan is False
    assert supports_scan(database.source_type) is False
    assert type(database_for(database.source_type)) is type(database)

    with pytest.raises(SourceError) as caught:
        database.scan("remote", config)

    assert caught.value.kind == "scan_not_supported"
    assert caught.value.detail == f"scan not supported for {database.source_type}"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("ServerSelectionTimeoutError: 127.0.0.1:27017: [Errno 111] Connection refused, Timeout: 1s", "unreachable"),
        ("OperationFailure: Authentication failed., full error: {'code': 18}", "auth_failed"),
        ("ClientError: An error occurred (403) when calling the HeadBucket operation: Forbidden", "auth_failed"),
        ("ClientError: An error occurred (404) when calling the HeadBucket operation: Not Found", "unknown_database"),
        ("ConnectTimeoutError: Connect timeout on endpoint URL", "timeout"),
        ("EndpointConnectionError: Could not connect to the endpoint URL", "unreachable"),
        ("NoBrokersAvailable: NoBrokersAvailable", "unreachable"),
        ("DatabaseError: 250001: Incorrect username or password was specified.", "auth_failed"),
        ("ProgrammingError: Database 'X' does not exist or not authorized.", "unknown_database"),
        ("ValueError: something else entirely", "error"),
    ],
)
def test_client_errors_are_classified_by_their_message(message: str, kind: str) -> None:
    assert classify(message) == kind
