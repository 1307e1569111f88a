"""The outbox's SQL: queueing, the due rows, the claim, the record, and listings.

The sender (mail/sender.py) decides what happens to a message; every statement it needs
is here. A claim is one conditional UPDATE: only the instance whose UPDATE counted one
row sends the message.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session as Db

from calbridge.store.tables import OutboxRow


@dataclass(frozen=True)
class Claimed:
    """A message this instance now holds (``state='sending'``), as the sender needs it."""

    message_id: str
    recipient: str
    raw: bytes
    created: datetime
    expires: datetime | None
    attempts: int


def put(
    db: Db,
    channel: str,
    message_id: str,
    recipient: str,
    raw: bytes,
    kind: str,
    now: datetime,
    session_id: int | None,
    not_before: datetime | None,
    expires_at: datetime | None,
) -> None:
    db.add(
        OutboxRow(
            channel=channel,
            message_id=message_id,
            kind=kind,
            session_id=session_id,
            recipient=recipient,
            created_at=now,
            not_before=not_before or now,
            state="queued",
            attempts=0,
            raw=raw,
            expires_at=expires_at,
        )
    )


def due(now: datetime) -> Any:
    """Rows a pass may claim: queued and due, or claimed by a sender whose lease ran out."""
    return or_(
        (OutboxRow.state == "queued") & (OutboxRow.not_before <= now),
        (OutboxRow.state == "sending") & (OutboxRow.claimed_until < now),
    )


def due_ids(db: Db, channel: str, now: datetime, limit: int) -> list[int]:
    query = (
        select(OutboxRow.id)
        .where(OutboxRow.channel == channel, due(now))
        .order_by(OutboxRow.not_before, OutboxRow.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def claim(db: Db, row_id: int, owner: str, now: datetime, until: datetime) -> Claimed | None:
    """Take row ``row_id`` until ``until`` if it is still due; None if another has it."""
    result = db.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id, due(now))
        .values(
            state="sending",
            claimed_by=owner,
            claimed_until=until,
            attempts=OutboxRow.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = db.get(OutboxRow, row_id)
    assert row is not None
    return Claimed(
        row.message_id, row.recipient, row.raw, row.created_at, row.expires_at, row.attempts
    )


def finish(db: Db, row_id: int, owner: str, **values: object) -> None:
    """Record what became of a claimed row (only while ``owner`` still holds it)."""
    db.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.claimed_by == owner)
        .values(claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )


def not_sent(db: Db, message_ids: Iterable[str]) -> set[str]:
    """Those of ``message_ids`` whose row is not recorded ``sent``."""
    query = select(OutboxRow.message_id).where(
        OutboxRow.message_id.in_(list(message_ids)), OutboxRow.state != "sent"
    )
    return set(db.scalars(query))


def rows(db: Db, states: Iterable[str] | None = None) -> list[OutboxRow]:
    """Every row, or those in ``states``, oldest first."""
    query = select(OutboxRow).order_by(OutboxRow.id)
    if states is not None:
        query = query.where(OutboxRow.state.in_(list(states)))
    return list(db.scalars(query))


def due_rows(db: Db, now: datetime, limit: int) -> list[OutboxRow]:
    query = select(OutboxRow).where(due(now)).order_by(OutboxRow.not_before).limit(limit)
    return list(db.scalars(query))


def queued_by_channel(db: Db) -> dict[str, int]:
    """How many messages wait to be sent, per channel (mail, sms)."""
    query = select(OutboxRow.channel, func.count()).where(OutboxRow.state == "queued")
    return {str(c): int(n) for c, n in db.execute(query.group_by(OutboxRow.channel)).all()}


def drop_queued(
    db: Db,
    session_ids: Collection[int | None],
    kind: str,
    reason: str,
    recipients: Collection[str] | None = None,
) -> None:
    """Queued ``kind`` messages about these sessions (to these recipients, None: anyone)
    are not sent: dropped, with ``reason`` as their last error."""
    query = update(OutboxRow).where(
        OutboxRow.session_id.in_(list(session_ids)),
        OutboxRow.kind == kind,
        OutboxRow.state == "queued",
    )
    if recipients is not None:
        query = query.where(OutboxRow.recipient.in_(list(recipients)))
    db.execute(query.values(state="dropped", last_error=reason))
