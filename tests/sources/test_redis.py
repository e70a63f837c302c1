import hashlib
import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ops_pipeline.core.catalog import Column
from ops_pipeline.settings import PatternSet, RedisSource
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.redis import RedisDatabase, collapse_variable_segments, key_pattern
from tests.conftest import REDIS_HOST, REDIS_PORT

REDIS_SERVER = "/usr/bin/redis-server"

USERS, SESSIONS, SESSIONS_WITH_TTL, COUNTERS, PRICES, CARTS = 120, 40, 12, 30, 10, 6


def source(db: int, **overrides: object) -> RedisSource:
    values: dict[str, object] = {
        "type": "redis",
        "host": REDIS_HOST,
        "port": REDIS_PORT,
        "db": db,
        "connect_timeout_s": 3,
    }
    values.update(overrides)
    return RedisSource(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(redis_db: int) -> Iterator[redis.Redis]:
    connection = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=redis_db)
    yield connection
    connection.close()


@pytest.fixture
def shop_keys(client: redis.Redis) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(USERS):
        fields: dict[str | bytes, str | int | float] = {"name": f"user {i}", "age": 20 + i % 50}
        if i % 2 == 0:
            fields["score"] = i / 4
        pipe.hset(f"user:{i}:profile", mapping=fields)
    for i in range(SESSIONS):
        key = f"session:{uuid.uuid4()}"
        pipe.set(key, json.dumps({"user": i, "roles": ["buyer"]}))
        if i < SESSIONS_WITH_TTL:
            pipe.expire(key, 3600)
    for i in range(COUNTERS):
        pipe.set(f"counter:{i}:visits", i * 7)
    for i in range(PRICES):
        pipe.set(f"price:{hashlib.sha1(str(i).encode()).hexdigest()[:16]}", f"{i}.99")
    for i in range(5):
        pipe.rpush(f"queue:{i}:jobs", "job-a", "job-b")
        pipe.sadd(f"tags:{i}", "red", "blue")
    for day in range(1, 4):
        pipe.zadd(f"leaderboard:2024-01-0{day}", {"alice": 10, "bob": 7})
    for i in range(2):
        pipe.xadd(f"events:ord_{100 + i}", {"status": "paid"})
    for i in range(CARTS):
        pipe.hset(f"cart:{i}", mapping={"sku-1": 2})
    pipe.rpush("cart:99", "legacy")
    pipe.set("config:app", "hello")
    pipe.execute()


@pytest.mark.parametrize(
    ("key", "pattern"),
    [
        ("user:123:profile", "user:*:profile"),
        ("session:550e8400-e29b-41d4-a716-446655440000", "session:*"),
        ("cache:5d41402abc4b2a76b9719d911017c592", "cache:*"),
        ("stats:2024-01-05:visits", "stats:*:visits"),
        ("orders:ord_42", "orders:*"),
        ("token:01ARZ3NDEKTSV4RRFFQ69G5FAV", "token:*"),
        ("customer:cus_9s6XKzkNRiz8i3:card", "customer:*:card"),
        ("config:v2", "config:v2"),
        ("feature:oauth2:enabled", "feature:oauth2:enabled"),
        ("app:settings", "app:settings"),
        ("plain", "plain"),
    ],
)
def test_id_like_segments_become_wildcards(key: str, pattern: str) -> None:
    assert key_pattern(key) == pattern


NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "oscar",
]


def test_segments_with_many_literal_values_collapse_and_few_stay() -> None:
    patterns = [f"user:{n}:cart" for n in NAMES] + ["status:open", "status:closed", "user:*:profile"]
    coarser = collapse_variable_segments(patterns)

    assert {coarser[f"user:{n}:cart"] for n in NAMES} == {"user:*:cart"}
    assert coarser["status:open"] == "status:open"
    assert coarser["status:closed"] == "status:closed"
    assert coarser["user:*:profile"] == "user:*:profile"
    assert collapse_variable_segments(["user:alice:cart", "user:bob:cart"]) == {
        "user:alice:cart": "user:alice:cart",
        "user:bob:cart": "user:bob:cart",
    }


