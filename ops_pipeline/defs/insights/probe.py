"""One probe step for one detector: read only the grid points since the last step, update each series'
streaming state (O(1) per point), record the new signals. States and signals are written in one transaction.

Each series' state remembers the last timestamp it absorbed, so a step that is repeated (a tick that crashed
after committing, say) skips what it already processed: nothing is counted twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from ops_pipeline.core.detectors import DetectorSpec, StreamState, update_many
from ops_pipeline.core.signals import InsightSignal
from ops_pipeline.core.time_grid import floor_to_step, moment
from ops_pipeline.defs.insights.detection import signal_for
from ops_pipeline.metrics.series import MetricSeries
from ops_pipeline.metrics.source import MetricsSource
from ops_pipeline.settings import DetectorSettings
from ops_pipeline.store import signals as signal_store


@dataclass(frozen=True)
class ProbeStep:
    detector: str
    start: int | None
    end: int
    series: int
    points: int
    new_signals: list[InsightSignal]


def probe(
    engine: sa.Engine,
    detector: DetectorSettings,
    source: MetricsSource,
    last_end: int | None,
    now: int,
    max_points: int,
) -> ProbeStep:
    """Process the grid points after `last_end` up to `now` (at most `max_points` of them, oldest first)."""
    step = detector.step
    newest = floor_to_step(now, step)
    # A detector seen for the first time starts `lookback` back, so its states are warm when live data arrives.
    start = last_end if last_end is not None else floor_to_step(now - detector.lookback, step)
    start += step
    end = min(newest, start + (max_points - 1) * step)
    if start > end:
        return ProbeStep(detector.name, None, last_end if last_end is not None else newest, 0, 0, [])
    series = source.query_range(detector.query, moment(start), moment(end), timedelta(seconds=step))
    with engine.begin() as conn:
        states = signal_store.load_states(conn, detector.name)
        found: list[InsightSignal] = []
        updated: dict[str, tuple[dict[str, Any], int]] = {}
        points = 0
        spec, fingerprint = detector.spec(), spec_fingerprint(detector)
        for one in series:
            advanced = _advance(detector, spec, fingerprint, one, states.get(one.series_key))
            if advanced is not None:
                state_json, last_ts, signals, count = advanced
                updated[one.series_key] = (state_json, last_ts)
                found.extend(signals)
                points += count
        signal_store.save_states(conn, detector.name, updated)
        new = signal_store.record_new(conn, found)
    return ProbeStep(detector.name, start, end, len(series), points, new)


def spec_fingerprint(detector: DetectorSettings) -> str:
    """Changes when the detector's parameters change; a state built under other parameters is discarded."""
    return hashlib.sha256(json.dumps(asdict(detector.spec()), sort_keys=True).encode()).hexdigest()[:16]


def _advance(
    detector: DetectorSettings,
    spec: DetectorSpec,
    fingerprint: str,
    one: MetricSeries,
    saved: tuple[dict[str, Any], int | None] | None,
) -> tuple[dict[str, Any], int, list[InsightSignal], int] | None:
    state: StreamState | None = None
    last_ts: int | None = None
    if saved is not None and saved[0].get("spec") == fingerprint:
        state, last_ts = StreamState.from_json(saved[0]["stream"]), saved[1]
    fresh = one.timestamps > last_ts if last_ts is not None else np.ones(one.timestamps.shape, dtype=bool)
    timestamps, values = one.timestamps[fresh], one.values[fresh]
    if timestamps.size == 0:
        return None
    state, scores, signals = update_many(spec, state, timestamps, values)
    found = [
        signal_for(detector, one, int(timestamps[i]), float(values[i]), float(scores[i]), "probe")
        for i in np.flatnonzero(signals)
    ]
    saved_state = {"spec": fingerprint, "stream": state.to_json()}
    return saved_state, int(timestamps[-1]), found, int(np.count_nonzero(~np.isnan(values)))
