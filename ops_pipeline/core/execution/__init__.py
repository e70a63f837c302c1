"""Pure logic of plan executions: states, approvals, idempotency, timeouts, retries, RBAC, masking."""
