"""A book whose texts go to the fake Twilio on loopback (tests/servers/twilio_fake.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from calbridge.book import Book, parties
from calbridge.mail.sender import SendReport, send_due
from calbridge.web.sms import sms_routes
from servers.threaded import serving_app
from servers.twilio_fake import SID, TOKEN, FakeTwilio, fake_twilio

ANA, DOC = "+447911123401", "+447911123402"


def sms_config(fake: FakeTwilio, token_file: str) -> dict[str, Any]:
    return {
        "transport": "twilio",
        "url": fake.url,
        "account_sid": SID,
        "token_file": token_file,
        "from": "+447911000000",
        "timeout": 5.0,
    }


def add_people(book: Book) -> None:
    """Ana by text only, Ben by mail only, the third party by both."""
    parties.add_client(book, "Ana Lopez", "ana@example.org", "standard", "ana", ANA, "sms")
    parties.add_client(book, "Ben Ng", "ben@example.org", "standard", "ben")
    parties.add_third_party(book, "Dr Third", "third@example.org", "doc", DOC, "both")


def send(book: Book, channel: str = "sms", owner: str = "test", **kw: Any) -> SendReport:
    return asyncio.run(send_due(book, owner=owner, channel=channel, **kw))


@contextmanager
def serving_sms(book: Book, twilio: FakeTwilio) -> Iterator[str]:
    """calbridge's SMS webhooks on loopback, the book's public URL pointing at them;
    the fake's status callbacks are all answered before the server stops."""
    with serving_app([sms_routes(book, book.settings)]) as url:
        book.settings.http.public_url = url
        try:
            yield url
        finally:
            twilio.settle()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with fake_twilio() as fake:
        yield fake


@pytest.fixture
def token_file(tmp_path: Any) -> str:
    path = tmp_path / "twilio-token"
    path.write_text(TOKEN + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def sms_book(make_book: Callable[..., Book], twilio: FakeTwilio, token_file: str) -> Book:
    mail = {"transport": "folder", "folder": "mail", "from": "sessions@practice.example"}
    book = make_book(sms=sms_config(twilio, token_file), mail=mail, state_dir="state")
    add_people(book)
    return book
