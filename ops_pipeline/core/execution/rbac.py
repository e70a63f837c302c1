"""Who may do what to which plan, target or source, in which environment: RBAC rules from config, one decision.

A rule names an effect (`allow` or `deny`) and what it covers; every list must contain a match for the rule to
apply, and `"*"` matches anything:

* `tenants` and `environments`: exact names;
* `actors`: an actor id (`user:alice`, `sensor:drift_watch`) exactly, a group (`group:oncall`) the actor is
  in, or `"*"`;
* `resources`: shell-style patterns (fnmatch, case-sensitive) over resource ids such as
  `plan:restart_service`, `target:db1`, `source:demo`;
* `actions`: submit, approve, reject, execute, cancel, requeue, rerun, replan, debug, skip, rollback, or `"*"`.

Evaluation, in this order:
1. any matching `deny` rule denies (deny takes precedence over allow, whatever the order of the rules), and
   the first matching deny in declaration order is the deciding rule;
2. otherwise the first matching `allow` rule allows;
3. otherwise the environment's default decides (`default:<env>`): deny in `prod`, allow in `dev` and `staging`
   unless `default_effect` says otherwise, and deny in any environment it does not name.

Group members are listed in `groups` (`oncall: [alice, user:bob, sensor:night_audit]`; a bare name is a user);
`decide` also accepts the groups an identity provider reports for the actor. Rule names must be unique: the
audit trail records the deciding rule by name (`Decision.rule`). An actor id that is not `user:<id>` or
`sensor:<name>` (as the run's tags carry it) is denied by the pseudo-rule `invalid-actor`; an action outside the
list above is a programming error and raises ValueError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from ops_pipeline.core.control_loop.vocabulary import shown

__all__ = [
    "ACTIONS",
    "AccessDenied",
    "Action",
    "Decision",
    "Effect",
    "RbacPolicy",
    "RbacRule",
    "decide",
    "parse_rbac_policy",
]

Effect = Literal["allow", "deny"]
Action = Literal[
    "submit", "approve", "reject", "execute", "cancel", "requeue", "rerun", "replan", "debug", "skip", "rollback"
]
ACTIONS: tuple[Action, ...] = get_args(Action)
ANY = "*"
ACTOR_KINDS = ("user", "sensor")
RULE_ACTOR_KINDS = ("user", "group", "sensor")
DEFAULT_EFFECTS: dict[str, Effect] = {"prod": "deny", "staging": "allow", "dev": "allow"}


def _split_id(value: str) -> tuple[str, str]:
    kind, _, name = value.partition(":")
    return kind, name


def _rule_actor(value: str) -> str:
    kind, name = _split_id(value)
    if value != ANY and (kind not in RULE_ACTOR_KINDS or not name.strip()):
        raise ValueError(f"{shown(value)} is not an actor; write user:<id>, group:<name>, sensor:<name> or '*'")
    return value


def _action(value: str) -> str:
    if value != ANY and value not in ACTIONS:
        raise ValueError(f"unknown action {shown(value)} (use one of {', '.join(ACTIONS)}, or '*')")
    return value


def _name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Name = Annotated[str, AfterValidator(_name)]
RuleActor = Annotated[str, AfterValidator(_rule_actor)]
RuleAction = Annotated[str, AfterValidator(_action)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RbacRule(_Model):
    name: Name
    effect: Effect
    tenants: list[Name] = Field(default_factory=lambda: [ANY], min_length=1)
    actors: list[RuleActor] = Field(default_factory=lambda: [ANY], min_length=1)
    resources: list[Name] = Field(min_length=1, description="fnmatch patterns over resource ids")
    actions: list[RuleAction] = Field(min_length=1)
    environments: list[Name] = Field(default_factory=lambda: [ANY], min_length=1)

    def covers(self, tenant: str, actor: str, groups: frozenset[str], resource: str, action: str, env: str) -> bool:
        return (
            _listed(tenant, self.tenants)
            and _listed(env, self.environments)
            and _listed(action, self.actions)
            and any(pattern == ANY or fnmatchcase(resource, pattern) for pattern in self.resources)
            and any(entry in (ANY, actor) or entry in groups for entry in self.actors)
        )


def _listed(value: str, entries: list[str]) -> bool:
    return ANY in entries or value in entries


def _member_id(value: str) -> str:
    return value if ":" in value else f"user:{value}"


class RbacPolicy(_Model):
    rules: list[RbacRule] = Field(default_factory=list)
    default_effect: dict[Name, Effect] = Field(
        default_factory=lambda: dict(DEFAULT_EFFECTS), description="environment -> effect, over the built-in defaults"
    )
    groups: dict[Name, list[Name]] = Field(default_factory=dict, description="group -> member actor ids")

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[RbacRule]) -> list[RbacRule]:
        names = [rule.name for rule in rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"rule names must be unique (the audit names the deciding rule); repeated: {repeated}")
        return rules

    @field_validator("default_effect")
    @classmethod
    def _over_built_in_defaults(cls, effects: dict[str, Effect]) -> dict[str, Effect]:
        return {**DEFAULT_EFFECTS, **effects}

    @field_validator("groups")
    @classmethod
    def _members_as_actor_ids(cls, groups: dict[str, list[str]]) -> dict[str, list[str]]:
        return {
            group.removeprefix("group:"): [_member_id(member) for member in members]
            for group, members in groups.items()
        }

    def groups_of(self, actor: str) -> frozenset[str]:
        """The `group:<name>` ids the policy lists `actor` in."""
        return frozenset(f"group:{group}" for group, members in self.groups.items() if actor in members)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    reason: str


class AccessDenied(PermissionError):
    """An action refused by RBAC; the failure is classed `permission` and never retried."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(f"denied by RBAC rule {decision.rule!r}: {decision.reason}")


def decide(
    policy: RbacPolicy,
    *,
    tenant: str,
    actor: str,
    resource: str,
    action: str,
    environment: str,
    groups_of_actor: Iterable[str] = (),
) -> Decision:
    """Allow or deny `actor` doing `action` on `resource` (see the module docstring for the order)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {shown(action)} (use one of {', '.join(ACTIONS)})")
    request = f"{action} {resource} by {actor} (tenant {tenant}, environment {environment})"
    kind, name = _split_id(actor)
    if kind not in ACTOR_KINDS or not name.strip():
        return Decision(False, "invalid-actor", f"{shown(actor)} is not user:<id> or sensor:<name>; refusing {request}")
    groups = policy.groups_of(actor) | {f"group:{group.removeprefix('group:')}" for group in groups_of_actor}
    matching = [rule for rule in policy.rules if rule.covers(tenant, actor, groups, resource, action, environment)]
    for effect in ("deny", "allow"):
        rule = next((rule for rule in matching if rule.effect == effect), None)
        if rule is not None:
            return Decision(effect == "allow", rule.name, f"rule {rule.name!r} {_verb(effect)} {request}")
    effect = policy.default_effect.get(environment, "deny")
    return Decision(
        effect == "allow",
        f"default:{environment}",
        f"no rule covers {request}; {environment} defaults to {effect}",
    )


def _verb(effect: str) -> str:
    return "allows" if effect == "allow" else "denies"


def _located(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def parse_rbac_policy(data: Mapping[str, object] | None) -> RbacPolicy:
    """Validate an `rbac` config section; the ValueError has one `key.path: reason` line per problem."""
    try:
        return RbacPolicy.model_validate(data if data is not None else {})
    except ValidationError as error:
        problems = [
            f"{_located(problem['loc']) or 'rbac'}: {problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        ]
        raise ValueError("invalid RBAC policy:\n" + "\n".join(problems)) from None
