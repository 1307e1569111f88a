"""The HTTP server's limits as numbers, its open-file budget, and its rate-limited log.

A server facing the internet meets slow and abusive clients all day; each condition
(connections refused over a cap, headers too slow, a body too big, accept() out of file
descriptors) is counted and logged as one line per ``WINDOW`` seconds, never per
connection and never with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass

from calbridge.config.schema import HttpSettings
from calbridge.logevents import event

log = logging.getLogger("calbridge.http")

#: Open files kept for everything but HTTP clients: the sync threads' sockets (up to 72),
#: the book's connections and files, SMTP, IMAP, logs, the listening socket.
RESERVE = 256
WINDOW = 10.0


@dataclass(frozen=True)
class Limits:
    header_timeout: float
    body_timeout: float
    max_body: int
    max_connections: int
    per_address: int
    open_files: int

    @classmethod
    def of(cls, http: HttpSettings) -> Limits:
        open_files = open_file_budget(http.max_connections + RESERVE)
        cap = max(1, min(http.max_connections, open_files - RESERVE))
        if cap < http.max_connections:
            event(
                log,
                logging.WARNING,
                "http.limits",
                max_connections=cap,
                configured=http.max_connections,
                open_files=open_files,
                msg=f"http: max_connections lowered from {http.max_connections:,} to {cap:,}:"
                f" the open-file limit is {open_files:,}; raise it (LimitNOFILE=) to at"
                f" least {http.max_connections + RESERVE:,}",
            )
        return cls(
            header_timeout=http.header_timeout_seconds,
            body_timeout=http.body_timeout_seconds,
            max_body=http.max_body_bytes,
            max_connections=cap,
            per_address=http.max_connections_per_address,
            open_files=open_files,
        )


def open_file_budget(wanted: int) -> int:
    """Raise this process's soft open-file limit towards ``wanted`` (no further than the
    hard limit, as systemd advises) and return the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        top = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
            soft = top
        except (ValueError, OSError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else int(soft)


def _texts(limits: Limits) -> dict[str, str]:
    return {
        "over_cap": f"connections refused over the cap of {limits.max_connections:,} in all",
        "evicted": "connections still sending their headers closed to make room under the"
        f" cap of {limits.max_connections:,}",
        "per_address": "connections refused over the cap of"
        f" {limits.per_address:,} per client address",
        "header_timeout": "connections closed that had not sent a request's headers"
        f" within {limits.header_timeout:g} s",
        "stalled": "connections closed whose client stopped reading the response for"
        f" {limits.header_timeout:g} s",
        "body_timeout": "requests answered 408: body not received within"
        f" {limits.body_timeout:g} s",
        "too_large": f"requests answered 413: body over {limits.max_body:,} bytes",
        "accept_failed": "accept() calls failed for lack of file descriptors"
        f" (limit {limits.open_files:,}); accepting pauses 1 s each time",
    }


class Reporter:
    """Counts conditions; the first one starts a window, at whose end one line per
    condition is logged: "http: 1,076 connections refused ... in the last 10 s"."""

    def __init__(self, limits: Limits, window: float = WINDOW) -> None:
        self.texts = _texts(limits)
        self.window = window
        self.counts: dict[str, int] = {}
        self.totals: dict[str, int] = {}
        self._since = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def count(self, condition: str) -> None:
        self.counts[condition] = self.counts.get(condition, 0) + 1
        self.totals[condition] = self.totals.get(condition, 0) + 1
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._since = loop.time()
            self._handle = loop.call_later(self.window, self.flush)

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        seconds = asyncio.get_running_loop().time() - self._since
        for condition, n in self.counts.items():
            event(
                log,
                logging.WARNING,
                "http.limited",
                condition=condition,
                count=n,
                seconds=round(seconds, 1),
                msg=f"http: {n:,} {self.texts[condition]} in the last {seconds:.0f} s",
            )
        self.counts.clear()
