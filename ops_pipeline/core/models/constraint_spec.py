"""A constraint requested in ops.yaml (`data_products.models[].constraints`), validated, and the names of the
predefined constraints it may request."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

ConstraintKind = Literal["predefined", "range", "pattern", "not_null", "one_of", "expression"]

TICKER_PATTERN: Final = r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$"
QTY_POSITIVE: Final = "qtyPositive"
VALID_TICKER: Final = "validTicker"
NOT_NULL: Final = "notNull"
PREDEFINED_CONSTRAINTS: Final[tuple[str, ...]] = (NOT_NULL, QTY_POSITIVE, VALID_TICKER)

_CONSTRAINT_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConstraintSpec(BaseModel):
    """A constraint requested in configuration.

    ``kind`` decides which other keys apply (any other key is an error):

    * ``predefined``: ``name`` is one of ``notNull``, ``qtyPositive``, ``validTicker``; ``field``;
    * ``range``: ``field`` plus ``min`` and/or ``max``; ``exclusive_min``/``exclusive_max`` make a bound strict;
    * ``pattern``: ``field`` plus ``pattern`` (a regex, used by PURE ``matches`` and JSON Schema ``pattern``);
    * ``not_null``: ``field``;
    * ``one_of``: ``field`` plus ``values``;
    * ``expression``: ``pure_expression`` (a PURE boolean expression over ``$this``), ``field`` optional.

    ``field`` is a column name or a PURE property name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: ConstraintKind = "predefined"
    field: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    exclusive_min: bool = False
    exclusive_max: bool = False
    pattern: str | None = None
    values: tuple[StrictBool | StrictInt | StrictFloat | StrictStr, ...] | None = None
    pure_expression: str | None = None
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _identifier(cls, name: str) -> str:
        if not _CONSTRAINT_NAME_RE.match(name):
            raise ValueError(f"constraint name {name!r} is not an identifier (letters, digits, _; no leading digit)")
        return name

    @field_validator("min", "max")
    @classmethod
    def _finite(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not value.is_finite():
            raise ValueError("bounds must be finite numbers")
        return value

    @field_validator("pattern")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
        return pattern

    @model_validator(mode="after")
    def _fits_kind(self) -> ConstraintSpec:
        allowed: dict[str, set[str]] = {
            "predefined": set(),
            "range": {"min", "max", "exclusive_min", "exclusive_max"},
            "pattern": {"pattern"},
            "not_null": set(),
            "one_of": {"values"},
            "expression": {"pure_expression"},
        }
        optional = {"min", "max", "exclusive_min", "exclusive_max", "pattern", "values", "pure_expression"}
        extra = sorted(k for k in optional - allowed[self.kind] if k in self.model_fields_set)
        if extra:
            raise ValueError(f"constraint {self.name!r}: {', '.join(extra)} not allowed for kind {self.kind!r}")
        if self.kind != "expression" and not self.field:
            raise ValueError(f"constraint {self.name!r}: kind {self.kind!r} needs a field")
        if self.kind == "predefined" and self.name not in PREDEFINED_CONSTRAINTS:
            raise ValueError(
                f"constraint {self.name!r}: not a predefined constraint ({', '.join(PREDEFINED_CONSTRAINTS)})"
            )
        if self.kind != "predefined" and self.name in PREDEFINED_CONSTRAINTS:
            raise ValueError(f"constraint {self.name!r}: the name is reserved for the predefined constraint")
        if self.kind == "range":
            if self.min is None and self.max is None:
                raise ValueError(f"constraint {self.name!r}: a range needs min and/or max")
            if self.min is not None and self.max is not None:
                empty = self.min > self.max or (self.min == self.max and (self.exclusive_min or self.exclusive_max))
                if empty:
                    raise ValueError(f"constraint {self.name!r}: empty range {self.min}..{self.max}")
        if self.kind == "pattern" and not self.pattern:
            raise ValueError(f"constraint {self.name!r}: kind 'pattern' needs a pattern")
        if self.kind == "one_of" and not self.values:
            raise ValueError(f"constraint {self.name!r}: kind 'one_of' needs at least one value")
        if self.kind == "expression" and not (self.pure_expression or "").strip():
            raise ValueError(f"constraint {self.name!r}: kind 'expression' needs a pure_expression")
        return self
