"""`session list` read without SQLAlchemy (store/plain.py says when and why): the sessions
a filter matches and what fills their clients' months, the same rows as
store/repo_sessions.matching and store/repo.client_months read with sqlite3
(tests/test_cli_startup.py compares the two on one book)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from calbridge.core.limits import HORIZON_MONTHS, Booked, ClientMonths
from calbridge.core.model import (
    CLIENT_KINDS,
    COUNTED,
    Actor,
    Kind,
    Participant,
    Role,
    Session,
    Side,
    Status,
)
from calbridge.core.timeutil import add_months

_COLUMNS = (
    "id, uid, coach_id, start, end, tzid, kind, direct, service, note, private_note, remind,"
    " status, awaiting, created_by, sequence, series_id, recurrence_id, cancel_reason, outcome"
)


def stored(at: datetime) -> str:
    """An aware instant as the book's SQLite file holds it (naive UTC, as SQLAlchemy's
    DateTime writes it), so that text comparisons order as instants do."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _instant(text: Any) -> Any:
    """A stored instant (naive UTC text) as an aware datetime; None stays None."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def program_of(conn: sqlite3.Connection, client_id: str) -> str | None:
    """The client's program; None: no such client."""
    row = conn.execute("SELECT program FROM clients WHERE id = ?", (client_id,)).fetchone()
    return None if row is None else str(row[0])


def matching(
    conn: sqlite3.Connection,
    coach_id: str | None,
    client_id: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[Session]:
    """Sessions of the coach and client (None: any) overlapping [start, end), in order."""
    where, args = [], []
    if coach_id:
        where.append("coach_id = ?")
        args.append(coach_id)
    if client_id:
        where.append("id IN (SELECT session_id FROM participants WHERE party_id = ? AND role = ?)")
        args += [client_id, Role.CLIENT.value]
    if start:
        where.append("end > ?")
        args.append(stored(start))
    if end:
        where.append("start < ?")
        args.append(stored(end))
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM sessions{clause} ORDER BY start, id", args)
    found = [_session(row) for row in rows.fetchall()]
    _add_participants(conn, found)
    return found


def _session(row: tuple[Any, ...]) -> Session:
    (id_, uid, coach, start, end, tzid, kind, direct, service, note, private) = row[:11]
    (remind, status, awaiting, created_by, sequence, series, recurrence, reason) = row[11:19]
    return Session(
        id=id_,
        uid=str(uid),
        coach_id=str(coach),
        start=_instant(start),
        end=_instant(end),
        tzid=str(tzid),
        kind=Kind(kind),
        direct=bool(direct),
        service=service,
        note=str(note),
        private_note=str(private),
        remind=bool(remind),
        status=Status(status),
        awaiting=Side(awaiting) if awaiting else None,
        created_by=Actor(created_by),
        sequence=sequence,
        series_id=series,
        recurrence_id=_instant(recurrence),
        cancel_reason=reason,
        outcome=row[19],
    )


def _add_participants(conn: sqlite3.Connection, sessions: list[Session]) -> None:
    """Each session's participants, in the book's order (role, then party)."""
    by_id = {s.id: s for s in sessions}
    ids = list(by_id)
    for at in range(0, len(ids), 500):  # well under SQLite's limit of bound parameters
        chunk = ids[at : at + 500]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT session_id, party_id, role, partstat FROM participants"
            f" WHERE session_id IN ({marks}) ORDER BY session_id, role, party_id",
            chunk,
        )
        for session_id, party, role, partstat in rows:
            by_id[session_id].participants.append(Participant(party, Role(role), partstat))


def client_months(conn: sqlite3.Connection, client_id: str, limit: int, first: str) -> ClientMonths:
    """What fills ``client_id``'s months from ``first`` on (as store/repo.client_months)."""
    counted = [s.value for s in COUNTED]
    kinds = [k.value for k in CLIENT_KINDS]
    rows = conn.execute(
        "SELECT s.id, s.start, p.month FROM sessions s JOIN participants p"
        " ON p.session_id = s.id WHERE p.party_id = ? AND p.role = ?"
        " AND p.month >= ? AND p.month <= ?"
        f" AND s.status IN ({', '.join('?' * len(counted))})"
        f" AND s.kind IN ({', '.join('?' * len(kinds))}) AND s.direct = 1",
        [client_id, Role.CLIENT.value, first, add_months(first, HORIZON_MONTHS), *counted, *kinds],
    )
    booked: dict[str, list[Booked]] = defaultdict(list)
    for session_id, start, month in rows:
        booked[month].append(Booked(session_id, _instant(start)))
    return ClientMonths(client_id, limit, dict(booked))
