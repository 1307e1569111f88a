"""One sync pass over the configured calendars (what `calbridge sync` runs)."""

from __future__ import annotations

from calbridge.book import Book
from calbridge.calendars.base import StorageError
from calbridge.calendars.open import opened
from calbridge.config.schema import Coach
from calbridge.sync.engine import CalendarSync, Report


def coaches_with_calendars(book: Book, coach_id: str | None) -> list[Coach]:
    if coach_id:
        return [book.coach(coach_id)]
    return [c for c in book.settings.coaches if c.calendar is not None]


def sync_coach(book: Book, coach: Coach, dry_run: bool = False) -> Report:
    if coach.calendar is None:
        return Report(coach.id, error="no [coaches.calendar] configured", dry_run=dry_run)
    try:
        with opened(coach.calendar, batch=book.settings.sync.multiget_batch) as store:
            return CalendarSync(book, coach, store).run(dry_run)
    except StorageError as exc:  # discovery or opening failed
        return Report(coach.id, error=f"{type(exc).__name__}: {exc}", dry_run=dry_run)


def sync_all(book: Book, coach_id: str | None = None, dry_run: bool = False) -> list[Report]:
    return [sync_coach(book, c, dry_run) for c in coaches_with_calendars(book, coach_id)]
