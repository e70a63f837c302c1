"""The FROM clause of a backfill's source: its table, or its query as a derived table."""

from __future__ import annotations

from ops_pipeline.backfill.endpoints import Endpoint
from ops_pipeline.settings import BackfillSettings


def source_relation(src: Endpoint, spec: BackfillSettings) -> str:
    if spec.table is not None:
        return src.qualified(spec.table)
    return f"({spec.query}) AS backfill_source"
