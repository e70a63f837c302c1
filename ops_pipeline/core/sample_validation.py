"""Validation of a sample of rows before a partition is loaded: rule by rule pass rates and one score.

The score is the mean of the rules' pass rates (1.0 with no rules); a partition loads only when it reaches the
configured threshold. Each rule that did not fully pass gets a sentence saying what was wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ops_pipeline.core.user_regex import check_user_regex, compile_user_regex


class ValidationRule(BaseModel):
    """One rule of a backfill's `validation.rules` in ops.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["not_null", "range", "regex", "unique", "allowed_values", "referential"]
    column: str = Field(min_length=1)
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)
    pattern: str | None = None
    values: list[str | int | float | bool] | None = None
    table: str | None = Field(default=None, description="referential: the table in the source that must hold it")
    target_column: str | None = None

    @model_validator(mode="after")
    def _arguments(self) -> ValidationRule:
        needs = {
            "range": ("min", "max"),
            "regex": ("pattern",),
            "allowed_values": ("values",),
            "referential": ("table", "target_column"),
        }.get(self.rule, ())
        if self.rule == "range" and self.min is None and self.max is None:
            raise ValueError("range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"range min ({self.min:g}) is above max ({self.max:g})")
        missing = [n for n in needs if self.rule != "range" and getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.rule} needs {', '.join(missing)}")
        if self.pattern is not None:
            check_user_regex(self.pattern)
        return self


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    column: str
    checked: int
    failed: int
    reason: str | None

    @property
    def pass_rate(self) -> float:
        return 1.0 if self.checked == 0 else 1.0 - self.failed / self.checked


@dataclass(frozen=True)
class SampleVerdict:
    sampled: int
    score: float
    threshold: float
    outcomes: tuple[RuleOutcome, ...]

    @property
    def passed(self) -> bool:
        return self.score >= self.threshold

    @property
    def reasons(self) -> list[str]:
        return [o.reason for o in self.outcomes if o.reason]


def validate_sample(
    rows: Sequence[Mapping[str, Any]],
    rules: Sequence[ValidationRule],
    threshold: float,
    found_references: Mapping[int, set[Any]] | None = None,
) -> SampleVerdict:
    """Check `rules` against sampled rows; `found_references[i]` holds the values rule i found in its target."""
    outcomes = tuple(_evaluate(i, rule, rows, (found_references or {}).get(i, set())) for i, rule in enumerate(rules))
    score = sum(o.pass_rate for o in outcomes) / len(outcomes) if outcomes else 1.0
    return SampleVerdict(len(rows), round(score, 6), threshold, outcomes)


def referenced_values(rows: Sequence[Mapping[str, Any]], rule: ValidationRule) -> set[Any]:
    """The distinct non-null values a referential rule must find in its target table."""
    return {row[rule.column] for row in rows if row.get(rule.column) is not None}


def _evaluate(index: int, rule: ValidationRule, rows: Sequence[Mapping[str, Any]], found: set[Any]) -> RuleOutcome:
    if rows and rule.column not in rows[0]:
        return RuleOutcome(rule.rule, rule.column, len(rows), len(rows), f"{rule.rule}({rule.column}): no such column")
    values = [row[rule.column] for row in rows]
    failed, checked = _failures(rule, values, found)
    label = f"{rule.rule}({rule.column})"
    reason = f"{label}: {failed} of {checked} sampled values fail ({_describe(rule)})" if failed else None
    return RuleOutcome(rule.rule, rule.column, checked, failed, reason)


def _failures(rule: ValidationRule, values: list[Any], found: set[Any]) -> tuple[int, int]:
    present = [v for v in values if v is not None]
    if rule.rule == "not_null":
        return len(values) - len(present), len(values)
    if rule.rule == "range":
        return sum(not _in_range(v, rule.min, rule.max) for v in present), len(present)
    if rule.rule == "regex":
        pattern = compile_user_regex(rule.pattern or "")
        return sum(not pattern.fullmatch(str(v)) for v in present), len(present)
    if rule.rule == "allowed_values":
        allowed = {str(v) for v in rule.values or []}
        return sum(str(v) not in allowed for v in present), len(present)
    if rule.rule == "unique":
        counts = Counter(present)
        return sum(n for n in counts.values() if n > 1), len(present)
    return sum(v not in found for v in present), len(present)  # referential


def _in_range(value: Any, low: float | None, high: float | None) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return (low is None or number >= low) and (high is None or number <= high)


def _describe(rule: ValidationRule) -> str:
    return {
        "not_null": "null",
        "range": f"outside [{rule.min if rule.min is not None else '-inf'}, "
        f"{rule.max if rule.max is not None else 'inf'}]",
        "regex": f"do not match {rule.pattern!r}",
        "allowed_values": f"not one of {rule.values}",
        "unique": "duplicated",
        "referential": f"missing from {rule.table}.{rule.target_column}",
    }[rule.rule]
