"""A connection guard in front of aiohttp's request handler: header and body timeouts,
caps on connections per client address and in all.

aiohttp bounds the *size* of a request's headers, not the time a client takes to send
them: by default a connection that never finishes its headers stays open for an hour, so
a thousand of them exhaust the open files and nothing answers. Each accepted connection
gets a ``Conn`` (an asyncio protocol wrapping aiohttp's ``RequestHandler``) that:

- is refused at once (reset, no handler built) over the per-address cap; at the cap in
  all, the oldest connection still waiting for its headers is closed to make room (a
  request finishes its headers in milliseconds, a slow client takes seconds, so the one
  closed is almost always a slow client's) and only when every open connection is busy
  in a request is the new one refused;
- is closed when a request's headers are not complete ``header_timeout`` seconds after
  the connection opened or its previous response was written (this also ends idle
  keep-alive connections, and ones whose client stops reading a response);
- gets 413 for a body over ``max_body`` and 408 for one not received within
  ``body_timeout`` (the middleware reads the body before the handler runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from calbridge.config.schema import HttpSettings
from calbridge.web.limits import Limits, Reporter

GUARD: web.AppKey[Guard] = web.AppKey("calbridge_guard")
_LINGER_0 = struct.pack("ii", 1, 0)


def address_key(peer: Any) -> str:
    """The client address a cap counts against; IPv6 clients by their /64."""
    host = peer[0] if isinstance(peer, tuple) and peer else str(peer)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return str(host)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def reset(transport: asyncio.BaseTransport) -> None:
    """Close at once with a reset: no lingering, no TIME_WAIT held on this side."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_0)
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    else:
        transport.close()


class Guard:
    """Decides on each accepted socket, before any transport or handler is built."""

    server: web.Server
    limits: Limits
    reporter: Reporter

    def __init__(self, http: HttpSettings) -> None:
        self.http = http
        self.open: set[Conn] = set()
        self.conns: dict[asyncio.BaseTransport, Conn] = {}
        self.waiting: dict[Conn, None] = {}  # insertion order: the oldest first
        self.per_address: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()

    def serve(self, server: web.Server) -> None:
        """Work out the limits (raising the open-file limit if need be) for ``server``."""
        self.server, self.limits = server, Limits.of(self.http)
        self.reporter = Reporter(self.limits)

    def stats(self) -> tuple[int, dict[str, int]]:
        """Connections open now, and each condition's count since the start."""
        totals = dict(self.reporter.totals) if hasattr(self, "reporter") else {}
        return len(self.open), totals

    async def cleanup(self, _: web.Application) -> None:
        if hasattr(self, "reporter"):
            self.reporter.flush()

    def accepted(self, sock: socket.socket, peer: Any) -> None:
        """A socket just accepted: refuse it (closed at once) or hand it to aiohttp."""
        key = address_key(peer)
        if not self._admit(key):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_0)
            sock.close()
            return
        conn = Conn(self, key)
        self.open.add(conn)
        self.per_address[key] += 1
        sock.setblocking(False)
        task = asyncio.get_running_loop().create_task(self._connect(conn, sock))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, conn: Conn, sock: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(lambda: conn, sock)
        except OSError:
            self.release(conn)
            sock.close()

    def _admit(self, key: str) -> bool:
        limits = self.limits
        if limits.per_address and self.per_address[key] >= limits.per_address:
            self.reporter.count("per_address")
            return False
        if len(self.open) >= limits.max_connections:
            oldest = next(iter(self.waiting), None)
            if oldest is None:
                self.reporter.count("over_cap")
                return False
            self.reporter.count("evicted")
            self.release(oldest)
            oldest.close()
        return True

    def release(self, conn: Conn) -> None:
        self.waiting.pop(conn, None)
        if conn.transport is not None and self.conns.get(conn.transport) is conn:
            del self.conns[conn.transport]
        if conn in self.open:
            self.open.discard(conn)
            self.per_address[conn.key] -= 1
            if self.per_address[conn.key] <= 0:
                del self.per_address[conn.key]


class Conn(asyncio.Protocol):
    """One client connection: aiohttp's handler inside, the guard's clock outside."""

    def __init__(self, guard: Guard, key: str) -> None:
        self.guard, self.key = guard, key
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.BaseTransport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.requests = 0
        self.heard = False  # bytes arrived since the clock started
        self.pending: int | None = None  # response bytes unsent at the last expiry

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if self not in self.guard.open:  # closed to make room before it got here
            reset(transport)
            return
        self.guard.conns[transport] = self
        self.inner = self.guard.server()
        self.waiting()
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.heard = True
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        self.guard.release(self)
        inner, self.inner = self.inner, None
        if inner is not None:
            inner.connection_lost(exc)

    def waiting(self) -> None:
        """Start the clock: the next request's headers are due within header_timeout."""
        self._stop_clock()
        if self.transport is None or self.transport.is_closing():
            return
        self.heard, self.pending = False, None
        self.guard.waiting[self] = None
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.guard.limits.header_timeout, self._expire)

    def busy(self) -> None:
        """A request's headers arrived: its handler runs without the clock."""
        self._stop_clock()
        self.requests += 1

    def close(self) -> None:
        self._stop_clock()
        if self.transport is not None:
            reset(self.transport)

    def _stop_clock(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.guard.waiting.pop(self, None)

    def _expire(self) -> None:
        self.timer = None
        transport = self.transport
        if transport is None:
            return
        unsent = 0
        if isinstance(transport, asyncio.WriteTransport):
            unsent = transport.get_write_buffer_size()
        if unsent and (self.pending is None or unsent < self.pending):
            # The previous response is still flowing out: give it another period.
            self.pending = unsent
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(self.guard.limits.header_timeout, self._expire)
            return
        if unsent:
            self.guard.reporter.count("stalled")
        elif self.heard or not self.requests:
            self.guard.reporter.count("header_timeout")
        self.close()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refuse(status: int, text: str) -> web.Response:
    response = web.Response(status=status, text=text)
    response.force_close()
    return response


@web.middleware
async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stop the connection's clock for the request, read a body within its limits,
    start the clock again for the next request once the handler is done."""
    guard = request.app[GUARD]
    if not hasattr(guard, "limits"):  # served some other way (aiohttp's test server)
        return await handler(request)
    conn = guard.conns.get(request.transport) if request.transport is not None else None
    limits = guard.limits
    if conn is not None:
        conn.busy()
    try:
        if request.can_read_body:
            if (request.content_length or 0) > limits.max_body:
                guard.reporter.count("too_large")
                return _refuse(413, f"the body is over {limits.max_body} bytes\n")
            try:
                await asyncio.wait_for(request.read(), limits.body_timeout)
            except web.HTTPRequestEntityTooLarge:
                guard.reporter.count("too_large")
                return _refuse(413, f"the body is over {limits.max_body} bytes\n")
            except TimeoutError:
                guard.reporter.count("body_timeout")
                return _refuse(408, f"the body did not arrive within {limits.body_timeout:g} s\n")
        return await handler(request)
    finally:
        if conn is not None and conn.inner is not None:
            conn.waiting()
