"""The time grid detectors run on: multiples of the detector's step, so batch and probe see the same points."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def floor_to_step(ts: int, step: int) -> int:
    return ts - ts % step


def day_bounds(day: date) -> tuple[int, int]:
    """First and last second of a UTC day, as epoch seconds."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp()) - 1


def moment(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
