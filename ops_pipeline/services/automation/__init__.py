"""Running commands and sending files to targets: local subprocess, ssh, and a remote HTTP automation service."""

from ops_pipeline.services.automation.backend import OUTPUT_CAP_BYTES, CommandBackend, CommandResult
from ops_pipeline.services.automation.files import FileCopy, copy_file
from ops_pipeline.services.automation.service import AutomationService
from ops_pipeline.services.automation.ssh import HostKeyChecking, SshOptions

__all__ = [
    "OUTPUT_CAP_BYTES",
    "AutomationService",
    "CommandBackend",
    "CommandResult",
    "FileCopy",
    "HostKeyChecking",
    "SshOptions",
    "copy_file",
]
