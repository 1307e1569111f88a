"""Texts through the fake Twilio: rate limits (429 Retry-After), 5xx, slow answers, bad
credentials, refusals, giving up with a log line; the same outbox rules as mail."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from book_helpers import plan_one
from calbridge.book import Book, planning
from calbridge.core.model import Actor
from calbridge.store.tables import OutboxRow
from conftest import NOW, Clock
from servers.twilio_fake import Answer, FakeTwilio

from .conftest import add_people, send, sms_config


def _cancel_one(book: Book) -> None:
    """Two texts queued: the cancellation to Ana (sms) and to the doc (both)."""
    session = plan_one(book, "2026-11-24T10:00", clients=("ana",), third_parties=["doc"])
    planning.cancel(book, session.id or 0, Actor.COACH)


def _texts(book: Book) -> list[OutboxRow]:
    with book.transaction() as db:
        query = select(OutboxRow).where(OutboxRow.channel == "sms").order_by(OutboxRow.id)
        return list(db.scalars(query))


def test_a_429_waits_its_retry_after_and_stops_the_pass(
    sms_book: Book, twilio: FakeTwilio, clock: Clock
) -> None:
    _cancel_one(sms_book)
    twilio.then(Answer(429, retry_after="600"))
    report = send(sms_book)
    assert len(report.retried) == 1 and not report.sent
    assert twilio.requests == 1, "the rest of the pass waits: the provider asked us to"
    first = _texts(sms_book)[0]
    assert first.not_before >= NOW + timedelta(seconds=600) and "429" in (first.last_error or "")
    clock.now = NOW + timedelta(minutes=5)  # past the backoff, not past Retry-After
    send(sms_book)
    assert len(twilio.accepted) == 1, "only the text never tried went"
    clock.now = NOW + timedelta(seconds=601)
    send(sms_book)
    assert len(twilio.accepted) == 2 and {r.state for r in _texts(sms_book)} == {"sent"}


def test_a_5xx_is_retried_with_backoff_and_sent_once(
    sms_book: Book, twilio: FakeTwilio, clock: Clock
) -> None:
    _cancel_one(sms_book)
    twilio.then(Answer(500))
    report = send(sms_book)
    assert len(report.retried) == 1 and len(report.sent) == 1
    assert send(sms_book).sent == [], "not due before its backoff"
    clock.now = NOW + timedelta(minutes=1)
    assert len(send(sms_book).sent) == 1
    assert len(twilio.accepted) == 2 and len(set(twilio.to())) == 2


def test_a_slow_answer_times_out_and_is_sent_on_the_next_pass(
    make_book: Callable[..., Book], twilio: FakeTwilio, token_file: str, clock: Clock
) -> None:
    book = make_book(sms=sms_config(twilio, token_file) | {"timeout": 0.3}, state_dir="state")
    add_people(book)
    _cancel_one(book)
    twilio.then(Answer(201, delay=1.5))
    report = send(book)
    assert len(report.retried) == 1 and "cannot reach" in (report.error or "")
    clock.now = NOW + timedelta(minutes=1)
    send(book)
    assert len(twilio.accepted) == 2 and len(set(twilio.to())) == 2


def test_bad_credentials_hold_the_texts_until_fixed(
    make_book: Callable[..., Book], twilio: FakeTwilio, tmp_path: object, clock: Clock
) -> None:
    wrong = tmp_path / "wrong-token"  # type: ignore[operator]
    wrong.write_text("not-the-token\n", encoding="utf-8")
    book = make_book(sms=sms_config(twilio, str(wrong)), state_dir="state")
    add_people(book)
    _cancel_one(book)
    report = send(book)
    assert len(report.retried) == 1 and "login refused (401)" in (report.error or "")
    assert "not-the-token" not in (report.error or ""), "the token is never shown"
    assert not twilio.accepted and {r.state for r in _texts(book)} == {"queued"}


def test_gives_up_after_the_configured_time_with_a_log_line(
    make_book: Callable[..., Book],
    twilio: FakeTwilio,
    token_file: str,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = sms_config(twilio, token_file) | {"give_up_after_hours": 2}
    book = make_book(sms=config, state_dir="state")
    add_people(book)
    _cancel_one(book)
    twilio.then(*[Answer(500)] * 10)
    assert len(send(book).retried) == 2
    clock.now = NOW + timedelta(hours=2, minutes=1)
    with caplog.at_level(logging.ERROR, logger="calbridge.mail.sender"):
        report = send(book)
    assert len(report.failed) == 2 and not twilio.accepted
    assert "gave up on message <sms." in caplog.text and "+447911123401" in caplog.text
    assert {r.state for r in _texts(book)} == {"failed"}


def test_a_refused_text_fails_alone(
    sms_book: Book, twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    _cancel_one(sms_book)
    twilio.then(Answer(400))
    with caplog.at_level(logging.ERROR, logger="calbridge.mail.sender"):
        report = send(sms_book)
    assert len(report.failed) == 1 and len(report.sent) == 1
    assert "refused (400)" in caplog.text
