"""The sync status in the book's database: token, change-log cursor, and one row per UID."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session as Db

from calbridge.store.tables import (
    CalendarItemRow,
    CalendarStateRow,
    ChangeRow,
    ClosureRow,
    SessionRow,
)
from calbridge.sync.planner import Known


@dataclass
class State:
    calendar_id: str
    token: str | None
    cursor: int
    fresh: bool  # never synced: every UID of the coach is dirty
    error: str | None = None  # the last pass's error, if it failed


def load_state(db: Db, calendar_id: str) -> State:
    row = db.get(CalendarStateRow, calendar_id)
    if row is None:
        return State(calendar_id, None, 0, True)
    return State(calendar_id, row.sync_token, row.change_cursor, False, row.last_error)


def save_state(db: Db, state: State, now: datetime, error: str | None = None) -> None:
    row = db.get(CalendarStateRow, state.calendar_id)
    if row is None:
        row = CalendarStateRow(calendar_id=state.calendar_id, change_cursor=0)
        db.add(row)
    row.sync_token, row.change_cursor, row.last_error = state.token, state.cursor, error
    row.last_sync_at = now


def record_error(db: Db, calendar_id: str, now: datetime, error: str) -> None:
    row = db.get(CalendarStateRow, calendar_id)
    if row is None:
        db.add(CalendarStateRow(calendar_id=calendar_id, change_cursor=0, last_error=error))
    else:
        row.last_error = error


def last_change(db: Db) -> int:
    return int(db.scalar(select(func.max(ChangeRow.id))) or 0)


def dirty_uids(db: Db, coach_id: str, state: State, upto: int) -> tuple[set[str], set[int]]:
    """Session UIDs and closure ids of ``coach_id`` the book changed since the cursor."""
    if not state.fresh and upto <= state.cursor:
        return set(), set()  # the change log has not moved
    if state.fresh:
        uids = set(db.scalars(select(SessionRow.uid).where(SessionRow.coach_id == coach_id)))
        everyone = select(ClosureRow.id).where(
            or_(ClosureRow.coach_id.is_(None), ClosureRow.coach_id == coach_id)
        )
        return uids, set(db.scalars(everyone))
    changed = (
        select(SessionRow.uid)
        .join(ChangeRow, ChangeRow.session_id == SessionRow.id)
        .where(ChangeRow.id > state.cursor, ChangeRow.id <= upto, SessionRow.coach_id == coach_id)
    )
    closures: set[int] = set()
    topics = select(ChangeRow.payload).where(
        ChangeRow.id > state.cursor, ChangeRow.id <= upto, ChangeRow.topic == "closure.added"
    )
    for payload in db.scalars(topics):
        closures.add(int(payload["closure"]))
    return set(db.scalars(changed)), closures


def known_rows(
    db: Db,
    calendar_id: str,
    uids: Iterable[str] = (),
    hrefs: Iterable[str] = (),
    everything: bool = False,
) -> list[CalendarItemRow]:
    query = select(CalendarItemRow).where(CalendarItemRow.calendar_id == calendar_id)
    if not everything:
        uid_list, href_list = list(uids), list(hrefs)
        if not uid_list and not href_list:
            return []
        query = query.where(
            or_(CalendarItemRow.uid.in_(uid_list), CalendarItemRow.href.in_(href_list))
        )
    return list(db.scalars(query))


def as_known(row: CalendarItemRow) -> Known:
    return Known(row.uid, row.href, row.etag, row.fingerprint)


def remember(
    db: Db,
    calendar_id: str,
    uid: str,
    href: str,
    etag: str,
    fingerprint: str,
    foreign: bool = False,
) -> None:
    row = db.get(CalendarItemRow, (calendar_id, uid))
    if row is None:
        db.add(
            CalendarItemRow(
                calendar_id=calendar_id,
                uid=uid,
                href=href,
                etag=etag,
                fingerprint=fingerprint,
                foreign=foreign,
            )
        )
    else:
        row.href, row.etag, row.fingerprint, row.foreign = href, etag, fingerprint, foreign


def forget(db: Db, calendar_id: str, uid: str) -> None:
    db.execute(
        delete(CalendarItemRow).where(
            CalendarItemRow.calendar_id == calendar_id, CalendarItemRow.uid == uid
        )
    )
