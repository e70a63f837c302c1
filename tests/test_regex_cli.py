"""`ops-pipeline resolver simulate` with a catastrophic pattern answers at once (RE2, linear time)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ops_pipeline.cli import main
from tests.dagster.helpers import write_config

ALTERNATION_RESOLVER = {
    "name": "hostile",
    "rules": [{"type": "pattern", "name": "as", "pattern": "^(a|aa)+$", "replacement": "A"}],
}


def test_resolver_simulate_with_a_catastrophic_alternation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "ops.yaml", {}, resolvers=[ALTERNATION_RESOLVER])
    start = time.perf_counter()
    code = main(["--config", str(config), "resolver", "simulate", "hostile", "a" * 40 + "b", "aaaa"])
    took = time.perf_counter() - start
    out = capsys.readouterr().out
    assert code == 0
    assert took < 2.0  # the backtracking engine took 25 s on this input
    assert "| aaaa | A | as |" in out
    assert f"| {'a' * 40}b | {'a' * 40}b |" in out


def test_a_lookaround_include_is_refused_by_config_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = {"type": "sqlite", "path": "w.db", "include": {"tables": ["^(?!tmp_)"]}}
    config = write_config(tmp_path / "ops.yaml", {"w": source})
    assert main(["--config", str(config), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert f"{config}: sources.w.include.tables: invalid regular expression" in err
    assert "lookaround is not supported" in err
