"""`ops-pipeline`: what the dagster CLI cannot do (start the demo, test a source, read the catalog, simulate a
resolver). Everything that runs work goes through Dagster: scans are `dagster asset materialize`.
"""

from __future__ import annotations

import argparse
import os
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
from ops_pipeline.cli.home import adopt_demo_home
from ops_pipeline.core.secrets import SecretError
from ops_pipeline.execution.webserver import WebserverError
from ops_pipeline.metrics.series import MetricsError
from ops_pipeline.settings import ConfigError
from ops_pipeline.sources.base import SourceError
from ops_pipeline.store.engine import StoreError

COMMAND_GROUPS = (demo, sources, catalog, runs, insights, backfill, models, plans, executions, dlq, actions)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command != "demo":
        adopt_demo_home()
    try:
        result: int = args.handler(args)
        sys.stdout.flush()
        return result
    except BrokenPipeError:
        # The reader stopped early (`... | head`): what it read is what it wanted. Python would still flush
        # stdout at exit and fail again, so point it at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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
