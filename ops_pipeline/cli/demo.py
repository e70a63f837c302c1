"""`ops-pipeline demo`: generate the sample warehouse and metrics, then hand over to `dagster dev`."""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from ops_pipeline.cli.common import PROJECT_ROOT
from ops_pipeline.cli.home import DEMO_HOME
from ops_pipeline.settings import load_settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="generate the demo warehouse and start dagster dev on it")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--prepare-only", action="store_true", help="generate the demo data and .dagster_home, do not start dagster"
    )
    parser.set_defaults(handler=demo)


def demo_root(cwd: Path) -> Path:
    """The project the demo runs in: the current folder when it holds ops.yaml and examples/demo (a checkout or a
    copy of one), else the checkout this package is installed from."""
    if (cwd / "ops.yaml").is_file() and (cwd / "examples" / "demo" / "generate_warehouse.py").is_file():
        return cwd
    return PROJECT_ROOT


def demo(args: argparse.Namespace) -> int:
    """Generate the sample warehouse, point DAGSTER_HOME at .dagster_home, and hand over to `dagster dev`."""
    root = demo_root(Path.cwd())
    home = prepare(root)
    if args.prepare_only:
        print("start the webserver and the daemon with: ops-pipeline demo", flush=True)
        return 0
    print(f"open http://{args.host}:{args.port} (Ctrl-C stops everything)", flush=True)
    # dagster dev runs in DAGSTER_HOME: run from the project root it would warn that the project's dagster.yaml
    # is not used, when the demo did copy it into DAGSTER_HOME.
    os.chdir(home)
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
    workspace = str(root / "workspace.yaml")
    # `dagster dev` is what the README promises; its note that `dg dev` supersedes it is not for demo users.
    quiet = ["-W", "ignore:Function `dev_command` is superseded"]
    command = [sys.executable, *quiet, dagster, "dev", "-w", workspace, "-h", args.host, "-p", str(args.port)]
    os.execv(sys.executable, command)


def prepare(root: Path) -> Path:
    """The demo's data (warehouse, metrics, empty lake) and its Dagster home; sets DAGSTER_HOME and OPS_CONFIG."""
    sys.path.insert(0, str(root / "examples" / "demo"))
    from generate_metrics import generate_metrics, is_fresh
    from generate_warehouse import generate_warehouse

    warehouse = generate_warehouse(root / "examples" / "demo" / "warehouse.db")
    metrics = root / "examples" / "demo" / "metrics.csv"
    if not is_fresh(metrics):
        generate_metrics(metrics)
    sqlite3.connect(root / "examples" / "demo" / "lake.db").close()  # the backfill's (empty) destination
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(root / DEMO_HOME)))
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "dagster.yaml", home / "dagster.yaml")
    os.environ.setdefault("OPS_CONFIG", str(root / "ops.yaml"))
    load_settings(os.environ["OPS_CONFIG"])  # fail here, readably, rather than inside the webserver
    print(f"demo warehouse: {warehouse}\ndemo metrics: {metrics}\nDAGSTER_HOME: {home}", flush=True)
    return home
