"""`masked_stream(stream)`: while it is open, everything written to `stream`'s file descriptor (by Python, C code
or a child process that inherits it) goes through this process's masker before it reaches where the descriptor
pointed.

The descriptor is pointed at a pipe; a thread reads the pipe and writes the masked text to the original target.
Text is masked a whole line at a time, so a secret split across two writes is still seen whole; a line without
its end is written after a short quiet spell (or when it grows past `HOLD_BYTES`), and a private key block is held
until its END marker (within the same bounds), since its key material spans lines.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from collections.abc import Iterator
from typing import IO

from ops_pipeline.core.execution.process_secrets import process_masker

QUIET_S = 0.2  # a partial line is written after this long without more output
HOLD_BYTES = 256 * 1024  # never hold more than this, even inside a line or a key block
CLOSE_WAIT_S = 1.0  # after the capture ends, how long a child still holding the pipe may keep writing
_KEY_BEGIN, _KEY_END = b"-----BEGIN ", b"-----END "
WITHHELD = b"[output withheld: it could not be masked]\n"


@contextlib.contextmanager
def masked_stream(stream: IO[str]) -> Iterator[None]:
    stream.flush()
    target = os.dup(stream.fileno())
    read_end, write_end = os.pipe()
    stop = threading.Event()
    pump = threading.Thread(target=_pump, args=(read_end, target, stop), name="masked-output", daemon=True)
    pump.start()
    os.dup2(write_end, stream.fileno())
    os.close(write_end)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError, OSError):
            stream.flush()
        os.dup2(target, stream.fileno())  # the pipe's last write end in this process closes here
        stop.set()
        pump.join(CLOSE_WAIT_S + 2 * QUIET_S)
        os.close(target)


def _pump(read_end: int, target: int, stop: threading.Event) -> None:
    pending = b""
    try:
        while True:
            ready, _, _ = select.select([read_end], [], [], QUIET_S)
            if not ready:
                if pending:  # quiet: let the partial line out
                    _write(target, pending)
                    pending = b""
                if stop.is_set():
                    return
                continue
            data = os.read(read_end, 65536)
            if not data:
                break
            pending = _flush_ready(target, pending + data)
        _write(target, pending)
    finally:
        os.close(read_end)


def _flush_ready(target: int, pending: bytes) -> bytes:
    """Write the complete lines of `pending` that need no more context; return what is held back."""
    cut = pending.rfind(b"\n") + 1
    opened = pending.rfind(_KEY_BEGIN)
    if opened >= 0 and pending.find(_KEY_END, opened) < 0:
        cut = min(cut, opened)
    if len(pending) - cut > HOLD_BYTES:
        cut = len(pending)
    if cut:
        _write(target, pending[:cut])
    return pending[cut:]


def _write(target: int, data: bytes) -> None:
    if not data:
        return
    try:
        masked = process_masker().mask(data.decode("utf-8", errors="replace")).encode("utf-8")
    except Exception:  # never raw text, and never a dead reader that would block every later write
        masked = WITHHELD
    with contextlib.suppress(OSError):  # the target is gone: nothing can be shown, and nothing must block
        while masked:
            masked = masked[os.write(target, masked) :]
