"""`ops-pipeline config|sources|resolver|store`: check ops.yaml, list and test sources, simulate a resolver,
migrate the ops store."""

from __future__ import annotations

import argparse

from ops_pipeline.cli.common import settings_of
from ops_pipeline.cli.partitions import sync_source_partitions
from ops_pipeline.core.resolver import simulate
from ops_pipeline.markdown.resolver import simulation_markdown
from ops_pipeline.sources.registry import database_for, supports_scan
from ops_pipeline.store.engine import open_store


def add_commands(commands: argparse._SubParsersAction) -> None:
    config = commands.add_parser("config", help="validate ops.yaml")
    config.add_argument("action", choices=["check"])
    config.set_defaults(handler=config_check)

    sources = commands.add_parser("sources", help="list configured sources or test one's connection")
    sources_commands = sources.add_subparsers(dest="action", required=True)
    sources_commands.add_parser("list").set_defaults(handler=sources_list)
    sources_commands.add_parser(
        "sync", help="add a `sources` partition to the Dagster instance for each source that has none"
    ).set_defaults(handler=sources_sync)
    test = sources_commands.add_parser("test", help="connect, report server version and latency")
    test.add_argument("source")
    test.set_defaults(handler=sources_test)

    resolver = commands.add_parser("resolver", help="entity resolvers")
    resolver_commands = resolver.add_subparsers(dest="action", required=True)
    simulate_parser = resolver_commands.add_parser("simulate", help="resolve sample entities and show the trace")
    simulate_parser.add_argument("resolver")
    simulate_parser.add_argument("entities", nargs="+")
    simulate_parser.set_defaults(handler=resolver_simulate)

    store = commands.add_parser("store", help="the ops store")
    store.add_argument("action", choices=["upgrade"])
    store.set_defaults(handler=store_upgrade)


def config_check(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    print(f"ok: {len(settings.sources)} sources, {len(settings.resolvers)} resolvers")
    return 0


def sources_list(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    for name, source in sorted(settings.sources.items()):
        scan = "scan" if supports_scan(source.type) else "connection test only"
        print(f"{name}\t{source.type}\t{scan}\t{', '.join(source.tags)}\t{source.description}")
    return 0


def sources_sync(args: argparse.Namespace) -> int:
    added, stale = sync_source_partitions(sorted(settings_of(args).sources))
    print(f"added partitions: {', '.join(added)}" if added else "ok: every source already has its partition")
    if stale:
        print(f"not in ops.yaml (the source_partitions_sync sensor removes them): {', '.join(stale)}")
    return 0


def sources_test(args: argparse.Namespace) -> int:
    config = settings_of(args).source(args.source)
    report = database_for(config.type).test_connection(args.source, config)
    print(
        f"ok: source {report.source!r} ({report.source_type}) at {report.target}: "
        f"server {report.server_version}, {report.latency_ms:.1f} ms"
    )
    return 0


def resolver_simulate(args: argparse.Namespace) -> int:
    spec = settings_of(args).resolver(args.resolver)
    print(simulation_markdown(simulate(spec, args.entities)))
    return 0


def store_upgrade(args: argparse.Namespace) -> int:
    engine = open_store()
    print(f"ok: ops store at {engine.url.render_as_string(hide_password=True)} is at the latest revision")
    return 0
