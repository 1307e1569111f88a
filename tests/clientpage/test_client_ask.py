"""Another time asked for on the client page and left for the coach (``[policies]
page_move = "coach"``, here set per service), on SQLite and PostgreSQL: stored and shown as
asked-for, the coach and the practice mailed, answered with `calbridge counter
accept|decline` (checked again then: limit, availability, policies), the client told by
mail and on the page. Self-booking confirmed at once (``page_booking = "accept"``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from book_helpers import at, plan_one, snapshot
from calbridge.book import Book, client_booking, client_moves, parties, views
from calbridge.book import client_page as cp
from calbridge.book.offer_answers import LinkError
from calbridge.config.secret import load_secret
from calbridge.core.model import Status
from calbridge.core.tokens import sign_client
from calbridge.errors import UserError
from calbridge.inbound import counter
from calbridge.store.tables import OutboxRow

from .conftest import self_booking_book

COACHING = {"fee": "60.00", "wage": "30.00", "policies": {"page_move": "coach"}}
SUPPORT = {"fee": "50.00", "wage": "25.00", "policies": {"buffer_before_minutes": 30}}
SERVICES = {"coaching": COACHING, "support": SUPPORT}


@pytest.fixture
def book(make_book: Callable[..., Book], tmp_path: Path) -> Book:
    """Sessions without a service are coaching ones (page_move = "coach"); support
    keeps the [policies] default (accept) and has a 30-minute buffer before."""
    b = make_book(
        state_dir=str(tmp_path / "state"),
        mail={"from": "sessions@practice.example"},
        services=SERVICES,
        outcomes={"default_service": "coaching"},
        programs={"standard": {"monthly_limit": 2, "self_booking": True}},
    )
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(b, "Ben Ng", "ben@example.org", "standard", "ben")
    return b


def _ana(book: Book) -> cp.Visitor:
    return cp.visitor(
        book, load_secret(book.settings), "ana", sign_client(load_secret(book.settings), "ana", 1)
    )


def _mails(book: Book, kind: str) -> list[tuple[str, EmailMessage]]:
    with book.transaction() as db:
        rows = db.scalars(select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id))
        found = [(r.recipient, r.raw) for r in rows]
    return [(to, message_from_bytes(raw, policy=policy.default)) for to, raw in found]  # type: ignore[misc]


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _start(book: Book, session_id: int) -> Any:
    return views.show(book, session_id)["start"]


def test_asked_for_then_accepted_by_the_admin(book: Book) -> None:
    v = _ana(book)
    session = plan_one(book, "2026-12-01T10:00")
    asked = client_moves.move(book, v, session.id or 0, at("2026-12-01T14:00"))
    assert isinstance(asked, client_moves.Asked)
    shown = views.show(book, session.id or 0)
    assert (shown["start"], shown["status"]) == ("2026-12-01T10:00:00+00:00", "requested")
    (waiting,) = counter.listing(book)
    assert (waiting["from"], waiting["client"], waiting["session"]) == ("page", "ana", session.id)
    assert waiting["start"] == at("2026-12-01T14:00").isoformat()

    told = dict(_mails(book, "counter"))
    assert sorted(told) == ["maia@practice.example", "sessions@practice.example"]
    for message in told.values():
        assert str(message["Subject"]).startswith("Ana Lopez asks for another time")
        assert "Tuesday 1 December 2026, 14:00" in _text(message)
        assert f"calbridge counter accept {waiting['id']}" in _text(message)

    (item,) = cp.upcoming(book, v)
    assert item.asking and "waiting for your coach's answer" in item.request_note
    assert "Tuesday 1 December 2026, 14:00" in item.request_note
    before = snapshot(book)
    with pytest.raises(LinkError) as again:
        client_moves.move(book, v, session.id or 0, at("2026-12-01T15:00"))
    assert again.value.status == 409 and "already asked" in again.value.title
    assert snapshot(book) == before

    done = counter.accept(book, waiting["id"])
    assert done["state"] == "accepted"
    shown = views.show(book, session.id or 0)
    assert (shown["start"], shown["status"]) == ("2026-12-01T14:00:00+00:00", "scheduled")
    ((to, update),) = _mails(book, "update")
    assert to == "ana@example.org" and "as agreed with you" in _text(update)
    (item,) = cp.upcoming(book, v)
    assert not item.asking and item.request_note == "Moved to this time as you asked."
    assert counter.listing(book) == []


def test_asked_for_then_declined_tells_the_client(book: Book) -> None:
    v = _ana(book)
    session = plan_one(book, "2026-12-01T10:00")
    client_moves.move(book, v, session.id or 0, at("2026-12-02T11:00"))
    (waiting,) = counter.listing(book)
    counter.decline(book, waiting["id"], "Maia is at a training that day")
    assert _start(book, session.id or 0) == "2026-12-01T10:00:00+00:00"
    ((to, told),) = _mails(book, "page-move-declined")
    assert to == "ana@example.org"
    text = _text(told)
    assert "Wednesday 2 December 2026, 11:00" in text and "Maia is at a training" in text
    assert not any(p.get_content_type() == "text/calendar" for p in told.walk())
    (item,) = cp.upcoming(book, v)
    assert not item.asking
    assert item.request_note == (
        "Your coach could not move it to Wednesday 2 December 2026, 11:00\u201312:00"
        " (Europe/London time, your coach's timezone): Maia is at a training that day."
    )
    # The client may ask again, and the admin's answer is given once only.
    assert isinstance(
        client_moves.move(book, v, session.id or 0, at("2026-12-03T11:00")), client_moves.Asked
    )
    with pytest.raises(UserError, match="already declined"):
        counter.decline(book, waiting["id"])


def test_the_asked_time_is_checked_again_at_answer_time(book: Book) -> None:
    v = _ana(book)
    session = plan_one(book, "2026-12-01T10:00")
    client_moves.move(book, v, session.id or 0, at("2026-12-01T14:00"))
    client_moves.move(book, v, plan_one(book, "2026-12-08T10:00").id or 0, at("2027-01-07T10:00"))
    by_session = {c["session"]: c["id"] for c in counter.listing(book)}
    # Meanwhile a support session (30 minutes' buffer before) is planned at 15:00, and
    # January fills up.
    plan_one(book, "2026-12-01T15:00", clients=("ben",), service="support")
    plan_one(book, "2027-01-05T10:00")
    plan_one(book, "2027-01-06T10:00")
    before = snapshot(book)
    with pytest.raises(UserError) as busy:
        counter.accept(book, by_session[session.id])
    assert "[services.support.policies] buffer_before_minutes = 30" in str(busy.value)
    assert "calbridge counter decline" in str(busy.value)
    with pytest.raises(UserError) as full:
        counter.accept(book, by_session[max(by_session)])
    assert "2027-01" in str(full.value)
    assert snapshot(book) == before
    assert [c["state"] for c in counter.listing(book)] == ["open", "open"]


def test_a_service_keeping_the_default_moves_at_once(book: Book) -> None:
    v = _ana(book)
    session = plan_one(book, "2026-12-01T10:00", service="support")
    moved = client_moves.move(book, v, session.id or 0, at("2026-12-02T14:00"))
    assert not isinstance(moved, client_moves.Asked)
    assert (moved.start, moved.status) == (at("2026-12-02T14:00"), Status.SCHEDULED)
    assert counter.listing(book, every=True) == []


def test_self_booking_confirmed_at_once_by_policy(
    make_book: Callable[..., Book], tmp_path: Path
) -> None:
    b = self_booking_book(make_book, tmp_path, policies={"page_booking": "accept"})
    v = _ana(b)
    _, slots, _ = client_booking.times(b, v, "maia", "2026-12", None)
    made = client_booking.book_session(b, v, "maia", slots[0][0])
    assert made.status is Status.SCHEDULED
    assert [p.partstat for p in made.participants] == ["ACCEPTED"]
    invitations = [m for to, m in _mails(b, "request") if to == "ana@example.org"]
    assert str(invitations[-1]["Subject"]).startswith("Confirmed:")
    assert "is confirmed" in _text(invitations[-1])


def test_self_booking_is_left_for_the_coach_by_default(book: Book) -> None:
    plan_one(book, "2026-11-23T10:00")
    v = _ana(book)
    _, slots, _ = client_booking.times(book, v, "maia", "2026-12", None)
    made = client_booking.book_session(book, v, "maia", slots[0][0])
    assert (made.status, made.awaiting.value if made.awaiting else None) == (
        Status.REQUESTED,
        "practice",
    )


def _form(html: str) -> str:
    found = re.search(r'name="form" value="([^"]+)"', html)
    assert found, html
    return found[1]


def test_ask_and_answer_through_the_page(book: Book, base: str, token: str) -> None:
    session = plan_one(book, "2026-12-01T10:00").id or 0
    page = f"{base}/client/ana/{token}"
    form = _form(requests.get(page, timeout=10).text)
    times = requests.post(f"{page}/move", data={"form": form, "session": str(session)}, timeout=10)
    starts = re.findall(r'name="start" value="([^"]+)"', times.text)
    asked = requests.post(
        f"{page}/move", data={"form": form, "session": str(session), "start": starts[1]}, timeout=10
    )
    assert asked.status_code == 200 and "Time asked for" in asked.text
    assert "Your coach will answer by email" in asked.text
    listed = requests.get(page, timeout=10).text
    box = listed.split(f'id="s{session}"', 1)[1]
    assert "waiting for your coach&#x27;s answer" in box and ">Another time<" not in box
    assert ">Cancel<" in box
    again = requests.post(
        f"{page}/move", data={"form": form, "session": str(session), "start": starts[2]}, timeout=10
    )
    assert again.status_code == 409 and "already asked" in again.text
    (waiting,) = counter.listing(book)
    counter.accept(book, waiting["id"])
    listed = requests.get(page, timeout=10).text
    assert "Moved to this time as you asked" in listed


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the book is tested on both
def test_asked_for_on_a_phone(book: Book, base: str, token: str, browser: object) -> None:
    from selenium.webdriver.common.by import By

    from browser_helpers import Phone

    first = plan_one(book, "2026-12-08T10:00").id or 0
    second = plan_one(book, "2026-12-09T10:00").id or 0
    phone = Phone(browser, "ask")
    browser.get(f"{base}/client/ana/{token}")  # type: ignore[attr-defined]
    phone.page("sessions", "Your sessions")
    for n, (session, name) in enumerate(((first, "asked"), (second, "asked-second"))):
        phone.click("Another time", session)
        phone.page(f"times-{name}", "Ask for another time")
        slot = browser.find_elements(By.CSS_SELECTOR, ".slots button")[n]  # type: ignore[attr-defined]
        label = slot.text
        phone.follow(slot)
        text = phone.page(name, "Time asked for")
        assert label.split(",")[0] in text and "Your coach will answer by email" in text
        phone.back()
    text = phone.page("sessions-asking", "Your sessions")
    assert text.count("waiting for your coach's answer") == 2
    assert not browser.find_elements(  # type: ignore[attr-defined]
        By.XPATH, f"//div[@id='s{first}']//button[normalize-space()='Another time']"
    )
    accepted, declined = (c["id"] for c in counter.listing(book))
    counter.accept(book, accepted)
    counter.decline(book, declined, "Maia is away that week")
    browser.refresh()  # type: ignore[attr-defined]
    text = phone.page("sessions-answered", "Your sessions")
    assert "Moved to this time as you asked" in text and "Maia is away that week" in text
    phone.click("Another time", second)  # after a refusal the client may ask again
    phone.page("times-again", "Ask for another time")


def test_counter_commands_answer_page_requests(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from calbridge.config.load import load_config
    from cli_helpers import cli, write_config
    from conftest import base_config

    data = base_config(db_url)
    data |= {
        "mail": {"transport": "folder", "folder": str(tmp_path / "mail")},
        "state_dir": str(tmp_path / "state"),
        "policies": {"page_move": "coach"},
    }
    config = write_config(tmp_path / "config.toml", data)
    add = ["client", "add", "--name", "Ana Lopez", "--email", "ana@example.org"]
    assert cli(capsys, config, *add, "--program", "standard", "--id", "ana")[0] == 0
    # The CLI runs on the real clock, and the page moves within the next 12 months.
    later = date.today() + timedelta(days=30)
    monday = later + timedelta(days=(7 - later.weekday()) % 7)
    day = [(monday + timedelta(days=n)).isoformat() for n in range(4)]
    plan = ["session", "plan", "--coach", "maia", "--client", "ana", "--json"]
    sessions = [cli(capsys, config, *plan, "--start", f"{d}T10:00")[1] for d in day[:2]]
    b = Book.open(load_config(config), origin="test")
    try:
        v = _ana(b)
        for s, d in zip(sessions, day[2:], strict=True):
            asked = client_moves.move(b, v, s["id"], at(f"{d}T14:00"))
            assert isinstance(asked, client_moves.Asked)
    finally:
        b.engine.dispose()
    code, listed, _ = cli(capsys, config, "counter", "list")
    assert code == 0 and listed.count(" page ") == 2, listed
    code, waiting, _ = cli(capsys, config, "counter", "list", "--json")
    first, second = (w["id"] for w in waiting)
    code, out, err = cli(capsys, config, "counter", "accept", str(first))
    assert code == 0 and "moved" in out, err
    code, out, err = cli(capsys, config, "counter", "decline", str(second), "--reason", "full")
    assert code == 0 and "by mail and on their page" in out, err
    code, _, err = cli(capsys, config, "counter", "decline", str(second))
    assert code == 2 and "already declined" in err and "Traceback" not in err
    code, shown, _ = cli(capsys, config, "session", "show", str(sessions[0]["id"]), "--json")
    assert shown["start"].startswith(f"{day[2]}T14:00")


def test_a_cancelled_session_withdraws_its_open_request(book: Book) -> None:
    from calbridge.book import planning
    from calbridge.core.model import Actor

    v = _ana(book)
    cancelled = plan_one(book, "2026-12-01T10:00").id or 0
    declined = plan_one(book, "2026-12-02T10:00").id or 0
    for session, start in ((cancelled, "2026-12-03T14:00"), (declined, "2026-12-04T14:00")):
        client_moves.move(book, v, session, at(start))
    planning.cancel(book, cancelled, Actor.ADMIN)
    planning.answer(book, declined, Actor.CLIENT, False, "ana")
    assert counter.listing(book) == []
    assert {(c["session"], c["state"], c["reason"]) for c in counter.listing(book, True)} == {
        (cancelled, "withdrawn", "the session was cancelled"),
        (declined, "withdrawn", "the session was declined"),
    }
    with pytest.raises(UserError, match="already withdrawn"):
        counter.accept(book, counter.listing(book, True)[0]["id"])
