"""One pacer for every rate limit: arXiv's one request per 3 s, and the SMTP
relay's messages per second shared by all connections of a send."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """Spaces calls at least ``interval`` seconds apart, across threads."""

    def __init__(self, interval: float = 0.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = max(0.0, interval)
        self.clock = clock
        self.sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this call's turn, then book the next one."""
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            turn = now if self._next is None else max(now, self._next)
            self._next = turn + self.interval
        if turn > now:
            self.sleep(turn - now)
