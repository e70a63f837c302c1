"""Include/exclude regex filters for schemas and tables, applied include-first.

An object is kept when it matches an include pattern (or no include patterns are given) and no exclude
pattern. Patterns use `re.search`, so anchor them (`^orders$`) for exact names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class NameFilter:
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def from_patterns(cls, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> NameFilter:
        return cls(tuple(re.compile(p) for p in include), tuple(re.compile(p) for p in exclude))

    def keeps(self, name: str) -> bool:
        if self.include and not any(p.search(name) for p in self.include):
            return False
        return not any(p.search(name) for p in self.exclude)


@dataclass(frozen=True)
class ScanFilter:
    schemas: NameFilter = NameFilter()
    tables: NameFilter = NameFilter()

    def keeps(self, schema: str, table: str) -> bool:
        return self.schemas.keeps(schema) and self.tables.keeps(table)
