"""The waitlist: clients who want a time with a coach as soon as one frees up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from calbridge.store.tables import Base


class WaitlistRow(Base):
    """One wish. ``days``: weekdays like ``mon,wed`` (empty: any); ``window``: a daily
    ``HH:MM-HH:MM`` in the coach's zone (empty: any). ``state``: waiting, booked (the
    client took a freed time: ``session_id``) or removed."""

    __tablename__ = "waitlist"
    __table_args__ = (Index("ix_waitlist_coach_state", "coach_id", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    coach_id: Mapped[str] = mapped_column(String(64))
    days: Mapped[str] = mapped_column(String(32), default="")
    window: Mapped[str] = mapped_column(String(16), default="")
    added_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    left_at: Mapped[datetime | None]
    session_id: Mapped[int | None] = mapped_column(Integer)
