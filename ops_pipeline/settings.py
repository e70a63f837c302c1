"""The models of `ops.yaml` and its loader.

A bad file stops the code location from loading with a ConfigError that names the file, the key path and
the reason, for example `ops.yaml: sources.warehouse.port: Input should be a valid integer`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ops_pipeline.core import detector_defaults
from ops_pipeline.core.durations import format_duration, parse_duration
from ops_pipeline.core.filters import NameFilter, ScanFilter
from ops_pipeline.core.models import ConstraintSpec
from ops_pipeline.core.resolver import ResolverSpec
from ops_pipeline.core.secrets import is_secret_ref

if TYPE_CHECKING:
    from ops_pipeline.core.detectors import DetectorSpec

DEFAULT_CONFIG_FILE = "ops.yaml"


class ConfigError(ValueError):
    """ops.yaml is missing or invalid; the message names the file, the key path and the reason."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_secret_ref(value: str) -> str:
    if not is_secret_ref(value):
        raise ValueError("must be a secret reference (env:NAME or file:/path), not a literal secret")
    return value


SecretRef = Annotated[str, AfterValidator(_check_secret_ref), Field(description="env:NAME or file:/path")]


class PatternSet(StrictModel):
    schemas: list[str] = []
    tables: list[str] = []

    @field_validator("schemas", "tables")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
        return patterns


class SSLOptions(StrictModel):
    mode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


class SourceBase(StrictModel):
    description: str = ""
    tags: list[str] = []
    include: PatternSet = PatternSet()
    exclude: PatternSet = PatternSet()
    resolver: str | None = Field(default=None, description="resolver naming this source's tables")
    connect_timeout_s: float = Field(default=5.0, gt=0, le=300)
    query_timeout_s: float = Field(default=300.0, gt=0, description="longest a catalog query may run")

    @property
    def scan_filter(self) -> ScanFilter:
        return ScanFilter(
            schemas=NameFilter.from_patterns(self.include.schemas, self.exclude.schemas),
            tables=NameFilter.from_patterns(self.include.tables, self.exclude.tables),
        )


class ServerSource(SourceBase):
    host: str = "127.0.0.1"
    port: int = Field(gt=0, lt=65536)
    user: str | None = None
    password: SecretRef | None = None
    ssl: SSLOptions = SSLOptions()


class PostgresSource(ServerSource):
    type: Literal["postgresql"]
    port: int = Field(default=5432, gt=0, lt=65536)
    database: str


class MySQLSource(ServerSource):
    type: Literal["mysql"]
    port: int = Field(default=3306, gt=0, lt=65536)
    database: str


class SQLiteSource(SourceBase):
    type: Literal["sqlite"]
    path: str


class RedisSource(ServerSource):
    type: Literal["redis"]
    port: int = Field(default=6379, gt=0, lt=65536)
    db: int = Field(default=0, ge=0)
    sample_size: int = Field(default=2000, gt=0, description="keys sampled with SCAN per scan")
    match: str = Field(default="*", description="SCAN MATCH pattern")


class MongoSource(ServerSource):
    type: Literal["mongodb"]
    port: int = Field(default=27017, gt=0, lt=65536)
    database: str


class KafkaSource(SourceBase):
    type: Literal["kafka"]
    bootstrap_servers: list[str] = Field(min_length=1)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_username: str | None = None
    sasl_password: SecretRef | None = None


class S3Source(SourceBase):
    type: Literal["s3"]
    bucket: str
    region: str | None = None
    endpoint_url: str | None = None
    access_key_id: SecretRef | None = None
    secret_access_key: SecretRef | None = None


class BigQuerySource(SourceBase):
    type: Literal["bigquery"]
    project: str
    dataset: str | None = None
    credentials: SecretRef | None = None


class SnowflakeSource(SourceBase):
    type: Literal["snowflake"]
    account: str
    user: str
    password: SecretRef | None = None
    warehouse: str | None = None
    database: str | None = None
    role: str | None = None


