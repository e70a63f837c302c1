"""`PlanError`, and the pydantic errors through which plan models report where a problem is.

Pydantic places an error raised by a model validator at the model's own location, so a problem found there
would lose its key path. Two error shapes carry it instead, and the loader (`loading.py`) reads them back:

* `located_error(reason, suffix)`: a problem inside one nested model; `suffix` ("statement", "params.x") is
  appended to the model's location;
* `plan_problems_error(problems)`: problems found across the whole plan, each with its absolute key path
  ("steps[2].depends_on[0]").
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_core import PydanticCustomError

KEY_SUFFIX_CTX = "ops_key_suffix"
PROBLEMS_CTX = "ops_problems"


class PlanError(ValueError):
    """A plan, or values given for its parameters, that cannot be used. One line per problem."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems


def located_error(reason: str, suffix: str) -> PydanticCustomError:
    return PydanticCustomError("plan_located", "{reason}", {"reason": reason, KEY_SUFFIX_CTX: suffix})


def plan_problems_error(problems: Sequence[tuple[str, str]]) -> PydanticCustomError:
    summary = "; ".join(f"{key_path}: {reason}" for key_path, reason in problems)
    return PydanticCustomError("plan_problems", "{summary}", {"summary": summary, PROBLEMS_CTX: tuple(problems)})
