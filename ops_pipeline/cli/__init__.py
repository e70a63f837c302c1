"""`ops-pipeline`: what the dagster CLI cannot do (start the demo, test a source, read the catalog, simulate a
resolver). Everything that runs work goes through Dagster: scans are `dagster asset materialize`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ops_pipeline.backfill.plan import plan_backfill
from ops_pipeline.core.drift import changes_markdown
from ops_pipeline.core.ingestion_plan import parse_moment
from ops_pipeline.core.resolver import simulate, simulation_markdown
from ops_pipeline.core.runs import RunRecord
from ops_pipeline.core.secrets import SecretError
from ops_pipeline.defs.data_products.generate import catalogued_table, table_source
from ops_pipeline.metrics.recorded import append_points
from ops_pipeline.metrics.series import MetricsError
from ops_pipeline.settings import ConfigError, OpsSettings, load_settings
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.profile import profile_table
from ops_pipeline.sources.registry import scanner_for, supports_scan
from ops_pipeline.store import catalog as catalog_store
from ops_pipeline.store import run_log as run_history
from ops_pipeline.store.data_products import latest_model
from ops_pipeline.store.engine import StoreError, open_store
from ops_pipeline.store.manifests import manifests, manifests_json
from ops_pipeline.store.signals import recent_signals

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
        return result
    except (ConfigError, SourceError, SecretError, StoreError, MetricsError, LookupError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ops-pipeline", description=__doc__)
    parser.add_argument("--config", help="path of ops.yaml (default: $OPS_CONFIG, else ./ops.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate the demo warehouse and start dagster dev on it")
    demo.add_argument("--port", type=int, default=3000)
    demo.add_argument("--host", default="127.0.0.1")
    demo.set_defaults(handler=_demo)

    config = commands.add_parser("config", help="validate ops.yaml")
    config.add_argument("action", choices=["check"])
    config.set_defaults(handler=_config_check)

    sources = commands.add_parser("sources", help="list configured sources or test one's connection")
    sources_commands = sources.add_subparsers(dest="action", required=True)
    sources_commands.add_parser("list").set_defaults(handler=_sources_list)
    test = sources_commands.add_parser("test", help="connect, report server version and latency")
    test.add_argument("source")
    test.set_defaults(handler=_sources_test)

    catalog = commands.add_parser("catalog", help="read scanned catalogs from the ops store")
    catalog_commands = catalog.add_subparsers(dest="action", required=True)
    for action, handler, help_text in (
        ("show", _catalog_show, "tables of the latest completed scan"),
        ("history", _catalog_history, "recent scans with status, version and timing"),
        ("changes", _catalog_changes, "schema changes recorded by the latest completed scan"),
    ):
        sub = catalog_commands.add_parser(action, help=help_text)
        sub.add_argument("source")
        sub.set_defaults(handler=handler)

    resolver = commands.add_parser("resolver", help="entity resolvers")
    resolver_commands = resolver.add_subparsers(dest="action", required=True)
    simulate_parser = resolver_commands.add_parser("simulate", help="resolve sample entities and show the trace")
    simulate_parser.add_argument("resolver")
    simulate_parser.add_argument("entities", nargs="+")
    simulate_parser.set_defaults(handler=_resolver_simulate)

    _add_run_commands(commands)
    _add_insight_commands(commands)
    _add_backfill_commands(commands)
    _add_model_commands(commands)

    store = commands.add_parser("store", help="the ops store")
    store.add_argument("action", choices=["upgrade"])
    store.set_defaults(handler=_store_upgrade)
    return parser


def _settings(args: argparse.Namespace) -> OpsSettings:
    return load_settings(args.config)


def _config_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print(f"ok: {len(settings.sources)} sources, {len(settings.resolvers)} resolvers")
    return 0


def _sources_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    for name, source in sorted(settings.sources.items()):
        scan = "scan" if supports_scan(source.type) else "connection test only"
        print(f"{name}\t{source.type}\t{scan}\t{', '.join(source.tags)}\t{source.description}")
    return 0


def _sources_test(args: argparse.Namespace) -> int:
    config = _settings(args).source(args.source)
    report = scanner_for(config.type).test_connection(args.source, config)
    print(
        f"ok: source {report.source!r} ({report.source_type}) at {report.target}: "
        f"server {report.server_version}, {report.latency_ms:.1f} ms"
    )
    return 0


def _latest(source: str) -> catalog_store.Snapshot:
    snapshot = catalog_store.latest_completed(open_store(), source)
    if snapshot is None:
        raise LookupError(f"source {source!r} has no completed scan yet")
    return snapshot


def _catalog_show(args: argparse.Namespace) -> int:
    snapshot = _latest(args.source)
    catalog = catalog_store.load_catalog(open_store(), snapshot)
    print(f"# {args.source}: snapshot {snapshot.id}, version {snapshot.version}, finished {snapshot.finished_at}")
    for table in catalog.tables:
        rows = "?" if table.row_count is None else f"{table.row_count}{'' if table.row_count_exact else '~'}"
        print(
            f"{table.qualified_name}\t{table.kind}\tentity={table.entity_name}\tcolumns={len(table.columns)}"
            f"\trows={rows}\tpk=({', '.join(table.primary_key)})\tfks={len(table.foreign_keys)}"
        )
    return 0


def _catalog_history(args: argparse.Namespace) -> int:
    for s in catalog_store.list_snapshots(open_store(), args.source):
        print(
            f"{s.id}\t{s.status}\tversion={s.version or '-'}\ttables={s.table_count or '-'}\t"
            f"changes={s.change_count if s.change_count is not None else '-'}\t"
            f"duration={s.duration_s or 0:.2f}s\t{s.requested_at:%Y-%m-%d %H:%M:%S}\t{_one_line(s.error)}"
        )
    return 0


def _one_line(text: str | None) -> str:
    """Errors hold tabs and newlines (libpq's do); history prints one tab-separated row per scan."""
    return " ".join((text or "").split())


def _catalog_changes(args: argparse.Namespace) -> int:
    snapshot = _latest(args.source)
    print(f"# {args.source}: version {snapshot.version}")
    print(changes_markdown(catalog_store.changes_for(open_store(), snapshot.id), limit=10_000))
    return 0


def _resolver_simulate(args: argparse.Namespace) -> int:
    spec = _settings(args).resolver(args.resolver)
    print(simulation_markdown(simulate(spec, args.entities)))
    return 0


def _add_run_commands(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser("runs", help="the run history: report external runs, read the history")
    run_commands = runs.add_subparsers(dest="action", required=True)
    log = run_commands.add_parser("log", help="record or update one run of an external workflow (idempotent)")
    log.add_argument("workflow")
    log.add_argument("run_id")
    log.add_argument("status", help="queued, running, success, failure, canceled (or an alias such as completed)")
    log.add_argument("--inputs", type=_json_object, help="JSON object")
    log.add_argument("--outputs", type=_json_object, help="JSON object")
    log.add_argument("--duration-ms", type=float)
    log.add_argument("--started-at", type=_timestamp, help="ISO-8601 with timezone")
    log.add_argument("--ended-at", type=_timestamp, help="ISO-8601 with timezone")
    log.add_argument("--failure-message")
    log.set_defaults(handler=_runs_log)
    listing = run_commands.add_parser("list", help="one workflow's runs, newest first")
    listing.add_argument("workflow")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--page", type=int, default=1)
    listing.set_defaults(handler=_runs_list)
    run_commands.add_parser("latest", help="the newest run of every workflow").set_defaults(handler=_runs_latest)


def _json_object(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 timestamp: {text!r}") from None


def _runs_log(args: argparse.Namespace) -> int:
    record = run_history.log_run(
        args.workflow,
        args.run_id,
        args.status,
        inputs=args.inputs,
        outputs=args.outputs,
        duration_ms=args.duration_ms,
        started_at=args.started_at,
        ended_at=args.ended_at,
        failure_message=args.failure_message,
    )
    print(f"ok: {record.workflow} {record.run_id} {record.status}")
    return 0


def _print_runs(records: list[RunRecord]) -> None:
    for r in records:
        duration = "-" if r.duration_ms is None else f"{r.duration_ms / 1000:.2f}s"
        print(f"{r.workflow}\t{r.run_id}\t{r.status}\t{r.origin}\t{r.created_at:%Y-%m-%d %H:%M:%S}\t{duration}")


def _runs_list(args: argparse.Namespace) -> int:
    _print_runs(run_history.runs_of(args.workflow, limit=args.limit, page=args.page))
    return 0


def _runs_latest(args: argparse.Namespace) -> int:
    _print_runs(run_history.latest_runs())
    return 0


def _add_insight_commands(commands: argparse._SubParsersAction) -> None:
    metrics = commands.add_parser("metrics", help="the recorded metrics file of ops.yaml")
    metric_commands = metrics.add_subparsers(dest="action", required=True)
    inject = metric_commands.add_parser("inject", help="append one sample (e.g. an anomaly) to the recorded file")
    inject.add_argument("metric")
    inject.add_argument("value", type=float)
    inject.add_argument("--label", action="append", default=[], metavar="NAME=VALUE")
    inject.add_argument("--at", type=_timestamp, help="ISO-8601 with timezone (default: now)")
    inject.set_defaults(handler=_metrics_inject)

    signals = commands.add_parser("signals", help="insight signals recorded in the ops store")
    signal_commands = signals.add_subparsers(dest="action", required=True)
    recent = signal_commands.add_parser("recent", help="the newest signals")
    recent.add_argument("--limit", type=int, default=20)
    recent.set_defaults(handler=_signals_recent)


def _metrics_inject(args: argparse.Namespace) -> int:
    recorded = _settings(args).metrics.recorded
    if recorded is None:
        raise ConfigError("ops.yaml has no metrics.recorded file to append to")
    labels = {}
    for pair in args.label:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise ValueError(f"--label {pair!r}: write NAME=VALUE")
        labels[name] = value
    at = args.at or datetime.now(UTC)
    append_points(recorded.path, [{"timestamp": at, "metric": args.metric, "labels": labels, "value": args.value}])
    print(f"ok: {args.metric}{labels or ''} = {args.value} at {at.isoformat()} appended to {recorded.path}")
    return 0


def _signals_recent(args: argparse.Namespace) -> int:
    for s in recent_signals(open_store(), args.limit):
        print(f"{s.ts:%Y-%m-%d %H:%M}\t{s.severity}\t{s.detector}\t{s.series_key}\t{s.score:+.1f}\t{s.origin}")
    return 0


def _add_backfill_commands(commands: argparse._SubParsersAction) -> None:
    backfill = commands.add_parser("backfill", help="backfill pipelines: plan one, read its audit manifest")
    backfill_commands = backfill.add_subparsers(dest="action", required=True)
    planning = backfill_commands.add_parser("plan", help="rows per window, suggested partitions per run, estimate")
    planning.add_argument("pipeline")
    planning.add_argument("--start", required=True, help="ISO date or timestamp (UTC)")
    planning.add_argument("--end", required=True, help="ISO date or timestamp (UTC), exclusive")
    planning.set_defaults(handler=_backfill_plan)
    manifest = backfill_commands.add_parser("manifest", help="one record per partition load, newest first")
    manifest.add_argument("pipeline")
    manifest.add_argument("--partition", help="only this partition key")
    manifest.add_argument("--limit", type=int)
    manifest.add_argument("--json", action="store_true", help="export as JSON")
    manifest.set_defaults(handler=_backfill_manifest)


def _backfill_plan(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.pipeline not in settings.backfills:
        raise LookupError(f"unknown backfill {args.pipeline!r} (configured: {', '.join(settings.backfills) or 'none'})")
    plan = plan_backfill(settings, args.pipeline, parse_moment(args.start), parse_moment(args.end), open_store())
    for window in plan.windows:
        print(f"{window.start:%Y-%m-%d %H:%M}\t{window.rows}")
    print(plan.summary())
    return 0


def _backfill_manifest(args: argparse.Namespace) -> int:
    records = manifests(open_store(), args.pipeline, args.partition, args.limit)
    if args.json:
        print(manifests_json(records), end="")
        return 0
    for r in records:
        print(
            f"{r.partition_key}\t{r.rows_read}\t{r.rows_written}\t{r.destination_checksum}\t"
            f"reconciled={r.reconciled}\tscore={r.validation_score:.3f}\t{r.duration_s:.3f}s\t"
            f"{r.rows_per_s:,.0f} rows/s\t{r.run_id or ''}"
        )
    return 0


def _add_model_commands(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="reverse ETL: analyse a catalogued table, show its generated model")
    model_commands = models.add_subparsers(dest="action", required=True)
    analyze = model_commands.add_parser("analyze", help="columns, keys, row count and a sampled profile")
    analyze.add_argument("source")
    analyze.add_argument("table", help="qualified as in the catalog, e.g. public.orders")
    analyze.add_argument("--sample-rows", type=int, default=10_000)
    analyze.add_argument("--exact-count", action="store_true")
    analyze.set_defaults(handler=_models_analyze)
    show = model_commands.add_parser("show", help="the latest generated model of a table")
    show.add_argument("source")
    show.add_argument("table")
    show.add_argument("--format", choices=["pure", "json-schema", "diff"], default="pure")
    show.set_defaults(handler=_models_show)


def _models_analyze(args: argparse.Namespace) -> int:
    settings = _settings(args)
    table = catalogued_table(open_store(), args.source, args.table)
    profile = profile_table(
        args.source,
        table_source(settings, args.source),
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


def _models_show(args: argparse.Namespace) -> int:
    stored = latest_model(open_store(), args.source, args.table)
    if stored is None:
        raise LookupError(f"no model generated yet for {args.source}.{args.table} (materialize data_product_models)")
    text = {"pure": stored.pure, "json-schema": stored.json_schema, "diff": stored.diff + "\n"}[args.format]
    print(f"// {stored.model_name} version {stored.version}", file=sys.stderr)
    print(text, end="")
    return 0


def _store_upgrade(args: argparse.Namespace) -> int:
    engine = open_store()
    print(f"ok: ops store at {engine.url.render_as_string(hide_password=True)} is at the latest revision")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Generate the sample warehouse, point DAGSTER_HOME at .dagster_home, and hand over to `dagster dev`."""
    sys.path.insert(0, str(PROJECT_ROOT / "examples" / "demo"))
    from generate_metrics import generate_metrics, is_fresh
    from generate_warehouse import generate_warehouse

    warehouse = generate_warehouse(PROJECT_ROOT / "examples" / "demo" / "warehouse.db")
    metrics = PROJECT_ROOT / "examples" / "demo" / "metrics.csv"
    if not is_fresh(metrics):
        generate_metrics(metrics)
    sqlite3.connect(PROJECT_ROOT / "examples" / "demo" / "lake.db").close()  # the backfill's (empty) destination
    home = PROJECT_ROOT / ".dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ.setdefault("DAGSTER_HOME", str(home))
    os.environ.setdefault("OPS_CONFIG", str(PROJECT_ROOT / "ops.yaml"))
    load_settings(os.environ["OPS_CONFIG"])  # fail here, readably, rather than inside the webserver
    print(
        f"demo warehouse: {warehouse}\ndemo metrics: {metrics}\nDAGSTER_HOME: {os.environ['DAGSTER_HOME']}\n"
        f"open http://{args.host}:{args.port} (Ctrl-C stops everything)",
        flush=True,
    )
    os.chdir(PROJECT_ROOT)
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
    os.execv(dagster, [dagster, "dev", "-w", "workspace.yaml", "-h", args.host, "-p", str(args.port)])


if __name__ == "__main__":
    raise SystemExit(main())
