"""The tables each scan leaves for the code location to draw as assets, in a small JSON file per source.

The code location reads these files when it loads instead of the ops store, so it loads whether or not the
store is reachable, and only for the sources ops.yaml configures. A file that cannot be read is skipped with
a warning; it never stops the code location. Each completed scan replaces its source's file atomically.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ops_pipeline.core.catalog import Catalog, Table

STATE_VERSION = 1
DEFAULT_FOLDER = "catalog_state"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableState:
    source: str
    source_type: str
    tables: tuple[Table, ...]


def state_dir(configured: str | None) -> Path | None:
    """`catalog.state_dir`, else $DAGSTER_HOME/catalog_state; None when neither is set."""
    if configured:
        return Path(configured).expanduser()
    home = os.environ.get("DAGSTER_HOME")
    return Path(home).expanduser() / DEFAULT_FOLDER if home else None


def write_table_state(folder: Path, catalog: Catalog) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{catalog.source}.json"
    document = {
        "version": STATE_VERSION,
        "source": catalog.source,
        "source_type": catalog.source_type,
        "tables": [{**t.definition(), "entity_name": t.entity_name} for t in catalog.tables],
    }
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    temporary.replace(path)
    return path


def read_table_states(folder: Path | None, sources: list[str]) -> list[TableState]:
    """The last scan's tables of each of `sources` that has a readable state file."""
    if folder is None:
        logger.warning("no catalog state folder (set catalog.state_dir or DAGSTER_HOME): no table assets drawn")
        return []
    states = []
    for source in sorted(sources):
        path = folder / f"{source}.json"
        if path.is_file():
            state = _read(path, source)
            if state is not None:
                states.append(state)
    return states


def _read(path: Path, source: str) -> TableState | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("version") != STATE_VERSION or document.get("source") != source:
            raise ValueError(f"not a version-{STATE_VERSION} state file of source {source!r}")
        tables = tuple(Table.from_definition(t, entity_name=t.get("entity_name")) for t in document["tables"])
        return TableState(source, str(document["source_type"]), tables)
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning(f"catalog state {path} skipped: {error}; the next scan of {source!r} rewrites it")
        return None
