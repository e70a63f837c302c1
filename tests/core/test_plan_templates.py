"""Templates in plan strings, and the `:name` placeholders of SQL statements."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.plans.sql_text import UnterminatedSql, escape_non_bind_colons, has_second_statement
from ops_pipeline.core.plans.templates import (
    TemplateError,
    render,
    render_json,
    render_value,
    sql_bind_names,
    template_references,
)

SECRETS = {"env:API_TOKEN": "s3cr3t", "file:/run/secrets/db password": "pw"}


def resolve(ref: str) -> str:
    return SECRETS[ref]


def no_secrets(ref: str) -> str:
    raise AssertionError(f"{ref} should not be resolved")


# ---- references


def test_references_list_parameters_and_secrets_once_in_order() -> None:
    text = "{{ params.b }}-{{params.a}}-{{ secret:env:API_TOKEN }}-{{ params.b }}-{{ secret:file:/run/secrets/x }}"
    assert template_references(text) == (("b", "a"), ("env:API_TOKEN", "file:/run/secrets/x"))
    params, secrets = template_references("plain text, no templates }}")
    assert (params, secrets) == ((), ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ params.Name }}", "{{ params.Name }} is not a template"),
        ("{{ param.name }}", "is not a template this plan language knows"),
        ("{{ secret:vault:kv/x }}", "{{ secret:vault:kv/x }} is not a valid secret reference"),
        ("{{ secret:env:1BAD }}", "is not a valid secret reference"),
        ("{{ params.name", "has a '{{' that does not open a template"),
        ("{{ params.a }} and {{", "has a '{{' that does not open a template"),
    ],
)
def test_malformed_templates_are_refused(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("{", r"\{").replace("}", r"\}").replace(".", r"\.")):
        template_references(text)


# ---- rendering


def test_render_writes_values_as_json_spells_them() -> None:
    params = {"service": "nginx", "count": 3, "ratio": 0.5, "dry_run": False}
    text = "{{ params.service }} x{{ params.count }} r={{ params.ratio }} --dry-run={{ params.dry_run }}"
    assert render(text, params, no_secrets) == "nginx x3 r=0.5 --dry-run=false"


def test_render_resolves_secrets_through_the_callable_it_is_given() -> None:
    seen: list[str] = []

    def recording(ref: str) -> str:
        seen.append(ref)
        return resolve(ref)

    text = "Bearer {{ secret:env:API_TOKEN }} / {{ secret:file:/run/secrets/db password }}"
    assert render(text, {}, recording) == "Bearer s3cr3t / pw"
    assert seen == ["env:API_TOKEN", "file:/run/secrets/db password"]


def test_a_parameter_without_a_value_is_an_error() -> None:
    with pytest.raises(TemplateError, match="template names parameter 'missing', which has no value"):
        render("{{ params.missing }}", {}, no_secrets)


@given(st.text())
def test_rendering_is_one_pass(value: str) -> None:
    """A value that itself looks like a template is inserted literally, never rendered again."""
    assert render("<{{ params.x }}>", {"x": value}, no_secrets) == f"<{value}>"
    assert render("<{{ params.x }}>", {"x": "{{ secret:env:API_TOKEN }}"}, no_secrets) == (
        "<{{ secret:env:API_TOKEN }}>"
    )


def test_a_whole_parameter_template_keeps_the_value_type() -> None:
    params = {"limit": 10, "flag": True, "name": "x"}
    assert render_value("{{ params.limit }}", params, no_secrets) == 10
    assert render_value("{{ params.flag }}", params, no_secrets) is True
    assert render_value(" {{ params.limit }}", params, no_secrets) == " 10"
    assert render_value("{{ secret:env:API_TOKEN }}", params, resolve) == "s3cr3t"
    body = {"limit": "{{ params.limit }}", "tags": ["a-{{ params.name }}", 7], "{{ params.name }}": None}
    assert render_json(body, params, no_secrets) == {"limit": 10, "tags": ["a-x", 7], "{{ params.name }}": None}


# ---- SQL placeholders


@pytest.mark.parametrize(
    ("statement", "names"),
    [
        ("SELECT * FROM orders WHERE status = :status AND created_at < :before", ("status", "before")),
        ("SELECT :a, :a, :b_2", ("a", "b_2")),
        ("SELECT created_at::date, :day::date FROM t", ("day",)),
        ("SELECT '10:30', 'it''s :not_a_bind', \"col:x\" FROM t WHERE a = :yes", ("yes",)),
        ("SELECT 1 -- :commented\n, :after /* :block */", ("after",)),
        ("SELECT $$ :dollar $$, $tag$ :tagged $tag$, :real", ("real",)),
        ("SELECT a[1:2], x\\:y, :_under FROM t", ("_under",)),
        ("SELECT 1", ()),
    ],
)
def test_sql_bind_names_skip_literals_comments_and_casts(statement: str, names: tuple[str, ...]) -> None:
    assert sql_bind_names(statement) == names


@given(st.text(alphabet=st.characters(blacklist_characters="'"), max_size=30))
def test_nothing_inside_a_string_literal_is_a_placeholder(inside: str) -> None:
    assert sql_bind_names(f"SELECT '{inside}' = :value") == ("value",)


@pytest.mark.parametrize(
    ("statement", "second"),
    [
        ("SELECT 1", False),
        ("SELECT 1;", False),
        ("SELECT 1;  \n -- trailing comment\n /* and this */ ", False),
        ("SELECT ';' || 'x; DROP TABLE t'", False),
        ("DO $$ BEGIN PERFORM 1; PERFORM 2; END $$", False),
        ("SELECT 1; SELECT 2", True),
        ("SELECT 1; 'x'", True),
        ("SELECT 1;;", False),
        ("SELECT 1; /* c */ DELETE FROM t", True),
    ],
)
def test_a_second_statement_is_detected(statement: str, second: bool) -> None:
    assert has_second_statement(statement) is second


def test_an_unterminated_literal_or_comment_is_reported() -> None:
    for statement in ("SELECT 'x", 'SELECT "x', "SELECT 1 /* x", "SELECT $q$ x"):
        with pytest.raises(UnterminatedSql):
            sql_bind_names(statement)


def test_escaped_statements_give_sqlalchemy_exactly_the_plan_placeholders() -> None:
    statement = "SELECT '10:30', a::int, :day::date, x[1:2] FROM t -- :c\nWHERE s = :status"
    clause = sa.text(escape_non_bind_colons(statement))
    assert set(clause._bindparams) == {"day", "status"}
    compiled = str(clause.compile())
    assert "'10:30'" in compiled and "a::int" in compiled and "x[1:2]" in compiled and "-- :c" in compiled
