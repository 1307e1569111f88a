"""Tables of the session book. Times are stored as naive UTC, read back as aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC, so SQLite and PostgreSQL agree exactly."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the book")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class ClientRow(Base):
    __tablename__ = "clients"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    program: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]  # kept with its history; not planned or offered
    # Signs the client's page link: raising it (`client link revoke`) voids every old link.
    link_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: their coach's


class ThirdPartyRow(Base):
    __tablename__ = "third_parties"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the coach's


class SeriesRow(Base):
    __tablename__ = "series"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    coach_id: Mapped[str] = mapped_column(String(64))
    tzid: Mapped[str] = mapped_column(String(64))
    repeat: Mapped[str] = mapped_column(String(16))
    weekdays: Mapped[str] = mapped_column(String(32))
    count: Mapped[int | None]
    until: Mapped[date | None] = mapped_column(Date)
    rrule: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_coach_start", "coach_id", "start"),
        Index("ix_sessions_series", "series_id"),
        Index("ix_sessions_uid", "uid"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(255))  # shared by a series' occurrences
    coach_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime]
    end: Mapped[datetime]
    tzid: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(16))
    direct: Mapped[bool] = mapped_column(Boolean)
    service: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    private_note: Mapped[str] = mapped_column(Text, default="")
    remind: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    awaiting: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"))
    recurrence_id: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    participants: Mapped[list[ParticipantRow]] = relationship(
        back_populates="session", cascade="all, delete-orphan", lazy="selectin"
    )


class ParticipantRow(Base):
    __tablename__ = "participants"
    __table_args__ = (Index("ix_participants_party_month", "party_id", "month"),)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    partstat: Mapped[str] = mapped_column(String(16), default="NEEDS-ACTION")
    # Copy of the session's month so a client's month is one index range, whatever the book size.
    month: Mapped[str] = mapped_column(String(7))
    session: Mapped[SessionRow] = relationship(back_populates="participants")


class ClosureRow(Base):
    __tablename__ = "closures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coach_id: Mapped[str | None] = mapped_column(String(64))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditRow(Base):
    """Who changed what, from where, and how (PRODUCT: audit trail)."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]]


class ChangeRow(Base):
    """The change log: one row per book change, written in the change's transaction.

    The calendar sync and the mailer read it in id order, each keeping its own cursor,
    so nothing is lost between a change and its effects outside the book.
    """

    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    topic: Mapped[str] = mapped_column(String(48))
    session_id: Mapped[int | None]
    payload: Mapped[dict[str, Any]]


class CalendarStateRow(Base):
    """Per calendar: the server's sync token and how far into the change log we are."""

    __tablename__ = "calendar_state"
    calendar_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    sync_token: Mapped[str | None] = mapped_column(Text)
    change_cursor: Mapped[int] = mapped_column(Integer, default=0)
    last_sync_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The listing token of the first pass that sent writes and did not complete: asking
    #: the server what changed since tells a create that never arrived from one the
    #: coach deleted.
    recovery_token: Mapped[str | None] = mapped_column(Text)
    #: Set while the mass-deletion guard holds the calendar (what vanished, and since
    #: when); cleared when the admin restores or accepts, or nothing vanished is left.
    held_reason: Mapped[str | None] = mapped_column(Text)
    held_at: Mapped[datetime | None]


class CalendarItemRow(Base):
    """The sync status: what the book and the calendar agreed on for one resource.

    ``fingerprint`` hashes the resource's meaning (volatile properties ignored). Rows with
    ``foreign`` set remember events calbridge did not create (or could not read), so an
    unchanged one is never fetched again and never touched. An empty ``etag`` marks an
    event whose creation was sent but never confirmed.
    """

    __tablename__ = "calendar_items"
    __table_args__ = (Index("ix_calendar_items_href", "calendar_id", "href"),)
    calendar_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    uid: Mapped[str] = mapped_column(String(255), primary_key=True)
    href: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    foreign: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The resource both sides last agreed on: a calendar edit is what differs from it.
    base: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: A write sent but not yet confirmed (a crash may come between the two): the next
    #: pass recognises it on the server as calbridge's own, not the coach's edit.
    pending: Mapped[bytes | None] = mapped_column(LargeBinary)
    pending_fingerprint: Mapped[str | None] = mapped_column(String(64))


class BusyBlockRow(Base):
    """Busy time read from a coach's read-only calendars (expanded, opaque, not cancelled).

    ``source`` is the resource href (CalDAV, folder) or the event UID (ICS feed), so a
    changed resource replaces exactly its own blocks.
    """

    __tablename__ = "busy_blocks"
    __table_args__ = (
        Index("ix_busy_blocks_coach_start", "coach_id", "start"),
        Index("ix_busy_blocks_source", "calendar_id", "source"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[str] = mapped_column(String(128))
    coach_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    start: Mapped[datetime]
    end: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text, default="")


class OutboxRow(Base):
    """One outgoing email, queued in the transaction of the change that causes it.

    ``raw`` is the whole RFC 5322 message (CRLF line ends) with its ``Message-ID``
    fixed at queue time, so a retry after a crash resends the very same message and a
    receiving server (or the sender's own record) can recognise it.
    ``state`` is ``queued``, ``sending`` (claimed by a sender until ``claimed_until``),
    ``sent`` or ``failed`` (given up).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due", "state", "not_before"),
        Index("ix_outbox_session", "session_id"),
        Index("ix_outbox_channel_due", "channel", "state", "not_before"),
        Index("ix_outbox_provider", "provider_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[int | None]
    recipient: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    # Not sent after this moment (a reminder after its session began): dropped, logged.
    expires_at: Mapped[datetime | None]
    # ``mail`` (raw: RFC 5322 bytes, recipient: address) or ``sms`` (raw: the UTF-8
    # text, recipient: an E.164 number). The provider's id for what it accepted, and
    # the last delivery status it reported (texts: status callbacks).
    channel: Mapped[str] = mapped_column(String(8), default="mail", server_default="mail")
    provider_id: Mapped[str | None] = mapped_column(String(128))
    delivery_status: Mapped[str | None] = mapped_column(String(32))


# Areas' tables live in their own modules, registered on the same metadata here.
from calbridge.store import (  # noqa: E402, F401
    tables_daemon,
    tables_inbound,
    tables_mail,
    tables_offers,
    tables_outcomes,
    tables_sms,
    tables_waitlist,
)
