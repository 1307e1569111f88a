"""What inbound mail reads from the book: messages already filed (by their key), the
sessions a UID names, and the coach's open counter-proposals."""

from __future__ import annotations

from sqlalchemy import select

from calbridge.store.db import Db
from calbridge.store.tables import SessionRow
from calbridge.store.tables_inbound import CounterRow, InboundMessageRow


def message(db: Db, key: str) -> InboundMessageRow | None:
    """The inbound message filed under ``key``, if one was."""
    return db.scalar(select(InboundMessageRow).where(InboundMessageRow.key == key))


def sessions_of_uid(db: Db, uid: str) -> list[SessionRow]:
    return list(db.scalars(select(SessionRow).where(SessionRow.uid == uid)))


def coaches_of_uid(db: Db, uid: str) -> frozenset[str]:
    return frozenset(db.scalars(select(SessionRow.coach_id).where(SessionRow.uid == uid)))


def counters(db: Db, every: bool = False) -> list[CounterRow]:
    """The counter-proposals in the order they came (only the open ones unless ``every``)."""
    query = select(CounterRow).order_by(CounterRow.id)
    if not every:
        query = query.where(CounterRow.state == "open")
    return list(db.scalars(query))
