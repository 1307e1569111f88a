"""What the offer, feed and serve commands do."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import Any

from calbridge.book import Book
from calbridge.book.offers import expire_offers, make_offer
from calbridge.cli.handlers import Handler, Output
from calbridge.config.secret import load_secret
from calbridge.core.timeutil import parse_time
from calbridge.errors import UserError
from calbridge.store import repo
from calbridge.web.app import bound_port, make_app, split_listen, start
from calbridge.web.client_page import client_routes
from calbridge.web.feeds import feed_routes, feed_url
from calbridge.web.offers import offer_routes
from calbridge.web.sms import sms_routes

log = logging.getLogger(__name__)
#: How often `calbridge serve` releases due holds by itself.
EXPIRE_EVERY = 60.0


def session_offer(book: Book, a: argparse.Namespace) -> Output:
    with book.transaction() as db:
        zone = book.zone(repo.session_row(db, a.id).coach_id)
    times = [parse_time(t, zone, "--at") for t in a.at]
    made = make_offer(book, a.id, times, a.hold_hours, a.override_availability)
    data: dict[str, Any] = {
        "offer": made.offer_id,
        "session": made.session_id,
        "state": made.state,
        "deadline": made.deadline.astimezone(zone).isoformat(),
        "holds": made.holds,
        "links": made.links,
        "message_id": made.message_id,
    }
    lines = [
        f"offer #{made.offer_id} for session {made.session_id}, held until {data['deadline']}:"
    ]
    lines += [f"  {h['choice']}. {h['start']} - {h['end'][11:16]}" for h in made.holds]
    lines.append("the client's email is queued")
    return Output(data, "\n".join(lines))


def offer_expire(book: Book, a: argparse.Namespace) -> Output:
    released = expire_offers(book, dry_run=a.dry_run)
    verb = "would release" if a.dry_run else "released"
    return Output({"released": released, "dry_run": a.dry_run}, f"{verb} {released} hold(s)")


def feed_url_cmd(book: Book, a: argparse.Namespace) -> Output:
    kind, ident = ("coach", a.coach) if a.coach else ("client", a.client)
    if kind == "coach":
        book.coach(ident)
    else:
        with book.transaction() as db:
            repo.client(db, ident)
    url = feed_url(book.settings, load_secret(book.settings), kind, ident)
    return Output({"kind": kind, "id": ident, "url": url}, url)


def serve(book: Book, a: argparse.Namespace) -> Output:
    listen = a.listen or book.settings.http.listen
    try:
        split_listen(listen)
    except ValueError:
        raise UserError(f"--listen {listen!r} is not HOST:PORT") from None
    asyncio.run(_serve(book, listen))
    return Output({}, "")


async def _serve(book: Book, listen: str) -> None:
    app = make_app(
        [
            offer_routes(book, book.settings),
            feed_routes(book, book.settings),
            sms_routes(book, book.settings),
            client_routes(book, book.settings),
        ],
        book.settings.http,
    )
    runner = await start(app, listen)
    host = split_listen(listen)[0]
    print(f"serving offer links and feeds on http://{host}:{bound_port(runner)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            released = await asyncio.to_thread(expire_offers, book)
            if released:
                log.info("released %d hold(s) of expired offers", released)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), EXPIRE_EVERY)
    finally:
        await runner.cleanup()


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("session", "offer"): session_offer,
    ("offer", "expire"): offer_expire,
    ("feed", "url"): feed_url_cmd,
    ("serve", None): serve,
}
