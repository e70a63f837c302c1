"""`ops-pipeline catalog show|history|changes`: scanned catalogs as the ops store holds them."""

from __future__ import annotations

import argparse

from ops_pipeline.cli.common import one_line, tsv_field
from ops_pipeline.markdown.catalog import changes_markdown
from ops_pipeline.store import catalog as catalog_store
from ops_pipeline.store.engine import open_store


def add_commands(commands: argparse._SubParsersAction) -> None:
    catalog = commands.add_parser("catalog", help="read scanned catalogs from the ops store")
    catalog_commands = catalog.add_subparsers(dest="action", required=True)
    for action, handler, help_text in (
        ("show", catalog_show, "tables of the latest completed scan"),
        ("history", catalog_history, "recent scans with status, version and timing"),
        ("changes", catalog_changes, "schema changes recorded by the latest completed scan"),
    ):
        sub = catalog_commands.add_parser(action, help=help_text)
        sub.add_argument("source")
        sub.set_defaults(handler=handler)


def _latest(source: str) -> catalog_store.Snapshot:
    snapshot = catalog_store.latest_completed(open_store(), source)
    if snapshot is None:
        raise LookupError(f"source {source!r} has no completed scan yet")
    return snapshot


def catalog_show(args: argparse.Namespace) -> int:
    snapshot = _latest(args.source)
    catalog = catalog_store.load_catalog(open_store(), snapshot)
    print(f"# {args.source}: snapshot {snapshot.id}, version {snapshot.version}, finished {snapshot.finished_at}")
    for table in catalog.tables:
        rows = "?" if table.row_count is None else f"{table.row_count}{'' if table.row_count_exact else '~'}"
        print(
            f"{tsv_field(table.qualified_name)}\t{table.kind}\tentity={tsv_field(table.entity_name)}\tcolumns={len(table.columns)}"
            f"\trows={rows}\tpk=({tsv_field(', '.join(table.primary_key))})\tfks={len(table.foreign_keys)}"
        )
    return 0


def catalog_history(args: argparse.Namespace) -> int:
    for s in catalog_store.list_snapshots(open_store(), args.source):
        print(
            f"{s.id}\t{s.status}\tversion={s.version or '-'}\ttables={s.table_count or '-'}\t"
            f"changes={s.change_count if s.change_count is not None else '-'}\t"
            f"duration={s.duration_s or 0:.2f}s\t{s.requested_at:%Y-%m-%d %H:%M:%S}\t{one_line(s.error)}"
        )
    return 0


def catalog_changes(args: argparse.Namespace) -> int:
    snapshot = _latest(args.source)
    print(f"# {args.source}: version {snapshot.version}")
    print(changes_markdown(catalog_store.changes_for(open_store(), snapshot.id), limit=10_000))
    return 0
