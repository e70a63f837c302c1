from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.control_loop.decisions import Decision, LoopHistory, decide, make_run_key
from ops_pipeline.core.control_loop.policy import (
    DEFAULT_ACTIONS,
    ControlLoopPolicy,
    EffectiveRules,
    PolicyRules,
    parse_policy,
    rules_for,
)
from ops_pipeline.core.control_loop.triggers import Trigger, parse_trigger

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def trigger(kind: str = "step_failure", **fields: object) -> Trigger:
    data: dict = {"kind": kind, "subject": "archive", "occurred_at": T0, **fields}
    if kind == "step_failure":
        data = {"run_id": "run-1", "step_id": "load", "failure_class": "transient", "execution_id": "e1", **data}
    return parse_trigger(data)


def default_rules(**policy: object) -> EffectiveRules:
    return rules_for(ControlLoopPolicy.model_validate(policy), "archive")


# ---- the policy model


def test_defaults_are_documented_values() -> None:
    rules = PolicyRules()
    assert (rules.cooling_period_s, rules.max_replans, rules.replan_window_s) == (600, 3, 86400)
    assert (rules.auto_retry_classes, rules.max_auto_retries, rules.enabled) == (["transient"], 2, True)
    assert rules.actions == DEFAULT_ACTIONS


@pytest.mark.parametrize(("written", "seconds"), [("30m", 1800), ("2h", 7200), (45, 45), ("90", 90), ("1h30m", 5400)])
def test_durations_are_seconds_or_human(written: object, seconds: int) -> None:
    assert PolicyRules.model_validate({"cooling_period_s": written}).cooling_period_s == seconds


def test_a_partial_default_keeps_the_built_in_actions() -> None:
    rules = PolicyRules.model_validate({"actions": {"sla-breach": "ignore"}})
    assert rules.actions["sla_breach"] == "ignore"
    assert rules.actions["schema_drift.breaking"] == "replan"


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"default": {"cooling_period_s": "5x"}}, "control_loop.default.cooling_period_s: '5x' is not a duration"),
        ({"default": {"replan_window_s": 0}}, "control_loop.default.replan_window_s: Input should be greater than"),
        ({"plans": {"archive": {"max_replans": -1}}}, "control_loop.plans.archive.max_replans: Input should be"),
        ({"plans": {"archive": {"enabled": "yes"}}}, "control_loop.plans.archive.enabled: Input should be a valid"),
        ({"plans": {"archive": {"colour": 1}}}, "control_loop.plans.archive.colour: Extra inputs are not permitted"),
        (
            {"plans": {"archive": {"actions": {"sla_breach": "rerun"}}}},
            "control_loop.plans.archive.actions.sla_breach: rerun is not a configurable action",
        ),
        (
            {"default": {"actions": {"step_failure": "explode"}}},
            "control_loop.default.actions.step_failure: must be one of replan, debug, skip, rollback, escalate",
        ),
        (
            {"default": {"actions": {"step_failure.flaky": "debug"}}},
            "control_loop.default.actions.step_failure.flaky (key): must be one of transient, permanent",
        ),
        ({"default": {"actions": {"manual.x": "debug"}}}, "manual takes no qualifier"),
        ({"default": {"actions": {"weather": "debug"}}}, "actions.weather (key): unknown trigger kind"),
        (
            {"overrides_by_tag": [{"tag": "t", "value": "v", "rules": {"auto_retry_classes": ["TIMEOUT"]}}]},
            "control_loop.overrides_by_tag[0].rules.auto_retry_classes: retrying timeout failures repeats them",
        ),
        ({"overrides_by_tag": [{"tag": "t", "rules": {}}]}, "control_loop.overrides_by_tag[0].value: Field required"),
    ],
)
def test_bad_policies_are_refused_with_the_key_path(policy: dict, message: str) -> None:
    with pytest.raises(ValueError) as failure:
        parse_policy(policy)
    assert message in str(failure.value)


def test_non_transient_retry_needs_the_explicit_switch() -> None:
    rules = PolicyRules.model_validate(
        {"allow_non_transient_retry": True, "auto_retry_classes": ["transient", "Timeout"]}
    )
    assert rules.auto_retry_classes == ["transient", "timeout"]


# ---- merging


POLICY = ControlLoopPolicy.model_validate(
    {
        "default": {"cooling_period_s": "15m"},
        "plans": {
            "archive": {"max_replans": 1, "actions": {"step_failure": "escalate"}},
            "other": {"cooling_period_s": 5},
        },
        "overrides_by_tag": [
            {"tag": "ops/tier", "value": "critical", "rules": {"cooling_period_s": 60, "max_replans": 5}},
            {"tag": "ops/team", "value": "data", "rules": {"cooling_period_s": 120}},
            {"tag": "ops/tier", "value": "low", "rules": {"enabled": False}},
        ],
    }
)


