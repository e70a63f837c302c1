"""The chart of the `execution_metrics` asset: p50/p95/p99 durations per plan and per step type, side by side,
as a PNG small enough to travel inside the materialization's metadata as a data URI (the UI's markdown shows
`data:` images)."""

import base64
import io

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ops_pipeline.core.execution.metrics import ExecutionMetrics, Percentiles

QUANTILES = (("p50", "#3b6ea5"), ("p95", "#f0a030"), ("p99", "#d62728"))
MAX_GROUPS = 12  # per panel, the most measured ones; the tables list them all


def durations_chart_png(metrics: ExecutionMetrics) -> bytes:
    figure, (plans, step_types) = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80)
    try:
        durations = {name: group.duration_s for name, group in metrics.by_plan.items()}
        _bars(plans, "execution duration per plan", durations)
        _bars(step_types, "step duration per step type", metrics.by_step_type)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _bars(axes: Axes, title: str, groups: dict[str, Percentiles]) -> None:
    measured = sorted((item for item in groups.items() if item[1].count), key=lambda item: -item[1].count)
    shown = dict(sorted(measured[:MAX_GROUPS]))
    hidden = len(measured) - len(shown)
    axes.set_title(title + (f" (the {len(shown)} most measured of {len(measured)})" if hidden else ""), fontsize=9)
    if not shown:
        axes.text(0.5, 0.5, "nothing ended in the window", ha="center", va="center", fontsize=8)
        axes.set_axis_off()
        return
    positions = np.arange(len(shown))
    width = 0.8 / len(QUANTILES)
    for offset, (label, color) in enumerate(QUANTILES):
        values = [getattr(figures, label) or 0.0 for figures in shown.values()]
        axes.barh(positions + (offset - 1) * width, values, height=width, color=color, label=label)
    axes.set_yticks(positions, list(shown), fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("seconds", fontsize=7)
    axes.tick_params(labelsize=7)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(fontsize=7, loc="best")


def png_markdown(png: bytes, alt: str) -> str:
    """Markdown showing the PNG inline, as a data URI."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
