"""One coach's pass, as a scheduler slot runs it: busy calendars, then the sessions
calendar, through a store kept open between passes. Blocking: it runs in a worker thread."""

from __future__ import annotations

from dataclasses import dataclass

from calbridge.book import Book
from calbridge.calendars.base import CalendarStore, StorageError
from calbridge.calendars.open import open_store
from calbridge.config.schema import CalendarSettings, Coach
from calbridge.store.leases import Outcome
from calbridge.sync import busy, status
from calbridge.sync.engine import CalendarSync


@dataclass
class Result:
    outcome: Outcome
    requests: int = 0
    actions: int = 0


class StoreCache:
    """One open store per coach, kept between passes (its HTTP session, discovery and
    connection pool are reused: half the CPU of an idle pass). A coach is synced by one
    thread at a time, so a store is never used concurrently. A store that failed, or whose
    configuration was reloaded, is closed and opened afresh."""

    def __init__(self) -> None:
        self._stores: dict[str, tuple[CalendarSettings, CalendarStore]] = {}

    def get(self, coach_id: str, cfg: CalendarSettings, batch: int) -> CalendarStore:
        kept = self._stores.get(coach_id)
        if kept is not None and kept[0] is cfg:
            return kept[1]
        self.drop(coach_id)
        store = open_store(cfg, batch=batch)
        self._stores[coach_id] = (cfg, store)
        return store

    def drop(self, coach_id: str) -> None:
        kept = self._stores.pop(coach_id, None)
        close = getattr(kept[1], "close", None) if kept else None
        if close is not None:
            close()

    def close(self) -> None:
        for coach_id in list(self._stores):
            self.drop(coach_id)


def sync_blocking(
    book: Book,
    coach: Coach,
    stores: StoreCache | None = None,
    known: tuple[status.State, int] | None = None,
) -> Result:
    """Busy calendars first (availability), then the sessions calendar; never raises
    StorageError (it becomes the outcome). ``known``: see CalendarSync."""
    errors: list[str] = []
    retry_after: float | None = None
    requests = actions = 0
    for index, cfg in enumerate(coach.busy):
        report = busy.refresh(book, coach, index, cfg)
        if report.error:
            errors.append(f"busy[{index}]: {report.error}")
    if coach.calendar is not None:
        stores = stores or StoreCache()
        try:
            store = stores.get(coach.id, coach.calendar, book.settings.sync.multiget_batch)
            before = int(getattr(store, "requests", 0))
            sync_report = CalendarSync(book, coach, store, known).run()
            requests = int(getattr(store, "requests", 0)) - before
        except StorageError as exc:  # discovery or opening failed
            errors.append(f"{type(exc).__name__}: {exc}")
            retry_after = getattr(exc, "retry_after", None)
            stores.drop(coach.id)
        else:
            actions = len(sync_report.actions)
            if sync_report.error:
                errors.append(sync_report.error)
                retry_after = sync_report.retry_after
                stores.drop(coach.id)
    error = "; ".join(errors) or None
    return Result(Outcome(error is None, error, retry_after), requests, actions)
