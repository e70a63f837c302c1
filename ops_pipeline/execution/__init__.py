"""Execution plans at work, free of Dagster: plan files, admission, approvals, the gate each step passes and the
step runners. The Dagster skin (`defs/execution/`) and the CLI both use it; `core/plans` and `core/execution`
hold the pure rules it applies."""
