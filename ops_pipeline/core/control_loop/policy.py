"""Control-loop policy: which trigger leads to which action, cooling periods, replan limits and automatic retries.

The policy is data in ops.yaml (under `control_loop:`), validated by these pydantic models, so a bad file stops
loading with the key path and the reason (`plans.archive.cooling_period_s: '5x' is not a duration ...`).

    default:                      # PolicyRules: every field has a built-in default (below)
      cooling_period_s: 10m
    plans:                        # plan or job name -> partial rules merged over `default`
      archive: {max_replans: 1, actions: {step_failure: debug}}
    overrides_by_tag:             # runs with tag == value: partial rules merged last, in list order
      - {tag: ops/tier, value: critical, rules: {actions: {sla_breach: rollback}}}

Built-in defaults, chosen to fail safe: the loop acts on its own only where acting is likely to help and
cheap to undo, and hands everything else to a person.

    automatic retry     transient failures, at most 2 reruns per execution (a blip usually clears);
                        other classes only with `allow_non_transient_retry: true`, since rerunning a
                        permission or validation error repeats the same failure
    step/run failure    transient -> replan (once retries are spent: e.g. retry from the failed step);
                        permanent, timeout, validation -> debug (a person must look; a replan needs a patch
                        the loop cannot invent); permission -> escalate (only a person can grant access);
                        no class -> debug
    execution_timeout   debug (the deadline or the work is wrong, not the luck)
    anomaly_signal      critical -> debug; info and warning -> ignore (signals are frequent; act on the worst)
    schema_drift        breaking -> replan; compatible -> ignore
    sla_breach          escalate (someone is already waiting)
    manual              the trigger's requested_action; debug when none was requested
    cooling_period_s    10 minutes between replans of one subject
    max_replans         3 per replan_window_s of 24 hours, then escalate and stop the loop for the subject

Action keys are a trigger kind, or a kind and its qualifier: `step_failure.<failure class>`,
`run_failure.<failure class>`, `anomaly_signal.<severity>`, `sla_breach.<severity>`, `schema_drift.<drift>`.
`rerun` is not a configurable action: automatic reruns come from `auto_retry_classes` and `max_auto_retries`,
which bound them; an unbounded rerun action would loop forever on a failure that does not clear.

Merging (`rules_for`): each field comes from the most specific scope that sets it, tag overrides in list order
(later wins), then the plan's rules, then `default`. Actions are looked up per scope from the most specific:
in each scope `kind.qualifier` first, then `kind`, so `plans.archive.actions.step_failure: debug` applies to
every step failure of `archive` even though `default` names `step_failure.transient`.
A rules block that lists a failure class other than transient in `auto_retry_classes` must say
`allow_non_transient_retry: true` itself; and at decision time such a class is retried only while the merged
rules still allow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ops_pipeline.core.control_loop.vocabulary import (
    ACTION_ALIASES,
    ACTIONS,
    DRIFT_ALIASES,
    FAILURE_CLASS_ALIASES,
    FAILURE_CLASSES,
    KIND_ALIASES,
    QUALIFIERS,
    SEVERITY_ALIASES,
    TRIGGER_KINDS,
    FailureClass,
    TriggerKind,
    normalize_word,
    shown,
)
from ops_pipeline.core.durations import parse_duration

__all__ = [
    "CONFIGURED_ACTIONS",
    "DEFAULT_ACTIONS",
    "ActionLayer",
    "ConfiguredAction",
    "ControlLoopPolicy",
    "EffectiveRules",
    "PolicyOverride",
    "PolicyRules",
    "TagOverride",
    "parse_policy",
    "rules_for",
]

ConfiguredAction = Literal["replan", "debug", "skip", "rollback", "escalate", "ignore"]
CONFIGURED_ACTIONS: tuple[ConfiguredAction, ...] = get_args(ConfiguredAction)

DEFAULT_ACTIONS: dict[str, ConfiguredAction] = {
    "step_failure.transient": "replan",
    "step_failure.permanent": "debug",
    "step_failure.timeout": "debug",
    "step_failure.permission": "escalate",
    "step_failure.validation": "debug",
    "step_failure": "debug",
    "run_failure.transient": "replan",
    "run_failure.permanent": "debug",
    "run_failure.timeout": "debug",
    "run_failure.permission": "escalate",
    "run_failure.validation": "debug",
    "run_failure": "debug",
    "execution_timeout": "debug",
    "anomaly_signal.critical": "debug",
    "anomaly_signal": "ignore",
    "schema_drift.breaking": "replan",
    "schema_drift.compatible": "ignore",
    "schema_drift": "ignore",
    "sla_breach": "escalate",
    "manual": "debug",
}
DEFAULT_COOLING_PERIOD_S = 600
DEFAULT_MAX_REPLANS = 3
DEFAULT_REPLAN_WINDOW_S = 86400
DEFAULT_MAX_AUTO_RETRIES = 2


_QUALIFIER_ALIASES: dict[str, Mapping[str, str]] = {
    "anomaly_signal": SEVERITY_ALIASES,
    "sla_breach": SEVERITY_ALIASES,
    "schema_drift": DRIFT_ALIASES,
}


def _action_key(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"an action key must be text, not {shown(value)}")
    kind_text, has_qualifier, qualifier_text = value.partition(".")
    try:
        kind: TriggerKind = normalize_word(kind_text, TRIGGER_KINDS, KIND_ALIASES)
    except ValueError as error:
        raise ValueError(f"unknown trigger kind: {error}") from None
    if not has_qualifier:
        return kind
    allowed = QUALIFIERS.get(kind)
    if allowed is None:
        raise ValueError(f"{kind} takes no qualifier; write just {kind}")
    qualifier = normalize_word(qualifier_text, allowed, _QUALIFIER_ALIASES.get(kind, FAILURE_CLASS_ALIASES))
    return f"{kind}.{qualifier}"


def _configured_action(value: object) -> str:
    try:
        action = normalize_word(value, ACTIONS, ACTION_ALIASES)
    except ValueError:
        raise ValueError(f"must be one of {', '.join(CONFIGURED_ACTIONS)} (got {shown(value)})") from None
    if action == "rerun":
        raise ValueError(
            "rerun is not a configurable action: reruns are automatic retries, bounded by auto_retry_classes "
            "and max_auto_retries"
        )
    return action


def _seconds(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be whole seconds or a duration such as 30m or 2h")
    if isinstance(value, str):
        text = value.strip()
        return int(text) if text.isascii() and text.isdigit() else parse_duration(text)
    return value


def _failure_class(value: object) -> str:
    return normalize_word(value, FAILURE_CLASSES, FAILURE_CLASS_ALIASES)


ActionKey = Annotated[str, BeforeValidator(_action_key)]
ActionName = Annotated[ConfiguredAction, BeforeValidator(_configured_action)]
Actions = dict[ActionKey, ActionName]
Seconds = Annotated[int, BeforeValidator(_seconds), Field(ge=0)]
WindowSeconds = Annotated[int, BeforeValidator(_seconds), Field(ge=1)]
FailureClassName = Annotated[FailureClass, BeforeValidator(_failure_class)]
Count = Annotated[int, Field(ge=0, le=1000, strict=True)]


def _checked_retry_classes(classes: list[str] | None, info: ValidationInfo) -> list[str] | None:
    if classes is None:
        return None
    unique = list(dict.fromkeys(classes))
    others = [name for name in unique if name != "transient"]
    if others and info.data.get("allow_non_transient_retry") is not True:
        raise ValueError(
            f"retrying {', '.join(others)} failures repeats them; only transient failures are retried "
            "unless this block also sets allow_non_transient_retry: true"
        )
    return unique


def _transient_only() -> list[FailureClass]:
    return ["transient"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyRules(_Model):
    """A complete set of rules (the `default` block); see the module docstring for the built-in defaults."""

    enabled: StrictBool = True
    actions: Actions = Field(default_factory=lambda: dict(DEFAULT_ACTIONS), description="merged over built-ins")
    cooling_period_s: Seconds = DEFAULT_COOLING_PERIOD_S
    max_replans: Count = DEFAULT_MAX_REPLANS
    replan_window_s: WindowSeconds = DEFAULT_REPLAN_WINDOW_S
    allow_non_transient_retry: StrictBool = False
    auto_retry_classes: list[FailureClassName] = Field(default_factory=_transient_only)
    max_auto_retries: Count = DEFAULT_MAX_AUTO_RETRIES

    @field_validator("actions")
    @classmethod
    def _over_built_ins(cls, actions: dict[str, ConfiguredAction]) -> dict[str, ConfiguredAction]:
        return {**DEFAULT_ACTIONS, **actions}

    @field_validator("auto_retry_classes")
    @classmethod
    def _retry_classes(cls, classes: list[str], info: ValidationInfo) -> list[str] | None:
        return _checked_retry_classes(classes, info)


class PolicyOverride(_Model):
    """Partial rules for a plan, a job or a run tag: what is set here replaces the less specific value."""

    enabled: StrictBool | None = None
    actions: Actions | None = None
    cooling_period_s: Seconds | None = None
    max_replans: Count | None = None
    replan_window_s: WindowSeconds | None = None
    allow_non_transient_retry: StrictBool | None = None
    auto_retry_classes: list[FailureClassName] | None = None
    max_auto_retries: Count | None = None

    @field_validator("auto_retry_classes")
    @classmethod
    def _retry_classes(cls, classes: list[str] | None, info: ValidationInfo) -> list[str] | None:
        return _checked_retry_classes(classes, info)


class TagOverride(_Model):
    """Rules for runs whose tag `tag` equals `value`."""

    tag: str = Field(min_length=1)
    value: str
    rules: PolicyOverride


class ControlLoopPolicy(_Model):
    default: PolicyRules = Field(default_factory=PolicyRules)
    plans: dict[str, PolicyOverride] = Field(default_factory=dict, description="plan or job name -> rules")
    overrides_by_tag: list[TagOverride] = Field(default_factory=list)


# ---- merging


@dataclass(frozen=True)
class ActionLayer:
    scope: str  # e.g. "default", "plans.archive", "overrides_by_tag[0].rules"
    actions: Mapping[str, ConfiguredAction]


@dataclass(frozen=True)
class EffectiveRules:
    """The rules that apply to one subject and run, with the scope each value came from."""

    enabled: bool
    cooling_period_s: int
    max_replans: int
    replan_window_s: int
    allow_non_transient_retry: bool
    auto_retry_classes: tuple[FailureClass, ...]
    max_auto_retries: int
    action_layers: tuple[ActionLayer, ...]  # most specific first
    origins: Mapping[str, str]  # field name -> scope that set it

    def rule(self, field: str) -> str:
        """The policy key that set `field`, e.g. `plans.archive.cooling_period_s`."""
        return f"{self.origins[field]}.{field}"

    def action_for(self, kind: str, qualifier: str | None) -> tuple[ConfiguredAction, str]:
        """The configured action and the key that set it; the most specific scope that names the kind wins."""
        keys = [f"{kind}.{qualifier}", kind] if qualifier else [kind]
        for layer in self.action_layers:
            for key in keys:
                if key in layer.actions:
                    return layer.actions[key], f"{layer.scope}.actions.{key}"
        raise KeyError(f"no action for {kind}: the default rules name every trigger kind")

    def retries(self, failure_class: str | None) -> bool:
        """Whether failures of this class are retried automatically under these rules."""
        if failure_class not in self.auto_retry_classes:
            return False
        return failure_class == "transient" or self.allow_non_transient_retry


_SCALARS = (
    "enabled",
    "cooling_period_s",
    "max_replans",
    "replan_window_s",
    "allow_non_transient_retry",
    "auto_retry_classes",
    "max_auto_retries",
)


def _scopes(
    policy: ControlLoopPolicy, subject: str, tags: Mapping[str, str]
) -> list[tuple[str, PolicyRules | PolicyOverride]]:
    scopes: list[tuple[str, PolicyRules | PolicyOverride]] = [("default", policy.default)]
    if subject in policy.plans:
        scopes.append((f"plans.{subject}", policy.plans[subject]))
    scopes.extend(
        (f"overrides_by_tag[{index}].rules", override.rules)
        for index, override in enumerate(policy.overrides_by_tag)
        if tags.get(override.tag) == override.value
    )
    return scopes


def rules_for(policy: ControlLoopPolicy, subject: str, tags: Mapping[str, str] | None = None) -> EffectiveRules:
    """Merge default <- plans[subject] <- each tag override whose tag matches, in list order."""
    scopes = _scopes(policy, subject, tags or {})
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for scope, rules in scopes:
        for field in _SCALARS:
            value = getattr(rules, field)
            if value is not None:
                values[field], origins[field] = value, scope
    layers = tuple(
        ActionLayer(scope, dict(rules.actions)) for scope, rules in reversed(scopes) if rules.actions is not None
    )
    values["auto_retry_classes"] = tuple(values["auto_retry_classes"])
    return EffectiveRules(**values, action_layers=layers, origins=origins)


# ---- loading


def _located(loc: tuple[int | str, ...], prefix: str) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            path += " (key)"
        else:
            path += f".{part}" if path else str(part)
    return path


def parse_policy(data: object, prefix: str = "control_loop") -> ControlLoopPolicy:
    """Validate a policy mapping; the ValueError has one line per problem: `key.path: reason`."""
    try:
        return ControlLoopPolicy.model_validate(data if data is not None else {})
    except ValidationError as error:
        problems = [
            f"{_located(problem['loc'], prefix) or 'policy'}: {problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        ]
        raise ValueError("invalid control-loop policy:\n" + "\n".join(problems)) from None
