"""The Prometheus instant-vector selector parser and matcher."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ops_pipeline.core.metric_selector import (
    LabelMatcher,
    Selector,
    SelectorError,
    parse_selector,
    quote_label_value,
)

LABELS = {"job": "api", "code": "500", "path": "/v1/orders"}


def test_a_bare_metric_name() -> None:
    selector = parse_selector("http_requests_total")
    assert selector == Selector("http_requests_total", ())
    assert selector.matches("http_requests_total", LABELS)
    assert not selector.matches("http_requests", LABELS)


def test_all_four_operators() -> None:
    selector = parse_selector('http{job="api", code!="200", path=~"/v1/.*", le!~"0\\\\.5"}')
    assert [(m.name, m.op, m.value) for m in selector.matchers] == [
        ("job", "=", "api"),
        ("code", "!=", "200"),
        ("path", "=~", "/v1/.*"),
        ("le", "!~", "0\\.5"),
    ]
    assert selector.matches("http", LABELS)
    assert not selector.matches("http", {**LABELS, "code": "200"})
    assert not selector.matches("http", {**LABELS, "path": "/v2/orders"})
    assert not selector.matches("http", {**LABELS, "le": "0.5"})
    assert selector.matches("http", {**LABELS, "le": "0x5"})


def test_regexes_are_fully_anchored() -> None:
    selector = parse_selector('m{path=~"/v1"}')
    assert selector.matches("m", {"path": "/v1"})
    assert not selector.matches("m", {"path": "/v1/orders"})
    assert not selector.matches("m", {"path": "x/v1"})
    alternation = parse_selector('m{code=~"2..|404"}')
    assert alternation.matches("m", {"code": "404"}) and alternation.matches("m", {"code": "201"})
    assert not alternation.matches("m", {"code": "4040"}) and not alternation.matches("m", {"code": "1201"})


def test_dot_matches_a_newline_as_in_prometheus() -> None:
    assert parse_selector('m{msg=~"a.b"}').matches("m", {"msg": "a\nb"})


def test_a_missing_label_is_the_empty_string() -> None:
    assert parse_selector('m{env=""}').matches("m", {})
    assert parse_selector('m{env!="prod"}').matches("m", {})
    assert not parse_selector('m{env=~".+"}').matches("m", {})
    assert parse_selector('m{env!~".+"}').matches("m", {})


def test_name_in_braces_is_the_metric_name() -> None:
    assert parse_selector('{__name__="up"}') == parse_selector("up")
    assert parse_selector('{__name__="up", job="a"}') == parse_selector('up{job="a"}')
    by_regex = parse_selector('{__name__=~"http_.*"}')
    assert by_regex.metric is None
    assert by_regex.matches("http_requests", {}) and not by_regex.matches("up", {})


def test_whitespace_trailing_comma_and_all_three_quote_styles() -> None:
    selector = parse_selector(" m { a = \"x\" , b='y' ,\n c=`z\\d` , } ")
    assert selector == Selector(
        "m", (LabelMatcher("a", "=", "x"), LabelMatcher("b", "=", "y"), LabelMatcher("c", "=", "z\\d"))
    )


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"say \"hi\""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r'"back\\slash"', "back\\slash"),
        (r'"tab\tnew\nline"', "tab\tnew\nline"),
        (r'"\x41\101\u00e9\U0001F600"', "AAé\U0001f600"),
        (r'"\a\b\f\r\v"', "\a\b\f\r\v"),
        ("`raw \\n stays`", "raw \\n stays"),
        ('"é 中文"', "é 中文"),
    ],
)
def test_escapes_in_label_values(literal: str, value: str) -> None:
    assert parse_selector(f"m{{l={literal}}}").matchers[0].value == value


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 0, "empty selector"),
        ("   ", 3, "empty selector"),
        ("1abc", 0, "expected a metric name"),
        ("m{", 2, "missing '}'"),
        ('m{a="x"', 7, "missing '}'"),
        ("m{a=}", 4, "expected a quoted label value"),
        ("m{a}", 3, "expected one of"),
        ('m{a=="x"}', 4, "expected a quoted label value"),
        ('m{a="x" b="y"}', 8, "expected ',' or '}'"),
        ('m{1a="x"}', 2, "expected a label name"),
        ('m{a="x}', 4, "unterminated quoted string"),
        ('m{a="x\ny"}', 4, "unterminated quoted string"),
        ("m{a=`x}", 4, "unterminated raw string"),
        (r'm{a="\q"}', 5, "unknown escape sequence"),
        (r"m{a='\"'}", 5, "unknown escape sequence"),
        (r'm{a="\x4"}', 5, "invalid \\x escape"),
        (r'm{a="\400"}', 5, "invalid octal escape"),
        (r'm{a="\ud800"}', 5, "not a valid Unicode code point"),
        (r'm{a="\xff"}', 4, "not valid UTF-8"),
        ('m{a=~"("}', 5, "invalid regular expression"),
        ('m{a=~"a)|(b"}', 5, "invalid regular expression"),
        ("m[5m]", 1, "range selectors are not supported"),
        ("rate(m[5m])", 4, "functions are not supported"),
        ('m{a="x"} offset 5m', 9, "unexpected character"),
        ("{}", 0, "at least one non-empty matcher"),
        ('{a=""}', 0, "at least one non-empty matcher"),
        ('{a=~".*"}', 0, "at least one non-empty matcher"),
        ('{__name__=""}', 0, "at least one non-empty matcher"),
        ('m{__name__="x"}', 1, "metric name must not be set twice"),
    ],
)
def test_malformed_selectors_name_the_position(text: str, position: int, reason: str) -> None:
    with pytest.raises(SelectorError) as caught:
        parse_selector(text)
    assert caught.value.position == position, str(caught.value)
    assert reason in str(caught.value)
    assert f"at position {position}" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_matcher_built_directly_checks_its_parts() -> None:
    with pytest.raises(ValueError, match="invalid label name"):
        LabelMatcher("1a", "=", "x")
    with pytest.raises(ValueError, match="operator"):
        LabelMatcher("a", "==", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid regular expression"):
        LabelMatcher("a", "=~", "(")
    assert LabelMatcher("a", "=~", "x|y").matches("y")


# -- properties ------------------------------------------------------------------------------------------------

label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True).filter(lambda name: name != "__name__")
metric_names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True)
any_text = st.text(st.characters(codec="utf-8"), max_size=16)
regexes = st.sampled_from([".*", ".+", "a|b", "[0-9]+", "x.y", "(?:ab)*", "\\d{2,3}", '"q"', "\\\\"])
matchers = st.one_of(
    st.builds(LabelMatcher, label_names, st.sampled_from(["=", "!="]), any_text),
    st.builds(LabelMatcher, label_names, st.sampled_from(["=~", "!~"]), regexes),
)


@given(metric_names, st.lists(matchers, min_size=0, max_size=5))
def test_str_round_trips(metric: str, label_matchers: list[LabelMatcher]) -> None:
    selector = Selector(metric, tuple(label_matchers))
    assert parse_selector(str(selector)) == selector


@given(any_text.filter(bool), st.lists(matchers, max_size=2))
def test_any_metric_name_round_trips_through_name_matcher(metric: str, label_matchers: list[LabelMatcher]) -> None:
    selector = Selector(metric, tuple(label_matchers))
    assert parse_selector(str(selector)) == selector
    assert parse_selector(str(selector)).matches(metric, {}) == selector.matches(metric, {})


@given(any_text)
@example('"')
@example("\\")
@example("\n")
@example("\\\"'`")
@example("\ufffd\x00\x7f")
def test_any_label_value_survives_quoting(value: str) -> None:
    selector = parse_selector(f"m{{label={quote_label_value(value)}}}")
    assert selector.matchers[0].value == value
    assert selector.matches("m", {"label": value})


@given(any_text)
def test_raw_strings_keep_backslashes(value: str) -> None:
    value = value.replace("`", "")
    assert parse_selector(f"m{{label=`{value}`}}").matchers[0].value == value


@given(metric_names, st.dictionaries(label_names, any_text, max_size=4))
def test_equality_matchers_built_from_a_series_select_it(metric: str, labels: dict[str, str]) -> None:
    body = ",".join(f"{name}={quote_label_value(value)}" for name, value in labels.items())
    selector = parse_selector(f"{metric}{{{body}}}" if body else metric)
    assert selector.matches(metric, labels)


def _parses_and_round_trips_or_fails_at_a_position(text: str) -> None:
    try:
        selector = parse_selector(text)
    except SelectorError as error:
        assert 0 <= error.position <= len(text)
    else:
        assert parse_selector(str(selector)) == selector


@given(st.text(max_size=40))
def test_arbitrary_input_parses_or_raises_selector_error(text: str) -> None:
    _parses_and_round_trips_or_fails_at_a_position(text)


@given(st.text(alphabet='m{}a=!~"\\`, ._x*', max_size=24))
def test_selector_shaped_noise_parses_or_raises_selector_error(text: str) -> None:
    _parses_and_round_trips_or_fails_at_a_position(text)
