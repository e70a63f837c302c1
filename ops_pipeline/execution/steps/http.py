"""HTTP steps: templates rendered in the URL, headers and body (secrets resolved just now), one request, the
answer read in chunks up to a cap, its status checked against `expect_status`.

The deadline holds three ways: the connect timeout and the read timeout never exceed the time left, the
deadline is checked between body chunks (a server that trickles bytes is stopped), and the whole call runs
under the SIGALRM deadline where one can be armed (a server that stalls inside a read is stopped too).
Failures are classed: no connection, 429, 502, 503 and 504 transient; 401 and 403 permission; the deadline
timeout; any other unexpected status permanent.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests
import urllib3.exceptions

from ops_pipeline.core.execution.deadline import Deadline, alarm_deadline
from ops_pipeline.core.execution.timeouts import StepTimeoutError
from ops_pipeline.core.plans.steps import HttpStep
from ops_pipeline.core.plans.templates import render, render_json
from ops_pipeline.execution.steps.base import StepContext, capped_text, excerpt
from ops_pipeline.services.http_json import reason_of, status_failure_class

BODY_CAP_BYTES = 65536
CONNECT_TIMEOUT_S = 10.0
READ_CHUNK_BYTES = 65536


def run_http(step: HttpStep, context: StepContext, deadline: Deadline) -> dict[str, Any]:
    params, resolve = context.parameters, context.resolve_secret
    url = render(step.url, params, resolve)
    headers = {name: render(value, params, resolve) for name, value in step.headers.items()}
    data = render(step.body, params, resolve).encode("utf-8") if isinstance(step.body, str) else None
    json_body = render_json(step.body, params, resolve) if isinstance(step.body, dict) else None
    call = f"{step.method} {url}"
    context.say(f"{call} (budget {deadline.budget_s:g} s)")
    started = time.monotonic()
    try:
        with alarm_deadline(deadline), requests.Session() as session:
            remaining = deadline.remaining()
            response = session.request(
                step.method,
                url,
                headers=headers,
                data=data,
                json=json_body,
                timeout=(min(CONNECT_TIMEOUT_S, remaining), remaining),
                stream=True,
            )
            with response:
                raw_body, truncated = _read_body(response, deadline)
    except (StepTimeoutError, requests.Timeout, urllib3.exceptions.ReadTimeoutError):
        if not deadline.expired():  # a connect timeout shorter than the budget: the server may come back
            raise context.fail(f"{call}: no connection within {CONNECT_TIMEOUT_S:g} s", "transient") from None
        raise context.fail(
            f"{call}: no complete answer within the step's {deadline.budget_s:g} s; the request was abandoned",
            "timeout",
        ) from None
    except (requests.ConnectionError, urllib3.exceptions.ProtocolError) as error:
        raise context.fail(f"{call}: cannot reach the server ({reason_of(error)})", "transient") from None
    except requests.RequestException as error:
        raise context.fail(f"{call}: the request could not be sent ({reason_of(error)})") from None
    output = _output(response, raw_body, truncated)
    elapsed = time.monotonic() - started
    if response.status_code not in step.expect_status:
        expected = ", ".join(str(status) for status in step.expect_status)
        shown = excerpt(raw_body.decode("utf-8", errors="replace"), 200)
        raise context.fail(
            f"{call} answered {response.status_code} after {elapsed:.2f} s (expected {expected})"
            + (f": {shown}" if shown else ""),
            status_failure_class(response.status_code),
            output,
        )
    context.say(f"{call} answered {response.status_code} after {elapsed:.2f} s")
    return output


def _read_body(response: requests.Response, deadline: Deadline) -> tuple[bytes, bool]:
    """Up to BODY_CAP_BYTES of the body, chunk by chunk as it arrives, checking the deadline between chunks."""
    raw = response.raw
    read = getattr(raw, "read1", None) or raw.read  # read1 returns what has arrived instead of waiting for more
    received = bytearray()
    while True:
        deadline.check()
        chunk = read(READ_CHUNK_BYTES, decode_content=True)
        if not chunk:
            return bytes(received), False
        received += chunk
        if len(received) > BODY_CAP_BYTES:
            return bytes(received[:BODY_CAP_BYTES]), True


def _output(response: requests.Response, raw_body: bytes, truncated: bool) -> dict[str, Any]:
    text = raw_body.decode(response.encoding or "utf-8", errors="replace")
    body: Any = text
    if not truncated and text.strip():
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    if isinstance(body, str):
        body, cut = capped_text(body, BODY_CAP_BYTES)
        truncated = truncated or cut
    return {"status": response.status_code, "headers": dict(response.headers), "body": body, "truncated": truncated}
