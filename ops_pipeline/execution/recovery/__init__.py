"""Recovering executions: the control loop's decisions recorded with their history, and the recovery actions
(rerun, replan, skip, rollback, debug) that the control-loop jobs carry out, each audited with its actor,
trigger and outcome."""
