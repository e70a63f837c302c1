"""Idempotency keys: the same submission within 24 hours gives back the existing execution.

A derived key (`idempotency_key`) is the lowercase hex SHA-256 of the UTF-8 JSON text
`{"parameters":{...},"plan_hash":"...","targets":[...],"tenant":"..."}`, serialised like a plan's canonical
form (`json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)`): keys
sorted at every level, targets sorted and each listed once, parameter values as JSON. Pass parameters as
`bind_parameters` returns them (defaults filled, types converted), so `"5"` from the CLI and `5` from the
launchpad give one key, and an omitted parameter equals its default given explicitly.

A caller may instead give its own key (`caller_key` checks and normalises it). Either way the store keeps the
key with its tenant, unique per (tenant, key): tenants never see each other's keys. A key can be reused
`IDEMPOTENCY_WINDOW_S` seconds after it was first recorded.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping

IDEMPOTENCY_WINDOW_S = 86_400
CALLER_KEY_MAX_CHARS = 200


def _tenant(tenant: str) -> str:
    if not tenant or tenant != tenant.strip():
        raise ValueError(f"tenant must be a non-empty name without surrounding spaces, not {tenant!r}")
    return tenant


def idempotency_key(tenant: str, plan_hash: str, targets: Iterable[str], parameters: Mapping[str, object]) -> str:
    """The key of submitting this plan version, on these targets, with these bound parameters, for this tenant."""
    document = {
        "parameters": dict(parameters),
        "plan_hash": plan_hash,
        "targets": sorted(set(targets)),
        "tenant": _tenant(tenant),
    }
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"parameters must be JSON values (text, numbers, booleans, null): {error}") from None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_control(char: str) -> bool:
    # Cc: control characters; Cf: invisible format characters (zero-width, bidi overrides) that make two keys
    # look the same.
    return unicodedata.category(char) in ("Cc", "Cf")


def caller_key(tenant: str, key: str) -> str:
    """A caller's own idempotency key, normalised: surrounding spaces removed, Unicode NFC, 1-200 characters.

    Raises ValueError for an empty or too long key, or one with control or invisible format characters. The
    store scopes it to `tenant`.
    """
    _tenant(tenant)
    normalised = unicodedata.normalize("NFC", key.strip())
    if not normalised:
        raise ValueError("an idempotency key must not be empty")
    if len(normalised) > CALLER_KEY_MAX_CHARS:
        raise ValueError(f"an idempotency key has at most {CALLER_KEY_MAX_CHARS} characters, not {len(normalised)}")
    bad = sorted({f"U+{ord(char):04X}" for char in normalised if _is_control(char)})
    if bad:
        raise ValueError(f"an idempotency key must not hold control or invisible characters ({', '.join(bad)})")
    return normalised
