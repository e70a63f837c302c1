"""The one Definitions object of the ops_pipeline code location: ops.yaml ($OPS_CONFIG) parsed once, each
domain's definitions built from it and merged, and the resources every domain shares."""

import warnings
from pathlib import Path
from typing import Any

import dagster as dg

from ops_pipeline.defs.backfills import definitions as backfills
from ops_pipeline.defs.catalog import definitions as catalog
from ops_pipeline.defs.control_loop import definitions as control_loop
from ops_pipeline.defs.data_products import definitions as data_products
from ops_pipeline.defs.execution import definitions as execution
from ops_pipeline.defs.insights import definitions as insights
from ops_pipeline.defs.run_history import definitions as run_history
from ops_pipeline.resources.control_loop import ControlLoopResource
from ops_pipeline.resources.metrics import MetricsResource
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.plans import PlansResource
from ops_pipeline.resources.policies import PoliciesResource
from ops_pipeline.resources.services import AssetServiceResource, AutomationServiceResource
from ops_pipeline.resources.sources import SourcesResource
from ops_pipeline.settings import OpsSettings, config_path, load_settings

# Beta and preview features the project uses knowingly; every process that loads the code location (webserver,
# daemon, each run) would otherwise log each of them again. Other Dagster warnings still show.
ACCEPTED_WARNINGS = (
    (dg.PreviewWarning, "Specifying a partitions_def on an AssetCheckSpec"),  # per-source drift checks
    (dg.BetaWarning, "Parameter `backfill_policy` of function `asset`"),  # single-run backfills
    (dg.BetaWarning, r"Parameter `owners` of initializer `SensorDefinition.__init__`"),  # in Dagster's sensor copies
)
for category, message in ACCEPTED_WARNINGS:
    warnings.filterwarnings("ignore", message=message, category=category)


def build_definitions(settings_file: Path | None = None, database_url: str | None = None) -> dg.Definitions:
    settings_file = (settings_file or config_path()).resolve()
    settings = load_settings(settings_file)
    resources = shared_resources(settings, database_url)
    return dg.Definitions.merge(
        dg.Definitions(resources=resources),
        catalog.definitions(settings, settings_file),
        run_history.definitions(settings),
        insights.definitions(settings),
        backfills.definitions(settings),
        data_products.definitions(settings),
        execution.definitions(settings, resources["plans"].catalog()),
        control_loop.definitions(settings),
    )


def shared_resources(settings: OpsSettings, database_url: str | None = None) -> dict[str, Any]:
    return {
        "ops_store": OpsStoreResource(database_url=database_url),
        "sources": SourcesResource.from_settings(settings),
        "metrics": MetricsResource.from_settings(settings.metrics),
        "asset_service": AssetServiceResource.from_settings(settings.services),
        "automation_service": AutomationServiceResource.from_settings(settings.services),
        "plans": PlansResource.from_settings(settings.plans),
        "policies": PoliciesResource.from_settings(settings.policies),
        "control_loop": ControlLoopResource.from_settings(settings.control_loop),
    }


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded by Dagster when the code location starts, so importing this module has no side effects."""
    return build_definitions()
