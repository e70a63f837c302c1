"""Today's insight_signals partition as soon as the daemon runs: the refresh schedule's first tick can be up to
15 minutes away, and the UI should show today's signals within a minute of starting."""

from datetime import UTC, datetime

import dagster as dg

from ops_pipeline.defs.insights.schedules import refresh_insight_signals


def build_insight_signals_today_sensor(running: bool, interval_s: int = 30) -> dg.SensorDefinition:
    @dg.sensor(
        name="insight_signals_today",
        job=refresh_insight_signals,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED,
        description="Materializes today's (UTC) insight_signals partition once a day, starting at once; the "
        "insight_signals_refresh schedule keeps it current after that.",
    )
    def insight_signals_today(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        today = datetime.now(UTC).date().isoformat()
        if context.cursor == today:
            return dg.SensorResult(skip_reason=dg.SkipReason(f"today's partition {today} was already requested"))
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=today,
                    run_key=f"insight_signals_today:{today}",
                    tags={"dagster/priority": "1"},  # ahead of the start-up queue (scans, reactions, history)
                )
            ],
            cursor=today,
        )

    return insight_signals_today
