"""The I/O a run uses, in one object passed down: the clock, sleeping, the
environment (secrets) and where HTTP sessions come from. Tests and the demo
replace them; nothing else in the stages reads a global clock or
``os.environ``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

    from newsletter.config import Config
    from newsletter.http import HttpClient


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Seams:
    """``now`` is the one clock every stage reads."""

    now: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    session_factory: Callable[[], requests.Session] | None = None

    def http(self, cfg: Config, service: str, min_interval: float = 0.0,
             on_retry: Callable[[str], None] | None = None) -> HttpClient:
        """A client for one service: the configured timeouts and retries, this
        run's clock, sleep and sessions."""
        from newsletter.http import HttpClient  # requests: only for runs that fetch

        h = cfg.http
        return HttpClient(
            user_agent=h.user_agent, timeout=h.timeout, retries=h.retries, backoff=h.backoff, max_wait=h.max_wait,
            min_interval=min_interval, clock=lambda: self.now().timestamp(), service=service,
            sleep=self.sleep, session=self.session_factory() if self.session_factory else None, on_retry=on_retry,
        )
