"""The five step types of a plan, told apart by `type`: command, http, sql, file and validation.

Every step has an `id` (a Dagster op alias, so an identifier; `preflight` and `finalize` are reserved for
the ops the skin adds), an optional `description`, `depends_on` (step ids; `PlanSpec` fills in the previous
step when it is omitted), an optional `rollback` (the id of an entry of the plan's `rollback_steps`), an
optional `timeout_s` overriding the SLA matrix, and `retry` (whether a transient failure may be retried).

What each type checks on its own is here; what needs the whole plan (ids, targets, parameters, the graph)
is in `consistency.py`. `template_texts()` lists a step's templated strings with their key paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ops_pipeline.core.plans.errors import located_error
from ops_pipeline.core.plans.fields import Identifier, Json, PlanModel, Scalar, SourceName, TargetId
from ops_pipeline.core.plans.sql_text import UnterminatedSql, has_second_statement, sql_bind_names

StepType = Literal["command", "http", "sql", "file", "validation"]
STEP_TYPES: tuple[StepType, ...] = ("command", "http", "sql", "file", "validation")
RESERVED_STEP_IDS = frozenset({"preflight", "finalize"})
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
DEFAULT_EXPECT_STATUS = (200, 201, 202, 204)

AssertOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "truthy"]
# A path into a step's output: keys joined by dots, list positions in brackets ("rows[0].count"); "" is all of it.
OUTPUT_PATH_PATTERN = re.compile(r"(?:[^.\[\]\s]+|\[-?\d+\])(?:\.[^.\[\]\s]+|\[-?\d+\])*")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class _StepBase(PlanModel):
    id: Identifier
    description: str = ""
    depends_on: list[str] = Field(default_factory=list)
    rollback: str | None = None
    timeout_s: float | None = Field(default=None, gt=0)
    retry: bool = True

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_STEP_IDS:
            raise ValueError(f"{value!r} is reserved for the ops every plan job has; choose another id")
        return value

    def template_texts(self) -> Iterator[tuple[str, str]]:
        """(key path relative to the step, text) for every string that may hold templates."""
        return iter(())


class CommandStep(_StepBase):
    """Run `argv` on `target` through the automation service; no shell ever parses it."""

    type: Literal["command"]
    argv: list[str] = Field(min_length=1)
    target: TargetId

    @field_validator("argv", mode="before")
    @classmethod
    def _a_list_not_a_shell_string(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError(
                "must be a list of arguments, not a shell string: write e.g. [systemctl, restart, nginx] "
                "(no shell parses a plan's commands)"
            )
        if isinstance(value, list):
            # YAML reads `[sleep, 5]` with a number; an integer argument is unambiguous text.
            return [str(item) if isinstance(item, int) and not isinstance(item, bool) else item for item in value]
        return value

    @field_validator("argv")
    @classmethod
    def _program_named(cls, value: list[str]) -> list[str]:
        if not value[0].strip():
            raise ValueError("argv[0], the program, must not be empty")
        return value

    def template_texts(self) -> Iterator[tuple[str, str]]:
        for index, item in enumerate(self.argv):
            yield f"argv[{index}]", item


class HttpStep(_StepBase):
    """Call `url` with `method`; the response status must be one of `expect_status`."""

    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | dict[str, Json] | None = None
    expect_status: list[int] = Field(default_factory=lambda: list(DEFAULT_EXPECT_STATUS), min_length=1)

    @field_validator("method", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        untemplated = re.sub(r"\{\{.*?\}\}", "x", value)  # a template may stand for the host
        if not re.fullmatch(r"https?://[^\s/]\S*", untemplated, re.IGNORECASE):
            raise ValueError("must be an http:// or https:// URL with a host and no spaces")
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
        return value

    @field_validator("body", mode="before")
    @classmethod
    def _text_or_mapping(cls, value: object) -> object:
        if value is not None and not isinstance(value, str | dict):
            raise ValueError("must be text or a mapping (sent as JSON)")
        return value

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        for status in value:
            if not 100 <= status <= 599:
                raise ValueError(f"{status} is not an HTTP status (100-599)")
        if len(set(value)) != len(value):
            raise ValueError("lists a status twice")
        return value

    def template_texts(self) -> Iterator[tuple[str, str]]:
        yield "url", self.url
        for name, value in self.headers.items():
            yield f"headers.{name}", value
        yield from _json_texts("body", self.body)


def _json_texts(path: str, value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_texts(f"{path}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_texts(f"{path}[{index}]", item)


def check_sql(statement: str, params: dict[str, object]) -> None:
    """One statement, not templated, whose `:name` placeholders and `params` entries match one to one."""
    if not statement.strip():
        raise located_error("must not be empty", "statement")
    if "{{" in statement:
        raise located_error(
            "SQL statements are never templated; write :name placeholders and give their values under params",
            "statement",
        )
    try:
        second = has_second_statement(statement)
        names = sql_bind_names(statement)
    except UnterminatedSql as error:
        raise located_error(str(error), "statement") from None
    if second:
        raise located_error(
            "holds more than one statement (SQL follows a ';'); give each statement its own step", "statement"
        )
    missing = [name for name in names if name not in params]
    if missing:
        listed = ", ".join(f":{name}" for name in missing)
        raise located_error(f"the statement uses {listed} but params gives no value for it", "params")
    unused = [name for name in params if name not in names]
    if unused:
        used = ", ".join(f":{name}" for name in names) or "no placeholders"
        raise located_error(f"not used by the statement (it has {used})", f"params.{unused[0]}")


class SqlStep(_StepBase):
    """Run one `statement` against the registered `source`, binding `params` by name."""

    type: Literal["sql"]
    source: SourceName
    statement: str
    params: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _statement(self) -> SqlStep:
        check_sql(self.statement, dict(self.params))
        return self

    def template_texts(self) -> Iterator[tuple[str, str]]:
        for name, value in self.params.items():
            if isinstance(value, str):
                yield f"params.{name}", value


class FileStep(_StepBase):
    """Copy a file on one host (`copy`) or move it to or from `target` (`transfer`), then compare checksums."""

    type: Literal["file"]
    mode: Literal["copy", "transfer"]
    source_path: str = Field(min_length=1)
    destination_path: str = Field(min_length=1)
    target: TargetId | None = None
    checksum: Literal["sha256"] = "sha256"

    @model_validator(mode="after")
    def _transfer_has_target(self) -> FileStep:
        if self.mode == "transfer" and self.target is None:
            raise located_error("a transfer moves a file to or from a target; name it", "target")
        return self

    def template_texts(self) -> Iterator[tuple[str, str]]:
        yield "source_path", self.source_path
        yield "destination_path", self.destination_path


class AssertCheck(PlanModel):
    """`op` applied to the value at `path` in the output of `step` (an earlier step), compared with `value`."""

    step: str
    path: str = ""
    op: AssertOp
    value: Json = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if value and not OUTPUT_PATH_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not an output path: keys joined by '.', positions in brackets (rows[0].n)")
        return value

    @model_validator(mode="after")
    def _value_fits_op(self) -> AssertCheck:
        if self.op == "truthy" and self.value is not None:
            raise located_error("truthy compares with nothing; remove value", "value")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise located_error(f"{self.op} needs a list of values", "value")
        if self.op in ("lt", "le", "gt", "ge") and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float | str)
        ):
            raise located_error(f"{self.op} compares with a number or a text", "value")
        return self


class SqlCheck(PlanModel):
    """A query on `source` that must return one row of one column holding a true value."""

    source: SourceName
    statement: str
    params: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _statement(self) -> SqlCheck:
        check_sql(self.statement, dict(self.params))
        return self


class ValidationStep(_StepBase):
    """Pass or fail on an assertion about an earlier step's output (`assert`) or on a SQL check (`sql_check`)."""

    type: Literal["validation"]
    assert_: AssertCheck | None = Field(default=None, alias="assert")
    sql_check: SqlCheck | None = None

    @model_validator(mode="after")
    def _exactly_one_check(self) -> ValidationStep:
        if (self.assert_ is None) == (self.sql_check is None):
            raise ValueError("give exactly one of assert or sql_check")
        return self

    def template_texts(self) -> Iterator[tuple[str, str]]:
        if self.sql_check is not None:
            for name, value in self.sql_check.params.items():
                if isinstance(value, str):
                    yield f"sql_check.params.{name}", value


Step = Annotated[CommandStep | HttpStep | SqlStep | FileStep | ValidationStep, Field(discriminator="type")]
AnyStep = CommandStep | HttpStep | SqlStep | FileStep | ValidationStep


def step_target(step: AnyStep) -> str | None:
    """The target a step acts on, if it names one."""
    return step.target if isinstance(step, CommandStep | FileStep) else None
