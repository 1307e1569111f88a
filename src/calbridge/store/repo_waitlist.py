"""Queries about the waitlist and the offers made from it. No rules are decided here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from calbridge.store.tables_offers import HoldRow, OfferRow
from calbridge.store.tables_waitlist import WaitlistRow

WAITING = "waiting"


def add(db: Db, client_id: str, coach_id: str, days: str, window: str, now: datetime) -> int:
    row = WaitlistRow(
        client_id=client_id, coach_id=coach_id, days=days, window=window, added_at=now,
        state=WAITING,
    )  # fmt: skip
    db.add(row)
    db.flush()
    return row.id


def entry(db: Db, entry_id: int, for_update: bool = False) -> WaitlistRow | None:
    return db.get(WaitlistRow, entry_id, with_for_update=for_update)


def entries(db: Db, coach_id: str | None = None, waiting_only: bool = True) -> list[WaitlistRow]:
    """Oldest first (the order freed times are offered in)."""
    query = select(WaitlistRow)
    if coach_id is not None:
        query = query.where(WaitlistRow.coach_id == coach_id)
    if waiting_only:
        query = query.where(WaitlistRow.state == WAITING)
    return list(db.scalars(query.order_by(WaitlistRow.added_at, WaitlistRow.id)))


def offers_of(db: Db, entry_ids: list[int]) -> list[OfferRow]:
    """Every offer made from these entries, oldest first."""
    if not entry_ids:
        return []
    query = select(OfferRow).where(OfferRow.waitlist_id.in_(entry_ids))
    return list(db.scalars(query.order_by(OfferRow.id)))


def open_offers(db: Db, coach_id: str) -> list[OfferRow]:
    """Open waitlist offers of ``coach_id`` (their clients are not offered more now)."""
    query = select(OfferRow).where(
        OfferRow.coach_id == coach_id, OfferRow.state == "open", OfferRow.waitlist_id.is_not(None)
    )
    return list(db.scalars(query.order_by(OfferRow.id)))


def rivals(db: Db, offer: OfferRow, start: datetime, end: datetime) -> list[OfferRow]:
    """Other open waitlist offers of the same coach holding a time overlapping [start, end)."""
    query = (
        select(OfferRow)
        .join(HoldRow, HoldRow.offer_id == OfferRow.id)
        .where(
            OfferRow.coach_id == offer.coach_id,
            OfferRow.state == "open",
            OfferRow.waitlist_id.is_not(None),
            OfferRow.id != offer.id,
            HoldRow.released_at.is_(None),
            HoldRow.start < end,
            HoldRow.end > start,
        )
    )
    return list(db.scalars(query.order_by(OfferRow.id).with_for_update()).unique())


def offered_before(
    db: Db, coach_id: str, first: datetime, last: datetime
) -> set[tuple[str, datetime]]:
    """(client, start) of every waitlist offer of ``coach_id`` holding a time in [first, last)."""
    query = (
        select(OfferRow.client_id, HoldRow.start)
        .join(HoldRow, HoldRow.offer_id == OfferRow.id)
        .where(
            OfferRow.coach_id == coach_id,
            OfferRow.waitlist_id.is_not(None),
            HoldRow.start >= first,
            HoldRow.start < last,
        )
    )
    return {(client, start) for client, start in db.execute(query)}


def leave(db: Db, client_id: str, coach_id: str, session_id: int, now: datetime) -> list[int]:
    """The client got a session with the coach: each of their waiting wishes is booked."""
    rows = [e for e in entries(db, coach_id) if e.client_id == client_id]
    for row in rows:
        row.state, row.session_id, row.left_at = "booked", session_id, now
    return [r.id for r in rows]
