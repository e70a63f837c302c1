"""Generated data product models, versioned: a new version only when the generated text changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.store.tables import data_product_models


@dataclass(frozen=True)
class StoredModel:
    source: str
    table_name: str
    model_name: str
    version: int
    content_hash: str
    json_schema: str
    pure: str
    diff: str
    table_definition: str
    constraints: str
    run_id: str | None
    created_at: datetime


def latest_model(engine: sa.Engine, source: str, table_name: str) -> StoredModel | None:
    query = (
        sa.select(data_product_models)
        .where(data_product_models.c.source == source, data_product_models.c.table_name == table_name)
        .order_by(data_product_models.c.version.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).one_or_none()
    return _stored(row) if row else None


def save_model(engine: sa.Engine, model: StoredModel) -> None:
    values = {k: v for k, v in model.__dict__.items()}
    with engine.begin() as conn:
        conn.execute(data_product_models.insert().values(**values))


def _stored(row: sa.Row) -> StoredModel:
    values = {k: v for k, v in row._mapping.items() if k != "id"}
    if values["created_at"].tzinfo is None:
        values["created_at"] = values["created_at"].replace(tzinfo=UTC)
    return StoredModel(**values)
