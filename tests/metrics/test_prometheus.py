"""PrometheusSource against a real Prometheus server scraping an exporter this module runs.

The module starts `prometheus` (Debian package `prometheus`) on a free 127.0.0.1 port with a 1 s scrape interval
against a tiny in-process exporter whose gauge the tests set. Without the binary these tests skip, or fail with
OPS_REQUIRE_SERVICES=1. The error cases that need no Prometheus (refused connection, a server that never answers,
HTTP errors, answers that are not the API's JSON) run against plain local sockets and HTTP servers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import requests

from ops_pipeline.metrics import MetricSeries, MetricsError, PrometheusSource, parse_selector

PROMETHEUS_BIN = os.environ.get("OPS_TEST_PROMETHEUS_BIN") or shutil.which("prometheus") or "/usr/bin/prometheus"
READY_TIMEOUT_S = 15.0
SCRAPES_TIMEOUT_S = 15.0
STEP = timedelta(seconds=1)

REQUESTS = {  # (code, path) -> value of ops_test_requests
    ("200", "/a"): 10.0,
    ("500", "/b"): 3.0,
    ("200", 'say "hi" \\ there'): 1.0,
}
SPECIAL = {"nan": "NaN", "inf": "+Inf", "neg_inf": "-Inf"}


def _free_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Exporter:
    """A /metrics endpoint in the Prometheus text format with a gauge the test controls."""

    def __init__(self) -> None:
        self.gauge = 42.0
        self.scrapes = 0
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                exporter.scrapes += 1
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def render(self) -> str:
        lines = [
            "# HELP ops_test_gauge A gauge the test sets.",
            "# TYPE ops_test_gauge gauge",
            f"ops_test_gauge {self.gauge!r}",
            "# HELP ops_test_requests Requests by code and path.",
            "# TYPE ops_test_requests gauge",
        ]
        for (code, path), value in REQUESTS.items():
            lines.append(f'ops_test_requests{{code="{code}",path="{_escape(path)}"}} {value!r}')
        lines += ["# TYPE ops_test_special gauge"]
        lines += [f'ops_test_special{{kind="{kind}"}} {text}' for kind, text in SPECIAL.items()]
        return "\n".join(lines) + "\n"

    def __enter__(self) -> Exporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class PrometheusServer:
    url: str
    exporter: Exporter
    instance: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def source(self, **options: float) -> PrometheusSource:
        return PrometheusSource(self.url, **options)  # type: ignore[arg-type]

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])


def _require_prometheus_binary() -> None:
    if os.access(PROMETHEUS_BIN, os.X_OK):
        return
    message = f"the prometheus binary is not installed at {PROMETHEUS_BIN} (apt-get install prometheus)"
    if os.environ.get("OPS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and OPS_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def _wait(condition: Callable[[], bool], timeout_s: float, what: str, server: PrometheusServer) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"prometheus exited with {server.process.returncode} while waiting for {what}:\n{server.log_tail()}"
            )
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}:\n{server.log_tail()}")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _scraped_at_least(server: PrometheusServer, count: int) -> bool:
    now = _now()
    series = server.source().query_range("count_over_time(ops_test_gauge[1m])", now, now, STEP)
    return bool(series) and float(np.nan_to_num(series[0].values[-1])) >= count


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    _require_prometheus_binary()
    workdir = tmp_path_factory.mktemp("prometheus")
    with Exporter() as exporter:
        instance = f"127.0.0.1:{exporter.port}"
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: ops_test\n    static_configs:\n"
            f"      - targets: ['{instance}']\n"
        )
        log_path = workdir / "prometheus.log"
        port = _free_port()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    PROMETHEUS_BIN,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=info",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
            )
        server = PrometheusServer(f"http://127.0.0.1:{port}", exporter, instance, process, log_path)
        try:
            _wait(lambda: _ready(server.url), READY_TIMEOUT_S, "/-/ready", server)
            # Prometheus holds back its first target list for ~5 s; then scrapes every second.
            _wait(lambda: _scraped_at_least(server, 3), SCRAPES_TIMEOUT_S, "three scrapes of the exporter", server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _by_labels(series: list[MetricSeries]) -> dict[tuple[tuple[str, str], ...], MetricSeries]:
    return {one.labels: one for one in series}


# -- against the real server -------------------------------------------------------------------------------------


def test_server_version_is_the_binary_version(prometheus: PrometheusServer) -> None:
    printed = subprocess.run([PROMETHEUS_BIN, "--version"], capture_output=True, text=True, check=True)
    expected = re.search(r"version (\S+)", printed.stdout + printed.stderr)
    assert expected is not None
    assert prometheus.source().server_version() == expected.group(1)


def test_query_range_returns_the_gauge_on_the_step_grid(prometheus: PrometheusServer) -> None:
    end = _now()
    start = end - timedelta(seconds=1)
    series = prometheus.source().query_range("ops_test_gauge", start, end, STEP)

    assert len(series) == 1
    (gauge,) = series
    assert gauge.metric == "ops_test_gauge"
    assert gauge.labels_dict == {"instance": prometheus.instance, "job": "ops_test"}
    assert gauge.series_key == f'ops_test_gauge{{instance="{prometheus.instance}",job="ops_test"}}'
    assert gauge.timestamps.dtype == np.int64
    assert gauge.timestamps.tolist() == [int(start.timestamp()), int(end.timestamp())]
    assert gauge.values.dtype == np.float64
    assert set(gauge.values.tolist()) <= {42.0, prometheus.exporter.gauge}


def test_the_value_the_exporter_serves_reaches_the_query(prometheus: PrometheusServer) -> None:
    source = prometheus.source()
    before = prometheus.exporter.gauge
    changed_at = _now()
    prometheus.exporter.gauge = before + 1234.5

    def latest() -> float:
        now = _now()
        return float(source.query_range("ops_test_gauge", now, now, STEP)[0].values[-1])

    _wait(lambda: latest() == before + 1234.5, 10, "the new gauge value", prometheus)
    end = _now()
    series = source.query_range("ops_test_gauge", changed_at - timedelta(seconds=3), end, STEP)
    values = [value for value in series[0].values.tolist() if not np.isnan(value)]  # NaN before the first scrape
    assert values[-1] == before + 1234.5
    switch = values.index(before + 1234.5)
    assert values[:switch] == [before] * switch, values  # the old value, then only the new one
    assert values[switch:] == [before + 1234.5] * (len(values) - switch), values


def test_labelled_series_keep_their_labels_and_values(prometheus: PrometheusServer) -> None:
    end = _now()
    series = prometheus.source().query_range("ops_test_requests", end - timedelta(seconds=1), end, STEP)
    assert len(series) == len(REQUESTS)
    common = {"instance": prometheus.instance, "job": "ops_test"}
    got = {(one.labels_dict["code"], one.labels_dict["path"]): one for one in series}
    assert set(got) == set(REQUESTS)
    for (code, path), value in REQUESTS.items():
        one = got[(code, path)]
        assert one.metric == "ops_test_requests"
        assert one.labels_dict == {"code": code, "path": path, **common}
        assert one.values.tolist() == [value, value]
        # The canonical key is itself a selector for exactly this series.
        assert parse_selector(one.series_key).matches(one.metric, one.labels_dict)


def test_label_matchers_and_aggregations_are_evaluated_by_prometheus(prometheus: PrometheusServer) -> None:
    end = _now()
    start = end - timedelta(seconds=1)
    source = prometheus.source()

    only_errors = source.query_range('ops_test_requests{code="500"}', start, end, STEP)
    assert [one.labels_dict["path"] for one in only_errors] == ["/b"]
    assert only_errors[0].values.tolist() == [3.0, 3.0]

    quoted = source.query_range('ops_test_requests{path=~"say \\"hi\\".*"}', start, end, STEP)
    assert [one.labels_dict["path"] for one in quoted] == ['say "hi" \\ there']

    by_code = _by_labels(source.query_range("sum by (code) (ops_test_requests)", start, end, STEP))
    assert {labels: one.metric for labels, one in by_code.items()} == {(("code", "200"),): "", (("code", "500"),): ""}
    assert by_code[(("code", "200"),)].values.tolist() == [11.0, 11.0]
    assert by_code[(("code", "500"),)].series_key == '{code="500"}'

    assert source.query_range("ops_test_no_such_metric", start, end, STEP) == []


def test_nan_and_infinities_are_parsed(prometheus: PrometheusServer) -> None:
    end = _now()
    series = prometheus.source().query_range("ops_test_special", end, end, STEP)
    values = {one.labels_dict["kind"]: one.values[0] for one in series}
    assert np.isnan(values["nan"])
    assert values["inf"] == np.inf
    assert values["neg_inf"] == -np.inf


def test_steps_align_to_start_and_gaps_before_the_first_scrape_are_nan(prometheus: PrometheusServer) -> None:
    end = _now()
    step = timedelta(seconds=7)
    start = end - 172 * step  # 20 min ago, long before the server started; the last grid point is `end`
    (gauge,) = prometheus.source().query_range("ops_test_gauge", start, end, step)
    expected = np.arange(int(start.timestamp()), int(end.timestamp()) + 1, 7)
    assert gauge.timestamps.tolist() == expected.tolist()
    assert gauge.timestamps[-1] == int(end.timestamp())
    assert len(gauge.values) == len(expected)
    assert np.isnan(gauge.values[0])  # 20 minutes ago: before Prometheus ran, outside its 5 min lookback
    assert not np.isnan(gauge.values[-1])
    present = ~np.isnan(gauge.values)
    first = int(np.argmax(present))
    assert present[first:].all()  # NaN only before the first scrape, then a value at every step


def test_bad_promql_is_bad_query_with_prometheus_message(prometheus: PrometheusServer) -> None:
    end = _now()
    with pytest.raises(MetricsError) as caught:
        prometheus.source().query_range("rate(ops_test_gauge[", end - timedelta(seconds=5), end, STEP)
    assert caught.value.kind == "bad_query"
    assert "parse error" in caught.value.detail
    assert "parse error" in str(caught.value)


def test_a_query_failing_during_evaluation_is_bad_query(prometheus: PrometheusServer) -> None:
    end = _now()
    with pytest.raises(MetricsError) as caught:
        prometheus.source().query_range("ops_test_requests + on() ops_test_requests", end, end, STEP)
    assert caught.value.kind == "bad_query"
    assert "duplicate series" in caught.value.detail or "many-to-many" in caught.value.detail


def test_too_many_points_is_refused_before_asking(prometheus: PrometheusServer) -> None:
    end = _now()
    with pytest.raises(MetricsError) as caught:
        prometheus.source().query_range("ops_test_gauge", end - timedelta(days=1), end, STEP)
    assert caught.value.kind == "bad_query"
    assert "11000" in caught.value.detail


# -- failures without a Prometheus -------------------------------------------------------------------------------


@dataclass
class FakeResponse:
    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass
class LocalHTTPServer:
    """An HTTP server that answers every GET with `response` and remembers the requests' headers."""

    response: FakeResponse
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    state = LocalHTTPServer(FakeResponse(200, b"{}"))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen_headers.append(dict(self.headers))
            self.send_response(state.response.status)
            self.send_header("Content-Type", state.response.content_type)
            self.send_header("Content-Length", str(len(state.response.body)))
            self.end_headers()
            self.wfile.write(state.response.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _query(source: PrometheusSource) -> list[MetricSeries]:
    end = _now()
    return source.query_range("up", end - timedelta(minutes=1), end, timedelta(seconds=15))


def test_refused_connection_is_unreachable_and_names_the_url(closed_port: int) -> None:
    source = PrometheusSource(f"http://127.0.0.1:{closed_port}", timeout_s=2)
    with pytest.raises(MetricsError) as caught:
        _query(source)
    assert caught.value.kind == "unreachable"
    assert f"http://127.0.0.1:{closed_port}/api/v1/query_range" in str(caught.value)
    assert "is Prometheus running?" in str(caught.value)
    with pytest.raises(MetricsError) as version_error:
        source.server_version()
    assert version_error.value.kind == "unreachable"


def test_a_server_that_never_answers_is_a_timeout(silent_server: int) -> None:
    source = PrometheusSource(f"http://127.0.0.1:{silent_server}", timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(MetricsError) as caught:
        _query(source)
    assert caught.value.kind == "timeout"
    assert "0.5 s" in str(caught.value)
    assert time.monotonic() - started < 5


def test_http_500_is_http_error_with_the_status(http_server: LocalHTTPServer) -> None:
    http_server.response = FakeResponse(500, b"internal failure in the proxy", "text/plain")
    with pytest.raises(MetricsError) as caught:
        _query(PrometheusSource(http_server.url))
    assert caught.value.kind == "http_error"
    assert "HTTP 500" in str(caught.value)
    assert "internal failure in the proxy" in str(caught.value)


def test_a_prometheus_error_body_with_another_status_is_http_error(http_server: LocalHTTPServer) -> None:
    body = {"status": "error", "errorType": "unavailable", "error": "TSDB not ready"}
    http_server.response = FakeResponse(503, json.dumps(body).encode())
    with pytest.raises(MetricsError) as caught:
        _query(PrometheusSource(http_server.url))
    assert caught.value.kind == "http_error"
    assert "HTTP 503" in str(caught.value) and "TSDB not ready" in str(caught.value)


def test_a_400_without_a_prometheus_body_is_http_error(http_server: LocalHTTPServer) -> None:
    http_server.response = FakeResponse(400, b"<html>Bad Request</html>", "text/html")
    with pytest.raises(MetricsError) as caught:
        _query(PrometheusSource(http_server.url))
    assert caught.value.kind == "http_error"
    assert "HTTP 400" in str(caught.value)


def test_a_body_that_is_not_json_is_bad_data(http_server: LocalHTTPServer) -> None:
    http_server.response = FakeResponse(200, b"<html>login page</html>", "text/html")
    with pytest.raises(MetricsError) as caught:
        _query(PrometheusSource(http_server.url))
    assert caught.value.kind == "bad_data"
    assert "not JSON" in str(caught.value)


def test_a_result_that_is_not_a_matrix_is_bad_data(http_server: LocalHTTPServer) -> None:
    body = {"status": "success", "data": {"resultType": "vector", "result": []}}
    http_server.response = FakeResponse(200, json.dumps(body).encode())
    with pytest.raises(MetricsError) as caught:
        _query(PrometheusSource(http_server.url))
    assert caught.value.kind == "bad_data"
    assert "matrix" in str(caught.value) and "vector" in str(caught.value)


def test_headers_are_sent_and_never_shown(http_server: LocalHTTPServer) -> None:
    http_server.response = FakeResponse(502, b"bad gateway", "text/plain")
    source = PrometheusSource(http_server.url, headers={"Authorization": "Bearer s3cr3t-token"})
    with pytest.raises(MetricsError) as caught:
        source.server_version()
    assert http_server.seen_headers[-1]["Authorization"] == "Bearer s3cr3t-token"
    assert "s3cr3t" not in str(caught.value) and "s3cr3t" not in repr(source)


def test_credentials_in_the_url_are_not_shown(closed_port: int) -> None:
    source = PrometheusSource(f"http://user:hunter2@127.0.0.1:{closed_port}", timeout_s=1)
    with pytest.raises(MetricsError) as caught:
        _query(source)
    assert "hunter2" not in str(caught.value) and "hunter2" not in repr(source)


@pytest.mark.parametrize("url", ["127.0.0.1:9090", "ftp://host/", "http://", ""])
def test_a_malformed_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Prometheus URL"):
        PrometheusSource(url)


def test_bad_arguments_are_refused_before_any_request(closed_port: int) -> None:
    source = PrometheusSource(f"http://127.0.0.1:{closed_port}")
    aware = _now()
    naive = datetime(2024, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        source.query_range("up", naive, aware, STEP)
    with pytest.raises(ValueError, match="after end"):
        source.query_range("up", aware, aware - timedelta(seconds=1), STEP)
    with pytest.raises(ValueError, match="positive"):
        source.query_range("up", aware, aware, timedelta(0))
    with pytest.raises(ValueError, match="whole number of seconds"):
        source.query_range("up", aware, aware, timedelta(milliseconds=500))


@pytest.fixture
def stalling_server() -> Iterator[int]:
    """Answers with headers and the first byte of the body, then goes silent."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            connections.append(conn)
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in connections:
            conn.close()
        listener.close()


def test_a_body_that_stalls_is_a_timeout(stalling_server: int) -> None:
    with pytest.raises(MetricsError) as caught:
        _query(PrometheusSource(f"http://127.0.0.1:{stalling_server}", timeout_s=0.5))
    assert caught.value.kind == "timeout"


def test_prometheus_giving_up_on_a_query_is_a_timeout(http_server: LocalHTTPServer) -> None:
    body = {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}
    http_server.response = FakeResponse(503, json.dumps(body).encode())
    with pytest.raises(MetricsError) as caught:
        _query(PrometheusSource(http_server.url))
    assert caught.value.kind == "timeout"
    assert "query timed out in expression evaluation" in str(caught.value)
