"""Targets: the hosts a plan's command and file steps act on, as the asset service describes them.

A target has an id (what plans name), a hostname, how it is reached (`local`: this machine, as the user the
step runs as; `ssh`: the system ssh client; `http`: the remote automation service), a port, a user and a
credentials reference (`env:NAME` or `file:/path`; for ssh a private key, for http a bearer token sent to the
automation service). Targets come from the `services.targets` section of ops.yaml or from an HTTP asset service
(`GET <url>/targets/<id>`); both are validated by the models here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ops_pipeline.core.secrets import is_secret_ref

ConnectionType = Literal["local", "ssh", "http"]
SecretResolver = Callable[[str], str]  # a reference (env:NAME, file:/path) -> its value
DEFAULT_SSH_PORT = 22
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._:\-]{0,252})|\[[0-9A-Fa-f:.]+\]")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")


def _hostname(value: str) -> str:
    if not _HOSTNAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a host name or IP address")
    return value


def _user(value: str) -> str:
    if not _USER.fullmatch(value):
        raise ValueError(f"{value!r} is not a user name (letters, digits, '_', '.', '-')")
    return value


def _secret_ref(value: str) -> str:
    if not is_secret_ref(value):
        raise ValueError("must be a secret reference (env:NAME or file:/path), not a literal secret")
    return value


class TargetSpec(BaseModel):
    """How to reach one target (its id is the key it is listed under)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hostname: Annotated[str, AfterValidator(_hostname)] = Field(description="host name or IP address")
    connection: ConnectionType = Field(description="local, ssh or http (through the remote automation service)")
    port: int | None = Field(default=None, gt=0, lt=65536, description="ssh port (default 22)")
    user: Annotated[str, AfterValidator(_user)] | None = Field(default=None, description="ssh login user")
    credentials: Annotated[str, AfterValidator(_secret_ref)] | None = Field(
        default=None, description="env:NAME or file:/path: an ssh private key, or an http bearer token"
    )

    @model_validator(mode="after")
    def _local_runs_as_this_process(self) -> TargetSpec:
        if self.connection == "local":
            extra = [name for name in ("port", "user", "credentials") if getattr(self, name) is not None]
            if extra:
                raise ValueError(
                    f"a local target runs commands as the step's own user on this machine; remove {', '.join(extra)}"
                )
        if self.connection == "http" and self.port is not None:
            raise ValueError("an http target is reached through the automation service's url; remove port")
        return self


class Target(TargetSpec):
    """A target with its id."""

    id: str = Field(min_length=1, max_length=200)

    @property
    def ssh_port(self) -> int:
        return self.port or DEFAULT_SSH_PORT

    def describe(self) -> str:
        """How error messages name it: `target 'web1' (ssh deploy@10.0.0.5:22)`."""
        if self.connection == "ssh":
            login = f"{self.user}@" if self.user else ""
            return f"target {self.id!r} (ssh {login}{self.hostname}:{self.ssh_port})"
        return f"target {self.id!r} ({self.connection} {self.hostname})"
