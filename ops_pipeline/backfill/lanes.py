"""Working through items on a few lanes at once (a lane: e.g. a connection pair), each lane taking the next
item when it is free."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

L = TypeVar("L")
T = TypeVar("T")
R = TypeVar("R")


def on_lanes(lanes: Sequence[L], items: Sequence[T], work: Callable[[L, T], R]) -> list[R]:
    """work(lane, item) for every item, results in the items' order; each lane takes the next item when it is
    free. After a failure no item starts, the ones in flight finish, and the first failure is raised."""
    if len(lanes) == 1 or len(items) <= 1:
        return [work(lanes[0], item) for item in items]
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(items)):
        pending.put(index)
    results: dict[int, R] = {}
    errors: list[BaseException] = []
    failed = threading.Event()

    def drain(lane: L) -> None:
        while not failed.is_set():
            try:
                index = pending.get_nowait()
            except queue.Empty:
                return
            try:
                results[index] = work(lane, items[index])
            except BaseException as error:
                errors.append(error)
                failed.set()
                return

    pool = ThreadPoolExecutor(len(lanes), thread_name_prefix="backfill-lane")
    try:
        wait([pool.submit(drain, lane) for lane in lanes])
    except BaseException:
        failed.set()  # e.g. the run was terminated: no new item starts, those in flight finish
        raise
    finally:
        pool.shutdown(wait=True)
    if errors:
        raise errors[0]
    return [results[index] for index in range(len(items))]
