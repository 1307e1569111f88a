"""Texts exactly once across crashes, as mail: a real sender process is SIGKILLed at
each point of sending a text to the fake Twilio, then a new one takes over."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from book_helpers import plan_one
from calbridge.book import Book, planning
from calbridge.config.load import build
from calbridge.core.model import Actor
from calbridge.mail.sender import journal_path, lease
from calbridge.store.tables import OutboxRow
from cli_helpers import write_config
from conftest import NOW, base_config
from mail.kill_child import kill_at
from servers.twilio_fake import FakeTwilio

from .conftest import add_people, send, sms_config


def _setup(db_url: str, tmp_path: Path, fake: FakeTwilio, token_file: str) -> tuple[Book, Path]:
    mail = {"transport": "folder", "folder": str(tmp_path / "mail")}
    data = base_config(db_url) | {
        "mail": mail,
        "sms": sms_config(fake, token_file),
        "state_dir": str(tmp_path / "state"),
    }
    config = write_config(tmp_path / "config.toml", data)
    book = Book.open(build(data, tmp_path), origin="test")
    book.clock = lambda: NOW
    add_people(book)
    session = plan_one(book, "2026-11-23T10:00", clients=("ana", "ben"), third_parties=["doc"])
    # The invitation goes by mail only; the cancellation is texted to Ana and the doc.
    planning.cancel(book, session.id or 0, Actor.COACH, reason="closed")
    return book, config


def _texts(book: Book) -> dict[str, OutboxRow]:
    with book.transaction() as db:
        query = select(OutboxRow).where(OutboxRow.channel == "sms")
        return {r.message_id: r for r in db.scalars(query)}


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["claimed", "handed", "recorded"])
def test_texts_killed_at_each_point_go_out_once(
    db_url: str, tmp_path: Path, twilio: FakeTwilio, token_file: str, stage: str
) -> None:
    book, config = _setup(db_url, tmp_path, twilio, token_file)
    try:
        queued = set(_texts(book))
        assert len(queued) == 2
        killed = kill_at(config, stage, 2, NOW + timedelta(minutes=1), tmp_path, "sms")
        assert _texts(book)[killed].state == ("sent" if stage == "recorded" else "sending")

        early = send(book, owner="restart", now=NOW + timedelta(minutes=2))
        assert killed not in early.sent + early.recovered, "a live claim is respected"
        report = send(book, owner="restart", now=NOW + timedelta(minutes=2) + lease(book))
        assert not report.failed and not report.retried
        if stage == "handed":
            assert report.recovered == [killed], "the journal knew the provider had it"
            assert journal_path(book, "sms").exists()
        counts = Counter(twilio.to())
        assert set(counts.values()) == {1} and len(counts) == 2, counts
        rows = _texts(book).values()
        assert {r.state for r in rows} == {"sent"}
        assert {r.provider_id for r in rows} == {m["sid"] for m in twilio.accepted}
    finally:
        book.engine.dispose()
