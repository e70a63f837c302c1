"""Broken ops.yaml files: each class the issue lists is refused with the file and a key path, and a valid file
mutated anywhere either loads or says where it is wrong; never a traceback, never a hang."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops_pipeline.cli import main
from tests.config_corpus import (
    HOSTILE_VALUES,
    NESTED_TEXT,
    demo_document,
    leaf_paths,
    load_text,
    must_refuse_texts,
    replaced,
)

PATHS = list(leaf_paths(demo_document()))
MUST_REFUSE = must_refuse_texts()


@pytest.mark.parametrize("name", sorted(MUST_REFUSE))
def test_each_broken_class_is_refused_with_a_located_error(name: str, tmp_path: Path) -> None:
    outcome = load_text(MUST_REFUSE[name], tmp_path)
    assert not outcome.accepted
    assert outcome.traceback is None
    assert not outcome.unlocated


scalars = st.one_of(
    st.sampled_from([value for value in HOSTILE_VALUES if value != "nested"]),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.booleans(),
    st.none(),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=values, deep=st.booleans())
def test_a_mutated_valid_file_loads_or_names_the_file_and_a_key_path(
    tmp_path: Path, path: tuple[Any, ...], value: Any, deep: bool
) -> None:
    if isinstance(value, float) and math.isnan(value):
        value = math.nan
    text = yaml.safe_dump(replaced(demo_document(), path, "nested" if deep else value), allow_unicode=True)
    if deep:
        text = text.replace("nested", NESTED_TEXT)
    outcome = load_text(text, tmp_path)
    assert outcome.traceback is None
    assert not outcome.unlocated
    assert outcome.seconds < 5


def test_an_empty_section_is_valid(tmp_path: Path) -> None:
    outcome = load_text("sources:\nresolvers:\ndetectors:\n", tmp_path)
    assert outcome.accepted


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "is a directory"),
        ("sources: {}\n".encode("utf-16"), "not UTF-8 text"),
        (bytes(range(256)), "not UTF-8 text"),
    ],
)
def test_config_check_names_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, reason: str
) -> None:
    file = tmp_path
    if content is not None:
        file = tmp_path / "ops.yaml"
        file.write_bytes(content)
    assert main(["--config", str(file), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {file}: ") and reason in err


def test_a_key_of_control_characters_keeps_the_error_one_line_per_problem(tmp_path: Path) -> None:
    # \x85 and \u2028 are line breaks to str.splitlines; found by the mutation test above.
    outcome = load_text('sources:\n  demo:\n    type: sqlite\n    path: x.db\n    "a\\Nb\\Lc": 1\n', tmp_path)
    assert not outcome.accepted and outcome.traceback is None and not outcome.unlocated
