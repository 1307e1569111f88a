"""Queries about offers and their holds. No rules are decided here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from calbridge.core.availability import Busy
from calbridge.core.model import Status
from calbridge.store.repo import MAX_SESSION
from calbridge.store.tables import ChangeRow, SessionRow
from calbridge.store.tables_offers import HoldRow, OfferRow

OPEN = "open"
#: Change-log topics of offers; their payload lists the ``holds`` whose state changed.
TOPIC_PREFIX = "offer."
_LIVE_SESSION = (Status.REQUESTED.value, Status.SCHEDULED.value)


def live_holds(
    db: Db, coach_id: str, first: datetime, last: datetime, now: datetime
) -> list[HoldRow]:
    """Holds of ``coach_id`` overlapping [first, last) that still hold: not released and
    not past their deadline (an expiry the daemon has not run yet still frees the time)."""
    query = select(HoldRow).where(
        HoldRow.coach_id == coach_id,
        HoldRow.released_at.is_(None),
        HoldRow.until > now,
        HoldRow.start < last,
        HoldRow.start > first - MAX_SESSION,
        HoldRow.end > first,
    )
    return list(db.scalars(query.order_by(HoldRow.start)))


def holds_busy(
    db: Db,
    coach_id: str,
    first: datetime,
    last: datetime,
    now: datetime,
    ignore_sessions: Iterable[int] = (),
) -> list[Busy]:
    """Holds as busy time; a session's own holds never block moving that session."""
    skip = set(ignore_sessions)
    return [
        Busy(h.start, h.end, f"held for offer #{h.offer_id}")
        for h in live_holds(db, coach_id, first, last, now)
        if h.session_id not in skip
    ]


def offer(db: Db, offer_id: int, for_update: bool = False) -> OfferRow | None:
    """``for_update``: locked, and read again even if this transaction read it before."""
    return db.get(OfferRow, offer_id, with_for_update=for_update, populate_existing=for_update)


def open_offer(db: Db, session_id: int) -> OfferRow | None:
    query = select(OfferRow).where(OfferRow.session_id == session_id, OfferRow.state == OPEN)
    return db.scalars(query).first()


def due_offers(db: Db, now: datetime) -> list[OfferRow]:
    """Open offers to close: past their deadline, or whose session is no longer open.

    Locked on PostgreSQL, so two instances expiring at once never both close one; the
    second re-reads the row after the first commits and no longer finds it open."""
    late = select(OfferRow.id).where(OfferRow.state == OPEN, OfferRow.deadline <= now)
    gone = (
        select(OfferRow.id)
        .join(SessionRow, SessionRow.id == OfferRow.session_id)
        .where(OfferRow.state == OPEN, SessionRow.status.not_in(_LIVE_SESSION))
    )
    ids = set(db.scalars(late)) | set(db.scalars(gone))
    if not ids:
        return []
    query = select(OfferRow).where(OfferRow.id.in_(ids), OfferRow.state == OPEN)
    return list(db.scalars(query.order_by(OfferRow.id).with_for_update()))


def changed_hold_uids(db: Db, coach_id: str, cursor: int, upto: int) -> set[str]:
    """UIDs of ``coach_id``'s holds whose state changed in the change log's (cursor, upto]."""
    payloads = select(ChangeRow.payload).where(
        ChangeRow.id > cursor, ChangeRow.id <= upto, ChangeRow.topic.startswith(TOPIC_PREFIX)
    )
    ids = {int(i) for p in db.scalars(payloads) for i in p.get("holds", [])}
    if not ids:
        return set()
    query = select(HoldRow.uid).where(HoldRow.id.in_(ids), HoldRow.coach_id == coach_id)
    return set(db.scalars(query))


def unreleased_hold_uids(db: Db, coach_id: str) -> set[str]:
    query = select(HoldRow.uid).where(HoldRow.coach_id == coach_id, HoldRow.released_at.is_(None))
    return set(db.scalars(query))


def holds_by_uid(db: Db, coach_id: str, uids: Iterable[str]) -> list[HoldRow]:
    wanted = [u for u in uids if u.startswith("calbridge-hold-")]
    if not wanted:
        return []
    query = select(HoldRow).where(HoldRow.coach_id == coach_id, HoldRow.uid.in_(wanted))
    return list(db.scalars(query))


def listing(db: Db, state: str | None = None, session_id: int | None = None) -> list[OfferRow]:
    """Offers in ``state`` and of ``session_id`` (None: any), oldest first."""
    query = select(OfferRow)
    if state:
        query = query.where(OfferRow.state == state)
    if session_id is not None:
        query = query.where(OfferRow.session_id == session_id)
    return list(db.scalars(query.order_by(OfferRow.id)))
