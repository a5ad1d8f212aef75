"""The one way this tool talks HTTP: a session with our user agent, timeouts,
pacing between requests, and retries with backoff that honour Retry-After
(and X's x-rate-limit-reset). Sleeping and the clock are injectable so tests
run instantly and can check the waits."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from newsletter.errors import SourceError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class TransientError(Exception):
    """A failure worth retrying; carries the wait the server asked for."""

    def __init__(self, message: str, wait: float | None = None, response: requests.Response | None = None):
        super().__init__(message)
        self.wait = wait
        self.response = response


def _retry_after(resp: requests.Response, now: float) -> float | None:
    value = resp.headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = resp.headers.get("x-rate-limit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - now)
    return None


class HttpClient:
    """A paced, retrying HTTP client for one service."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 2.0,
        max_wait: float = 900.0,
        min_interval: float = 0.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        service: str = "remote service",
    ) -> None:
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_wait = max_wait
        self.min_interval = min_interval
        self.sleep = sleep
        self.clock = clock
        self.service = service
        self.request_count = 0
        self._last_request: float | None = None

    # -- pacing --------------------------------------------------------
    def _pace(self) -> None:
        if self.min_interval and self._last_request is not None:
            wait = self._last_request + self.min_interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_request = self.clock()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        base = self.backoff * (2 ** (state.attempt_number - 1))
        if isinstance(exc, TransientError) and exc.wait is not None:
            if exc.wait > self.max_wait:
                raise SourceError(
                    f"{self.service} asks us to wait {exc.wait:.0f} s (limit {self.max_wait:.0f} s); try again later"
                )
            return max(exc.wait, self.min_interval)
        return max(base, self.min_interval)

    # -- requests ------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        ok: Iterable[int] = (200,),
        check: Callable[[requests.Response], None] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request, retrying transient failures. ``check`` may raise
        TransientError for a 200 whose body is not usable yet (short pages)."""
        ok = frozenset(ok)
        kwargs.setdefault("timeout", self.timeout)

        def once() -> requests.Response:
            self._pace()
            self.request_count += 1
            try:
                resp = self.session.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise TransientError(f"{self.service} did not answer: {type(exc).__name__}") from exc
            if resp.status_code in RETRY_STATUSES:
                raise TransientError(
                    f"{self.service} answered HTTP {resp.status_code}",
                    wait=_retry_after(resp, self.clock()),
                    response=resp,
                )
            if resp.status_code in ok and check is not None:
                check(resp)
            return resp

        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            resp = retrying(once)
        except TransientError as exc:
            raise SourceError(f"{exc} after {self.retries + 1} tries; try again later") from exc
        return resp

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
