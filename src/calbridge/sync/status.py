"""The sync status in the book's database: token, change-log cursor, and one row per UID."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calbridge.store import repo_offers, repo_status
from calbridge.store.db import Db
from calbridge.store.tables import CalendarItemRow, CalendarStateRow
from calbridge.sync.planner import Known, Remote


@dataclass
class State:
    calendar_id: str
    token: str | None
    cursor: int
    fresh: bool  # never synced: every UID of the coach is dirty
    recovery: str | None = None  # see CalendarStateRow.recovery_token
    error: str | None = None  # the last pass's error, if it failed
    held: str | None = None  # why the mass-deletion guard holds the calendar


def load_state(db: Db, calendar_id: str) -> State:
    return load_states(db, [calendar_id])[calendar_id]


def load_states(db: Db, calendar_ids: Iterable[str]) -> dict[str, State]:
    """``load_state`` for several calendars in one query (Core rows: the daemon runs it
    for every calendar it takes)."""
    wanted = sorted(set(calendar_ids))
    if not wanted:
        return {}
    found = repo_status.state_rows(db, wanted)
    return {cid: _state(cid, found.get(cid)) for cid in wanted}


def _state(calendar_id: str, row: Any) -> State:
    """From a state row of repo_status.state_rows (None: never synced)."""
    if row is None:
        return State(calendar_id, None, 0, True)
    return State(
        calendar_id,
        row.sync_token,
        row.change_cursor,
        False,
        row.recovery_token,
        row.last_error,
        row.held_reason,
    )


def book_unchanged(state: State, upto: int) -> bool:
    """Nothing in the book to push: the calendar was synced and the change log has not
    moved past its cursor (``dirty_uids`` would find nothing)."""
    return not state.fresh and upto <= state.cursor


def save_state(db: Db, state: State, now: datetime, error: str | None = None) -> None:
    row = db.get(CalendarStateRow, state.calendar_id)
    if row is None:
        row = CalendarStateRow(calendar_id=state.calendar_id, change_cursor=0)
        db.add(row)
    row.sync_token, row.change_cursor, row.last_error = state.token, state.cursor, error
    row.recovery_token = state.recovery
    row.last_sync_at = now


def hold(db: Db, calendar_id: str, reason: str | None, now: datetime) -> bool:
    """Hold the calendar (``reason``) or release it (None); True when that changed it."""
    row = db.get(CalendarStateRow, calendar_id)
    if row is None:
        row = CalendarStateRow(calendar_id=calendar_id, change_cursor=0)
        db.add(row)
    was = row.held_reason
    row.held_reason = reason
    if reason is None:
        row.held_at = None
    elif was is None:
        row.held_at = now
    return (was is None) != (reason is None)


def held_calendars(db: Db) -> dict[str, str]:
    """Every calendar the mass-deletion guard holds, and why."""
    return repo_status.held(db)


def count_ours(db: Db, calendar_id: str) -> int:
    """How many of calbridge's own events the calendar held after the last pass."""
    return repo_status.count_ours(db, calendar_id)


def keep_recovery(db: Db, calendar_id: str, token: str | None) -> None:
    """Before a pass sends writes: keep its listing token unless an earlier one is kept."""
    row = db.get(CalendarStateRow, calendar_id)
    if row is None:
        row = CalendarStateRow(calendar_id=calendar_id, change_cursor=0)
        db.add(row)
    if row.recovery_token is None:
        row.recovery_token = token


def record_error(db: Db, calendar_id: str, now: datetime, error: str) -> None:
    row = db.get(CalendarStateRow, calendar_id)
    if row is None:
        db.add(CalendarStateRow(calendar_id=calendar_id, change_cursor=0, last_error=error))
    else:
        row.last_error = error


def last_change(db: Db) -> int:
    return repo_status.last_change(db)


def dirty_uids(db: Db, coach_id: str, state: State, upto: int) -> tuple[set[str], set[int]]:
    """Session and hold UIDs, and closure ids, of ``coach_id`` changed since the cursor."""
    if book_unchanged(state, upto):
        return set(), set()
    if state.fresh:
        uids = repo_status.coach_uids(db, coach_id)
        holds = repo_offers.unreleased_hold_uids(db, coach_id)
        return uids | holds, repo_status.closure_ids(db, coach_id)
    closures = repo_status.changed_closures(db, state.cursor, upto)
    holds = repo_offers.changed_hold_uids(db, coach_id, state.cursor, upto)
    return repo_status.changed_uids(db, coach_id, state.cursor, upto) | holds, closures


#: The calendar's status rows of these UIDs or hrefs (``everything``: all of them).
known_rows = repo_status.items


def as_known(row: CalendarItemRow) -> Known:
    return Known(row.uid, row.href, row.etag, row.fingerprint, row.pending_fingerprint)


#: ``base`` argument of :func:`remember` meaning "keep the one recorded".
KEEP = b""


