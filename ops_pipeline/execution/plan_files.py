"""The plans in the folders ops.yaml names: every `*.yaml` / `*.yml` file parsed and validated. A bad file is
reported (file, key path, reason) and skipped; it never stops the others, nor the code location."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ops_pipeline.core.plans.loading import PlanError, parse_plan_text
from ops_pipeline.core.plans.spec import PlanSpec

# The code location's own jobs: a plan (a job of the same name) may not take one of these names. A test keeps
# this list equal to the jobs the code location defines besides plans.
BUILT_IN_JOBS = frozenset(
    {
        "approve_execution",
        "catalog_scan",
        "check_source_connection",
        "diagnose_signal",
        "pending_approvals",
        "plan_ingestion",
        "refresh_executions",
        "refresh_insight_signals",
        "refresh_run_history",
        "reject_execution",
        "simulate_resolver",
    }
)
# Fields of every plan's launch form; a parameter may not take one of these names.
LAUNCH_FIELDS = frozenset({"version", "tenant", "idempotency_key", "actor", "execution_id"})


@dataclass(frozen=True)
class PlanFile:
    path: Path
    plan: PlanSpec


@dataclass(frozen=True)
class PlanCatalog:
    plans: dict[str, PlanFile] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def plan(self, name: str) -> PlanFile:
        if name not in self.plans:
            known = ", ".join(sorted(self.plans)) or "none"
            raise LookupError(f"unknown plan {name!r} (plans: {known})")
        return self.plans[name]


def load_plan_files(folders: Iterable[str]) -> PlanCatalog:
    """Every plan under `folders`, in file-name order."""
    catalog = PlanCatalog()
    reserved = set(BUILT_IN_JOBS)
    for folder in folders:
        directory = Path(folder)
        if not directory.is_dir():
            catalog.problems.append(f"{directory}: plan folder not found (plans.folders in ops.yaml)")
            continue
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            _add(catalog, path, reserved)
    return catalog


def _add(catalog: PlanCatalog, path: Path, reserved: set[str]) -> None:
    try:
        plan = parse_plan_text(path.read_text(encoding="utf-8"), str(path))
    except PlanError as error:
        catalog.problems.extend(error.problems)
        return
    except (OSError, UnicodeDecodeError) as error:
        catalog.problems.append(f"{path}: cannot be read ({error})")
        return
    problem = _naming_problem(plan, catalog, reserved)
    if problem:
        catalog.problems.append(f"{path}: {problem}")
        return
    catalog.plans[plan.name] = PlanFile(path, plan)


def _naming_problem(plan: PlanSpec, catalog: PlanCatalog, reserved: set[str]) -> str | None:
    if plan.name in catalog.plans:
        return f"name: plan {plan.name!r} is already defined in {catalog.plans[plan.name].path}"
    if plan.name in reserved:
        return f"name: {plan.name!r} is the name of one of ops_pipeline's own jobs; choose another"
    clashing = sorted(LAUNCH_FIELDS & set(plan.parameters))
    if clashing:
        return f"parameters.{clashing[0]}: {clashing[0]!r} is a field of every plan's launch form; rename it"
    return None
