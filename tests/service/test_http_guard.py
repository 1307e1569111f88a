"""The daemon's HTTP server facing slow and abusive clients: header and body timeouts,
caps on connections, one log line per condition, at the 1,024 open files systemd gives."""

from __future__ import annotations

import json
import resource
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from calbridge.config.load import load_config
from calbridge.config.secret import load_secret
from calbridge.web.feeds import feed_url
from service.conftest import coach, daemon_config
from service.helpers import DaemonProcess, daemon, metric
from service.slow_clients import SlowClients, slowly


def sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'book.db'}"


def config(tmp_path: Path, write: Callable[..., Path], **http: object) -> Path:
    (tmp_path / "calendars").mkdir()
    maia = coach("maia", {"url": str(tmp_path / "calendars" / "maia")})
    data = daemon_config(tmp_path, sqlite(tmp_path), [maia], interval=60.0)
    data["http"].update(http)
    return write(data)


def nofile_1024() -> None:
    """In the daemon's child: the open-file limit systemd gives a unit by default."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def timed_get(d: DaemonProcess, path: str) -> tuple[int, float]:
    start = time.monotonic()
    status, _ = d.get(path)
    return status, time.monotonic() - start


def stop(d: DaemonProcess) -> None:
    d.signal(signal.SIGTERM)
    assert d.wait(30) == 0


def http_lines(d: DaemonProcess) -> list[dict[str, object]]:
    return [e for e in d.events if str(e.get("event", "")).startswith(("http", "log"))]


def test_1100_slow_connections_at_1024_open_files_leave_healthz_and_a_feed_answering(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    path = config(tmp_path, write, header_timeout_seconds=4)
    with daemon(path, level="info", preexec_fn=nofile_1024) as d:
        port = d.port()
        settings = load_config(path)
        feed = urlsplit(feed_url(settings, load_secret(settings), "coach", "maia")).path
        assert d.get(feed)[0] == 200
        # 1,000 connections from 100 client addresses, 100 more from one address (over
        # its cap of 64): more than the open files allow.
        sources = [f"127.0.1.{i // 10 + 1}" for i in range(1000)] + ["127.0.2.1"] * 100
        with SlowClients(port, sources, tick=0.5) as swarm:
            time.sleep(3)  # the swarm has opened all its connections and holds them
            worst = 0.0
            end = time.monotonic() + 12
            while time.monotonic() < end:
                for page in ("/healthz", feed):
                    status, took = timed_get(d, page)
                    assert status == 200, page
                    worst = max(worst, took)
                time.sleep(0.2)
            held = swarm.alive()
        assert worst < 2.0, f"slowest answer under load: {worst:.2f} s"
        assert swarm.opened > 1100 and swarm.closed_by_server > 100, vars(swarm)
        assert held > 500  # the slow ones were really held open, not refused outright
        status, body = d.get("/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        stop(d)  # logs what the last window counted
    assert d.of("http.limited", condition="evicted")
    assert d.of("http.limited", condition="per_address")
    text = d.text()
    assert "Traceback" not in text and "Error handling request" not in text
    # One line per condition per 10 s window (at most 3 windows of 5 conditions),
    # against tens of thousands before.
    assert len(http_lines(d)) <= 20, [e.get("msg") for e in http_lines(d)]
    (limits,) = d.of("http.limits")  # the cap lowered to fit 1,024 open files, once
    assert limits["max_connections"] == 768


def test_headers_sent_slowly_past_the_timeout_get_the_connection_closed(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    path = config(tmp_path, write, header_timeout_seconds=1)
    with daemon(path, level="info") as d:
        port = d.port()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            request = b"GET /healthz HTTP/1.1\r\nHost: calbridge\r\nX-Slow: " + b"a" * 40
            closed_after = slowly(sock, request, every=0.1, within=4)
        assert closed_after is not None and 0.9 < closed_after < 3.0, closed_after
        # An idle connection (no byte at all) is closed too; a quick request still answers.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            assert slowly(sock, b"", every=0.1, within=3) is not None
        # After a response, the next request's headers are due within the timeout too.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: calbridge\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            closed_after = slowly(sock, request, every=0.1, within=4)
        assert closed_after is not None and 0.9 < closed_after < 3.0, closed_after
        assert d.get("/healthz")[0] == 200
        stop(d)
    (line,) = d.of("http.limited", condition="header_timeout")
    assert line["count"] == 3 and "within 1 s" in str(line["msg"])


def test_a_body_over_the_maximum_gets_413_and_a_slow_body_408(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    path = config(tmp_path, write, max_body_bytes=4096, body_timeout_seconds=1)
    with daemon(path, level="info") as d:
        port = d.port()
        big = b"Body=" + b"x" * 8192
        head = b"POST /sms/inbound HTTP/1.1\r\nHost: calbridge\r\n"
        form = b"Content-Type: application/x-www-form-urlencoded\r\n"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(head + form + b"Content-Length: %d\r\n\r\n" % len(big) + big)
            assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")
        # Chunked, so the size is only known while reading.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            chunk = b"%x\r\n%s\r\n" % (len(big), big)
            sock.sendall(head + form + b"Transfer-Encoding: chunked\r\n\r\n" + chunk)
            assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(head + form + b"Content-Length: 100\r\n\r\nBody=")
            start = time.monotonic()
            assert sock.recv(4096).startswith(b"HTTP/1.1 408 ")
            assert time.monotonic() - start < 3
        status, text = d.get("/metrics")
        assert status == 200
        assert metric(text, "calbridge_http_limited_total", condition="too_large") == 2
        assert metric(text, "calbridge_http_limited_total", condition="body_timeout") == 1
        assert (metric(text, "calbridge_http_connections") or 0) >= 1  # this scrape's own
        stop(d)
    assert d.of("http.limited", condition="too_large")[0]["count"] == 2
    assert d.of("http.limited", condition="body_timeout")[0]["count"] == 1
    assert "Traceback" not in d.text()
