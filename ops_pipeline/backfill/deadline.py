"""A window's deadline: when a window runs past `window_timeout_s`, its connections are cut (the socket shut
down under the driver, which is waiting on it), the source's first and, if the load still waits, the
destination's a moment later. Whichever cut ends the wait tells which peer stopped answering, and the window
fails as that peer's timeout; the destination's transaction is rolled back, so nothing is half-written.

A peer that is frozen (a stopped process, a dead link, a stuck proxy) keeps its TCP connection open and may
even answer keepalives, so no socket option alone can end the wait; cutting the socket always does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sql import Session

GRACE_S = 2.0  # after cutting the source, how long the load may take to end before the destination is cut too


@dataclass
class WindowDeadline:
    cut: list[Session] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def expire(self, src: Session, dst: Session) -> None:
        for session in (src, dst):
            if self.done.is_set():
                return
            self.cut.append(session)
            session.database.cut(session.connection)
            self.done.wait(GRACE_S)

    def error(self, start: datetime, seconds: float) -> SourceError:
        blamed = self.cut[-1]
        return SourceError(
            blamed.name,
            "timeout",
            f"window {start.isoformat()} ran past its {seconds:g} s deadline and {blamed.name!r} stopped answering; "
            "the window was rolled back",
            hint="is the peer alive and the link up? raise window_timeout_s if the window needs longer",
        )


@contextmanager
def window_deadline(src: Session, dst: Session, seconds: float, start: datetime) -> Iterator[None]:
    deadline = WindowDeadline()
    timer = threading.Timer(seconds, deadline.expire, args=(src, dst))
    timer.daemon = True
    timer.start()
    try:
        yield
    except BaseException as error:
        deadline.done.set()
        if deadline.cut and not isinstance(error, KeyboardInterrupt):
            raise deadline.error(start, seconds) from None
        raise
    finally:
        deadline.done.set()
        timer.cancel()