def test_keys_named_by_user_names_group_into_one_pattern(redis_db: int, client: redis.Redis) -> None:
    pipe = client.pipeline(transaction=False)
    for name in NAMES:
        pipe.hset(f"user:{name}:cart", mapping={"items": 2, "coupon": "SPRING"})
    pipe.set("status:open", 1)
    pipe.execute()

    catalog = RedisDatabase().scan("cache", source(redis_db))

    assert [(t.name, t.row_count, t.row_count_exact) for t in catalog.tables] == [
        ("status:open", 1, True),
        ("user:*:cart", len(NAMES), True),
    ]
    cart = catalog.tables[1]
    assert cart.columns == (
        Column("coupon", "string", nullable=False),
        Column("items", "integer", nullable=False),
    )


def test_scan_of_every_key_groups_patterns_with_exact_counts(redis_db: int, shop_keys: None) -> None:
    catalog = RedisDatabase().scan("cache", source(redis_db))
    schema = f"db{redis_db}"

    assert catalog.source_type == "redis"
    assert catalog.server_version and catalog.server_version[0].isdigit()
    assert catalog.schemas == [schema]
    assert [(t.name, t.row_count) for t in catalog.tables] == [
        ("cart:*", CARTS),
        ("cart:* (list)", 1),
        ("config:app", 1),
        ("counter:*:visits", COUNTERS),
        ("events:*", 2),
        ("leaderboard:*", 3),
        ("price:*", PRICES),
        ("queue:*:jobs", 5),
        ("session:*", SESSIONS),
        ("tags:*", 5),
        ("user:*:profile", USERS),
    ]
    assert all(t.kind == "key_pattern" and t.row_count_exact and t.schema == schema for t in catalog.tables)

    def columns(name: str) -> tuple[Column, ...]:
        table = catalog.table(f"{schema}.{name}")
        assert table is not None
        return table.columns

    assert columns("user:*:profile") == (
        Column("age", "integer", nullable=False),
        Column("name", "string", nullable=False),
        Column("score", "float", nullable=True),
    )
    assert columns("cart:*") == (Column("sku-1", "integer", nullable=False),)
    assert columns("session:*") == (Column("value", "json", nullable=False),)
    assert columns("counter:*:visits") == (Column("value", "integer", nullable=False),)
    assert columns("price:*") == (Column("value", "float", nullable=False),)
    assert columns("config:app") == (Column("value", "string", nullable=False),)
    assert columns("queue:*:jobs") == (Column("members", "list", nullable=False),)
    assert columns("cart:* (list)") == (Column("members", "list", nullable=False),)
    assert columns("tags:*") == (Column("members", "set", nullable=False),)
    assert columns("leaderboard:*") == (Column("members", "zset", nullable=False),)
    assert columns("events:*") == (Column("entries", "stream", nullable=False),)

    sessions = catalog.table(f"{schema}.session:*")
    assert sessions is not None
    assert sessions.comment == f"sampled {SESSIONS} keys; ttl set on {SESSIONS_WITH_TTL}"


@pytest.fixture
def many_keys(client: redis.Redis) -> tuple[int, int]:
    items, orders = 5000, 1000
    pipe = client.pipeline(transaction=False)
    for i in range(items):
        pipe.set(f"item:{i}", i)
    for i in range(orders):
        pipe.hset(f"order:{i}:summary", mapping={"total": i})
    pipe.execute()
    return items, orders


def sampled_keys(comment: str | None) -> int:
    assert comment is not None
    return int(comment.split()[1])


def test_a_partial_sample_estimates_counts_from_the_keyspace_size(redis_db: int, many_keys: tuple[int, int]) -> None:
    items, orders = many_keys
    catalog = RedisDatabase().scan("cache", source(redis_db, sample_size=600))

    assert [t.name for t in catalog.tables] == ["item:*", "order:*:summary"]
    assert sum(sampled_keys(t.comment) for t in catalog.tables) == 600
    item, order = catalog.tables
    assert not item.row_count_exact and not order.row_count_exact
    assert item.row_count is not None and 0.8 * items <= item.row_count <= 1.2 * items
    assert order.row_count is not None and 0.6 * orders <= order.row_count <= 1.4 * orders
    assert order.columns == (Column("total", "integer", nullable=False),)


