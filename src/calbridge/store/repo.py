"""Reading and writing the book: rows in, domain values out. No rules are decided here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session as Db

from calbridge.core.availability import Busy
from calbridge.core.limits import HORIZON_MONTHS, Booked, ClientMonths
from calbridge.core.model import (
    ACTIVE,
    CLIENT_KINDS,
    COUNTED,
    Actor,
    Client,
    Closure,
    Kind,
    Participant,
    Role,
    Session,
    Side,
    Status,
    ThirdParty,
)
from calbridge.core.timeutil import add_months, month_of, zone
from calbridge.errors import NotFound
from calbridge.store.tables import (
    AuditRow,
    BusyBlockRow,
    ChangeRow,
    ClientRow,
    ClosureRow,
    ParticipantRow,
    SeriesRow,
    SessionRow,
    ThirdPartyRow,
)

#: No session is longer than this (planning refuses longer ones), so an overlap query
#: can bound its index range from below instead of scanning the coach's whole past.
MAX_SESSION = timedelta(hours=24)


def client(db: Db, client_id: str) -> Client:
    row = db.get(ClientRow, client_id)
    if row is None:
        raise NotFound(f"unknown client {client_id!r} (see `calbridge client list`)")
    return Client(row.id, row.name, row.email, row.program, row.timezone)


def clients(db: Db) -> list[Client]:
    rows = db.scalars(select(ClientRow).order_by(ClientRow.id))
    return [Client(r.id, r.name, r.email, r.program, r.timezone) for r in rows]


def third_party(db: Db, party_id: str) -> ThirdParty:
    row = db.get(ThirdPartyRow, party_id)
    if row is None:
        raise NotFound(f"unknown third party {party_id!r}")
    return ThirdParty(row.id, row.name, row.email, row.timezone)


def third_parties(db: Db) -> list[ThirdParty]:
    rows = db.scalars(select(ThirdPartyRow).order_by(ThirdPartyRow.id))
    return [ThirdParty(r.id, r.name, r.email, r.timezone) for r in rows]


def to_session(row: SessionRow) -> Session:
    return Session(
        id=row.id,
        uid=row.uid,
        coach_id=row.coach_id,
        start=row.start,
        end=row.end,
        tzid=row.tzid,
        kind=Kind(row.kind),
        direct=row.direct,
        participants=[
            Participant(p.party_id, Role(p.role), p.partstat)
            for p in sorted(row.participants, key=lambda p: (p.role, p.party_id))
        ],
        service=row.service,
        note=row.note,
        private_note=row.private_note,
        remind=row.remind,
        status=Status(row.status),
        awaiting=Side(row.awaiting) if row.awaiting else None,
        created_by=Actor(row.created_by),
        sequence=row.sequence,
        series_id=row.series_id,
        recurrence_id=row.recurrence_id,
        cancel_reason=row.cancel_reason,
        outcome=row.outcome,
    )


def session_row(db: Db, session_id: int) -> SessionRow:
    row = db.get(SessionRow, session_id)
    if row is None:
        raise NotFound(f"unknown session {session_id} (see `calbridge session list`)")
    return row


def write_session(
    db: Db, session: Session, now: datetime, row: SessionRow | None = None
) -> SessionRow:
    """Insert ``session`` (``row`` None) or copy it onto ``row``; keeps month copies in step."""
    month = month_of(session.start, zone(session.tzid))
    fields: dict[str, Any] = {
        "uid": session.uid,
        "coach_id": session.coach_id,
        "start": session.start,
        "end": session.end,
        "tzid": session.tzid,
        "month": month,
        "kind": session.kind.value,
        "direct": session.direct,
        "service": session.service,
        "note": session.note,
        "private_note": session.private_note,
        "remind": session.remind,
        "status": session.status.value,
        "awaiting": session.awaiting.value if session.awaiting else None,
        "created_by": session.created_by.value,
        "sequence": session.sequence,
        "series_id": session.series_id,
        "recurrence_id": session.recurrence_id,
        "cancel_reason": session.cancel_reason,
        "outcome": session.outcome,
        "updated_at": now,
    }
    if row is None:
        row = SessionRow(created_at=now, **fields)
        db.add(row)
    else:
        for key, value in fields.items():
            setattr(row, key, value)
    existing = {p.party_id: p for p in row.participants}
    wanted = {p.party_id: p for p in session.participants}
    for party_id, part in existing.items():
        if party_id not in wanted:
            row.participants.remove(part)
    for party_id, want in wanted.items():
        have = existing.get(party_id)
        if have is None:
            row.participants.append(
                ParticipantRow(
                    party_id=party_id, role=want.role.value, partstat=want.partstat, month=month
                )
            )
        else:
            have.role, have.partstat, have.month = want.role.value, want.partstat, month
    db.flush()
    session.id = row.id
    return row


def client_months(
    db: Db, client_id: str, limit: int, first: str, last: str | None = None
) -> ClientMonths:
    """What fills ``client_id``'s months from ``first`` on (an index range, not a scan)."""
    last = last or add_months(first, HORIZON_MONTHS)
    query = (
        select(SessionRow.id, SessionRow.start, ParticipantRow.month)
        .join(ParticipantRow, ParticipantRow.session_id == SessionRow.id)
        .where(
            ParticipantRow.party_id == client_id,
            ParticipantRow.role == Role.CLIENT.value,
            ParticipantRow.month >= first,
            ParticipantRow.month <= last,
            SessionRow.status.in_([s.value for s in COUNTED]),
            SessionRow.kind.in_([k.value for k in CLIENT_KINDS]),
            SessionRow.direct.is_(True),  # indirect work does not use the client's sessions
        )
    )
    booked: dict[str, list[Booked]] = defaultdict(list)
    for session_id, start, month in db.execute(query):
        booked[month].append(Booked(session_id, start))
    return ClientMonths(client_id, limit, dict(booked))


