"""Tables of inbound iMIP (issue 15): every message seen once, the newest answer of each
attendee per occurrence, and the counter-proposals (and times asked for on the client's
page) waiting for the admin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from calbridge.store.tables import Base


class InboundMessageRow(Base):
    """One mail read from the mailbox, recorded in the transaction that applied it (or
    in its own when it was rejected): seen again (a crash before it was moved, a
    re-delivery), it changes nothing and goes to the folder recorded here."""

    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    method: Mapped[str | None] = mapped_column(String(16))
    uid: Mapped[str | None] = mapped_column(String(255))
    sender: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str] = mapped_column(String(16))  # applied | rejected
    code: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    seen_at: Mapped[datetime]


class InboundAnswerRow(Base):
    """The newest applied answer of one attendee to one occurrence (``occurrence`` is the
    RECURRENCE-ID in UTC ISO form, or "" for the whole object): an answer not newer by
    (SEQUENCE, DTSTAMP) is stale and never overrides it."""

    __tablename__ = "inbound_answers"
    uid: Mapped[str] = mapped_column(String(255), primary_key=True)
    occurrence: Mapped[str] = mapped_column(String(32), primary_key=True)
    attendee: Mapped[str] = mapped_column(String(320), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer)
    dtstamp: Mapped[datetime]


class CounterRow(Base):
    """A client's request for another time: a COUNTER from their calendar app (``source``
    "mail") or a time picked on their page (``source`` "page", ``[policies] page_move =
    "coach"``). ``state``: open, accepted, declined, or withdrawn (the session was
    cancelled or declined meanwhile); open ones wait for ``calbridge counter
    accept|decline``."""

    __tablename__ = "counters"
    __table_args__ = (Index("ix_counters_state", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    attendee: Mapped[str] = mapped_column(String(320))
    start: Mapped[datetime]
    end: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    sequence: Mapped[int] = mapped_column(Integer)
    dtstamp: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="open")
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(8), default="mail", server_default="mail")
