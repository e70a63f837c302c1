"""Include/exclude filters: include-first, searched for (RE2), an exclude always wins."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.filters import NameFilter, ScanFilter
from ops_pipeline.core.user_regex import UserRegexError
from ops_pipeline.settings import parse_settings

names = st.text(alphabet="abcxyz_01.", max_size=12)
# Literal fragments, escaped, so every generated pattern compiles and matching stays easy to reason about.
patterns = st.lists(st.text(alphabet="abcxyz_01.", min_size=1, max_size=3).map(re.escape), max_size=4)


def test_no_patterns_keep_everything() -> None:
    keep = NameFilter().keeps
    assert keep("orders") and keep("") and keep("sqlite_stat1")
    assert ScanFilter().keeps("public", "orders")


def test_include_keeps_only_matches() -> None:
    keep = NameFilter.from_patterns(include=["^orders$", "^inv"]).keeps
    assert keep("orders") and keep("invoices") and keep("inventory")
    assert not keep("orders_archive")
    assert not keep("customers")


def test_patterns_use_search_not_match() -> None:
    keep = NameFilter.from_patterns(include=["order"]).keeps
    assert keep("order_items") and keep("sales_orders") and keep("preorder")
    assert not NameFilter.from_patterns(include=["^order$"]).keeps("order_items")


def test_exclude_wins_over_include() -> None:
    keep = NameFilter.from_patterns(include=["^orders"], exclude=["_archive$"]).keeps
    assert keep("orders") and keep("orders_2024")
    assert not keep("orders_archive")
    assert not keep("customers")  # not included in the first place


def test_exclude_only_keeps_the_rest() -> None:
    keep = NameFilter.from_patterns(exclude=["^sqlite_", "^tmp"]).keeps
    assert keep("orders")
    assert not keep("sqlite_stat1") and not keep("tmp_load")


def test_scan_filter_needs_both_schema_and_table_kept() -> None:
    scan = ScanFilter(
        schemas=NameFilter.from_patterns(include=["^(public|sales)$"]),
        tables=NameFilter.from_patterns(exclude=["^_"]),
    )
    assert scan.keeps("public", "orders")
    assert scan.keeps("sales", "invoices")
    assert not scan.keeps("staging", "orders")
    assert not scan.keeps("public", "_migrations")


def test_patterns_are_case_sensitive_unless_flagged() -> None:
    assert not NameFilter.from_patterns(include=["^orders$"]).keeps("Orders")
    assert NameFilter.from_patterns(include=["(?i)^orders$"]).keeps("Orders")


def test_source_scan_filter_is_built_from_include_and_exclude() -> None:
    settings = parse_settings(
        {
            "sources": {
                "wh": {
                    "type": "postgresql",
                    "database": "shop",
                    "include": {"schemas": ["^public$"], "tables": ["^ord"]},
                    "exclude": {"tables": ["_old$"]},
                }
            }
        },
        "ops.yaml",
    )
    scan = settings.source("wh").scan_filter
    assert scan.keeps("public", "orders")
    assert not scan.keeps("public", "orders_old")
    assert not scan.keeps("public", "customers")
    assert not scan.keeps("audit", "orders")


@pytest.mark.parametrize("bad", ["(", "[a-", "*orders", "(?<=tbl_)x"])
def test_bad_patterns_fail_to_compile(bad: str) -> None:
    with pytest.raises(UserRegexError):
        NameFilter.from_patterns(include=[bad])


# ---- properties


@given(names)
def test_property_no_patterns_keep_every_name(name: str) -> None:
    assert NameFilter.from_patterns().keeps(name)


@given(include=patterns, exclude=patterns, name=names)
def test_property_a_name_matching_an_exclude_is_never_kept(include: list[str], exclude: list[str], name: str) -> None:
    keeps = NameFilter.from_patterns(include, exclude).keeps(name)
    if any(re.search(p, name) for p in exclude):
        assert not keeps


@given(include=patterns, exclude=patterns, name=names)
def test_property_keeps_is_include_first_then_exclude(include: list[str], exclude: list[str], name: str) -> None:
    included = not include or any(re.search(p, name) for p in include)
    excluded = any(re.search(p, name) for p in exclude)
    assert NameFilter.from_patterns(include, exclude).keeps(name) == (included and not excluded)


@given(include=patterns, name=names)
def test_property_without_excludes_an_included_name_is_kept(include: list[str], name: str) -> None:
    if any(re.search(p, name) for p in include):
        assert NameFilter.from_patterns(include).keeps(name)


@given(include=patterns, exclude=patterns, extra=patterns, name=names)
def test_property_more_excludes_never_keep_more(
    include: list[str], exclude: list[str], extra: list[str], name: str
) -> None:
    if NameFilter.from_patterns(include, [*exclude, *extra]).keeps(name):
        assert NameFilter.from_patterns(include, exclude).keeps(name)


@given(include=patterns, extra=patterns, name=names)
def test_property_more_includes_never_keep_less(include: list[str], extra: list[str], name: str) -> None:
    if include and NameFilter.from_patterns(include).keeps(name):
        assert NameFilter.from_patterns([*include, *extra]).keeps(name)


@given(schemas=patterns, tables=patterns, schema=names, table=names)
def test_property_scan_filter_is_the_conjunction(
    schemas: list[str], tables: list[str], schema: str, table: str
) -> None:
    schema_filter = NameFilter.from_patterns(exclude=schemas)
    table_filter = NameFilter.from_patterns(include=tables)
    scan = ScanFilter(schema_filter, table_filter)
    assert scan.keeps(schema, table) == (schema_filter.keeps(schema) and table_filter.keeps(table))
