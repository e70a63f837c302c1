"""SLA classes of a plan, and how one is derived from an estimated duration when a plan does not name it.

| estimate       | class    | what it means downstream                                           |
|----------------|----------|--------------------------------------------------------------------|
| <= 10 s        | `fast`   | the immediate path: run ahead of others, in-process executor       |
| <= 60 s        | `medium` | the queue, normal priority                                         |
| above 60 s     | `long`   | the queue, lowest priority, longest timeouts                       |

The seed's immediate path took plans under 10 s and its background path plans over 30 s, leaving 10-30 s
undecided; here the boundaries are inclusive upper bounds (exactly 10 s is still fast, exactly 60 s still
medium) so every estimate has exactly one class. The class picks a row of the SLA x action timeout matrix.
"""

from __future__ import annotations

import math
from typing import Literal

SlaClass = Literal["fast", "medium", "long"]
SLA_CLASSES: tuple[SlaClass, ...] = ("fast", "medium", "long")

FAST_MAX_S = 10.0
MEDIUM_MAX_S = 60.0


def derive_sla(estimate_s: float) -> SlaClass:
    """The SLA class of a plan expected to take `estimate_s` seconds (a finite number above zero)."""
    if not math.isfinite(estimate_s) or estimate_s <= 0:
        raise ValueError(f"an estimate must be a number of seconds above zero, not {estimate_s!r}")
    if estimate_s <= FAST_MAX_S:
        return "fast"
    if estimate_s <= MEDIUM_MAX_S:
        return "medium"
    return "long"
