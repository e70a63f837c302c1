"""PURE identifiers for classes, properties, enums and enum values.

Property names are the camelCase of the column, folded to ASCII; a leading digit gets a ``_`` prefix
(``2fa_enabled`` -> ``_2faEnabled``), a PURE keyword (compared case-insensitively) gets a ``_`` suffix
(``class`` -> ``class_``), an empty result becomes ``column<N>`` and clashes get ``2``, ``3``, ... in
column order. Enum values keep their text when it is an identifier; otherwise every run of other
characters becomes ``_`` (the original is kept as a doc tagged value).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

from ops_pipeline.core.resolver import camel_case, pascal_case

_IDENTIFIER_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
# Keyword tokens of the Legend lexers that either cannot be an identifier at all (true, false, toBytes,
# byteStream) or start a declaration or statement (Class, Enum, function, let, import, ...). An identifier equal
# to one of them, compared case-insensitively so `class` is treated like `Class`, gets a "_" suffix. Other
# lexer words (all, tags, as, none, ...) are valid identifiers in the grammar and are left alone.
_PURE_RESERVED: Final = frozenset(
    w.casefold()
    for w in (
        "true", "false", "toBytes", "byteStream", "Class", "Enum", "Profile", "Association", "Measure",
        "function", "native", "extends", "import", "let",
    )
)  # fmt: skip


def _ascii_char(char: str) -> str:
    if char.isascii():
        return char if char.isalnum() or char == "_" else "_"
    folded = char.casefold()  # ß -> ss
    return folded if folded.isascii() and folded.isalnum() else "_"


def _ascii_fold(text: str) -> str:
    """ASCII letters, digits and ``_`` only: accents dropped (é -> e), ß -> ss, anything else -> ``_``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(_ascii_char(c) for c in decomposed if not unicodedata.combining(c))


def pure_identifier(text: str, *, style: Literal["camel", "pascal"] = "camel", fallback: str = "field") -> str:
    """A valid PURE identifier for ``text``: camelCase/PascalCase, ASCII, no leading digit, no keyword."""
    cased = camel_case(text) if style == "camel" else pascal_case(text)
    name = _ascii_fold(cased)
    if not name.strip("_"):
        name = fallback
    if name[0].isdigit():
        name = "_" + name
    if name.casefold() in _PURE_RESERVED:
        name += "_"
    return name


def enum_value_identifier(value: str) -> str:
    name = re.sub(r"_+", "_", _ascii_fold(value)) if not _IDENTIFIER_RE.match(value) else value
    if not name.strip("_"):
        name = "EMPTY" if value == "" else "VALUE"
    if name[0].isdigit():
        name = "_" + name
    if name.casefold() in _PURE_RESERVED:
        name += "_"
    return name


def unique_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}{n}"
        n += 1
    taken.add(candidate)
    return candidate


def check_package(package: str) -> None:
    segments = package.split("::")
    if not package or not all(_IDENTIFIER_RE.match(s) for s in segments):
        raise ValueError(f"invalid PURE package {package!r}: expected identifiers joined by '::', e.g. 'model::shop'")
