"""Compose the HTTP application from independent parts and serve it.

Each part (offer links, feeds, health, metrics) is an *installer*: a function that adds
its routes to the application. The daemon decides which parts run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web

from calbridge.config.schema import HttpSettings
from calbridge.errors import UserError
from calbridge.web.guard import GUARD, Guard, guarded
from calbridge.web.listener import GuardedSite

Installer = Callable[[web.Application], None]


def make_app(installers: Iterable[Installer], http: HttpSettings | None = None) -> web.Application:
    """The application, its body limits and timeouts from ``http`` (``[http]``)."""
    http = http or HttpSettings()
    app = web.Application(client_max_size=http.max_body_bytes, middlewares=[guarded])
    app[GUARD] = guard = Guard(http)
    app.on_cleanup.append(guard.cleanup)
    for install in installers:
        install(app)
    return app


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


async def start(app: web.Application, listen: str) -> web.AppRunner:
    """Bind ``listen`` (host:port; port 0 picks a free one) and serve until cleanup, every
    connection through the guard (timeouts and caps of ``[http]``, see web.guard)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, port = split_listen(listen)
    site = GuardedSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        reason = exc.strerror or str(exc)
        raise UserError(f"http.listen: cannot listen on {listen}: {reason}") from None
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port actually bound (useful when ``listen`` asked for port 0)."""
    for address in runner.addresses:
        return int(address[1])
    raise RuntimeError("the HTTP server is not listening")
