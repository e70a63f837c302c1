"""Copying a file on this machine the way a file step must: in chunks with the deadline checked between them,
into a temporary file next to the destination, verified by SHA-256, then renamed into place.

The rename is atomic on one file system, so the destination is either untouched or the complete, verified
copy; a failure, a timeout or an interruption removes the temporary file and leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.services.errors import ChecksumMismatch, ServiceError

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileCopy:
    bytes: int
    sha256: str  # of the source as read, equal to the destination's
    destination: str


def temporary_name(destination: str) -> str:
    """A hidden name in the destination's folder, so the final rename stays on one file system."""
    folder, _, name = destination.rpartition("/")
    return f"{folder + '/' if folder else ''}.{name}.ops-{secrets.token_hex(6)}.part"


def readable_source(source: Path) -> Path:
    """`source` if it is a regular file this process can read; ServiceError saying what is wrong otherwise."""
    if not source.exists():
        raise ServiceError(f"source file {source} does not exist")
    if not source.is_file():
        raise ServiceError(f"source {source} is not a regular file")
    if not os.access(source, os.R_OK):
        raise ServiceError(f"source file {source} is not readable by this process", "permission")
    return source


def writable_destination(destination: Path) -> Path:
    if destination.is_dir():
        raise ServiceError(f"destination {destination} is a folder; give the file's full path")
    if not destination.parent.is_dir():
        raise ServiceError(f"destination folder {destination.parent} does not exist")
    if not os.access(destination.parent, os.W_OK):
        raise ServiceError(f"destination folder {destination.parent} is not writable by this process", "permission")
    return destination


def sha256_of(path: Path, deadline: Deadline) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            deadline.check()
            digest.update(chunk)
    return digest.hexdigest()


def copy_file(source: Path, destination: Path, deadline: Deadline, chunk_bytes: int = CHUNK_BYTES) -> FileCopy:
    """Copy `source` to `destination` atomically; StepTimeoutError at the deadline, ChecksumMismatch if the
    written bytes differ from those read."""
    readable_source(source)
    writable_destination(destination)
    temporary = Path(temporary_name(str(destination)))
    try:
        digest = hashlib.sha256()
        copied = 0
        with source.open("rb") as reader, temporary.open("xb") as writer:
            while chunk := reader.read(chunk_bytes):
                deadline.check()
                writer.write(chunk)
                digest.update(chunk)
                copied += len(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        with contextlib.suppress(OSError):
            os.chmod(temporary, source.stat().st_mode & 0o777)
        source_sha = digest.hexdigest()
        written_sha = sha256_of(temporary, deadline)
        if written_sha != source_sha:
            raise ChecksumMismatch(
                f"copy of {source} to {destination}: SHA-256 of the copy ({written_sha}) differs from the source's "
                f"({source_sha}); the copy was discarded"
            )
        deadline.check()
        os.replace(temporary, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return FileCopy(copied, source_sha, str(destination))
