"""Resolving names: rules tried by priority, the first that matches decides, with the full trace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ops_pipeline.core.resolver.spec import AliasRule, PatternRule, ResolverSpec, StepDidNotApply, TransformationRule
from ops_pipeline.core.user_regex import compile_user_regex


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
        self._regex = compile_user_regex(rule.pattern)
        self._template = rule.template()
        self._full_match = rule.full_match

    def _apply(self, entity: str) -> tuple[str | None, str]:
        shown = self._regex.pattern
        if self._full_match:
            match = self._regex.fullmatch(entity)
            output = self._template.expand(match) if match else None
        else:
            output, count = self._regex.subn(self._template.expand, entity)
            output = output if count else None
        if output is None:
            return None, f"pattern {shown!r} did not match"
        return output, f"pattern {shown!r} matched"


class _TransformationMatcher(_Matcher):
    def __init__(self, rule: TransformationRule) -> None:
        super().__init__(rule)
        self._gate = compile_user_regex(rule.match) if rule.match is not None else None
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


def simulate(spec: ResolverSpec, entities: Sequence[str]) -> list[Resolution]:
    """Resolve `entities` with `spec`, keeping the full trace of every resolution."""
    return EntityResolver(spec).resolve_many(entities)
