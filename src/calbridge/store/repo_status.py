"""The sync status's SQL: each calendar's state row, its items (one per UID), and the
change log a calendar's pass reads from its cursor. The rules are sync/status.py's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, or_, select

from calbridge.store.db import Db
from calbridge.store.tables import (
    CalendarItemRow,
    CalendarStateRow,
    ChangeRow,
    ClosureRow,
    SessionRow,
)

_S = cast(Table, CalendarStateRow.__table__).c
#: Built once (they run for every calendar the daemon takes; see service/leases.py).
_STATES = select(
    _S.calendar_id,
    _S.sync_token,
    _S.change_cursor,
    _S.recovery_token,
    _S.last_error,
    _S.held_reason,
).where(_S.calendar_id.in_(bindparam("ids", expanding=True)))
_LAST_CHANGE = select(func.max(cast(Table, ChangeRow.__table__).c.id))
_CHUNK = 500  # UIDs per IN (...) list: under SQLite's bound-parameter limit
CLOSURE_TOPICS = ("closure.added", "closure.removed")


def state_rows(db: Db, calendar_ids: list[str]) -> dict[str, Any]:
    """The state rows (Core rows: calendar_id, sync_token, change_cursor, recovery_token,
    last_error, held_reason) of the calendars that have one."""
    return {row.calendar_id: row for row in db.execute(_STATES, {"ids": calendar_ids})}


def held(db: Db) -> dict[str, str]:
    """Every calendar the mass-deletion guard holds, and why."""
    query = select(CalendarStateRow.calendar_id, CalendarStateRow.held_reason).where(
        CalendarStateRow.held_reason.is_not(None)
    )
    return {str(row[0]): str(row[1]) for row in db.execute(query)}


def count_ours(db: Db, calendar_id: str) -> int:
    """How many of calbridge's own events the calendar held after the last pass."""
    query = select(func.count()).where(
        CalendarItemRow.calendar_id == calendar_id, CalendarItemRow.foreign.is_(False)
    )
    return int(db.scalar(query) or 0)


def last_change(db: Db) -> int:
    return int(db.scalar(_LAST_CHANGE) or 0)


def coach_uids(db: Db, coach_id: str) -> set[str]:
    return set(db.scalars(select(SessionRow.uid).where(SessionRow.coach_id == coach_id)))


def closure_ids(db: Db, coach_id: str) -> set[int]:
    """The closures that close the coach (their own and everyone's)."""
    query = select(ClosureRow.id).where(
        or_(ClosureRow.coach_id.is_(None), ClosureRow.coach_id == coach_id)
    )
    return set(db.scalars(query))


def changed_uids(db: Db, coach_id: str, cursor: int, upto: int) -> set[str]:
    """UIDs of the coach's sessions with a change in (cursor, upto]."""
    query = (
        select(SessionRow.uid)
        .join(ChangeRow, ChangeRow.session_id == SessionRow.id)
        .where(ChangeRow.id > cursor, ChangeRow.id <= upto, SessionRow.coach_id == coach_id)
    )
    return set(db.scalars(query))


def changed_closures(db: Db, cursor: int, upto: int) -> set[int]:
    """Closures added or removed in (cursor, upto]."""
    topics = select(ChangeRow.payload).where(
        ChangeRow.id > cursor, ChangeRow.id <= upto, ChangeRow.topic.in_(CLOSURE_TOPICS)
    )
    return {int(payload["closure"]) for payload in db.scalars(topics)}


def items(
    db: Db,
    calendar_id: str,
    uids: Iterable[str] = (),
    hrefs: Iterable[str] = (),
    everything: bool = False,
) -> list[CalendarItemRow]:
    """The calendar's item rows of these UIDs or hrefs (``everything``: all of them)."""
    query = select(CalendarItemRow).where(CalendarItemRow.calendar_id == calendar_id)
    if not everything:
        uid_list, href_list = list(uids), list(hrefs)
        if not uid_list and not href_list:
            return []
        query = query.where(
            or_(CalendarItemRow.uid.in_(uid_list), CalendarItemRow.href.in_(href_list))
        )
    return list(db.scalars(query))


def items_by_uid(db: Db, calendar_id: str, uids: Iterable[str]) -> dict[str, CalendarItemRow]:
    """The item rows of ``uids`` that exist, by UID: one query per chunk, so a batch does
    not pay a lookup (and an autoflush) per row."""
    wanted = sorted(set(uids))
    rows: dict[str, CalendarItemRow] = {}
    for lo in range(0, len(wanted), _CHUNK):
        query = select(CalendarItemRow).where(
            CalendarItemRow.calendar_id == calendar_id,
            CalendarItemRow.uid.in_(wanted[lo : lo + _CHUNK]),
        )
        rows.update((row.uid, row) for row in db.scalars(query))
    return rows


def forget(db: Db, calendar_id: str, uid: str) -> None:
    db.execute(
        delete(CalendarItemRow).where(
            CalendarItemRow.calendar_id == calendar_id, CalendarItemRow.uid == uid
        )
    )


def cursors(db: Db, calendar_ids: list[str]) -> list[int]:
    """The change-log cursors of the calendars that have a state row."""
    query = select(CalendarStateRow.change_cursor).where(
        CalendarStateRow.calendar_id.in_(calendar_ids)
    )
    return list(db.scalars(query))


def drop_changes_below(db: Db, upto: int) -> int:
    """Delete the change-log rows below ``upto``; how many went."""
    result = db.execute(delete(ChangeRow).where(ChangeRow.id < upto))
    return int(getattr(result, "rowcount", 0) or 0)
