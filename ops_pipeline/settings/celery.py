"""`plans.celery`: where plan steps go when `plans.executor` is `celery`: the broker, the result backend and
the queue the Celery workers listen on (`dagster-celery worker start -y <file> -q <queue>`).

A URL that carries a password is written as a reference, `env:NAME`: Dagster reads the variable in the run
process and in every worker (the executor's config is a Dagster `StringSource`), so the password is never in
ops.yaml, in run config or in the UI.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ops_pipeline.settings.base import StrictModel

DEFAULT_BROKER = "pyamqp://guest@127.0.0.1:5672//"
DEFAULT_BACKEND = "rpc://"
DEFAULT_QUEUE = "dagster"
BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss", "sqs")
BACKEND_SCHEMES = ("rpc", "redis", "rediss", "db+postgresql", "db+postgresql+psycopg2", "db+mysql", "db+sqlite")
ENV_REF = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")


def _check_url(value: str, schemes: tuple[str, ...]) -> str:
    if value.startswith("file:"):
        raise ValueError(
            "only env:NAME references here: Dagster reads the executor's config from the environment "
            "(set NAME where runs start and on every Celery worker)"
        )
    if value.startswith("env:"):
        if not ENV_REF.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid env:NAME reference")
        return value
    scheme, _, rest = value.partition("://")
    if not rest and value != f"{scheme}://":
        raise ValueError(f"{value!r} is not a URL (e.g. {DEFAULT_BROKER})")
    if scheme not in schemes:
        raise ValueError(f"scheme {scheme!r} is not one of {', '.join(schemes)}")
    if urlsplit(value).password:
        raise ValueError("holds a password; write the URL as env:NAME and set NAME to it")
    return value


class CelerySettings(StrictModel):
    broker: str = Field(
        default=DEFAULT_BROKER,
        description="the Celery broker's URL (RabbitMQ pyamqp://, Redis redis://), or env:NAME when it has a password",
    )
    backend: str = Field(
        default=DEFAULT_BACKEND,
        description="where workers send step results: rpc:// (back through the broker), redis://, db+postgresql://",
    )
    queue: str = Field(
        default=DEFAULT_QUEUE,
        description="the queue plan steps are sent to; start the workers with -q <queue>",
    )

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        return _check_url(value, BROKER_SCHEMES)

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        return _check_url(value, BACKEND_SCHEMES)

    @field_validator("queue")
    @classmethod
    def _queue(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value):
            raise ValueError("a queue name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
        return value

    def executor_config(self) -> dict[str, object]:
        """The config of dagster-celery's executor: references become Dagster's `{env: NAME}`."""
        return {"broker": _string_source(self.broker), "backend": _string_source(self.backend)}


def _string_source(value: str) -> object:
    match = ENV_REF.fullmatch(value)
    return {"env": match.group(1)} if match else value
