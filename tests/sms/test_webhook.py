"""The generic webhook transport: signed JSON to any gateway (the fake's /gateway), its
id recorded, its status reports and STOP replies taken only when signed."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from book_helpers import plan_one
from calbridge.book import Book, contacts, planning
from calbridge.core.model import Actor
from calbridge.store.tables import OutboxRow
from conftest import NOW, Clock
from servers.twilio_fake import Answer, FakeTwilio, signed_json

from .conftest import ANA, add_people, send, serving_sms


@pytest.fixture
def hook_book(make_book: Callable[..., Book], twilio: FakeTwilio, token_file: str) -> Book:
    sms = {"transport": "webhook", "url": f"{twilio.url}/gateway", "token_file": token_file}
    book = make_book(sms=sms | {"from": "Practice"}, state_dir="state")
    add_people(book)
    return book


@pytest.fixture
def base(hook_book: Book, twilio: FakeTwilio) -> Iterator[str]:
    with serving_sms(hook_book, twilio) as url:
        yield url


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_texts_go_signed_with_their_id_and_status_comes_back(
    hook_book: Book, twilio: FakeTwilio, base: str, clock: Clock
) -> None:
    session = plan_one(hook_book, "2026-11-24T10:00", clients=("ana",))
    planning.cancel(hook_book, session.id or 0, Actor.COACH)
    twilio.then(Answer(429, retry_after="120"))
    assert len(send(hook_book).retried) == 1
    clock.now = NOW + timedelta_seconds(121)
    assert len(send(hook_book).sent) == 1
    (got,) = twilio.accepted
    assert got["To"] == ANA and got["Body"].startswith("Cancelled: ")
    assert got["Idempotency-Key"] == got["Key"], "a gateway can drop a repeat by its key"
    deadline = time.monotonic() + 10
    while not twilio.callbacks and time.monotonic() < deadline:
        time.sleep(0.05)
    assert twilio.callbacks == [("delivered", 204)]
    with hook_book.transaction() as db:
        (row,) = db.scalars(select(OutboxRow).where(OutboxRow.channel == "sms"))
        assert (row.provider_id, row.delivery_status) == (got["sid"], "delivered")


def test_a_stop_reply_counts_only_when_signed(hook_book: Book, base: str) -> None:
    body, headers = signed_json({"from": ANA, "text": "STOP"})
    forged = headers | {"X-Calbridge-Signature": "sha256=" + "0" * 64}
    assert _post(f"{base}/sms/inbound", body, forged) == 403
    with hook_book.transaction() as db:
        assert contacts.described(db, "client", "ana")["texts"] == "allowed"
    assert _post(f"{base}/sms/inbound", body, headers) == 200
    with hook_book.transaction() as db:
        assert str(contacts.described(db, "client", "ana")["texts"]).startswith("opted out")


def timedelta_seconds(seconds: float) -> object:
    from datetime import timedelta

    return timedelta(seconds=seconds)
