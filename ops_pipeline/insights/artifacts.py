"""Where charts and other files for the UI are written."""

from __future__ import annotations

import os
from pathlib import Path

from ops_pipeline.settings import ConfigError


def artifacts_root(configured: str | None) -> Path:
    if configured:
        return Path(configured).expanduser()
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ConfigError("charts need a folder: set insights.artifacts_dir in ops.yaml, or DAGSTER_HOME")
    return Path(home).expanduser() / "artifacts"
