"""Reading and writing the text-message tables: contacts, consent, delivery status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
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


def record_status(db: Db, provider_id: str, status: str) -> bool:
    """A delivery status callback: True when the id is one of ours."""
    result = db.execute(
        update(OutboxRow)
        .where(OutboxRow.provider_id == provider_id)
        .values(delivery_status=status[:32])
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
