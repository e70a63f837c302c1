"""The `plans:` section of ops.yaml as a Dagster resource: the plan files (parsed once per process and again only
when a file changes), and how long approvals and idempotency keys last."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dagster as dg
from pydantic import Field

from ops_pipeline.execution.admission import AdmissionPolicy
from ops_pipeline.execution.plan_files import PlanCatalog, load_plan_files
from ops_pipeline.execution.webserver import graphql_url
from ops_pipeline.settings import PlansSettings


@lru_cache(maxsize=8)
def _catalog(folders: tuple[str, ...], stamp: tuple[tuple[str, int], ...]) -> PlanCatalog:
    return load_plan_files(folders)


def _stamp(folders: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    files = [p for f in folders if Path(f).is_dir() for p in sorted(Path(f).iterdir()) if p.suffix in (".yaml", ".yml")]
    return tuple((str(p), p.stat().st_mtime_ns) for p in files)


class PlansResource(dg.ConfigurableResource):
    folders: list[str] = Field(default_factory=list, description="folders of plan files")
    idempotency_window_s: int = Field(default=86400, description="how long a submission's key refuses duplicates")
    approval_expiry_s: dict[str, int] = Field(default_factory=dict, description="approval window by level (1-3)")
    graphql_url: str | None = Field(default=None, description="the webserver's GraphQL endpoint")

    @classmethod
    def from_settings(cls, plans: PlansSettings) -> PlansResource:
        return cls(
            folders=list(plans.folders),
            idempotency_window_s=plans.idempotency_window,
            approval_expiry_s={str(level): seconds for level, seconds in plans.approval_expiry.items()},
            graphql_url=plans.graphql_url,
        )

    def catalog(self) -> PlanCatalog:
        folders = tuple(self.folders)
        return _catalog(folders, _stamp(folders))

    def expiry(self) -> dict[int, float]:
        return {int(level): float(seconds) for level, seconds in self.approval_expiry_s.items()}

    def admission_policy(self) -> AdmissionPolicy:
        return AdmissionPolicy(self.idempotency_window_s, self.expiry())

    def graphql(self) -> str:
        return graphql_url(self.graphql_url)
