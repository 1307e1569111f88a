"""Coaches choose texts in their [[coaches]] entry: checked at load, and the "your
calendar edit was reverted" notice reaches their phone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from book_helpers import plan_one
from calbridge.book import Book
from calbridge.config.load import build
from calbridge.errors import ConfigError
from calbridge.events.changes import Reverted
from conftest import base_config
from servers.twilio_fake import FakeTwilio

from .conftest import add_people, send, sms_config


def _coaches(**maia: Any) -> list[dict[str, Any]]:
    coaches = base_config("")["coaches"]
    coaches[0] |= maia
    return coaches


def test_a_coach_phone_is_checked(tmp_path: Path) -> None:
    for maia, says in (
        ({"phone": "07911 123456"}, "country code"),
        ({"phone": "+44 7700 900123"}, "not a valid phone number"),
        ({"notify": "sms"}, "needs the coach's phone"),
    ):
        data = base_config(f"sqlite:///{tmp_path / 'b.db'}") | {"coaches": _coaches(**maia)}
        with pytest.raises(ConfigError) as caught:
            build(data, tmp_path)
        assert says in str(caught.value)


def test_the_reverted_notice_reaches_the_coach_by_text_and_mail(
    make_book: Callable[..., Book], twilio: FakeTwilio, token_file: str
) -> None:
    book = make_book(
        sms=sms_config(twilio, token_file),
        coaches=_coaches(phone="+447911123499", notify="both"),
        state_dir="state",
    )
    add_people(book)
    session = plan_one(book, "2026-11-24T10:00", clients=("ben",))
    with book.transaction() as db:
        book.emit(db, Reverted(session, "the session would be outside working hours"))
    send(book)
    (text,) = twilio.bodies()
    assert twilio.to() == ["+447911123499"]
    assert text.startswith(f"Your calendar edit of session {session.id} (Session: Ben Ng")
    assert text.endswith("was reverted; see your mail.")
    report = send(book, "mail")
    assert len(report.sent) == 2, "the invitation to Ben, and the notice mailed to the coach"
