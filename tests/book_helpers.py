"""Small helpers for tests that drive the book directly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from calbridge.book import Book, planning
from calbridge.book.requests import EditRequest, PlanRequest
from calbridge.core.model import Session
from calbridge.core.timeutil import parse_time
from calbridge.store.tables import AuditRow, ChangeRow, SessionRow

LONDON = ZoneInfo("Europe/London")


def at(text: str, zone: ZoneInfo = LONDON) -> Any:
    return parse_time(text, zone)


def plan(
    book: Book,
    start: str | None,
    clients: tuple[str, ...] = ("ana",),
    minutes: int = 60,
    coach: str = "maia",
    **kw: Any,
) -> list[Session]:
    zone = book.zone(coach)
    req = PlanRequest(
        coach_id=coach,
        clients=list(clients),
        start=parse_time(start, zone) if start else None,
        duration=timedelta(minutes=minutes),
        **kw,
    )
    return planning.plan(book, req)


def plan_one(book: Book, start: str, **kw: Any) -> Session:
    (session,) = plan(book, start, **kw)
    return session


def move(book: Book, session_id: int, start: str, **kw: Any) -> Session:
    return planning.edit(book, session_id, EditRequest(start=at(start), **kw))


def count(book: Book, table: Any = SessionRow) -> int:
    with book.transaction() as db:
        return int(db.scalar(select(func.count()).select_from(table)) or 0)


def snapshot(book: Book) -> tuple[int, int, int]:
    """Row counts that must not change when a request is refused."""
    return count(book, SessionRow), count(book, AuditRow), count(book, ChangeRow)
