"""HTTP for the CalDAV store: kept-alive connections, credentials, and the one retry policy.

Why not ``caldav.DAVClient.request`` (python-caldav 3.6, measured):
that method normalises request bodies (``\\n`` -> ``\\r\\n``) unless they are wrapped in
caldav's ``WireBytes`` while being typed ``str``; it hands the response body back only after
rewriting ``\\r\\n`` to ``\\n`` (the exact bytes survive only in the private ``_raw_body``);
it raises ``AuthorizationError`` on every 403, although Radicale's 403 ``valid-sync-token``
simply means "resync"; and it runs its own sleep-and-retry loop for 429/503. The store needs
status, headers and exact bytes of every answer and exactly one retry policy, so it speaks
HTTP itself, through the standard library's http.client (davwire.py says why not niquests).

Retries (tenacity): network failures and 408/429/502/503/504 are retried with bounded
exponential backoff, honouring ``Retry-After`` (seconds or HTTP-date), only for requests that
are safe to repeat: GET/HEAD/OPTIONS/PROPFIND/REPORT, and PUT/DELETE carrying If-Match or
If-None-Match (the precondition stops a repeat from doing harm). A ``Retry-After`` longer than
``RetryPolicy.max_retry_after`` is not slept through: the caller gets ``TransientError`` with
``retry_after`` and reschedules. Exhausted retries raise ``TransientError``, never a reply.
Redirects are not followed: the caller decides (discovery follows them, the store refuses).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urlencode

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    stop_before_delay,
    wait_exponential,
    wait_random,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from calbridge.calendars.base import StorageError, TransientError
from calbridge.calendars.davauth import Auth, AuthenticationFailed
from calbridge.calendars.davwire import Reply as Reply
from calbridge.calendars.davwire import Wire, WireError

RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})
USER_AGENT = "calbridge (CalDAV sync)"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Tries per request, the first included."""
    backoff: float = 0.5
    """First wait in seconds; doubles per retry (with up to as much again of jitter)."""
    max_backoff: float = 8.0
    max_retry_after: float = 15.0
    """A longer Retry-After ends the request with TransientError(retry_after) at once."""
    max_total: float = 60.0
    """No retry is started that would end after this many seconds."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (RFC 9110 §10.2.3): delay-seconds or HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_is_safe(method: str, headers: Mapping[str, str]) -> bool:
    """Whether repeating the request cannot do harm (idempotent, or guarded by a precondition)."""
    if method in SAFE_METHODS:
        return True
    names = {name.lower() for name in headers}
    return method in ("PUT", "PATCH", "DELETE") and bool(names & {"if-match", "if-none-match"})


def _retry_after(state: RetryCallState) -> float | None:
    failure = state.outcome.exception() if state.outcome else None
    return failure.retry_after if isinstance(failure, _Retryable) else None


class _StopOnLongRetryAfter(stop_base):
    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        wanted = _retry_after(retry_state)
        return wanted is not None and wanted > self.limit


class _WaitRetryAfterOrBackoff(wait_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_exponential(
            multiplier=policy.backoff, max=policy.max_backoff
        ) + wait_random(0, policy.backoff)

    def __call__(self, retry_state: RetryCallState) -> float:
        wanted = _retry_after(retry_state)
        return wanted if wanted is not None else self._backoff(retry_state)


class DavSession:
    """Sends requests with credentials and retries; close it (or use ``with``) when done."""

    def __init__(
        self,
        auth: Auth | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | str = True,
    ) -> None:
        self._auth = auth
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = Wire(timeout, verify)
        #: HTTP requests sent, retries included (for metrics and benchmarks).
        self.requests = 0
        #: Creates run from several threads (calendars/writes.py): one of them at a time
        #: counts, or refreshes an expired token (a rotated refresh token is used once).
        self._lock = threading.RLock()  # a token refresh POSTs through this session

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DavSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        idempotent: bool = False,
    ) -> Reply:
        """One request, retried as the module docstring says; 401 raises AuthenticationFailed.
        ``idempotent``: the caller knows a repeat is harmless (Graph's POST with a
        transactionId)."""
        headers = dict(headers or {})
        try:
            return self._retrying(idempotent or retry_is_safe(method, headers))(
                self._authorised, method, url, body, headers
            )
        except _Retryable as exc:
            raise TransientError(str(exc), exc.retry_after) from exc

    def post_form(self, url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        """POST a form once (token endpoints); TransientError if the endpoint is unreachable."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        try:
            reply = self._once("POST", url, urlencode(form).encode(), headers)
        except _Retryable as exc:
            raise TransientError(str(exc), exc.retry_after) from exc
        return reply.status, reply.body

    def _retrying(self, safe: bool) -> Retrying:
        policy = self._retry
        return Retrying(
            stop=stop_any(
                stop_after_attempt(policy.attempts if safe else 1),
                stop_before_delay(policy.max_total),
                _StopOnLongRetryAfter(policy.max_retry_after),
            ),
            wait=_WaitRetryAfterOrBackoff(policy),
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )

    def _authorised(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        reply = self._once(method, url, body, self._with_auth(headers))
        if reply.status == 401 and self._auth is not None and self._renew():
            reply = self._once(method, url, body, self._with_auth(headers))
        if reply.status == 401:
            who = "no credentials configured" if self._auth is None else "credentials refused"
            raise AuthenticationFailed(f"{method} {url}: 401 Unauthorized ({who})")
        return reply

    def _renew(self) -> bool:
        assert self._auth is not None
        with self._lock:
            return self._auth.renew()

    def _with_auth(self, headers: dict[str, str]) -> dict[str, str]:
        if self._auth is None:
            return headers
        with self._lock:
            value = self._auth.header(self.post_form)
        return headers if value is None else {**headers, "Authorization": value}

    def _once(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        reply = self._request(method, url, body, headers)
        if reply.status in RETRY_STATUSES:
            raise _Retryable(
                f"{method} {url}: {reply.status} {reply.reason}".rstrip(),
                parse_retry_after(reply.header("retry-after")),
            )
        return reply

    def _request(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        with self._lock:
            self.requests += 1
        try:
            return self._http.request(method, url, body, {"User-Agent": USER_AGENT, **headers})
        except WireError as exc:
            raise _Retryable(f"{method} {url}: {exc}") from exc


def unexpected(reply: Reply, what: str) -> StorageError:
    """The error for an answer the caller has no case for (5xx: transient); raise it."""
    message = f"{what}: {reply.status} {reply.reason}".rstrip()
    if 300 <= reply.status < 400:
        location = reply.header("location") or "?"
        return StorageError(f"{message}: moved to {location}; configure that URL instead")
    if reply.status >= 500:
        return TransientError(message, parse_retry_after(reply.header("retry-after")))
    return StorageError(f"{message}: {reply.body[:300]!r}")
