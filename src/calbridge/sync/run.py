"""One sync pass over the configured calendars (what `calbridge sync` runs)."""

from __future__ import annotations

from calbridge.book import Book
from calbridge.calendars.base import StorageError
from calbridge.calendars.open import opened
from calbridge.config.schema import Coach
from calbridge.errors import UserError
from calbridge.sync import busy, status
from calbridge.sync.busy import BusyReport
from calbridge.sync.engine import CalendarSync, Report
from calbridge.sync.planner import Decision


def sync_coach(
    book: Book, coach: Coach, dry_run: bool = False, decision: Decision | None = None
) -> Report:
    """One pass; ``decision``: the admin's answer to a calendar the guard holds."""
    if coach.calendar is None:
        return Report(coach.id, error="no [coaches.calendar] configured", dry_run=dry_run)
    try:
        batch = book.settings.sync.multiget_batch
        with opened(coach.calendar, batch=batch, create=not dry_run) as store:
            return CalendarSync(book, coach, store, decision=decision).run(dry_run)
    except StorageError as exc:  # discovery or opening failed
        return Report(coach.id, error=f"{type(exc).__name__}: {exc}", dry_run=dry_run)


def refresh_busy(book: Book, coach: Coach) -> list[BusyReport]:
    return [busy.refresh(book, coach, i, cfg) for i, cfg in enumerate(coach.busy)]


def sync_all(
    book: Book,
    coach_id: str | None = None,
    dry_run: bool = False,
    decision: Decision | None = None,
) -> tuple[list[Report], list[BusyReport]]:
    """Busy calendars first (so availability is current), then the sessions calendars."""
    if decision is not None and coach_id is None:
        raise UserError("--restore and --accept-deletions need --coach ID (one calendar)")
    coaches = [book.coach(coach_id)] if coach_id else book.settings.coaches
    if coach_id and coaches[0].calendar is None:
        raise UserError(f"coach {coach_id!r} has no [coaches.calendar] in the configuration")
    busy_reports = [] if dry_run else [r for c in coaches for r in refresh_busy(book, c)]
    reports = [sync_coach(book, c, dry_run, decision) for c in coaches if c.calendar is not None]
    if not dry_run and coach_id is None:
        prune(book)
    return reports, busy_reports


def prune(book: Book) -> int:
    """Drop the change log that every coach's calendar has read."""
    calendars = [c.id for c in book.settings.coaches if c.calendar is not None]
    with book.transaction() as db:
        return status.prune_changes(db, calendars)