SourceConfig = Annotated[
    PostgresSource
    | MySQLSource
    | SQLiteSource
    | RedisSource
    | MongoSource
    | KafkaSource
    | S3Source
    | BigQuerySource
    | SnowflakeSource,
    Field(discriminator="type"),
]

SOURCE_TYPES = ("postgresql", "mysql", "sqlite", "redis", "mongodb", "kafka", "s3", "bigquery", "snowflake")


class CatalogSettings(StrictModel):
    default_resolver: str | None = Field(default=None, description="resolver for sources that name none")
    rescan_cron: str | None = Field(default=None, description="cron for periodic rescans of every source")
    rescan_schedule_running: bool = False
    sync_interval_s: int = Field(default=30, ge=5)


class RunHistorySettings(StrictModel):
    refresh_cron: str | None = Field(default=None, description="cron for refreshing the run_history asset")
    refresh_schedule_running: bool = False


def _duration(value: str | int) -> int:
    return value if isinstance(value, int) else parse_duration(value)


Duration = Annotated[int, BeforeValidator(_duration), Field(description="seconds, or a string like 30m")]


class PrometheusSettings(StrictModel):
    url: str = Field(pattern=r"^https?://", description="base URL of the Prometheus HTTP API")
    timeout_s: float = Field(default=10.0, gt=0, le=300)


class RecordedMetricsSettings(StrictModel):
    path: str = Field(description="CSV or Parquet of timestamp, metric, labels, value")


class MetricsSettings(StrictModel):
    prometheus: PrometheusSettings | None = None
    recorded: RecordedMetricsSettings | None = None


class ConfirmSettings(StrictModel):
    """k of the last n valid points must exceed; n defaults to k (k points in a row)."""

    n: int = Field(default=1, ge=1, description="points looked at (default: k)")
    k: int = Field(default=1, ge=1, description="of them, how many must exceed")

    @model_validator(mode="before")
    @classmethod
    def _n_defaults_to_k(cls, data: Any) -> Any:
        k = data.get("k") if isinstance(data, dict) else None
        if isinstance(k, int) and not isinstance(k, bool) and k >= 1 and data.get("n") is None:
            return {**data, "n": k}
        return data

    @field_validator("k")
    @classmethod
    def _k_at_most_n(cls, k: int, info: ValidationInfo) -> int:
        n = info.data.get("n")
        if n is not None and k > n:
            raise ValueError(f"must be at most n ({n}): k of the last n points must exceed")
        return k


class ReactionSettings(StrictModel):
    job: str = Field(description="job launched for each new signal this reaction matches")
    severity: Literal["warning", "critical"] = Field(default="warning", description="lowest severity that reacts")


def _cooldown(value: Any) -> Any:
    """A number of points (`50`) or a duration (`30m`); bools and negative counts are refused."""
    if isinstance(value, str) and value.strip().isdigit():
        raise ValueError(f"{value!r} is quoted: write {value.strip()} (points) or add a unit such as {value.strip()}m")
    if value is None or isinstance(value, str):
        if isinstance(value, str):
            parse_duration(value)
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a number of points (50) or a duration (30m)")
    if value < 0:
        raise ValueError("must be 0 (off) or more points")
    return value


