"""Templates in plan strings: `{{ params.NAME }}` and `{{ secret:env:NAME }}` / `{{ secret:file:/path }}`.

Where they may appear: command `argv` items, http `url`, header values and `body` strings, file paths, and the
values of a sql step's `params`. SQL statements themselves are never templated: they bind values by name
(`:name`, see `sql_text.py`), so a parameter can never change what a statement does.

Rendering is one pass: a parameter's value is inserted as it is, never rendered again, so a value holding
`{{ ... }}` stays literal text. Values become text as JSON spells them (`true`, `false`, `5`, `0.5`), strings
as they are. Secrets are resolved by a callable the caller passes in (`core.secrets.resolve_secret` in the
skin), so this module never reads the environment or a file; a secret reference is written without the
`secret:` prefix when it is passed to that callable (`env:NAME`, `file:/path`).

There is no escape for a literal `{{`: text with a `{{` that does not open a template is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Literal, NamedTuple

from ops_pipeline.core.plans.sql_text import sql_bind_names
from ops_pipeline.core.secrets import is_secret_ref

__all__ = [
    "TemplateError",
    "TemplateReferences",
    "render",
    "render_json",
    "render_value",
    "sql_bind_names",
    "template_references",
]

SecretResolver = Callable[[str], str]

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_PARAM = re.compile(r"params\.([a-z][a-z0-9_]{0,62})")
_SECRET_PREFIX = "secret:"
_USAGE = "use {{ params.NAME }}, {{ secret:env:NAME }} or {{ secret:file:/path }}"


class TemplateError(ValueError):
    """A malformed template, or one that names something that has no value."""


class TemplateReferences(NamedTuple):
    """What a text refers to, each name once, in order of first appearance."""

    params: tuple[str, ...]
    secrets: tuple[str, ...]


def _shown(expression: str) -> str:
    inner = " ".join(expression.split())
    return "{{ " + (inner if len(inner) <= 60 else inner[:57] + "...") + " }}"


def _parse(expression: str) -> tuple[Literal["param", "secret"], str]:
    inner = expression.strip()
    if param := _PARAM.fullmatch(inner):
        return "param", param[1]
    if inner.startswith(_SECRET_PREFIX):
        ref = inner.removeprefix(_SECRET_PREFIX).strip()
        if is_secret_ref(ref):
            return "secret", ref
        raise TemplateError(f"{_shown(expression)} is not a valid secret reference; {_USAGE}")
    raise TemplateError(f"{_shown(expression)} is not a template this plan language knows; {_USAGE}")


def _check_closed(text: str) -> None:
    if "{{" in _TEMPLATE.sub("", text):
        raise TemplateError("has a '{{' that does not open a template (close it with '}}'); " + _USAGE)


def template_references(text: str) -> TemplateReferences:
    """The parameter names and secret references in `text`; raise TemplateError on a malformed template."""
    _check_closed(text)
    params: dict[str, None] = {}
    secrets: dict[str, None] = {}
    for match in _TEMPLATE.finditer(text):
        kind, name = _parse(match[1])
        (params if kind == "param" else secrets)[name] = None
    return TemplateReferences(tuple(params), tuple(secrets))


def _value_of(expression: str, params: Mapping[str, object], resolve_secret: SecretResolver) -> object:
    kind, name = _parse(expression)
    if kind == "secret":
        return resolve_secret(name)
    if name not in params:
        raise TemplateError(f"template names parameter {name!r}, which has no value")
    return params[name]


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    raise TemplateError(f"a {type(value).__name__} value cannot be written into text")


def render(text: str, params: Mapping[str, object], resolve_secret: SecretResolver) -> str:
    """`text` with every template replaced by its value, in one pass."""
    _check_closed(text)
    return _TEMPLATE.sub(lambda match: _as_text(_value_of(match[1], params, resolve_secret)), text)


def render_value(text: str, params: Mapping[str, object], resolve_secret: SecretResolver) -> object:
    """Like `render`, but a text that is exactly one parameter template gives the parameter's own value.

    Used for sql `params` values and body leaves, so `{{ params.limit }}` binds the integer 10, not "10".
    """
    whole = _TEMPLATE.fullmatch(text)
    if whole is not None:
        return _value_of(whole[1], params, resolve_secret)
    return render(text, params, resolve_secret)


def render_json(value: object, params: Mapping[str, object], resolve_secret: SecretResolver) -> object:
    """A JSON value (an http body mapping) with `render_value` applied to every string in it; keys stay as written."""
    if isinstance(value, str):
        return render_value(value, params, resolve_secret)
    if isinstance(value, Mapping):
        return {key: render_json(item, params, resolve_secret) for key, item in value.items()}
    if isinstance(value, list):
        return [render_json(item, params, resolve_secret) for item in value]
    return value
