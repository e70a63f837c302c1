"""A corpus of broken ops.yaml files made from the demo's valid one, and the counts issue 15 asks for: configs
tried, Python tracebacks, errors that do not name the file and a key path, and broken files wrongly accepted.

`python -m tests.config_corpus` prints the counts; tests/test_config_corpus.py asserts them.
"""

from __future__ import annotations

import copy
import math
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ops_pipeline.settings import ConfigError, load_settings
from tests.conftest import REPO_ROOT

DEMO_CONFIG = REPO_ROOT / "ops.yaml"

# Values put in place of any value of the demo file: wrong types, extremes, empties, hostile text.
HOSTILE_VALUES: tuple[Any, ...] = (
    None,
    True,
    -1,
    0,
    10**40,
    1.5,
    math.inf,
    -math.inf,
    "",
    " ",
    "http://",
    "x;DROP TABLE t",
    "0001-01-01",
    "^(a+)+$",
    "(?<=x)y",
    "\x00",
    "é" * 300,
    [],
    [None],
    {},
    {"unexpected": 1},
    "nested",  # replaced by lists nested 1,000 deep (see hostile())
)
DEEP = 1000
NESTED_TEXT = "[" * DEEP + "1" + "]" * DEEP  # written into the text: the YAML dumper cannot nest that deep


# Files that must be refused, one per class the issue lists; each edit applies to a copy of the demo document.
MUST_REFUSE: dict[str, str] = {
    "bad cron": "catalog:\n  rescan_cron: '0 0 30 2 *'\n",
    "cron with seconds": "run_history:\n  refresh_cron: '0 0 * * * *'\n",
    "unknown reaction job": (
        "detectors:\n  - {name: d, source: run_history, query: 'x', kind: zscore, reactions: [{job: nope}]}\n"
    ),
    "semicolon in query": (
        "backfills:\n  b: {source: demo, query: 'SELECT 1; DROP TABLE x', time_column: t, destination: lake,"
        " start: 2026-01-01}\n"
    ),
    "http:// as a URL": "metrics:\n  prometheus: {url: 'http://'}\n",
    "range min > max": (
        "backfills:\n  b: {source: demo, table: orders, time_column: t, destination: lake, start: 2026-01-01,"
        " validation: {rules: [{rule: range, column: total, min: 5, max: 1}]}}\n"
    ),
    "duplicate key": "catalog:\n  sync_interval_s: 15\n  sync_interval_s: 30\n",
    ".inf timeout": "metrics:\n  prometheus: {url: 'http://p:9090', timeout_s: .inf}\n",
    "negative lookback": ("detectors:\n  - {name: d, source: run_history, query: 'x', kind: zscore, lookback: -5}\n"),
    "absurd lookback": (
        "detectors:\n  - {name: d, source: run_history, query: 'x', kind: zscore, lookback: 100000000000000000000}\n"
    ),
    "absurd warm-up": (
        "detectors:\n  - {name: d, source: run_history, query: 'x', kind: zscore,"
        " warmup: 10000000000000000000000000000000000000000}\n"
    ),
    "absurd cooldown": (
        "detectors:\n  - {name: d, source: run_history, query: 'x', kind: zscore,"
        " cooldown: 10000000000000000000000000000000000000000}\n"
    ),
    "backfill end = start": (
        "backfills:\n  b: {source: demo, table: orders, time_column: t, destination: lake, start: 2026-01-02,"
        " end: 2026-01-02}\n"
    ),
    "backfill end < start": (
        "backfills:\n  b: {source: demo, table: orders, time_column: t, destination: lake, start: 2026-01-02,"
        " end: 2025-01-02}\n"
    ),
    "year-1 date": (
        "backfills:\n  b: {source: demo, table: orders, time_column: t, destination: lake, start: 0001-01-01}\n"
    ),
    "year-1 insights start": "insights:\n  start_date: 0001-01-01\n",
    "port: true": "sources:\n  pg: {type: postgresql, database: shop, port: true}\n",
    "empty table name": (
        "backfills:\n  b: {source: demo, table: '', time_column: t, destination: lake, start: 2026-01-01}\n"
    ),
    "empty time column": (
        "backfills:\n  b: {source: demo, table: orders, time_column: ' ', destination: lake, start: 2026-01-01}\n"
    ),
    "alias to ''": ("resolvers:\n  - {name: r, rules: [{name: a, type: alias, mappings: {Orders: ''}}]}\n"),
    "duration as a float": "detectors:\n  - {name: d, source: run_history, query: 'x', kind: zscore, step: 1.5}\n",
    "duration as a list": "detectors:\n  - {name: d, source: run_history, query: 'x', kind: zscore, step: [1]}\n",
    "duration as null": "detectors:\n  - {name: d, source: run_history, query: 'x', kind: zscore, step: null}\n",
    "lookaround filter": "sources:\n  s: {type: sqlite, path: x.db, include: {tables: ['(?!tmp)']}}\n",
    "NUL in a path": 'sources:\n  s: {type: sqlite, path: "x\\0y.db"}\n',
    "credentials in host": "sources:\n  pg: {type: postgresql, database: shop, host: 'u:pw@db'}\n",
}


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    traceback: str | None  # the exception type, when it was not a ConfigError
    unlocated: bool  # a ConfigError line that names no file and key path
    seconds: float


