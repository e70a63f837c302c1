"""`policies:` how executions are kept safe: the SLA x action timeout matrix (the defaults of the seed, any cell
overridable), retries, the run-time backstop, who may do what (RBAC), and extra secret patterns to mask."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.core.execution.rbac import RbacPolicy
from ops_pipeline.core.execution.timeouts import DEFAULT_TIMEOUT_MATRIX, TimeoutMatrix
from ops_pipeline.settings.base import KEY_PATH_CTX, Duration, StrictModel


class PoliciesSettings(StrictModel):
    timeout_matrix: dict[str, Any] = Field(
        default={},
        description="overrides of the SLA x action matrix: {fast: {read: {step_timeout_s, execution_timeout_s, "
        "max_attempts}}}; what is not named keeps its default",
    )
    retry_delay_s: float = Field(default=1.0, gt=0, le=300, description="base delay of exponential retries")
    max_runtime_grace_s: Duration = Field(
        default=30, description="dagster/max_runtime = the execution timeout plus this (run monitoring's backstop)"
    )
    rbac: RbacPolicy = Field(default_factory=RbacPolicy, description="who may do what; deny by default in prod")
    mask_patterns: list[str] = Field(default=[], description="regular expressions masked in every log and output")

    @model_validator(mode="after")
    def _matrix(self) -> PoliciesSettings:
        try:
            self.matrix()
        except ValueError as error:
            first = str(error).splitlines()[1] if "\n" in str(error) else str(error)
            where, _, reason = first.partition(": ")
            raise PydanticCustomError(
                "timeout_matrix",
                "{reason}",
                {"reason": reason or first, KEY_PATH_CTX: f"policies.timeout_matrix.{where}"},
            ) from None
        return self

    @field_validator("mask_patterns")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        Masker(extra_patterns=patterns)  # raises ValueError naming the pattern that cannot be used
        return patterns

    def matrix(self) -> TimeoutMatrix:
        return DEFAULT_TIMEOUT_MATRIX.with_overrides(self.timeout_matrix)