def test_plan_rules_merge_over_default() -> None:
    rules = rules_for(POLICY, "archive")
    assert (rules.cooling_period_s, rules.max_replans) == (900, 1)
    assert rules.rule("cooling_period_s") == "default.cooling_period_s"
    assert rules.rule("max_replans") == "plans.archive.max_replans"


def test_tag_overrides_merge_last_in_list_order() -> None:
    rules = rules_for(POLICY, "archive", {"ops/tier": "critical", "ops/team": "data"})
    assert (rules.cooling_period_s, rules.max_replans) == (120, 5)
    assert rules.rule("cooling_period_s") == "overrides_by_tag[1].rules.cooling_period_s"
    assert rules.rule("max_replans") == "overrides_by_tag[0].rules.max_replans"


def test_tags_that_do_not_match_and_other_plans_change_nothing() -> None:
    rules = rules_for(POLICY, "archive", {"ops/tier": "medium", "unrelated": "critical"})
    assert (rules.cooling_period_s, rules.max_replans, rules.enabled) == (900, 1, True)


def test_a_more_specific_scope_wins_over_a_qualified_default_key() -> None:
    action, rule = rules_for(POLICY, "archive").action_for("step_failure", "transient")
    assert (action, rule) == ("escalate", "plans.archive.actions.step_failure")
    action, rule = rules_for(POLICY, "unlisted").action_for("step_failure", "transient")
    assert (action, rule) == ("replan", "default.actions.step_failure.transient")


def test_retry_of_a_non_transient_class_stops_when_a_later_scope_disallows_it() -> None:
    policy = ControlLoopPolicy.model_validate(
        {
            "default": {"allow_non_transient_retry": True, "auto_retry_classes": ["transient", "timeout"]},
            "overrides_by_tag": [{"tag": "env", "value": "prod", "rules": {"allow_non_transient_retry": False}}],
        }
    )
    assert rules_for(policy, "archive").retries("timeout")
    assert not rules_for(policy, "archive", {"env": "prod"}).retries("timeout")
    assert rules_for(policy, "archive", {"env": "prod"}).retries("transient")


# ---- decisions


@pytest.mark.parametrize(
    ("fields", "action", "rule"),
    [
        ({"failure_class": "permanent"}, "debug", "default.actions.step_failure.permanent"),
        ({"failure_class": "timeout"}, "debug", "default.actions.step_failure.timeout"),
        ({"failure_class": "permission"}, "escalate", "default.actions.step_failure.permission"),
        ({"failure_class": "validation"}, "debug", "default.actions.step_failure.validation"),
        ({"kind": "run_failure", "run_id": "r"}, "debug", "default.actions.run_failure"),
        ({"kind": "execution_timeout", "run_id": "r"}, "debug", "default.actions.execution_timeout"),
        ({"kind": "anomaly_signal", "severity": "critical"}, "debug", "default.actions.anomaly_signal.critical"),
        ({"kind": "anomaly_signal", "severity": "warning"}, "ignore", "default.actions.anomaly_signal"),
        ({"kind": "schema_drift", "drift": "breaking"}, "replan", "default.actions.schema_drift.breaking"),
        ({"kind": "schema_drift", "drift": "compatible"}, "ignore", "default.actions.schema_drift.compatible"),
        ({"kind": "sla_breach"}, "escalate", "default.actions.sla_breach"),
        ({"kind": "manual"}, "debug", "default.actions.manual"),
        ({"kind": "manual", "requested_action": "rollback"}, "rollback", "trigger.requested_action"),
        ({"kind": "manual", "requested_action": "rerun"}, "rerun", "trigger.requested_action"),
    ],
)
def test_default_actions_per_trigger(fields: dict, action: str, rule: str) -> None:
    decision = decide(trigger(**fields), default_rules(), LoopHistory(), T0)
    assert (decision.action, decision.rule) == (action, rule)
    assert decision.escalate is (action == "escalate")


def test_transient_failures_are_retried_max_auto_retries_times_then_the_configured_action_applies() -> None:
    rules = default_rules()
    actions = [decide(trigger(), rules, LoopHistory(auto_retries=done), T0) for done in range(4)]
    assert [d.action for d in actions] == ["rerun", "rerun", "replan", "replan"]
    assert actions[0].rule == "default.auto_retry_classes" and "automatic retry 1 of 2" in actions[0].reason
    assert actions[2].reason.startswith("automatic retries spent (2 of 2); default.actions.step_failure.transient")


