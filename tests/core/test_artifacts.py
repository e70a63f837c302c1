"""Step output artifacts: masked before anything else, always valid JSON, never over the byte limit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_pipeline.core.execution.artifacts import ARTIFACT_LIMIT_BYTES, cap_artifact, jsonable
from ops_pipeline.core.execution.masking import Masker

SECRET = "s3cr3t-Sentinel-value-9f1c"
MASKER = Masker(secrets=[SECRET])


def test_a_small_output_is_stored_whole_and_masked() -> None:
    output = {"stdout": f"login ok with {SECRET}", "password": "hunter2", "rows": 3, "ok": True}
    text, truncated = cap_artifact(output, MASKER)
    assert not truncated
    assert json.loads(text) == {"stdout": "login ok with ***", "password": "***", "rows": 3, "ok": True}


def test_a_large_output_is_cut_to_the_limit_with_a_visible_marker() -> None:
    output = {"rows": [{"id": i, "note": f"row {i} by alice@example.com"} for i in range(2000)]}
    text, truncated = cap_artifact(output, MASKER)
    assert truncated
    assert len(text.encode("utf-8")) <= ARTIFACT_LIMIT_BYTES
    artifact = json.loads(text)
    assert artifact["truncated"] is True
    full = json.dumps(MASKER.mask_value(output), ensure_ascii=False)
    assert artifact["original_bytes"] == len(full.encode("utf-8"))
    assert full.startswith(artifact["preview"])
    assert len(artifact["preview"]) > ARTIFACT_LIMIT_BYTES // 2  # the limit is used, not wasted
    assert "alice@example.com" not in text


def test_multibyte_text_is_cut_on_a_character_boundary() -> None:
    text, truncated = cap_artifact("é€😀" * 5000, MASKER, limit_bytes=1000)
    assert truncated
    encoded = text.encode("utf-8")
    assert len(encoded) <= 1000
    assert set(json.loads(text)["preview"]) <= set('"é€😀')


def test_a_secret_cut_by_truncation_is_never_half_kept() -> None:
    # The secret straddles the cut: masking happens on the whole value first, so no prefix of it survives.
    output = "x" * 400 + SECRET + "y" * 400
    text, truncated = cap_artifact(output, MASKER, limit_bytes=450)
    assert truncated
    assert "s3cr3t" not in text


def test_values_json_cannot_hold_are_turned_into_text_and_masked() -> None:
    @dataclass
    class Result:
        host: str
        password: str

    class Handle:
        def __str__(self) -> str:
            return f"<Handle dsn=postgresql://ops:{SECRET}@db/shop>"

    output = {
        "when": datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        "result": Result("db1", "hunter2"),
        "handle": Handle(),
        "tags": {"b", "a"},
        "raw": b"bytes \xff",
        "ratio": float("nan"),
        (1, 2): "tuple key",
    }
    text, _ = cap_artifact(output, MASKER)
    assert json.loads(text) == {
        "when": "2026-05-01T10:00:00+00:00",
        "result": {"host": "db1", "password": "***"},
        "handle": "<Handle dsn=postgresql://ops:***@db/shop>",
        "tags": ["a", "b"],
        "raw": "bytes \ufffd",
        "ratio": "nan",
        "(1, 2)": "tuple key",
    }


def test_deep_or_cyclic_structures_are_cut_not_recursed_forever() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    text, _ = cap_artifact(cycle, MASKER)
    node, depth = json.loads(text), 0
    while isinstance(node, list):
        node, depth = node[0], depth + 1
    assert (node, depth) == ("<nested too deep>", 65)


def test_a_limit_too_small_for_the_marker_is_refused() -> None:
    with pytest.raises(ValueError, match="limit_bytes must be at least 128"):
        cap_artifact({"a": 1}, MASKER, limit_bytes=64)


def test_jsonable_keeps_plain_json_as_it_is() -> None:
    value = {"a": [1, 2.5, None, True, "x"], "b": {"c": []}}
    assert jsonable(value) == value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=10), children, max_size=6),
    max_leaves=60,
)


@given(value=json_values, limit=st.integers(min_value=128, max_value=3000))
@settings(max_examples=200)
def test_any_output_becomes_valid_json_within_the_limit(value: object, limit: int) -> None:
    text, truncated = cap_artifact(value, MASKER, limit_bytes=limit)
    size = len(text.encode("utf-8"))
    assert size <= limit
    parsed = json.loads(text)
    full_size = len(json.dumps(MASKER.mask_value(jsonable(value)), ensure_ascii=False).encode("utf-8", "replace"))
    assert truncated == (full_size > limit)
    if truncated:
        assert parsed["truncated"] is True


@given(before=st.text(max_size=300), after=st.text(max_size=300), limit=st.integers(min_value=128, max_value=600))
@settings(max_examples=200)
def test_a_registered_secret_never_reaches_an_artifact(before: str, after: str, limit: int) -> None:
    text, _ = cap_artifact({"stdout": before + SECRET + after, "list": [SECRET]}, MASKER, limit_bytes=limit)
    assert SECRET not in text
    assert SECRET not in json.dumps(json.loads(text))
