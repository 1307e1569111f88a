"""Read-only ICS feeds per coach and per client at unguessable URLs (RFC 7986), for
Outlook and Apple calendar subscriptions. A wrong token or id gets a plain 404."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from aiohttp import web

from calbridge.book import feeds
from calbridge.config.schema import Settings
from calbridge.config.secret import load_secret
from calbridge.core.tokens import feed_token, feed_token_ok
from calbridge.errors import NotFound
from calbridge.web.app import Installer
from calbridge.web.offers import BookSource, book_of

ROUTE = "/feed/{kind:coach|client}/{ident}/{token}.ics"


def feed_url(settings: Settings, secret: bytes, kind: str, ident: str) -> str:
    token = feed_token(secret, kind, ident)
    base = settings.http.public_url.rstrip("/")
    return f"{base}/feed/{kind}/{quote(ident, safe='')}/{token}.ics"


def feed_routes(book: BookSource, settings: Settings) -> Installer:
    """The route ``GET /feed/{coach|client}/{id}/{token}.ics``."""
    secret = load_secret(settings)

    async def serve(request: web.Request) -> web.Response:
        kind, ident = request.match_info["kind"], request.match_info["ident"]
        if not feed_token_ok(secret, kind, ident, request.match_info["token"]):
            raise web.HTTPNotFound(text="no such feed\n")
        source = feed_url(settings, secret, kind, ident)
        render = feeds.coach_feed if kind == "coach" else feeds.client_feed
        try:
            data = await asyncio.to_thread(render, book_of(book), ident, source)
        except NotFound:
            raise web.HTTPNotFound(text="no such feed\n") from None
        return web.Response(
            body=data,
            content_type="text/calendar",
            charset="utf-8",
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Disposition": f'inline; filename="{kind}-{quote(ident)}.ics"',
            },
        )

    def install(app: web.Application) -> None:
        app.router.add_get(ROUTE, serve)

    return install
