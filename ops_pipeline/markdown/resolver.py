"""A resolver simulation for people: which rule named each entity (the UI's job and `ops-pipeline resolver
simulate`)."""

from __future__ import annotations

from collections.abc import Sequence

from ops_pipeline.core.resolver import INACTIVE, Resolution, RuleAttempt
from ops_pipeline.markdown.table import table


def _attempt_label(attempt: RuleAttempt) -> str:
    if attempt.reason == INACTIVE and not attempt.matched:
        return f"{attempt.rule} (inactive)"
    return f"{attempt.rule} {'✓' if attempt.matched else '✗'}"


def simulation_markdown(results: Sequence[Resolution]) -> str:
    """input | output | decided by | confidence | rules tried (✓ matched, ✗ did not)."""
    rows = (
        (r.input, r.output, r.rule, f"{r.confidence:.2f}", ", ".join(_attempt_label(a) for a in r.attempts))
        for r in results
    )
    return table(["input", "output", "decided by", "confidence", "rules tried"], rows) + "\n"
