"""Secret references: `env:NAME` or `file:/path`, resolved only when a connection is opened.

A reference is what configuration holds and what logs may show; the resolved value never leaves the
function that opens the connection. Every resolved value is registered with this process's masker
(`process_secrets`), so the event log storage masks it wherever it turns up.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ops_pipeline.core.execution.process_secrets import register_secret

SECRET_REF_PATTERN = re.compile(r"env:[A-Za-z_][A-Za-z0-9_]*|file:[^\n]+")


class SecretError(ValueError):
    """A secret reference that cannot be resolved."""


def is_secret_ref(value: str) -> bool:
    return bool(SECRET_REF_PATTERN.fullmatch(value))


def resolve_secret(ref: str) -> str:
    """Return the secret a reference points to, or raise SecretError naming the reference (never the value)."""
    value = _read(ref)
    register_secret(value)
    return value


def _read(ref: str) -> str:
    if ref.startswith("env:"):
        name = ref[4:]
        value = os.environ.get(name)
        if value is None:
            raise SecretError(f"secret {ref!r}: environment variable {name} is not set")
        return value
    if ref.startswith("file:"):
        path = Path(ref[5:]).expanduser()
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise SecretError(f"secret {ref!r}: cannot read {path} ({error.strerror})") from None
        except UnicodeDecodeError:
            raise SecretError(f"secret {ref!r}: {path} is not UTF-8 text") from None
    raise SecretError(f"{ref!r} is not a secret reference; use env:NAME or file:/path")
