"""`sources:` the registry of databases and services: one model per source type, secrets by reference.

Each model also declares what its type can take part in (`has_tables`, `backfill_roles`, `single_writer`) and
which of its fields are file paths, so the checks across sections and the loader need no list of type names:
adding a source type adds its model here and its `Database` under `ops_pipeline.sources`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Annotated, ClassVar, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator

from ops_pipeline.core.filters import NameFilter, ScanFilter
from ops_pipeline.core.user_regex import check_user_regex
from ops_pipeline.settings.base import SecretRef, StrictModel

# The Dagster dynamic partitions that hold one key per configured source (named here so the CLI and the
# Dagster skin agree on it).
SOURCES_PARTITION_NAME = "sources"

_HOST = re.compile(r"[A-Za-z0-9_.\-]+|\[?[0-9A-Fa-f:.]+\]?")
_USER_AND_PASSWORD = re.compile(r"[^/\s]*:[^/\s]*@|://")
_NOT_REPEATED = "the value is not repeated here, as it may hold a credential"


def _host_name(value: str) -> str:
    if not _HOST.fullmatch(value):
        raise ValueError(
            "must be a host name or IP address, without user, password, scheme or path (credentials go in "
            f"user and password: env:NAME); {_NOT_REPEATED}"
        )
    return value


def _database_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if _USER_AND_PASSWORD.search(value):
        raise ValueError(f"must be a database name, not a URL or user:password@...; {_NOT_REPEATED}")
    return value


def _endpoint_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s)://host[:port] URL; {_NOT_REPEATED}")
    if "@" in parts.netloc:
        raise ValueError(f"must not hold user:password@ (use access_key_id and secret_access_key); {_NOT_REPEATED}")
    return value


def _bootstrap_server(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not _HOST.fullmatch(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"each server is host:port, without credentials (sasl_username, sasl_password); {_NOT_REPEATED}"
        )
    return value


HostName = Annotated[str, AfterValidator(_host_name)]
DatabaseName = Annotated[str, AfterValidator(_database_name)]


class PatternSet(StrictModel):
    schemas: list[str] = []
    tables: list[str] = []

    @field_validator("schemas", "tables")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return [check_user_regex(pattern) for pattern in patterns]


class SSLOptions(StrictModel):
    mode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


BackfillRole = Literal["source", "destination"]


class SourceBase(StrictModel):
    has_tables: ClassVar[bool] = False  # relational tables with rows: data product models and profiles
    backfill_roles: ClassVar[frozenset[BackfillRole]] = frozenset()
    single_writer: ClassVar[bool] = False  # as a backfill destination it takes one writer at a time
    path_fields: ClassVar[tuple[str, ...]] = ()  # file paths, meant relative to ops.yaml when not absolute

    description: str = ""
    tags: list[str] = []
    include: PatternSet = PatternSet()
    exclude: PatternSet = PatternSet()
    resolver: str | None = Field(default=None, description="resolver naming this source's tables")
    connect_timeout_s: float = Field(default=5.0, gt=0, le=300)
    query_timeout_s: float = Field(default=300.0, gt=0, description="longest a catalog query may run")

    @property
    def scan_filter(self) -> ScanFilter:
        return ScanFilter(
            schemas=NameFilter.from_patterns(self.include.schemas, self.exclude.schemas),
            tables=NameFilter.from_patterns(self.include.tables, self.exclude.tables),
        )


class ServerSource(SourceBase):
    host: HostName = "127.0.0.1"
    port: int = Field(gt=0, lt=65536)
    user: str | None = None
    password: SecretRef | None = None
    ssl: SSLOptions = SSLOptions()


class PostgresSource(ServerSource):
    has_tables = True
    backfill_roles = frozenset({"source", "destination"})

    type: Literal["postgresql"]
    port: int = Field(default=5432, gt=0, lt=65536)
    database: DatabaseName


class MySQLSource(ServerSource):
    has_tables = True
    backfill_roles = frozenset({"source"})

    type: Literal["mysql"]
    port: int = Field(default=3306, gt=0, lt=65536)
    database: DatabaseName


class SQLiteSource(SourceBase):
    has_tables = True
    backfill_roles = frozenset({"source", "destination"})
    single_writer = True
    path_fields = ("path",)

    type: Literal["sqlite"]
    path: str


class RedisSource(ServerSource):
    type: Literal["redis"]
    port: int = Field(default=6379, gt=0, lt=65536)
    db: int = Field(default=0, ge=0)
    sample_size: int = Field(default=2000, gt=0, description="keys sampled with SCAN per scan")
    match: str = Field(default="*", description="SCAN MATCH pattern")


class MongoSource(ServerSource):
    type: Literal["mongodb"]
    port: int = Field(default=27017, gt=0, lt=65536)
    database: DatabaseName


class KafkaSource(SourceBase):
    type: Literal["kafka"]
    bootstrap_servers: list[Annotated[str, AfterValidator(_bootstrap_server)]] = Field(min_length=1)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_username: str | None = None
    sasl_password: SecretRef | None = None


class S3Source(SourceBase):
    type: Literal["s3"]
    bucket: str
    region: str | None = None
    endpoint_url: Annotated[str, AfterValidator(_endpoint_url)] | None = None
    access_key_id: SecretRef | None = None
    secret_access_key: SecretRef | None = None


class BigQuerySource(SourceBase):
    type: Literal["bigquery"]
    project: str
    dataset: str | None = None
    credentials: SecretRef | None = None


class SnowflakeSource(SourceBase):
    type: Literal["snowflake"]
    account: str
    user: str
    password: SecretRef | None = None
    warehouse: str | None = None
    database: DatabaseName | None = None
    role: str | None = None


SourceConfig = Annotated[
    PostgresSource
    | MySQLSource
    | SQLiteSource
    | RedisSource
    | MongoSource
    | KafkaSource
    | S3Source
    | BigQuerySource
    | SnowflakeSource,
    Field(discriminator="type"),
]

SOURCE_MODELS: tuple[type[SourceBase], ...] = get_args(get_args(SourceConfig)[0])


def source_type_of(model: type[SourceBase]) -> str:
    return str(get_args(model.model_fields["type"].annotation)[0])


def source_types_where(wanted: Callable[[type[SourceBase]], bool]) -> tuple[str, ...]:
    """The types whose model has the wanted capability, in the order of `SourceConfig`."""
    return tuple(source_type_of(model) for model in SOURCE_MODELS if wanted(model))


def spoken_list(names: Sequence[str]) -> str:
    """`a, b or c`."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def backfill_types(role: BackfillRole) -> tuple[str, ...]:
    return source_types_where(lambda model: role in model.backfill_roles)


SOURCE_TYPES = source_types_where(lambda _: True)
