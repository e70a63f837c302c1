from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ops_pipeline.core.resolver import (
    AliasRule,
    EntityResolver,
    PatternRule,
    Resolution,
    ResolverSpec,
    RuleAttempt,
    TransformationRule,
    camel_case,
    pascal_case,
    simulate,
    snake_case,
)


def spec(*rules: dict[str, Any], name: str = "tables") -> ResolverSpec:
    return ResolverSpec.model_validate({"name": name, "rules": list(rules)})


def alias(name: str = "aliases", **fields: Any) -> dict[str, Any]:
    return {"type": "alias", "name": name, "mappings": {"ord": "orders"}, **fields}


def pattern(name: str = "tbl_prefix", **fields: Any) -> dict[str, Any]:
    return {"type": "pattern", "name": name, "pattern": r"^tbl_(.*)$", "replacement": r"\1", **fields}


def transformation(name: str = "snake", steps: list[Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "type": "transformation",
        "name": name,
        "steps": [{"op": "snake_case"}] if steps is None else steps,
        **fields,
    }


def resolve(entity: str, *rules: dict[str, Any]) -> Resolution:
    return EntityResolver(spec(*rules)).resolve(entity)


def apply_step(step: dict[str, Any], value: str) -> str:
    result = resolve(value, transformation(steps=[step]))
    assert result.rule == "snake"
    return result.output


# ---- alias rules


def test_alias_replaces_a_known_entity_with_full_confidence() -> None:
    result = resolve("ord", alias())
    assert (result.output, result.rule, result.rule_type, result.confidence) == (
        "orders",
        "aliases",
        "alias",
        1.0,
    )
    assert result.attempts == (RuleAttempt("aliases", "alias", 0, True, "orders", "alias 'ord' -> 'orders'"),)


def test_alias_lookup_ignores_case_by_default() -> None:
    assert resolve("ORD", alias()).output == "orders"


def test_case_sensitive_alias_needs_the_exact_key() -> None:
    result = resolve("ORD", alias(case_sensitive=True))
    assert (result.output, result.rule, result.confidence) == ("ORD", None, 0.0)
    assert result.attempts[0].reason == "no alias for 'ORD'"


def test_aliases_differing_only_in_case_must_agree_unless_case_sensitive() -> None:
    clashing = {"Ord": "orders", "ord": "order_lines"}
    with pytest.raises(ValidationError, match="differ only in case"):
        spec(alias(mappings=clashing))
    assert resolve("Ord", alias(mappings=clashing, case_sensitive=True)).output == "orders"
    assert resolve("ORD", alias(mappings={"Ord": "orders", "ord": "orders"})).output == "orders"


def test_alias_rule_needs_a_mapping() -> None:
    with pytest.raises(ValidationError, match="mappings"):
        spec(alias(mappings={}))


# ---- pattern rules


def test_pattern_rewrites_with_capture_groups() -> None:
    result = resolve("tbl_orders", pattern())
    assert (result.output, result.rule_type, result.confidence) == ("orders", "pattern", 0.9)
    assert result.attempts[0].reason == "pattern '^tbl_(.*)$' matched"


def test_pattern_supports_named_groups() -> None:
    rule = pattern(pattern=r"(?P<schema>\w+)\.(?P<table>\w+)", replacement=r"\g<table>_in_\g<schema>")
    assert resolve("sales.orders", rule).output == "orders_in_sales"


def test_pattern_must_match_the_whole_input_by_default() -> None:
    rule = pattern(pattern=r"tbl_(\w+)", replacement=r"\1")
    result = resolve("x_tbl_orders", rule)
    assert (result.output, result.rule) == ("x_tbl_orders", None)
    assert result.attempts[0].reason == r"pattern 'tbl_(\\w+)' did not match"


def test_pattern_without_full_match_replaces_every_occurrence() -> None:
    rule = pattern(pattern=r"_tmp\b", replacement="", full_match=False)
    assert resolve("orders_tmp", rule).output == "orders"
    assert resolve("orders", rule).rule is None


def test_unmatched_optional_group_expands_to_empty() -> None:
    assert resolve("orders", pattern(pattern=r"(x_)?(\w+)", replacement=r"\1\2")).output == "orders"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"pattern": "tbl_(.*"}, "invalid regular expression 'tbl_\\(\\.\\*'"),
        ({"replacement": r"\2"}, "invalid group reference 2"),
        ({"replacement": r"\g<table>"}, "unknown group name 'table'"),
        ({"replacement": r"\q"}, "bad escape"),
    ],
)
def test_bad_pattern_config_is_rejected_naming_the_problem(fields: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        spec(pattern(**fields))


# ---- transformations


def test_canonical_example_resolves_spellings_to_one_entity() -> None:
    resolver = EntityResolver(spec(transformation()))
    results = resolver.resolve_many(["InvoiceLine", "invoice_line"])
    assert [r.output for r in results] == ["invoice_line", "invoice_line"]
    assert {(r.rule, r.rule_type, r.confidence) for r in results} == {("snake", "transformation", 0.7)}


@pytest.mark.parametrize(
    "spelling",
    [
        "InvoiceLine",
        "invoiceLine",
        "invoice_line",
        "Invoice Line",
        "INVOICE_LINE",
        "invoice-line",
        " invoice  line ",
    ],
)
def test_snake_case_cleans_every_spelling(spelling: str) -> None:
    assert snake_case(spelling) == "invoice_line"


@pytest.mark.parametrize(
    ("value", "snake", "pascal", "camel"),
    [
        ("HTTPServerLog", "http_server_log", "HttpServerLog", "httpServerLog"),
        ("invoice_line", "invoice_line", "InvoiceLine", "invoiceLine"),
        ("v2Log", "v2_log", "V2Log", "v2Log"),
        ("orders", "orders", "Orders", "orders"),
        ("--", "", "", ""),
    ],
)
def test_case_conversions(value: str, snake: str, pascal: str, camel: str) -> None:
    assert (snake_case(value), pascal_case(value), camel_case(value)) == (snake, pascal, camel)


@pytest.mark.parametrize(
    ("step", "value", "expected"),
    [
        ({"op": "lower"}, "Orders", "orders"),
        ({"op": "upper"}, "Orders", "ORDERS"),
        ({"op": "trim"}, "  orders\t", "orders"),
        ({"op": "snake_case"}, "InvoiceLine", "invoice_line"),
        ({"op": "camel_case"}, "invoice_line", "invoiceLine"),
        ({"op": "pascal_case"}, "invoice_line", "InvoiceLine"),
        ({"op": "replace", "old": "-", "new": "_"}, "a-b-c", "a_b_c"),
        ({"op": "prefix", "value": "dim_"}, "date", "dim_date"),
        ({"op": "prefix", "value": "dim_"}, "dim_date", "dim_date"),
        ({"op": "suffix", "value": "_v2"}, "orders", "orders_v2"),
        ({"op": "suffix", "value": "_v2"}, "orders_v2", "orders_v2"),
        ({"op": "strip_prefix", "value": "stg_"}, "stg_orders", "orders"),
        ({"op": "strip_prefix", "value": "stg_"}, "orders", "orders"),
        ({"op": "strip_suffix", "value": "_bak"}, "orders_bak", "orders"),
        ({"op": "strip_suffix", "value": "_bak"}, "orders", "orders"),
        ({"op": "split_join", "separator": "."}, "db.sales.orders", "db_sales_orders"),
        ({"op": "split_join", "separator": ".", "fields": [-1]}, "db.sales.orders", "orders"),
        (
            {"op": "split_join", "separator": ".", "fields": [2, 1], "join": "__"},
            "db.sales.orders",
            "orders__sales",
        ),
    ],
)
def test_transformation_steps(step: dict[str, Any], value: str, expected: str) -> None:
    assert apply_step(step, value) == expected


@pytest.mark.parametrize("fields", [[3], [-4], [0, 5]])
def test_split_join_with_a_missing_field_does_not_match(fields: list[int]) -> None:
    rule = transformation(steps=[{"op": "split_join", "separator": ".", "fields": fields}])
    result = resolve("db.sales.orders", rule, alias(mappings={"db.sales.orders": "orders"}, priority=-1))
    assert (result.output, result.rule) == ("orders", "aliases")
    assert result.attempts[0].matched is False
    assert result.attempts[0].reason.startswith(f"split_join: no field {fields[-1]} in 3 part(s)")


def test_steps_run_in_order() -> None:
    steps = [{"op": "strip_prefix", "value": "stg_"}, {"op": "snake_case"}, {"op": "prefix", "value": "raw_"}]
    result = resolve("stg_InvoiceLine", transformation(steps=steps))
    assert result.output == "raw_invoice_line"
    assert result.attempts[0].reason == "applied strip_prefix, snake_case, prefix"


def test_match_regex_gates_a_transformation() -> None:
    rule = transformation(steps=[{"op": "upper"}], match=r"^dim_")
    assert resolve("dim_date", rule).output == "DIM_DATE"
    skipped = resolve("orders", rule)
    assert (skipped.output, skipped.rule) == ("orders", None)
    assert skipped.attempts[0].reason == "match '^dim_' not found"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (transformation(steps=[]), "steps"),
        (transformation(match="(unclosed"), "invalid regular expression '\\(unclosed'"),
        (transformation(steps=[{"op": "titlecase"}]), "op"),
        (transformation(steps=[{"op": "replace", "old": "", "new": "x"}]), "old"),
        (transformation(steps=[{"op": "split_join", "separator": ".", "fields": []}]), "fields"),
        (transformation(steps=[{"op": "lower", "value": "x"}]), "Extra inputs are not permitted"),
    ],
)
def test_bad_transformation_config_is_rejected(rule: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        spec(rule)


# ---- ordering


def test_higher_priority_wins_even_when_declared_later() -> None:
    result = resolve("tbl_ord", transformation(), pattern(priority=10))
    assert (result.output, result.rule) == ("ord", "tbl_prefix")
    assert [a.rule for a in result.attempts] == ["tbl_prefix"]


def test_equal_priorities_keep_declaration_order() -> None:
    first = pattern("first", replacement=r"first_\1")
    second = pattern("second", replacement=r"second_\1")
    assert resolve("tbl_x", first, second).output == "first_x"
    assert resolve("tbl_x", second, first).output == "second_x"


def test_attempts_list_rules_tried_in_order_up_to_the_decider() -> None:
    rules = (transformation(priority=-5), alias(priority=5), pattern(), alias("unused", priority=-9))
    result = resolve("tbl_Orders", *rules)
    assert [(a.rule, a.priority, a.matched) for a in result.attempts] == [
        ("aliases", 5, False),
        ("tbl_prefix", 0, True),
    ]
    assert result.attempts[0].reason == "no alias for 'tbl_Orders'"


def test_inactive_rules_are_skipped_and_shown_in_attempts() -> None:
    result = resolve("ord", alias("legacy", priority=9, active=False, mappings={"ord": "old"}), alias())
    assert (result.output, result.rule) == ("orders", "aliases")
    assert result.attempts[0] == RuleAttempt("legacy", "alias", 9, False, None, "inactive")


def test_no_match_keeps_the_input_with_zero_confidence() -> None:
    result = resolve("customers", alias(), pattern())
    assert (result.output, result.rule, result.rule_type, result.confidence) == ("customers", None, None, 0.0)
    assert [a.matched for a in result.attempts] == [False, False]


def test_empty_input_is_allowed() -> None:
    assert resolve("", alias(), pattern()).output == ""
    assert resolve("", alias(mappings={"": "unnamed"})).output == "unnamed"


# ---- confidence


@pytest.mark.parametrize(("rule", "expected"), [(alias(), 1.0), (pattern(), 0.9), (transformation(), 0.7)])
def test_confidence_defaults_per_rule_type(rule: dict[str, Any], expected: float) -> None:
    assert spec(rule).rules[0].confidence == expected
    assert spec({**rule, "confidence": None}).rules[0].confidence == expected


def test_confidence_override_is_reported() -> None:
    assert resolve("tbl_x", pattern(confidence=0.42)).confidence == 0.42


@pytest.mark.parametrize("confidence", [-0.1, 1.5, float("nan")])
def test_confidence_must_be_between_0_and_1(confidence: float) -> None:
    with pytest.raises(ValidationError, match="confidence"):
        spec(alias(confidence=confidence))


# ---- spec


def test_rule_names_must_be_unique() -> None:
    with pytest.raises(ValidationError, match="rule names must be unique; repeated: dup"):
        spec(alias("dup"), pattern("dup"), transformation())


@pytest.mark.parametrize(
    "document",
    [
        {"name": "r", "rules": []},
        {"name": "r", "rules": [{"type": "lookup", "name": "x"}]},
        {"name": "r", "rules": [alias()], "extra": 1},
    ],
)
def test_bad_spec_is_rejected(document: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ResolverSpec.model_validate(document)


def test_spec_is_frozen() -> None:
    resolver_spec = spec(alias())
    with pytest.raises(ValidationError):
        resolver_spec.name = "other"


def test_rules_can_be_built_directly() -> None:
    built = ResolverSpec(
        name="direct",
        rules=[
            AliasRule(name="a", mappings={"x": "y"}),
            PatternRule(name="p", pattern="(.*)_v1", replacement=r"\1"),
            TransformationRule.model_validate({"name": "t", "steps": [{"op": "trim"}]}),
        ],
    )
    assert [r.type for r in built.rules] == ["alias", "pattern", "transformation"]


# ---- bad input


@pytest.mark.parametrize("entity", [None, 3, b"orders", ["orders"]])
def test_non_string_input_raises_type_error(entity: object) -> None:
    with pytest.raises(TypeError, match="entity must be a str"):
        EntityResolver(spec(alias())).resolve(entity)  # type: ignore[arg-type]


def test_resolve_many_rejects_a_single_string() -> None:
    with pytest.raises(TypeError, match="not a single str"):
        EntityResolver(spec(alias())).resolve_many("orders")


# ---- simulation


def simulation_spec() -> ResolverSpec:
    return spec(
        alias(priority=10),
        alias("legacy", priority=5, active=False, mappings={"tbl_orders": "old_orders"}),
        pattern(),
        transformation(),
    )


def test_simulation_traces_every_entity() -> None:
    results = simulate(simulation_spec(), ["ord", "tbl_orders", "InvoiceLine"])
    assert [(r.input, r.output, r.rule, r.confidence) for r in results] == [
        ("ord", "orders", "aliases", 1.0),
        ("tbl_orders", "orders", "tbl_prefix", 0.9),
        ("InvoiceLine", "invoice_line", "snake", 0.7),
    ]
    assert [[(a.rule, a.matched) for a in r.attempts] for r in results] == [
        [("aliases", True)],
        [("aliases", False), ("legacy", False), ("tbl_prefix", True)],
        [("aliases", False), ("legacy", False), ("tbl_prefix", False), ("snake", True)],
    ]


# ---- properties

EVERY_RULE_TYPE = spec(
    alias(mappings={"ord": "orders", "Straße": "streets"}),
    pattern(pattern=r"(?P<head>\w+)\.(?P<tail>.*)", replacement=r"\g<tail>_\g<head>", priority=1),
    pattern("anywhere", pattern=r"\s+", replacement="_", full_match=False, priority=-1),
    transformation("split", steps=[{"op": "split_join", "separator": "-", "fields": [0, -1]}], priority=2),
    transformation(
        "chain",
        priority=-2,
        steps=[
            {"op": "trim"},
            {"op": "strip_prefix", "value": "stg_"},
            {"op": "replace", "old": "__", "new": "_"},
            {"op": "pascal_case"},
            {"op": "camel_case"},
            {"op": "snake_case"},
            {"op": "upper"},
            {"op": "lower"},
            {"op": "prefix", "value": "p_"},
            {"op": "suffix", "value": "_s"},
            {"op": "strip_suffix", "value": "_s"},
        ],
    ),
)

ASCII_WORD = st.from_regex(r"[a-z][a-z0-9]{1,6}", fullmatch=True)


@given(st.text())
def test_snake_case_is_idempotent(value: str) -> None:
    once = snake_case(value)
    assert snake_case(once) == once


@given(st.text())
def test_snake_case_output_has_no_separators_at_the_ends(value: str) -> None:
    result = snake_case(value)
    assert "__" not in result
    assert not result.startswith("_")
    assert not result.endswith("_")


@given(st.lists(ASCII_WORD, min_size=1, max_size=5))
def test_pascal_and_camel_case_invert_snake_case(words: list[str]) -> None:
    snake = "_".join(words)
    assert snake_case(pascal_case(snake)) == snake
    assert snake_case(camel_case(snake)) == snake


@given(st.text())
def test_resolution_never_raises_on_arbitrary_text(value: str) -> None:
    result = EntityResolver(EVERY_RULE_TYPE).resolve(value)
    assert result.input == value
    assert isinstance(result.output, str)
    assert 0.0 <= result.confidence <= 1.0
    assert result.attempts[-1].matched == (result.rule is not None)
    if result.rule is None:
        assert (result.output, result.confidence) == (value, 0.0)


@given(st.text(string.ascii_letters + string.digits + "_", min_size=1), st.data())
def test_alias_lookup_is_case_insensitive(key: str, data: st.DataObject) -> None:
    respelled = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in key)
    assert resolve(respelled, alias(mappings={key: "canonical"})).output == "canonical"
