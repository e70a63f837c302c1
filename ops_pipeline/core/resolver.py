r"""Entity resolvers: map raw entity names (tables, topics, fields) to canonical ones with prioritised rules.

A resolver (`ResolverSpec`) holds rules of three types, told apart by `type`:

* `alias` - direct replacements from a mapping of alias -> canonical name;
* `pattern` - a regular expression and a `re` replacement template (`\1`, `\g<name>`);
* `transformation` - a chain of value transformations (`snake_case`, `strip_prefix`, `split_join`, ...).

Resolution semantics
--------------------
Rules are tried by priority, highest first; equal priorities keep their declaration order. The first rule
that matches decides the output, and the resolution's confidence is that rule's `confidence` (defaults:
alias 1.0, pattern 0.9, transformation 0.7).

* An alias rule matches when the input is one of its keys, compared case-insensitively (casefolded)
  unless `case_sensitive` is set.
* A pattern rule matches when its regex matches the whole input (`full_match`, the default; the output is
  the expanded replacement) or, with `full_match: false`, anywhere in it (every occurrence is replaced).
* A transformation rule matches when its optional `match` regex is found in the input (`re.search`) and
  every step applies; only `split_join` can fail to apply, when a requested field does not exist.

Inactive rules never decide: they appear in the trace, in priority order, as not matched with the reason
"inactive". When no rule matches, the output is the input unchanged, with no rule and confidence 0.0.
`Resolution.attempts` lists the rules in the order they were tried, up to and including the deciding one.

Case conversions split words at non-alphanumeric characters and at case changes, so `InvoiceLine`,
`invoiceLine`, `Invoice Line`, `INVOICE_LINE` and `invoice-line` all become `invoice_line`, and
`HTTPServerLog` becomes `http_server_log`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby, pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AffixStep",
    "AliasRule",
    "CaseStep",
    "EntityResolver",
    "PatternRule",
    "ReplaceStep",
    "Resolution",
    "ResolverSpec",
    "Rule",
    "RuleAttempt",
    "SplitJoinStep",
    "Step",
    "StepDidNotApply",
    "TransformationRule",
    "camel_case",
    "pascal_case",
    "simulate",
    "snake_case",
    "split_words",
]


class StepDidNotApply(Exception):
    """A transformation step cannot produce a value for this input; the rule does not match."""


# ---- words


def _is_word_char(char: str) -> bool:
    # Combining marks count as letters so that lowercasing "İ" (which adds U+0307) cannot split a word.
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _is_upper(char: str) -> bool:
    # "Changes when lowercased" rather than isupper(), so title-case letters count and lowercased output
    # never contains a word boundary again (which keeps snake_case idempotent).
    return char.lower() != char


def _starts_word(segment: str, index: int) -> bool:
    if not _is_upper(segment[index]):
        return False
    if not _is_upper(segment[index - 1]):
        return True  # invoiceLine, v2Log
    following = segment[index + 1 : index + 2]
    return following.isalpha() and not _is_upper(following)  # the S in HTTPServer


def _split_camel(segment: str) -> list[str]:
    starts = [i for i in range(1, len(segment)) if _starts_word(segment, i)]
    bounds = [0, *starts, len(segment)]
    return [segment[start:end] for start, end in pairwise(bounds)]


def split_words(value: str) -> list[str]:
    """The words of `value`: runs of letters and digits, further split where the case changes."""
    words: list[str] = []
    for is_word, chars in groupby(value, key=_is_word_char):
        if is_word:
            words.extend(_split_camel("".join(chars)))
    return words


def snake_case(value: str) -> str:
    return "_".join(word.lower() for word in split_words(value))


def _capitalized(word: str) -> str:
    lowered = word.lower()
    return lowered[:1].upper() + lowered[1:]


def pascal_case(value: str) -> str:
    return "".join(_capitalized(word) for word in split_words(value))


def camel_case(value: str) -> str:
    words = split_words(value)
    if not words:
        return ""
    return words[0].lower() + "".join(_capitalized(word) for word in words[1:])


# ---- config


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
    return pattern


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
    mappings: dict[str, str] = Field(min_length=1, description="alias -> canonical name")
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
    replacement: str = Field(description=r"re replacement template: \1, \g<1>, \g<name>")
    full_match: bool = True

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, pattern: str) -> str:
        return _check_regex(pattern)

    @model_validator(mode="after")
    def _replacement_fits_pattern(self) -> PatternRule:
        try:
            # sub() compiles the template, checking its group references, even when nothing matches.
            re.compile(self.pattern).sub(self.replacement, "")
        except (re.error, IndexError) as error:
            raise ValueError(
                f"replacement {self.replacement!r} does not fit pattern {self.pattern!r}: {error}"
            ) from None
        return self


class TransformationRule(_RuleBase):
    type: Literal["transformation"] = "transformation"
    confidence: Confidence = 0.7
    steps: list[Step] = Field(min_length=1)
    match: str | None = Field(default=None, description="regex (re.search) an input must contain")

    @field_validator("match")
    @classmethod
    def _check_match(cls, pattern: str | None) -> str | None:
        return None if pattern is None else _check_regex(pattern)


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


# ---- resolution


@dataclass(frozen=True)
class RuleAttempt:
    rule: str
    rule_type: str
    priority: int
    matched: bool
    output: str | None
    reason: str


@dataclass(frozen=True)
class Resolution:
    input: str
    output: str
    rule: str | None
    rule_type: str | None
    confidence: float
    attempts: tuple[RuleAttempt, ...]


INACTIVE = "inactive"


class _Matcher:
    """One rule, with its regexes compiled; `_apply` returns (output or None when unmatched, reason)."""

    def __init__(self, rule: AliasRule | PatternRule | TransformationRule) -> None:
        self.rule = rule

    def attempt(self, entity: str) -> RuleAttempt:
        if not self.rule.active:
            output, reason = None, INACTIVE
        else:
            output, reason = self._apply(entity)
        rule = self.rule
        return RuleAttempt(rule.name, rule.type, rule.priority, output is not None, output, reason)

    def _apply(self, entity: str) -> tuple[str | None, str]:
        raise NotImplementedError


class _AliasMatcher(_Matcher):
    def __init__(self, rule: AliasRule) -> None:
        super().__init__(rule)
        self._case_sensitive = rule.case_sensitive
        self._lookup = {self._key(alias): canonical for alias, canonical in rule.mappings.items()}

    def _key(self, entity: str) -> str:
        return entity if self._case_sensitive else entity.casefold()

    def _apply(self, entity: str) -> tuple[str | None, str]:
        canonical = self._lookup.get(self._key(entity))
        if canonical is None:
            return None, f"no alias for {entity!r}"
        return canonical, f"alias {entity!r} -> {canonical!r}"


class _PatternMatcher(_Matcher):
    def __init__(self, rule: PatternRule) -> None:
        super().__init__(rule)
        self._regex = re.compile(rule.pattern)
        self._replacement = rule.replacement
        self._full_match = rule.full_match

    def _apply(self, entity: str) -> tuple[str | None, str]:
        shown = self._regex.pattern
        if self._full_match:
            match = self._regex.fullmatch(entity)
            output = match.expand(self._replacement) if match else None
        else:
            output, count = self._regex.subn(self._replacement, entity)
            output = output if count else None
        if output is None:
            return None, f"pattern {shown!r} did not match"
        return output, f"pattern {shown!r} matched"


class _TransformationMatcher(_Matcher):
    def __init__(self, rule: TransformationRule) -> None:
        super().__init__(rule)
        self._gate = re.compile(rule.match) if rule.match is not None else None
        self._steps = rule.steps

    def _apply(self, entity: str) -> tuple[str | None, str]:
        if self._gate is not None and not self._gate.search(entity):
            return None, f"match {self._gate.pattern!r} not found"
        value = entity
        try:
            for step in self._steps:
                value = step.apply(value)
        except StepDidNotApply as failure:
            return None, str(failure)
        return value, f"applied {', '.join(step.op for step in self._steps)}"


def _matcher_for(rule: AliasRule | PatternRule | TransformationRule) -> _Matcher:
    if isinstance(rule, AliasRule):
        return _AliasMatcher(rule)
    if isinstance(rule, PatternRule):
        return _PatternMatcher(rule)
    return _TransformationMatcher(rule)


def _require_str(entity: object) -> str:
    if not isinstance(entity, str):
        raise TypeError(f"entity must be a str, not {type(entity).__name__} ({entity!r})")
    return entity


class EntityResolver:
    """Resolves entities with the rules of one `ResolverSpec`; see the module docstring for the semantics."""

    def __init__(self, spec: ResolverSpec) -> None:
        self.spec = spec
        # sorted() is stable, so rules of equal priority keep their declaration order.
        by_priority = sorted(spec.rules, key=lambda rule: -rule.priority)
        self._matchers = tuple(_matcher_for(rule) for rule in by_priority)

    def resolve(self, entity: str) -> Resolution:
        entity = _require_str(entity)
        attempts: list[RuleAttempt] = []
        for matcher in self._matchers:
            attempt = matcher.attempt(entity)
            attempts.append(attempt)
            if attempt.output is not None:
                return Resolution(
                    entity,
                    attempt.output,
                    attempt.rule,
                    attempt.rule_type,
                    matcher.rule.confidence,
                    tuple(attempts),
                )
        return Resolution(entity, entity, None, None, 0.0, tuple(attempts))

    def resolve_many(self, entities: Iterable[str]) -> list[Resolution]:
        if isinstance(entities, str):
            raise TypeError("resolve_many() takes an iterable of entities, not a single str; use resolve()")
        return [self.resolve(entity) for entity in entities]


# ---- simulation


def simulate(spec: ResolverSpec, entities: Sequence[str]) -> list[Resolution]:
    """Resolve `entities` with `spec`, keeping the full trace of every resolution."""
    return EntityResolver(spec).resolve_many(entities)
