"""What every command group shares: the parsed ops.yaml, argument types, and tab-separated output."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from ops_pipeline.core.ingestion_plan import parse_moment
from ops_pipeline.settings import OpsSettings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MAX_STORED_INTEGER = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's bigint
TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def settings_of(args: argparse.Namespace) -> OpsSettings:
    return load_settings(args.config)


def json_object(text: str) -> dict[str, object]:
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    except RecursionError:
        raise argparse.ArgumentTypeError("not valid here: JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _no_constant(name: str) -> object:
    raise argparse.ArgumentTypeError(f"not valid JSON: {name} is not a JSON number")


def positive_int(text: str) -> int:
    """A count or a number in a series: from 1 to the largest integer the stores hold."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_STORED_INTEGER:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_STORED_INTEGER}, not {text}")
    return value


def timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 timestamp: {text!r}") from None


def moment_argument(text: str) -> datetime:
    """An ISO date or timestamp, UTC unless it has an offset; argparse names the option in the error."""
    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error} (in {text!r}; write an ISO date such as 2024-01-31)") from None


def tsv_field(text: object) -> str:
    """A name as one field of a tab-separated row: backslash, tab and line breaks escaped as \\, \\t, \\n, \\r."""
    return str(text).translate(TSV_ESCAPES)


def one_line(text: str | None) -> str:
    """Errors hold tabs and newlines (libpq's do); listings print one tab-separated row per item."""
    return " ".join((text or "").split())
