"""A stdlib HTTP server, or calbridge's aiohttp app, on loopback, served from a thread
for as long as a test needs it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from typing import Any, TypeVar

S = TypeVar("S", bound=HTTPServer)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """Serve ``server`` from a daemon thread; at the end shut it down, close it and wait
    for the thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def serving_app(installers: list[Any]) -> Iterator[str]:
    """calbridge's aiohttp app (the real composer) on a free loopback port, in a thread
    with its own event loop; yields its base URL."""
    from calbridge.web.app import bound_port, make_app, start

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def up() -> None:
        box["runner"] = runner = await start(make_app(installers), "127.0.0.1:0")
        box["port"] = bound_port(runner)
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(up())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the HTTP server did not start"
    try:
        yield f"http://127.0.0.1:{box['port']}"
    finally:
        asyncio.run_coroutine_threadsafe(box["runner"].cleanup(), loop).result(10)
        # Let the closed connections' callbacks run before the loop stops.
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.1), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
