"""The offer pages as a client meets them: the link from the offer mail opened in a
phone-sized headless Chromium, the confirm page, the button, the result page; the reject
link; a used and a forged link. A screenshot of each page goes to test-screenshots/."""

from __future__ import annotations

import pytest

from book_helpers import plan_one
from browser_helpers import Phone
from calbridge.book import Book

from .conftest import Served
from .helpers import offer, offer_state

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the book: both, elsewhere


@SQLITE
def test_a_client_confirms_an_offered_time_on_a_phone(
    book: Book, served: Served, browser: object
) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    made = offer(book, session.id or 0, "2026-12-02T10:00", "2026-12-03T14:00")
    phone = Phone(browser, "offer")
    browser.get(made.links["2"])  # type: ignore[attr-defined]
    text = phone.page("confirm", "Confirm this time?")
    assert "Maia" in text and "14:00" in text, text
    assert offer_state(book, made.offer_id) == "open"  # opening the link changes nothing
    phone.click("Confirm this time")
    text = phone.page("confirmed", "Time confirmed")
    assert "14:00" in text and "updated invitation" in text, text
    assert offer_state(book, made.offer_id) == "accepted"
    browser.get(made.links["1"])  # type: ignore[attr-defined]
    phone.page("used", "This link was already used")


@SQLITE
def test_a_client_rejects_every_offered_time_on_a_phone(
    book: Book, served: Served, browser: object
) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    made = offer(book, session.id or 0, "2026-12-02T10:00")
    phone = Phone(browser, "offer-reject")
    browser.get(made.links["reject"])  # type: ignore[attr-defined]
    phone.page("confirm", "Reject the offered times?")
    phone.click("Reject all offered times")
    phone.page("rejected", "Offer rejected")
    assert offer_state(book, made.offer_id) == "rejected"


@SQLITE
def test_a_forged_offer_link_gets_a_plain_page_on_a_phone(
    book: Book, served: Served, browser: object
) -> None:
    phone = Phone(browser, "offer-forged")
    browser.get(f"{served.base}/offer/not-a-real-token")  # type: ignore[attr-defined]
    text = phone.page("forged", "This link is not valid")
    assert "exactly as it came" in text, text
