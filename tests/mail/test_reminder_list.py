"""`reminder list`: planned reminders (not decided yet) and queued ones (in the outbox)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from book_helpers import at, plan_one
from calbridge.book import Book, planning
from calbridge.core.model import Actor
from calbridge.errors import NotFound
from calbridge.mail.reminder_list import upcoming
from calbridge.mail.reminders import queue_due_reminders
from conftest import Clock

from .conftest import add_people
from .smtp_helpers import Recorder, send, smtp_config


def test_planned_then_queued_then_gone(
    make_book: Callable[..., Book], smtp: tuple[Recorder, int], clock: Clock
) -> None:
    book = make_book(
        mail=smtp_config(smtp[1]), state_dir="state", reminders={"lead_times": ["24h", "1h"]}
    )
    add_people(book)
    session = plan_one(book, "2026-11-24T10:00", third_parties=["doc"], remind=True)
    quiet = plan_one(book, "2026-11-24T14:00")  # no --remind: never listed
    start = at("2026-11-24T10:00")
    rows = upcoming(book)
    assert [(r["state"], r["lead"], r["due"], r["to"]) for r in rows] == [
        ("planned", "24h", (start - timedelta(hours=24)).isoformat(), ["ana", "doc"]),
        ("planned", "1h", (start - timedelta(hours=1)).isoformat(), ["ana", "doc"]),
    ]
    assert all(r["session"] == session.id for r in rows)
    assert upcoming(book, session_id=quiet.id) == []
    assert upcoming(book, coach_id="sam") == []

    clock.now = start - timedelta(hours=24)
    assert queue_due_reminders(book) == 2
    rows = upcoming(book)
    queued = [r for r in rows if r["state"] == "queued"]
    assert sorted(r["to"][0] for r in queued) == ["ana@example.org", "third@example.org"]
    assert all(r["lead"] == "24h" and r["channel"] == "mail" for r in queued)
    assert [r["lead"] for r in rows if r["state"] == "planned"] == ["1h"]

    send(book)
    assert [r["state"] for r in upcoming(book)] == ["planned"]  # sent ones are done
    planning.cancel(book, session.id or 0, Actor.ADMIN, "ill", False)
    assert upcoming(book) == []


def test_unknown_coach(make_book: Callable[..., Book]) -> None:
    with pytest.raises(NotFound, match="nobody"):
        upcoming(make_book(), coach_id="nobody")
