"""Reading and writing the text-message tables: contacts, consent, delivery status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session as Db

from calbridge.store.tables import OutboxRow
from calbridge.store.tables_sms import ContactRow, SmsConsentRow

NOTIFY = ("email", "sms", "both")


@dataclass(frozen=True)
class Contact:
    phone: str | None
    notify: str  # email | sms | both

    @property
    def mail(self) -> bool:
        return self.notify != "sms" or self.phone is None

    @property
    def text(self) -> bool:
        return self.notify != "email" and self.phone is not None


EMAIL_ONLY = Contact(None, "email")


def contact(db: Db, kind: str, party_id: str) -> Contact:
    row = db.get(ContactRow, (kind, party_id))
    return Contact(row.phone, row.notify) if row is not None else EMAIL_ONLY


def contacts(db: Db, kind: str) -> dict[str, Contact]:
    rows = db.scalars(select(ContactRow).where(ContactRow.kind == kind))
    return {r.party_id: Contact(r.phone, r.notify) for r in rows}


def set_contact(db: Db, kind: str, party_id: str, phone: str | None, notify: str) -> None:
    row = db.get(ContactRow, (kind, party_id))
    if row is None:
        db.add(ContactRow(kind=kind, party_id=party_id, phone=phone, notify=notify))
    else:
        row.phone, row.notify = phone, notify


def opted_out(db: Db, phone: str) -> bool:
    row = db.get(SmsConsentRow, phone)
    return bool(row is not None and row.opted_out)


def consent(db: Db, phone: str) -> SmsConsentRow | None:
    return db.get(SmsConsentRow, phone)


def record_consent(db: Db, phone: str, out: bool, word: str, now: datetime) -> None:
    row = db.get(SmsConsentRow, phone)
    if row is None:
        db.add(SmsConsentRow(phone=phone, opted_out=out, changed_at=now, word=word))
    else:
        row.opted_out, row.changed_at, row.word = out, now, word


#: Statuses after which a late, earlier one (``sent`` after ``delivered``) is ignored.
FINAL = ("delivered", "undelivered", "failed", "read")


def record_status(db: Db, status: str, provider_id: str = "", message_id: str = "") -> bool:
    """A delivery status callback, found by our id or the provider's: True when it is one
    of ours. Callbacks may come out of order: a final status is not overwritten."""
    which = []
    if message_id:
        which.append(OutboxRow.message_id == message_id)
    if provider_id:
        which.append(OutboxRow.provider_id == provider_id)
    if not which:
        return False
    result = db.execute(
        update(OutboxRow)
        .where(
            OutboxRow.channel == "sms",
            or_(*which),
            or_(OutboxRow.delivery_status.is_(None), OutboxRow.delivery_status.not_in(FINAL)),
        )
        .values(delivery_status=status[:32])
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
