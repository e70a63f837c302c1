"""How MySQL and MariaDB spell types in `COLUMN_TYPE`: BOOLEAN is `tinyint(1)`, `bit(n)` is a number, a bare
DATETIME or TIME has no fractional seconds, and TIME is a duration."""

from __future__ import annotations

from ops_pipeline.core.models import TypeRules

TYPE_RULES = TypeRules(
    label="mysql",
    tinyint1_is_boolean=True,
    default_fraction_digits=0,
    time_note="MySQL TIME is a duration: -838:59:59 to 838:59:59",
)
