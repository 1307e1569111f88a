"""The daemon's table: calendar leases, which are also the shared sync schedule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from calbridge.store.tables import Base, UTCDateTime


class CalendarLeaseRow(Base):
    """One coach's calendars (sessions + busy): who syncs them, until when, and when next.

    An instance may sync a coach only while it holds the lease: ``owner`` is it and
    ``expires_at`` is in the future. A lease is taken by a conditional UPDATE (free or
    expired, and due: ``next_sync_at`` passed), renewed while the sync runs, and given
    back after it (``owner`` NULL, ``last_owner`` kept) with the next due time, so
    instances share one schedule and one backoff.
    """

    __tablename__ = "calendar_leases"
    calendar_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(255))
    last_owner: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    renewed: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_sync_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
