"""Order-independent partition checksums: the same rows give the same checksum in any order, in any database.

Each row is rendered canonically, hashed to 64 bits with BLAKE2b, and the hashes are summed modulo 2**64 with
the row count. Canonical forms make the representations of one value in different drivers agree: NULL is
\\N, booleans are 1/0 (SQLite and MySQL store them as integers), decimals and floats lose trailing zeros,
timestamps (also ISO-8601 text, as SQLite returns them) become `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

MODULUS = 2**64
TIMESTAMP_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Checksum:
    rows: int = 0
    digest: int = 0

    def add(self, other: Checksum) -> Checksum:
        return Checksum(self.rows + other.rows, (self.digest + other.digest) % MODULUS)

    def __str__(self) -> str:
        return f"{self.rows}:{self.digest:016x}"


def canonical(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, float):
        return canonical(Decimal(repr(value)))
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, str) and TIMESTAMP_TEXT.match(value):
        try:
            return canonical(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def row_hash(row: Sequence[Any]) -> int:
    text = "\x1f".join(canonical(v) for v in row)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def checksum_rows(rows: Iterable[Sequence[Any]]) -> Checksum:
    count = 0
    total = 0
    for row in rows:
        total += row_hash(row)
        count += 1
    return Checksum(count, total % MODULUS)
