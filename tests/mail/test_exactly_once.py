"""Exactly once across crashes: a real sender process is SIGKILLed at each point of
sending (claimed, handed over to the server, recorded), then a new one takes over."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from book_helpers import plan_one
from calbridge.book import Book
from calbridge.config.load import build
from calbridge.mail.sender import lease
from calbridge.store.tables import OutboxRow
from cli_helpers import write_config
from conftest import NOW, base_config

from .conftest import add_people
from .kill_child import kill_at
from .smtp_helpers import Recorder, send, smtp_config


def _setup(db_url: str, tmp_path: Path, mail: dict[str, Any]) -> tuple[Book, Path]:
    data = base_config(db_url) | {"mail": mail, "state_dir": str(tmp_path / "state")}
    config = write_config(tmp_path / "config.toml", data)
    book = Book.open(build(data, tmp_path), origin="test")
    book.clock = lambda: NOW
    add_people(book)
    plan_one(book, "2026-11-23T10:00", clients=("ana", "ben"), third_parties=["doc"])
    return book, config


def _kill_at(config: Path, stage: str, nth: int, tmp_path: Path) -> str:
    return kill_at(config, stage, nth, NOW + timedelta(minutes=1), tmp_path, "mail")


def _states(book: Book) -> dict[str, str]:
    with book.transaction() as db:
        return {r.message_id: r.state for r in db.scalars(select(OutboxRow))}


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["claimed", "handed", "recorded"])
def test_smtp_killed_at_each_point_delivers_each_message_once(
    db_url: str, tmp_path: Path, smtp: tuple[Recorder, int], stage: str
) -> None:
    recorder, port = smtp
    book, config = _setup(db_url, tmp_path, smtp_config(port))
    try:
        queued = set(_states(book))
        assert len(queued) == 3
        killed = _kill_at(config, stage, 2, tmp_path)
        assert _states(book)[killed] == ("sent" if stage == "recorded" else "sending")

        # Restarted before the dead sender's lease ran out: its claim is respected.
        early = send(book, owner="restart", now=NOW + timedelta(minutes=2))
        assert killed not in early.sent + early.recovered
        # After the lease: the claim is taken over, and nothing goes out twice.
        later = NOW + timedelta(minutes=2) + lease(book)
        report = send(book, owner="restart", now=later)
        assert not report.failed and not report.retried
        if stage == "handed":
            assert report.recovered == [killed], "the journal knew the server had it"
        counts = Counter(recorder.ids())
        assert set(counts) == queued and set(counts.values()) == {1}, counts
        assert set(_states(book).values()) == {"sent"}
    finally:
        book.engine.dispose()


@pytest.mark.slow
def test_folder_transport_killed_after_writing_overwrites_not_duplicates(
    db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "outgoing"
    mail = {"transport": "folder", "folder": str(folder), "from": "sessions@practice.example"}
    book, config = _setup(db_url, tmp_path, mail)
    try:
        killed = _kill_at(config, "handed", 1, tmp_path)
        assert _states(book)[killed] == "sending"
        send(book, owner="restart", now=NOW + timedelta(minutes=2) + lease(book))
        files = sorted(folder.glob("*.eml"))
        assert len(files) == 3 and not list(folder.glob(".*"))
        assert set(_states(book).values()) == {"sent"}
    finally:
        book.engine.dispose()