@pytest.mark.parametrize("failure_class", ["permanent", "timeout", "permission", "validation"])
def test_only_transient_failures_are_retried_by_default(failure_class: str) -> None:
    decision = decide(trigger(failure_class=failure_class), default_rules(), LoopHistory(), T0)
    assert decision.action != "rerun"


def test_a_timeout_is_retried_only_when_allowed_and_an_execution_timeout_counts_as_one() -> None:
    rules = default_rules(default={"allow_non_transient_retry": True, "auto_retry_classes": ["transient", "timeout"]})
    assert decide(trigger(failure_class="timeout"), rules, LoopHistory(), T0).action == "rerun"
    assert decide(trigger("execution_timeout", execution_id="e1"), rules, LoopHistory(), T0).action == "rerun"
    assert decide(trigger(failure_class="permanent"), rules, LoopHistory(), T0).action == "debug"


def test_cooling_period_holds_a_second_replan_and_allows_one_after() -> None:
    rules = default_rules()
    last = T0 - timedelta(minutes=4)
    spent = LoopHistory(replan_times=(last,), auto_retries=2)
    held = decide(trigger(), rules, spent, T0)
    assert (held.action, held.rule, held.launches) == ("hold", "default.cooling_period_s", False)
    assert held.cooling_deadline == last + timedelta(minutes=10)
    assert decide(trigger(), rules, spent, held.cooling_deadline - timedelta(seconds=1)).action == "hold"
    after = decide(trigger(), rules, spent, held.cooling_deadline)
    assert (after.action, after.replan_count) == ("replan", 2)
    assert after.cooling_deadline == held.cooling_deadline + timedelta(minutes=10)


def test_last_replan_at_alone_also_starts_the_cooling_period() -> None:
    history = LoopHistory(last_replan_at=T0 - timedelta(minutes=1), auto_retries=2)
    assert decide(trigger(), default_rules(), history, T0).action == "hold"


def test_the_cap_escalates_exactly_at_max_replans_and_stops_the_loop() -> None:
    rules = default_rules(default={"cooling_period_s": 0})
    hours_ago = [T0 - timedelta(hours=h) for h in (3, 2, 1)]
    below = decide(trigger(), rules, LoopHistory(replan_times=tuple(hours_ago[:2]), auto_retries=2), T0)
    assert (below.action, below.replan_count, below.stops_loop) == ("replan", 3, False)
    at_cap = decide(trigger(), rules, LoopHistory(replan_times=tuple(hours_ago), auto_retries=2), T0)
    assert (at_cap.action, at_cap.escalate, at_cap.stops_loop) == ("escalate", True, True)
    assert at_cap.rule == "default.max_replans" and "3 of 3 replans of archive in the last 1d" in at_cap.reason


def test_the_cap_wins_over_the_cooling_period() -> None:
    rules = default_rules(default={"max_replans": 1})
    history = LoopHistory(replan_times=(T0 - timedelta(minutes=1),), auto_retries=2)
    assert decide(trigger(), rules, history, T0).action == "escalate"


def test_replans_outside_the_window_are_not_counted() -> None:
    old = tuple(T0 - timedelta(hours=25 + h) for h in range(5))
    decision = decide(trigger(), default_rules(), LoopHistory(replan_times=old, auto_retries=2), T0)
    assert (decision.action, decision.replan_count) == ("replan", 1)


def test_handled_stopped_and_disabled_are_ignored() -> None:
    handled = decide(trigger(), default_rules(), LoopHistory(already_handled=True), T0)
    assert (handled.action, handled.rule) == ("ignore", "history.already_handled")
    assert "already handled" in handled.reason
    stopped = decide(trigger(), default_rules(), LoopHistory(stopped_at=T0 - timedelta(hours=1)), T0)
    assert (stopped.action, stopped.rule) == ("ignore", "history.stopped_at")
    disabled = decide(trigger(), default_rules(plans={"archive": {"enabled": False}}), LoopHistory(), T0)
    assert (disabled.action, disabled.rule) == ("ignore", "plans.archive.enabled")


def test_the_deciding_rule_names_the_plan_key() -> None:
    rules = default_rules(plans={"archive": {"actions": {"step_failure.transient": "rollback"}}})
    decision = decide(trigger(), rules, LoopHistory(auto_retries=2), T0)
    assert (decision.action, decision.rule) == ("rollback", "plans.archive.actions.step_failure.transient")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        decide(trigger(), default_rules(), LoopHistory(), datetime(2026, 1, 1))


# ---- run keys


