"""The text-message area's tables: who can be texted, and who said STOP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from calbridge.store.tables import Base


class ContactRow(Base):
    """A client's or third party's phone (E.164) and channel choice: email, sms, both.

    A person with no row is mailed only, as before texts existed.
    """

    __tablename__ = "contacts"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # client | third-party
    party_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    notify: Mapped[str] = mapped_column(String(8), default="email")


class SmsConsentRow(Base):
    """The last STOP or START a number sent: nothing is texted to an opted-out number."""

    __tablename__ = "sms_consent"
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]
    word: Mapped[str] = mapped_column(String(16))
