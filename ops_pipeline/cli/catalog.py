"""`ops-pipeline catalog show|history|changes`: scanned catalogs as the ops store holds them."""

from __future__ import annotations

import argparse
import json

from ops_pipeline.cli.common import one_line, settings_of, tsv_field
from ops_pipeline.core.catalog import Catalog, Table
from ops_pipeline.markdown.catalog import changes_markdown
from ops_pipeline.store import catalog as catalog_store
from ops_pipeline.store.engine import open_store


def add_commands(commands: argparse._SubParsersAction) -> None:
    catalog = commands.add_parser("catalog", help="read scanned catalogs from the ops store")
    catalog_commands = catalog.add_subparsers(dest="action", required=True)
    for action, handler, help_text in (
        ("show", catalog_show, "tables of the latest completed scan, with their columns and indexes"),
        ("history", catalog_history, "recent scans with status, version and timing"),
        ("changes", catalog_changes, "schema changes recorded by the latest completed scan"),
    ):
        sub = catalog_commands.add_parser(action, help=help_text)
        sub.add_argument("source")
        if action == "show":
            sub.add_argument("--json", action="store_true", help="the whole catalog as JSON")
        sub.set_defaults(handler=handler)


def _latest(args: argparse.Namespace) -> catalog_store.Snapshot:
    settings_of(args).source(args.source)  # an unknown source is an error, not "no scan yet"
    snapshot = catalog_store.latest_completed(open_store(), args.source)
    if snapshot is None:
        raise LookupError(
            f"source {args.source!r} has no completed scan yet (to scan it now: `ops-pipeline sources sync`, then "
            "`dagster asset materialize -m ops_pipeline.definitions --select schema_catalog "
            f"--partition {args.source}`)"
        )
    return snapshot


def catalog_show(args: argparse.Namespace) -> int:
    snapshot = _latest(args)
    catalog = catalog_store.load_catalog(open_store(), snapshot)
    if args.json:
        print(json.dumps(catalog_json(snapshot, catalog), indent=2, default=str))
        return 0
    print(f"# {args.source}: snapshot {snapshot.id}, version {snapshot.version}, finished {snapshot.finished_at}")
    for table in catalog.tables:
        print(
            f"{tsv_field(table.qualified_name)}\t{table.kind}\tentity={tsv_field(table.entity_name)}"
            f"\tcolumns={len(table.columns)}\trows={_rows(table)}\tpk=({tsv_field(', '.join(table.primary_key))})"
            f"\tfks={len(table.foreign_keys)}"
        )
        for column in table.columns:
            nullable = "null" if column.nullable else "not null"
            default = f"\tdefault {column.default}" if column.default is not None else ""
            print(f"  {column.name}\t{column.data_type}\t{nullable}{default}")
        for index in table.indexes:
            print(f"  index {index.name}\t({', '.join(index.columns)}){' unique' if index.unique else ''}")
    return 0


def _rows(table: Table) -> str:
    return "?" if table.row_count is None else f"{table.row_count}{'' if table.row_count_exact else '~'}"


def catalog_json(snapshot: catalog_store.Snapshot, catalog: Catalog) -> dict[str, object]:
    return {
        "source": catalog.source,
        "source_type": catalog.source_type,
        "server_version": catalog.server_version,
        "snapshot": snapshot.id,
        "version": snapshot.version,
        "finished_at": snapshot.finished_at,
        "tables": [
            {
                **table.definition(),
                "columns": [
                    {"name": c.name, "type": c.data_type, "nullable": c.nullable, "default": c.default}
                    for c in table.columns
                ],
                "indexes": [{"name": i.name, "columns": list(i.columns), "unique": i.unique} for i in table.indexes],
                "row_count": table.row_count,
                "row_count_exact": table.row_count_exact,
                "entity_name": table.entity_name,
            }
            for table in catalog.tables
        ],
    }


def catalog_history(args: argparse.Namespace) -> int:
    settings_of(args).source(args.source)
    engine = open_store()
    snapshots = catalog_store.list_snapshots(engine, args.source)
    kinds = catalog_store.kind_counts(engine, [s.id for s in snapshots])
    for s in snapshots:
        counted = kinds.get(s.id, {})
        relations = ", ".join(f"{kind}s={count}" for kind, count in sorted(counted.items())) or "tables=-"
        print(
            f"{s.id}\t{s.status}\tversion={s.version or '-'}\t{relations}\t"
            f"changes={s.change_count if s.change_count is not None else '-'}\t"
            f"duration={s.duration_s or 0:.2f}s\t{s.requested_at:%Y-%m-%d %H:%M:%S}\t{one_line(s.error)}"
        )
    return 0


def catalog_changes(args: argparse.Namespace) -> int:
    snapshot = _latest(args)
    print(f"# {args.source}: version {snapshot.version}")
    print(changes_markdown(catalog_store.changes_for(open_store(), snapshot.id), limit=10_000))
    return 0
