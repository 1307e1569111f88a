"""SQL of the clients' own page: the link version each link is signed with, and a
client's upcoming sessions, and the times they asked for there (counters of source
"page")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from calbridge.core.model import Role, Status
from calbridge.errors import NotFound
from calbridge.store.tables import ClientRow, ParticipantRow, SessionRow
from calbridge.store.tables_inbound import CounterRow

OPEN = (Status.REQUESTED.value, Status.SCHEDULED.value)


def link_client(db: Db, client_id: str, for_update: bool = False) -> ClientRow | None:
    query = select(ClientRow).where(ClientRow.id == client_id)
    if for_update:
        query = query.with_for_update()
    return db.scalars(query).first()


def bump_link(db: Db, client_id: str) -> int:
    """Raise the client's link version (every link signed before is void); the new one."""
    row = link_client(db, client_id, for_update=True)
    if row is None:
        raise NotFound(f"unknown client {client_id!r} (see `calbridge client list`)")
    row.link_version = (row.link_version or 1) + 1
    db.flush()
    return row.link_version


def upcoming(db: Db, client_id: str, now: datetime, limit: int) -> list[SessionRow]:
    """The client's open sessions that have not ended, soonest first."""
    query = (
        select(SessionRow)
        .join(ParticipantRow, ParticipantRow.session_id == SessionRow.id)
        .where(
            ParticipantRow.party_id == client_id,
            ParticipantRow.role == Role.CLIENT.value,
            SessionRow.end > now,
            SessionRow.status.in_(OPEN),
        )
        .order_by(SessionRow.start, SessionRow.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def coaches_of(db: Db, client_id: str) -> list[str]:
    """The coaches the client has had any session with, by id."""
    query = (
        select(SessionRow.coach_id)
        .join(ParticipantRow, ParticipantRow.session_id == SessionRow.id)
        .where(ParticipantRow.party_id == client_id, ParticipantRow.role == Role.CLIENT.value)
        .distinct()
    )
    return sorted(db.scalars(query))


def add_request(
    db: Db, session: SessionRow, client_id: str, email: str, span: tuple[datetime, datetime],
    now: datetime,
) -> CounterRow:  # fmt: skip
    """Store another time asked for on the page, open for ``calbridge counter``."""
    row = CounterRow(
        session_id=session.id, client_id=client_id, attendee=email, start=span[0],
        end=span[1], comment="", sequence=session.sequence, dtstamp=now, state="open",
        created_at=now, source="page",
    )  # fmt: skip
    db.add(row)
    db.flush()
    return row


def close_requests(db: Db, session_ids: list[int], now: datetime, reason: str) -> int:
    """Withdraw the open requests for another time (from the page or a COUNTER) of
    sessions that can no longer move (cancelled, declined); how many."""
    query = select(CounterRow).where(
        CounterRow.session_id.in_(session_ids), CounterRow.state == "open"
    )
    rows = list(db.scalars(query))
    for row in rows:
        row.state, row.reason, row.decided_at = "withdrawn", reason, now
    return len(rows)


def requests_of(db: Db, session_ids: list[int]) -> dict[int, CounterRow]:
    """The newest time asked for on the page for each of these sessions."""
    if not session_ids:
        return {}
    query = (
        select(CounterRow)
        .where(CounterRow.session_id.in_(session_ids), CounterRow.source == "page")
        .order_by(CounterRow.id)
    )
    return {row.session_id: row for row in db.scalars(query)}