def remember(
    db: Db,
    calendar_id: str,
    uid: str,
    href: str,
    etag: str,
    fingerprint: str,
    foreign: bool = False,
    base: bytes | None = KEEP,
) -> None:
    """Record what both sides now agree on (``base``: its content); no write is pending."""
    row = db.get(CalendarItemRow, (calendar_id, uid))
    if row is None:
        row = CalendarItemRow(calendar_id=calendar_id, uid=uid)
        db.add(row)
    row.href, row.etag, row.fingerprint, row.foreign = href, etag, fingerprint, foreign
    if base != KEEP:
        row.base = base
    row.pending = row.pending_fingerprint = None


def _rows(db: Db, calendar_id: str, uids: Iterable[str]) -> dict[str, CalendarItemRow]:
    """The status rows of ``uids`` that exist, by UID: one query per chunk, so a batch does
    not pay a lookup (and an autoflush) per row."""
    return repo_status.items_by_uid(db, calendar_id, uids)


def load_items(db: Db, calendar_id: str, uids: Iterable[str]) -> dict[str, CalendarItemRow]:
    """The status rows of ``uids``, read together: while the caller holds them,
    ``remember`` finds them in the transaction without a query each."""
    return _rows(db, calendar_id, uids)


def remember_many(
    db: Db, calendar_id: str, entries: Iterable[tuple[str, str, str, str, bytes | None]]
) -> None:
    """:func:`remember` for many of calbridge's own events (uid, href, etag, fingerprint,
    base), their rows looked up together."""
    batch = list(entries)
    rows = _rows(db, calendar_id, (e[0] for e in batch))
    for uid, href, etag, fp, base in batch:
        row = rows.get(uid)
        if row is None:
            row = rows[uid] = CalendarItemRow(calendar_id=calendar_id, uid=uid)
            db.add(row)
        row.href, row.etag, row.fingerprint, row.foreign = href, etag, fp, False
        if base != KEEP:
            row.base = base
        row.pending = row.pending_fingerprint = None


def intend_many(
    db: Db,
    calendar_id: str,
    entries: Iterable[tuple[str, str, bytes, str, Remote | None]],
) -> None:
    """:func:`intend` for many writes (uid, href, data, fingerprint, agreed), their rows
    looked up together; every intent is recorded, in the caller's one transaction."""
    batch = list(entries)
    rows = _rows(db, calendar_id, (e[0] for e in batch))
    for uid, href, data, fp, agreed in batch:
        _intend_row(db, rows, calendar_id, uid, href, data, fp, agreed)


def _intend_row(
    db: Db,
    rows: dict[str, CalendarItemRow],
    calendar_id: str,
    uid: str,
    href: str,
    data: bytes,
    fingerprint: str,
    agreed: Remote | None,
) -> None:
    row = rows.get(uid)
    if row is not None and agreed is not None:  # the agreed version, where the server keeps it
        row.href, row.etag = agreed.href, agreed.etag
        row.base, row.fingerprint = agreed.data, agreed.fingerprint
    if row is None:
        row = rows[uid] = CalendarItemRow(
            calendar_id=calendar_id, uid=uid, href=href, etag="", fingerprint="", foreign=False
        )
        db.add(row)
    row.pending, row.pending_fingerprint = data, fingerprint


def intend(
    db: Db,
    calendar_id: str,
    uid: str,
    href: str,
    data: bytes,
    fingerprint: str,
    agreed: Remote | None = None,
) -> None:
    """Before a write: remember what is being sent, so a crash before its confirmation
    leaves the next pass able to tell calbridge's own write from the coach's edit. A new
    event gets a row with an empty etag (sent, never confirmed). ``agreed`` first records
    the server's current version as the one both sides agree on, at the href the server
    has it under (Graph names a create by its own id, not by the name it was sent as)."""
    row = db.get(CalendarItemRow, (calendar_id, uid))
    rows = {} if row is None else {uid: row}
    _intend_row(db, rows, calendar_id, uid, href, data, fingerprint, agreed)


def forget(db: Db, calendar_id: str, uid: str) -> None:
    repo_status.forget(db, calendar_id, uid)


def prune_changes(db: Db, calendar_ids: Iterable[str]) -> int:
    """Drop change-log rows every configured calendar has read; returns how many.

    The change log only tells each calendar's sync what the book changed since its
    cursor (mail is queued in the change's own transaction, and the audit is kept
    apart), so rows at or below the lowest cursor are read by all. A calendar with no
    state yet starts with a full pass and needs none; if there are no calendars,
    nothing is pruned (a calendar added later starts full as well, but keep it simple).
    """
    ids = list(calendar_ids)
    if not ids:
        return 0
    cursors = repo_status.cursors(db, ids)
    if len(cursors) < len(ids):
        return 0  # a calendar that never synced completely: keep everything for now
    # The row at ``upto`` stays: the newest row must never go, or SQLite would hand out
    # its id again and cursors would skip the new change.
    upto = min(*cursors, last_change(db))
    return repo_status.drop_changes_below(db, upto)
