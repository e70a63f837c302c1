"""Redis: key patterns found by sampling the keyspace with SCAN (never KEYS), one table per pattern and type.

A key's pattern replaces its id-like segments with `*` (`user:123:profile` -> `user:*:profile`), and any
segment in which many sampled patterns differ while agreeing elsewhere (user names, slugs). Hash fields
become columns; other types get one column named after what they hold. Row counts are exact when SCAN went
through every matching key, else the sampled share scaled up to the whole keyspace.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ops_pipeline.core.catalog import Catalog, Column, Table
from ops_pipeline.core.secrets import SecretError, resolve_secret
from ops_pipeline.settings import RedisSource
from ops_pipeline.sources.base import ConnectionReport, Database, ErrorKind, SourceError, timed

SCAN_BATCH = 1000
EXAMPLES_PER_PATTERN = 20
MAX_LITERAL_VARIANTS = 10  # more sibling values than this at one position make that segment a wildcard
HASH_FIELDS_PER_KEY = 200
STRING_PREFIX_BYTES = 64 * 1024

ID_SEGMENT = re.compile(
    r"""^(?:
        \d+                                                              # 123
      | [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}   # a UUID
      | [0-9a-f]{8,}                                                     # a hash or object id
      | \d[\d._-]*\d                                                     # 2024-01-05, 1.5
      | [a-z]+[_-]?\d{2,}                                                # u123, ord_42
      | [a-z]{0,5}_?(?=[a-z0-9]*\d[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{10,}  # 01ARZ3NDEK..., cus_9s6XKz...
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
INTEGER = re.compile(r"^-?\d+$")
FLOAT = re.compile(r"^-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?$|^-?inf$", re.IGNORECASE)

CONTAINER_COLUMNS = {"list": "members", "set": "members", "zset": "members", "stream": "entries"}

AUTH_MARKERS = (
    "noauth",
    "wrongpass",
    "invalid password",
    "invalid username-password",
    "noperm",
    "called without any password configured",
)
UNKNOWN_DATABASE_MARKERS = ("db index is out of range", "invalid db index")


def key_pattern(key: str) -> str:
    return ":".join("*" if ID_SEGMENT.match(segment) else segment for segment in key.split(":"))


def collapse_variable_segments(patterns: Iterable[str]) -> dict[str, str]:
    """Map each pattern to a coarser one where many patterns differ in just one segment.

    Catches variable parts that do not look like ids, such as user names or slugs: `user:alice:cart`,
    `user:bob:cart`, ... become `user:*:cart` once more than MAX_LITERAL_VARIANTS of them are seen.
    """
    result = {pattern: pattern for pattern in patterns}
    longest = max((pattern.count(":") + 1 for pattern in result), default=0)
    for position in range(longest):
        variants: dict[tuple[int, int, tuple[str, ...]], set[str]] = defaultdict(set)
        for pattern in set(result.values()):
            segments = pattern.split(":")
            if position < len(segments) and segments[position] != "*":
                variants[_siblings_key(segments, position)].add(segments[position])
        for original, pattern in result.items():
            segments = pattern.split(":")
            if len(variants.get(_siblings_key(segments, position), ())) > MAX_LITERAL_VARIANTS:
                segments[position] = "*"
                result[original] = ":".join(segments)
    return result


def _siblings_key(segments: list[str], position: int) -> tuple[int, int, tuple[str, ...]]:
    return len(segments), position, tuple(segments[:position] + segments[position + 1 :])


class RedisDatabase(Database[RedisSource]):
    source_type = "redis"

    def test_connection(self, name: str, config: RedisSource) -> ConnectionReport:
        def connect_and_ask_version() -> str:
            with _connect(name, config) as client:
                return _server_version(client)

        server_version, latency_ms = timed(connect_and_ask_version)
        return ConnectionReport(name, self.source_type, server_version, latency_ms, _target(config))

    def scan(self, name: str, config: RedisSource, *, exact_row_counts: bool = False) -> Catalog:
        schema = f"db{config.db}"
        with _connect(name, config) as client:
            server_version = _server_version(client)
            tables: list[Table] = []
            if config.scan_filter.schemas.keeps(schema):
                # Exact counts need every key visited; the sample then grows to the whole keyspace.
                limit = None if exact_row_counts else config.sample_size
                sample = _sample_keyspace(client, config.match, limit)
                tables = _describe(client, schema, sample, config)
        return Catalog(name, self.source_type, server_version, tuple(tables))


def _target(config: RedisSource) -> str:
    return f"{config.host}:{config.port}/{config.db}"


def _client_args(config: RedisSource) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "db": config.db,
        "username": config.user,
        "socket_connect_timeout": config.connect_timeout_s,
        "socket_timeout": config.connect_timeout_s,
        # One attempt: a failure must surface as the error it is, within the configured timeout.
        "retry": Retry(NoBackoff(), 0),
    }
    if config.password:
        args["password"] = resolve_secret(config.password)
    return args | _ssl_args(config)


def _ssl_args(config: RedisSource) -> dict[str, Any]:
    # Redis cannot negotiate TLS on a plain port, so allow and prefer connect without it.
    options = config.ssl
    if options.mode in ("disable", "allow", "prefer"):
        return {}
    args: dict[str, Any] = {
        "ssl": True,
        "ssl_cert_reqs": "none" if options.mode == "require" else "required",
        "ssl_check_hostname": options.mode == "verify-full",
        "ssl_ca_certs": options.ca_file,
        "ssl_certfile": options.cert_file,
        "ssl_keyfile": options.key_file,
    }
    return {k: v for k, v in args.items() if v is not None}


@contextmanager
def _connect(name: str, config: RedisSource) -> Iterator[redis.Redis]:
    try:
        client = redis.Redis(**_client_args(config))
    except SecretError as error:
        raise SourceError(name, "auth_failed", str(error)) from None
    try:
        yield client
    except redis.RedisError as error:
        raise _source_error(name, config, error) from None
    finally:
        client.close()


def _source_error(name: str, config: RedisSource, error: redis.RedisError) -> SourceError:
    reason = str(error) or type(error).__name__
    kind = _classify(error)
    where = f"{config.host}:{config.port}"
    if kind == "timeout":
        return SourceError(name, kind, f"{where}: no answer within {config.connect_timeout_s:g} s ({reason})")
    if kind == "unknown_database":
        return SourceError(name, kind, f"{where}: db {config.db}: {reason}")
    if kind == "auth_failed" and not config.password:
        detail = f"{where}: the server requires a password and none is configured ({reason})"
        return SourceError(name, kind, detail)
    return SourceError(name, kind, f"{where}: {reason}")


def _classify(error: redis.RedisError) -> ErrorKind:
    message = str(error).lower()
    if isinstance(error, redis.AuthenticationError) or any(m in message for m in AUTH_MARKERS):
        return "auth_failed"
    if isinstance(error, redis.TimeoutError) or "timed out" in message:
        return "timeout"
    if any(m in message for m in UNKNOWN_DATABASE_MARKERS):
        return "unknown_database"
    if isinstance(error, redis.ConnectionError):
        return "unreachable"
    return "error"


def _server_version(client: redis.Redis) -> str:
    return str(client.info("server")["redis_version"])


@dataclass
class _KeyGroup:
    pattern: str
    key_type: str
    sampled: int = 0
    with_ttl: int = 0
    examples: list[bytes] = field(default_factory=list)


@dataclass
class _Sample:
    groups: dict[tuple[str, str], _KeyGroup]
    sampled: int  # keys that still existed when typed
    returned: int  # keys SCAN handed back, including any past the limit
    complete: bool
    coverage: float  # share of the keyspace SCAN went through


def _sample_keyspace(client: redis.Redis, match: str, limit: int | None) -> _Sample:
    groups: dict[tuple[str, str], _KeyGroup] = {}
    sampled = returned = 0
    cursor = 0
    batch = SCAN_BATCH if limit is None else min(SCAN_BATCH, limit)
    while True:
        cursor, keys = client.scan(cursor, match=match, count=batch)
        returned += len(keys)
        room = len(keys) if limit is None else max(0, limit - sampled)
        sampled += _add_to_groups(client, keys[:room], groups)
        reached_limit = limit is not None and sampled >= limit
        if cursor == 0 or reached_limit:
            complete = cursor == 0 and room >= len(keys)
            coverage = 1.0 if cursor == 0 else _scan_coverage(cursor)
            return _Sample(_merge_variable_segments(groups), sampled, returned, complete, coverage)


def _add_to_groups(client: redis.Redis, keys: list[bytes], groups: dict[tuple[str, str], _KeyGroup]) -> int:
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        pipeline.type(key)
        pipeline.pttl(key)
    replies = pipeline.execute()
    added = 0
    for key, key_type, ttl in zip(keys, replies[0::2], replies[1::2], strict=True):
        type_name = _text(key_type)
        if type_name == "none":  # deleted since SCAN returned it
            continue
        pattern = key_pattern(_text(key))
        group = groups.setdefault((pattern, type_name), _KeyGroup(pattern, type_name))
        group.sampled += 1
        group.with_ttl += int(ttl >= 0)
        if len(group.examples) < EXAMPLES_PER_PATTERN:
            group.examples.append(key)
        added += 1
    return added


def _merge_variable_segments(groups: dict[tuple[str, str], _KeyGroup]) -> dict[tuple[str, str], _KeyGroup]:
    coarser = collapse_variable_segments(group.pattern for group in groups.values())
    merged: dict[tuple[str, str], _KeyGroup] = {}
    for group in groups.values():
        pattern = coarser[group.pattern]
        target = merged.setdefault((pattern, group.key_type), _KeyGroup(pattern, group.key_type))
        target.sampled += group.sampled
        target.with_ttl += group.with_ttl
        target.examples.extend(group.examples[: EXAMPLES_PER_PATTERN - len(target.examples)])
    return merged


def _scan_coverage(cursor: int) -> float:
    # Redis walks its hash table in reverse-binary bucket order, so the cursor read with its bits reversed
    # is how far through the table the walk has come.
    return int(f"{cursor:064b}"[::-1], 2) / 2**64


def _describe(client: redis.Redis, schema: str, sample: _Sample, config: RedisSource) -> list[Table]:
    total = 0.0 if sample.complete else _estimated_matching_keys(client, sample, config.match)
    names = _table_names(sample.groups)
    tables = [
        Table(
            schema=schema,
            name=names[group_key],
            kind="key_pattern",
            columns=_columns(client, group),
            row_count=group.sampled if sample.complete else _scaled(group.sampled, sample.sampled, total),
            row_count_exact=sample.complete,
            comment=f"sampled {group.sampled} keys; ttl set on {group.with_ttl}",
        )
        for group_key, group in sample.groups.items()
        if config.scan_filter.keeps(schema, group.pattern)
    ]
    return sorted(tables, key=lambda t: (t.schema, t.name))


def _estimated_matching_keys(client: redis.Redis, sample: _Sample, match: str) -> float:
    keyspace_size = int(client.dbsize())
    if match == "*":
        return keyspace_size
    return min(keyspace_size, sample.returned / sample.coverage) if sample.coverage > 0 else keyspace_size


def _scaled(group_sampled: int, sampled: int, total: float) -> int:
    return max(group_sampled, round(group_sampled * total / sampled))


def _table_names(groups: dict[tuple[str, str], _KeyGroup]) -> dict[tuple[str, str], str]:
    """The pattern itself, except for keys of a pattern's less common types, which get `pattern (type)`."""
    by_pattern: dict[str, list[_KeyGroup]] = {}
    for group in groups.values():
        by_pattern.setdefault(group.pattern, []).append(group)
    names: dict[tuple[str, str], str] = {}
    for pattern, members in by_pattern.items():
        main = max(members, key=lambda g: (g.sampled, g.key_type))
        for group in members:
            names[(pattern, group.key_type)] = pattern if group is main else f"{pattern} ({group.key_type})"
    return names


def _columns(client: redis.Redis, group: _KeyGroup) -> tuple[Column, ...]:
    if group.key_type == "hash":
        return _hash_columns(client, group.examples)
    if group.key_type == "string":
        return (Column("value", _string_type(client, group.examples), nullable=False),)
    return (Column(CONTAINER_COLUMNS.get(group.key_type, "value"), group.key_type, nullable=False),)


def _hash_columns(client: redis.Redis, keys: list[bytes]) -> tuple[Column, ...]:
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        # One page per key: fields of a huge hash beyond it are missed, which a bounded scan accepts.
        pipeline.hscan(key, 0, count=HASH_FIELDS_PER_KEY)
    hashes = [fields for _, fields in pipeline.execute() if fields]
    values: dict[str, list[bytes]] = {}
    for fields in hashes:
        for name, value in fields.items():
            values.setdefault(_text(name), []).append(value)
    return tuple(
        Column(name, _scalar_type(samples, allow_json=False), nullable=len(samples) < len(hashes))
        for name, samples in sorted(values.items())
    )


def _string_type(client: redis.Redis, keys: list[bytes]) -> str:
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        pipeline.getrange(key, 0, STRING_PREFIX_BYTES - 1)
    return _scalar_type([v for v in pipeline.execute() if v is not None], allow_json=True)


def _scalar_type(values: list[bytes], *, allow_json: bool) -> str:
    kinds = Counter(_value_kind(value, allow_json) for value in values)
    if not kinds:
        return "string"
    if set(kinds) == {"integer"}:
        return "integer"
    if set(kinds) <= {"integer", "float"}:
        return "float"
    if set(kinds) == {"json"}:
        return "json"
    return "string"


def _value_kind(value: bytes, allow_json: bool) -> str:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return "string"
    if INTEGER.match(text):
        return "integer"
    if FLOAT.match(text):
        return "float"
    if allow_json and text[:1] in ("{", "[") and _is_json(text, truncated=len(value) >= STRING_PREFIX_BYTES):
        return "json"
    return "string"


def _is_json(text: str, *, truncated: bool) -> bool:
    if truncated:  # only a prefix was read; trust its opening bracket
        return True
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="backslashreplace") if isinstance(value, bytes) else value
