"""Include/exclude regex filters for schemas and tables, applied include-first.

An object is kept when it matches an include pattern (or no include patterns are given) and no exclude
pattern. Patterns are searched for (RE2, linear time), so anchor them (`^orders$`) for exact names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ops_pipeline.core.user_regex import UserRegex, compile_user_regex


@dataclass(frozen=True)
class NameFilter:
    include: tuple[UserRegex, ...] = ()
    exclude: tuple[UserRegex, ...] = ()

    @classmethod
    def from_patterns(cls, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> NameFilter:
        return cls(tuple(map(compile_user_regex, include)), tuple(map(compile_user_regex, exclude)))

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
