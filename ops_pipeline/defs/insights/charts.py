"""PNG charts of a series with its anomalies marked, for the UI and for diagnosis, and where they are written."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

from ops_pipeline.settings import ConfigError


def artifacts_root(configured: str | None) -> Path:
    """Where charts go: the configured folder, else $DAGSTER_HOME/artifacts."""
    if configured:
        return Path(configured).expanduser()
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ConfigError("charts need a folder: set insights.artifacts_dir in ops.yaml, or DAGSTER_HOME")
    return Path(home).expanduser() / "artifacts"


def render_series_chart(
    path: Path, title: str, timestamps: np.ndarray, values: np.ndarray, marks: list[int], highlight: int | None = None
) -> Path:
    """Write a line chart of the series with every signal as a red dot (the highlighted one ringed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    when = np.asarray(timestamps, dtype=np.int64).astype("datetime64[s]")  # UTC, as matplotlib reads it
    figure, axes = plt.subplots(figsize=(8, 2.8), dpi=100)
    try:
        axes.plot(when, values, linewidth=0.9, color="#3b6ea5")
        if marks:
            axes.scatter(when[marks], values[marks], color="#d62728", s=14, zorder=3, label="signal")
        if highlight is not None:
            axes.scatter(
                [when[highlight]],
                [values[highlight]],
                s=110,
                facecolors="none",
                edgecolors="#d62728",
                linewidths=1.5,
                zorder=4,
            )
        axes.set_title(title, fontsize=9)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=UTC))
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        figure.autofmt_xdate()
        figure.tight_layout()
        temporary = path.with_suffix(".tmp.png")
        figure.savefig(temporary, format="png")
        temporary.replace(path)
    finally:
        plt.close(figure)
    return path
