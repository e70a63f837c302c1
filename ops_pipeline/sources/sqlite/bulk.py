"""Values SQLite has no type for, stored as text that sorts and compares like the value: timestamps as ISO text in
UTC (so a window's bounds compare as text), dates and times as ISO text, decimals exactly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal
from typing import Any

from ops_pipeline.sources.sql import Row


def stored_rows(rows: Sequence[Row]) -> list[Row]:
    return [tuple(_stored(v) for v in row) for row in rows]


def bound(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(sep=" ")


def _stored(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return moment.isoformat(sep=" ")
    if isinstance(value, date | clock):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
