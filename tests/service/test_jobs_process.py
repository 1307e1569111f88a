"""One ``calbridge run --once`` does the whole cycle: calendars, mail, reminders, offers."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from calbridge.book import Book, parties, planning
from calbridge.book.offers import make_offer
from calbridge.book.requests import PlanRequest
from calbridge.config.load import load_config
from calbridge.store.tables import OutboxRow
from calbridge.store.tables_offers import HoldRow
from cli_helpers import cli_process
from service.conftest import coach, daemon_config


def test_run_once_syncs_sends_mail_queues_reminders_and_expires_offers(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    calendar = tmp_path / "calendars" / "maia"
    calendar.parent.mkdir()  # only the last level is created
    data = daemon_config(
        tmp_path, f"sqlite:///{tmp_path / 'book.db'}", [coach("maia", {"url": str(calendar)})]
    )
    config = write(data)
    book = Book.open(load_config(config), origin="test")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    try:
        parties.add_client(book, "Ana Lopez", "ana@example.org", "bulk", "ana")
        soon, later = (
            planning.plan(
                book,
                PlanRequest(
                    coach_id="maia",
                    clients=["ana"],
                    start=hour + timedelta(hours=h),
                    duration=timedelta(hours=1),
                    override_availability=True,
                    remind=True,
                ),
            )[0]
            for h in (3, 50)
        )
        # An offer whose hold time ran out while no daemon was running.
        book.clock = lambda: datetime.now(UTC) - timedelta(hours=30)
        make_offer(book, later.id or 0, [hour + timedelta(hours=52)], override_availability=True)
    finally:
        book.engine.dispose()

    result = cli_process(config, "run", "--once", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]

    assert sorted(p.name for p in calendar.iterdir()) == sorted(
        f"{s.uid}.ics" for s in (soon, later)
    )  # the expired hold was released before or by the sync: no hold event remains
    sent = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in (tmp_path / "mail").glob("*.eml")
    ]
    subjects = sorted(str(m["Subject"]).split(":")[0] for m in sent)
    # Two invitations, the offer, and the reminder of the session three hours away.
    assert subjects.count("Invitation") == 2, subjects
    assert any(s.lower().startswith("reminder") for s in subjects), subjects
    assert len(sent) == 4, subjects
    book = Book.open(load_config(config), origin="test")
    try:
        with book.transaction() as db:
            assert {r.state for r in db.scalars(select(OutboxRow))} == {"sent"}
            assert all(h.released_at is not None for h in db.scalars(select(HoldRow)))
    finally:
        book.engine.dispose()
