"""User-supplied regexes run in linear time (RE2): patterns that backtrack catastrophically in Python's `re`
finish at once, and what RE2 cannot run is refused when the pattern is read, with the reason."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from ops_pipeline.core.filters import NameFilter
from ops_pipeline.core.resolver import ResolverSpec, simulate
from ops_pipeline.core.sample_validation import ValidationRule, validate_sample
from ops_pipeline.core.user_regex import UserRegexError, compile_user_regex

HOSTILE_NAME = "a" * 30 + "!"  # 31 characters: Python's re needs ~2**30 steps to fail `^(a+)+$` on it
# Backtracking takes minutes on these inputs; RE2 microseconds. The bound only tells the two apart, on any machine.
AT_ONCE_S = 2.0


def elapsed(action: object) -> float:
    assert callable(action)
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def test_a_nested_quantifier_filter_rejects_a_31_character_name_at_once() -> None:
    keep = NameFilter.from_patterns(include=["^(a+)+$"]).keeps
    assert elapsed(lambda: keep(HOSTILE_NAME)) < AT_ONCE_S
    assert not keep(HOSTILE_NAME)
    assert keep("aaaa")


def test_a_nested_quantifier_exclude_runs_at_once() -> None:
    keep = NameFilter.from_patterns(exclude=["(x+x+)+y"]).keeps
    assert elapsed(lambda: keep("x" * 5000)) < AT_ONCE_S


def test_an_alternation_resolver_rule_runs_at_once() -> None:
    spec = ResolverSpec.model_validate(
        {"name": "r", "rules": [{"type": "pattern", "name": "as", "pattern": "^(a|aa)+$", "replacement": "A"}]}
    )
    took = elapsed(lambda: simulate(spec, ["a" * 40 + "b"]))
    assert took < AT_ONCE_S
    [resolution] = simulate(spec, ["a" * 40 + "b", "aaaa"])[1:]
    assert resolution.output == "A"


def test_a_validation_rule_regex_runs_at_once() -> None:
    rule = ValidationRule(rule="regex", column="code", pattern="^(a|a)+$")
    rows = [{"code": "a" * 40 + "b"}, {"code": "aaa"}]
    took = elapsed(lambda: validate_sample(rows, [rule], threshold=0.5))
    assert took < AT_ONCE_S
    assert validate_sample(rows, [rule], threshold=0.5).outcomes[0].failed == 1


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?<=tbl_)\\w+", "lookaround is not supported"),
        ("^(?!tmp_)", "lookaround is not supported"),
        ("(a)\\1", "backreferences are not supported"),
        ("(unclosed", "missing )"),
    ],
)
def test_what_re2_cannot_run_is_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(UserRegexError) as error:
        compile_user_regex(pattern)
    assert repr(pattern) in str(error.value)
    assert reason in str(error.value)


def test_a_lookaround_in_a_resolver_rule_is_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="lookaround is not supported"):
        ResolverSpec.model_validate(
            {"name": "r", "rules": [{"type": "pattern", "name": "p", "pattern": "(?<=x)y", "replacement": "z"}]}
        )


def test_python_replacement_templates_still_work() -> None:
    spec = ResolverSpec.model_validate(
        {
            "name": "r",
            "rules": [{"type": "pattern", "name": "p", "pattern": "^tbl_(?P<rest>\\w+)$", "replacement": "\\g<rest>"}],
        }
    )
    assert simulate(spec, ["tbl_orders"])[0].output == "orders"
