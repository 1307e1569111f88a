"""The wire under DavSession: keep-alive HTTP/1.1 connections from the standard library.

Why http.client and not a niquests Session (measured, see bench/scale_bench.py): an idle sync
pass is one REPORT per calendar, and niquests' per-request machinery (request preparation,
hooks, cookies, its connection pool and HTTP state machine) cost 0.4-0.5 ms of CPU per
request, four times http.client's. http.client speaks HTTP/1.1 with keep-alive, chunked
bodies and TLS; this module adds what a client of a few servers needs:

- idle connections per origin (as many as requests ran at once), reused while the server
  keeps them open; a reused one found closed (the server timed it out) is replaced once,
  before any answer was read;
- proxies from the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``, as curl and
  urllib read them), HTTPS through CONNECT;
- certificate checking against the system store, a CA file or folder, or (``verify`` false,
  tests only) none.

Answers are not decompressed: no Accept-Encoding is sent, so servers answer in identity.
"""

from __future__ import annotations

import base64
import functools
import http.client
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

#: Failures of the connection itself (nothing usable came back): retried by DavSession.
WIRE_ERRORS = (OSError, http.client.HTTPException)
#: A reused connection the server had already closed shows one of these before any answer.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

Origin = tuple[str, str, int]
#: Idle connections kept per origin (as many as creates run in parallel, at most).
MAX_IDLE = 16


class WireError(Exception):
    """The request got no answer: connection refused, reset, timed out, or TLS failed."""


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    headers: Mapping[str, str]
    """Lower-cased names."""
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Wire:
    """HTTP requests with kept-alive connections. Threads may share it: a connection is
    taken out of the idle list while a request uses it, and put back after."""

    def __init__(self, timeout: float, verify: bool | str = True) -> None:
        self._timeout = timeout
        self._verify = verify
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._proxies = getproxies()
        self._proxy_of: dict[Origin, str | None] = {}

    def close(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def request(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise WireError(f"not an http(s) URL: {url}")
        origin = (scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        conn = self._take(origin)
        extra: dict[str, str] = {}
        for reused in (conn is not None, False):
            if conn is None:
                conn, target, extra = self._connect(origin, url, target)
            try:
                conn.request(method, target, body=body or None, headers={**headers, **extra})
                response = conn.getresponse()
                answer = Reply(
                    response.status,
                    response.reason or "",
                    _headers(response.getheaders()),
                    response.read(),
                )
            except _STALE as exc:
                conn.close()
                conn = None
                if reused:
                    continue  # the server closed it while idle: once more, on a new one
                raise WireError(f"{type(exc).__name__}: {exc}") from exc
            except WIRE_ERRORS as exc:
                conn.close()
                raise WireError(f"{type(exc).__name__}: {exc}") from exc
            if response.will_close:
                conn.close()
            else:
                self._give_back(origin, conn)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _take(self, origin: Origin) -> http.client.HTTPConnection | None:
        try:
            return self._idle.get(origin, []).pop()
        except IndexError:
            return None

    def _give_back(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < MAX_IDLE:
            idle.append(conn)
        else:
            conn.close()

    def _connect(
        self, origin: Origin, url: str, target: str
    ) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
        """A new connection to ``origin`` (through the environment's proxy, if any), the
        request target to send on it, and headers the proxy needs on each request."""
        scheme, host, port = origin
        if origin not in self._proxy_of:  # the environment is read once per origin
            bypass = proxy_bypass(host)
            self._proxy_of[origin] = None if bypass else self._proxies.get(scheme)
        proxy = self._proxy_of[origin]
        if not proxy:
            return self._open(scheme == "https", host, port), target, {}
        p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        auth = {}
        if p.username:
            pair = f"{unquote(p.username)}:{unquote(p.password or '')}".encode()
            auth["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode()
        conn = self._open(scheme == "https", p.hostname or "", p.port or 8080)
        if scheme == "https":  # CONNECT through the proxy, then TLS to the server itself
            conn.set_tunnel(host, port, headers=auth)
            return conn, target, {}
        return conn, url, auth  # plain HTTP: the absolute URI, to the proxy

    def _open(self, tls: bool, host: str, port: int) -> http.client.HTTPConnection:
        if tls:
            context = _tls_context(self._verify)
            return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=self._timeout)


def _headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined by commas (RFC 9110 5.3)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


@functools.cache
def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """One context per setting, made when the first HTTPS connection needs it: a context
    holding the system's CA store takes about a megabyte, and the daemon keeps a wire per
    calendar (500 contexts were 370 MB of a daemon's memory)."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        if Path(verify).is_dir():
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()
