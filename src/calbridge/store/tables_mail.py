"""The mail area's tables: reminders already decided (queued or dropped)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from calbridge.store.tables import Base


class ReminderRow(Base):
    """One reminder of one occurrence at one lead time: decided once, whoever decides.

    The unique key (session, the start it reminds of, lead) makes deciding idempotent
    across repeated passes and several instances; a moved session has a new start, so
    its reminders follow it.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("session_id", "start", "lead_seconds", name="uq_reminders_key"),
        Index("ix_reminders_session", "session_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime]
    lead_seconds: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # queued | dropped
    created_at: Mapped[datetime]
