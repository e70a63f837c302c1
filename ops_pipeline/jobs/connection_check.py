"""Connection test of one source, launchable from the launchpad with the source name as config."""

import dagster as dg
from pydantic import Field

from ops_pipeline.resources.sources import SourceRegistry
from ops_pipeline.settings import ConfigError
from ops_pipeline.sources.base import SourceError


class ConnectionCheckConfig(dg.Config):
    source: str = Field(description="name of a source in ops.yaml")


@dg.op(description="Connect to the source, ask for its server version and time the round trip.")
def check_connection(
    context: dg.OpExecutionContext, config: ConnectionCheckConfig, sources: SourceRegistry
) -> dg.Output[dict[str, object]]:
    try:
        report = sources.test_connection(config.source)
    except (SourceError, ConfigError) as error:
        kind = error.kind if isinstance(error, SourceError) else "config"
        raise dg.Failure(description=str(error), metadata={"source": config.source, "error_kind": kind}) from None
    context.log.info(
        f"source {report.source!r} ({report.source_type}) at {report.target}: server {report.server_version}, "
        f"{report.latency_ms:.1f} ms"
    )
    summary: dict[str, object] = {
        "source": report.source,
        "source_type": report.source_type,
        "target": report.target,
        "server_version": report.server_version,
        "latency_ms": round(report.latency_ms, 2),
    }
    return dg.Output(summary, metadata=summary)  # type: ignore[arg-type]


@dg.job(description="Test the connection of one configured source (config: ops: check_connection: config: source).")
def check_source_connection() -> None:
    check_connection()
