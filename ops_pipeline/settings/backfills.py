"""`backfills:` windowed copies from a source table or query into a destination, with sample validation."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from ops_pipeline.core.sample_validation import ValidationRule
from ops_pipeline.settings.base import Name, PlausibleDateTime, StrictModel, field_error
from ops_pipeline.settings.sources import BackfillRole, backfill_types, spoken_list


def _registered(role: BackfillRole) -> str:
    return f"a registered {spoken_list(backfill_types(role))} source"


class SampleValidation(StrictModel):
    sample_rows: int = Field(default=1000, ge=1, le=1_000_000)
    threshold: float = Field(default=1.0, ge=0, le=1, description="lowest score that lets a partition load")
    rules: list[ValidationRule] = []


class BackfillSettings(StrictModel):
    source: Name = Field(description=_registered("source"))
    table: Name | None = Field(default=None, description="schema.table or table in the source")
    query: Name | None = Field(
        default=None, description="one SELECT (no ';') instead of a table; the window filter wraps it"
    )
    time_column: Name
    destination: Name = Field(description=_registered("destination"))
    destination_table: Name | None = Field(default=None, description="default: the pipeline's name")
    window: Literal["hourly", "daily"] = "daily"
    start: PlausibleDateTime
    end: PlausibleDateTime | None = None
    partitions_per_run: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="windows per run for UI backfills; unset: a whole range in one run, which the dagster CLI's "
        "--partition-range requires",
    )
    chunk_rows: int = Field(default=50_000, ge=100, le=5_000_000)
    concurrent_windows: int | None = Field(
        default=None,
        ge=1,
        le=32,
        description="windows of a run loaded at once, each on its own connection pair; unset: 2 into PostgreSQL, "
        "1 into SQLite (one writer at a time)",
    )
    window_timeout_s: float = Field(
        default=3600.0,
        gt=0,
        le=7 * 86400,
        description="longest one window may take, waiting for another run of the same window included; past it "
        "the window is rolled back and the run fails",
    )
    validation: SampleValidation = SampleValidation()

    @model_validator(mode="after")
    def _table_or_query(self) -> BackfillSettings:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        if self.query is not None and not re.match(r"^\s*(select|with)\b", self.query, re.IGNORECASE):
            raise field_error("query", "must be a SELECT (or WITH ... SELECT) statement")
        if self.query is not None and ";" in self.query:
            raise field_error("query", "must be one statement, without ';'")
        return self

    @model_validator(mode="after")
    def _end_after_start(self) -> BackfillSettings:
        if self.end is None:
            return self
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise field_error("end", "give start and end both with a time zone offset or both without")
        if self.end <= self.start:
            raise field_error("end", "must be after start")
        return self
