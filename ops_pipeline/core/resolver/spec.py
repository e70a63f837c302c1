"""A resolver's configuration: rules (alias, pattern, transformation) and transformation steps, validated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ops_pipeline.core.resolver.words import camel_case, pascal_case, snake_case
from ops_pipeline.core.user_regex import ReplacementTemplate, UserRegexError, check_user_regex, compile_user_regex


class StepDidNotApply(Exception):
    """A transformation step cannot produce a value for this input; the rule does not match."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_SIMPLE_OPS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "trim": str.strip,
    "snake_case": snake_case,
    "camel_case": camel_case,
    "pascal_case": pascal_case,
}


class CaseStep(_Model):
    """A step without parameters: lower, upper, trim, snake_case, camel_case or pascal_case."""

    op: Literal["lower", "upper", "trim", "snake_case", "camel_case", "pascal_case"]

    def apply(self, value: str) -> str:
        return _SIMPLE_OPS[self.op](value)


class ReplaceStep(_Model):
    op: Literal["replace"] = "replace"
    old: str = Field(min_length=1)
    new: str

    def apply(self, value: str) -> str:
        return value.replace(self.old, self.new)


class AffixStep(_Model):
    """prefix/suffix add `value` unless already present; strip_prefix/strip_suffix remove it if present."""

    op: Literal["prefix", "suffix", "strip_prefix", "strip_suffix"]
    value: str = Field(min_length=1)

    def apply(self, value: str) -> str:
        if self.op == "prefix":
            return value if value.startswith(self.value) else self.value + value
        if self.op == "suffix":
            return value if value.endswith(self.value) else value + self.value
        if self.op == "strip_prefix":
            return value.removeprefix(self.value)
        return value.removesuffix(self.value)


class SplitJoinStep(_Model):
    """Split on `separator`, keep the parts at `fields` (all when omitted; negative counts from the end)."""

    op: Literal["split_join"] = "split_join"
    separator: str = Field(min_length=1)
    fields: list[int] | None = Field(default=None, min_length=1)
    join: str = "_"

    def apply(self, value: str) -> str:
        parts = value.split(self.separator)
        if self.fields is None:
            return self.join.join(parts)
        missing = [i for i in self.fields if not -len(parts) <= i < len(parts)]
        if missing:
            raise StepDidNotApply(
                f"split_join: no field {missing[0]} in {len(parts)} part(s) split on {self.separator!r}"
            )
        return self.join.join(parts[i] for i in self.fields)


Step = Annotated[CaseStep | ReplaceStep | AffixStep | SplitJoinStep, Field(discriminator="op")]

Confidence = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class _RuleBase(_Model):
    name: str = Field(min_length=1)
    priority: int = 0
    active: bool = True
    confidence: Confidence = 1.0

    @field_validator("confidence", mode="before")
    @classmethod
    def _type_default_when_null(cls, value: object) -> object:
        return cls.model_fields["confidence"].default if value is None else value


class AliasRule(_RuleBase):
    type: Literal["alias"] = "alias"
    confidence: Confidence = 1.0
    mappings: dict[str, Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="alias -> canonical name (never empty)"
    )
    case_sensitive: bool = False

    @model_validator(mode="after")
    def _no_case_clashes(self) -> AliasRule:
        if self.case_sensitive:
            return self
        seen: dict[str, str] = {}
        for alias, canonical in self.mappings.items():
            other = seen.setdefault(alias.casefold(), alias)
            if self.mappings[other] != canonical:
                raise ValueError(
                    f"aliases {other!r} and {alias!r} differ only in case but map to "
                    f"{self.mappings[other]!r} and {canonical!r}; set case_sensitive: true"
                )
        return self


class PatternRule(_RuleBase):
    type: Literal["pattern"] = "pattern"
    confidence: Confidence = 0.9
    pattern: str
    replacement: str = Field(description=r"replacement template: \1, \g<1>, \g<name>")
    full_match: bool = True

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, pattern: str) -> str:
        return check_user_regex(pattern)

    @model_validator(mode="after")
    def _replacement_fits_pattern(self) -> PatternRule:
        try:
            self.template()
        except UserRegexError as error:
            raise ValueError(
                f"replacement {self.replacement!r} does not fit pattern {self.pattern!r}: {error}"
            ) from None
        return self

    def template(self) -> ReplacementTemplate:
        return ReplacementTemplate.parse(self.replacement, compile_user_regex(self.pattern))


class TransformationRule(_RuleBase):
    type: Literal["transformation"] = "transformation"
    confidence: Confidence = 0.7
    steps: list[Step] = Field(min_length=1)
    match: str | None = Field(default=None, description="regex (RE2, searched for) an input must contain")

    @field_validator("match")
    @classmethod
    def _check_match(cls, pattern: str | None) -> str | None:
        return None if pattern is None else check_user_regex(pattern)


Rule = Annotated[AliasRule | PatternRule | TransformationRule, Field(discriminator="type")]


class ResolverSpec(_Model):
    name: str = Field(min_length=1)
    description: str = ""
    rules: list[Rule] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_rule_names(cls, rules: list[Rule]) -> list[Rule]:
        names = [rule.name for rule in rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(repeated)}")
        return rules
