"""CSV record boundaries, for reading a CSV file incrementally: where a read can resume (just past the last
complete record), and which regions before that point must be unchanged for growth to count as an append.

A trailing line without its newline (or a record whose quoted value is still open) is left for a later read. A
full parse of a file whose last record has no newline is not continued incrementally: its next change re-parses
it all.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from ops_pipeline.metrics.recorded.files import Version

CHECK_BYTES = 64 * 1024  # how much of the head of a CSV file, and of what precedes its offset, must be unchanged


@dataclass(frozen=True)
class CsvResume:
    """Where an incremental read of a CSV file resumes, and what must be unchanged before it."""

    offset: int  # the byte just past the last complete record parsed
    rows: int  # the records (not counting the header) before `offset`
    header: bytes  # the header record with its newline: put before each new part so pyarrow names columns alike
    checks: tuple[tuple[int, bytes], ...]  # (position, bytes) regions before `offset` that must not change


def resume_after_full_parse(text: bytes, rows: int, version: Version) -> CsvResume | None:
    """Where to continue `text` (a whole file), if its end is the end of a record; else None."""
    if len(text) != version[2] or not text.endswith(b"\n") or text.count(b'"') % 2:
        return None  # no final newline, an open quote (half a record?), or the file changed while read
    header_end = _first_record_end(text)
    if header_end is None:
        return None
    return CsvResume(
        len(text), rows, text[:header_end], check_regions(lambda at, size: text[at : at + size], len(text))
    )


def check_regions(read: Callable[[int, int], bytes], offset: int) -> tuple[tuple[int, bytes], ...]:
    """The regions before `offset` an extension verifies: the head of the file and what precedes `offset`.
    `read(position, size)` gives the file's bytes."""
    if offset <= CHECK_BYTES:
        return ((0, read(0, offset)),)
    return ((0, read(0, CHECK_BYTES)), (offset - CHECK_BYTES, read(offset - CHECK_BYTES, CHECK_BYTES)))


def header_names(text: bytes) -> list[str]:
    """The names in the first record of CSV `text` (with a UTF-8 byte order mark or not)."""
    end = _first_record_end(text)
    head = text[:end] if end is not None else text[: 1 << 20]
    return next(csv.reader(io.StringIO(head.decode("utf-8-sig", errors="strict" if end else "replace"))), [])


def _first_record_end(text: bytes) -> int | None:
    """Just past the newline ending the first record of `text` (quoted newlines are inside it), or None."""
    start, quotes = 0, 0
    while True:
        newline = text.find(b"\n", start)
        if newline < 0:
            return None
        quotes += text.count(b'"', start, newline)
        if quotes % 2 == 0:
            return newline + 1
        start = newline + 1


# A CSV record as pyarrow's parser reads it (comma, double quote, doubled quotes inside quotes, a quote only
# opening a quoted field at the start of a field), ended by a newline. Possessive: a quote pair never closes.
_FIELD = rb'(?:"[^"]*+(?:""[^"]*+)*+"[^,\r\n]*+|(?!")[^,\r\n]*+)'
_RECORD = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*(?:\r\n|\n|\r)")


def complete_records(text: bytes) -> int:
    """How many bytes at the start of `text` (which starts at a record boundary) are complete records: up to
    the last newline that is not inside a quoted field. Bytes after it (a line still without its newline, a
    quoted value still open) are left for a later read."""
    end = text.rfind(b"\n") + 1
    if end == 0 or text.count(b'"', 0, end) % 2 == 0:
        return end  # with quotes paired the last newline ends a record (the usual case, and cheap)
    # An open quote: half a record with a quoted line break, or a stray quote inside an unquoted field (which
    # pyarrow reads as a character). Walk the records as pyarrow does to tell them apart.
    position, complete = 0, 0
    while position < end:
        found = _RECORD.match(text, position)
        if found is None or found.end() > end:
            break
        position = found.end()
        if text[position - 1 : position] == b"\n":
            complete = position
    return complete


def longest_record(text: bytes) -> tuple[int, int]:
    """The index (the header is 0) and the length in bytes of the longest record of CSV `text`."""
    position, index, longest = 0, 0, (0, 0)
    while position < len(text):
        found = _RECORD.match(text, position)
        end = found.end() if found is not None else len(text)
        if end - position > longest[1]:
            longest = (index, end - position)
        position, index = end, index + 1
    return longest
