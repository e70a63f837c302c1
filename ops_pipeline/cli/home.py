"""Where the CLI finds the Dagster instance (and so the ops store, charts and models) when DAGSTER_HOME is unset:
the demo's `./.dagster_home`, as `ops-pipeline demo` set it up in the folder the command runs from."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEMO_HOME = ".dagster_home"


def adopt_demo_home(cwd: Path | None = None) -> Path | None:
    """Point DAGSTER_HOME at ./.dagster_home when it is unset and that folder exists; say so once on stderr.
    Returns the folder adopted, or None when DAGSTER_HOME was already set or there is no demo home."""
    if os.environ.get("DAGSTER_HOME"):
        return None
    home = (cwd or Path.cwd()) / DEMO_HOME
    if not home.is_dir():
        return None
    os.environ["DAGSTER_HOME"] = str(home.resolve())
    print(f"note: DAGSTER_HOME is not set; using the demo's {home.resolve()}", file=sys.stderr)
    return home
