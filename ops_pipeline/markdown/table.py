"""One markdown table helper: escaped cells, an optional row limit with a "… and N more" line, and a sentence
for an empty table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

EMPTY_CELL = "—"


def cell(value: object) -> str:
    """A value as one table cell: pipes escaped, line breaks kept as <br>, empty shown as a dash."""
    if value is None:
        return EMPTY_CELL
    text = str(value)
    if not text.strip():
        return EMPTY_CELL
    return text.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    empty: str | None = None,
    limit: int | None = None,
) -> str:
    """A markdown table of `rows` under `headers`. With `empty`, no rows give that sentence instead; with
    `limit`, rows past it are counted in a final "… and N more" line."""
    all_rows = list(rows)
    if not all_rows and empty is not None:
        return empty
    shown = all_rows if limit is None else all_rows[: max(limit, 0)]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in shown]
    if len(all_rows) > len(shown):
        lines += ["", f"… and {len(all_rows) - len(shown)} more"]
    return "\n".join(lines)
