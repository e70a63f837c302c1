"""The one markdown table helper."""

from __future__ import annotations

from ops_pipeline.markdown import cell, table


def test_cells_escape_pipes_and_keep_line_breaks_visible() -> None:
    assert cell("a|b") == "a\\|b"
    assert cell("one\ntwo") == "one<br>two"
    assert cell(None) == "—"
    assert cell("  ") == "—"
    assert cell(0) == "0"


def test_a_table_has_a_header_a_rule_and_a_line_per_row() -> None:
    assert table(["a", "b"], [(1, "x"), (2, None)]).splitlines() == ["| a | b |", "|---|---|", "| 1 | x |", "| 2 | — |"]


def test_an_empty_table_reads_as_its_sentence_when_one_is_given() -> None:
    assert table(["a"], [], empty="Nothing yet.") == "Nothing yet."
    assert table(["a"], []) == "| a |\n|---|"


def test_rows_past_the_limit_are_counted_not_shown() -> None:
    lines = table(["n"], [(i,) for i in range(5)], limit=2).splitlines()
    assert lines[2:4] == ["| 0 |", "| 1 |"]
    assert lines[-1] == "… and 3 more"
