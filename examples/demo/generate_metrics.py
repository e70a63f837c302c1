"""Recorded metrics for the demo: a few services' latency and queue depths at one-minute resolution, ending now.

The series carry daily cycles and noise, plus two anomalies the detectors should find: a latency spike on
`checkout` about a day ago and a level shift in `payments` latency a few hours ago.

    python examples/demo/generate_metrics.py [path] [--days 3] [--seed 7] [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_PATH = Path(__file__).resolve().parent / "metrics.csv"
STEP_S = 60
SERIES = (
    ("http_request_latency_p95", {"service": "checkout"}, 120.0, 6.0),
    ("http_request_latency_p95", {"service": "search"}, 80.0, 4.0),
    ("http_request_latency_p95", {"service": "payments"}, 200.0, 9.0),
    ("queue_depth", {"queue": "orders"}, 40.0, 3.0),
    ("queue_depth", {"queue": "emails"}, 15.0, 2.0),
)


def is_fresh(path: Path, max_age_s: int = 600) -> bool:
    """True when the file exists and its newest sample is at most `max_age_s` old."""
    if not path.exists():
        return False
    newest = pd.read_csv(path, usecols=["timestamp"])["timestamp"].max()
    return bool(time.time() - float(newest) <= max_age_s)


def generate_metrics(path: Path, *, days: int = 3, seed: int = 7, end: int | None = None) -> Path:
    """Write the demo metrics CSV (timestamp, metric, labels, value) ending at `end` (default: now)."""
    end = (end if end is not None else int(time.time())) // STEP_S * STEP_S
    timestamps = np.arange(end - days * 86400 + STEP_S, end + 1, STEP_S, dtype=np.int64)
    rng = np.random.default_rng(seed)
    frames = []
    for metric, labels, level, noise in SERIES:
        daily = 0.15 * level * np.sin(2 * np.pi * (timestamps % 86400) / 86400)
        values = level + daily + rng.normal(0.0, noise, timestamps.size)
        values = _with_anomalies(labels, timestamps, values, level, end)
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": timestamps,
                    "metric": metric,
                    "labels": json.dumps(labels, sort_keys=True),
                    "value": np.round(values, 3),
                }
            )
        )
    data = pd.concat(frames, ignore_index=True).sort_values(["timestamp", "metric", "labels"])
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".csv.tmp")
    os.close(descriptor)
    try:
        data.to_csv(temporary, index=False)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def _with_anomalies(
    labels: dict[str, str], timestamps: np.ndarray, values: np.ndarray, level: float, end: int
) -> np.ndarray:
    values = values.copy()
    if labels.get("service") == "checkout":
        spike = (timestamps >= end - 86400) & (timestamps < end - 86400 + 5 * STEP_S)
        values[spike] += 6 * level
    if labels.get("service") == "payments":
        values[timestamps >= end - 4 * 3600] += 0.8 * level
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--force", action="store_true", help="regenerate even if the file is fresh")
    args = parser.parse_args(argv)
    if args.force or not is_fresh(args.path):
        generate_metrics(args.path, days=args.days, seed=args.seed)
    print(args.path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
