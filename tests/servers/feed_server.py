"""An ICS feed on loopback (like an Outlook published calendar): ETag, 304, outages."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from servers.threaded import serving


class FeedServer(BaseHTTPRequestHandler):
    """An Outlook-like published calendar on loopback: ETag, 304, and outages on demand."""

    body: ClassVar[bytes] = b""
    status: ClassVar[int] = 200
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        FeedServer.hits.append(self.headers.get("If-None-Match") or "")
        etag = f'"{hash(FeedServer.body) & 0xFFFF:x}"'
        if FeedServer.status != 200:
            self.send_response(FeedServer.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(FeedServer.body)))
            self.end_headers()
            self.wfile.write(FeedServer.body)

    def log_message(self, *args: Any) -> None:
        pass


def serve_feed(body: bytes, path: str = "/owa/calendar/abc/calendar.ics") -> Iterator[str]:
    """Serve ``body`` until the generator is closed; yields the feed's URL."""
    FeedServer.body, FeedServer.status, FeedServer.hits = body, 200, []
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), FeedServer)) as server:
        yield f"http://127.0.0.1:{server.server_port}{path}"
