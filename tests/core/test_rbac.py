"""RBAC decisions: deny beats allow, the environment default decides when no rule does, and the audit names the rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.execution.rbac import ACTIONS, AccessDenied, Decision, RbacPolicy, decide, parse_rbac_policy

RAW_POLICY: dict[str, Any] = {
    "groups": {"oncall": ["alice", "user:bob"], "group:auditors": ["sensor:night_audit"]},
    "rules": [
        {
            "name": "oncall-runs-plans",
            "effect": "allow",
            "actors": ["group:oncall"],
            "resources": ["plan:*", "target:*"],
            "actions": ["submit", "execute", "cancel", "rollback"],
        },
        {
            "name": "no-prod-deploys-on-db",
            "effect": "deny",
            "resources": ["plan:deploy_*", "target:db*"],
            "actions": ["execute"],
            "environments": ["prod"],
        },
        {
            "name": "leads-approve",
            "effect": "allow",
            "tenants": ["acme"],
            "actors": ["user:carol"],
            "resources": ["plan:*"],
            "actions": ["approve", "reject"],
        },
        {
            "name": "auditors-read-sources",
            "effect": "allow",
            "actors": ["group:auditors"],
            "resources": ["source:*"],
            "actions": ["debug"],
        },
        {
            "name": "dave-anything-in-dev",
            "effect": "allow",
            "actors": ["user:dave"],
            "resources": ["*"],
            "actions": ["*"],
            "environments": ["dev"],
        },
    ],
}
POLICY = parse_rbac_policy(RAW_POLICY)
FREEZE = {"name": "freeze", "effect": "deny", "resources": ["*"], "actions": ["*"]}
FROZEN = parse_rbac_policy({**RAW_POLICY, "rules": [*RAW_POLICY["rules"], FREEZE]})


def check(actor: str, action: str, resource: str, environment: str = "prod", **kwargs: Any) -> Decision:
    kwargs.setdefault("tenant", "acme")
    return decide(POLICY, actor=actor, action=action, resource=resource, environment=environment, **kwargs)


def policy_error(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValueError) as error:
        parse_rbac_policy(data)
    return str(error.value).splitlines()


# ---- decisions


def test_an_allow_rule_allows_and_is_named() -> None:
    decision = check("user:alice", "execute", "plan:restart_service")
    assert decision.allowed
    assert decision.rule == "oncall-runs-plans"
    assert decision.reason == (
        "rule 'oncall-runs-plans' allows execute plan:restart_service by user:alice (tenant acme, environment prod)"
    )


def test_a_matching_deny_wins_over_an_earlier_allow() -> None:
    decision = check("user:alice", "execute", "plan:deploy_api")
    assert (decision.allowed, decision.rule) == (False, "no-prod-deploys-on-db")
    assert decision.reason.startswith("rule 'no-prod-deploys-on-db' denies execute plan:deploy_api by user:alice")


def test_the_deny_is_scoped_to_its_environment_and_action() -> None:
    assert check("user:alice", "execute", "plan:deploy_api", environment="staging").rule == "oncall-runs-plans"
    assert check("user:alice", "submit", "plan:deploy_api").rule == "oncall-runs-plans"
    assert check("user:alice", "execute", "target:db1").rule == "no-prod-deploys-on-db"
    assert check("user:alice", "execute", "target:web1").allowed


def test_without_a_matching_rule_prod_denies_by_default() -> None:
    decision = check("user:mallory", "execute", "plan:restart_service")
    assert (decision.allowed, decision.rule) == (False, "default:prod")
    assert decision.reason.endswith("; prod defaults to deny")


@pytest.mark.parametrize(("environment", "allowed"), [("dev", True), ("staging", True), ("prod", False), ("qa", False)])
def test_environment_defaults(environment: str, allowed: bool) -> None:
    decision = check("user:mallory", "execute", "plan:restart_service", environment=environment)
    assert (decision.allowed, decision.rule) == (allowed, f"default:{environment}")


def test_configured_defaults_override_only_the_environments_they_name() -> None:
    policy = parse_rbac_policy({"default_effect": {"staging": "deny", "qa": "allow"}})
    decide_in = {
        env: decide(policy, tenant="t", actor="user:x", resource="plan:p", action="submit", environment=env).allowed
        for env in ("dev", "staging", "prod", "qa")
    }
    assert decide_in == {"dev": True, "staging": False, "prod": False, "qa": True}


def test_group_membership_from_the_policy() -> None:
    assert check("user:bob", "cancel", "plan:restart_service").rule == "oncall-runs-plans"
    assert check("user:carol", "cancel", "plan:restart_service").rule == "default:prod"
    assert check("sensor:night_audit", "debug", "source:warehouse").rule == "auditors-read-sources"


def test_group_membership_reported_by_an_identity_provider() -> None:
    decision = check("user:erin", "execute", "plan:restart_service", groups_of_actor=["oncall"])
    assert decision.rule == "oncall-runs-plans"
    assert check("user:erin", "execute", "plan:x", groups_of_actor=["group:oncall"]).allowed


def test_tenant_scoping() -> None:
    assert check("user:carol", "approve", "plan:restart_service").rule == "leads-approve"
    assert check("user:carol", "approve", "plan:restart_service", tenant="globex").rule == "default:prod"


def test_resource_patterns_are_globs_and_case_sensitive() -> None:
    assert check("user:alice", "execute", "plan:deploy_web").rule == "no-prod-deploys-on-db"
    assert check("user:alice", "execute", "plan:Deploy_web").rule == "oncall-runs-plans"
    assert check("user:alice", "execute", "source:demo").rule == "default:prod"


def test_wildcard_actions_and_resources() -> None:
    for action in ACTIONS:
        assert check("user:dave", action, "anything:at_all", environment="dev").rule == "dave-anything-in-dev"


def test_an_actor_that_is_not_a_user_or_sensor_is_refused() -> None:
    for actor in ("alice", "group:oncall", "user:", "robot:x", ""):
        decision = check(actor, "execute", "plan:restart_service", environment="dev")
        assert (decision.allowed, decision.rule) == (False, "invalid-actor")


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown action 'delete'"):
        check("user:alice", "delete", "plan:x")


def test_access_denied_carries_the_decision() -> None:
    decision = check("user:mallory", "execute", "plan:restart_service")
    error = AccessDenied(decision)
    assert isinstance(error, PermissionError)
    assert error.decision is decision
    assert str(error).startswith("denied by RBAC rule 'default:prod': no rule covers execute plan:restart_service")


@given(
    actor=st.sampled_from(["user:alice", "user:bob", "user:carol", "user:dave", "sensor:night_audit"]),
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from(["plan:restart_service", "plan:deploy_api", "target:db1", "source:demo"]),
    environment=st.sampled_from(["dev", "staging", "prod"]),
)
def test_a_deny_everything_rule_beats_every_allow(actor: str, action: str, resource: str, environment: str) -> None:
    decision = decide(FROZEN, tenant="acme", actor=actor, resource=resource, action=action, environment=environment)
    assert not decision.allowed
    # The first matching deny in declaration order decides: freeze, unless the earlier targeted deny matches.
    earlier = check(actor, action, resource, environment).rule == "no-prod-deploys-on-db"
    assert decision.rule == ("no-prod-deploys-on-db" if earlier else "freeze")


# ---- validation


def test_defaults_of_an_empty_policy() -> None:
    policy = parse_rbac_policy(None)
    assert policy == RbacPolicy()
    assert policy.default_effect == {"prod": "deny", "staging": "allow", "dev": "allow"}


def test_rule_fields_default_to_everything() -> None:
    rule = parse_rbac_policy({"rules": [{"name": "r", "effect": "allow", "resources": ["plan:*"], "actions": ["*"]}]})
    assert (rule.rules[0].tenants, rule.rules[0].actors, rule.rules[0].environments) == (["*"], ["*"], ["*"])


def test_validation_errors_name_the_key_path() -> None:
    ok = {"name": "ok", "effect": "allow", "resources": ["plan:*"], "actions": ["submit"]}
    problems = policy_error(
        {
            "rules": [
                ok,
                {**ok, "name": "bad-actor", "actors": ["alice"]},
                {**ok, "name": "bad-action", "actions": ["submit", "delete"]},
                {**ok, "name": "bad-effect", "effect": "permit"},
                {**ok, "name": "no-resources", "resources": []},
                {**ok, "name": ""},
            ],
            "default_effect": {"prod": "maybe"},
        }
    )
    assert problems[0] == "invalid RBAC policy:"
    assert problems[1].startswith("rules[1].actors[0]: 'alice' is not an actor; write user:<id>, group:<name>")
    assert problems[2].startswith("rules[2].actions[1]: unknown action 'delete' (use one of submit, approve,")
    assert problems[3] == "rules[3].effect: Input should be 'allow' or 'deny'"
    assert problems[4].startswith("rules[4].resources: List should have at least 1 item")
    assert problems[5] == "rules[5].name: must not be empty"
    assert problems[6] == "default_effect.prod: Input should be 'allow' or 'deny'"


def test_rule_names_must_be_unique() -> None:
    rule = {"name": "same", "effect": "allow", "resources": ["*"], "actions": ["*"]}
    assert policy_error({"rules": [rule, rule]})[1].startswith("rules: rule names must be unique")


def test_unknown_fields_are_refused() -> None:
    problems = policy_error(
        {"rules": [{"name": "r", "effect": "allow", "resources": ["*"], "actions": ["*"], "role": 1}]}
    )
    assert problems[1] == "rules[0].role: Extra inputs are not permitted"
