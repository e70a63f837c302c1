"""The resolver simulation table the UI and the CLI show."""

from __future__ import annotations

from ops_pipeline.core.resolver import simulate
from ops_pipeline.markdown.resolver import simulation_markdown
from tests.core.test_resolver import alias, simulation_spec, spec


def test_simulation_markdown_table() -> None:
    results = simulate(simulation_spec(), ["ord", "tbl_orders", "a|b"])
    assert simulation_markdown(results) == (
        "| input | output | decided by | confidence | rules tried |\n"
        "|---|---|---|---|---|\n"
        "| ord | orders | aliases | 1.00 | aliases ✓ |\n"
        "| tbl_orders | orders | tbl_prefix | 0.90 | aliases ✗, legacy (inactive), tbl_prefix ✓ |\n"
        "| a\\|b | a_b | snake | 0.70 | aliases ✗, legacy (inactive), tbl_prefix ✗, snake ✓ |\n"
    )


def test_simulation_markdown_marks_undecided_rows() -> None:
    results = simulate(spec(alias()), ["customers"])
    assert simulation_markdown(results).splitlines()[-1] == "| customers | customers | — | 0.00 | aliases ✗ |"


def test_simulation_markdown_of_nothing_is_just_the_header() -> None:
    assert simulation_markdown([]).count("\n") == 2
