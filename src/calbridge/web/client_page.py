"""A client's own page: ``GET /client/{id}/{token}`` lists their upcoming sessions;
``POST /client/{id}/{token}/{accept|decline|cancel|move}`` acts (book/client_page.py).

A GET never acts (mail scanners fetch links). A POST must carry the link's form token
(a hidden field) and, when the browser sends one, an Origin or Referer of our own:
anything else is refused before the book is touched. The access log is off
(web.app.start), so no link is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import quote, urlsplit

from aiohttp import web

from calbridge.book import client_booking as booking
from calbridge.book import client_moves
from calbridge.book import client_page as cp
from calbridge.book.offer_answers import LinkError
from calbridge.config.schema import Settings
from calbridge.config.secret import load_secret
from calbridge.core.model import Status
from calbridge.core.timeutil import add_months
from calbridge.core.tokens import form_token_ok
from calbridge.mail.client_link import ROUTE
from calbridge.web import client_views as views
from calbridge.web.app import Installer
from calbridge.web.offers import BookSource, book_of

log = logging.getLogger(__name__)
ACTIONS = "accept|decline|cancel|move|book"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: web.Request, settings: Settings) -> bool:
    """The POST came from one of our pages: its Origin (or, lacking one, its Referer)
    is the public URL's or the request's own; a request with neither (no browser sends
    that) relies on the form token alone."""
    ours = {_origin(settings.http.public_url), f"{request.scheme}://{request.host}".lower()}
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.lower() in ours
    referer = request.headers.get("Referer")
    return referer is None or _origin(referer) in ours


def _int(form: dict[str, str], name: str) -> int:
    value = form.get(name, "")
    if not value.isdigit() or len(value) > 12:
        raise LinkError(400, "Something is missing", "Please use the buttons on the page.")
    return int(value)


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise LinkError(400, "Something is missing", "Please use the buttons on the page.")
    return found


def client_routes(book: BookSource, settings: Settings) -> Installer:
    """The client page's routes (GET the list, POST the actions)."""
    secret = load_secret(settings)

    def base_of(v: cp.Visitor, token: str) -> str:
        return f"/client/{quote(v.client_id, safe='')}/{token}"

    async def who(request: web.Request) -> tuple[cp.Visitor, str]:
        ident, token = request.match_info["ident"], request.match_info["token"]
        v = await asyncio.to_thread(cp.visitor, book_of(book), secret, ident, token)
        return v, base_of(v, token)

    async def show(request: web.Request) -> web.Response:
        try:
            v, base = await who(request)
            items = await asyncio.to_thread(cp.upcoming, book_of(book), v)
            coaches = await asyncio.to_thread(booking.coaches, book_of(book), v)
        except LinkError as error:
            return _refusal(error)
        return views.sessions(v, base, items, coaches)

    def guarded(
        act: Callable[[cp.Visitor, str, dict[str, str]], Awaitable[web.Response]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            if not same_origin(request, settings):
                log.warning("client page: refused a POST from another origin")
                return _refusal(LinkError(403, "Refused", "This form came from another site."))
            try:
                v, base = await who(request)
                form = {k: str(val) for k, val in (await request.post()).items()}
                if not form_token_ok(secret, v.client_id, v.version, form.get("form", "")):
                    log.warning("client page: refused a POST without its form token")
                    raise LinkError(
                        403, "Refused", "Please open your sessions page again and retry."
                    )
                return await act(v, base, form)
            except LinkError as error:
                return _refusal(error)

        return handle

    async def answer(v: cp.Visitor, base: str, form: dict[str, str], accept: bool) -> web.Response:
        session_id = _int(form, "session")
        await asyncio.to_thread(cp.answer, book_of(book), v, session_id, accept)
        if accept:
            return views.done(base, "Session accepted", ["Thank you: your coach is told."])
        return views.done(base, "Session declined", ["Your coach is told you cannot come."])

    async def accept(v: cp.Visitor, base: str, form: dict[str, str]) -> web.Response:
        return await answer(v, base, form, True)

    async def decline(v: cp.Visitor, base: str, form: dict[str, str]) -> web.Response:
        return await answer(v, base, form, False)

    async def cancel(v: cp.Visitor, base: str, form: dict[str, str]) -> web.Response:
        session_id = _int(form, "session")
        agreed = form.get("confirm")
        if agreed not in (cp.PLAIN, cp.LATE):
            terms = await asyncio.to_thread(cp.cancel_terms, book_of(book), v, session_id)
            return views.cancel_confirm(v, base, terms)
        try:
            done = await asyncio.to_thread(cp.cancel, book_of(book), v, session_id, agreed)
        except cp.Changed as changed:
            return views.cancel_confirm(v, base, changed.terms, again=True)
        lines = [f"Your session on {done.item.when} is cancelled; your coach is told."]
        if done.kind == cp.LATE:
            lines.append(f"It is recorded as a late cancellation ({done.fee}).")
        return views.done(base, "Session cancelled", lines)

    async def move(v: cp.Visitor, base: str, form: dict[str, str]) -> web.Response:
        session_id = _int(form, "session")
        start = _time(form.get("start"))
        if start is not None:
            moved = await asyncio.to_thread(client_moves.move, book_of(book), v, session_id, start)
            when = cp.show_when(book_of(book), v, moved.coach_id, moved.start, moved.end)
            if isinstance(moved, client_moves.Asked):
                return views.done(
                    base,
                    "Time asked for",
                    [
                        f"You asked to move your session to {when}.",
                        "Your coach will answer by email; your sessions page shows your"
                        " request meanwhile.",
                    ],
                )
            return views.done(
                base,
                "Session moved",
                [f"Your session is now on {when}.", "An updated invitation is on its way."],
            )
        asked, after = form.get("month") or None, _time(form.get("after"))
        item, month, slots, more = await asyncio.to_thread(
            cp.free_times, book_of(book), v, session_id, asked, after
        )
        page = views.Times(
            "Ask for another time",
            f"Your session with {item.coach} is on {item.when}.",
            "move",
            {"session": str(session_id)},
            month,
            cp.zone_words(book_of(book), v, item.coach_id),
            labels(v, item.coach_id, slots),
            more,
            add_months(month, 1),
        )
        return views.times(v, base, page)

    def labels(
        v: cp.Visitor, coach_id: str, slots: list[tuple[datetime, datetime]]
    ) -> list[tuple[datetime, str]]:
        b = book_of(book)
        return [(s, cp.show_when(b, v, coach_id, s, e, named=False)) for s, e in slots]

    async def book_new(v: cp.Visitor, base: str, form: dict[str, str]) -> web.Response:
        coach_id, start = form.get("coach", ""), _time(form.get("start"))
        b = book_of(book)
        if start is not None:
            made = await asyncio.to_thread(booking.book_session, b, v, coach_id, start)
            when = cp.show_when(b, v, made.coach_id, made.start, made.end)
            if made.status is Status.SCHEDULED:  # [policies] page_booking = "accept"
                return views.done(
                    base,
                    "Session booked",
                    [f"Your session on {when} is confirmed.", "An invitation is on its way."],
                )
            return views.done(
                base,
                "Session requested",
                [f"You asked for a session on {when}.", "Your coach will confirm it by email."],
            )
        asked, after = form.get("month") or None, _time(form.get("after"))
        month, slots, more = await asyncio.to_thread(booking.times, b, v, coach_id, asked, after)
        page = views.Times(
            "Book a session",
            f"A new session with {b.coach(coach_id).name}.",
            "book",
            {"coach": coach_id},
            month,
            cp.zone_words(b, v, coach_id),
            labels(v, coach_id, slots),
            more,
            add_months(month, 1),
        )
        return views.times(v, base, page)

    actions = {
        "accept": accept,
        "decline": decline,
        "cancel": cancel,
        "move": move,
        "book": book_new,
    }

    async def post(request: web.Request) -> web.Response:
        return await guarded(actions[request.match_info["action"]])(request)

    def install(app: web.Application) -> None:
        app.router.add_get(ROUTE, show)
        app.router.add_post(ROUTE + "/{action:" + ACTIONS + "}", post)

    return install


def _refusal(error: LinkError) -> web.Response:
    return views.respond(error.title, views.para(error.message), error.status)
