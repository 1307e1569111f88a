"""Calendar leases: which instance syncs which coach, until when, and when next.

Works the same on SQLite and PostgreSQL: a lease is taken by one conditional UPDATE (only a
free or expired lease of a due calendar matches), so two instances racing for it get one
row each at most once: PostgreSQL re-checks the WHERE clause on the locked row (READ
COMMITTED), SQLite runs writers one at a time. Times come from the database server on
PostgreSQL, so instances on several hosts agree on expiry without trusting their clocks.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Integer, Table, bindparam, case, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from calbridge.store.db import Db
from calbridge.store.tables_daemon import CalendarLeaseRow

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: ``next_sync_at`` of a calendar hurried while an instance held it: the sync under way
#: may have read the book before the change, so giving the lease back keeps it due.
HURRIED = EPOCH
#: The statements that run for every sync pass are built once, on the table (Core), with
#: bound parameters: building and cache-keying a statement per call, through the ORM, was
#: most of an idle pass's database time.
LEASES = cast(Table, CalendarLeaseRow.__table__)
T = LEASES.c
_NOW, _OWNER = bindparam("at", type_=T.expires_at.type), bindparam("holder", type_=T.owner.type)
_FREE = or_(T.owner.is_(None), T.expires_at <= _NOW)
_DUE = T.next_sync_at <= _NOW
_IDS = T.calendar_id.in_(bindparam("ids", expanding=True))
_DUE_ANY = (
    select(T.calendar_id)
    .where(_DUE, _FREE)
    .order_by(T.next_sync_at)
    .limit(bindparam("n", type_=Integer))
)
_DUE_OF = _DUE_ANY.where(_IDS)
#: PostgreSQL: skip rows another instance is claiming.
_DUE_LOCKED = {
    False: _DUE_ANY.with_for_update(skip_locked=True),
    True: _DUE_OF.with_for_update(skip_locked=True),
}
_TAKE = (
    update(LEASES)
    .values(owner=_OWNER, last_owner=_OWNER, renewed=_NOW)
    .values(expires_at=bindparam("until", type_=T.expires_at.type))
    .returning(T.calendar_id)
)
_TAKE_DUE = _TAKE.where(_IDS, _FREE, _DUE)
_TAKE_ANY = _TAKE.where(_IDS, _FREE)
_GIVE_BACK = (
    update(LEASES)
    .where(T.calendar_id == bindparam("one"), T.owner == _OWNER)
    .values(failures=0, last_error=None, owner=None, last_owner=_OWNER, last_ok_at=_NOW)
    .values(
        expires_at=_NOW,
        next_sync_at=case(
            (T.next_sync_at == HURRIED, _NOW),
            else_=bindparam("due_at", type_=T.next_sync_at.type),
        ),
    )
    .returning(T.next_sync_at)
)


#: Batched give-backs (the daemon releases the calendars a slot synced in one transaction):
#: the leases still ours, and their due time (a hurried one stays due), read first, locked
#: on PostgreSQL (SQLite holds its write lock from BEGIN IMMEDIATE); then one executemany.
_HELD = select(T.calendar_id, T.next_sync_at).where(_IDS, T.owner == _OWNER)
_HELD_LOCKED = _HELD.with_for_update()
_GIVE_BACK_MANY = (
    update(LEASES)
    .where(T.calendar_id == bindparam("one"), T.owner == _OWNER)
    .values(failures=0, last_error=None, owner=None, last_owner=_OWNER, last_ok_at=_NOW)
    .values(expires_at=_NOW, next_sync_at=bindparam("due_at", type_=T.next_sync_at.type))
)
#: Claimed but never started (the daemon is stopping): free again, still due.
_UNCLAIM = (
    update(LEASES)
    .where(_IDS, T.owner == _OWNER)
    .values(owner=None, last_owner=_OWNER, expires_at=_NOW)
    .values(next_sync_at=case((T.next_sync_at == HURRIED, _NOW), else_=T.next_sync_at))
    .returning(T.calendar_id)
)
_RENEW = (
    update(LEASES)
    .where(_IDS, T.owner == _OWNER)
    .values(expires_at=bindparam("until", type_=T.expires_at.type), renewed=_NOW)
    .returning(T.calendar_id)
)


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
    if db.get_bind().dialect.name == "postgresql":
        query = _DUE_LOCKED[calendar_ids is not None]
    else:
        query = _DUE_ANY if calendar_ids is None else _DUE_OF
    params: dict[str, object] = {"at": now, "n": limit}
    if calendar_ids is not None:
        params["ids"] = sorted(calendar_ids)
    return list(db.scalars(query, params))


def ensure(db: Db, calendar_ids: Iterable[str], now: datetime) -> bool:
    """A lease row, due at once, for every calendar that has none; True if the table also
    holds calendars not in ``calendar_ids`` (another instance's configuration). Instances
    starting together insert the same rows: a row another inserted first is left alone."""
    wanted = set(calendar_ids)
    have = set(db.scalars(select(T.calendar_id)))
    missing = sorted(wanted - have)
    if missing:
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        rows = [
            {"calendar_id": cid, "expires_at": EPOCH, "next_sync_at": now, "failures": 0}
            for cid in missing
        ]
        db.execute(dialect.insert(LEASES).on_conflict_do_nothing(), rows)
    return bool(have - wanted)


def claim(
    db: Db, calendar_id: str, owner: str, now: datetime, ttl: float, *, due_only: bool = True
) -> bool:
    """Take the lease if it is free or expired (and, with ``due_only``, the calendar is due)."""
    return bool(claim_many(db, [calendar_id], owner, now, ttl, due_only=due_only))


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
    taken = db.scalars(
        _TAKE_DUE if due_only else _TAKE_ANY,
        {
            "ids": sorted(calendar_ids),
            "holder": owner,
            "at": now,
            "until": now + timedelta(seconds=ttl),
        },
    )
    return sorted(taken)


def renew(db: Db, calendar_ids: Collection[str], owner: str, now: datetime, ttl: float) -> set[str]:
    """Extend the leases this owner still holds; returns those (a missing one was lost).

    A lease past its expiry that nobody else took is still ours (taking it sets ``owner``);
    a released one (``owner`` NULL) is not renewed, even by a renewal racing the release.
    """
    if not calendar_ids:
        return set()
    until = now + timedelta(seconds=ttl)
    params = {"ids": sorted(calendar_ids), "holder": owner, "at": now, "until": until}
    return set(db.scalars(_RENEW, params))


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
    if outcome.ok:  # the common case in one statement (a hurried calendar stays due)
        due = now + timedelta(seconds=interval)
        params = {"one": calendar_id, "holder": owner, "at": now, "due_at": due}
        return db.execute(_GIVE_BACK, params).scalar_one_or_none()
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


def release_many(
    db: Db, intervals: Mapping[str, float], owner: str, now: datetime
) -> dict[str, datetime]:
    """``release`` after good passes, for many calendars in two statements: each gets
    ``now`` plus its interval (a hurried one ``now``); the next due time of each calendar
    that was still ours (one missing was lost)."""
    if not intervals:
        return {}
    held = _HELD_LOCKED if db.get_bind().dialect.name == "postgresql" else _HELD
    nexts = {
        str(cid): now if at == HURRIED else now + timedelta(seconds=intervals[cid])
        for cid, at in db.execute(held, {"ids": sorted(intervals), "holder": owner})
    }
    if nexts:
        rows = [{"one": c, "holder": owner, "at": now, "due_at": at} for c, at in nexts.items()]
        db.execute(_GIVE_BACK_MANY, rows)
    return nexts


def unclaim(db: Db, calendar_ids: Collection[str], owner: str, now: datetime) -> set[str]:
    """Give back leases claimed but not synced: free at once, and as due as they were."""
    if not calendar_ids:
        return set()
    params = {"ids": sorted(calendar_ids), "holder": owner, "at": now}
    return set(db.scalars(_UNCLAIM, params))


def all_rows(db: Db) -> list[CalendarLeaseRow]:
    return list(db.scalars(select(CalendarLeaseRow).order_by(CalendarLeaseRow.calendar_id)))


def hurry(db: Db, calendar_ids: Collection[str]) -> None:
    """Make these calendars due now (an answer changed their sessions), on every
    instance: the one that claims them next rewrites the coach's copy."""
    if not calendar_ids:
        return
    now, ids = db_now(db), T.calendar_id.in_(sorted(calendar_ids))
    held = (T.owner.is_not(None)) & (T.expires_at > now)
    db.execute(update(LEASES).where(ids, held).values(next_sync_at=HURRIED))
    db.execute(update(LEASES).where(ids, ~held, T.next_sync_at > now).values(next_sync_at=now))


def sync_health(db: Db) -> list[tuple[str, datetime | None, int]]:
    """Each leased calendar's last good sync and its failures in a row."""
    query = select(T.calendar_id, T.last_ok_at, T.failures)
    return [(str(cid), ok, int(n)) for cid, ok, n in db.execute(query).all()]
