"""accept() out of file descriptors (EMFILE): the server pauses accepting, logs one
counted line, no traceback, and answers the waiting clients once descriptors are back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from calbridge.config.schema import HttpSettings
from calbridge.web.app import bound_port, make_app, start
from calbridge.web.guard import GUARD

CLIENTS = 20
# Waits for a line on stdin, then sends CLIENTS requests at once and prints each status.
CLIENT = """
import sys, threading, urllib.request
port = int(sys.argv[1]); n = int(sys.argv[2]); sys.stdin.readline()
out = []
def one():
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=30) as r:
        out.append(r.status)
threads = [threading.Thread(target=one) for _ in range(n)]
[t.start() for t in threads]; [t.join() for t in threads]
print(" ".join(map(str, out)))
"""


async def hello(_: web.Request) -> web.Response:
    return web.Response(text="hello\n")


@contextlib.contextmanager
def out_of_descriptors() -> Iterator[list[int]]:
    """Hold every descriptor this process may open (under a lowered soft limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    open_now = sum(1 for _ in Path("/proc/self/fd").iterdir())
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_now + 32, hard))
    held: list[int] = []
    try:
        while True:
            try:
                held.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        yield held
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_accept_out_of_descriptors_pauses_and_logs_one_line_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    def install(app: web.Application) -> None:
        app.router.add_get("/hello", hello)

    async def main() -> tuple[int, str]:
        app = make_app([install], HttpSettings())
        runner = await start(app, "127.0.0.1:0")
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT, str(bound_port(runner)), str(CLIENTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert client.stdin is not None
        try:
            with out_of_descriptors():
                client.stdin.write("go\n")
                client.stdin.flush()
                await asyncio.sleep(3.5)  # the clients connect; accept() fails meanwhile
                failed = app[GUARD].reporter.totals.get("accept_failed", 0)
            out, _ = await asyncio.to_thread(client.communicate, timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                client.kill()
            await runner.cleanup()  # logs the counted lines
        return failed, out

    failed, out = asyncio.run(main())
    assert out.split() == ["200"] * CLIENTS  # answered once descriptors were back
    # Paused a second after each failure: a handful of tries in 3.5 s, not a spin.
    assert 2 <= failed <= 6, failed
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    lines = [r for r in caplog.records if r.getMessage() == "http.limited"]
    assert len(lines) == 1
    fields = lines[0].__dict__["fields"]
    assert fields["condition"] == "accept_failed" and fields["count"] == failed
