r"""Reading a SQL statement without a parser: where its literals, comments and `:name` placeholders are.

Plans never format values into SQL. A statement names its parameters with `:name` placeholders and the step's
`params` mapping gives their values, which the skin binds through the driver. This module finds the
placeholders, refuses a second statement after a `;`, and escapes the colons that are not placeholders.

Lexical rules (ANSI SQL plus the common dialect extensions):

* quoted text is skipped: `'...'` (a doubled `''` is an escaped quote), `"..."`, `` `...` ``, and PostgreSQL
  dollar quoting `$$...$$` / `$tag$...$tag$`; so are `-- ...` line comments and `/* ... */` block comments;
* outside those, a placeholder is `:` followed by a letter or `_` and then letters, digits or `_`, when the
  colon does not follow another colon, a word character or a backslash; so `x::int` casts and `'10:30'` are
  not placeholders, and `:day::date` binds `day` then casts it;
* one statement: after a `;` outside quotes only whitespace and comments may follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

SegmentKind = Literal["code", "quoted", "comment"]

_BIND = re.compile(r"(?<![:\w\\]):([A-Za-z_]\w*)(?!\w)")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_OPENERS = ("'", '"', "`", "--", "/*", "$")


class UnterminatedSql(ValueError):
    """A quoted string or block comment that never ends."""


def _closing(statement: str, start: int) -> tuple[SegmentKind, int] | None:
    """The kind and end index of the quoted text or comment opening at `start`, if one opens there."""
    rest = statement[start:]
    if rest[0] in "'\"`":
        quote = rest[0]
        index = start + 1
        while True:
            index = statement.find(quote, index)
            if index < 0:
                raise UnterminatedSql(f"a {quote} quoted text never ends")
            if statement.startswith(quote * 2, index):
                index += 2  # a doubled quote is an escaped quote
                continue
            return "quoted", index + 1
    if rest.startswith("--"):
        end = statement.find("\n", start)
        return "comment", len(statement) if end < 0 else end + 1
    if rest.startswith("/*"):
        end = statement.find("*/", start + 2)
        if end < 0:
            raise UnterminatedSql("a /* comment never ends")
        return "comment", end + 2
    tag = _DOLLAR_TAG.match(statement, start)
    if tag and not (start > 0 and (statement[start - 1].isalnum() or statement[start - 1] == "_")):
        end = statement.find(tag[0], tag.end())
        if end < 0:
            raise UnterminatedSql(f"a {tag[0]} quoted text never ends")
        return "quoted", end + len(tag[0])
    return None


def segments(statement: str) -> Iterator[tuple[SegmentKind, str]]:
    """Split `statement` into code, quoted text and comments, in order; raise UnterminatedSql if one never ends."""
    code_start = index = 0
    while index < len(statement):
        found = _closing(statement, index) if statement.startswith(_OPENERS, index) else None
        if found is None:
            index += 1
            continue
        if code_start < index:
            yield "code", statement[code_start:index]
        kind, end = found
        yield kind, statement[index:end]
        code_start = index = end
    if code_start < len(statement):
        yield "code", statement[code_start:]


def sql_bind_names(statement: str) -> tuple[str, ...]:
    """The `:name` placeholders of `statement`, each once, in order of first use."""
    names: dict[str, None] = {}
    for kind, text in segments(statement):
        if kind == "code":
            names.update((match[1], None) for match in _BIND.finditer(text))
    return tuple(names)


def has_second_statement(statement: str) -> bool:
    """True when SQL (not just whitespace or comments) follows a `;` outside quoted text."""
    seen_semicolon = False
    for kind, text in segments(statement):
        if kind == "comment":
            continue
        if seen_semicolon and (kind == "quoted" or text.strip(" \t\r\n;")):
            return True
        if kind == "code" and ";" in text:
            seen_semicolon = True
            if text.split(";", 1)[1].strip(" \t\r\n;"):
                return True
    return False


def escape_non_bind_colons(statement: str) -> str:
    r"""`statement` with every colon that is not a placeholder's written `\:`, as SQLAlchemy's `text()` expects.

    `text()` looks for placeholders everywhere, quoted text included; this keeps `'10:30'` and `x::int` literal.
    """
    parts: list[str] = []
    for kind, text in segments(statement):
        if kind != "code":
            parts.append(text.replace(":", "\\:"))
            continue
        last = 0
        for match in _BIND.finditer(text):
            parts.append(text[last : match.start()].replace(":", "\\:"))
            parts.append(match[0])
            last = match.end()
        parts.append(text[last:].replace(":", "\\:"))
    return "".join(parts)


def positional_binds(statement: str, placeholder: str, *, double_percent: bool) -> tuple[str, tuple[str, ...]]:
    """`statement` with each `:name` placeholder replaced by the driver's positional `placeholder`, and the
    names in the order the driver takes their values (a name used twice appears twice).

    With `double_percent` every literal `%` is written `%%`, as drivers that format parameters with `%`
    (DB-API `format` style: psycopg2, PyMySQL) expect; quoted text and comments are kept otherwise as they are.
    """
    parts: list[str] = []
    order: list[str] = []

    def literal(text: str) -> str:
        return text.replace("%", "%%") if double_percent else text

    for kind, text in segments(statement):
        if kind != "code":
            parts.append(literal(text))
            continue
        last = 0
        for match in _BIND.finditer(text):
            parts.append(literal(text[last : match.start()]))
            parts.append(placeholder)
            order.append(match[1])
            last = match.end()
        parts.append(literal(text[last:]))
    return "".join(parts), tuple(order)


def percent_escaped(statement: str) -> str:
    """`statement` for a driver that formats its parameters with `%` (psycopg2, PyMySQL): every `%` that is not
    a `%s` placeholder in the code is written `%%`, so a `%` in a quoted identifier or literal stays itself."""
    parts: list[str] = []
    for kind, text in segments(statement):
        parts.append(re.sub(r"%(?!s)", "%%", text) if kind == "code" else text.replace("%", "%%"))
    return "".join(parts)