class DetectorSettings(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    source: Literal["recorded", "prometheus", "run_history"]
    query: str = Field(min_length=1, description="PromQL for prometheus, a selector for the other sources")
    kind: Literal["zscore", "ewma"]
    window: int | None = Field(default=None, description=f"zscore only (default {detector_defaults.ZSCORE_WINDOW})")
    alpha: float | None = Field(default=None, description=f"ewma only (default {detector_defaults.EWMA_ALPHA})")
    halflife: float | None = Field(default=None, description="ewma only, in points; instead of alpha")
    threshold: float = detector_defaults.THRESHOLD
    direction: Literal["up", "down", "both"] = "both"
    warmup: int = detector_defaults.WARMUP
    robust: bool = False
    cooldown: Annotated[int | str | None, BeforeValidator(_cooldown)] = Field(
        default=None,
        description=f"points (50) or a duration (30m); default {detector_defaults.COOLDOWN_POINTS} points, 0 = off",
    )
    confirm: ConfirmSettings = ConfirmSettings()
    scale_floor: float = Field(default=detector_defaults.SCALE_FLOOR, ge=0, description="least scale, metric units")
    scale_floor_relative: float = Field(
        default=detector_defaults.SCALE_FLOOR_RELATIVE, ge=0, description="least scale, fraction of the level"
    )
    adaptive_quantile: float | None = Field(
        default=detector_defaults.ADAPTIVE_QUANTILE,
        gt=0,
        lt=1,
        description="also exceed this quantile of the recent scores; null = off",
    )
    adaptive_window: int = Field(default=detector_defaults.ADAPTIVE_WINDOW, ge=1, description="scored points")
    step: Duration = 60
    lookback: Duration | None = Field(
        default=None, description="history read before a day by the batch; default: what the detector needs, >= 1d"
    )
    critical_at: float = Field(default=2.0, ge=1.0, description="critical when |score| >= threshold x this")
    reactions: list[ReactionSettings] = []

    @field_validator("window")
    @classmethod
    def _window_is_for_zscore(cls, window: int | None, info: ValidationInfo) -> int | None:
        if window is not None and info.data.get("kind") == "ewma":
            raise ValueError("applies to kind zscore only; an ewma detector takes alpha or halflife")
        return window

    @field_validator("alpha", "halflife")
    @classmethod
    def _smoothing_is_for_ewma(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("kind") == "zscore":
            raise ValueError("applies to kind ewma only; a zscore detector takes window")
        return value

    @field_validator("lookback")
    @classmethod
    def _lookback_covers_the_detector(cls, lookback: int | None, info: ValidationInfo) -> int | None:
        if lookback is None or info.data.get("step") is None:
            return lookback
        try:
            spec = _detector_spec(info.data)
        except (KeyError, ValueError):
            return lookback  # the fields that failed are reported on their own
        needed = _needed_history_s(spec, info.data["step"])
        if lookback < needed:
            raise ValueError(
                f"{format_duration(lookback)} is shorter than the {format_duration(needed)} of history this "
                f"detector needs ({spec.history_points} points of {format_duration(info.data['step'])}: the "
                "baseline, the adaptive window, k of n and the cooldown), so the batch would disagree with the "
                "probe; raise it, or leave lookback out to get what is needed"
            )
        return lookback

    @model_validator(mode="after")
    def _valid_spec(self) -> DetectorSettings:
        self.spec()  # DetectorSpec checks the combination (window, alpha/halflife, k of n, ...)
        if self.step < 1:
            raise ValueError("step must be at least 1s")
        return self

    @property
    def history_s(self) -> int:
        """The history the batch reads before a day and the probe starts with: `lookback`, else what the
        detector needs (see DetectorSpec.history_points), and at least a day."""
        if self.lookback is not None:
            return self.lookback
        return max(detector_defaults.LOOKBACK_S, _needed_history_s(self.spec(), self.step))

    def spec(self) -> DetectorSpec:
        return _detector_spec(dict(self))


def _detector_spec(fields: Mapping[str, Any]) -> DetectorSpec:
    """The DetectorSpec of a detector's (validated) fields."""
    # Imported here: the detectors module loads numba (~0.4 s), which configuration checks should not pay.
    from ops_pipeline.core.detectors import DetectorSpec

    cooldown = fields["cooldown"]
    return DetectorSpec(
        kind=fields["kind"],
        window=fields["window"],
        alpha=fields["alpha"],
        halflife=fields["halflife"],
        threshold=fields["threshold"],
        direction=fields["direction"],
        warmup=fields["warmup"],
        robust=fields["robust"],
        cooldown_s=parse_duration(cooldown) if isinstance(cooldown, str) else 0,
        cooldown_points=cooldown if isinstance(cooldown, int) else (None if cooldown is None else 0),
        confirm_k=fields["confirm"].k,
        confirm_n=fields["confirm"].n,
        scale_floor=fields["scale_floor"],
        scale_floor_rel=fields["scale_floor_relative"],
        adaptive_quantile=fields["adaptive_quantile"],
        adaptive_window=fields["adaptive_window"],
    )


def _needed_history_s(spec: DetectorSpec, step: int) -> int:
    """Seconds of history after which batch and probe decide alike."""
    return spec.history_points * step + math.ceil(spec.cooldown_s)


class InsightsSettings(StrictModel):
    start_date: date = Field(default=date(2026, 1, 1), description="first daily partition of insight_signals")
    probe_interval_s: int = Field(default=30, ge=5)
    probe_running: bool = True
    max_points_per_tick: int = Field(default=1440, ge=1, description="grid points one probe tick reads per detector")
    charts: int = Field(default=5, ge=0, le=50, description="top signals charted per materialization")
    artifacts_dir: str | None = Field(default=None, description="where charts go (default $DAGSTER_HOME/artifacts)")
    refresh_cron: str | None = Field(default=None, description="cron for materializing today's partition")
    refresh_schedule_running: bool = False


class ValidationRule(StrictModel):
    rule: Literal["not_null", "range", "regex", "unique", "allowed_values", "referential"]
    column: str
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    values: list[str | int | float | bool] | None = None
    table: str | None = Field(default=None, description="referential: the table in the source that must hold it")
    target_column: str | None = None

    @model_validator(mode="after")
    def _arguments(self) -> ValidationRule:
        needs = {
            "range": ("min", "max"),
            "regex": ("pattern",),
            "allowed_values": ("values",),
            "referential": ("table", "target_column"),
        }.get(self.rule, ())
        if self.rule == "range" and self.min is None and self.max is None:
            raise ValueError("range needs min, max or both")
        missing = [n for n in needs if self.rule != "range" and getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.rule} needs {', '.join(missing)}")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {self.pattern!r}: {error}") from None
        return self


class SampleValidation(StrictModel):
    sample_rows: int = Field(default=1000, ge=1, le=1_000_000)
    threshold: float = Field(default=1.0, ge=0, le=1, description="lowest score that lets a partition load")
    rules: list[ValidationRule] = []


class BackfillSettings(StrictModel):
    source: str = Field(description="a registered source (postgresql, mysql or sqlite)")
    table: str | None = Field(default=None, description="schema.table or table in the source")
    query: str | None = Field(default=None, description="SELECT ... instead of a table; the window filter wraps it")
    time_column: str
    destination: str = Field(description="a registered postgresql or sqlite source")
    destination_table: str | None = Field(default=None, description="default: the pipeline's name")
    window: Literal["hourly", "daily"] = "daily"
    start: datetime
    end: datetime | None = None
    partitions_per_run: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="windows per run for UI backfills; unset: a whole range in one run, which the dagster CLI's "
        "--partition-range requires",
    )
    chunk_rows: int = Field(default=50_000, ge=100, le=5_000_000)
    concurrent_windows: int | None = Field(
        default=None,
        ge=1,
        le=32,
        description="windows of a run loaded at once, each on its own connection pair; unset: 2 into PostgreSQL, "
        "1 into SQLite (one writer at a time)",
    )
    validation: SampleValidation = SampleValidation()

    @model_validator(mode="after")
    def _table_or_query(self) -> BackfillSettings:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        if self.query is not None and not re.match(r"^\s*(select|with)\b", self.query, re.IGNORECASE):
            raise ValueError("query must be a SELECT (or WITH ... SELECT) statement")
        return self


