"""Each source type's dialect has one owner: its package (or module) under ops_pipeline/sources/.

Read from the source tree: outside its owner no module compares a value with a source type's name, keys a
table by it, asks whether an object is of a particular type's class, imports a type's inner modules (only the
registry does), or calls another module's private `_connect`/`_quote`-style helpers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops_pipeline.settings.sources import SOURCE_MODELS, SOURCE_TYPES
from ops_pipeline.sources.registry import DATABASES

PACKAGE = Path(__file__).resolve().parents[2] / "ops_pipeline"
SOURCES = PACKAGE / "sources"
# The ops store's own backend (SQLAlchemy's dialect of the project's database), not a source type.
OPS_STORE = PACKAGE / "store"
TYPE_NAMES = frozenset(SOURCE_TYPES)
TYPE_CLASSES = frozenset({model.__name__ for model in SOURCE_MODELS} | {type(db).__name__ for db in DATABASES.values()})
TYPE_PACKAGES = frozenset(path.name for path in SOURCES.iterdir() if (path / "__init__.py").is_file())


def owner(path: Path) -> str | None:
    """The source type package or module that `path` belongs to, if any."""
    if path.parent == SOURCES and path.stem not in ("base", "sql", "registry", "profile", "__init__"):
        return path.stem
    if path.parent.parent == SOURCES and path.parent.name in TYPE_PACKAGES:
        return path.parent.name
    return None


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def names_a_type(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in TYPE_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(names_a_type(element) for element in node.elts)
    return False


def type_branches(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(names_a_type(n) for n in (node.left, *node.comparators)):
            yield node.lineno, ast.unparse(node)
        elif isinstance(node, ast.Dict) and any(key is not None and names_a_type(key) for key in node.keys):
            yield node.lineno, "a table keyed by source type: " + ast.unparse(node)[:80]
        elif isinstance(node, ast.MatchValue) and names_a_type(node.value):
            yield node.lineno, "case " + ast.unparse(node.value)


def type_checks(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            checked = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)} if len(node.args) > 1 else set()
            if checked & TYPE_CLASSES:
                yield node.lineno, ast.unparse(node)


def reaches_inside(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Imports of a type's inner modules or of private names from sources, and `module._private` calls."""
    source_modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ops_pipeline.sources"):
            parts = (node.module or "").split(".")
            if len(parts) > 3 and parts[2] in TYPE_PACKAGES:
                yield node.lineno, f"from {node.module} import ..."
            for alias in node.names:
                if alias.name.startswith("_"):
                    yield node.lineno, f"from {node.module} import {alias.name}"
                source_modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in source_modules
        ):
            yield node.lineno, ast.unparse(node)


def test_the_rules_know_every_type() -> None:
    assert set(DATABASES) == TYPE_NAMES
    assert {"postgresql", "mysql", "sqlite"} <= TYPE_PACKAGES
    assert {"PostgresSource", "PostgresDatabase", "SQLiteDatabase", "RedisDatabase"} <= TYPE_CLASSES


@pytest.mark.parametrize(
    "rule",
    [type_branches, type_checks],
    ids=["no branch on a source type's name", "no isinstance of one source type's classes"],
)
def test_only_the_owner_branches_on_a_source_type(rule) -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {what}"
        for path, tree in modules()
        if owner(path) is None and OPS_STORE not in path.parents and path != SOURCES / "registry.py"
        for line, what in rule(tree)
    ]
    assert found == []


def test_only_the_registry_reaches_into_a_source_type() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {what}"
        for path, tree in modules()
        if owner(path) is None and path != SOURCES / "registry.py"
        for line, what in reaches_inside(tree)
    ]
    assert found == []


def test_the_rules_catch_what_they_forbid() -> None:
    forbidden = ast.parse(
        """
from ops_pipeline.sources import postgresql as pg
from ops_pipeline.sources.mysql.connection import connect
if endpoint.dialect == "mysql": pass
mark = "?" if source.type in ("sqlite", "duckdb") else "%s"
QUOTES = {"mysql": "`"}
if isinstance(config, PostgresSource | MySQLSource): pass
pg._connect(name, config)
"""
    )
    assert sorted(line for line, _ in type_branches(forbidden)) == [4, 5, 6]
    assert sorted(line for line, _ in type_checks(forbidden)) == [7]
    assert sorted(line for line, _ in reaches_inside(forbidden)) == [3, 8]
