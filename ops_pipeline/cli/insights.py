"""`ops-pipeline metrics inject` and `signals recent`: add a point to the recorded metrics, read new signals."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ops_pipeline.cli.common import positive_int, settings_of, timestamp, tsv_field
from ops_pipeline.metrics.recorded import append_points
from ops_pipeline.metrics.recorded.files import FIRST_TIME_S, LAST_TIME_S, TIME_RANGE
from ops_pipeline.settings import ConfigError
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.signals import recent_signals


def add_commands(commands: argparse._SubParsersAction) -> None:
    metrics = commands.add_parser("metrics", help="the recorded metrics file of ops.yaml")
    metric_commands = metrics.add_subparsers(dest="action", required=True)
    inject = metric_commands.add_parser("inject", help="append one sample (e.g. an anomaly) to the recorded file")
    inject.add_argument("metric")
    inject.add_argument("value", type=float)
    inject.add_argument("--label", action="append", default=[], metavar="NAME=VALUE")
    inject.add_argument("--at", type=timestamp, help="ISO-8601 with timezone (default: now)")
    inject.set_defaults(handler=metrics_inject)

    signals = commands.add_parser("signals", help="insight signals recorded in the ops store")
    signal_commands = signals.add_subparsers(dest="action", required=True)
    recent = signal_commands.add_parser("recent", help="the newest signals")
    recent.add_argument("--limit", type=positive_int, default=20)
    recent.set_defaults(handler=signals_recent)


def metrics_inject(args: argparse.Namespace) -> int:
    recorded = settings_of(args).metrics.recorded
    if recorded is None:
        raise ConfigError("ops.yaml has no metrics.recorded file to append to")
    labels = {}
    for pair in args.label:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise ValueError(f"--label {pair!r}: write NAME=VALUE")
        labels[name] = value
    at = args.at or datetime.now(UTC).replace(microsecond=0)
    # Epoch seconds, as `ops-pipeline demo` writes the file: one timestamp format per file.
    epoch = at.timestamp()
    if not FIRST_TIME_S <= epoch <= LAST_TIME_S:
        raise ValueError(f"--at: timestamp {at.isoformat()!r} is outside {TIME_RANGE}")
    point = {"timestamp": int(epoch) if epoch.is_integer() else epoch, "metric": args.metric, "value": args.value}
    append_points(recorded.path, [{**point, "labels": labels}])
    print(f"ok: {args.metric}{labels or ''} = {args.value} at {at.isoformat()} appended to {recorded.path}")
    return 0


def signals_recent(args: argparse.Namespace) -> int:
    for s in recent_signals(open_store(), args.limit):
        print(
            f"{s.ts:%Y-%m-%d %H:%M}\t{s.severity}\t{s.detector}\t{tsv_field(s.series_key)}\t{s.score:+.1f}\t{s.origin}"
        )
    return 0
