"""Busy calendars (read-only CalDAV, folder or ICS feed) read into the coach's busy time.

All three are read through the same store interface; only what changed is re-read.

Recurring events are expanded; TRANSPARENT and CANCELLED events are free; all-day events
block their whole local days. A feed or server that cannot be reached keeps the busy time
read last time: an outage never frees a coach's calendar.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session as Db

from calbridge.book import Book
from calbridge.calendars.base import StorageError
from calbridge.calendars.open import opened
from calbridge.config.schema import BusySettings, Coach
from calbridge.ical.model import Instance, MalformedEvent
from calbridge.ical.parse import parse_instances
from calbridge.store.tables import BusyBlockRow
from calbridge.sync import status

log = logging.getLogger(__name__)


@dataclass
class BusyReport:
    calendar: str
    blocks: int | None = None  # None: unchanged since last time
    skipped: list[str] = field(default_factory=list)
    error: str | None = None


def calendar_id(coach: Coach, index: int) -> str:
    return f"{coach.id}:busy:{index}"


def is_busy(instance: Instance) -> bool:
    return instance.status != "CANCELLED" and instance.transp != "TRANSPARENT"


def refresh(book: Book, coach: Coach, index: int, cfg: BusySettings) -> BusyReport:
    report = BusyReport(calendar_id(coach, index))
    now = book.clock()
    window = (now - timedelta(days=1), now + timedelta(days=book.settings.sync.busy_days))
    try:
        _refresh_store(book, coach, cfg, window, report)
    except StorageError as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        log.warning(
            "busy calendar %s unreachable, keeping what was read before: %s",
            report.calendar,
            report.error,
        )
        with book.transaction() as db:
            status.record_error(db, report.calendar, now, report.error)
    return report


def _refresh_store(
    book: Book,
    coach: Coach,
    cfg: BusySettings,
    window: tuple[datetime, datetime],
    report: BusyReport,
) -> None:
    with book.transaction() as db:
        state = status.load_state(db, report.calendar)
    with opened(cfg, read_only=True, batch=book.settings.sync.multiget_batch) as store:
        listing = store.changes(state.token)
        if not listing.full and not listing.changed and not listing.deleted:
            return
        items = store.get_many(list(listing.changed))
    found: list[tuple[str, Instance]] = []
    for item in items:
        try:
            found += [
                (item.href, i)
                for i in parse_instances(item.data, window, coach.zone())
                if is_busy(i)
            ]
        except MalformedEvent as exc:
            report.skipped.append(f"{item.href}: {exc}")
            log.warning("busy calendar %s: skipping %s: %s", report.calendar, item.href, exc)
    with book.transaction() as db:
        gone = BusyBlockRow.calendar_id == report.calendar
        if not listing.full:
            gone = gone & BusyBlockRow.source.in_(set(listing.changed) | set(listing.deleted))
        db.execute(delete(BusyBlockRow).where(gone))
        report.blocks = _insert(db, report.calendar, coach.id, found)
        state.token = listing.token
        status.save_state(db, state, book.clock())


def _insert(db: Db, cal: str, coach_id: str, found: Iterable[tuple[str, Instance]]) -> int:
    rows = [
        BusyBlockRow(
            calendar_id=cal,
            coach_id=coach_id,
            source=source,
            start=i.start,
            end=i.end,
            summary=i.summary[:200],
        )
        for source, i in found
    ]
    db.add_all(rows)
    return len(rows)