def leaf_paths(document: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value in the document, containers included."""
    if prefix:
        yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from leaf_paths(value, (*prefix, index))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    copied = copy.deepcopy(document)
    parent = copied
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return copied


def demo_document() -> Any:
    return yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))


def _located(message: str, file: Path) -> bool:
    lines = message.splitlines()
    problems = lines[1:] if lines[0] == "invalid configuration" else lines
    return all(re.match(rf"\s*{re.escape(str(file))}: \S", line) for line in problems)


def load_text(text: str, directory: Path) -> Outcome:
    file = directory / "ops.yaml"
    file.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    try:
        load_settings(file)
    except ConfigError as error:
        return Outcome(False, None, not _located(str(error), file), time.perf_counter() - start)
    except Exception as error:  # the count this corpus exists for
        return Outcome(False, type(error).__name__, False, time.perf_counter() - start)
    return Outcome(True, None, False, time.perf_counter() - start)


def mutation_texts() -> Iterator[str]:
    document = demo_document()
    for path in leaf_paths(document):
        for value in HOSTILE_VALUES:
            text = yaml.safe_dump(replaced(document, path, value), allow_unicode=True, width=10**6)
            yield text.replace("nested", NESTED_TEXT) if value == "nested" else text


def must_refuse_texts() -> dict[str, str]:
    """Each fragment's section replaces the demo's; its sources are added beside the demo's (backfills use them)."""
    texts = {}
    for name, fragment in MUST_REFUSE.items():
        if name == "duplicate key":  # YAML text only: a parsed document cannot hold a key twice
            demo = DEMO_CONFIG.read_text(encoding="utf-8")
            texts[name] = demo.replace("catalog:\n", fragment, 1)
            continue
        document, edited = demo_document(), yaml.safe_load(fragment)
        for section, value in edited.items():
            document[section] = {**document[section], **value} if section == "sources" else value
        texts[name] = yaml.safe_dump(document, allow_unicode=True)
    return texts


def counts() -> dict[str, int]:
    tried = tracebacks = unlocated = wrongly_accepted = 0
    slowest = 0.0
    with tempfile.TemporaryDirectory() as directory:
        for text in mutation_texts():
            outcome = load_text(text, Path(directory))
            tried += 1
            tracebacks += outcome.traceback is not None
            unlocated += outcome.unlocated
            slowest = max(slowest, outcome.seconds)
        for text in must_refuse_texts().values():
            outcome = load_text(text, Path(directory))
            tried += 1
            tracebacks += outcome.traceback is not None
            unlocated += outcome.unlocated
            wrongly_accepted += outcome.accepted
            slowest = max(slowest, outcome.seconds)
    return {
        "tried": tried,
        "tracebacks": tracebacks,
        "unlocated": unlocated,
        "wrongly_accepted": wrongly_accepted,
        "slowest_ms": round(slowest * 1000),
    }


if __name__ == "__main__":
    print(" ".join(f"{name}={value}" for name, value in counts().items()))
