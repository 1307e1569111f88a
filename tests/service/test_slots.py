"""The scheduler's batches, in process on SQLite and PostgreSQL: two instances claiming
queues of calendars at once never sync one twice at the same time, and a stopping
instance gives its queued calendars back unsynced and still due."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from calbridge.book import Book
from calbridge.service import slots
from calbridge.service.metrics import Metrics
from calbridge.service.notify import Notifier
from calbridge.service.passes import Result
from calbridge.service.scheduler import Runtime, Scheduler
from calbridge.store.leases import Outcome
from calbridge.store.tables_daemon import CalendarLeaseRow
from conftest import WEEKDAYS_9_TO_5

COACHES = 40


def _book(make_book: Callable[..., Book], tmp_path: Any, concurrency: int) -> Book:
    coaches = [
        {
            "id": f"c{k:02d}",
            "name": f"Coach {k}",
            "email": f"c{k:02d}@practice.example",
            "timezone": "Europe/London",
            "working_hours": WEEKDAYS_9_TO_5,
            "calendar": {"url": str(tmp_path / f"c{k:02d}")},
        }
        for k in range(COACHES)
    ]
    service = {"interval": 3600, "jitter": 0, "poll": 0.05, "lease": 30}
    return make_book(coaches=coaches, service={**service, "concurrency": concurrency})


def _rows(book: Book) -> dict[str, CalendarLeaseRow]:
    with book.transaction() as db:
        return {r.calendar_id: r for r in db.scalars(select(CalendarLeaseRow))}


class Recorder:
    """A stand-in for the sync of one coach: (calendar, owner, start, end) of each call."""

    def __init__(self, seconds: float = 0.002) -> None:
        self.seconds = seconds
        self.spans: list[tuple[str, str, float, float]] = []
        self.lock = threading.Lock()
        self.after: Callable[[int], None] = lambda n: None

    def __call__(self, book: Book, coach: Any, stores: Any, known: Any) -> Result:
        owner = book.origin
        start = time.monotonic()
        time.sleep(self.seconds)
        with self.lock:
            self.spans.append((coach.id, owner, start, time.monotonic()))
            n = len(self.spans)
        self.after(n)
        return Result(Outcome(True), requests=1)


def test_two_instances_share_the_calendars_and_never_overlap(
    make_book: Callable[..., Book], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(seconds=0.02)
    monkeypatch.setattr(slots, "sync_blocking", recorder)
    books = [_book(make_book, tmp_path, 3) for _ in range(2)]
    books = [Book(b.settings, b.engine, origin=f"i{k}") for k, b in enumerate(books)]

    async def run() -> None:
        stop = asyncio.Event()
        schedulers = [Scheduler(Runtime(b, b.origin, Metrics(), Notifier())) for b in books]
        loop = asyncio.get_running_loop()
        recorder.after = lambda n: n >= COACHES and loop.call_soon_threadsafe(stop.set)
        await asyncio.wait_for(asyncio.gather(*(s.serve(stop) for s in schedulers)), 60)
        assert all(await asyncio.gather(*(s.drain(30) for s in schedulers)))

    asyncio.run(run())
    by_calendar: dict[str, list[tuple[float, float, str]]] = {}
    for cid, owner, start, end in recorder.spans:
        by_calendar.setdefault(cid, []).append((start, end, owner))
    assert len(by_calendar) == COACHES  # interval an hour: each synced once, no more
    assert all(len(spans) == 1 for spans in by_calendar.values()), by_calendar
    assert {o for _, o, _, _ in recorder.spans} == {"i0", "i1"}  # both took a share
    rows = _rows(books[0])
    assert {r.owner for r in rows.values()} == {None}
    assert all(r.last_ok_at is not None for r in rows.values())
    assert all(r.next_sync_at > datetime.now(UTC) for r in rows.values())


def test_a_stopping_instance_gives_queued_calendars_back_unsynced_and_due(
    make_book: Callable[..., Book], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(seconds=0.01)
    monkeypatch.setattr(slots, "sync_blocking", recorder)
    book = _book(make_book, tmp_path, 1)  # one slot: most claimed calendars wait in the queue
    scheduler = Scheduler(Runtime(book, "me", Metrics(), Notifier()))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        recorder.after = lambda n: n == 3 and loop.call_soon_threadsafe(stop.set)
        await asyncio.wait_for(scheduler.serve(stop), 60)
        assert await scheduler.drain(30)

    asyncio.run(run())
    synced = {cid for cid, _, _, _ in recorder.spans}
    assert 3 <= len(synced) < COACHES
    rows = _rows(book)
    assert {r.owner for r in rows.values()} == {None}
    now = datetime.now(UTC)
    for cid, r in rows.items():
        if cid in synced:
            assert r.last_ok_at is not None and r.next_sync_at > now, cid
        else:  # free and due at once: another instance (or the next start) takes it
            assert r.last_ok_at is None and r.next_sync_at <= now, cid
    assert scheduler.passes == len(synced) and not scheduler.running
