"""The before/after diff of two plan versions, as a replan event shows it: in the UI and in the store.

A replan event row keeps `PatchDiff.as_dict()` (JSON) and its Dagster run shows `as_markdown()`, a
`| field | before | after |` table with one row per change: each changed parameter (its `default`, or the
whole declaration when more than the default changed), the skipped steps, the retry-from step and the targets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ops_pipeline.core.control_loop.snapshot import read_snapshot

__all__ = ["ParameterChange", "PatchDiff", "patch_diff"]

_CELL_LIMIT = 200
_NONE = "—"


@dataclass(frozen=True)
class ParameterChange:
    name: str
    before: Any  # the parameter's default, or its whole declaration when more than the default changed
    after: Any
    existed_before: bool = True
    exists_after: bool = True

    def as_dict(self) -> dict[str, Any]:
        """`before`/`after`, each left out when the parameter did not exist on that side."""
        data: dict[str, Any] = {}
        if self.existed_before:
            data["before"] = self.before
        if self.exists_after:
            data["after"] = self.after
        return data


@dataclass(frozen=True)
class PatchDiff:
    parameters: tuple[ParameterChange, ...]
    skipped_before: tuple[str, ...]
    skipped_after: tuple[str, ...]
    retry_from_before: str | None
    retry_from_after: str | None
    targets_before: tuple[str, ...]
    targets_after: tuple[str, ...]

    @property
    def targets_added(self) -> tuple[str, ...]:
        return tuple(target for target in self.targets_after if target not in self.targets_before)

    @property
    def targets_removed(self) -> tuple[str, ...]:
        return tuple(target for target in self.targets_before if target not in self.targets_after)

    @property
    def is_empty(self) -> bool:
        return not self.parameters and not self._scalar_rows()

    def as_dict(self) -> dict[str, Any]:
        """JSON for the replan event row; the same keys whether or not a part changed."""
        return {
            "parameters": {change.name: change.as_dict() for change in self.parameters},
            "skipped_steps": {"before": list(self.skipped_before), "after": list(self.skipped_after)},
            "retry_from": {"before": self.retry_from_before, "after": self.retry_from_after},
            "targets": {
                "before": list(self.targets_before),
                "after": list(self.targets_after),
                "added": list(self.targets_added),
                "removed": list(self.targets_removed),
            },
        }

    def as_markdown(self) -> str:
        """A `| field | before | after |` table with one row per change, for Dagster UI metadata."""
        rows = [
            (
                f"parameters.{change.name}",
                _value_cell(change.before, change.existed_before),
                _value_cell(change.after, change.exists_after),
            )
            for change in self.parameters
        ]
        rows.extend(self._scalar_rows())
        if not rows:
            return "No changes between the two plan versions.\n"
        lines = ["| field | before | after |", "|---|---|---|"]
        lines.extend(f"| {_cell(field)} | {_cell(before)} | {_cell(after)} |" for field, before, after in rows)
        return "\n".join(lines) + "\n"

    def _scalar_rows(self) -> list[tuple[str, str, str]]:
        rows = []
        if self.skipped_before != self.skipped_after:
            rows.append(("skipped_steps", _list_cell(self.skipped_before), _list_cell(self.skipped_after)))
        if self.retry_from_before != self.retry_from_after:
            rows.append(("retry_from", self.retry_from_before or _NONE, self.retry_from_after or _NONE))
        if self.targets_before != self.targets_after:
            rows.append(("targets", _list_cell(self.targets_before), _list_cell(self.targets_after)))
        return rows


def _list_cell(items: tuple[str, ...]) -> str:
    return ", ".join(items) or _NONE


def _value_cell(value: Any, present: bool) -> str:
    if not present:
        return "(absent)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _cell(text: str) -> str:
    text = text if len(text) <= _CELL_LIMIT else text[: _CELL_LIMIT - 1] + "…"
    return text.replace("|", r"\|").replace("\r\n", "<br>").replace("\n", "<br>")


def _default_of(declaration: Any) -> Any:
    return declaration.get("default") if isinstance(declaration, Mapping) else declaration


def _declaration_besides_default(declaration: Any) -> Any:
    if isinstance(declaration, Mapping):
        return {key: value for key, value in declaration.items() if key != "default"}
    return None  # a bare value is all default


def _parameter_change(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> ParameterChange | None:
    if name not in before or name not in after:
        return ParameterChange(
            name,
            _default_of(before.get(name)),
            _default_of(after.get(name)),
            existed_before=name in before,
            exists_after=name in after,
        )
    old, new = before[name], after[name]
    if old == new:
        return None
    if _declaration_besides_default(old) == _declaration_besides_default(new):
        return ParameterChange(name, _default_of(old), _default_of(new))
    return ParameterChange(name, old, new)


def patch_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> PatchDiff:
    """What changed from plan snapshot `before` to `after`: parameters, skipped steps, retry-from, targets."""
    old, new = read_snapshot(before), read_snapshot(after)
    names = [*old.parameters, *(name for name in new.parameters if name not in old.parameters)]
    changes = (_parameter_change(name, old.parameters, new.parameters) for name in names)
    return PatchDiff(
        parameters=tuple(change for change in changes if change is not None),
        skipped_before=old.skipped_steps,
        skipped_after=new.skipped_steps,
        retry_from_before=old.retry_from,
        retry_from_after=new.retry_from,
        targets_before=old.targets,
        targets_after=new.targets,
    )