class SessionSpan(NamedTuple):
    """A session as the availability and policy checks read it (no participants)."""

    id: int
    start: datetime
    end: datetime
    service: str | None
    kind: str


#: Built once: the checks of every plan and move run it (twice for a move).
_SPANS = (
    select(SessionRow.id, SessionRow.start, SessionRow.end, SessionRow.service, SessionRow.kind)
    .where(
        SessionRow.coach_id == bindparam("coach"),
        SessionRow.start < bindparam("end"),
        SessionRow.start > bindparam("low"),
        SessionRow.end > bindparam("start"),
        SessionRow.status.in_(bindparam("statuses", expanding=True)),
    )
    .order_by(SessionRow.start)
)


def coach_sessions(
    db: Db, coach_id: str, start: datetime, end: datetime, statuses: Iterable[Status] = ACTIVE
) -> list[SessionSpan]:
    """The coach's sessions overlapping [start, end) in ``statuses``, by start."""
    values = {
        "coach": coach_id,
        "end": end,
        "low": start - MAX_SESSION,
        "start": start,
        "statuses": [s.value for s in statuses],
    }
    return [SessionSpan(*row) for row in db.execute(_SPANS, values)]


def sessions_busy(rows: Sequence[SessionSpan], ignore: Iterable[int] = ()) -> list[Busy]:
    skip = set(ignore)
    return [Busy(r.start, r.end, f"session #{r.id}") for r in rows if r.id not in skip]


def busy_blocks(db: Db, coach_id: str, start: datetime, end: datetime) -> list[Busy]:
    """Busy time from the coach's read-only calendars overlapping [start, end)."""
    query = select(BusyBlockRow).where(
        BusyBlockRow.coach_id == coach_id, BusyBlockRow.start < end, BusyBlockRow.end > start
    )
    return [
        Busy(r.start, r.end, f"busy in calendar ({r.summary or 'event'})")
        for r in db.scalars(query.order_by(BusyBlockRow.start))
    ]


def closure_from_row(row: ClosureRow) -> Closure:
    return Closure(row.start, row.end, row.reason, row.coach_id, row.id)


def closures(db: Db, coach_id: str | None, first: date, last: date) -> list[Closure]:
    query = select(ClosureRow).where(ClosureRow.start <= last, ClosureRow.end >= first)
    return [
        closure_from_row(r)
        for r in db.scalars(query.order_by(ClosureRow.start))
        if coach_id is None or r.coach_id in (None, coach_id)
    ]


def add_closure(db: Db, closure: Closure, now: datetime) -> int:
    row = ClosureRow(
        coach_id=closure.coach_id,
        start=closure.start,
        end=closure.end,
        reason=closure.reason,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row.id


def audit(
    db: Db,
    now: datetime,
    entity: str,
    entity_id: object,
    action: str,
    actor: Actor,
    origin: str,
    changes: dict[str, Any],
) -> None:
    db.add(
        AuditRow(
            at=now,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            actor=actor.value,
            origin=origin,
            changes=changes,
        )
    )


def record_change(
    db: Db, now: datetime, topic: str, session_id: int | None, payload: dict[str, Any]
) -> None:
    db.add(ChangeRow(at=now, topic=topic, session_id=session_id, payload=payload))


def last_audited(db: Db, entity: str, entity_id: object, action: str) -> datetime | None:
    """When ``action`` was last audited of the entity (None: never)."""
    query = select(AuditRow.at).where(
        AuditRow.entity == entity,
        AuditRow.entity_id == str(entity_id),
        AuditRow.action == action,
    )
    return db.scalars(query.order_by(AuditRow.id.desc())).first()


def audit_trail(db: Db, entity: str, entity_id: object) -> list[AuditRow]:
    query = select(AuditRow).where(AuditRow.entity == entity, AuditRow.entity_id == str(entity_id))
    return list(db.scalars(query.order_by(AuditRow.id)))


def next_sequence(db: Db, uid: str) -> int:
    """The SEQUENCE a significant change of ``uid`` gets: one above any of its rows.

    A series shares one UID, and its calendar copy and mail carry the highest SEQUENCE of
    its rows, so every change of any occurrence must go above all of them.
    """
    found = db.scalar(select(func.max(SessionRow.sequence)).where(SessionRow.uid == uid))
    return int(found or 0) + 1


def archived_ids(db: Db, kind: str, ids: Sequence[str]) -> list[str]:
    """Which of ``ids`` (clients, or third parties with ``kind`` "third-party") are archived."""
    if not ids:
        return []
    table = ThirdPartyRow if kind == "third-party" else ClientRow
    query = select(table.id).where(table.id.in_(list(ids)), table.archived_at.is_not(None))
    return sorted(db.scalars(query))


def session_ids_of_uid(db: Db, uid: str) -> list[int]:
    """Every session of ``uid`` (a series: each occurrence)."""
    return list(db.scalars(select(SessionRow.id).where(SessionRow.uid == uid)))


def series_enabled(db: Db, series_id: int) -> bool:
    row = db.get(SeriesRow, series_id)
    return row is None or bool(row.enabled)


def series_session_rows(db: Db, series_id: int) -> list[SessionRow]:
    """The occurrences of a series, in order."""
    query = select(SessionRow).where(SessionRow.series_id == series_id)
    return list(db.scalars(query.order_by(SessionRow.start, SessionRow.id)))
