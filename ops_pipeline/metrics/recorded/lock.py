"""The lock file beside a recorded CSV file (`.<name>.lock`): writers hold it exclusively while they append,
readers shared while they read the file's bytes, so they never see half a row from it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked(path: Path, *, shared: bool = False) -> Iterator[None]:
    """The lock file beside `path` held exclusively (writers) or shared (readers). A reader that can neither
    create nor open the lock file (a read-only directory, no fcntl) reads without it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        if shared:
            yield
            return
        raise
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
    except OSError:
        if not shared:
            raise
        try:
            descriptor = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            yield
            return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
