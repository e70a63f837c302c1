"""Reading ops.yaml: YAML to validated settings, with errors that name the file, the key path and the reason,
for example `ops.yaml: sources.warehouse.port: Input should be a valid integer`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ops_pipeline.settings.base import FIELD_CTX, KEY_PATH_CTX, ConfigError
from ops_pipeline.settings.ops import OpsSettings
from ops_pipeline.settings.sources import SOURCE_TYPES
from ops_pipeline.settings.yaml_file import read_yaml

DEFAULT_CONFIG_FILE = "ops.yaml"


def config_path() -> Path:
    return Path(os.environ.get("OPS_CONFIG", DEFAULT_CONFIG_FILE)).expanduser()


_RULE_TAGS = frozenset({"alias", "pattern", "transformation"})

_STEP_TAGS = frozenset(
    {
        "lower",
        "upper",
        "trim",
        "snake_case",
        "camel_case",
        "pascal_case",
        "replace",
        "prefix",
        "suffix",
        "strip_prefix",
        "strip_suffix",
        "split_join",
    }
)


def _tag_positions(location: tuple[int | str, ...]) -> set[int]:
    """Indexes of the discriminator tags in `location`: they follow a source name, a rule index, a step index."""

    def tag_at(index: int, tags: frozenset[str] | tuple[str, ...]) -> bool:
        return len(location) > index and location[index] in tags

    positions: set[int] = set()
    if location[:1] == ("sources",) and tag_at(2, SOURCE_TYPES):
        positions.add(2)
    if location[:1] == ("resolvers",) and len(location) > 2 and location[2] == "rules" and tag_at(4, _RULE_TAGS):
        positions.add(4)
        if len(location) > 5 and location[5] == "steps" and tag_at(7, _STEP_TAGS):
            positions.add(7)
    return positions


def _key_path(location: tuple[int | str, ...]) -> str:
    tags = _tag_positions(location)
    parts: list[str] = []
    for index, part in enumerate(location):
        if index in tags:
            continue  # pydantic adds the discriminator tag to the path; users never wrote it
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part == "[key]":
            parts.append(" (key)")  # pydantic's marker for a bad mapping key
        elif not str(part) or not str(part).isprintable():
            parts.append(f"[{str(part)!r}]")  # a key of control characters must not break the error's lines
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def _problem(origin: str, error: Any) -> str:
    ctx = error.get("ctx") or {}
    field = (ctx[FIELD_CTX],) if FIELD_CTX in ctx else ()
    key_path = ctx.get(KEY_PATH_CTX) or _key_path(tuple(error["loc"]) + field)
    reason = error["msg"].removeprefix("Value error, ") if error["type"] == "value_error" else error["msg"]
    return f"{origin}: {key_path}: {' '.join(reason.splitlines())}"  # one line per problem


def parse_settings(data: Any, origin: str) -> OpsSettings:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping of sections, not {type(data).__name__}")
    data = {section: value for section, value in data.items() if value is not None}  # `sources:` alone is empty
    try:
        return OpsSettings.model_validate(data)
    except ValidationError as error:
        problems = [_problem(origin, e) for e in error.errors()]
        raise ConfigError("invalid configuration\n  " + "\n  ".join(problems)) from None


def load_settings(path: Path | str | None = None) -> OpsSettings:
    """Read and validate ops.yaml (default: $OPS_CONFIG, else ./ops.yaml)."""
    file = Path(path) if path is not None else config_path()
    data = read_yaml(file)
    return _anchor_paths(parse_settings(data, str(file)), file.parent)


def _anchor_paths(settings: OpsSettings, base: Path) -> OpsSettings:
    """Relative file paths (a source's `path_fields`, such as SQLite's path; recorded metrics, artifacts, catalog
    state, plan folders) mean "next to ops.yaml", whatever directory Dagster runs the code from."""

    def anchored(path: str) -> str:
        return path if Path(path).expanduser().is_absolute() else str((base / path).resolve())

    sources = {
        name: source.model_copy(update={field: anchored(getattr(source, field)) for field in source.path_fields})
        for name, source in settings.sources.items()
    }
    metrics = settings.metrics
    if metrics.recorded:
        recorded = metrics.recorded.model_copy(update={"path": anchored(metrics.recorded.path)})
        metrics = metrics.model_copy(update={"recorded": recorded})
    insights = settings.insights
    if insights.artifacts_dir:
        insights = insights.model_copy(update={"artifacts_dir": anchored(insights.artifacts_dir)})
    catalog = settings.catalog
    loop = settings.control_loop
    if loop.bundle_dir:
        loop = loop.model_copy(update={"bundle_dir": anchored(loop.bundle_dir)})
    if catalog.state_dir:
        catalog = catalog.model_copy(update={"state_dir": anchored(catalog.state_dir)})
    plans = settings.plans.model_copy(update={"folders": [anchored(f) for f in settings.plans.folders]})
    products = settings.data_products
    if products.output_dir:
        products = products.model_copy(update={"output_dir": anchored(products.output_dir)})
    return settings.model_copy(
        update={
            "sources": sources,
            "metrics": metrics,
            "insights": insights,
            "catalog": catalog,
            "data_products": products,
            "plans": plans,
            "control_loop": loop,
        }
    )
