"""The listening socket, accepted by hand so the guard decides on each connection the
moment it is accepted.

asyncio's own accept loop (``loop.create_server``) accepts up to ``backlog`` sockets per
wake-up before any protocol sees one, so a socket to refuse still holds its descriptor
while the next hundreds are accepted; and when accept() runs out of descriptors (EMFILE)
it reports through the loop's exception handler (a traceback) once per socket left in
that burst, every second. Here each accepted socket is refused (closed on the spot) or
admitted before the next accept(), and EMFILE pauses accepting for ``RETRY`` seconds,
counted as one condition in the rate-limited log.
"""

from __future__ import annotations

import asyncio
import errno
import socket

from aiohttp import web

from calbridge.web.guard import GUARD, Guard

#: Sockets accepted per wake-up of the listening socket (other work runs in between).
BATCH = 64
RETRY = 1.0
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class Listener(asyncio.AbstractServer):
    def __init__(self, guard: Guard, sock: socket.socket) -> None:
        self.guard, self.sock = guard, sock
        self.loop = asyncio.get_running_loop()
        self._retry: asyncio.TimerHandle | None = None
        self._closed = False
        sock.setblocking(False)
        self._resume()

    def _resume(self) -> None:
        self._retry = None
        if not self._closed:
            self.loop.add_reader(self.sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(BATCH):
            try:
                conn, peer = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                self.guard.reporter.count("accept_failed")
                self.loop.remove_reader(self.sock.fileno())
                self._retry = self.loop.call_later(RETRY, self._resume)
                return
            self.guard.accepted(conn, peer)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._closed else (self.sock,)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
        else:
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.loop

    def is_serving(self) -> bool:
        return not self._closed

    async def wait_closed(self) -> None:
        return None

    async def start_serving(self) -> None:
        return None  # serving from the start

    async def serve_forever(self) -> None:
        raise NotImplementedError("run the application's loop instead")


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through the application's ``Guard``."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        super().__init__(runner, backlog=1024)
        self._host, self._port = host, port
        self._guard = runner.app[GUARD]

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        assert self._runner.server is not None
        self._guard.serve(self._runner.server)
        six = ":" in self._host
        sock = socket.create_server(
            (self._host, self._port),
            family=socket.AF_INET6 if six else socket.AF_INET,
            backlog=self._backlog,
            dualstack_ipv6=self._host == "::" and socket.has_dualstack_ipv6(),
        )
        self._server = Listener(self._guard, sock)
