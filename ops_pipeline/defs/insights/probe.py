"""One probe step for one detector: read only the grid points since the last step, update each series'
streaming state (O(1) per point; only the state pages those points touch are read and written, see
store/detector_states), record the new signals. States and signals are written in one transaction.

Each series' state remembers the last timestamp it absorbed, so a step that is repeated (a tick that crashed
after committing, say) skips what it already processed: nothing is counted twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np
import sqlalchemy as sa

from ops_pipeline.core.detectors import StreamState, update_many
from ops_pipeline.core.signals import InsightSignal
from ops_pipeline.core.time_grid import floor_to_step
from ops_pipeline.defs.insights.detection import signal_for
from ops_pipeline.metrics.long_range import query_long_range
from ops_pipeline.metrics.series import MetricSeries
from ops_pipeline.metrics.source import MetricsSource
from ops_pipeline.settings import DetectorSettings
from ops_pipeline.store import signals as signal_store
from ops_pipeline.store.detector_states import DetectorStates


@dataclass(frozen=True)
class ProbeStep:
    detector: str
    start: int | None
    end: int
    series: int
    points: int
    new_signals: list[InsightSignal]  # first recorded by this step
    state_bytes: int = 0  # detector state written (only the pages that changed)
    # Every signal this step's points raised, including any the day's batch recorded first (it may reach a grid
    # point before the probe does): the probe reacts to these, and the reactions' run keys keep it to once.
    found: list[InsightSignal] = field(default_factory=list)


def probe(
    engine: sa.Engine,
    detector: DetectorSettings,
    source: MetricsSource,
    last_end: int | None,
    now: int,
    max_points: int,
) -> ProbeStep:
    """Process the grid points after `last_end` up to `now`: at most `max_points` of them, oldest first, except in
    a detector's first step (`last_end` None), which reads its whole history."""
    step = detector.step
    newest = floor_to_step(now, step)
    # A detector seen for the first time starts its history back, so its states are warm when live data arrives.
    start = last_end if last_end is not None else floor_to_step(now - detector.history_s, step)
    start += step
    # ... and reads all of it in that first step, so that one tick makes it current.
    span = max_points if last_end is not None else max(max_points, (newest - start) // step + 1)
    end = min(newest, start + (span - 1) * step)
    if start > end:
        return ProbeStep(detector.name, None, last_end if last_end is not None else newest, 0, 0, [])
    series = query_long_range(source, detector.query, start, end, step)
    spec, fingerprint = detector.spec(), spec_fingerprint(detector)
    with engine.begin() as conn:
        states = DetectorStates(conn, detector.name, spec, fingerprint)
        absorbed = states.heads()
        fresh = {one.series_key: _after(one, absorbed.get(one.series_key)) for one in series}
        loaded = states.load({key: ts.size for key, (ts, _) in fresh.items() if ts.size})
        found: list[InsightSignal] = []
        updated: dict[str, tuple[StreamState, int]] = {}
        points = 0
        for one in series:
            timestamps, values = fresh[one.series_key]
            if timestamps.size == 0:
                continue
            key = one.series_key
            state, scores, signals = update_many(
                spec, loaded.get(key), timestamps, values, load_whole=functools.partial(states.load_whole, key)
            )
            updated[key] = (state, int(timestamps[-1]))
            found.extend(
                signal_for(detector, one, int(timestamps[i]), float(values[i]), float(scores[i]), "probe")
                for i in np.flatnonzero(signals)
            )
            points += int(np.count_nonzero(~np.isnan(values)))
        states.save(updated)
        new = signal_store.record_new(conn, found)
    return ProbeStep(detector.name, start, end, len(series), points, new, states.bytes_written, found)


def spec_fingerprint(detector: DetectorSettings) -> str:
    """Changes when the detector's parameters change; a state built under other parameters is discarded."""
    return hashlib.sha256(json.dumps(asdict(detector.spec()), sort_keys=True).encode()).hexdigest()[:16]


def _after(one: MetricSeries, last_ts: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The points of a series after the last one its state absorbed."""
    if last_ts is None:
        return one.timestamps, one.values
    fresh = one.timestamps > last_ts
    return one.timestamps[fresh], one.values[fresh]
