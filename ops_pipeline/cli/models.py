"""`ops-pipeline models analyze|show`: profile a catalogued table, print its generated model."""

from __future__ import annotations

import argparse
import sys

from ops_pipeline.cli.common import settings_of
from ops_pipeline.sources.profile import profile_table
from ops_pipeline.store.catalog import catalogued_table
from ops_pipeline.store.data_products import latest_model
from ops_pipeline.store.engine import open_store


def add_commands(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="reverse ETL: analyse a catalogued table, show its generated model")
    model_commands = models.add_subparsers(dest="action", required=True)
    analyze = model_commands.add_parser("analyze", help="columns, keys, row count and a sampled profile")
    analyze.add_argument("source")
    analyze.add_argument("table", help="qualified as in the catalog, e.g. public.orders")
    analyze.add_argument("--sample-rows", type=int, default=10_000)
    analyze.add_argument("--exact-count", action="store_true")
    analyze.set_defaults(handler=models_analyze)
    show = model_commands.add_parser("show", help="the latest generated model of a table")
    show.add_argument("source")
    show.add_argument("table")
    show.add_argument("--format", choices=["pure", "json-schema", "diff"], default="pure")
    show.set_defaults(handler=models_show)


def models_analyze(args: argparse.Namespace) -> int:
    source = settings_of(args).source(args.source)  # an unknown source is named as such, not "not catalogued"
    table = catalogued_table(open_store(), args.source, args.table)
    profile = profile_table(
        args.source,
        source,
        table,
        sample_rows=args.sample_rows,
        exact_count=args.exact_count,
    )
    print(
        f"# {args.source}.{table.qualified_name}: {profile.row_count:,} rows "
        f"({'exact' if profile.row_count_exact else 'estimated'}); pk ({', '.join(table.primary_key)}); "
        f"{len(table.foreign_keys)} foreign keys; {len(table.indexes)} indexes"
    )
    print(f"# sample: {profile.sampled_rows:,} rows by {profile.sample_method} in {profile.duration_s:.3f} s")
    for c in profile.columns:
        top = ", ".join(f"{value} ({count})" for value, count in c.top_values[:5])
        print(
            f"{c.name}\t{c.data_type}\tnulls={c.null_fraction:.1%}\tdistinct~{c.distinct_estimate}\t"
            f"min={c.min}\tmax={c.max}\t{top}"
        )
    return 0


def models_show(args: argparse.Namespace) -> int:
    settings_of(args).source(args.source)
    stored = latest_model(open_store(), args.source, args.table)
    if stored is None:
        raise LookupError(f"no model generated yet for {args.source}.{args.table} (materialize data_product_models)")
    text = {"pure": stored.pure, "json-schema": stored.json_schema, "diff": stored.diff + "\n"}[args.format]
    print(f"// {stored.model_name} version {stored.version}", file=sys.stderr)
    print(text, end="")
    return 0
