"""Execution plans as data: the plan file's models, loading, templates, parameters, hashing and graph.

Pure logic: nothing here imports Dagster, the ops store or the settings. The skin (`defs/execution/`) turns
a `PlanSpec` into a job and runs its steps.

    spec.py         PlanSpec, ParameterSpec and the step models (steps.py), validated as a whole (consistency.py)
    loading.py      parse_plan / parse_plan_text -> PlanSpec, or PlanError lines `<origin>: <key path>: <reason>`
    templates.py    {{ params.NAME }} / {{ secret:env:NAME }} in strings; SQL binds by :name (sql_text.py)
    parameters.py   bind_parameters: a caller's values checked and converted, defaults filled
    canonical.py    canonical JSON, plan_hash, structure_fingerprint
    sla.py          SLA classes and derive_sla
    graph.py        forward_order, ancestors, dependents, rollback_sequence
    assertions.py   evaluate a validation step's assert on an earlier step's output
"""
