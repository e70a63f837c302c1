"""Decisions of the control loop: what to do about one trigger, given the rules and what already happened.

`decide` is pure: the sensors read `LoopHistory` from the ops store, call it, record the `Decision` (a replan
event row) and launch the recovery job under `decision.run_key`. The checks, in order:

1. rules disabled for the subject -> `ignore`;
2. an action was already taken for this trigger's fingerprint -> `ignore` ("already handled");
3. the loop stopped for the subject (it escalated at the replan cap and nobody resumed it) -> `ignore`;
4. a failure whose class the rules retry (`auto_retry_classes`; an execution timeout counts as class
   `timeout`), with fewer than `max_auto_retries` automatic reruns done for the execution -> `rerun`;
5. otherwise the configured action (for a manual trigger, the requested action comes first). A replan is
   then checked against the cap and the cooling period:
   - `max_replans` replans of the subject already inside `replan_window_s` -> `escalate` (dead letter and
     alert) and the loop stops for the subject;
   - the last replan less than `cooling_period_s` ago -> `hold` until `cooling_deadline`: nothing launches,
     and the trigger stays unhandled so a later tick decides again;
   - else `replan`, whose `cooling_deadline` is when the next replan may run.

`run_key` is a digest of subject, action, fingerprint and replan count: equal inputs give the same key, so a
repeated tick launches nothing twice, and a later replan of the same subject gets a new one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ops_pipeline.core.control_loop.policy import EffectiveRules
from ops_pipeline.core.control_loop.triggers import Trigger
from ops_pipeline.core.control_loop.vocabulary import Action

__all__ = ["Decision", "DecisionAction", "LoopHistory", "decide", "human_duration", "make_run_key"]

DecisionAction = Action | Literal["hold"]
_UNSAFE_IN_KEY = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class LoopHistory:
    """What the ops store knows that bears on one decision about one subject."""

    replan_times: tuple[datetime, ...] = ()  # replans of the subject; those outside the window are not counted
    auto_retries: int = 0  # automatic reruns already done for the trigger's execution
    last_replan_at: datetime | None = None  # when not given, the latest of replan_times
    already_handled: bool = False  # an action was already taken for the trigger's fingerprint
    stopped_at: datetime | None = None  # the loop escalated the subject at the cap and nobody resumed it


@dataclass(frozen=True)
class Decision:
    action: DecisionAction
    reason: str
    rule: str  # the policy key (or history fact) that decided, e.g. plans.archive.actions.step_failure
    replan_count: int  # replans of the subject in the window once this decision is carried out
    cooling_deadline: datetime | None
    escalate: bool  # dead letter + alert
    run_key: str
    stops_loop: bool = False  # the replan cap was reached: record `stopped_at` for the subject

    @property
    def launches(self) -> bool:
        """Whether carrying the decision out starts a run (hold and ignore do not)."""
        return self.action not in ("hold", "ignore")


def make_run_key(subject: str, action: str, fingerprint: str, replan_count: int) -> str:
    """A readable, deterministic Dagster run key; the digest keeps it unique and bounded in length."""
    identity = "\x1f".join((subject, action, fingerprint, str(replan_count)))
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    readable = _UNSAFE_IN_KEY.sub("_", subject)[:60]
    return f"control-loop-{action}-{readable}-r{replan_count}-{digest}"


def human_duration(seconds: float) -> str:
    remaining = max(0, round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _replans_in_window(history: LoopHistory, window_s: int, now: datetime) -> list[datetime]:
    start = now - timedelta(seconds=window_s)
    return [moment for moment in history.replan_times if moment > start]


def _last_replan(history: LoopHistory) -> datetime | None:
    moments = [*history.replan_times, *([history.last_replan_at] if history.last_replan_at else [])]
    return max(moments, default=None)


def _about(trigger: Trigger) -> str:
    qualifier = f" ({trigger.qualifier})" if trigger.qualifier else ""
    return f"{trigger.kind}{qualifier} of {trigger.subject}"


def _retry_class(trigger: Trigger) -> str | None:
    return "timeout" if trigger.kind == "execution_timeout" else trigger.failure_class


class _Decider:
    """One decision's inputs, so each rule of `decide` is a short method."""

    def __init__(self, trigger: Trigger, rules: EffectiveRules, history: LoopHistory, now: datetime) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must carry a timezone")
        self.trigger, self.rules, self.history, self.now = trigger, rules, history, now
        self.replan_count = len(_replans_in_window(history, rules.replan_window_s, now))

    def make(
        self,
        action: DecisionAction,
        reason: str,
        rule: str,
        *,
        replan_count: int | None = None,
        cooling_deadline: datetime | None = None,
        stops_loop: bool = False,
    ) -> Decision:
        count = self.replan_count if replan_count is None else replan_count
        key = make_run_key(self.trigger.subject, action, self.trigger.fingerprint, count)
        return Decision(action, reason, rule, count, cooling_deadline, action == "escalate", key, stops_loop)

    def decide(self) -> Decision:
        trigger, history = self.trigger, self.history
        if not self.rules.enabled:
            reason = f"the control loop is disabled for {trigger.subject}"
            return self.make("ignore", reason, self.rules.rule("enabled"))
        if history.already_handled:
            reason = f"already handled: an action was taken for {trigger.fingerprint}"
            return self.make("ignore", reason, "history.already_handled")
        if history.stopped_at is not None:
            reason = (
                f"the loop stopped for {trigger.subject} at {history.stopped_at.isoformat()} after reaching its "
                "replan limit; a person must resume it"
            )
            return self.make("ignore", reason, "history.stopped_at")
        return self.automatic_retry() or self.configured()

    def automatic_retry(self) -> Decision | None:
        retry_class = _retry_class(self.trigger)
        if not self.rules.retries(retry_class) or self.history.auto_retries >= self.rules.max_auto_retries:
            return None
        attempt = self.history.auto_retries + 1
        reason = (
            f"automatic retry {attempt} of {self.rules.max_auto_retries} for a {_about(self.trigger)}: "
            f"{retry_class} failures are retried"
        )
        return self.make("rerun", reason, self.rules.rule("auto_retry_classes"))

    def retries_spent(self) -> str:
        if self.rules.retries(_retry_class(self.trigger)):
            return f"automatic retries spent ({self.history.auto_retries} of {self.rules.max_auto_retries}); "
        return ""

    def configured(self) -> Decision:
        trigger = self.trigger
        if trigger.kind == "manual" and trigger.requested_action is not None:
            action: Action = trigger.requested_action
            rule = "trigger.requested_action"
        else:
            action, rule = self.rules.action_for(trigger.kind, trigger.qualifier)
        if action == "replan":
            return self.replan(rule)
        reason = f"{self.retries_spent()}{rule} says {action} for a {_about(trigger)}"
        return self.make(action, reason, rule)

    def replan(self, action_rule: str) -> Decision:
        rules, count = self.rules, self.replan_count
        window = human_duration(rules.replan_window_s)
        if count >= rules.max_replans:
            reason = (
                f"{count} of {rules.max_replans} replans of {self.trigger.subject} in the last {window}: the loop "
                "stops for it and escalates (dead letter and alert)"
            )
            return self.make("escalate", reason, rules.rule("max_replans"), stops_loop=True)
        last = _last_replan(self.history)
        cooling = timedelta(seconds=rules.cooling_period_s)
        if last is not None and self.now < last + cooling:
            deadline = last + cooling
            reason = (
                f"cooling period: the last replan of {self.trigger.subject} was at {last.isoformat()}; "
                f"the next may run after {deadline.isoformat()}"
            )
            return self.make("hold", reason, rules.rule("cooling_period_s"), cooling_deadline=deadline)
        reason = (
            f"{self.retries_spent()}{action_rule} says replan for a {_about(self.trigger)}: "
            f"replan {count + 1} of {rules.max_replans} in {window}"
        )
        return self.make("replan", reason, action_rule, replan_count=count + 1, cooling_deadline=self.now + cooling)


def decide(trigger: Trigger, rules: EffectiveRules, history: LoopHistory, now: datetime) -> Decision:
    """What the loop does about `trigger`; see the module docstring for the order of the checks."""
    return _Decider(trigger, rules, history, now).decide()
