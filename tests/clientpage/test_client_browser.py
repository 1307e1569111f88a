"""The client page in a phone-sized headless Chromium (Debian's, driven by selenium):
every page and action clicked through, no script needed, a screenshot of each page
saved to test-screenshots/ (ignored by git)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from book_helpers import at, plan_one
from browser_helpers import Phone, need_chromium
from calbridge.book import Book, client_links
from calbridge.store import repo

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the book is tested on both


def test_missing_chromium_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium chromium-driver"):
        need_chromium("/nonexistent/chromium", "/nonexistent/chromedriver")


def _status(book: Book, session_id: int) -> str:
    with book.transaction() as db:
        return repo.session_row(db, session_id).status


@SQLITE
def test_every_page_and_action_on_a_phone(
    book: Book, base: str, token: str, browser: object, clock: object
) -> None:
    late = plan_one(book, "2026-11-23T10:00", service="coaching").id or 0
    accept = plan_one(book, "2026-12-01T10:00").id or 0
    decline = plan_one(book, "2026-12-02T10:00").id or 0
    cancel = plan_one(book, "2027-01-05T10:00").id or 0  # December is full
    clock.now = at("2026-11-22T12:00")  # type: ignore[attr-defined]  # 22 h before "late"
    phone = Phone(browser, "flow")
    browser.get(f"{base}/client/ana/{token}")  # type: ignore[attr-defined]
    text = phone.page("sessions", "Your sessions")
    assert "Hello Ana Lopez" in text and "Monday 23 November 2026, 10:00" in text
    assert "Europe/London time, your coach's timezone" in text

    phone.click("Accept", accept)
    assert "your coach is told" in phone.page("accepted", "Session accepted")
    assert _status(book, accept) == "scheduled"
    phone.back()
    phone.click("Decline", decline)
    phone.page("declined", "Session declined")
    assert _status(book, decline) == "declined"
    phone.back()

    phone.click("Cancel", cancel)
    assert "free of charge" in phone.page("cancel-confirm", "Cancel this session?")
    assert _status(book, cancel) == "requested"  # the confirm page did nothing
    phone.click("Yes, cancel the session")
    phone.page("cancelled", "Session cancelled")
    assert _status(book, cancel) == "cancelled"
    phone.back()

    phone.click("Cancel", late)
    text = phone.page("late-cancel-confirm", "Late cancellation")
    assert "less than 24 hours" in text and "GBP 60.00" in text
    phone.click("Cancel and pay the late fee")
    assert "late cancellation (GBP 60.00)" in phone.page("late-cancelled", "Session cancelled")
    with book.transaction() as db:
        assert repo.session_row(db, late).outcome == "late-cancellation"
    phone.back()

    text = phone.page("sessions-after", "Your sessions")
    assert "1 December" in text and "2 December" not in text and "January" not in text


@SQLITE
def test_ask_for_another_time_on_a_phone(
    book: Book, base: str, token: str, browser: object
) -> None:
    session = plan_one(book, "2026-12-08T10:00").id or 0
    phone = Phone(browser, "move")
    browser.get(f"{base}/client/ana/{token}")  # type: ignore[attr-defined]
    phone.page("sessions", "Your sessions")
    phone.click("Another time", session)
    text = phone.page("times", "Ask for another time")
    assert "Free times in December 2026" in text
    assert "(Europe/London time, your coach's timezone); pick one" in text
    from selenium.webdriver.common.by import By

    first = browser.find_elements(By.CSS_SELECTOR, ".slots button")[0].text  # type: ignore[attr-defined]
    assert re.fullmatch(r"\w+day \d+ December 2026, \d\d:\d\d\u2013\d\d:\d\d", first)
    phone.click("Later times")
    later = phone.page("later-times", "Ask for another time")
    assert first not in later
    phone.click("Times in January 2027")
    assert "Free times in January 2027" in phone.page("next-month", "Ask for another time")
    phone.back()
    phone.click("Another time", session)
    phone.page("times-again", "Ask for another time")

    buttons = browser.find_elements(By.CSS_SELECTOR, ".slots button")  # type: ignore[attr-defined]
    label = buttons[1].text
    phone.follow(buttons[1])
    text = phone.page("moved", "Session moved")
    assert label.split(",")[0] in text
    with book.transaction() as db:
        row = repo.session_row(db, session)
    assert row.status == "scheduled" and row.start != at("2026-12-08T10:00")


@SQLITE
def test_refused_links_on_a_phone(book: Book, base: str, token: str, browser: object) -> None:
    phone = Phone(browser, "refused")
    browser.get(f"{base}/client/ana/{token}")  # type: ignore[attr-defined]
    assert "no upcoming sessions" in phone.page("empty", "Your sessions")
    client_links.revoke(book, "ana")
    browser.get(f"{base}/client/ana/{token}")  # type: ignore[attr-defined]
    assert "latest email" in phone.page("revoked", "This link no longer works")
    browser.get(f"{base}/client/ana/{token[:-3]}xyz")  # type: ignore[attr-defined]
    phone.page("forged", "This link is not valid")


@SQLITE
def test_book_a_session_on_a_phone(
    make_book: Callable[..., Book], tmp_path: Path, browser: object
) -> None:
    from calbridge.book import parties
    from calbridge.config.secret import load_secret
    from calbridge.core.tokens import sign_client
    from calbridge.web.client_page import client_routes
    from servers.threaded import serving_app

    programs = {"standard": {"monthly_limit": 2, "self_booking": True}}
    b = make_book(state_dir=str(tmp_path / "state"), programs=programs)
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    plan_one(b, "2026-12-01T10:00")
    with serving_app([client_routes(b, b.settings)]) as base:
        b.settings.http.public_url = base
        phone = Phone(browser, "book")
        key = load_secret(b.settings)
        browser.get(f"{base}/client/ana/{sign_client(key, 'ana', 1)}")  # type: ignore[attr-defined]
        phone.page("sessions", "Your sessions")
        phone.click("Book a session with Maia Jones")
        text = phone.page("times", "Book a session")
        assert "pick one to ask for it" in text
        from selenium.webdriver.common.by import By

        slot = browser.find_elements(By.CSS_SELECTOR, ".slots button")[0]  # type: ignore[attr-defined]
        label = slot.text
        phone.follow(slot)
        assert label in phone.page("requested", "Session requested")
        phone.back()
        assert label.split(",")[0] in phone.page("sessions-after", "Your sessions")
