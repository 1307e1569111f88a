"""Calendar leases: which instance syncs which coach, until when, and when next.

Works the same on SQLite and PostgreSQL: a lease is taken by one conditional UPDATE (only a
free or expired lease of a due calendar matches), so two instances racing for it get one
row each at most once: PostgreSQL re-checks the WHERE clause on the locked row (READ
COMMITTED), SQLite runs writers one at a time. Times come from the database server on
PostgreSQL, so instances on several hosts agree on expiry without trusting their clocks.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session as Db

from calbridge.store.tables_daemon import CalendarLeaseRow

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def db_now(db: Db) -> datetime:
    """The database server's clock on PostgreSQL (shared by all instances), else ours."""
    if db.get_bind().dialect.name == "postgresql":
        value = db.execute(text("SELECT timezone('UTC', clock_timestamp())")).scalar_one()
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return datetime.now(UTC)


def due(db: Db, calendar_ids: Collection[str] | None, now: datetime, limit: int) -> list[str]:
    """Calendars whose time has come and that nobody holds, the longest waiting first.

    ``calendar_ids`` None: any calendar in the table (the caller filters; cheaper than an
    IN list of every coach when the table holds only this instance's coaches).
    """
    if (calendar_ids is not None and not calendar_ids) or limit <= 0:
        return []
    conditions = [
        CalendarLeaseRow.next_sync_at <= now,
        or_(CalendarLeaseRow.owner.is_(None), CalendarLeaseRow.expires_at <= now),
    ]
    if calendar_ids is not None:
        conditions.append(CalendarLeaseRow.calendar_id.in_(list(calendar_ids)))
    query = (
        select(CalendarLeaseRow.calendar_id)
        .where(*conditions)
        .order_by(CalendarLeaseRow.next_sync_at)
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":  # rows another instance is claiming
        query = query.with_for_update(skip_locked=True)
    return list(db.scalars(query))


def ensure(db: Db, calendar_ids: Iterable[str], now: datetime) -> bool:
    """A lease row, due at once, for every calendar that has none; True if the table also
    holds calendars not in ``calendar_ids`` (another instance's configuration)."""
    wanted = set(calendar_ids)
    have = set(db.scalars(select(CalendarLeaseRow.calendar_id)))
    for cid in sorted(wanted - have):
        db.add(CalendarLeaseRow(calendar_id=cid, expires_at=EPOCH, next_sync_at=now, failures=0))
    db.flush()
    return bool(have - wanted)


def claim(
    db: Db, calendar_id: str, owner: str, now: datetime, ttl: float, *, due_only: bool = True
) -> bool:
    """Take the lease if it is free or expired (and, with ``due_only``, the calendar is due)."""
    conditions = [
        CalendarLeaseRow.calendar_id == calendar_id,
        or_(CalendarLeaseRow.owner.is_(None), CalendarLeaseRow.expires_at <= now),
    ]
    if due_only:
        conditions.append(CalendarLeaseRow.next_sync_at <= now)
    result = db.execute(
        update(CalendarLeaseRow)
        .where(*conditions)
        .values(owner=owner, last_owner=owner, expires_at=now + timedelta(seconds=ttl), renewed=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_many(
    db: Db,
    calendar_ids: Collection[str],
    owner: str,
    now: datetime,
    ttl: float,
    *,
    due_only: bool = True,
) -> list[str]:
    """``claim`` for several calendars in one statement; the ones taken."""
    if not calendar_ids:
        return []
    conditions = [
        CalendarLeaseRow.calendar_id.in_(sorted(calendar_ids)),
        or_(CalendarLeaseRow.owner.is_(None), CalendarLeaseRow.expires_at <= now),
    ]
    if due_only:
        conditions.append(CalendarLeaseRow.next_sync_at <= now)
    taken = db.scalars(
        update(CalendarLeaseRow)
        .where(*conditions)
        .values(owner=owner, last_owner=owner, expires_at=now + timedelta(seconds=ttl), renewed=now)
        .returning(CalendarLeaseRow.calendar_id)
        .execution_options(synchronize_session=False)
    )
    return sorted(taken)


def renew(db: Db, calendar_ids: Collection[str], owner: str, now: datetime, ttl: float) -> set[str]:
    """Extend the leases this owner still holds; returns those (a missing one was lost).

    A lease past its expiry that nobody else took is still ours (taking it sets ``owner``);
    a released one (``owner`` NULL) is not renewed, even by a renewal racing the release.
    """
    if not calendar_ids:
        return set()
    db.execute(
        update(CalendarLeaseRow)
        .where(
            CalendarLeaseRow.calendar_id.in_(list(calendar_ids)),
            CalendarLeaseRow.owner == owner,
        )
        .values(expires_at=now + timedelta(seconds=ttl), renewed=now)
        .execution_options(synchronize_session=False)
    )
    held = db.scalars(
        select(CalendarLeaseRow.calendar_id).where(
            CalendarLeaseRow.calendar_id.in_(list(calendar_ids)),
            CalendarLeaseRow.owner == owner,
        )
    )
    return set(held)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    retry_after: float | None = None


def release(
    db: Db,
    calendar_id: str,
    owner: str,
    now: datetime,
    outcome: Outcome,
    interval: float,
    backoff: float,
    max_backoff: float,
) -> datetime | None:
    """Give the lease back with the next due time; None if it was no longer ours."""
    if outcome.ok:  # the common case in one statement
        due = now + timedelta(seconds=interval)
        result = db.execute(
            update(CalendarLeaseRow)
            .where(CalendarLeaseRow.calendar_id == calendar_id, CalendarLeaseRow.owner == owner)
            .values(
                failures=0,
                last_error=None,
                last_ok_at=now,
                next_sync_at=due,
                expires_at=now,
                owner=None,
                last_owner=owner,
            )
            .execution_options(synchronize_session=False)
        )
        return due if result.rowcount else None  # type: ignore[attr-defined]
    row = db.get(CalendarLeaseRow, calendar_id, with_for_update=True)
    if row is None or row.owner != owner:
        return None
    row.failures += 1
    row.last_error = outcome.error
    wait = min(max_backoff, backoff * 2 ** (row.failures - 1))
    wait = max(wait, outcome.retry_after or 0.0)
    row.next_sync_at = now + timedelta(seconds=wait)
    row.expires_at, row.owner, row.last_owner = now, None, owner
    return row.next_sync_at


def all_rows(db: Db) -> list[CalendarLeaseRow]:
    return list(db.scalars(select(CalendarLeaseRow).order_by(CalendarLeaseRow.calendar_id)))
