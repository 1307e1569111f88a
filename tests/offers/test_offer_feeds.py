"""Read-only ICS feeds over real HTTP, parsed with icalendar (RFC 7986)."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from book_helpers import plan, plan_one
from calbridge.book import Book, closures
from calbridge.config.secret import load_secret
from calbridge.core.timeutil import parse_date
from calbridge.web.feeds import feed_url
from offers.conftest import Served
from offers.helpers import http, offer


def feed(book: Book, kind: str, ident: str) -> Calendar:
    url = feed_url(book.settings, load_secret(book.settings), kind, ident)
    status, body, headers = http(url)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(body)


def test_coach_feed_names_refreshes_and_lists_sessions_holds_and_closures(
    book: Book, served: Served
) -> None:
    s = plan_one(book, "2026-12-01T10:00", note="Bring the workbook", private_note="SECRET")
    plan(book, "2026-12-07T15:00", coach="sam", clients=("ben",))
    offer(book, s.id or 0, "2026-12-02T10:00")
    closures.add_closure(
        book,
        parse_date("2026-12-24"),
        parse_date("2026-12-26"),
        "Holidays",
        None,
        closures.ClosureMode.CANCEL_ONLY,
    )
    cal = feed(book, "coach", "maia")
    assert str(cal["NAME"]) == "Maia Jones: sessions"
    assert cal["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(cal["SOURCE"]).startswith(served.base + "/feed/coach/maia/")
    assert "METHOD" not in cal
    kinds = sorted(str(e["X-CALBRIDGE-KIND"]) for e in cal.walk("VEVENT"))
    assert kinds == ["client", "closure", "hold"]  # Sam's session is not Maia's
    assert {str(t["TZID"]) for t in cal.walk("VTIMEZONE")} == {"Europe/London"}
    assert not cal.get_missing_tzids()
    raw = cal.to_ical().decode()
    assert "Bring the workbook" in raw and "SECRET" not in raw


def test_client_feed_holds_only_the_clients_sessions(book: Book, served: Served) -> None:
    plan_one(book, "2026-12-01T10:00")
    plan(book, "2026-12-02T15:00", coach="sam", clients=("ana",))
    plan(book, "2026-12-03T10:00", clients=("ben",))
    cal = feed(book, "client", "ana")
    assert str(cal["NAME"]) == "Ana Lopez: sessions"
    summaries = sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT"))
    assert summaries == ["Session: Ana Lopez", "Session: Ana Lopez"]
    tzids = {str(t["TZID"]) for t in cal.walk("VTIMEZONE")}
    assert tzids == {"Europe/London", "America/New_York"}


def test_wrong_token_or_id_gets_404(book: Book, served: Served) -> None:
    secret = load_secret(book.settings)
    good = feed_url(book.settings, secret, "coach", "maia")
    assert http(good)[0] == 200
    wrong = good[:-8] + ("A" if good[-8] != "A" else "B") + good[-7:]
    assert http(wrong)[0] == 404
    assert http(good.replace("/coach/maia/", "/coach/sam/"))[0] == 404  # another's token
    assert http(good.replace("/coach/", "/client/"))[0] == 404
    assert http(feed_url(book.settings, secret, "coach", "nobody"))[0] == 404  # signed, unknown
    assert http(feed_url(book.settings, secret, "client", "nobody"))[0] == 404
