"""Slowloris on loopback: connections that send a request's headers one line per tick and
never finish them. A connection the server closes is opened again on the next tick, so the
swarm keeps pressing for as long as it runs. Each address in ``sources`` is a loopback
address (127.0.0.0/8) the connections are bound to, so a server sees many clients."""

from __future__ import annotations

import errno
import resource
import socket
import threading
import time
from collections.abc import Sequence

_ALIVE = (errno.EAGAIN, errno.EINPROGRESS, errno.EALREADY)


def raise_open_files(wanted: int) -> None:
    """Let this (test) process hold ``wanted`` sockets, up to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        top = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))


class SlowClients:
    def __init__(self, port: int, sources: Sequence[str], tick: float = 0.5) -> None:
        self.port, self.sources, self.tick = port, list(sources), tick
        self.socks: list[socket.socket | None] = [None] * len(self.sources)
        self.sent = [0] * len(self.sources)
        self.opened = 0
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowClients:
        raise_open_files(len(self.sources) + 256)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self.socks:
            if sock is not None:
                sock.close()

    def alive(self) -> int:
        return sum(1 for s in self.socks if s is not None)

    def _open(self, index: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.bind((self.sources[index], 0))
        sock.connect_ex(("127.0.0.1", self.port))
        self.socks[index] = sock
        self.sent[index] = 0
        self.opened += 1

    def _poke(self, index: int, sock: socket.socket) -> bool:
        """Send one more header line; False when the server has closed the connection."""
        n = self.sent[index]
        line = b"GET /healthz HTTP/1.1\r\nHost: calbridge\r\n" if n == 0 else b"X-%d: 1\r\n" % n
        try:
            if sock.recv(4096) == b"":
                return False
        except OSError as exc:
            if exc.errno not in _ALIVE:
                return False
        try:
            sock.send(line)
        except OSError as exc:
            return exc.errno in _ALIVE
        self.sent[index] = n + 1
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            for index, sock in enumerate(self.socks):
                if sock is None:
                    self._open(index)
                elif not self._poke(index, sock):
                    sock.close()
                    self.socks[index] = None
                    self.closed_by_server += 1
            self._stop.wait(self.tick)


def slowly(sock: socket.socket, data: bytes, every: float, within: float) -> float | None:
    """Send ``data`` a byte per ``every`` seconds; the seconds after which the server closed
    the connection, or None if it was still open after ``within`` seconds."""
    start = time.monotonic()
    sock.settimeout(every)
    for byte in data:
        if time.monotonic() - start > within:
            return None
        try:
            sock.send(bytes([byte]))
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - start
    sock.settimeout(max(0.01, within - (time.monotonic() - start)))
    try:
        if sock.recv(4096) != b"":
            return None
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.monotonic() - start
