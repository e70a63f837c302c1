"""Clients of the services steps act through, free of Dagster: the asset service (which targets exist and how
to reach them) and the automation service (run a command, send a file). `resources/services.py` builds them
from the `services:` section of ops.yaml."""

from ops_pipeline.core.targets import ConnectionType, SecretResolver, Target, TargetSpec
from ops_pipeline.services.assets import AssetService
from ops_pipeline.services.automation import (
    OUTPUT_CAP_BYTES,
    AutomationService,
    CommandResult,
    FileCopy,
    SshOptions,
    copy_file,
)
from ops_pipeline.services.errors import ChecksumMismatch, CommandTimedOut, ServiceError, TargetNotFound

__all__ = [
    "OUTPUT_CAP_BYTES",
    "AssetService",
    "AutomationService",
    "ChecksumMismatch",
    "CommandResult",
    "CommandTimedOut",
    "ConnectionType",
    "FileCopy",
    "SecretResolver",
    "ServiceError",
    "SshOptions",
    "Target",
    "TargetNotFound",
    "TargetSpec",
    "copy_file",
]
