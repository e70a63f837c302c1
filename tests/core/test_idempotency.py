"""Idempotency keys: the same submission gives the same key; anything that differs gives another."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.execution.idempotency import IDEMPOTENCY_WINDOW_S, caller_key, idempotency_key
from ops_pipeline.core.plans.canonical import plan_hash
from ops_pipeline.core.plans.parameters import bind_parameters
from tests.core.plan_builders import plan

HASH = "c" * 64
PARAMS = {"service": "nginx", "workers": 4, "dry_run": False}


def test_the_window_is_a_day() -> None:
    assert IDEMPOTENCY_WINDOW_S == 24 * 3600


def test_the_key_is_a_sha256_hex_digest_and_stable() -> None:
    key = idempotency_key("default", HASH, ["web1", "db1"], PARAMS)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key == idempotency_key("default", HASH, ["web1", "db1"], dict(PARAMS))


@given(st.permutations(["web1", "db1", "cache"]), st.permutations(list(PARAMS)))
def test_target_and_parameter_order_do_not_matter(targets: list[str], names: list[str]) -> None:
    reordered = {name: PARAMS[name] for name in names}
    assert idempotency_key("default", HASH, targets, reordered) == idempotency_key(
        "default", HASH, ["cache", "db1", "web1"], PARAMS
    )
    assert idempotency_key("default", HASH, [*targets, targets[0]], PARAMS) == idempotency_key(
        "default", HASH, targets, PARAMS
    )


@pytest.mark.parametrize(
    "changed",
    [
        ("team-a", HASH, ["web1"], PARAMS),
        ("default", "d" * 64, ["web1"], PARAMS),
        ("default", HASH, ["web2"], PARAMS),
        ("default", HASH, [], PARAMS),
        ("default", HASH, ["web1"], {**PARAMS, "workers": 5}),
        ("default", HASH, ["web1"], {**PARAMS, "workers": "4"}),
        ("default", HASH, ["web1"], {**PARAMS, "extra": None}),
    ],
)
def test_any_difference_gives_another_key(changed: tuple[Any, ...]) -> None:
    assert idempotency_key(*changed) != idempotency_key("default", HASH, ["web1"], PARAMS)


def test_bound_parameters_make_cli_text_and_typed_values_one_submission() -> None:
    spec = plan(parameters={"workers": {"type": "integer", "default": 2}})
    from_cli = bind_parameters(spec, {"workers": "2"})
    from_launchpad = bind_parameters(spec, {})
    keys = {idempotency_key("default", plan_hash(spec), spec.targets, p) for p in (from_cli, from_launchpad)}
    assert len(keys) == 1


def test_values_that_are_not_json_are_refused() -> None:
    with pytest.raises(ValueError, match="parameters must be JSON values"):
        idempotency_key("default", HASH, [], {"ratio": float("nan")})
    with pytest.raises(ValueError, match="tenant"):
        idempotency_key(" ", HASH, [], {})


def test_a_caller_key_is_trimmed_and_normalised() -> None:
    assert caller_key("default", "  deploy-2026-05-04  ") == "deploy-2026-05-04"
    assert caller_key("default", "cafe\u0301") == caller_key("default", "caf\u00e9")
    assert caller_key("default", "x" * 200) == "x" * 200


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 201, "at most 200 characters, not 201"),
        ("deploy\n2", r"control or invisible characters \(U\+000A\)"),
        ("deploy\u200b", r"\(U\+200B\)"),
    ],
)
def test_a_bad_caller_key_is_refused(key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        caller_key("default", key)
