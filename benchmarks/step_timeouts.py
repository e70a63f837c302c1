"""How late a step is stopped after its deadline, per step type: the timeout-enforcement figure of issue 10.

Each case runs a step that would take far longer than its budget through `run_step`, exactly as the Dagster
skin calls it, and measures (time until StepFailed with failure class "timeout") - budget:

* command          `sleep 30` on a local target: the process group gets SIGTERM at the deadline
* command_no_term  a shell that ignores SIGTERM and leaves a child: SIGKILL after the grace
* http_silent      a server that sends nothing for 30 s: the read timeout and the SIGALRM deadline
* http_trickle     a server that sends one byte every 50 ms: the deadline checked between chunks
* sql_sqlite       an endless recursive query: Connection.interrupt() from the watcher thread
* sql_postgresql   pg_sleep(30): SET LOCAL statement_timeout
* sql_mariadb      SLEEP(30): max_statement_time
* file             copying a sparse 8 GiB file: the deadline checked between 1 MiB chunks
* generic          a pure-Python busy loop under alarm_deadline (the fallback for code with no limit)

The baseline is the target itself: stopped within 1 s of the deadline at p99. Ends with
  RESULT name=step_timeouts ours_s=<worst p99 lateness> baseline_s=1.0 speedup=<1.0/ours>
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pymysql
from pydantic import TypeAdapter
from servers import PG_HOST, PG_PORT, PG_USER, BenchmarkError, check_pg, pg_database

from ops_pipeline.core.execution.deadline import Deadline, alarm_deadline
from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.core.execution.timeouts import StepTimeoutError
from ops_pipeline.core.plans.steps import AnyStep, Step
from ops_pipeline.execution.steps import StepContext, StepFailed, StepServices, registering_resolver, run_step
from ops_pipeline.services import AssetService, AutomationService, TargetSpec
from ops_pipeline.settings import MySQLSource, PostgresSource, SourceConfig, SQLiteSource
from ops_pipeline.sources.registry import sql_database_for

MYSQL_HOST, MYSQL_PORT, MYSQL_USER = "127.0.0.1", 3306, "root"
TARGET_S = 1.0
STEP: TypeAdapter[AnyStep] = TypeAdapter(Step)


def step(**fields: Any) -> AnyStep:
    return STEP.validate_python({"id": "bench", **fields})


def context(budget_s: float, sources: dict[str, SourceConfig]) -> StepContext:
    masker = Masker()
    resolve = registering_resolver(masker)
    assets = AssetService({"here": TargetSpec(hostname="localhost", connection="local")}, resolve_secret=resolve)

    def connect(name: str) -> Any:
        return sql_database_for(sources[name].type).session(name, sources[name], writable=True)

    return StepContext(
        execution_id="bench",
        step_id="bench",
        parameters={},
        outputs={},
        budget_s=budget_s,
        masker=masker,
        resolve_secret=resolve,
        connect_source=connect,
        services=StepServices(automation=AutomationService(assets, resolve_secret=resolve), assets=assets),
    )


def lateness_of_step(spec: AnyStep, budget_s: float, sources: dict[str, SourceConfig]) -> float:
    ctx = context(budget_s, sources)
    started = time.monotonic()
    try:
        run_step(spec, ctx)
    except StepFailed as failed:
        if failed.failure_class != "timeout":
            raise BenchmarkError(f"{spec.type} step failed as {failed.failure_class}, not timeout: {failed}") from None
        return time.monotonic() - started - budget_s
    raise BenchmarkError(f"{spec.type} step finished inside its {budget_s} s budget; nothing was measured")


def lateness_of_generic(budget_s: float) -> float:
    started = time.monotonic()
    try:
        with alarm_deadline(Deadline.after(budget_s, "bench")):
            while True:
                sum(range(1000))
    except StepTimeoutError:
        return time.monotonic() - started - budget_s


class SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stopping = threading.Event()

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        if self.path == "/silent":
            self.stopping.wait(30)
            return
        body = b"x" * 600
        try:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                if self.stopping.wait(0.05):
                    return
        except OSError:
            return


@contextmanager
def slow_http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        SlowHandler.stopping.set()
        server.shutdown()
        server.server_close()


@contextmanager
def mariadb_database() -> Iterator[str]:
    name = f"ops_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_USER, autocommit=True)
    except pymysql.err.Error as error:
        raise BenchmarkError(f"MariaDB is not reachable at {MYSQL_HOST}:{MYSQL_PORT}: {error}") from None
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20, help="runs per case (default 20)")
    parser.add_argument("--budget", type=float, default=0.5, help="each step's budget in seconds (default 0.5)")
    args = parser.parse_args()
    check_pg()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ops-bench-")))
        url = stack.enter_context(slow_http_server())
        pg_name = stack.enter_context(pg_database())
        maria_name = stack.enter_context(mariadb_database())
        sources: dict[str, SourceConfig] = {
            "lite": SQLiteSource(type="sqlite", path=str(folder / "bench.db")),
            "pg": PostgresSource(type="postgresql", host=PG_HOST, port=PG_PORT, user=PG_USER, database=pg_name),
            "maria": MySQLSource(type="mysql", host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_USER, database=maria_name),
        }
        huge = folder / "huge.img"
        with huge.open("wb") as stream:
            stream.truncate(8 * 1024**3)
        no_term = "trap '' TERM; sleep 30 & wait"
        endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        cases: dict[str, Callable[[], float]] = {
            "command": lambda: lateness_of_step(
                step(type="command", target="here", argv=["sleep", "30"]), args.budget, sources
            ),
            "command_no_term": lambda: lateness_of_step(
                step(type="command", target="here", argv=["sh", "-c", no_term]), args.budget, sources
            ),
            "http_silent": lambda: lateness_of_step(step(type="http", url=f"{url}/silent"), args.budget, sources),
            "http_trickle": lambda: lateness_of_step(step(type="http", url=f"{url}/trickle"), args.budget, sources),
            "sql_sqlite": lambda: lateness_of_step(
                step(type="sql", source="lite", statement=endless), args.budget, sources
            ),
            "sql_postgresql": lambda: lateness_of_step(
                step(type="sql", source="pg", statement="SELECT pg_sleep(30)"), args.budget, sources
            ),
            "sql_mariadb": lambda: lateness_of_step(
                step(type="sql", source="maria", statement="SELECT SLEEP(30)"), args.budget, sources
            ),
            "file": lambda: lateness_of_step(
                step(type="file", mode="copy", source_path=str(huge), destination_path=str(folder / "copy.img")),
                args.budget,
                sources,
            ),
            "generic": lambda: lateness_of_generic(args.budget),
        }
        print(f"budget {args.budget:g} s, {args.repeats} runs per case; lateness = stopped after the deadline")
        print(f"{'case':<16} {'p50_s':>8} {'p99_s':>8} {'max_s':>8}")
        worst = 0.0
        for name, measure in cases.items():
            samples = [measure() for _ in range(args.repeats)]
            p50, p99 = statistics.median(samples), percentile(samples, 0.99)
            worst = max(worst, p99)
            print(f"{name:<16} {p50:>8.4f} {p99:>8.4f} {max(samples):>8.4f}")
    verdict = "meets" if worst < TARGET_S else "MISSES"
    print(f"worst p99 lateness {worst:.4f} s {verdict} the {TARGET_S:g} s target")
    print(f"RESULT name=step_timeouts ours_s={worst:.4f} baseline_s={TARGET_S:.1f} speedup={TARGET_S / worst:.3f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
