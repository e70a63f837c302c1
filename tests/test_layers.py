"""The layering the architecture promises, checked on the import graph of the package (docs/architecture.md):
a pure core; libraries that never import the Dagster skin; Dagster only in the skin, the resources and the
definitions; no private Dagster import anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "ops_pipeline"

# package -> the packages of ops_pipeline it may import (besides itself)
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "settings": {"core"},
    "store": {"core", "settings"},
    "sources": {"core", "settings"},
    "metrics": {"core", "settings", "store"},
    "markdown": {"core", "store"},
    "services": {"core", "settings"},
    "backfill": {"core", "settings", "store", "sources"},
    "execution": {"core", "settings", "store", "sources", "services", "markdown"},
    "resources": {"core", "settings", "store", "sources", "metrics", "execution", "services"},
    "defs": {
        "core",
        "settings",
        "store",
        "sources",
        "metrics",
        "markdown",
        "services",
        "backfill",
        "execution",
        "resources",
    },
    "cli": {"core", "settings", "store", "sources", "metrics", "markdown", "services", "backfill", "execution"},
    "instance": {"core"},  # Dagster instance parts named in dagster.yaml; loaded by every Dagster process
}
# The CLI reads and writes the Dagster instance (`sources sync` adds partitions); it defines nothing.
MAY_IMPORT_DAGSTER = {"defs", "resources", "definitions", "instance", "cli"}


def modules() -> list[tuple[str, Path]]:
    """(top-level package or module name, path) of every module of ops_pipeline."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        relative = path.relative_to(PACKAGE)
        found.append((relative.parts[0].removesuffix(".py"), path))
    return found


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize(("layer", "path"), modules(), ids=lambda value: str(value))
def test_each_module_imports_only_the_layers_below_it(layer: str, path: Path) -> None:
    own = [name.split(".")[1] for name in imported(path) if name.startswith("ops_pipeline.")]
    allowed = MAY_IMPORT.get(layer)
    if allowed is not None:
        upward = sorted({package for package in own if package != layer and package not in allowed})
        assert not upward, f"{path.relative_to(REPO_ROOT)} ({layer}) imports {upward}"
    dagster = {name for name in imported(path) if name == "dagster" or name.startswith("dagster.")}
    if layer not in MAY_IMPORT_DAGSTER:
        assert not dagster, f"{path.relative_to(REPO_ROOT)} ({layer}) imports Dagster"
    assert not any(name.startswith("dagster._") for name in imported(path)), f"{path} imports Dagster privately"


def test_every_package_has_a_layer() -> None:
    packages = {layer for layer, _ in modules()} - {"__init__", "definitions"}
    assert packages <= set(MAY_IMPORT), f"no layer declared for {sorted(packages - set(MAY_IMPORT))}"


def test_core_imports_no_dagster_no_store_no_sqlalchemy_no_settings() -> None:
    for layer, path in modules():
        if layer == "core":
            names = imported(path)
            banned = {n for n in names if n.split(".")[0] in ("dagster", "sqlalchemy", "alembic")}
            assert not banned, f"{path.relative_to(REPO_ROOT)} imports {sorted(banned)}"
