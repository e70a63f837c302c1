"""The process's masker: every value `resolve_secret` hands out, and registered patterns, are masked by it."""

import pytest

from ops_pipeline.core.execution.process_secrets import process_masker, register_patterns, register_secret
from ops_pipeline.core.secrets import resolve_secret


def test_every_resolved_secret_is_masked_by_the_process_masker(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PROCESS_SECRET_TEST", "from-the-environment-77")
    path = tmp_path / "secret.txt"
    path.write_text("from-a-file-88\n")
    assert resolve_secret("env:PROCESS_SECRET_TEST") == "from-the-environment-77"
    assert resolve_secret(f"file:{path}") == "from-a-file-88"
    assert process_masker().mask("a from-the-environment-77 b from-a-file-88") == "a *** b ***"


def test_short_values_are_not_registered() -> None:
    register_secret("abc")
    assert process_masker().mask("abc abcd") == "abc abcd"


def test_registered_patterns_are_masked_and_bad_ones_refused() -> None:
    register_patterns(["TICKET-[0-9]{4}"])
    assert process_masker().mask("see TICKET-1234") == "see ***"
    with pytest.raises(ValueError, match=r"masking pattern 0 \('\(open'\)"):
        register_patterns(["(open"])
    assert process_masker().mask("see TICKET-1234 (open") == "see *** (open"
