"""The reminders' SQL: the sessions with a reminder due, the insert that decides one
exactly once (its key: session, start, lead), and what ``reminder list`` shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from calbridge.core.model import Session
from calbridge.store.db import Db
from calbridge.store.tables import OutboxRow, SeriesRow, SessionRow
from calbridge.store.tables_mail import ReminderRow


def enabled_series() -> Any:
    """Sessions outside any series, or in one that is enabled (`series disable`)."""
    enabled = select(SeriesRow.id).where(SeriesRow.enabled.is_(True))
    return or_(SessionRow.series_id.is_(None), SessionRow.series_id.in_(enabled))


def due_sessions(
    db: Db, now: datetime, leads: list[timedelta], since: datetime, states: Sequence[str]
) -> list[SessionRow]:
    """Opted-in sessions in ``states`` begun after ``since`` with a lead time reached and
    its reminder not decided yet, soonest first."""

    def unqueued(lead: timedelta) -> Any:
        return ~exists().where(
            ReminderRow.session_id == SessionRow.id,
            ReminderRow.start == SessionRow.start,
            ReminderRow.lead_seconds == int(lead.total_seconds()),
        )

    query = select(SessionRow).where(
        SessionRow.remind.is_(True),
        SessionRow.status.in_(states),
        SessionRow.start > since,
        enabled_series(),
        or_(*(and_(SessionRow.start <= now + lead, unqueued(lead)) for lead in leads)),
    )
    return list(db.scalars(query.order_by(SessionRow.start)))


def decide(db: Db, session: Session, lead: timedelta, state: str, now: datetime) -> bool:
    """Insert the reminder's key; True when this call is the one that decided it."""
    values = {
        "session_id": session.id,
        "start": session.start,
        "lead_seconds": int(lead.total_seconds()),
        "state": state,
        "created_at": now,
    }
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(ReminderRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["session_id", "start", "lead_seconds"])
        .returning(ReminderRow.id)
    )
    return db.execute(statement).first() is not None


def listed(
    db: Db,
    now: datetime,
    waiting: Sequence[str],
    states: Sequence[str],
    coach_id: str | None,
    session_id: int | None,
) -> tuple[list[tuple[OutboxRow, SessionRow]], list[SessionRow]]:
    """What ``reminder list`` shows: the reminders in the outbox in ``waiting`` states
    with their session, and the opted-in future sessions in ``states``."""
    queued = (
        select(OutboxRow, SessionRow)
        .join(SessionRow, SessionRow.id == OutboxRow.session_id)
        .where(OutboxRow.kind == "reminder", OutboxRow.state.in_(waiting))
    )
    planned = select(SessionRow).where(
        SessionRow.remind.is_(True),
        SessionRow.status.in_(states),
        SessionRow.start > now,
        enabled_series(),
    )
    if coach_id:
        queued = queued.where(SessionRow.coach_id == coach_id)
        planned = planned.where(SessionRow.coach_id == coach_id)
    if session_id is not None:
        queued = queued.where(SessionRow.id == session_id)
        planned = planned.where(SessionRow.id == session_id)
    messages = [(message, session) for message, session in db.execute(queued)]
    return messages, list(db.scalars(planned))


def decided(db: Db, ids: list[int]) -> set[tuple[int, datetime, int]]:
    """The decided reminders' keys (session, start, lead seconds) of these sessions."""
    if not ids:
        return set()
    rows = db.scalars(select(ReminderRow).where(ReminderRow.session_id.in_(ids)))
    return {(r.session_id, r.start, r.lead_seconds) for r in rows}


def queued_leads(db: Db, session: Session) -> list[int]:
    """The lead times (seconds) of the reminders decided for ``session`` at its start."""
    query = select(ReminderRow.lead_seconds).where(
        ReminderRow.session_id == session.id,
        ReminderRow.start == session.start,
        ReminderRow.state == "queued",
    )
    return list(db.scalars(query))
