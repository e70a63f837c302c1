"""The failed-run pager reads every failure once, in order, across pages and ticks, beyond Dagster's 5 per tick."""

import dagster as dg
import pytest

from ops_pipeline.defs.run_history.failed_runs import all_failed_runs_after, failed_runs_after


@dg.op(config_schema={"fail": bool})
def maybe_fail(context: dg.OpExecutionContext) -> None:
    if context.op_config["fail"]:
        raise RuntimeError("step broke")


@dg.job
def flaky() -> None:
    maybe_fail()


def _run(instance: dg.DagsterInstance, fail: bool, number: int) -> str:
    result = flaky.execute_in_process(
        run_config={"ops": {"maybe_fail": {"config": {"fail": fail}}}},
        instance=instance,
        tags={"number": str(number)},
        raise_on_error=False,
    )
    return result.run_id


@pytest.fixture
def instance() -> dg.DagsterInstance:
    with dg.instance_for_test() as instance:
        yield instance


def test_every_failure_is_read_once_in_order_across_pages(instance: dg.DagsterInstance) -> None:
    failed = [_run(instance, fail=True, number=i) for i in range(7)]
    _run(instance, fail=False, number=99)

    first = failed_runs_after(instance, None, limit=3)
    assert [r.run_id for r in first.runs] == failed[:3] and first.has_more
    rest = all_failed_runs_after(instance, first.cursor, max_runs=100, page_size=2)
    assert [r.run_id for r in rest.runs] == failed[3:] and not rest.has_more
    assert rest.runs[0].job_name == "flaky" and rest.runs[0].tags["number"] == "3"

    quiet = failed_runs_after(instance, rest.cursor)
    assert quiet.runs == [] and quiet.cursor == rest.cursor

    later = _run(instance, fail=True, number=8)
    assert [r.run_id for r in failed_runs_after(instance, rest.cursor).runs] == [later]


def test_a_bounded_read_says_more_are_waiting(instance: dg.DagsterInstance) -> None:
    failed = [_run(instance, fail=True, number=i) for i in range(4)]
    page = all_failed_runs_after(instance, None, max_runs=2, page_size=10)
    assert [r.run_id for r in page.runs] == failed[:2] and page.has_more
