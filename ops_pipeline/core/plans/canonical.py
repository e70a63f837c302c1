"""The canonical form of a plan, its SHA-256 hash, and the fingerprint of its job graph.

Canonical form (what `canonical_json` returns), enough to recompute a hash elsewhere:

1. Validate the plan (`PlanSpec`), which fills in every default: each model field is present, with its default
   when the file omitted it, and a step without `depends_on` gets `[<previous step id>]`. So writing a default
   out and leaving it out give the same plan.
2. Dump it as JSON data: every field of every model, under the name a plan file uses (`assert`, not `assert_`);
   absent optional values are `null`; `number` parameters' defaults, `min`, `max`, `estimate_s` and `timeout_s`
   are floats (`5.0`), integers stay integers; a step's fields come with its `type`.
3. Serialise with Python's `json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
   allow_nan=False)`: object keys sorted by code point at every level, no whitespace at all, non-ASCII text
   written as itself (not `\\u` escapes), the JSON escapes `\\"`, `\\\\`, `\\n`, `\\r`, `\\t`, `\\b`, `\\f` and
   `\\u00XX` for the other control characters; floats as Python's `repr` (shortest round-trip digits, always
   with a `.` or an exponent: `1.0`, `0.1`, `1e-05`, `1e+16`).
4. Lists keep their order: steps, rollback steps, argv, depends_on, targets, values and expect_status are all
   meaningful in the order written. Mappings (parameters, headers, params, body) are unordered.

`plan_hash` is the lowercase hex SHA-256 of the canonical JSON encoded as UTF-8. Text is compared as written
(no Unicode normalisation). Adding a field to the models changes every hash, since the form lists all fields;
an execution stores the hash and the snapshot it ran, so history stays verifiable.

`structure_fingerprint` hashes only what shapes the Dagster job: for each forward step, in list order, its
id, its type and its `depends_on` list. The canonical JSON of `[{"depends_on": [...], "id": ..., "type": ...},
...]` (same serialisation) is hashed the same way. Parameters, URLs, statements, descriptions, timeouts and
rollback steps can change while the structure, and so the loaded job, stays the same.
"""

from __future__ import annotations

import hashlib
import json

from ops_pipeline.core.plans.spec import PlanSpec


def _dumps(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_document(plan: PlanSpec) -> dict[str, object]:
    """The plan as JSON data with every default filled in: what a stored snapshot holds."""
    return plan.model_dump(mode="json", by_alias=True)


def canonical_json(plan: PlanSpec) -> str:
    """The canonical serialisation of `plan` (see the module docstring)."""
    return _dumps(canonical_document(plan))


def plan_hash(plan: PlanSpec) -> str:
    """Hex SHA-256 of the UTF-8 canonical JSON: equal plans, equal hash; any change, a new one."""
    return _sha256(canonical_json(plan))


def structure_fingerprint(plan: PlanSpec) -> str:
    """Hex SHA-256 of the job graph's shape: step ids, types and dependency edges, in order."""
    shape = [{"depends_on": list(step.depends_on), "id": step.id, "type": step.type} for step in plan.steps]
    return _sha256(_dumps(shape))
