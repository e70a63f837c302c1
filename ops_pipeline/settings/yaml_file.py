"""Reading ops.yaml's text: located errors that quote no line of the file (a line may hold a secret), duplicate
keys refused instead of the last one silently winning, and any unreadable file named."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ops_pipeline.settings.base import ConfigError

_QUOTED_TEXT = re.compile(r"\s*'(?:[^'\\]|\\.)*'")
# PyYAML and pydantic recurse per level; a document nested deeper than this is refused before either does.
MAX_DEPTH = 100


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping naming a key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):
                continue  # unhashable keys are PyYAML's own error
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (the last would silently win)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _depth_problem(node: yaml.Node | None) -> bool:
    """Whether the composed document nests deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(node, 1)] if node is not None else []
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(current, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in current.value for child in pair)
    return False


def _located(error: yaml.YAMLError) -> str:
    """Where and what, without PyYAML's snippet of the offending line."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return _QUOTED_TEXT.sub("", str(error).splitlines()[0]) if str(error) else type(error).__name__
    mark = error.problem_mark or error.context_mark
    what = "; ".join(part for part in (error.context, error.problem) if part)
    if isinstance(error, yaml.scanner.ScannerError):
        what = _QUOTED_TEXT.sub("", what)  # the scanner quotes characters of the text itself
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + what


def _text(file: Path) -> str:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{file}: configuration file not found (set OPS_CONFIG to its path)") from None
    except IsADirectoryError:
        raise ConfigError(f"{file}: is a directory, not a configuration file") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ConfigError(f"{file!r}: cannot be read ({reason})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{file}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None


def read_yaml(file: Path) -> Any:
    """The YAML document in `file`, or a ConfigError naming the file, the line and the problem."""
    text = _text(file)
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if _depth_problem(node):
            raise ConfigError(f"{file}: nested more than {MAX_DEPTH} levels deep")
        return loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise ConfigError(f"{file}: not valid YAML: {_located(error)}") from None
    except RecursionError:
        raise ConfigError(f"{file}: nested too deeply to read") from None
    finally:
        loader.dispose()
