"""Celery workers for plan steps, started as a user starts them (`dagster-celery worker start -y <file> -q
<queue>`), each in its own process group so the test stops exactly the processes it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import kombu

from tests.servers import wait_gone

READY_S = 90.0


@dataclass(frozen=True)
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def _start(name: str, worker_config: Path, queue: str, env: Mapping[str, str], log: Path) -> Worker:
    command = [
        str(Path(sys.executable).parent / "dagster-celery"),
        "worker",
        "start",
        "-A",
        "dagster_celery.app",
        "-y",
        str(worker_config),
        "-n",
        name,
        "-q",
        queue,
        "--",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Worker(name, process, log)


def _wait_ready(worker: Worker) -> None:
    stop = time.monotonic() + READY_S
    while time.monotonic() < stop:
        text = worker.log.read_text(errors="replace")
        if " ready." in text:
            return
        if worker.process.poll() is not None:
            raise AssertionError(f"celery worker {worker.name} exited ({worker.process.returncode}): {text[-1500:]}")
        time.sleep(0.2)
    raise AssertionError(f"celery worker {worker.name} was not ready after {READY_S:.0f} s: {text[-1500:]}")


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def _stop(worker: Worker) -> None:
    """Warm shutdown of the worker's process group (SIGTERM), then SIGKILL for whatever is left."""
    members = _group_pids(worker.process.pid)
    try:
        os.killpg(worker.process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        worker.process.wait(timeout=20)
    left = wait_gone(members, timeout_s=10)
    if left or worker.process.poll() is None:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
    assert not wait_gone(members, timeout_s=5), f"celery worker {worker.name} left processes behind"


def delete_queue(broker: str, queue: str) -> None:
    with kombu.Connection(broker, connect_timeout=5) as connection:
        connection.default_channel.queue_delete(queue)


@contextmanager
def celery_workers(
    names: list[str], worker_config: Path, broker: str, queue: str, env: Mapping[str, str], folder: Path
) -> Iterator[list[Worker]]:
    """Workers listening on `queue`, ready when this yields; stopped (and their queue deleted) afterwards."""
    workers: list[Worker] = []
    try:
        for name in names:
            workers.append(_start(name, worker_config, queue, env, folder / f"{name}.log"))
        for worker in workers:
            _wait_ready(worker)
        yield workers
    finally:
        for worker in workers:
            _stop(worker)
        delete_queue(broker, queue)
