"""A loopback HTTP forwarder that counts requests and bytes, optionally a round trip away.

Sits between a client and a CalDAV server (127.0.0.1 only). Each connection gets two
threads: client -> server reads HTTP/1.x request framing (head, then Content-Length or
chunked body) so every request is counted; server -> client is copied as it comes. With
``latency_ms`` every request waits that long before it is passed on, and so does every new
connection (its handshake): the cost of a server that far away, for any client alike.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Counts:
    requests: int = 0
    connections: int = 0
    sent: int = 0  # bytes client -> server
    received: int = 0  # bytes server -> client
    methods: dict[str, int] = field(default_factory=dict)

    def __sub__(self, other: Counts) -> Counts:
        methods = {m: n - other.methods.get(m, 0) for m, n in self.methods.items()}
        return Counts(
            self.requests - other.requests,
            self.connections - other.connections,
            self.sent - other.sent,
            self.received - other.received,
            {m: n for m, n in methods.items() if n},
        )

    @property
    def kilobytes(self) -> float:
        return (self.sent + self.received) / 1000


class _Reader:
    """Buffered reads from a socket, for the request direction's framing."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def line_block(self, end: bytes) -> bytes | None:
        while (at := self.buf.find(end)) < 0:
            if not self.fill():
                return None
        at += len(end)
        out, self.buf = self.buf[:at], self.buf[at:]
        return out

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self.fill():
                raise ConnectionError("body cut short")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class Forwarder:
    def __init__(self, host: str, port: int, latency_ms: float = 0.0) -> None:
        self.target = (host, port)
        self.delay = latency_ms / 1000
        self._lock = threading.Lock()
        self._counts = Counts()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, server_url: str) -> str:
        """``server_url`` (on the target's port) as seen through the forwarder."""
        return server_url.replace(f":{self.target[1]}/", f":{self.port}/", 1)

    def counts(self) -> Counts:
        with self._lock:
            return self._counts

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _add(self, method: str = "", **delta: int) -> None:
        with self._lock:
            c = self._counts
            methods = dict(c.methods)
            if method:
                methods[method] = methods.get(method, 0) + 1
            self._counts = Counts(
                c.requests + delta.get("requests", 0),
                c.connections + delta.get("connections", 0),
                c.sent + delta.get("sent", 0),
                c.received + delta.get("received", 0),
                methods,
            )

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.delay:
            time.sleep(self.delay)  # the handshake's round trip
        try:
            upstream = socket.create_connection(self.target, timeout=120)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._add(connections=1)
        threading.Thread(target=self._answers, args=(upstream, client), daemon=True).start()
        self._requests(client, upstream)

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        reader = _Reader(client)
        try:
            while (head := reader.line_block(b"\r\n\r\n")) is not None:
                body = self._body(reader, head)
                if self.delay:
                    time.sleep(self.delay)
                method = head.split(b" ", 1)[0].decode("ascii", "replace")
                self._add(method, requests=1, sent=len(head) + len(body))
                upstream.sendall(head + body)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

    @staticmethod
    def _body(reader: _Reader, head: bytes) -> bytes:
        fields = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            out = b""
            while True:
                size_line = reader.line_block(b"\r\n")
                if size_line is None:
                    raise ConnectionError("chunked body cut short")
                size = int(size_line.split(b";")[0], 16)
                out += size_line + reader.exactly(size + 2)
                if size == 0:
                    return out
        return reader.exactly(int(fields.get(b"content-length", b"0")))

    def _answers(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            while data := upstream.recv(65536):
                self._add(received=len(data))
                client.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
