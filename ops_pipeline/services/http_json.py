"""One JSON request to a service (the asset service, the remote automation service): timeouts on connect and
read, a bearer token when one is configured, and failures turned into ServiceErrors with a failure class."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from ops_pipeline.core.control_loop.vocabulary import FailureClass
from ops_pipeline.services.errors import ServiceError

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
PERMISSION_STATUSES = frozenset({401, 403})
MAX_ANSWER_BYTES = 4 * 1024 * 1024


def status_failure_class(status: int) -> FailureClass:
    if status in TRANSIENT_STATUSES:
        return "transient"
    if status in PERMISSION_STATUSES:
        return "permission"
    return "permanent"


@dataclass(frozen=True)
class JsonAnswer:
    status: int
    body: Any  # the parsed JSON, or None when the answer was not JSON
    excerpt: str  # the start of the answer's text, for error messages


def call_json(
    method: str,
    url: str,
    *,
    who: str,
    connect_timeout_s: float,
    read_timeout_s: float,
    payload: object | None = None,
    token: str | None = None,
) -> JsonAnswer:
    """Send one request; ServiceError (naming `who`) when no answer came, any status is returned as it is."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with requests.request(
            method,
            url,
            json=payload,
            headers=headers,
            timeout=(connect_timeout_s, read_timeout_s),
            stream=True,
            allow_redirects=False,
        ) as response:
            raw = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
    except requests.ConnectTimeout:
        raise ServiceError(f"{who}: no connection to {url} within {connect_timeout_s:g} s", "transient") from None
    except requests.ReadTimeout:
        raise ServiceError(f"{who}: {url} sent no answer within {read_timeout_s:g} s", "timeout") from None
    except requests.ConnectionError as error:
        reason = reason_of(error)
        raise ServiceError(f"{who}: cannot reach {url} ({reason})", "transient") from None
    except requests.RequestException as error:
        raise ServiceError(f"{who}: request to {url} failed ({reason_of(error)})") from None
    if len(raw) > MAX_ANSWER_BYTES:
        raise ServiceError(f"{who}: {url} answered with more than {MAX_ANSWER_BYTES} bytes")
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    return JsonAnswer(response.status_code, body, " ".join(text.split())[:300])


def reason_of(error: Exception) -> str:
    """The innermost cause of a requests error, without the long urllib3 wrapper text."""
    message = str(error)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "Connection reset"):
        if marker in message:
            return marker.lower()
    return message[:200] or type(error).__name__
