"""Regular expressions written by users (scan filters, resolver rules, validation rules, plan parameters), run by
RE2 so that matching takes time linear in the input: `^(a+)+$` cannot hang a scan on a 31-character name.

RE2 takes Python's syntax except backreferences (`\\1` in a pattern), lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`),
possessive quantifiers and atomic groups; `\\w`, `\\d`, `\\s` and `\\b` are ASCII-only. A pattern using what RE2
lacks is refused when ops.yaml (or a plan) is read, with the reason. Replacement templates (`\\1`, `\\g<name>`)
work as in Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the reason goes into our error message, not to stderr


class UserRegex(Protocol):
    """What RE2's compiled patterns offer, as Python's `re.Pattern` does."""

    @property
    def pattern(self) -> str: ...

    @property
    def groups(self) -> int: ...

    @property
    def groupindex(self) -> Any: ...

    def search(self, text: str) -> Any: ...

    def fullmatch(self, text: str) -> Any: ...

    def subn(self, replacement: Callable[[Any], str], text: str) -> tuple[str, int]: ...


class UserRegexError(ValueError):
    """A pattern RE2 cannot run (the message quotes the pattern and says why), or a bad replacement template."""

    def __init__(self, reason: str, pattern: str | None = None) -> None:
        super().__init__(reason if pattern is None else f"invalid regular expression {pattern!r}: {reason}")
        self.reason = reason


def _reason(error: re2.error) -> str:
    raw = error.args[0] if error.args else error
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if any(f"invalid perl operator: (?{start}" in text for start in ("=", "!", "<=", "<!")):
        return f"{text} (lookaround is not supported: patterns run in linear time)"
    if "invalid escape sequence: \\" in text and text[-1:].isdigit():
        return f"{text} (backreferences are not supported: patterns run in linear time)"
    return text


@lru_cache(maxsize=1024)
def compile_user_regex(pattern: str) -> UserRegex:
    """The compiled pattern; raises UserRegexError naming the pattern and what is wrong with it."""
    if not isinstance(pattern, str):
        raise UserRegexError(f"a regular expression must be text, not {type(pattern).__name__}")
    try:
        compiled: UserRegex = re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        raise UserRegexError(_reason(error), pattern) from None
    return compiled


def check_user_regex(pattern: str) -> str:
    """`pattern` itself when RE2 can run it; for pydantic validators."""
    compile_user_regex(pattern)
    return pattern


_TEMPLATE_TOKEN = re.compile(r"\\(?:g<([^>]*)>|([1-9]\d?)|(.))|(\\)$|([^\\]+)", re.DOTALL)
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


@dataclass(frozen=True)
class ReplacementTemplate:
    """A replacement template as Python's `re.sub` reads it (`\\1`, `\\g<1>`, `\\g<name>`, `\\n`), checked against
    its pattern's groups when it is read, so a bad reference is a configuration error rather than a runtime one."""

    parts: tuple[str | int, ...]  # literal text, or a group number

    @classmethod
    def parse(cls, template: str, regex: UserRegex) -> ReplacementTemplate:
        """Raises UserRegexError naming the first bad escape or group reference."""
        parts: list[str | int] = []
        for token in _TEMPLATE_TOKEN.finditer(template):
            group_ref, number, escaped, trailing, literal = token.groups()
            if literal is not None:
                parts.append(literal)
            elif trailing is not None:
                raise UserRegexError("bad escape (end of template)")
            elif escaped is not None:
                if escaped not in _ESCAPES:
                    raise UserRegexError(f"bad escape \\{escaped}")
                parts.append(_ESCAPES[escaped])
            else:
                parts.append(_group_number(group_ref if group_ref is not None else number, regex))
        return cls(tuple(parts))

    def expand(self, match: Any) -> str:
        """The replacement for `match`; a group that did not take part expands to ''."""
        return "".join(part if isinstance(part, str) else (match.group(part) or "") for part in self.parts)


def _group_number(reference: str, regex: UserRegex) -> int:
    names: dict[str, int] = dict(regex.groupindex)
    if reference.isdigit():
        number = int(reference)
        if number > regex.groups:
            raise UserRegexError(f"invalid group reference {number}")
        return number
    if reference not in names:
        raise UserRegexError(f"unknown group name {reference!r}")
    return names[reference]
