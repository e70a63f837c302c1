"""Catalog versions, moved the way OpenMetadata moves an entity version: compatible changes bump the minor
number, any breaking change bumps the major number."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ops_pipeline.core.drift.changes import BREAKING, SchemaChange


@dataclass(frozen=True, order=True)
class CatalogVersion:
    """OpenMetadata-style ``major.minor`` version of a source's catalog."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @classmethod
    def parse(cls, text: str) -> CatalogVersion:
        """``"1.2"`` -> ``CatalogVersion(1, 2)``; raises ValueError for anything else."""
        match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text)
        if not match:
            raise ValueError(f"not a catalog version: {text!r} (expected 'major.minor', e.g. '0.1')")
        return cls(int(match.group(1)), int(match.group(2)))


INITIAL_VERSION: Final = CatalogVersion(0, 1)


def next_version(previous: CatalogVersion | None, changes: Sequence[SchemaChange]) -> CatalogVersion:
    """The version after applying ``changes``.

    No previous version (first scan) -> 0.1; no changes -> unchanged; only compatible changes -> minor + 1
    (0.1 -> 0.2); any breaking change -> major + 1 keeping the minor (0.2 -> 1.2), as OpenMetadata does.
    """
    if previous is None:
        return INITIAL_VERSION
    if not changes:
        return previous
    if any(c.classification == BREAKING for c in changes):
        return CatalogVersion(previous.major + 1, previous.minor)
    return CatalogVersion(previous.major, previous.minor + 1)
