"""`data_products:` tables whose typed models (JSON Schema, Legend PURE) are generated."""

from __future__ import annotations

from pydantic import Field

from ops_pipeline.core.models import ConstraintSpec
from ops_pipeline.settings.base import Name, StrictModel


class DataProductSpec(StrictModel):
    source: Name
    table: Name = Field(description="qualified name as the catalog shows it, e.g. public.orders or main.orders")
    constraints: list[ConstraintSpec] = []
    profile: bool = Field(default=True, description="profile a sample of the table with each generation")
    sample_rows: int = Field(default=5000, ge=10, le=1_000_000)


class DataProductSettings(StrictModel):
    package: str = Field(default="model::ops", description="Legend PURE package of the generated classes")
    output_dir: str | None = Field(default=None, description="where model files go (default $DAGSTER_HOME/models)")
    models: list[DataProductSpec] = []
