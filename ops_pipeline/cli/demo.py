"""`ops-pipeline demo`: generate the sample warehouse and metrics, then hand over to `dagster dev`."""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from ops_pipeline.cli.common import PROJECT_ROOT
from ops_pipeline.settings import load_settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="generate the demo warehouse and start dagster dev on it")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.set_defaults(handler=demo)


def demo(args: argparse.Namespace) -> int:
    """Generate the sample warehouse, point DAGSTER_HOME at .dagster_home, and hand over to `dagster dev`."""
    sys.path.insert(0, str(PROJECT_ROOT / "examples" / "demo"))
    from generate_metrics import generate_metrics, is_fresh
    from generate_warehouse import generate_warehouse

    warehouse = generate_warehouse(PROJECT_ROOT / "examples" / "demo" / "warehouse.db")
    metrics = PROJECT_ROOT / "examples" / "demo" / "metrics.csv"
    if not is_fresh(metrics):
        generate_metrics(metrics)
    sqlite3.connect(PROJECT_ROOT / "examples" / "demo" / "lake.db").close()  # the backfill's (empty) destination
    home = PROJECT_ROOT / ".dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ.setdefault("DAGSTER_HOME", str(home))
    os.environ.setdefault("OPS_CONFIG", str(PROJECT_ROOT / "ops.yaml"))
    load_settings(os.environ["OPS_CONFIG"])  # fail here, readably, rather than inside the webserver
    print(
        f"demo warehouse: {warehouse}\ndemo metrics: {metrics}\nDAGSTER_HOME: {os.environ['DAGSTER_HOME']}\n"
        f"open http://{args.host}:{args.port} (Ctrl-C stops everything)",
        flush=True,
    )
    os.chdir(PROJECT_ROOT)
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
    os.execv(dagster, [dagster, "dev", "-w", "workspace.yaml", "-h", args.host, "-p", str(args.port)])
