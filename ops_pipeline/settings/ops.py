"""The whole of ops.yaml: every section, and the rules that cross sections (a backfill names a configured source,
a detector a configured metrics source, a source a configured resolver)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import field_validator, model_validator

from ops_pipeline.core.resolver import ResolverSpec
from ops_pipeline.settings.backfills import BackfillSettings
from ops_pipeline.settings.base import ConfigError, StrictModel, cross_reference_error
from ops_pipeline.settings.catalog import CatalogSettings
from ops_pipeline.settings.control_loop import ControlLoopSettings
from ops_pipeline.settings.data_products import DataProductSettings
from ops_pipeline.settings.insights import DetectorSettings, InsightsSettings
from ops_pipeline.settings.metrics import MetricsSettings
from ops_pipeline.settings.plans import PlansSettings
from ops_pipeline.settings.policies import PoliciesSettings
from ops_pipeline.settings.run_history import RunHistorySettings
from ops_pipeline.settings.services import ServicesSettings
from ops_pipeline.settings.sources import SourceConfig, backfill_types, source_types_where, spoken_list


class OpsSettings(StrictModel):
    sources: dict[str, SourceConfig] = {}
    resolvers: list[ResolverSpec] = []
    catalog: CatalogSettings = CatalogSettings()
    run_history: RunHistorySettings = RunHistorySettings()
    metrics: MetricsSettings = MetricsSettings()
    detectors: list[DetectorSettings] = []
    insights: InsightsSettings = InsightsSettings()
    backfills: dict[str, BackfillSettings] = {}
    data_products: DataProductSettings = DataProductSettings()
    plans: PlansSettings = PlansSettings()
    services: ServicesSettings = ServicesSettings()
    policies: PoliciesSettings = PoliciesSettings()
    control_loop: ControlLoopSettings = ControlLoopSettings()

    @model_validator(mode="after")
    def _detectors_have_sources(self) -> OpsSettings:
        names = [d.name for d in self.detectors]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise cross_reference_error("detectors", f"detector names must be unique; repeated: {', '.join(repeated)}")
        for index, detector in enumerate(self.detectors):
            if detector.source != "run_history" and getattr(self.metrics, detector.source) is None:
                raise cross_reference_error(
                    f"detectors[{index}].source",
                    f"{detector.source!r} is not configured (add metrics.{detector.source})",
                )
        return self

    @model_validator(mode="after")
    def _backfills_use_known_sources(self) -> OpsSettings:
        for name, backfill in self.backfills.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise cross_reference_error(f"backfills.{name}", "pipeline names are letters, digits and '_'")
            for role in ("source", "destination"):
                source_name = getattr(backfill, role)
                source = self.sources.get(source_name)
                if source is None:
                    known = ", ".join(sorted(self.sources)) or "none"
                    raise cross_reference_error(
                        f"backfills.{name}.{role}", f"unknown source {source_name!r} (configured: {known})"
                    )
                if role not in source.backfill_roles:
                    allowed = backfill_types(role)
                    raise cross_reference_error(
                        f"backfills.{name}.{role}",
                        f"a {source.type} source cannot be a backfill {role} (use {', '.join(allowed)})",
                    )
            destination = self.sources[backfill.destination]
            if (backfill.concurrent_windows or 1) > 1 and destination.single_writer:
                raise cross_reference_error(
                    f"backfills.{name}.concurrent_windows",
                    f"a {destination.type} destination takes one writer at a time; use 1 or leave it unset",
                )
        return self

    def concurrent_windows(self, pipeline: str) -> int:
        """How many windows of `pipeline` load at once: as configured, else 2 (PostgreSQL), or 1 into a destination
        that takes one writer at a time (SQLite)."""
        spec = self.backfills[pipeline]
        if spec.concurrent_windows is not None:
            return spec.concurrent_windows
        return 1 if self.sources[spec.destination].single_writer else 2

    @model_validator(mode="after")
    def _data_products_use_scannable_sources(self) -> OpsSettings:
        for index, model in enumerate(self.data_products.models):
            source = self.sources.get(model.source)
            if source is None or not source.has_tables:
                reason = "is not configured" if source is None else f"is a {source.type} source"
                relational = spoken_list(source_types_where(lambda model: model.has_tables))
                raise cross_reference_error(
                    f"data_products.models[{index}].source",
                    f"{model.source!r} {reason}; models come from {relational} tables",
                )
        return self

    def detector(self, name: str) -> DetectorSettings:
        for detector in self.detectors:
            if detector.name == name:
                return detector
        known = ", ".join(d.name for d in self.detectors) or "none"
        raise ConfigError(f"unknown detector {name!r} (configured: {known})")

    @field_validator("sources")
    @classmethod
    def _source_names(cls, sources: dict[str, Any]) -> dict[str, Any]:
        for name in sources:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", name):
                raise ValueError(f"source name {name!r} must be letters, digits, '_' or '-'")
        return sources

    @model_validator(mode="after")
    def _resolvers_exist(self) -> OpsSettings:
        names = [r.name for r in self.resolvers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            reason = f"resolver names must be unique; repeated: {', '.join(duplicates)}"
            raise cross_reference_error("resolvers", reason)
        wanted = {f"sources.{n}.resolver": s.resolver for n, s in self.sources.items() if s.resolver}
        if self.catalog.default_resolver:
            wanted["catalog.default_resolver"] = self.catalog.default_resolver
        for where, name in wanted.items():
            if name not in names:
                known = ", ".join(names) or "none"
                raise cross_reference_error(where, f"unknown resolver {name!r} (configured: {known})")
        return self

    def source(self, name: str) -> SourceConfig:
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "none"
            raise ConfigError(f"unknown source {name!r} (configured: {known})") from None

    def resolver(self, name: str) -> ResolverSpec:
        for spec in self.resolvers:
            if spec.name == name:
                return spec
        known = ", ".join(r.name for r in self.resolvers) or "none"
        raise ConfigError(f"unknown resolver {name!r} (configured: {known})")

    def resolver_for_source(self, name: str) -> ResolverSpec | None:
        chosen = self.source(name).resolver or self.catalog.default_resolver
        return self.resolver(chosen) if chosen else None
