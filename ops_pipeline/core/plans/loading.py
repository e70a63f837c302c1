"""Reading plan files: YAML text or parsed data to a `PlanSpec`, or a `PlanError` naming every problem.

Each problem is one line, `<origin>: <key path>: <reason>`, where the key path is what the author wrote
(`steps[2].argv`, `parameters.limit.default`), never pydantic's internal discriminator tags.

YAML specifics:

* a mapping that repeats a key is refused (plain YAML keeps the last one silently), naming the key's path and
  both lines;
* dates and times stay text: `before: 2024-04-01` is the string "2024-04-01", because plan values are bound
  to SQL and argv as written, and a plan has no date type;
* a syntax error names the line and column and what is wrong, but never quotes the line, which could hold a
  secret.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from ops_pipeline.core.plans.errors import KEY_SUFFIX_CTX, PROBLEMS_CTX, PlanError
from ops_pipeline.core.plans.spec import PlanSpec
from ops_pipeline.core.plans.steps import STEP_TYPES

__all__ = ["PlanError", "parse_plan", "parse_plan_text"]

_STEP_LISTS = frozenset({"steps", "rollback_steps"})
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _PlanYamlLoader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps; duplicate keys are checked on the node tree before construction."""


_PlanYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def _duplicate_keys(node: yaml.Node, path: str) -> list[str]:
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                problems.append(
                    f"{_join(path, str(key))}: duplicate key (lines {first_line[key]} and {line}); keep one"
                )
            else:
                first_line[key] = line
            problems.extend(_duplicate_keys(value_node, _join(path, str(key))))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, _join(path, index)))
    return problems


def _yaml_error(origin: str, error: yaml.YAMLError) -> PlanError:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(top level)"
    # Only the parser's own words: str(error) would quote the offending line, which may hold a secret.
    words = [getattr(error, "context", None), getattr(error, "problem", None)]
    reason = "; ".join(word for word in words if word) or "cannot be parsed"
    return PlanError(f"{origin}: {where}: not valid YAML: {reason}")


def parse_plan_text(text: str, origin: str) -> PlanSpec:
    """Parse and validate a plan written as YAML; `origin` (usually the file path) starts every error line."""
    loader = _PlanYamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PlanError(f"{origin}: (top level): the file is empty; a plan is a mapping with name, steps, ...")
        problems = _duplicate_keys(node, "")
        if problems:
            raise PlanError(*(f"{origin}: {problem}" for problem in problems))
        data = loader.construct_document(node)
    except yaml.YAMLError as error:
        raise _yaml_error(origin, error) from None
    finally:
        loader.dispose()
    return parse_plan(data, origin)


def _tag_positions(location: tuple[int | str, ...]) -> set[int]:
    # pydantic puts the discriminator value after a step's index: ("steps", 2, "command", "argv").
    if len(location) > 2 and location[0] in _STEP_LISTS and location[2] in STEP_TYPES:
        return {2}
    return set()


def _key_path(location: tuple[int | str, ...]) -> str:
    tags = _tag_positions(location)
    path = ""
    for index, part in enumerate(location):
        if index not in tags and part != "[key]":  # "[key]": pydantic's marker for an invalid mapping key
            path = _join(path, part)
    return path or "(top level)"


def _reason(error: Any) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "union_tag_invalid":
        return f"unknown step type {context.get('tag')!r} (use one of: {', '.join(STEP_TYPES)})"
    if kind == "union_tag_not_found":
        return f"a step needs a type (one of: {', '.join(STEP_TYPES)})"
    if kind == "extra_forbidden":
        return "unknown key (check its spelling and indentation)"
    if kind == "missing":
        return "required"
    message: str = error["msg"]
    return message.removeprefix("Value error, ") if kind == "value_error" else message


def _problems(origin: str, error: Any) -> list[str]:
    context = error.get("ctx") or {}
    if PROBLEMS_CTX in context:
        return [f"{origin}: {key_path}: {reason}" for key_path, reason in context[PROBLEMS_CTX]]
    key_path = _key_path(error["loc"])
    suffix = context.get(KEY_SUFFIX_CTX)
    if suffix:
        key_path = suffix if key_path == "(top level)" else _join(key_path, suffix)
    return [f"{origin}: {key_path}: {_reason(error)}"]


def parse_plan(data: object, origin: str) -> PlanSpec:
    """Validate parsed plan data (a mapping); raise PlanError with one `<origin>: <key path>: <reason>` per problem."""
    if not isinstance(data, dict):
        raise PlanError(
            f"{origin}: (top level): a plan must be a mapping (name, steps, ...), not {type(data).__name__}"
        )
    try:
        return PlanSpec.model_validate(data)
    except ValidationError as error:
        raise PlanError(*(line for problem in error.errors() for line in _problems(origin, problem))) from None
