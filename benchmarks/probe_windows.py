"""The probe's tick against the window length, for `anomaly_probe.py`: the same 1,000 recorded series through a
plain z-score of window 60 and one of window 12,000 (more than eight days at a one-minute step).

Each detector's states are seeded as if the probe had been running: the real `update_many` over as much history
as the detector needs (`DetectorSpec.history_points` of noise like the recorded series', ending at `now`), saved
through the real `DetectorStates`. Then, `TICKS` times, a minute is appended to the file (parsed untimed) and one
`probe` step of each detector is timed on it, in alternating order; both read the same parsed file, so only the
window differs. Reported per window: the median tick, the state stored per series, the state written per tick,
and what the old JSON form of one state weighed.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa

from ops_pipeline.core.detectors import update_many
from ops_pipeline.defs.insights.probe import ProbeStep, probe, spec_fingerprint
from ops_pipeline.metrics.source import MetricsSource
from ops_pipeline.settings import DetectorSettings
from ops_pipeline.store.detector_states import DetectorStates
from ops_pipeline.store.tables import detector_state_pages

WINDOWS = (60, 12_000)
TICKS = 15


@dataclass
class WindowFigures:
    detector: DetectorSettings
    seed_s: float = 0.0
    ticks: list[float] = field(default_factory=list)
    bytes_written: list[int] = field(default_factory=list)
    stored_bytes_per_series: float = 0.0
    json_bytes_per_series: int = 0

    @property
    def window(self) -> int:
        return int(self.detector.window or 0)

    @property
    def tick_s(self) -> float:
        return statistics.median(self.ticks)


def detectors(query: str) -> list[DetectorSettings]:
    return [
        DetectorSettings(
            name=f"zscore_window_{window}",
            source="recorded",
            query=query,
            kind="zscore",
            window=window,
            threshold=5.0,
            direction="up",
            step=60,
        )
        for window in WINDOWS
    ]


def seed(
    engine: sa.Engine, detector: DetectorSettings, keys: list[str], now: int, base: float, rng: np.random.Generator
) -> WindowFigures:
    """Warm states for every series, ending at `now`, saved as the probe would have left them."""
    started = time.perf_counter()
    spec = detector.spec()
    points = spec.history_points
    timestamps = now - 60 * np.arange(points - 1, -1, -1, dtype=np.int64)
    states = {}
    for key in keys:
        values = np.round(base + rng.uniform(-1.0, 1.0, points), 4)
        states[key] = (update_many(spec, None, timestamps, values)[0], now)
    with engine.begin() as conn:
        store = DetectorStates(conn, detector.name, spec, spec_fingerprint(detector))
        store.heads()
        store.save(states)
    one = next(iter(states.values()))[0]
    figures = WindowFigures(detector, seed_s=time.perf_counter() - started)
    figures.json_bytes_per_series = len(json.dumps({"data": one.data.tolist()}))  # the old strict-JSON form
    return figures


def tick(engine: sa.Engine, figures: WindowFigures, source: MetricsSource, last_end: int, now: int) -> ProbeStep:
    started = time.perf_counter()
    step = probe(engine, figures.detector, source, last_end, now, 1440)
    figures.ticks.append(time.perf_counter() - started)
    figures.bytes_written.append(step.state_bytes)
    return step


def run(
    engine: sa.Engine,
    source: MetricsSource,
    all_figures: list[WindowFigures],
    first_now: int,
    append_minute: Callable[[int], None],
    check: Callable[[ProbeStep, int, WindowFigures], None],
) -> None:
    """`TICKS` minutes from `first_now`: append one, then one probe step per window, in alternating order."""
    for number in range(TICKS):
        now = first_now + 60 * number
        append_minute(now)
        order = all_figures if number % 2 == 0 else all_figures[::-1]
        for figures in order:
            check(tick(engine, figures, source, now - 60, now), now, figures)


def measure_storage(engine: sa.Engine, figures: WindowFigures, series: int) -> None:
    pages = detector_state_pages.c
    with engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.sum(sa.func.length(pages.data))).where(pages.detector == figures.detector.name)
        ).scalar_one()
    figures.stored_bytes_per_series = float(total) / series


def report(all_figures: list[WindowFigures], series: int) -> list[str]:
    lines = [
        f"{'window':>8}{'seed s':>9}{'median tick s':>15}{'fastest..slowest s':>20}{'stored/series':>15}"
        f"{'written/tick':>14}{'old JSON/series':>17}"
    ]
    for f in all_figures:
        spread = f"{min(f.ticks):.3f}..{max(f.ticks):.3f}"
        lines.append(
            f"{f.window:>8,}{f.seed_s:>9.1f}{f.tick_s:>15.3f}{spread:>20}{f.stored_bytes_per_series / 1024:>12.1f} KB"
            f"{statistics.median(f.bytes_written) / 1e6:>11.2f} MB{f.json_bytes_per_series / 1024:>14.0f} KB"
        )
    short, long = all_figures
    lines.append(
        f"window {long.window:,} vs {short.window}: tick {long.tick_s / short.tick_s:.2f}x, state stored "
        f"{long.stored_bytes_per_series / short.stored_bytes_per_series:.0f}x, state written per tick "
        f"{statistics.median(long.bytes_written) / statistics.median(short.bytes_written):.2f}x ({series:,} series)"
    )
    return lines
