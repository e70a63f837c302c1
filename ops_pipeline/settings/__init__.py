"""The models of `ops.yaml`, one module per section, and its loader.

A bad file stops the code location from loading with a ConfigError that names the file, the key path and
the reason. Import from here: `from ops_pipeline.settings import OpsSettings, load_settings`.
"""

from ops_pipeline.core.sample_validation import ValidationRule
from ops_pipeline.settings.backfills import BackfillSettings, SampleValidation
from ops_pipeline.settings.base import ConfigError, Duration, SecretRef, StrictModel
from ops_pipeline.settings.catalog import CatalogSettings
from ops_pipeline.settings.control_loop import ControlLoopSettings
from ops_pipeline.settings.data_products import DataProductSettings, DataProductSpec
from ops_pipeline.settings.insights import ConfirmSettings, DetectorSettings, InsightsSettings, ReactionSettings
from ops_pipeline.settings.loader import DEFAULT_CONFIG_FILE, config_path, load_settings, parse_settings
from ops_pipeline.settings.metrics import MetricsSettings, PrometheusSettings, RecordedMetricsSettings
from ops_pipeline.settings.ops import OpsSettings
from ops_pipeline.settings.plans import PlansSettings
from ops_pipeline.settings.policies import PoliciesSettings
from ops_pipeline.settings.run_history import RunHistorySettings
from ops_pipeline.settings.services import (
    AssetServiceSettings,
    AutomationSettings,
    HttpAutomationSettings,
    ServicesSettings,
    SshSettings,
)
from ops_pipeline.settings.sources import (
    SOURCE_TYPES,
    BigQuerySource,
    KafkaSource,
    MongoSource,
    MySQLSource,
    PatternSet,
    PostgresSource,
    RedisSource,
    S3Source,
    ServerSource,
    SnowflakeSource,
    SourceBase,
    SourceConfig,
    SQLiteSource,
    SSLOptions,
)

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "SOURCE_TYPES",
    "AssetServiceSettings",
    "AutomationSettings",
    "BackfillSettings",
    "BigQuerySource",
    "CatalogSettings",
    "ConfigError",
    "ConfirmSettings",
    "ControlLoopSettings",
    "DataProductSettings",
    "DataProductSpec",
    "DetectorSettings",
    "Duration",
    "HttpAutomationSettings",
    "InsightsSettings",
    "KafkaSource",
    "MetricsSettings",
    "MongoSource",
    "MySQLSource",
    "OpsSettings",
    "PatternSet",
    "PlansSettings",
    "PoliciesSettings",
    "PostgresSource",
    "PrometheusSettings",
    "ReactionSettings",
    "RecordedMetricsSettings",
    "RedisSource",
    "RunHistorySettings",
    "S3Source",
    "SQLiteSource",
    "SSLOptions",
    "SampleValidation",
    "SecretRef",
    "ServerSource",
    "ServicesSettings",
    "SnowflakeSource",
    "SourceBase",
    "SourceConfig",
    "SshSettings",
    "StrictModel",
    "ValidationRule",
    "config_path",
    "load_settings",
    "parse_settings",
]
