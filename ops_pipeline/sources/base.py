"""The interface every source type implements, and the errors it raises.

A `Database` is the one object that owns a source type: it opens a real connection (secrets resolved only
then), answers a connection test with the server version and latency, and scans the catalog in bulk. Relational
types go further (`sources.sql.SqlDatabase`). Failures are SourceErrors whose `kind` tells apart what a user
must fix: the host/port, the credentials, the database name, a slow network, or an unsupported type.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from ops_pipeline.core.catalog import Catalog

ErrorKind = Literal[
    "unreachable", "auth_failed", "unknown_database", "timeout", "scan_not_supported", "client_missing", "error"
]

ERROR_HINTS: dict[str, str] = {
    "unreachable": "is the server running and the host/port right?",
    "auth_failed": "check the user and the password reference",
    "unknown_database": "check the database name",
    "timeout": "the server did not answer in time; check the network or raise connect_timeout_s",
    "client_missing": "install the client library named above",
}


class SourceError(Exception):
    """A source could not be reached, authenticated, or scanned. The message never holds a secret."""

    def __init__(self, source: str, kind: ErrorKind, detail: str, *, hint: str | None = None) -> None:
        """`hint` replaces the kind's usual advice, e.g. to name the setting that governs this error."""
        self.source = source
        self.kind = kind
        self.detail = detail
        hint = hint or ERROR_HINTS.get(kind)
        super().__init__(f"source {source!r}: {kind.replace('_', ' ')}: {detail}" + (f" ({hint})" if hint else ""))


@dataclass(frozen=True)
class ConnectionReport:
    source: str
    source_type: str
    server_version: str
    latency_ms: float
    target: str


ConfigT = TypeVar("ConfigT")


class Database(ABC, Generic[ConfigT]):
    """One source type, configured by `ConfigT` (its model in `settings.sources`). Stateless: the registry holds
    one instance per type, and every call gets the source's name and configuration."""

    source_type: str
    supports_scan: bool = True

    @abstractmethod
    def test_connection(self, name: str, config: ConfigT) -> ConnectionReport:
        """Connect, ask the server for its version, and report how long that took."""

    def scan(self, name: str, config: ConfigT, *, exact_row_counts: bool = False) -> Catalog:
        raise SourceError(name, "scan_not_supported", f"scan not supported for {self.source_type}")


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - started) * 1000.0
