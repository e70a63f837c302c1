"""The data products domain: typed models (JSON Schema, Legend PURE) generated from catalogued tables."""

import dagster as dg

from ops_pipeline.defs.data_products.assets import build_data_product_models
from ops_pipeline.settings import OpsSettings


def definitions(settings: OpsSettings) -> dg.Definitions:
    return dg.Definitions(assets=[build_data_product_models(settings)])
