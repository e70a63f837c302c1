"""A labelled corpus of production-like metric series for judging anomaly detectors, generated from a fixed seed.

48 series, four of each of twelve families. Each family imitates a kind of metric people run detectors on, with
the normal behaviour that makes detection hard (cycles, bursts, trends, quantised counts, flat stretches) and
the anomalies that should be caught. Sampling intervals go from 10 s to 1 h, lengths from 1,000 to 20,000 points.

| family              | step         | normal behaviour                              | labelled anomalies             |
|---------------------|--------------|-----------------------------------------------|--------------------------------|
| machine_temperature | 5 min        | slow AR(1) wander, daily cycle, sensor noise  | overheating ramp, shutdown; dip |
| cpu_utilization     | 5 min        | daily cycle, nightly batch burst, 0..100      | runaway process; idle          |
| request_latency     | 10 s, 1 min  | log-normal p95, daily cycle, GC blips         | incident x3..x8; regression    |
| ad_clicks           | 1 h          | Poisson counts, daily and weekly seasonality  | click-fraud surge; outage      |
| social_counts       | 5 min        | negative-binomial, heavy-tailed bursts        | viral surge; ingestion outage  |
| taxi_demand         | 30 min       | strong daily and weekly seasonality, trend    | holiday, snowstorm, marathon   |
| error_counts        | 10 s, 1 min  | flat at 0, a rare single error                | error burst                    |
| pool_gauge          | 1 min        | flat integer gauge, a rare +-1 flicker        | spike; drop to 0               |
| queue_depth         | 30 s, 1 min  | AR(1) noise around a level                    | permanent shifts, up and down  |
| disk_usage          | 10 min       | slow linear growth, noise                     | leak: fast growth that stays   |
| network_jitter      | 1 min        | white noise around a level                    | variance x4..x6 for a while    |
| stuck_sensor        | 1 min, 5 min | smooth AR(1) signal plus noise                | repeats its last value         |

Every third series also has gaps: runs of NaN (a scrape outage) and scattered NaNs, kept away from the onsets.

Windows (what the scorer rewards) follow the Numenta Anomaly Benchmark: each anomaly gets a window of 10 % of the
series' length divided by its number of anomalies, here starting at the anomaly's first point (the corpus knows
the onset exactly, so nothing before it is rewarded), and covering at least 1.25 x the anomaly's duration. No
anomaly starts in the first 20 % of a series (the scorer's probation is the first 15 %).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SEED = 20260512
START_TS = 1_767_225_600  # 2026-01-01 00:00 UTC
DAY_S = 86_400
WEEK_S = 7 * DAY_S


@dataclass(frozen=True)
class LabelledSeries:
    name: str
    family: str
    step_s: int
    timestamps: np.ndarray  # int64 epoch seconds
    values: np.ndarray  # float64, NaN = gap
    windows: tuple[tuple[int, int], ...]  # (first index, last index) of each anomaly window, inclusive

    def __len__(self) -> int:
        return int(self.values.size)


@dataclass(frozen=True)
class _Anomaly:
    onset: int
    duration: int


# A family draws (values, anomalies) from a generator, a length and the time of each point.
Family = Callable[[np.random.Generator, int, np.ndarray], tuple[np.ndarray, list[_Anomaly]]]


def _onsets(rng: np.random.Generator, n: int, durations: list[int]) -> list[int]:
    """Onsets in [20 %, 95 %) of the series, in order, far enough apart that their windows do not overlap."""
    k = len(durations)
    span = max(int(0.1 * n / k), 10)
    low, high = int(0.2 * n), int(0.95 * n)
    for _ in range(1000):
        onsets = sorted(int(rng.integers(low, high - d)) for d in durations)
        lengths = [max(span, int(1.25 * d)) for d in durations]
        if all(onsets[i] + lengths[i] + 20 < onsets[i + 1] for i in range(k - 1)):
            return onsets
    raise RuntimeError("could not place the anomalies")


def _place(rng: np.random.Generator, n: int, durations: list[int]) -> list[_Anomaly]:
    """One anomaly per duration, in the order given, at onsets in a random order."""
    order = [int(i) for i in rng.permutation(len(durations))]
    onsets = _onsets(rng, n, [durations[i] for i in order])
    placed = dict(zip(order, onsets, strict=True))
    return [_Anomaly(placed[i], d) for i, d in enumerate(durations)]


def _daily(ts: np.ndarray, phase_h: float = 0.0) -> np.ndarray:
    return np.sin(2 * np.pi * ((ts - phase_h * 3600) % DAY_S) / DAY_S)


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    noise = rng.normal(0.0, sigma, n)
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = phi * acc + noise[i]
        out[i] = acc
    return out


def machine_temperature(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    values = 70 + _ar1(rng, n, 0.995, 0.25) + 2.0 * _daily(ts, 14) + rng.normal(0, 0.5, n)
    ramp, down = int(rng.integers(150, 400)), int(rng.integers(50, 150))
    anomalies = _place(rng, n, [ramp + down, int(rng.integers(30, 120))])
    fail, dip = anomalies
    values[fail.onset : fail.onset + ramp] += np.linspace(0, rng.uniform(12, 20), ramp)
    values[fail.onset + ramp : fail.onset + ramp + down] = 22 + rng.normal(0, 0.5, down)
    values[dip.onset : dip.onset + dip.duration] -= rng.uniform(6, 10)
    return values, anomalies


def cpu_utilization(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    values = 25 + 10 * _daily(ts, 9) + rng.normal(0, 3, n)
    nightly = ((ts % DAY_S) >= 2 * 3600) & ((ts % DAY_S) < 2 * 3600 + 900)  # a 15-minute batch job at 02:00
    values[nightly] += 30
    anomalies = _place(rng, n, [int(rng.integers(100, 400)), int(rng.integers(50, 200))])
    runaway, idle = anomalies
    values[runaway.onset : runaway.onset + runaway.duration] = rng.uniform(85, 95) + rng.normal(0, 2, runaway.duration)
    values[idle.onset : idle.onset + idle.duration] = 2 + np.abs(rng.normal(0, 0.5, idle.duration))
    return np.clip(values, 0, 100), anomalies


def request_latency(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    base = rng.uniform(80, 250)
    values = base * (1 + 0.15 * _daily(ts, 15)) * np.exp(rng.normal(0, 0.08, n))
    gc = rng.random(n) < 0.003
    values[gc] *= rng.uniform(1.3, 1.8, int(gc.sum()))
    incident, regression = _place(rng, n, [int(rng.integers(5, 60)), 1])  # the regression is permanent
    values[incident.onset : incident.onset + incident.duration] *= rng.uniform(3, 8)
    values[regression.onset :] *= rng.uniform(1.3, 1.6)
    return values, [incident, regression]


def ad_clicks(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    hour = (ts % DAY_S) / 3600
    profile = 0.3 + 0.7 * np.exp(-(((hour - 14) / 5) ** 2))
    weekend = np.where(((ts // DAY_S) + 3) % 7 >= 5, 0.7, 1.0)  # 1970-01-01 was a Thursday
    rate = rng.uniform(100, 400) * profile * weekend
    anomalies = _place(rng, n, [int(rng.integers(3, 12)), int(rng.integers(6, 24))])
    fraud, outage = anomalies
    rate[fraud.onset : fraud.onset + fraud.duration] *= rng.uniform(3, 5)
    rate[outage.onset : outage.onset + outage.duration] *= 0.01
    return rng.poisson(rate).astype(np.float64), anomalies


def social_counts(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    mean = rng.uniform(10, 40) * np.exp(_ar1(rng, n, 0.99, 0.03)) * (1 + 0.3 * _daily(ts, 18))
    bursts = np.zeros(n)
    for start in np.flatnonzero(rng.random(n) < 1 / 300):  # heavy-tailed, normal bursts: Pareto heights
        height = mean[start] * (rng.pareto(1.5) + 1) * 1.5
        decay = height * np.exp(-np.arange(min(40, n - start)) / rng.uniform(3, 10))
        bursts[start : start + decay.size] += decay
    anomalies = _place(rng, n, [int(rng.integers(50, 200)), int(rng.integers(30, 100))])
    viral, outage = anomalies
    shape = np.minimum(1, np.arange(viral.duration) / 10)  # ramps up over ten points
    mean[viral.onset : viral.onset + viral.duration] *= 1 + rng.uniform(10, 20) * shape
    rate = mean + bursts
    rate[outage.onset : outage.onset + outage.duration] = 0.0
    dispersion = 5.0
    counts = rng.negative_binomial(dispersion, dispersion / (dispersion + np.maximum(rate, 1e-9)))
    return counts.astype(np.float64), anomalies


def taxi_demand(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    hour = (ts % DAY_S) / 3600
    daily = 0.25 + np.exp(-(((hour - 8.5) / 1.5) ** 2)) + 1.2 * np.exp(-(((hour - 19) / 2.5) ** 2))
    weekday = ((ts // DAY_S) + 3) % 7
    weekly = np.array([1.0, 1.02, 1.05, 1.08, 1.15, 1.1, 0.85])[weekday]
    values = 12000 * daily * weekly * (1 + np.linspace(0, 0.1, n)) * np.exp(rng.normal(0, 0.04, n))
    anomalies = _place(rng, n, [48, int(rng.integers(24, 36)), int(rng.integers(6, 10))])
    holiday, storm, marathon = anomalies
    values[holiday.onset : holiday.onset + holiday.duration] *= rng.uniform(0.45, 0.6)
    values[storm.onset : storm.onset + storm.duration] *= rng.uniform(0.25, 0.4)
    values[marathon.onset : marathon.onset + marathon.duration] *= rng.uniform(1.4, 1.7)
    return values, anomalies


def error_counts(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    values = (rng.random(n) < 0.002).astype(np.float64)
    [burst] = _place(rng, n, [int(rng.integers(3, 30))])
    values[burst.onset : burst.onset + burst.duration] = rng.poisson(rng.uniform(20, 200), burst.duration)
    return values, [burst]


def pool_gauge(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    level = float(rng.integers(4, 20))
    values = np.full(n, level)
    flicker = np.flatnonzero(rng.random(n) < 0.003)
    values[flicker] += rng.choice([-1.0, 1.0], flicker.size)
    anomalies = _place(rng, n, [int(rng.integers(1, 5)), int(rng.integers(10, 30))])
    spike, drop = anomalies
    values[spike.onset : spike.onset + spike.duration] = level * rng.uniform(3, 6)
    values[drop.onset : drop.onset + drop.duration] = 0.0
    return values, anomalies


def queue_depth(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    sigma = rng.uniform(2, 6)
    values = rng.uniform(30, 200) + _ar1(rng, n, 0.6, sigma * 0.8)
    anomalies = _place(rng, n, [1, 1])
    for shift, sign in zip(anomalies, rng.permutation([1.0, -1.0]), strict=True):
        values[shift.onset :] += sign * rng.uniform(5, 10) * sigma
    return values, anomalies


def disk_usage(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    sigma = rng.uniform(0.2, 1.0)
    values = rng.uniform(20, 60) + np.arange(n) * 0.005 * sigma + rng.normal(0, sigma, n)
    [leak] = _place(rng, n, [int(rng.integers(100, 300))])
    growth = np.linspace(0, rng.uniform(15, 30) * sigma, leak.duration)
    values[leak.onset : leak.onset + leak.duration] += growth
    values[leak.onset + leak.duration :] += growth[-1]
    return values, [leak]


def network_jitter(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    level, sigma = rng.uniform(5, 40), rng.uniform(0.5, 3)
    values = level + rng.normal(0, sigma, n)
    anomalies = _place(rng, n, [int(rng.integers(100, 500))])
    for noisy in anomalies:
        values[noisy.onset : noisy.onset + noisy.duration] = level + rng.normal(
            0, sigma * rng.uniform(4, 6), noisy.duration
        )
    return values, anomalies


def stuck_sensor(rng: np.random.Generator, n: int, ts: np.ndarray) -> tuple[np.ndarray, list[_Anomaly]]:
    values = 45 + _ar1(rng, n, 0.98, 0.4) + rng.normal(0, 0.3, n)
    anomalies = _place(rng, n, [int(rng.integers(100, 600))])
    for stuck in anomalies:
        values[stuck.onset : stuck.onset + stuck.duration] = values[stuck.onset - 1]
    return values, anomalies


# family -> (generator, choices of step in seconds, (shortest, longest) length)
FAMILIES: dict[str, tuple[Family, tuple[int, ...], tuple[int, int]]] = {
    "machine_temperature": (machine_temperature, (300,), (8_000, 20_000)),
    "cpu_utilization": (cpu_utilization, (300,), (4_000, 12_000)),
    "request_latency": (request_latency, (10, 60), (5_000, 20_000)),
    "ad_clicks": (ad_clicks, (3600,), (1_000, 4_000)),
    "social_counts": (social_counts, (300,), (5_000, 15_000)),
    "taxi_demand": (taxi_demand, (1800,), (5_000, 10_320)),
    "error_counts": (error_counts, (10, 60), (3_000, 20_000)),
    "pool_gauge": (pool_gauge, (60,), (2_000, 10_000)),
    "queue_depth": (queue_depth, (30, 60), (3_000, 15_000)),
    "disk_usage": (disk_usage, (600,), (2_000, 8_000)),
    "network_jitter": (network_jitter, (60,), (3_000, 12_000)),
    "stuck_sensor": (stuck_sensor, (60, 300), (3_000, 15_000)),
}
PER_FAMILY = 4


def _with_gaps(rng: np.random.Generator, values: np.ndarray, anomalies: list[_Anomaly]) -> np.ndarray:
    """Scrape outages (runs of NaN) and scattered NaNs, never within 20 points of an onset."""
    n = values.size
    keep_clear = np.zeros(n, dtype=bool)
    for a in anomalies:
        keep_clear[max(a.onset - 20, 0) : a.onset + 20] = True
    holes = rng.random(n) < 0.005
    for start in rng.integers(0, n, int(rng.integers(2, 6))):
        holes[start : start + int(rng.integers(10, 120))] = True
    out = values.copy()
    out[holes & ~keep_clear] = np.nan
    return out


def _windows(n: int, anomalies: list[_Anomaly]) -> tuple[tuple[int, int], ...]:
    span = max(int(0.1 * n / len(anomalies)), 10)
    ordered = sorted(anomalies, key=lambda a: a.onset)
    windows = []
    for i, a in enumerate(ordered):
        end = a.onset + max(span, int(1.25 * a.duration)) - 1
        limit = ordered[i + 1].onset - 1 if i + 1 < len(ordered) else n - 1
        windows.append((a.onset, min(end, limit)))
    return tuple(windows)


def build_corpus(seed: int = SEED) -> list[LabelledSeries]:
    """The whole corpus, the same arrays for the same seed."""
    corpus: list[LabelledSeries] = []
    for family_index, (family, (generate, steps, (shortest, longest))) in enumerate(FAMILIES.items()):
        for i in range(PER_FAMILY):
            rng = np.random.default_rng([seed, family_index, i])
            step = int(steps[i % len(steps)])
            n = int(rng.integers(shortest, longest + 1))
            ts = START_TS + step * np.arange(n, dtype=np.int64)
            values, anomalies = generate(rng, n, ts)
            if (family_index * PER_FAMILY + i) % 3 == 2:
                values = _with_gaps(rng, values, anomalies)
            corpus.append(
                LabelledSeries(
                    name=f"{family}_{i}",
                    family=family,
                    step_s=step,
                    timestamps=ts,
                    values=np.asarray(values, dtype=np.float64),
                    windows=_windows(n, anomalies),
                )
            )
    return corpus


def split_halves(corpus: list[LabelledSeries]) -> tuple[list[LabelledSeries], list[LabelledSeries]]:
    """(tuning half, held-out half): two series of every family in each."""
    tuning = [s for s in corpus if int(s.name.rsplit("_", 1)[1]) % 2 == 0]
    held_out = [s for s in corpus if int(s.name.rsplit("_", 1)[1]) % 2 == 1]
    return tuning, held_out
