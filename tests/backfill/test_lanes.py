import threading
import time

import pytest

from ops_pipeline.backfill.lanes import on_lanes


def test_results_come_back_in_the_items_order_whatever_finishes_first() -> None:
    delays = [0.03, 0.0, 0.02, 0.0, 0.01, 0.0]

    def work(lane: str, index: int) -> tuple[int, str]:
        time.sleep(delays[index])
        return index, lane

    results = on_lanes(["a", "b", "c"], list(range(len(delays))), work)
    assert [index for index, _ in results] == list(range(len(delays)))
    assert {lane for _, lane in results} == {"a", "b", "c"}  # every lane took work


def test_lanes_work_at_the_same_time() -> None:
    inside = threading.Barrier(3, timeout=5)  # only passes when three items are in flight together

    def work(lane: int, item: int) -> int:
        inside.wait()
        return item

    assert on_lanes([1, 2, 3], [10, 20, 30], work) == [10, 20, 30]


def test_one_lane_works_in_the_callers_thread() -> None:
    threads = on_lanes(["only"], [1, 2], lambda lane, item: threading.current_thread())
    assert threads == [threading.current_thread()] * 2


def test_after_a_failure_no_item_starts_and_those_in_flight_finish() -> None:
    started: list[int] = []
    finished: list[int] = []
    slow_running = threading.Event()

    def work(lane: str, item: int) -> int:
        started.append(item)
        if item == 0:
            slow_running.set()
            time.sleep(0.2)  # in flight while item 1 fails
            finished.append(item)
            return item
        slow_running.wait(5)
        raise RuntimeError(f"item {item} broke")

    with pytest.raises(RuntimeError, match="item 1 broke"):
        on_lanes(["a", "b"], list(range(6)), work)
    assert sorted(started) == [0, 1]  # items 2..5 never started
    assert finished == [0]  # the item in flight was not abandoned


def test_the_failure_raised_is_the_one_that_happened_first() -> None:
    def work(lane: str, item: int) -> int:
        if item == 0:
            time.sleep(0.2)
            raise RuntimeError("late")
        raise RuntimeError("early")

    with pytest.raises(RuntimeError, match="early"):
        on_lanes(["a", "b"], [0, 1], work)
