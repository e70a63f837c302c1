"""Step contexts as the Dagster skin builds them: a masker, a resolver that registers each secret it resolves,
real sources opened writable, the real automation service, and a log the test can read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import TypeAdapter

from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.core.plans.steps import AnyStep, Step
from ops_pipeline.execution.steps import StepContext, StepServices, registering_resolver
from ops_pipeline.services import AssetService, AutomationService, SshOptions, TargetSpec
from ops_pipeline.settings import MySQLSource, PostgresSource, SourceConfig, SQLiteSource
from ops_pipeline.sources.registry import sql_database_for
from tests.conftest import MYSQL_HOST, MYSQL_PORT, MYSQL_USER, PG_HOST, PG_PORT, PG_USER
from tests.servers import Sshd, http_server, sshd

__all__ = ["http_server", "sshd"]

SECRET = "s3cr3t-Value-7f1c!x"  # what every secrets test greps for
STEP: TypeAdapter[AnyStep] = TypeAdapter(Step)


def step(**fields: Any) -> AnyStep:
    return STEP.validate_python({"id": "under_test", **fields})


@dataclass
class Harness:
    """Builds contexts and keeps what the steps logged."""

    sources: dict[str, SourceConfig] = field(default_factory=dict)
    targets: dict[str, TargetSpec] = field(default_factory=dict)
    ssh: SshOptions | None = None
    logs: list[str] = field(default_factory=list)
    masker: Masker = field(default_factory=Masker)

    def context(
        self,
        budget_s: float = 10.0,
        parameters: dict[str, object] | None = None,
        outputs: dict[str, object] | None = None,
    ) -> StepContext:
        resolve = registering_resolver(self.masker)
        assets = AssetService(self.targets, resolve_secret=resolve)
        automation = AutomationService(assets, ssh=self.ssh, retry_delay_s=0.05, resolve_secret=resolve)
        return StepContext(
            execution_id="exec-1",
            step_id="under_test",
            parameters=parameters or {},
            outputs=outputs or {},
            budget_s=budget_s,
            masker=self.masker,
            resolve_secret=resolve,
            connect_source=self.connect,
            services=StepServices(automation=automation, assets=assets),
            log=self.logs.append,
        )

    def connect(self, name: str) -> Any:
        config = self.sources[name]
        return sql_database_for(config.type).session(name, config, writable=True)


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("OPS_TEST_SECRET", SECRET)
    return Harness(targets={"here": TargetSpec(hostname="localhost", connection="local")})


@pytest.fixture
def ssh_harness(harness: Harness, sshd: Sshd) -> Harness:
    harness.targets["box"] = TargetSpec(**sshd.target_fields())
    harness.ssh = SshOptions(strict_host_key_checking="accept-new", known_hosts_file=str(sshd.known_hosts))
    return harness


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def database(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, empty database of each relational type, as source name `db`; yields its type."""
    kind: str = request.param
    config: SourceConfig
    if kind == "sqlite":
        config = SQLiteSource(type="sqlite", path=str(tmp_path / "steps.db"))
    elif kind == "postgresql":
        name = request.getfixturevalue("pg_database")
        config = PostgresSource(type="postgresql", host=PG_HOST, port=PG_PORT, user=PG_USER, database=name)
    else:
        name = request.getfixturevalue("mysql_database")
        config = MySQLSource(type="mysql", host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_USER, database=name)
    request.getfixturevalue("harness").sources["db"] = config
    return kind


def leaks(*texts: object) -> list[str]:
    """The texts that still hold the secret (none, when masking worked)."""
    return [str(text) for text in texts if SECRET in str(text)]


@pytest.fixture
def sql(harness: Harness, database: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Run setup or checking SQL on the test database directly (not through a step)."""

    def run(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with harness.connect("db") as session:
            if statement.lstrip().upper().startswith("SELECT"):
                rows = session.rows(statement, params)
            else:
                session.execute(statement, params)
                rows = []
            session.connection.commit()
            return rows

    yield run
