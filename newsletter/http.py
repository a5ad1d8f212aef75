"""The one way this tool talks HTTP: a session with our user agent, a total
deadline per request, pacing between requests, and retries with backoff that
honour Retry-After (and an x-rate-limit-reset header). Sleeping and the clock are
injectable so tests run instantly and can check the waits."""

from __future__ import annotations

import email.utils
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from newsletter.errors import AuthError, MalformedResponse, SourceError
from newsletter.pacing import Pacer
from newsletter.text import collapse

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
        on_retry: Callable[[str], None] | None = None,
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
        self.pacer = Pacer(min_interval, clock=clock, sleep=sleep)
        self.on_retry = on_retry  # "arXiv: retry 2/5 in 8 s (HTTP 503)", for the progress line

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        base = self.backoff * (2 ** (state.attempt_number - 1))
        if isinstance(exc, TransientError) and exc.wait is not None:
            if exc.wait > self.max_wait:
                raise SourceError(
                    f"{self.service} asks us to wait {exc.wait:.0f} s (limit {self.max_wait:.0f} s); try again later"
                )
            return float(max(exc.wait, self.min_interval))
        return float(max(base, self.min_interval))

    # -- requests ------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        ok: Iterable[int] = (200,),
        check: Callable[[requests.Response], None] | None = None,
        max_bytes: int | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request, retrying transient failures. ``check`` may raise
        TransientError for a 200 whose body is not usable yet (short pages).
        A body over ``max_bytes`` is not read further: TooLarge."""
        ok = frozenset(ok)
        kwargs.setdefault("timeout", (self.timeout, self.timeout))
        if max_bytes is not None:
            kwargs["stream"] = True

        def once() -> requests.Response:
            self.pacer.wait()
            self.request_count += 1
            try:
                resp = self._within_deadline(method, url, kwargs, max_bytes)
            except requests.ConnectionError as exc:
                fatal = unreachable(exc, url)
                if fatal:  # no answer will come by retrying: say so now
                    raise SourceError(f"{self.service}: {fatal}") from None
                raise TransientError(f"{self.service} did not answer: {type(exc).__name__}") from exc
            except requests.Timeout as exc:
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
            before_sleep=self._tell_retry,
            reraise=True,
        )
        try:
            resp = retrying(once)
        except TransientError as exc:
            raise SourceError(f"{exc} after {self.retries + 1} tries; try again later") from exc
        return resp

    def _tell_retry(self, state: RetryCallState) -> None:
        if self.on_retry is None or state.next_action is None:
            return
        exc = state.outcome.exception() if state.outcome else None
        why = str(exc).removeprefix(f"{self.service} ").removeprefix("answered ") if exc else "no answer"
        self.on_retry(f"{self.service}: retry {state.attempt_number}/{self.retries} in "
                      f"{state.next_action.sleep:.0f} s ({why})")

    def _within_deadline(self, method: str, url: str, kwargs: dict[str, Any],
                         max_bytes: int | None = None) -> requests.Response:
        """The whole exchange (connect, headers, body) within ``timeout``
        seconds: a server trickling bytes cannot hold a run. The request runs
        in a daemon thread that is abandoned, not awaited, past the deadline."""
        box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

        def work() -> None:
            try:
                resp = self.session.request(method, url, **kwargs)
                if max_bytes is None:
                    resp.content  # read the body inside the deadline too
                else:
                    _read_capped(resp, max_bytes, self.service)
                box.put((True, resp))
            except BaseException as exc:  # handed to the caller
                box.put((False, exc))

        threading.Thread(target=work, name=f"http {self.service}", daemon=True).start()
        try:
            ok, value = box.get(timeout=self.timeout)
        except queue.Empty:
            raise requests.Timeout(f"no complete answer within {self.timeout:g} s") from None
        if not ok:
            raise value
        response: requests.Response = value
        return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def get_json(self, url: str, what: str, *, credential: str = "the credentials", auth_hint: str = "",
                 method: str = "GET", **kwargs: Any) -> Any:
        """GET (or POST) and decode JSON, mapping statuses to errors once for
        every source: 401/403 -> AuthError (with ``auth_hint``), any other
        non-200 -> SourceError, a body that is not JSON -> MalformedResponse."""
        resp = self.request(method, url, **kwargs)
        if resp.status_code in (401, 403):
            hint = f"; {auth_hint}" if auth_hint else ""
            raise AuthError(f"{self.service} rejected {credential} (HTTP {resp.status_code}: {problem(resp)}){hint}")
        if resp.status_code != 200:
            raise SourceError(f"{what} answered HTTP {resp.status_code}: {problem(resp)}")
        try:
            return resp.json()
        except ValueError:
            raise MalformedResponse(f"{what} answered with a body that is not JSON; try again later") from None


class TooLarge(SourceError):
    """An answer longer than the caller accepts."""


def _read_capped(resp: requests.Response, limit: int, service: str) -> None:
    """Read the body, but never more than ``limit`` bytes of it."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        resp.close()
        raise TooLarge(f"{service}: the answer is over {limit:,} bytes")
    body = bytearray()
    for chunk in resp.iter_content(64 * 1024):
        body += chunk
        if len(body) > limit:
            resp.close()
            raise TooLarge(f"{service}: the answer is over {limit:,} bytes")
    resp._content = bytes(body)  # what ``resp.content`` returns from now on


def unreachable(exc: BaseException, url: str) -> str | None:
    """Why a connection can never succeed by retrying (the name does not
    resolve, the port refuses), or None for a failure worth retrying."""
    host = urlsplit(url).hostname or url
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError":
            return f"cannot resolve {host}: is the machine offline, or the name wrong?"
        if isinstance(e, ConnectionRefusedError) or "Connection refused" in str(e):
            return f"{host} refused the connection: is the address right and the service up?"
        stack += [getattr(e, "reason", None), e.__cause__, e.__context__, *e.args]
    return None


def problem(resp: requests.Response) -> str:
    """The reason an error body gives, on one line, short, without controls."""
    try:
        body = resp.json()
    except ValueError:
        return collapse(resp.text[:200]) or "no reason given"
    if isinstance(body, dict):
        errs = body.get("errors")
        if isinstance(errs, list) and errs and isinstance(errs[0], dict) and errs[0].get("message"):
            return collapse(str(errs[0]["message"]))[:200]
        for key in ("detail", "message", "error_description", "error", "title"):
            if body.get(key):
                return collapse(str(body[key]))[:200]
    return collapse(str(body))[:200]