class DataProductSpec(StrictModel):
    source: str
    table: str = Field(description="qualified name as the catalog shows it, e.g. public.orders or main.orders")
    constraints: list[ConstraintSpec] = []
    profile: bool = Field(default=True, description="profile a sample of the table with each generation")
    sample_rows: int = Field(default=5000, ge=10, le=1_000_000)


class DataProductSettings(StrictModel):
    package: str = Field(default="model::ops", description="Legend PURE package of the generated classes")
    output_dir: str | None = Field(default=None, description="where model files go (default $DAGSTER_HOME/models)")
    models: list[DataProductSpec] = []


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

    @model_validator(mode="after")
    def _detectors_have_sources(self) -> OpsSettings:
        names = [d.name for d in self.detectors]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise _cross_reference_error("detectors", f"detector names must be unique; repeated: {', '.join(repeated)}")
        for index, detector in enumerate(self.detectors):
            if detector.source != "run_history" and getattr(self.metrics, detector.source) is None:
                raise _cross_reference_error(
                    f"detectors[{index}].source",
                    f"{detector.source!r} is not configured (add metrics.{detector.source})",
                )
        return self

    @model_validator(mode="after")
    def _backfills_use_known_sources(self) -> OpsSettings:
        for name, backfill in self.backfills.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise _cross_reference_error(f"backfills.{name}", "pipeline names are letters, digits and '_'")
            for role, allowed in (
                ("source", ("postgresql", "mysql", "sqlite")),
                ("destination", ("postgresql", "sqlite")),
            ):
                source_name = getattr(backfill, role)
                source = self.sources.get(source_name)
                if source is None:
                    known = ", ".join(sorted(self.sources)) or "none"
                    raise _cross_reference_error(
                        f"backfills.{name}.{role}", f"unknown source {source_name!r} (configured: {known})"
                    )
                if source.type not in allowed:
                    raise _cross_reference_error(
                        f"backfills.{name}.{role}",
                        f"a {source.type} source cannot be a backfill {role} (use {', '.join(allowed)})",
                    )
            if (backfill.concurrent_windows or 1) > 1 and self.sources[backfill.destination].type == "sqlite":
                raise _cross_reference_error(
                    f"backfills.{name}.concurrent_windows",
                    "a sqlite destination takes one writer at a time; use 1 or leave it unset",
                )
        return self

    def concurrent_windows(self, pipeline: str) -> int:
        """How many windows of `pipeline` load at once: as configured, else 2 into PostgreSQL, 1 into SQLite."""
        spec = self.backfills[pipeline]
        if spec.concurrent_windows is not None:
            return spec.concurrent_windows
        return 2 if self.sources[spec.destination].type == "postgresql" else 1

    @model_validator(mode="after")
    def _data_products_use_scannable_sources(self) -> OpsSettings:
        for index, model in enumerate(self.data_products.models):
            source = self.sources.get(model.source)
            if source is None or source.type not in ("postgresql", "mysql", "sqlite"):
                reason = "is not configured" if source is None else f"is a {source.type} source"
                raise _cross_reference_error(
                    f"data_products.models[{index}].source",
                    f"{model.source!r} {reason}; models come from postgresql, mysql or sqlite tables",
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
            raise _cross_reference_error("resolvers", reason)
        wanted = {f"sources.{n}.resolver": s.resolver for n, s in self.sources.items() if s.resolver}
        if self.catalog.default_resolver:
            wanted["catalog.default_resolver"] = self.catalog.default_resolver
        for where, name in wanted.items():
            if name not in names:
                known = ", ".join(names) or "none"
                raise _cross_reference_error(where, f"unknown resolver {name!r} (configured: {known})")
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


def config_path() -> Path:
    return Path(os.environ.get("OPS_CONFIG", DEFAULT_CONFIG_FILE)).expanduser()


def _cross_reference_error(key_path: str, reason: str) -> PydanticCustomError:
    """An error found across sections; pydantic would place it at the top level, so it carries its key path."""
    return PydanticCustomError("cross_reference", "{reason}", {"reason": reason, _KEY_PATH_CTX: key_path})


_KEY_PATH_CTX = "ops_key_path"

# Values of the discriminators that pydantic inserts into an error's location; users never wrote them.
_RULE_TAGS = frozenset({"alias", "pattern", "transformation"})
_STEP_TAGS = frozenset(
    {
        "lower",
        "upper",
        "trim",
        "snake_case",
        "camel_case",
        "pascal_case",
        "replace",
        "prefix",
        "suffix",
        "strip_prefix",
        "strip_suffix",
        "split_join",
    }
)


def _tag_positions(location: tuple[int | str, ...]) -> set[int]:
    """Indexes of the discriminator tags in `location`: they follow a source name, a rule index, a step index."""

    def tag_at(index: int, tags: frozenset[str] | tuple[str, ...]) -> bool:
        return len(location) > index and location[index] in tags

    positions: set[int] = set()
    if location[:1] == ("sources",) and tag_at(2, SOURCE_TYPES):
        positions.add(2)
    if location[:1] == ("resolvers",) and len(location) > 2 and location[2] == "rules" and tag_at(4, _RULE_TAGS):
        positions.add(4)
        if len(location) > 5 and location[5] == "steps" and tag_at(7, _STEP_TAGS):
            positions.add(7)
    return positions


def _key_path(location: tuple[int | str, ...]) -> str:
    tags = _tag_positions(location)
    parts: list[str] = []
    for index, part in enumerate(location):
        if index in tags:
            continue  # pydantic adds the discriminator tag to the path; users never wrote it
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def _problem(origin: str, error: Any) -> str:
    key_path = (error.get("ctx") or {}).get(_KEY_PATH_CTX) or _key_path(error["loc"])
    reason = error["msg"].removeprefix("Value error, ") if error["type"] == "value_error" else error["msg"]
    return f"{origin}: {key_path}: {reason}"


def parse_settings(data: Any, origin: str) -> OpsSettings:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping of sections, not {type(data).__name__}")
    try:
        return OpsSettings.model_validate(data)
    except ValidationError as error:
        problems = [_problem(origin, e) for e in error.errors()]
        raise ConfigError("invalid configuration\n  " + "\n  ".join(problems)) from None


def load_settings(path: Path | str | None = None) -> OpsSettings:
    """Read and validate ops.yaml (default: $OPS_CONFIG, else ./ops.yaml)."""
    file = Path(path) if path is not None else config_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: configuration file not found (set OPS_CONFIG to its path)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{file}: not valid YAML: {error}") from None
    return _anchor_paths(parse_settings(data, str(file)), file.parent)


def _anchor_paths(settings: OpsSettings, base: Path) -> OpsSettings:
    """Relative file paths (SQLite sources, recorded metrics, artifacts) mean "next to ops.yaml", whatever
    directory Dagster runs the code from."""

    def anchored(path: str) -> str:
        return path if Path(path).expanduser().is_absolute() else str((base / path).resolve())

    sources = {
        name: source.model_copy(update={"path": anchored(source.path)}) if isinstance(source, SQLiteSource) else source
        for name, source in settings.sources.items()
    }
    metrics = settings.metrics
    if metrics.recorded:
        recorded = metrics.recorded.model_copy(update={"path": anchored(metrics.recorded.path)})
        metrics = metrics.model_copy(update={"recorded": recorded})
    insights = settings.insights
    if insights.artifacts_dir:
        insights = insights.model_copy(update={"artifacts_dir": anchored(insights.artifacts_dir)})
    products = settings.data_products
    if products.output_dir:
        products = products.model_copy(update={"output_dir": anchored(products.output_dir)})
    return settings.model_copy(
        update={"sources": sources, "metrics": metrics, "insights": insights, "data_products": products}
    )
