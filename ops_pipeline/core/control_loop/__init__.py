"""The control loop's domain logic: triggers, policy, decisions and replan patches (issue 11).

Pure (stdlib + pydantic, no Dagster, no store, no settings). The Dagster skin in `defs/control_loop/` reads
run records and signals, turns them into triggers, reads the history from the ops store, and then::

    parse_trigger(raw) --------------------------------> Trigger
    rules_for(policy, trigger.subject, trigger.tags) --> EffectiveRules
    decide(trigger, rules, history, now) --------------> Decision (action, reason, rule, run_key, ...)
    apply_patch(snapshot, patch) ----------------------> the next plan version's snapshot
    patch_diff(before, after) -------------------------> PatchDiff (markdown for the UI, JSON for the store)

Modules
    `vocabulary`: trigger kinds, failure classes, severities, drift, actions, and their accepted spellings;
    `triggers`: `Trigger`, `parse_trigger`, `serialize_trigger`, `TriggerError`;
    `policy`: `ControlLoopPolicy` (ops.yaml `control_loop:`), its defaults, `rules_for`, `parse_policy`;
    `decisions`: `LoopHistory`, `Decision`, `decide`, `make_run_key`;
    `snapshot`: the read-only view of a plan snapshot that patches are checked against;
    `patch`: `PlanPatch`, `apply_patch`, `PatchError`;
    `patch_diff`: `PatchDiff`, `patch_diff`.
"""

from ops_pipeline.core.control_loop.decisions import Decision, DecisionAction, LoopHistory, decide, make_run_key
from ops_pipeline.core.control_loop.patch import PlanPatch, apply_patch
from ops_pipeline.core.control_loop.patch_diff import ParameterChange, PatchDiff, patch_diff
from ops_pipeline.core.control_loop.policy import (
    DEFAULT_ACTIONS,
    ControlLoopPolicy,
    EffectiveRules,
    PolicyOverride,
    PolicyRules,
    TagOverride,
    parse_policy,
    rules_for,
)
from ops_pipeline.core.control_loop.snapshot import PatchError
from ops_pipeline.core.control_loop.triggers import Trigger, TriggerError, parse_trigger, serialize_trigger
from ops_pipeline.core.control_loop.vocabulary import (
    Action,
    Drift,
    FailureClass,
    RecoveryAction,
    Severity,
    TriggerKind,
)

__all__ = [
    "DEFAULT_ACTIONS",
    "Action",
    "ControlLoopPolicy",
    "Decision",
    "DecisionAction",
    "Drift",
    "EffectiveRules",
    "FailureClass",
    "LoopHistory",
    "ParameterChange",
    "PatchDiff",
    "PatchError",
    "PlanPatch",
    "PolicyOverride",
    "PolicyRules",
    "RecoveryAction",
    "Severity",
    "TagOverride",
    "Trigger",
    "TriggerError",
    "TriggerKind",
    "apply_patch",
    "decide",
    "make_run_key",
    "parse_policy",
    "parse_trigger",
    "patch_diff",
    "rules_for",
    "serialize_trigger",
]
