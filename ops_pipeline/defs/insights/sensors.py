"""The anomaly probe: each tick reads only the points that arrived since the last one, updates the streaming
detectors, records new signals, and launches the jobs ops.yaml attaches to them, once per signal."""

import json
import time
from collections.abc import Mapping, Sequence

import dagster as dg

from ops_pipeline.core.signals import InsightSignal, reaches
from ops_pipeline.defs.insights.jobs import ReactionJob
from ops_pipeline.defs.insights.probe import ProbeStep, probe
from ops_pipeline.metrics.series import MetricsError
from ops_pipeline.resources.metrics import MetricsResource
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.settings import DetectorSettings, InsightsSettings


def reaction_requests(detector: DetectorSettings, signals: list[InsightSignal]) -> list[dg.RunRequest]:
    """One run per (signal, reaction); the run key is the signal's natural key, so it never launches twice. The
    signal is the reaction job's (flat) run config."""
    return [
        dg.RunRequest(
            job_name=reaction.job,
            run_key=f"{reaction.job}:{signal.natural_key}",
            run_config={
                "detector": signal.detector,
                "series_key": signal.series_key,
                "ts": int(signal.ts.timestamp()),
            },
            tags={"ops_pipeline/detector": signal.detector, "ops_pipeline/severity": signal.severity},
        )
        for signal in signals
        for reaction in detector.reactions
        if reaches(signal.severity, reaction.severity)
    ]


def build_anomaly_probe_sensor(
    detectors: Sequence[DetectorSettings], insights: InsightsSettings, jobs: Mapping[str, ReactionJob]
) -> dg.SensorDefinition:
    @dg.sensor(
        name="anomaly_probe",
        minimum_interval_seconds=insights.probe_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING if insights.probe_running else dg.DefaultSensorStatus.STOPPED,
        jobs=[reaction.job for reaction in jobs.values()],
        description="Streams new metric points through the detectors and reacts to new signals.",
    )
    def anomaly_probe(
        context: dg.SensorEvaluationContext, ops_store: OpsStoreResource, metrics: MetricsResource
    ) -> dg.SensorResult | dg.SkipReason:
        if not detectors:
            return dg.SkipReason("no detectors configured in ops.yaml")
        cursor: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        engine, now = ops_store.engine(), int(time.time())
        steps: list[ProbeStep] = []
        requests: list[dg.RunRequest] = []
        for detector in detectors:
            try:
                step = probe(
                    engine,
                    detector,
                    metrics.source(detector.source, engine),
                    cursor.get(detector.name),
                    now,
                    insights.max_points_per_tick,
                )
            except MetricsError as error:
                context.log.warning(f"detector {detector.name}: {error}")
                continue
            cursor[detector.name] = step.end
            steps.append(step)
            requests.extend(reaction_requests(detector, step.found))
        found = sum(len(s.found) for s in steps)
        points = sum(s.points for s in steps)
        summary = f"{found} signals from {points} new points across {sum(s.series for s in steps)} series"
        if not requests:
            reason = summary + ("; none reaches a reaction" if found else ", no new signal")
            return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=json.dumps(cursor, sort_keys=True))
        context.log.info(f"{summary}; {len(requests)} reactions")
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))

    return anomaly_probe
