"""Where Dagster keeps a local instance's files under $DAGSTER_HOME, for the parts whose folder is optional config."""

from __future__ import annotations

import os


def under_dagster_home(part: str, *parts: str) -> str:
    """$DAGSTER_HOME/<part>/...; ValueError naming the instance part when DAGSTER_HOME is not set."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError(f"{part}: set its config.base_dir, or DAGSTER_HOME")
    return os.path.join(home, *parts)
