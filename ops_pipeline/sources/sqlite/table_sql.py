"""What only a SQLite table's own CREATE statement says: constraint names, CHECKs, collations, AUTOINCREMENT, and
a partial index's WHERE. SQLite keeps each schema object's SQL as written; its pragmas leave these out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Quoted names and strings, then words, then any single other character; whitespace and comments are skipped.
TOKEN = re.compile(
    r"""\s+|--[^\n]*|/\*.*?\*/|(?P<tok>"(?:[^"]|"")*"|'(?:[^']|'')*'|`(?:[^`]|``)*`|\[[^\]]*\]|\w+|.)""",
    re.DOTALL,
)
TABLE_CONSTRAINTS = {"PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        return self.text.upper()

    @property
    def name(self) -> str:
        """The token as an identifier, unquoted."""
        text = self.text
        if text[:1] in "\"'`" and len(text) > 1:
            quote = text[0]
            return text[1:-1].replace(quote * 2, quote)
        if text[:1] == "[":
            return text[1:-1]
        return text


@dataclass
class TableSql:
    foreign_key_names: dict[tuple[str, ...], str] = field(default_factory=dict)  # declared names by source columns
    checks: list[tuple[str | None, str]] = field(default_factory=list)  # (declared name, expression)
    collations: dict[str, str] = field(default_factory=dict)
    autoincrement: set[str] = field(default_factory=set)


def parse_table(sql: str) -> TableSql:
    tokens = _tokens(sql)
    parsed = TableSql()
    opening = next((i for i, t in enumerate(tokens) if t.text == "("), None)
    if opening is None:  # CREATE TABLE ... AS SELECT
        return parsed
    for item in _split(tokens[opening + 1 :]):
        if item:
            _read_item(sql, item, parsed)
    return parsed


def index_predicate(sql: str | None) -> str | None:
    """The WHERE of a partial index, as written."""
    if not sql:
        return None
    depth = 0
    for token in _tokens(sql):
        depth += (token.text == "(") - (token.text == ")")
        if depth == 0 and token.word == "WHERE":
            return sql[token.end :].strip().rstrip(";").strip() or None
    return None


def _tokens(sql: str) -> list[_Token]:
    return [_Token(m.group("tok"), m.start(), m.end()) for m in TOKEN.finditer(sql) if m.group("tok")]


def _split(tokens: list[_Token]) -> list[list[_Token]]:
    """The table body's items: split at top-level commas, up to the closing parenthesis."""
    items: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            if depth == 0:
                break
            depth -= 1
        elif token.text == "," and depth == 0:
            items.append([])
            continue
        items[-1].append(token)
    return items


def _read_item(sql: str, item: list[_Token], parsed: TableSql) -> None:
    first = item[0].word
    if first == "CONSTRAINT" or first in TABLE_CONSTRAINTS:
        _read_table_constraint(sql, item, parsed)
    else:
        _read_column(sql, item, parsed)


def _read_table_constraint(sql: str, item: list[_Token], parsed: TableSql) -> None:
    name = item[1].name if item[0].word == "CONSTRAINT" and len(item) > 2 else None
    body = item[2:] if name is not None else item
    if body[0].word == "CHECK":
        parsed.checks.append((name, _parenthesised(sql, body[1:])))
    elif body[0].word == "FOREIGN" and name is not None:
        parsed.foreign_key_names[tuple(_names_in_parentheses(body[2:]))] = name


def _read_column(sql: str, item: list[_Token], parsed: TableSql) -> None:
    column = item[0].name
    name: str | None = None
    for i, token in enumerate(item):
        word = token.word
        if word == "CONSTRAINT" and i + 1 < len(item):
            name = item[i + 1].name
        elif word == "CHECK":
            parsed.checks.append((name, _parenthesised(sql, item[i + 1 :])))
            name = None
        elif word == "REFERENCES":
            if name is not None:
                parsed.foreign_key_names[(column,)] = name
            name = None
        elif word == "COLLATE" and i + 1 < len(item):
            parsed.collations[column] = item[i + 1].name
        elif word == "AUTOINCREMENT":
            parsed.autoincrement.add(column)


def _parenthesised(sql: str, tokens: list[_Token]) -> str:
    """The text inside the parentheses that `tokens` open with."""
    depth = 0
    for token in tokens:
        depth += (token.text == "(") - (token.text == ")")
        if depth == 0:
            return sql[tokens[0].end : token.start].strip()
    return sql[tokens[0].end :].strip()


def _names_in_parentheses(tokens: list[_Token]) -> list[str]:
    names = []
    for token in tokens:
        if token.text == ")":
            break
        if token.text not in "(,":
            names.append(token.name)
    return names
