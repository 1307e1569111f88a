"""Tables of outcomes and money: completion types, saved outcomes, signed notes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Dialect, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column

from calbridge.store.tables import Base


class DecimalText(TypeDecorator[Decimal]):
    """An exact amount stored as its decimal text: SQLite and PostgreSQL agree to the cent."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"amounts are Decimal, not {type(value).__name__}")
        return str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class CompletionTypeRow(Base):
    """An admin's own completion type (the built-in ones live in code and never change)."""

    __tablename__ = "completion_types"
    key: Mapped[str] = mapped_column(String(15), primary_key=True)  # label, lower case
    label: Mapped[str] = mapped_column(String(15))
    description: Mapped[str] = mapped_column(Text, default="")
    maps_to: Mapped[str] = mapped_column(String(16))
    client_kind: Mapped[str] = mapped_column(String(8))
    client_value: Mapped[Decimal] = mapped_column(DecimalText())
    coach_kind: Mapped[str] = mapped_column(String(8))
    coach_value: Mapped[Decimal] = mapped_column(DecimalText())
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SessionOutcomeRow(Base):
    """A session's saved outcome and the money it produced, copied at saving time.

    Copies, not references: editing or removing the completion type, or changing the
    service's fee in the config, never changes a session already saved.
    """

    __tablename__ = "session_outcomes"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32))
    type_label: Mapped[str | None] = mapped_column(String(15))
    type_description: Mapped[str | None] = mapped_column(Text)
    maps_to: Mapped[str | None] = mapped_column(String(16))
    client_rule: Mapped[str | None] = mapped_column(String(40))
    coach_rule: Mapped[str | None] = mapped_column(String(40))
    service: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    fee: Mapped[Decimal | None] = mapped_column(DecimalText())
    wage_rate: Mapped[Decimal | None] = mapped_column(DecimalText())
    cost: Mapped[Decimal | None] = mapped_column(DecimalText())
    wage: Mapped[Decimal | None] = mapped_column(DecimalText())
    cost_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    wage_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(16))


class SessionNoteRow(Base):
    """A session's note (one, may be signed) and the comments added to it."""

    __tablename__ = "session_notes"
    __table_args__ = (Index("ix_session_notes_session", "session_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    kind: Mapped[str] = mapped_column(String(8))  # note | comment
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]
