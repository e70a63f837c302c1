import importlib.util
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DAY = 86400


def load_demo_module(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "examples" / "demo" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def demo_metrics(tmp_path: Path) -> tuple[Path, int]:
    """Three days of demo metrics ending at a fixed minute; returns (path, end epoch seconds)."""
    end = (int(time.time()) // DAY) * DAY + 12 * 3600  # noon today (UTC), so "a day ago" is yesterday noon
    path = load_demo_module("generate_metrics").generate_metrics(tmp_path / "metrics.csv", end=end)
    return path, end
