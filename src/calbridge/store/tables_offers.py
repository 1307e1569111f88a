"""Tables of offers (PRODUCT rule 4): alternative times for one session, each held for
the coach until the client picks one, rejects all, or the offer expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from calbridge.store.tables import Base


class OfferRow(Base):
    """One offer. ``state``: open, accepted, rejected, expired or withdrawn (its session
        was cancelled or declined meanwhile), cancelled, or taken (a waitlist offer whose time
    another waitlisted client accepted first). ``answered_at`` and ``answer`` record the
        client's one use of a link, in the transaction of the action it caused."""

    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_state_deadline", "state", "deadline"),
        Index("ix_offers_session", "session_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None for a waitlist offer of a freed time: the session is planned on acceptance.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    waitlist_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist.id"))
    coach_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    deadline: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="open")
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(String(16))  # "1".."n" or "reject"
    message_id: Mapped[str | None] = mapped_column(String(255))
    holds: Mapped[list[HoldRow]] = relationship(
        back_populates="offer", order_by="HoldRow.position", cascade="all, delete-orphan"
    )


class HoldRow(Base):
    """One offered time, held in the coach's calendar as a TENTATIVE, OPAQUE event with
    its own UID until ``released_at``. ``until`` copies the offer's deadline so busy-time
    queries need no join."""

    __tablename__ = "holds"
    __table_args__ = (
        Index("ix_holds_coach_start", "coach_id", "start"),
        Index("ix_holds_offer", "offer_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    position: Mapped[int] = mapped_column(Integer)  # 1-based, as the links name it
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    session_id: Mapped[int | None] = mapped_column(Integer)
    coach_id: Mapped[str] = mapped_column(String(64))
    tzid: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime]
    end: Mapped[datetime]
    until: Mapped[datetime]
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(16))
    offer: Mapped[OfferRow] = relationship(back_populates="holds")
