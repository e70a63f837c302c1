"""`:name` placeholders rewritten into a driver's positional style, with literal `%` doubled for drivers that
format with `%`; quoted text, comments and casts are never mistaken for placeholders."""

from __future__ import annotations

import pytest

from ops_pipeline.core.plans.sql_text import positional_binds


@pytest.mark.parametrize(
    ("statement", "placeholder", "double", "expected"),
    [
        ("SELECT * FROM t WHERE a = :a AND b = :b", "?", False, ("SELECT * FROM t WHERE a = ? AND b = ?", ("a", "b"))),
        ("SELECT :a, :b, :a", "%s", True, ("SELECT %s, %s, %s", ("a", "b", "a"))),
        ("SELECT :day::date", "%s", True, ("SELECT %s::date", ("day",))),
        ("SELECT '10:30 :x 50%' || :y", "%s", True, ("SELECT '10:30 :x 50%%' || %s", ("y",))),
        ("SELECT '10:30 :x 50%' || :y", "?", False, ("SELECT '10:30 :x 50%' || ?", ("y",))),
        ("SELECT 1 -- :c 5%\n, :d", "%s", True, ("SELECT 1 -- :c 5%%\n, %s", ("d",))),
        ("SELECT $$:q$$, x % 2 FROM t", "%s", True, ("SELECT $$:q$$, x %% 2 FROM t", ())),
    ],
)
def test_placeholders_become_positional(statement: str, placeholder: str, double: bool, expected: tuple) -> None:
    assert positional_binds(statement, placeholder, double_percent=double) == expected


def test_percent_escaped_keeps_placeholders_and_escapes_identifiers() -> None:
    from ops_pipeline.core.plans.sql_text import percent_escaped

    sql = 'SELECT "pct%", "100%s", `a%(x)s`, x % 2 FROM t WHERE "at%" >= %s AND b LIKE \'a%\''
    assert percent_escaped(sql) == (
        'SELECT "pct%%", "100%%s", `a%%(x)s`, x %% 2 FROM t WHERE "at%%" >= %s AND b LIKE \'a%%\''
    )