def test_a_partial_sample_under_a_match_pattern_estimates_the_matching_keys(
    redis_db: int, many_keys: tuple[int, int]
) -> None:
    _, orders = many_keys
    catalog = RedisDatabase().scan("cache", source(redis_db, sample_size=300, match="order:*"))

    assert [t.name for t in catalog.tables] == ["order:*:summary"]
    (order,) = catalog.tables
    assert sampled_keys(order.comment) == 300
    assert not order.row_count_exact
    # Scaling to DBSIZE would claim about 6000; the estimate must stay near the 1000 matching keys.
    assert order.row_count is not None and 0.6 * orders <= order.row_count <= 1.4 * orders


def test_exact_row_counts_visit_every_key(redis_db: int, many_keys: tuple[int, int]) -> None:
    items, orders = many_keys
    catalog = RedisDatabase().scan("cache", source(redis_db, sample_size=100), exact_row_counts=True)

    assert [(t.name, t.row_count, t.row_count_exact) for t in catalog.tables] == [
        ("item:*", items, True),
        ("order:*:summary", orders, True),
    ]


def test_include_then_exclude_filters_patterns(redis_db: int, shop_keys: None) -> None:
    config = source(
        redis_db, include=PatternSet(tables=["^(user|session|cart):"]), exclude=PatternSet(tables=["^session:"])
    )
    catalog = RedisDatabase().scan("cache", config)

    assert [t.name for t in catalog.tables] == ["cart:*", "cart:* (list)", "user:*:profile"]


def test_schema_filter_applies_to_the_db_name(redis_db: int, shop_keys: None) -> None:
    database = RedisDatabase()
    excluded = source(redis_db, exclude=PatternSet(schemas=[f"^db{redis_db}$"]))
    assert database.scan("cache", excluded).tables == ()
    assert database.scan("cache", source(redis_db, include=PatternSet(schemas=["^db0$"]))).tables == ()
    assert len(database.scan("cache", source(redis_db, include=PatternSet(schemas=["^db"]))).tables) == 11


def test_connection_reports_version_latency_and_target(redis_db: int) -> None:
    report = RedisDatabase().test_connection("cache", source(redis_db))

    assert report.source_type == "redis"
    assert report.server_version[0].isdigit()
    assert report.latency_ms > 0
    assert report.target == f"{REDIS_HOST}:{REDIS_PORT}/{redis_db}"


def test_closed_port_is_unreachable(closed_port: int) -> None:
    with pytest.raises(SourceError) as caught:
        RedisDatabase().test_connection("cache", source(0, host="127.0.0.1", port=closed_port))

    assert caught.value.kind == "unreachable"
    assert f"127.0.0.1:{closed_port}" in caught.value.detail


def test_a_server_that_never_answers_times_out(silent_server: int) -> None:
    started = time.perf_counter()
    with pytest.raises(SourceError) as caught:
        RedisDatabase().scan("cache", source(0, host="127.0.0.1", port=silent_server, connect_timeout_s=1))

    assert caught.value.kind == "timeout"
    assert time.perf_counter() - started < 5


def test_a_db_index_beyond_the_configured_databases_is_unknown(redis_db: int) -> None:
    with pytest.raises(SourceError) as caught:
        RedisDatabase().test_connection("cache", source(99))

    assert caught.value.kind == "unknown_database"
    assert "db 99" in caught.value.detail


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def password_server(tmp_path: Path) -> Iterator[int]:
    """A throwaway redis-server on a free port that requires the password 'right'."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip(f"{REDIS_SERVER} is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--requirepass",
            "right",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_wrong_password_fails_auth_without_revealing_it(password_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_T_REDIS_PASSWORD", "not-the-password")
    config = source(0, host="127.0.0.1", port=password_server, password="env:OPS_T_REDIS_PASSWORD")

    with pytest.raises(SourceError) as caught:
        RedisDatabase().test_connection("cache", config)

    assert caught.value.kind == "auth_failed"
    assert "not-the-password" not in str(caught.value)

    monkeypatch.setenv("OPS_T_REDIS_PASSWORD", "right")
    report = RedisDatabase().test_connection("cache", config)
    assert report.server_version[0].isdigit()


def test_no_password_where_one_is_required_fails_auth(password_server: int) -> None:
    with pytest.raises(SourceError) as caught:
        RedisDatabase().test_connection("cache", source(0, host="127.0.0.1", port=password_server))

    assert caught.value.kind == "auth_failed"
    assert "none is configured" in caught.value.detail
