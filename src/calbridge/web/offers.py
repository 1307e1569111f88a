"""The offer links' pages: GET shows what a link would do and a confirm button (mail
scanners such as Outlook Safe Links fetch every link, so a GET never acts); POST acts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from zoneinfo import ZoneInfo

from aiohttp import web

from calbridge.book.context import Book
from calbridge.book.offer_answers import LinkError, Proposal, act, look
from calbridge.config.schema import Settings
from calbridge.config.secret import load_secret
from calbridge.mail.offer_message import when
from calbridge.web.app import Installer
from calbridge.web.pages import page

BookSource = Book | Callable[[], Book]
ROUTE = "/offer/{token}"


def book_of(source: BookSource) -> Book:
    return source if isinstance(source, Book) else source()


def _time(proposal: Proposal) -> str:
    assert proposal.start is not None and proposal.end is not None
    return f"{when(proposal.start, proposal.end, ZoneInfo(proposal.zone))} ({proposal.zone} time)"


def _confirm(proposal: Proposal) -> web.Response:
    if proposal.start is None:
        return page(
            "Reject the offered times?",
            [f"None of the times {proposal.coach_name} offered will be kept for you."],
            form="Reject all offered times",
        )
    return page(
        "Confirm this time?",
        [f"Your session with {proposal.coach_name}:", _time(proposal)],
        form="Confirm this time",
    )


def _done(proposal: Proposal) -> web.Response:
    if proposal.start is None:
        return page(
            "Offer rejected",
            [f"The offered times were released. {proposal.coach_name} will be in touch."],
        )
    return page(
        "Time confirmed",
        [
            f"Your session with {proposal.coach_name} is now at {_time(proposal)}.",
            "An updated invitation is on its way to your inbox.",
        ],
    )


def _refused(error: LinkError) -> web.Response:
    return page(error.title, [error.message], status=error.status)


def offer_routes(book: BookSource, settings: Settings) -> Installer:
    """Routes for the offer links (``GET``/``POST /offer/{token}``)."""
    secret = load_secret(settings)

    async def show(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            found = await asyncio.to_thread(look, book_of(book), secret, token)
        except LinkError as error:
            return _refused(error)
        return _confirm(found)

    async def answer(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            done = await asyncio.to_thread(act, book_of(book), secret, token)
        except LinkError as error:
            return _refused(error)
        return _done(done)

    def install(app: web.Application) -> None:
        app.router.add_get(ROUTE, show)
        app.router.add_post(ROUTE, answer)

    return install
