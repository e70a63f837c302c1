"""Prometheus over its HTTP API: `GET /api/v1/query_range` and `GET /api/v1/status/buildinfo`.

Every failure is a MetricsError; nothing is ever made up. Connection refused or an unknown host is
`unreachable`; no answer within `timeout_s` (or Prometheus' own query timeout) is `timeout`; a query Prometheus
rejects (HTTP 400/422 with its error body) is `bad_query` carrying Prometheus' message; any other status is
`http_error` with the status code; an answer that is not the JSON matrix the API documents is `bad_data`.

The series come back on the full step grid: Prometheus leaves out the grid timestamps where a series has no
sample within its lookback window, and those become NaN here. Sample values are strings in the API ("NaN",
"+Inf" and "-Inf" included) and are parsed as float64.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import requests

from ops_pipeline.metrics.series import ErrorKind, MetricSeries, MetricsError, grid
from ops_pipeline.metrics.source import MetricsSource

log = logging.getLogger(__name__)

BODY_SNIPPET = 300
ERRNO_REASON = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def _redact(url: str) -> str:
    """The URL without user:password, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class PrometheusSource(MetricsSource):
    """A Prometheus server (or anything speaking its query API: Thanos, Mimir, VictoriaMetrics) at `url`.

    `headers` are sent with every request (for example an Authorization header) and never appear in messages.
    """

    def __init__(self, url: str, timeout_s: float = 10.0, headers: Mapping[str, str] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Prometheus URL must be http(s)://host[:port][/path], got {_redact(url)!r}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.url = url.rstrip("/")
        self.timeout_s = float(timeout_s)
        self.headers = dict(headers or {})

    def describe(self) -> str:
        return f"Prometheus at {_redact(self.url)}"

    def __repr__(self) -> str:
        return f"PrometheusSource({_redact(self.url)!r}, timeout_s={self.timeout_s})"

    def server_version(self) -> str:
        """The server's version from `/api/v1/status/buildinfo`, for example `2.42.0`."""
        data = self._get("/api/v1/status/buildinfo", {})
        version = data.get("version") if isinstance(data, dict) else None
        if not isinstance(version, str) or not version:
            raise self._error("bad_data", f"buildinfo has no version: {_snippet(json.dumps(data))}")
        return version

    def _query_range(self, query: str, start: int, end: int, step: int) -> list[MetricSeries]:
        params = {
            "query": query,
            "start": str(start),
            "end": str(end),
            "step": str(step),
            "timeout": f"{self.timeout_s:g}",
        }
        data = self._get("/api/v1/query_range", params)
        if not isinstance(data, dict):
            raise self._error("bad_data", "the answer's `data` is not an object")
        return parse_matrix(data, start, end, step, source=self.describe())

    def _error(self, kind: ErrorKind, detail: str) -> MetricsError:
        return MetricsError(kind, detail, source=self.describe())

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        """GET `path`, check the Prometheus envelope, return its `data`."""
        url = self.url + path
        shown = _redact(url)
        try:
            response = requests.get(
                url, params=dict(params), headers=self.headers, timeout=self.timeout_s, allow_redirects=True
            )
        except requests.exceptions.Timeout:
            raise self._error("timeout", f"no answer from {shown} within {self.timeout_s:g} s") from None
        except requests.exceptions.ConnectionError as error:
            if "Read timed out" in str(error):  # the body stalled after the headers came
                raise self._error("timeout", f"no answer from {shown} within {self.timeout_s:g} s") from None
            raise self._error(
                "unreachable", f"cannot connect to {shown} ({_reason(error)}); is Prometheus running?"
            ) from None
        except requests.exceptions.RequestException as error:
            raise self._error("http_error", f"request to {shown} failed: {_reason(error)}") from None

        status = response.status_code
        try:
            payload = json.loads(response.content)
        except ValueError:
            payload = None
        if 200 <= status < 300:
            if payload is None:
                raise self._error(
                    "bad_data",
                    f"{shown} answered HTTP {status} with a body that is not JSON: {_snippet(response.text)}",
                )
            if not isinstance(payload, dict) or payload.get("status") != "success":
                raise self._error("bad_data", f"{shown} did not answer with status success: {_snippet(response.text)}")
            for warning in payload.get("warnings") or []:
                log.warning("%s: Prometheus warning: %s", self.describe(), warning)
            return payload.get("data")

        error_type, error_text = _prometheus_error(payload)
        if error_text is not None and status in (400, 422):
            raise self._error("bad_query", f"Prometheus rejected the query ({error_type}): {error_text}")
        if error_text is not None and error_type == "timeout":
            raise self._error("timeout", f"Prometheus gave up on the query: {error_text}")
        detail = error_text if error_text is not None else _snippet(response.text)
        reason = f" {response.reason}" if response.reason else ""
        raise self._error("http_error", f"HTTP {status}{reason} from {shown}: {detail}")


def _prometheus_error(payload: Any) -> tuple[str | None, str | None]:
    """(errorType, error) of a Prometheus error body, or (None, None) when the body is not one."""
    if isinstance(payload, dict) and payload.get("status") == "error" and isinstance(payload.get("error"), str):
        error_type = payload.get("errorType")
        return (error_type if isinstance(error_type, str) else None), payload["error"]
    return None, None


def _reason(error: BaseException) -> str:
    """The useful part of a requests exception, such as `Connection refused` or `Name or service not known`."""
    text = str(error)
    found = ERRNO_REASON.search(text)
    return found.group(1).strip() if found else _snippet(text)


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_SNIPPET else text[:BODY_SNIPPET] + "..."


def parse_matrix(
    data: Mapping[str, Any], start: int, end: int, step: int, *, source: str | None = None
) -> list[MetricSeries]:
    """The `data` of a query_range answer as MetricSeries on the grid start..end by step (NaN where absent)."""

    def bad(detail: str) -> MetricsError:
        return MetricsError("bad_data", detail, source=source)

    result_type = data.get("resultType")
    if result_type != "matrix":
        raise bad(f"expected a matrix result, got resultType {result_type!r}")
    result = data.get("result")
    if not isinstance(result, list):
        raise bad("the matrix result is not a list")
    timestamps = grid(start, end, step)
    series: list[MetricSeries] = []
    for number, item in enumerate(result):
        if not isinstance(item, dict) or not isinstance(item.get("metric", {}), dict):
            raise bad(f"series #{number} is not an object with a `metric` object")
        labels = dict(item.get("metric") or {})
        metric = labels.pop("__name__", "")
        if not all(isinstance(value, str) for value in labels.values()) or not isinstance(metric, str):
            raise bad(f"series #{number} has a label value that is not a string")
        points = item.get("values")
        if points is None:  # only native histograms, which this reader does not turn into floats
            continue
        if not isinstance(points, list):
            raise bad(f"series #{number} has `values` that are not a list")
        try:
            stamps = np.array([point[0] for point in points], dtype=np.float64)
            values = np.array([point[1] for point in points], dtype=np.float64)
        except (TypeError, ValueError, IndexError, KeyError) as error:
            raise bad(f"series #{number} has a malformed [timestamp, value] pair: {error}") from None
        full = np.full(timestamps.size, np.nan, dtype=np.float64)
        if stamps.size:
            offsets = stamps - start
            index = np.rint(offsets / step).astype(np.int64)
            off_grid = (np.abs(offsets - index * step) > 1e-3) | (index < 0) | (index >= timestamps.size)
            if bool(off_grid.any()):
                raise bad(f"series #{number} has a point at {stamps[off_grid][0]} that is not on the query's step grid")
            full[index] = values
        series.append(MetricSeries(metric, tuple(labels.items()), timestamps, full))
    return series
