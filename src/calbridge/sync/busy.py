"""Busy calendars (read-only CalDAV, folder or ICS feed) read into the coach's busy time.

All three are read through the same store interface; only what changed is re-read. A
Graph free/busy source (``kind = "graph"``, a getSchedule URL) has no changes to follow:
its items replace the calendar's blocks on every pass (graphschedule.py).

Recurring events are expanded; TRANSPARENT and CANCELLED events are free; all-day events
block their whole local days. A feed or server that cannot be reached keeps the busy time
read last time: an outage never frees a coach's calendar. Doubt means busy: an event
that can be read two ways (two masters, a RECURRENCE-ID twice) blocks what each way
claims. An event past a cap of ``[sync.bounds]`` is skipped with one warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from calbridge.book import Book
from calbridge.calendars.base import Item, StorageError
from calbridge.calendars.open import kind_of, opened, schedule_auth
from calbridge.config.schema import BusySettings, Coach
from calbridge.ical.bounds import uid_in
from calbridge.ical.busyread import busy_instances
from calbridge.ical.model import Instance, MalformedEvent
from calbridge.ical.parse import Window
from calbridge.store import repo_busy
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


def window_of(book: Book) -> Window:
    """From yesterday to ``busy_days`` ahead, cut to ``[sync.bounds] window_days``."""
    now = book.clock()
    days = min(book.settings.sync.busy_days, book.settings.sync.bounds.window_days)
    return now - timedelta(days=1), now + timedelta(days=days)


def busy_of(
    book: Book, coach: Coach, calendar: str, item: Item
) -> tuple[list[Instance], str | None]:
    """The busy occurrences of one resource, and why it was skipped (then with one
    warning naming the calendar, href and UID): it cannot be read or is past a cap."""
    bounds = book.settings.sync.bounds.limits()
    try:
        found, doubt = busy_instances(item.data, window_of(book), coach.zone(), bounds)
    except MalformedEvent as exc:
        log.warning(
            "calendar %s: %s (UID %s) is not read as busy time: %s",
            calendar,
            item.href,
            uid_in(item.data),
            exc,
        )
        return [], str(exc)
    if doubt is not None:
        log.warning(
            "calendar %s: %s is ambiguous (%s); every reading of it is busy time",
            calendar,
            item.href,
            doubt,
        )
    return [i for i in found if is_busy(i)], None


def refresh(book: Book, coach: Coach, index: int, cfg: BusySettings) -> BusyReport:
    report = BusyReport(calendar_id(coach, index))
    now = book.clock()
    try:
        if kind_of(cfg) == "graph" and _is_schedule(cfg.url):
            _refresh_schedule(book, coach, cfg, report)
        else:
            _refresh_store(book, coach, cfg, report)
    except StorageError as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        log.warning(
            "busy calendar %s cannot be read, keeping what was read before: %s",
            report.calendar,
            report.error,
        )
        with book.transaction() as db:
            status.record_error(db, report.calendar, now, report.error)
    return report


def _is_schedule(url: str) -> bool:
    from calbridge.calendars.graphschedule import is_schedule_url  # Graph: only when used

    return is_schedule_url(url)


def _refresh_store(
    book: Book,
    coach: Coach,
    cfg: BusySettings,
    report: BusyReport,
) -> None:
    with book.transaction() as db:
        state = status.load_state(db, report.calendar)
    sync = book.settings.sync
    bounds = sync.bounds.limits()
    with opened(cfg, read_only=True, batch=sync.multiget_batch, bounds=bounds) as store:
        listing = store.changes(state.token)
        if not listing.full and not listing.changed and not listing.deleted:
            return
        items = store.get_many(list(listing.changed))
    found: list[tuple[str, Instance]] = []
    for item in items:
        busy, problem = busy_of(book, coach, report.calendar, item)
        if problem is not None:
            report.skipped.append(f"{item.href}: {problem}")
        found += [(item.href, i) for i in busy]
    with book.transaction() as db:
        sources = None if listing.full else set(listing.changed) | set(listing.deleted)
        repo_busy.drop_blocks(db, report.calendar, sources)
        blocks = [(source, i.start, i.end, i.summary) for source, i in found]
        report.blocks = repo_busy.replace_blocks(db, report.calendar, coach.id, (), blocks)
        state.token = listing.token
        status.save_state(db, state, book.clock())


def _refresh_schedule(book: Book, coach: Coach, cfg: BusySettings, report: BusyReport) -> None:
    """Graph's free/busy (getSchedule): no changes to follow, so every pass reads the whole
    window (one request per 42 days) and replaces the calendar's blocks."""
    from calbridge.calendars.graphschedule import GraphSchedule

    schedule = cfg.schedule or coach.email
    lo, hi = window_of(book)
    with GraphSchedule(cfg.url, schedule_auth(cfg, coach.calendar)) as source:
        items = source.busy(schedule, lo, hi)
    found = [(schedule, i.start, i.end, i.subject) for i in items]
    with book.transaction() as db:
        state = status.load_state(db, report.calendar)
        repo_busy.drop_blocks(db, report.calendar)
        report.blocks = repo_busy.replace_blocks(db, report.calendar, coach.id, (), found)
        status.save_state(db, state, book.clock())