def test_run_keys_are_stable_for_equal_inputs_and_differ_by_replan_count() -> None:
    history = LoopHistory(replan_times=(T0 - timedelta(hours=2),), auto_retries=2)
    first = decide(trigger(), default_rules(), history, T0)
    assert first.run_key == decide(trigger(), default_rules(), history, T0).run_key
    assert first.run_key == make_run_key("archive", "replan", "step_failure|run-1|load", 2)
    assert make_run_key("archive", "replan", "step_failure|run-1|load", 3) != first.run_key
    assert make_run_key("archive", "rerun", "step_failure|run-1|load", 2) != first.run_key
    assert make_run_key("archive", "replan", "step_failure|run-2|load", 2) != first.run_key
    assert first.run_key.startswith("control-loop-replan-archive-r2-")


def test_run_keys_stay_readable_for_any_subject() -> None:
    key = make_run_key("plan with spaces/and:üñí" * 20, "debug", "x", 0)
    assert len(key) < 120 and " " not in key


# ---- the loop over several ticks, against a store kept in memory


class MemoryStore:
    def __init__(self) -> None:
        self.handled: set[str] = set()
        self.replans: list[datetime] = []
        self.retries: Counter[str] = Counter()
        self.stopped_at: datetime | None = None
        self.launched: list[str] = []

    def history(self, event: Trigger) -> LoopHistory:
        return LoopHistory(
            replan_times=tuple(self.replans),
            auto_retries=self.retries[event.execution_id or ""],
            already_handled=event.fingerprint in self.handled,
            stopped_at=self.stopped_at,
        )

    def tick(self, event: Trigger, rules: EffectiveRules, now: datetime) -> Decision:
        decision = decide(event, rules, self.history(event), now)
        if decision.action in ("hold", "ignore"):
            return decision
        self.handled.add(event.fingerprint)
        self.launched.append(decision.run_key)
        if decision.action == "replan":
            self.replans.append(now)
        if decision.action == "rerun":
            self.retries[event.execution_id or ""] += 1
        if decision.stops_loop:
            self.stopped_at = now
        return decision


def test_a_failing_plan_is_retried_then_replanned_within_limits_then_escalated() -> None:
    store, rules = MemoryStore(), default_rules(default={"max_replans": 2})
    actions = []
    for attempt in range(7):
        now = T0 + timedelta(minutes=11 * attempt)
        event = trigger(run_id=f"run-{attempt}", occurred_at=now)
        actions.append(store.tick(event, rules, now).action)
        actions.append(store.tick(event, rules, now).action)  # the same tick again: nothing twice
    assert actions == [
        "rerun", "ignore",
        "rerun", "ignore",
        "replan", "ignore",
        "replan", "ignore",
        "escalate", "ignore",
        "ignore", "ignore",
        "ignore", "ignore",
    ]  # fmt: skip
    assert len(store.launched) == len(set(store.launched)) == 5


def test_a_held_trigger_is_decided_again_after_the_cooling_period() -> None:
    store, rules = MemoryStore(), default_rules()
    store.replans.append(T0 - timedelta(minutes=5))
    store.retries["e1"] = 2
    event = trigger()
    assert store.tick(event, rules, T0).action == "hold"
    assert store.tick(event, rules, T0 + timedelta(minutes=5)).action == "replan"
    assert store.tick(event, rules, T0 + timedelta(minutes=6)).action == "ignore"


def test_an_anomaly_and_a_breaking_change_each_act_once() -> None:
    store, rules = MemoryStore(), default_rules()
    anomaly = trigger("anomaly_signal", severity="critical", fingerprint="ewma|latency|1700000000")
    drift = trigger("schema_drift", drift="breaking", subject="warehouse")
    assert [store.tick(anomaly, rules, T0).action for _ in range(3)] == ["debug", "ignore", "ignore"]
    assert [store.tick(drift, rules, T0).action for _ in range(3)] == ["replan", "ignore", "ignore"]


# ---- properties


@given(
    failure_class=st.sampled_from(["transient", "permanent", "timeout", "permission", "validation"]),
    retries_done=st.integers(0, 6),
    replans=st.lists(st.integers(0, 48 * 60), max_size=8),
    max_replans=st.integers(0, 4),
    max_auto_retries=st.integers(0, 3),
)
def test_the_loop_never_exceeds_its_limits(
    failure_class: str, retries_done: int, replans: list[int], max_replans: int, max_auto_retries: int
) -> None:
    rules = default_rules(default={"max_replans": max_replans, "max_auto_retries": max_auto_retries})
    history = LoopHistory(replan_times=tuple(T0 - timedelta(minutes=m) for m in replans), auto_retries=retries_done)
    decision = decide(trigger(failure_class=failure_class), rules, history, T0)
    if decision.action == "rerun":
        assert failure_class == "transient" and retries_done < max_auto_retries
    if decision.action == "replan":
        assert decision.replan_count <= max_replans
        assert all(T0 - timedelta(minutes=m) + timedelta(minutes=10) <= T0 for m in replans)
