"""Credentials inside URLs (`scheme://user:password@host/...`), kept out of every message.

A password may hold characters a URL reserves (`/`, `#`, `?`, `@`) written unencoded; a parser then takes part
of it for the host or the path and would echo that part. Redaction here does not parse: everything between
`://` and the last `@` is credentials.
"""

from __future__ import annotations

import re

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_RESERVED_IN_USERINFO = "/#?@"


def _split(url: str) -> tuple[str, str, str] | None:
    """(scheme://, credentials, @rest) when the URL carries credentials, else None."""
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    at = url.rfind("@", start)
    if at < 0:
        return None
    return url[:start], url[start:at], url[at:]


def redacted_url(url: str) -> str:
    """`url` with its credentials replaced by `***`, however malformed it is."""
    parts = _split(url)
    if parts is None:
        return url
    scheme, _credentials, rest = parts
    return f"{scheme}***{rest}"


def url_credentials(url: str) -> str | None:
    """The credentials part of `url` (user, or user:password), or None."""
    parts = _split(url)
    return None if parts is None else parts[1]


def unencoded_credentials_problem(url: str) -> str | None:
    """Why the credentials in `url` cannot be read as written (a reserved character left unencoded), or None.

    Only a user:password part is checked: a path such as `sqlite:////data/a@b.db` has no ':' before the '@'.
    """
    credentials = url_credentials(url)
    if credentials is None or ":" not in credentials:
        return None
    reserved = sorted({c for c in credentials if c in _RESERVED_IN_USERINFO})
    if not reserved:
        return None
    encoded = ", ".join(f"{c!r} as %{ord(c):02X}" for c in reserved)
    return f"the user or password holds {', '.join(map(repr, reserved))} unencoded; percent-encode it ({encoded})"


def without_credentials(text: str, url: str) -> str:
    """`text` (a driver's message about `url`) with any piece of the URL's credentials removed."""
    credentials = url_credentials(url)
    if not credentials or ":" not in credentials:
        return text
    password = credentials.split(":", 1)[1]
    pieces = {credentials, password, *re.split(r"[:/#?@]", password)}
    for piece in sorted(pieces, key=len, reverse=True):
        if len(piece) >= 2:
            text = text.replace(piece, "***")
    return text
