"""Cron expressions as Dagster schedules accept them: five fields (minute hour day-of-month month day-of-week)
or a macro such as `@daily`, and no date that never comes (February 30th).

Checked when ops.yaml is read, so `ops-pipeline config check` refuses exactly what the code location would.
Dagster vendors an older croniter that knows no `W` (nearest weekday); it is refused here too.
"""

from __future__ import annotations

from croniter import croniter

FEBRUARY = 2


def cron_problem(expression: str) -> str | None:
    """Why Dagster would refuse `expression` as a schedule, or None when it is valid."""
    if "w" in expression.lower().replace("@weekly", ""):
        return "'W' (nearest weekday) is not supported by Dagster's schedules"
    if not croniter.is_valid(expression):
        return "not a cron expression"
    fields, *_ = croniter.expand(expression)
    if len(fields) != 5:
        return "Dagster schedules take five fields (minute hour day month weekday), not seconds"
    days, months = fields[2], fields[3]
    if len(months) == 1 and months[0] == FEBRUARY and len(days) == 1 and days[0] in (30, 31):
        return "February has no such day, so the schedule would never run"
    return None
