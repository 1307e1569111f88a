"""Listings of sessions the book's views, reports, feeds and archiving read: by coach
and period, by filter, a party's upcoming ones, the UIDs a feed holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from calbridge.core.model import Role
from calbridge.store.db import Db
from calbridge.store.tables import ClientRow, ParticipantRow, SessionRow, ThirdPartyRow

#: The tables of parties that can be archived, by the kind the CLI names.
PARTY_TABLES: dict[str, type[ClientRow] | type[ThirdPartyRow]] = {
    "client": ClientRow,
    "third-party": ThirdPartyRow,
}


def starting_between(db: Db, coach_id: str, start: datetime, end: datetime) -> list[SessionRow]:
    """The coach's sessions starting in [start, end), in order."""
    query = select(SessionRow).where(
        SessionRow.coach_id == coach_id, SessionRow.start >= start, SessionRow.start < end
    )
    return list(db.scalars(query.order_by(SessionRow.start, SessionRow.id)))


def matching(
    db: Db,
    coach_id: str | None,
    client_id: str | None,
    start: datetime | None,
    end: datetime | None,
    states: Sequence[str] | None,
    limit: int | None,
) -> list[SessionRow]:
    """Sessions of the coach and client (None: any) overlapping [start, end), in one of
    ``states`` (None: any), in order, at most ``limit``."""
    query = select(SessionRow)
    if coach_id:
        query = query.where(SessionRow.coach_id == coach_id)
    if client_id:
        query = query.where(
            SessionRow.id.in_(
                select(ParticipantRow.session_id).where(
                    ParticipantRow.party_id == client_id,
                    ParticipantRow.role == Role.CLIENT.value,
                )
            )
        )
    if start:
        query = query.where(SessionRow.end > start)
    if end:
        query = query.where(SessionRow.start < end)
    if states is not None:
        query = query.where(SessionRow.status.in_(states))
    query = query.order_by(SessionRow.start, SessionRow.id).limit(limit)
    return list(db.scalars(query))


def upcoming_ids(db: Db, party_id: str, now: datetime, states: Sequence[str]) -> list[int]:
    """The ids of the party's sessions starting from ``now`` in ``states``, in id order."""
    query = (
        select(SessionRow.id)
        .join(ParticipantRow)
        .where(
            ParticipantRow.party_id == party_id,
            SessionRow.start >= now,
            SessionRow.status.in_(states),
        )
    )
    return sorted(db.scalars(query))


def archived(db: Db, kind: str) -> dict[str, datetime]:
    """When each archived party of ``kind`` (client, third-party) was archived."""
    table = PARTY_TABLES[kind]
    rows = db.execute(select(table.id, table.archived_at).where(table.archived_at.is_not(None)))
    return {i: at for i, at in rows if at is not None}


def uids_since(db: Db, coach_id: str, since: datetime) -> set[str]:
    """The UIDs of the coach's sessions ending from ``since`` on."""
    query = select(SessionRow.uid).where(SessionRow.coach_id == coach_id, SessionRow.end >= since)
    return set(db.scalars(query))


def client_uids_since(db: Db, client_id: str, since: datetime) -> list[tuple[str, str]]:
    """(coach, UID) of the client's sessions ending from ``since`` on."""
    query = (
        select(SessionRow.coach_id, SessionRow.uid)
        .join(ParticipantRow, ParticipantRow.session_id == SessionRow.id)
        .where(
            ParticipantRow.party_id == client_id,
            ParticipantRow.role == Role.CLIENT.value,
            SessionRow.end >= since,
        )
    )
    return [(str(coach), str(uid)) for coach, uid in db.execute(query)]


def overlapping(
    db: Db, coach_id: str, begin: datetime, end: datetime, states: Sequence[str]
) -> list[SessionRow]:
    """The coach's sessions in ``states`` overlapping [begin, end), in start order."""
    query = select(SessionRow).where(
        SessionRow.coach_id == coach_id,
        SessionRow.start < end,
        SessionRow.end > begin,
        SessionRow.status.in_(states),
    )
    return list(db.scalars(query.order_by(SessionRow.start)))


def of_series(db: Db, series_id: int) -> list[SessionRow]:
    """The series' occurrences, in start order."""
    query = select(SessionRow).where(SessionRow.series_id == series_id)
    return list(db.scalars(query.order_by(SessionRow.start)))


def series_session_ids(db: Db, series_id: int) -> list[int]:
    return list(db.scalars(select(SessionRow.id).where(SessionRow.series_id == series_id)))


def following(db: Db, row: SessionRow, states: Sequence[str]) -> list[SessionRow]:
    """The occurrences of ``row``'s series from its start on in ``states``, in order."""
    query = select(SessionRow).where(
        SessionRow.series_id == row.series_id,
        SessionRow.start >= row.start,
        SessionRow.status.in_(states),
    )
    return list(db.scalars(query.order_by(SessionRow.start)))
