"""`ops-pipeline`: what the dagster CLI cannot do (start the demo, test a source, read the catalog, simulate a
resolver). Everything that runs work goes through Dagster: scans are `dagster asset materialize`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ops_pipeline.cli import (
    actions,
    backfill,
    catalog,
    demo,
    dlq,
    executions,
    insights,
    models,
    plans,
    runs,
    sources,
)
from ops_pipeline.core.secrets import SecretError
from ops_pipeline.execution.webserver import WebserverError
from ops_pipeline.metrics.series import MetricsError
from ops_pipeline.settings import ConfigError
from ops_pipeline.sources.base import SourceError
from ops_pipeline.store.engine import StoreError

COMMAND_GROUPS = (demo, sources, catalog, runs, insights, backfill, models, plans, executions, dlq, actions)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.handler(args)
        return result
    except (
        ConfigError,
        SourceError,
        SecretError,
        StoreError,
        MetricsError,
        LookupError,
        ValueError,
        PermissionError,
        WebserverError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ops-pipeline", description=__doc__)
    root.add_argument("--config", help="path of ops.yaml (default: $OPS_CONFIG, else ./ops.yaml)")
    commands = root.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(commands)
    return root


if __name__ == "__main__":
    raise SystemExit(main())
