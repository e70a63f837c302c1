"""`config check` refuses exactly the cron expressions Dagster refuses when the code location loads."""

from __future__ import annotations

import warnings

import dagster as dg
import pytest

from ops_pipeline.core.cron import cron_problem

CRONS = (
    "@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "@reboot",
    "* * * * *", "*/0 * * * *", "60 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 32 * *", "0 0 * 13 *",
    "0 0 * * 7", "0 0 * * 8", "0 0 30 2 *", "0 0 29 2 *", "0 0 31 2,4 *", "0 0 L * *", "0 0 1W * *",
    "0 0 * * 5#3", "0 0 * * 5L", "* * * * * *", "0 0 * * SUN-SAT", "0 0 * JAN-DEC *", "H * * * *",
    "5-1 * * * *", "0 0 ? * *", "1,2,,3 * * * *", "0 0 1 1 * 2020", "*/60 * * * *", "-1 * * * *",
    "0 0 L 2 *", "0 0 LW * *", "@every 5m", "0 0 30,31 2 *",
)  # fmt: skip


@dg.op
def _noop() -> None:
    pass


@dg.job
def _job() -> None:
    _noop()


def dagster_accepts(cron: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            schedule = dg.ScheduleDefinition(name="s", cron_schedule=cron, job=_job)
            dg.Definitions.validate_loadable(dg.Definitions(schedules=[schedule], jobs=[_job]))
        except Exception:
            return False
    return True


@pytest.mark.parametrize("cron", CRONS)
def test_cron_check_agrees_with_dagster(cron: str) -> None:
    assert (cron_problem(cron) is None) == dagster_accepts(cron)
