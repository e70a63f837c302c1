"""`MaskingComputeLogManager`: Dagster's local compute log manager, with captured stdout and stderr masked before
they reach the log files (and the terminal that mirrors them).

    compute_logs:
      module: ops_pipeline.instance.compute_logs
      class: MaskingComputeLogManager
      config:                 # optional, as LocalComputeLogManager's
        base_dir: /var/dagster/storage   # default $DAGSTER_HOME/storage, where Dagster keeps them
        polling_timeout: 0.5

Dagster captures a step process's output at the file descriptor level, into a file it then mirrors to the
terminal; inside that capture this manager points the descriptors at `masked_stream`, so only masked text is
ever written to the file.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from ops_pipeline.instance.default_classes import local_compute_log_manager_class
from ops_pipeline.instance.home import under_dagster_home
from ops_pipeline.instance.masked_stream import masked_stream

LocalComputeLogManager: Any = local_compute_log_manager_class()
WHAT = "compute_logs MaskingComputeLogManager"


class MaskingComputeLogManager(LocalComputeLogManager):
    @classmethod
    def config_type(cls) -> Any:
        return {**LocalComputeLogManager.config_type(), "base_dir": dg.Field(dg.StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> MaskingComputeLogManager:
        config = dict(config_value)
        config["base_dir"] = config.get("base_dir") or under_dagster_home(WHAT, "storage")
        return cls(inst_data=inst_data, **config)

    @contextlib.contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[Any]:
        with super().capture_logs(log_key) as context, masked_stream(sys.stdout), masked_stream(sys.stderr):
            yield context
